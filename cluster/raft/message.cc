#include "cluster/raft/message.h"

#include <fmt/format.h>

namespace tributary::cluster::raft {

const char* to_string(message_type t) {
  switch (t) {
    case message_type::pre_vote: return "pre_vote";
    case message_type::pre_vote_response: return "pre_vote_response";
    case message_type::vote: return "vote";
    case message_type::vote_response: return "vote_response";
    case message_type::append: return "append";
    case message_type::append_response: return "append_response";
    case message_type::heartbeat: return "heartbeat";
    case message_type::heartbeat_response: return "heartbeat_response";
    case message_type::snapshot: return "snapshot";
    case message_type::timeout_now: return "timeout_now";
    case message_type::read_index: return "read_index";
    case message_type::read_index_response: return "read_index_response";
  }
  return "unknown";
}

std::string to_string(const message& m) {
  std::string out = fmt::format("{} {}->{} t={}", to_string(m.type), m.from.value, m.to.value, m.term.value);
  switch (m.type) {
    case message_type::pre_vote:
    case message_type::vote:
      out += fmt::format(" last={}@{}{}", m.index.value, m.log_term.value, m.transfer ? " transfer" : "");
      break;
    case message_type::pre_vote_response:
    case message_type::vote_response: out += m.reject ? " reject" : " grant"; break;
    case message_type::append:
      out += fmt::format(" prev={}@{} c={} n={}", m.index.value, m.log_term.value, m.commit.value,
                         m.entries.size());
      if (!m.entries.empty()) out += fmt::format(" last={}", m.entries.back().last().value);
      break;
    case message_type::append_response:
      if (m.reject) {
        out += fmt::format(" reject i={} hint={}@{}", m.index.value, m.reject_hint.value, m.log_term.value);
      } else {
        out += fmt::format(" i={}", m.index.value);
      }
      break;
    case message_type::heartbeat: out += fmt::format(" c={} ctx={}", m.commit.value, m.context); break;
    case message_type::heartbeat_response: out += fmt::format(" ctx={}", m.context); break;
    case message_type::snapshot:
      if (m.snapshot) {
        out += fmt::format(" snap={}@{}", m.snapshot->metadata.index.value, m.snapshot->metadata.term.value);
      }
      break;
    case message_type::timeout_now: break;
    case message_type::read_index: out += fmt::format(" ctx={}", m.context); break;
    case message_type::read_index_response:
      out += fmt::format(" i={} ctx={}", m.index.value, m.context);
      break;
  }
  return out;
}

}  // namespace tributary::cluster::raft
