#include "gateway/mqtt/registry.h"

#include "common/assert.h"

namespace tributary::gateway::mqtt {

std::shared_ptr<session_state> session_registry::find(std::string_view client_id) const {
  auto it = by_id_.find(std::string(client_id));
  return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<session_state> session_registry::create(std::string client_id, connection_id conn) {
  auto st = std::make_shared<session_state>();
  st->client_id = client_id;
  st->attached = conn;
  auto [it, inserted] = by_id_.emplace(std::move(client_id), st);
  TRIB_ASSERT(inserted, "a client id has one session state");
  return st;
}

void session_registry::erase(const std::shared_ptr<session_state>& state) {
  auto it = by_id_.find(state->client_id);
  if (it == by_id_.end() || it->second != state) return;
  if (!state->attached) {
    TRIB_ASSERT(detached_ > 0);
    --detached_;
  }
  by_id_.erase(it);
}

std::vector<std::shared_ptr<session_state>> session_registry::detach(
    const std::shared_ptr<session_state>& state, uint64_t now_ms) {
  std::vector<std::shared_ptr<session_state>> evicted;
  TRIB_ASSERT(state->attached, "detach of a state without a connection");
  TRIB_ASSERT(find(state->client_id) == state);
  state->attached.reset();
  ++detached_;
  state->expires_at_ms = now_ms + uint64_t{state->expiry_s} * 1000;
  // Bounded: scans only when over the limit, which a healthy deployment never reaches.
  while (detached_ > sessions_max_) {
    std::shared_ptr<session_state> victim;
    for (auto& [id, st] : by_id_) {
      if (st->attached) continue;
      if (!victim || st->expires_at_ms < victim->expires_at_ms) victim = st;
    }
    TRIB_ASSERT(victim != nullptr);
    erase(victim);
    evicted.push_back(std::move(victim));
  }
  return evicted;
}

void session_registry::attach(const std::shared_ptr<session_state>& state, connection_id conn) {
  TRIB_ASSERT(find(state->client_id) == state);
  TRIB_ASSERT(!state->attached && detached_ > 0, "attach of a state that is not detached");
  --detached_;
  state->attached = conn;
}

session_registry::due session_registry::collect_due(uint64_t now_ms) {
  due out;
  if (detached_ == 0) return out;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    auto& st = it->second;
    if (st->attached) {
      ++it;
      continue;
    }
    if (st->expires_at_ms <= now_ms) {
      out.expired.push_back(st);
      --detached_;
      it = by_id_.erase(it);
      continue;
    }
    if (st->delayed_will && st->will_at_ms <= now_ms) out.wills.push_back(st);
    ++it;
  }
  return out;
}

}  // namespace tributary::gateway::mqtt
