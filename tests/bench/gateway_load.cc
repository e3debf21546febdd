// gateway_load: an MQTT load generator for tests/bench/gateway_ingest_bench.sh. One libuv loop, the
// common/mqtt codec, N connections (MQTT 3.1.1) each keeping `inflight` QoS 1 (or 2) PUBLISH packets
// of `payload_bytes` in flight, so the server, not the tool, is what is measured. It measures
// acknowledgements per second and PUBACK latency (send to acknowledgement) over a window after a
// warm-up, and prints one JSON line. `--idle` opens the connections and holds them without traffic.
//
//   gateway_load --target 127.0.0.1:1883 --connections 100 --inflight 10 --payload-bytes 100
//                --warmup-s 3 --duration-s 10 [--qos 1] [--idle] [--connect-parallel 256]
//
// A benchmark tool, never run by CTest; it reads the clock (it is not a core).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mqtt/codec.h"
#include "common/uv/loop.h"
#include "common/uv/tcp.h"
#include "common/uv/timer.h"

namespace {

using namespace tributary;
namespace proto = tributary::mqtt;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string target = "127.0.0.1:1883";
  size_t connections = 100;
  size_t inflight = 10;
  size_t payload_bytes = 100;
  double warmup_s = 3;
  double duration_s = 10;
  int qos = 1;
  bool idle = false;
  size_t connect_parallel = 256;
  size_t samples_max = 2'000'000;
};

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now().time_since_epoch()).count());
}

struct client;

struct state {
  options opt;
  std::unique_ptr<uv::loop> loop;
  std::vector<std::unique_ptr<client>> clients;
  size_t next_to_connect = 0;
  size_t connecting = 0;
  size_t connected = 0;
  size_t failed = 0;
  size_t closed = 0;
  bool measuring = false;
  bool stopping = false;
  uint64_t acked_in_window = 0;
  uint64_t acked_total = 0;
  uint64_t refused = 0;  // acknowledgements with a failure reason
  uint64_t window_start_us = 0;
  std::vector<uint32_t> latencies_us;
  uint64_t latency_seen = 0;
  uint64_t rng = 0x9E3779B97F4A7C15ull;

  void start_connects();
};

struct client {
  state* st = nullptr;
  size_t index = 0;
  std::shared_ptr<uv::tcp_connection> conn;
  std::string topic;
  std::vector<uint64_t> sent_us = std::vector<uint64_t>(65536, 0);
  uint16_t next_id = 1;
  size_t in_flight = 0;
  uint64_t seq = 0;

  void publish_one() {
    proto::publish_packet p;
    p.topic = topic;
    p.qos = static_cast<proto::qos_level>(st->opt.qos);
    while (sent_us[next_id] != 0) next_id = static_cast<uint16_t>(next_id == 65535 ? 1 : next_id + 1);
    p.id = proto::packet_id(next_id);
    std::string payload(st->opt.payload_bytes, 'x');
    std::string counter = std::to_string(index) + "-" + std::to_string(seq++);
    std::memcpy(payload.data(), counter.data(), std::min(counter.size(), payload.size()));
    p.payload = proto::bytes_view(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    sent_us[next_id] = now_us();
    next_id = static_cast<uint16_t>(next_id == 65535 ? 1 : next_id + 1);
    ++in_flight;
    (void)conn->write(proto::encode(proto::packet(p), proto::protocol_version::v311));
  }

  void fill() {
    if (st->opt.idle || st->stopping) return;
    while (in_flight < st->opt.inflight) publish_one();
  }

  void acked(uint16_t id, bool ok) {
    if (id == 0 || sent_us[id] == 0) return;
    const uint64_t lat = now_us() - sent_us[id];
    sent_us[id] = 0;
    --in_flight;
    ++st->acked_total;
    if (!ok) ++st->refused;
    if (st->measuring) {
      ++st->acked_in_window;
      ++st->latency_seen;
      const uint32_t v = static_cast<uint32_t>(std::min<uint64_t>(lat, UINT32_MAX));
      if (st->latencies_us.size() < st->opt.samples_max) {
        st->latencies_us.push_back(v);
      } else {  // reservoir sampling keeps the percentiles honest on long runs
        st->rng ^= st->rng << 13;
        st->rng ^= st->rng >> 7;
        st->rng ^= st->rng << 17;
        const uint64_t j = st->rng % st->latency_seen;
        if (j < st->latencies_us.size()) st->latencies_us[j] = v;
      }
    }
    fill();
  }

  void on_frame(byte_span frame) {
    auto p = proto::decode(frame, proto::protocol_version::v311);
    if (!p) return;
    if (auto* ca = std::get_if<proto::connack_packet>(&*p)) {
      --st->connecting;
      if (ca->reason != proto::reason_code::success) {
        ++st->failed;
        conn->close();
      } else {
        ++st->connected;
        fill();
      }
      st->start_connects();
    } else if (auto* pa = std::get_if<proto::puback_packet>(&*p)) {
      acked(pa->id.value, !proto::is_failure(pa->reason));
    } else if (auto* pr = std::get_if<proto::pubrec_packet>(&*p)) {
      (void)conn->write(
          proto::encode(proto::packet(proto::pubrel_packet{pr->id, {}, {}}), proto::protocol_version::v311));
    } else if (auto* pc = std::get_if<proto::pubcomp_packet>(&*p)) {
      acked(pc->id.value, true);
    }
  }
};

void state::start_connects() {
  while (next_to_connect < clients.size() && connecting < opt.connect_parallel && !stopping) {
    client* c = clients[next_to_connect++].get();
    ++connecting;
    uv::connection_options co;
    co.max_frame_bytes = 1 << 16;
    co.read_chunk_bytes = 16 << 10;
    co.connect_timeout_ms = 30000;
    co.write_high_watermark_bytes = 1 << 20;
    co.write_low_watermark_bytes = 256 << 10;
    co.write_limit_bytes = 64 << 20;
    auto r = uv::tcp_connection::connect(
        *loop, opt.target, co, [this, c](result<std::shared_ptr<uv::tcp_connection>> res) {
          if (!res) {
            --connecting;
            ++failed;
            start_connects();
            return;
          }
          c->conn = *res;
          uv::tcp_connection::callbacks cbs;
          cbs.on_frame = [c](uv::tcp_connection&, byte_span f) { c->on_frame(f); };
          cbs.on_close = [this](uv::tcp_connection&, std::error_code) { ++closed; };
          c->conn->start(uv::frame_mqtt, std::move(cbs));
          proto::connect_packet cp;
          cp.version = proto::protocol_version::v311;
          cp.clean_start = true;
          cp.keep_alive_s = opt.idle ? 900 : 60;
          std::string id = "load-" + std::to_string(c->index);
          cp.client_id = id;
          (void)c->conn->write(proto::encode(proto::packet(cp), proto::protocol_version::v311));
        });
    if (!r) {
      --connecting;
      ++failed;
    }
  }
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (k == "--idle") {
      o.idle = true;
      continue;
    }
    if (!(v = val())) return false;
    if (k == "--target")
      o.target = v;
    else if (k == "--connections")
      o.connections = std::strtoull(v, nullptr, 10);
    else if (k == "--inflight")
      o.inflight = std::strtoull(v, nullptr, 10);
    else if (k == "--payload-bytes")
      o.payload_bytes = std::strtoull(v, nullptr, 10);
    else if (k == "--warmup-s")
      o.warmup_s = std::atof(v);
    else if (k == "--duration-s")
      o.duration_s = std::atof(v);
    else if (k == "--qos")
      o.qos = std::atoi(v);
    else if (k == "--connect-parallel")
      o.connect_parallel = std::strtoull(v, nullptr, 10);
    else
      return false;
  }
  return o.connections >= 1 && o.connections <= 100000 && o.inflight >= 1 && o.inflight <= 60000 &&
         (o.qos == 1 || o.qos == 2) && o.duration_s > 0 && o.payload_bytes >= 1 && o.payload_bytes <= 1 << 20;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  state st;
  if (!parse(argc, argv, st.opt)) {
    std::fprintf(stderr,
                 "usage: gateway_load --target host:port --connections N --inflight W --payload-bytes B "
                 "--warmup-s S --duration-s D [--qos 1|2] [--idle] [--connect-parallel P]\n");
    return 2;
  }
  auto l = uv::loop::create();
  if (!l) return 2;
  st.loop = std::move(*l);
  for (size_t i = 0; i < st.opt.connections; ++i) {
    auto c = std::make_unique<client>();
    c->st = &st;
    c->index = i;
    c->topic = "sensors/load-" + std::to_string(i) + "/temp";
    st.clients.push_back(std::move(c));
  }
  const uint64_t t0 = now_us();
  st.start_connects();
  uv::timer warm(*st.loop);
  uv::timer done(*st.loop);
  uv::timer progress(*st.loop);
  double connect_s = 0;
  // Measuring starts once every connection is up (or failed) and the warm-up has passed.
  progress.start_repeating(50, [&] {
    if (st.measuring || st.stopping) return;
    if (st.connected + st.failed < st.opt.connections) return;
    if (connect_s == 0) {
      connect_s = static_cast<double>(now_us() - t0) / 1e6;
      warm.start(static_cast<uint64_t>(st.opt.warmup_s * 1000), [&] {
        st.measuring = true;
        st.window_start_us = now_us();
        done.start(static_cast<uint64_t>(st.opt.duration_s * 1000), [&] {
          st.measuring = false;
          st.stopping = true;
          const double window_s = static_cast<double>(now_us() - st.window_start_us) / 1e6;
          auto& lat = st.latencies_us;
          std::sort(lat.begin(), lat.end());
          auto pct = [&](double q) {
            if (lat.empty()) return 0.0;
            return lat[std::min(lat.size() - 1, static_cast<size_t>(q * static_cast<double>(lat.size())))] /
                   1000.0;
          };
          std::printf(
              "{\"connections\":%zu,\"connected\":%zu,\"failed\":%zu,\"connect_s\":%.2f,\"inflight\":%zu,"
              "\"payload_bytes\":%zu,\"qos\":%d,\"window_s\":%.2f,\"acked\":%llu,\"acked_per_s\":%.0f,"
              "\"refused\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"closed\":%zu}\n",
              st.opt.connections, st.connected, st.failed, connect_s, st.opt.inflight, st.opt.payload_bytes,
              st.opt.qos, window_s, static_cast<unsigned long long>(st.acked_in_window),
              static_cast<double>(st.acked_in_window) / window_s, static_cast<unsigned long long>(st.refused),
              pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back() / 1000.0, st.closed);
          std::fflush(stdout);
          for (auto& c : st.clients) {
            if (c->conn) c->conn->abort();
          }
          progress.cancel();
          st.loop->stop();
        });
      });
    }
  });
  // A hard bound on the whole run: connecting may not take forever.
  uv::timer guard(*st.loop);
  guard.start(static_cast<uint64_t>((st.opt.warmup_s + st.opt.duration_s) * 1000) + 120000, [&] {
    std::fprintf(stderr, "gateway_load: gave up (connected %zu of %zu, failed %zu)\n", st.connected,
                 st.opt.connections, st.failed);
    std::exit(1);
  });
  st.loop->run();
  guard.cancel();
  (void)st.loop->close();
  return 0;
}
