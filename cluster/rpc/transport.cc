#include "cluster/rpc/transport.h"

#include <algorithm>

#include "common/log.h"
#include "common/uv/framing.h"

namespace tributary {

const char* errc_info<cluster::rpc::call_errc>::message(cluster::rpc::call_errc e) noexcept {
  using cluster::rpc::call_errc;
  switch (e) {
    case call_errc::not_connected: return "no connection to the peer";
    case call_errc::connection_lost: return "connection lost before the answer";
    case call_errc::timeout: return "no answer in time";
    case call_errc::shutting_down: return "the transport is shutting down";
  }
  return "unknown rpc call error";
}

}  // namespace tributary

namespace tributary::cluster::rpc {

namespace {
constexpr uint64_t housekeeping_interval_ms = 100;
constexpr size_t message_overhead_bytes = 32;
}  // namespace

struct transport::conn {
  std::shared_ptr<uv::tcp_connection> tcp;
  raft::node_id peer;    // the dialled peer, or who said hello
  raft::node_id dialer;  // who opened the connection
  bool established = false;
  uint16_t version = min_version;
  uint64_t opened_ms = 0;
};

transport::transport(uv::loop& l, transport_options options, callbacks cbs)
    : loop_(l), opt_(std::move(options)), cb_(std::move(cbs)), call_timer_(l), rng_(opt_.seed | 1) {
  call_timer_.start_repeating(housekeeping_interval_ms, [this] { expire_calls(); });
}

transport::~transport() { close(); }

result<void> transport::listen(std::string_view address) {
  uv::listener_options o;
  o.max_connections = 4096;
  o.connection.max_frame_bytes = opt_.max_frame_bytes;
  o.connection.write_high_watermark_bytes = 16u << 20;
  o.connection.write_low_watermark_bytes = 4u << 20;
  o.connection.write_limit_bytes = opt_.write_limit_bytes;
  o.connection.pause_reading_when_backpressured = false;
  o.connection.no_delay = true;
  TRIB_TRY_VOID(o.connection.validate());
  auto l = TRIB_TRY(uv::tcp_listener::listen(
      loop_, address, o, [this](std::shared_ptr<uv::tcp_connection> tcp) { accept(std::move(tcp)); }));
  listener_.emplace(std::move(l));
  return {};
}

uint16_t transport::port() const { return listener_ ? listener_->port() : 0; }
std::string transport::address() const { return listener_ ? listener_->address() : std::string(); }

void transport::set_peer(raft::node_id peer_id, std::string address) {
  if (peer_id == opt_.self) return;
  auto& p = peers_[peer_id];
  p.address = std::move(address);
  if (!p.active && !p.dialling && !(p.redial && p.redial->active())) dial(peer_id);
}

void transport::remove_peer(raft::node_id peer_id) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) return;
  auto active = it->second.active;
  peers_.erase(it);
  if (active) active->tcp->close();
}

bool transport::connected(raft::node_id peer_id) const {
  auto it = peers_.find(peer_id);
  return it != peers_.end() && it->second.active != nullptr;
}

void transport::accept(std::shared_ptr<uv::tcp_connection> tcp) {
  if (closing_) {
    tcp->abort();
    return;
  }
  auto c = std::make_shared<conn>();
  c->tcp = std::move(tcp);
  c->opened_ms = loop_.now_ms();
  start_conn(c);
}

void transport::dial(raft::node_id peer_id) {
  auto it = peers_.find(peer_id);
  if (closing_ || it == peers_.end() || it->second.address.empty()) return;
  peer& p = it->second;
  p.dialling = true;
  uv::connection_options o;
  o.max_frame_bytes = opt_.max_frame_bytes;
  o.write_high_watermark_bytes = 16u << 20;
  o.write_low_watermark_bytes = 4u << 20;
  o.write_limit_bytes = opt_.write_limit_bytes;
  o.pause_reading_when_backpressured = false;
  o.connect_timeout_ms = opt_.connect_timeout_ms;
  std::weak_ptr<int> alive = alive_;
  auto r = uv::tcp_connection::connect(
      loop_, p.address, o, [this, alive, peer_id](result<std::shared_ptr<uv::tcp_connection>> tcp) {
        if (alive.expired()) {
          if (tcp) (*tcp)->abort();
          return;
        }
        auto pit = peers_.find(peer_id);
        if (pit != peers_.end()) pit->second.dialling = false;
        if (!tcp) {
          TRIB_LOG_DEBUG("rpc", "dial_failed", {"peer", peer_id.value}, {"error", tcp.error().message()});
          schedule_redial(peer_id);
          return;
        }
        if (closing_ || pit == peers_.end()) {
          (*tcp)->abort();
          return;
        }
        auto c = std::make_shared<conn>();
        c->tcp = std::move(*tcp);
        c->peer = peer_id;
        c->dialer = opt_.self;
        c->opened_ms = loop_.now_ms();
        start_conn(c);
        write_frame(*c, hello{opt_.cluster_id, opt_.self, min_version, max_version});
      });
  if (!r) {
    p.dialling = false;
    TRIB_LOG_WARN("rpc", "bad_peer_address", {"peer", peer_id.value}, {"address", p.address},
                  {"error", r.error().message()});
  }
}

void transport::schedule_redial(raft::node_id peer_id) {
  auto it = peers_.find(peer_id);
  if (closing_ || it == peers_.end() || it->second.address.empty() || it->second.active) return;
  peer& p = it->second;
  p.backoff_ms = p.backoff_ms == 0 ? opt_.reconnect_backoff_min_ms
                                   : std::min(p.backoff_ms * 2, opt_.reconnect_backoff_max_ms);
  // Jitter: 50% to 100% of the backoff, so that nodes restarted together do not dial in lockstep.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const uint64_t delay = p.backoff_ms / 2 + rng_ % (p.backoff_ms / 2 + 1);
  if (!p.redial) p.redial.emplace(loop_);
  p.redial->start(delay, [this, peer_id] {
    auto pit = peers_.find(peer_id);
    if (pit != peers_.end() && !pit->second.active && !pit->second.dialling) dial(peer_id);
  });
}

void transport::start_conn(const std::shared_ptr<conn>& c) {
  conns_.push_back(c);
  std::weak_ptr<conn> weak = c;
  std::weak_ptr<int> alive = alive_;
  uv::tcp_connection::callbacks cbs;
  cbs.on_frame = [this, weak, alive](uv::tcp_connection&, byte_span bytes) {
    if (alive.expired()) return;
    if (auto c = weak.lock()) on_frame(c, bytes);
  };
  cbs.on_frame_error = [this, alive](uv::tcp_connection& t, std::error_code ec) {
    if (alive.expired()) return;
    ++stats_.protocol_errors;
    TRIB_LOG_WARN("rpc", "bad_frame", {"peer_address", t.peer_address()}, {"error", ec.message()});
  };
  cbs.on_close = [this, weak, alive](uv::tcp_connection&, std::error_code) {
    if (alive.expired()) return;
    if (auto c = weak.lock()) closed(c);
  };
  c->tcp->start(uv::frame_i32_length_prefix, std::move(cbs));
}

void transport::on_frame(const std::shared_ptr<conn>& c, byte_span bytes) {
  auto decoded = decode_frame(bytes);
  auto protocol_error = [&](std::string_view what) {
    ++stats_.protocol_errors;
    TRIB_LOG_WARN("rpc", "protocol_error", {"peer", c->peer.value}, {"peer_address", c->tcp->peer_address()},
                  {"error", what});
    c->tcp->close();
  };
  if (!decoded) return protocol_error(decoded.error().message());
  ++stats_.frames_in;
  frame& f = decoded->frame;
  if (!c->established) {
    if (auto* h = std::get_if<hello>(&f); h && c->dialer == raft::no_node) {
      std::string refusal;
      const uint16_t version = std::min(max_version, h->max_version);
      if (h->cluster_id != opt_.cluster_id) {
        refusal = "cluster id mismatch: this node is in cluster " + opt_.cluster_id + ", the peer in " +
                  h->cluster_id;
      } else if (h->node == raft::no_node || h->node == opt_.self) {
        refusal = "bad node id " + std::to_string(h->node.value);
      } else if (version < std::max(min_version, h->min_version)) {
        refusal = "no common protocol version";
      }
      if (!refusal.empty()) {
        ++stats_.handshake_failures;
        TRIB_LOG_WARN("rpc", "hello_refused", {"peer_address", c->tcp->peer_address()}, {"reason", refusal});
        write_frame(*c, hello_reject{refusal});
        c->tcp->close();
        return;
      }
      c->peer = h->node;
      c->dialer = h->node;
      c->version = version;
      write_frame(*c, hello_ack{opt_.self, version});
      established(c);
      return;
    }
    if (auto* a = std::get_if<hello_ack>(&f); a && c->dialer == opt_.self) {
      if (a->node != c->peer || a->version < min_version || a->version > max_version) {
        ++stats_.handshake_failures;
        return protocol_error("hello_ack from node " + std::to_string(a->node.value) + " in version " +
                              std::to_string(a->version) + ", expected node " +
                              std::to_string(c->peer.value));
      }
      c->version = a->version;
      established(c);
      return;
    }
    if (auto* j = std::get_if<hello_reject>(&f)) {
      ++stats_.handshake_failures;
      TRIB_LOG_WARN("rpc", "hello_rejected", {"peer", c->peer.value}, {"reason", j->reason});
      c->tcp->close();
      return;
    }
    return protocol_error("frame before the handshake");
  }
  if (auto* b = std::get_if<raft_batch>(&f)) {
    stats_.messages_in += b->messages.size();
    for (auto& gm : b->messages) {
      gm.message.from = c->peer;
      gm.message.to = opt_.self;
    }
    if (cb_.on_raft) cb_.on_raft(c->peer, std::move(*b));
    return;
  }
  if (auto* q = std::get_if<request>(&f)) {
    std::weak_ptr<conn> weak = c;
    std::weak_ptr<int> alive = alive_;
    const uint64_t corr = q->correlation_id;
    reply_fn reply = [this, weak, alive, corr](response r) {
      if (alive.expired()) return;
      auto conn_now = weak.lock();
      if (!conn_now || !conn_now->tcp->is_open()) return;
      r.correlation_id = corr;
      write_frame(*conn_now, r);
    };
    if (cb_.on_request) {
      cb_.on_request(c->peer, std::move(*q), std::move(reply));
    } else {
      reply(response{corr, -1, "this node serves no requests", {}});
    }
    return;
  }
  if (auto* p = std::get_if<response>(&f)) {
    auto it = calls_.find(p->correlation_id);
    if (it == calls_.end()) return;  // timed out meanwhile
    auto done = std::move(it->second.done);
    calls_.erase(it);
    done(std::move(*p));
    return;
  }
  protocol_error(std::string("unexpected ") +
                 to_string(static_cast<frame_type>(bytes.size() >= 8 ? load_be16(bytes.data() + 6) : 0)));
}

void transport::established(const std::shared_ptr<conn>& c) {
  c->established = true;
  ++stats_.connects;
  peer& p = peers_[c->peer];
  if (p.active && p.active != c) {
    // Both nodes dialled: keep the connection opened by the lower node id, on both sides. When the
    // same node dialled both, it gave up on the old one (it restarted, say): keep the new one.
    const raft::node_id lower = std::min(opt_.self, c->peer);
    const bool keep_new = c->dialer == p.active->dialer || c->dialer == lower;
    auto loser = keep_new ? p.active : c;
    if (keep_new) p.active = c;
    TRIB_LOG_DEBUG("rpc", "duplicate_connection", {"peer", c->peer.value}, {"kept_dialer", lower.value});
    loser->tcp->close();
    return;
  }
  p.active = c;
  p.backoff_ms = 0;
  if (p.redial) p.redial->cancel();
  TRIB_LOG_INFO("rpc", "peer_connected", {"peer", c->peer.value}, {"address", c->tcp->peer_address()},
                {"dialled_by", c->dialer.value}, {"version", c->version});
  if (cb_.on_peer) cb_.on_peer(c->peer, true);
}

void transport::closed(const std::shared_ptr<conn>& c) {
  std::erase(conns_, c);
  fail_calls(c.get(), call_errc::connection_lost);
  auto it = peers_.find(c->peer);
  if (it == peers_.end()) return;
  peer& p = it->second;
  if (p.active == c) {
    p.active.reset();
    p.queue.clear();
    p.queued_bytes = 0;
    TRIB_LOG_INFO("rpc", "peer_disconnected", {"peer", c->peer.value});
    if (cb_.on_peer) cb_.on_peer(c->peer, false);
    schedule_redial(c->peer);
  } else if (!c->established && c->dialer == opt_.self && !p.active) {
    schedule_redial(c->peer);
  }
}

void transport::write_frame(conn& c, const frame& f) {
  auto wire = encode(f, c.version);
  if (c.tcp->write(std::move(wire))) ++stats_.frames_out;
}

void transport::send(raft::node_id to, group_id group, raft::message m) {
  if (closing_) return;
  auto it = peers_.find(to);
  if (it == peers_.end() || !it->second.active) {
    ++stats_.messages_dropped;
    if (it != peers_.end() && !it->second.dialling && !(it->second.redial && it->second.redial->active()))
      dial(to);
    return;
  }
  size_t bytes = message_overhead_bytes;
  for (const auto& e : m.entries) bytes += e.byte_size();
  if (m.snapshot) bytes += m.snapshot->data.size();
  it->second.queued_bytes += bytes;
  it->second.queue.push_back({group, std::move(m)});
}

void transport::flush() {
  for (auto& [id, p] : peers_) {
    if (p.queue.empty()) continue;
    if (!p.active || p.active->tcp->pending_write_bytes() > opt_.peer_write_backlog_bytes) {
      stats_.messages_dropped += p.queue.size();
    } else {
      raft_batch b;
      size_t bytes = 0;
      for (auto& gm : p.queue) {
        size_t cost = message_overhead_bytes;
        for (const auto& e : gm.message.entries) cost += e.byte_size();
        if (gm.message.snapshot) cost += gm.message.snapshot->data.size();
        if (!b.messages.empty() && bytes + cost > opt_.frame_target_bytes) {
          stats_.messages_out += b.messages.size();
          write_frame(*p.active, b);
          b.messages.clear();
          bytes = 0;
        }
        bytes += cost;
        b.messages.push_back(std::move(gm));
      }
      stats_.messages_out += b.messages.size();
      write_frame(*p.active, b);
    }
    p.queue.clear();
    p.queued_bytes = 0;
  }
}

void transport::call(raft::node_id to, rpc::api api, std::vector<uint8_t> body,
                     std::function<void(result<response>)> done) {
  if (closing_) return done(fail(call_errc::shutting_down));
  auto it = peers_.find(to);
  if (it == peers_.end() || !it->second.active) return done(fail(call_errc::not_connected));
  const uint64_t corr = next_correlation_++;
  calls_[corr] =
      pending_call{to, it->second.active, loop_.now_ms() + opt_.request_timeout_ms, std::move(done)};
  write_frame(*it->second.active, request{corr, api, std::move(body)});
}

void transport::expire_calls() {
  const uint64_t now = loop_.now_ms();
  std::vector<std::function<void(result<response>)>> expired;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline_ms <= now) {
      expired.push_back(std::move(it->second.done));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : expired) done(fail(call_errc::timeout));
  // Connections that never finished their handshake.
  for (const auto& c : std::vector<std::shared_ptr<conn>>(conns_)) {
    if (!c->established && now - c->opened_ms > opt_.handshake_timeout_ms) {
      ++stats_.handshake_failures;
      c->tcp->abort();
    }
  }
}

void transport::fail_calls(const conn* via, call_errc why) {
  std::vector<std::function<void(result<response>)>> failed;
  for (auto it = calls_.begin(); it != calls_.end();) {
    auto v = it->second.via.lock();
    if (via == nullptr || v == nullptr || v.get() == via) {
      failed.push_back(std::move(it->second.done));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : failed) done(fail(why));
}

void transport::close() {
  if (closing_) return;
  closing_ = true;
  call_timer_.cancel();
  if (listener_) listener_->close();
  for (auto& [id, p] : peers_)
    if (p.redial) p.redial->cancel();
  for (const auto& c : std::vector<std::shared_ptr<conn>>(conns_)) c->tcp->close();
  fail_calls(nullptr, call_errc::shutting_down);
}

}  // namespace tributary::cluster::rpc
