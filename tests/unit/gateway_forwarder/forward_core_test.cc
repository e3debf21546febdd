// forward_core: the forwarder's policy, driven by a fake buffer and a fake producer/cluster.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "gateway/forwarder/core/forward_core.h"

using namespace tributary::gateway::forwarder;
using tributary::gateway::buffer::gateway_seq;

namespace {

// The buffer as the forwarder sees it: rows by seq, one priority level, a cursor.
struct fake_buffer {
  struct row {
    int key = 0;
    uint64_t bytes = 100;
    uint8_t priority = 0;
  };
  std::map<int64_t, row> rows;
  std::map<int64_t, std::string> dead;
  std::map<uint8_t, int64_t> after;  // per priority
  int64_t next = 1;

  int64_t append(int key, uint64_t bytes = 100, uint8_t priority = 0) {
    rows[next] = row{key, bytes, priority};
    return next++;
  }
  std::vector<row_info> peek(const peek_request& p) {
    if (p.reset_cursor) after.clear();
    std::vector<row_info> out;
    uint64_t taken = 0;
    for (int prio = 255; prio >= 0 && out.size() < p.rows_max; --prio) {
      for (auto it = rows.upper_bound(after[static_cast<uint8_t>(prio)]); it != rows.end(); ++it) {
        if (it->second.priority != prio) continue;
        if (out.size() >= p.rows_max) break;
        if (!out.empty() && taken + it->second.bytes > p.bytes_max) return out;
        taken += it->second.bytes;
        after[static_cast<uint8_t>(prio)] = it->first;
        out.push_back(row_info{gateway_seq(it->first), it->second.priority, it->second.bytes});
      }
    }
    return out;
  }
};

core_limits small_limits() {
  core_limits l;
  l.batch_rows_max = 4;
  l.batch_bytes_max = 10000;
  l.in_flight_rows_max = 8;
  l.in_flight_bytes_max = 100000;
  l.remove_batch_rows_max = 3;
  l.idle_poll_ms = 20;
  l.queue_full_retry_ms = 10;
  l.retry_backoff_min_ms = 100;
  l.retry_backoff_max_ms = 1000;
  l.job_retry_ms = 500;
  return l;
}

// Runs the core's actions against the fake buffer synchronously; produced rows go to `sent`.
struct harness {
  fake_buffer buf;
  forward_core core;
  uint64_t now = 1000;
  std::vector<int64_t> sent;      // produce order (accepted)
  std::deque<int64_t> in_flight;  // accepted, no report yet
  int purges = 0;
  int in_flight_purges = 0;  // purges that also drop what the producer sent (delivery timeout)
  int drops = 0;
  int recreations = 0;
  bool fail_removes = false;
  bool fail_peeks = false;
  std::optional<produce_status> next_produce_status;  // override the next produce
  int32_t next_produce_error = 0;

  explicit harness(core_limits l = small_limits(), uint64_t seed = 7) : core(l, seed) {}

  // One round: produce what is ready, run the jobs (they complete at once).
  void step() {
    for (int guard = 0; guard < 1000; ++guard) {
      bool did = false;
      while (auto s = core.next_to_produce()) {
        did = true;
        auto st = next_produce_status.value_or(produce_status::accepted);
        next_produce_status.reset();
        core.on_produce(*s, st, next_produce_error, "refused", now);
        if (st == produce_status::accepted) {
          sent.push_back(s->value);
          in_flight.push_back(s->value);
        }
        if (st == produce_status::queue_full) break;
      }
      auto a = core.take_actions(now);
      core.check_invariants();
      if (a.empty()) {
        if (!did) return;
        continue;
      }
      if (a.drop_unsent) drops++;
      if (a.purge_unsent) purges++;
      if (a.purge_in_flight) in_flight_purges++;
      if (a.recreate_producer) recreations++;
      if (!a.dead_letter.empty()) {
        for (auto& d : a.dead_letter) {
          buf.dead[d.seq.value] = d.reason;
          buf.rows.erase(d.seq.value);
        }
        core.on_dead_lettered(a.dead_letter, std::vector<bool>(a.dead_letter.size(), true), now);
      }
      if (!a.remove.empty()) {
        if (fail_removes) {
          core.on_removed(a.remove, false, now);
        } else {
          for (auto s : a.remove) buf.rows.erase(s.value);
          core.on_removed(a.remove, true, now);
        }
      }
      if (a.peek) {
        if (fail_peeks) {
          core.on_peek_failed(now);
        } else {
          auto rows = buf.peek(*a.peek);
          core.on_peeked(rows, now);
        }
      }
      core.check_invariants();
    }
    FAIL("step did not settle");
  }

  void deliver_all() {
    while (!in_flight.empty()) {
      core.on_delivered(gateway_seq(in_flight.front()), now);
      in_flight.pop_front();
    }
  }
  void fail_all(int32_t err) {
    while (!in_flight.empty()) {
      core.on_delivery_failed(gateway_seq(in_flight.front()), err, "failed", now);
      in_flight.pop_front();
    }
  }
  void advance(uint64_t ms) {
    now += ms;
    core.tick(now);
  }
  // Runs until nothing changes: delivers everything, advancing time past deadlines. Bounded.
  void drain(int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      step();
      if (!in_flight.empty()) {
        deliver_all();
        continue;
      }
      auto d = core.next_deadline_ms(now);
      if (!d) break;
      now = *d;
    }
    step();
  }
};

}  // namespace

TEST_CASE("rows flow: peek, produce, deliver, remove") {
  harness h;
  for (int i = 0; i < 10; ++i) h.buf.append(i % 3);
  h.drain();
  CHECK(h.buf.rows.empty());
  CHECK(h.sent.size() == 10);
  CHECK(std::is_sorted(h.sent.begin(), h.sent.end()));
  CHECK(h.core.window_rows() == 0);
  CHECK(h.core.stats().delivered_rows == 10);
  CHECK(h.core.stats().removed_rows == 10);
  CHECK(h.core.stats().delivered_bytes == 1000);
  CHECK(h.core.uplink_up());
}

TEST_CASE("the window bounds rows sent and not yet removed") {
  harness h;
  for (int i = 0; i < 50; ++i) h.buf.append(i);
  for (int round = 0; round < 100 && !h.buf.rows.empty(); ++round) {
    h.step();
    CHECK(h.core.window_rows() <= h.core.limits().in_flight_rows_max);
    CHECK(h.in_flight.size() <= h.core.limits().in_flight_rows_max);
    // Deliver half of what is in flight each round.
    size_t n = (h.in_flight.size() + 1) / 2;
    for (size_t i = 0; i < n; ++i) {
      h.core.on_delivered(gateway_seq(h.in_flight.front()), h.now);
      h.in_flight.pop_front();
    }
    h.advance(25);
  }
  h.drain();
  CHECK(h.buf.rows.empty());
  CHECK(h.core.stats().delivered_rows == 50);
}

TEST_CASE("the byte window and a row larger than the batch") {
  auto l = small_limits();
  l.batch_bytes_max = 250;
  l.in_flight_bytes_max = 1000;
  harness h(l);
  h.buf.append(1, 5000);  // larger than everything: still goes (alone)
  for (int i = 0; i < 6; ++i) h.buf.append(2, 100);
  h.step();
  REQUIRE(h.sent.size() == 1);
  CHECK(h.sent[0] == 1);
  h.drain();
  CHECK(h.buf.rows.empty());
  CHECK(h.sent.size() == 7);
}

TEST_CASE("an empty buffer is read again after idle_poll_ms, not at once") {
  harness h;
  h.step();
  CHECK(h.core.stats().peeks == 1);
  h.step();
  CHECK(h.core.stats().peeks == 1);
  auto d = h.core.next_deadline_ms(h.now);
  REQUIRE(d);
  CHECK(*d == h.now + 20);
  h.buf.append(1);
  h.advance(20);
  h.step();
  CHECK(h.core.stats().peeks == 2);
  CHECK(h.sent.size() == 1);
}

TEST_CASE("removes are batched, one job at a time") {
  auto l = small_limits();
  l.remove_batch_rows_max = 3;
  harness h(l);
  for (int i = 0; i < 4; ++i) h.buf.append(i);
  h.step();
  REQUIRE(h.in_flight.size() == 4);
  h.deliver_all();
  auto a = h.core.take_actions(h.now);
  CHECK(a.remove.size() == 3);
  // A second remove waits for the first.
  auto b = h.core.take_actions(h.now);
  CHECK(b.remove.empty());
  for (auto s : a.remove) h.buf.rows.erase(s.value);
  h.core.on_removed(a.remove, true, h.now);
  auto c = h.core.take_actions(h.now);
  CHECK(c.remove.size() == 1);
  h.core.on_removed(c.remove, true, h.now);
  h.core.check_invariants();
  CHECK(h.core.window_rows() == 0);
}

TEST_CASE("a retriable failure: purge, wait for every report, back off, read again from the oldest") {
  harness h;
  for (int i = 1; i <= 6; ++i) h.buf.append(1);  // one key: order matters
  h.step();
  REQUIRE(h.in_flight.size() == 6);
  // seq 1 delivered; seq 2 fails retriably; 3..6 still with the producer. (The bookkeeping only:
  // librdkafka's own message timeout is off, because it failed old rows of a partition and went on
  // sending younger ones - see "the delivery timeout" tests below.)
  h.core.on_delivered(gateway_seq(1), h.now);
  h.core.on_delivery_failed(gateway_seq(2), code::transport, "Local: Broker transport failure", h.now);
  h.in_flight.clear();
  CHECK(h.core.mode() == core_mode::settling);
  CHECK_FALSE(h.core.uplink_up());
  h.step();
  CHECK(h.purges == 1);
  CHECK_FALSE(h.core.next_to_produce());
  // 4 was in a request already and is delivered; 3, 5, 6 were purged.
  h.core.on_delivery_failed(gateway_seq(3), code::purge_queue, "purged", h.now);
  h.core.on_delivered(gateway_seq(4), h.now);
  h.step();
  CHECK(h.core.mode() == core_mode::settling);  // 5 and 6 have no report yet
  h.core.on_delivery_failed(gateway_seq(5), code::purge_queue, "purged", h.now);
  h.core.on_delivery_failed(gateway_seq(6), code::purge_queue, "purged", h.now);
  h.step();
  REQUIRE(h.core.mode() == core_mode::backing_off);
  auto resume = h.core.resume_at_ms();
  REQUIRE(resume);
  CHECK(*resume >= h.now + 50);
  CHECK(*resume <= h.now + 100);
  CHECK(h.buf.rows.count(1) == 0);  // removed
  CHECK(h.buf.rows.count(4) == 0);
  CHECK(h.buf.rows.count(2) == 1);  // kept
  CHECK(h.buf.rows.count(3) == 1);
  const auto sent_before = h.sent.size();
  h.advance(*resume - h.now - 1);
  h.step();
  CHECK(h.sent.size() == sent_before);  // not before the backoff ends
  h.advance(1);
  h.step();
  CHECK(h.core.mode() == core_mode::running);
  // The reset peek starts from the oldest row still in the buffer.
  std::vector<int64_t> resent(h.sent.begin() + static_cast<std::ptrdiff_t>(sent_before), h.sent.end());
  CHECK(resent == std::vector<int64_t>{2, 3, 5, 6});
  h.drain();
  CHECK(h.buf.rows.empty());
  CHECK(h.core.stats().settles == 1);
  CHECK(h.core.stats().backoffs == 1);
  CHECK(h.core.stats().resent_rows == 4);
  CHECK(h.core.stats().failures[static_cast<size_t>(error_class::retriable)] == 4);
}

TEST_CASE("the delivery timeout is the core's: past it, everything in the producer goes at once") {
  // it_forwarder_outage, 1 run in 8: librdkafka's own message.timeout.ms failed the head of the
  // partition's queue (rows produced first) while the rows produced a few ms later, not yet expired,
  // were sent at once with a bumped epoch and delivered: younger rows of a key landed before older
  // ones. The core now times rows out itself, all of them together, and purges what was sent too.
  auto l = small_limits();
  l.delivery_timeout_ms = 3000;
  harness h(l);
  for (int i = 1; i <= 4; ++i) h.buf.append(1);  // one key
  h.step();
  REQUIRE(h.in_flight.size() == 4);
  const uint64_t first_sent = h.now;
  h.advance(20);
  h.core.on_delivered(gateway_seq(1), h.now);  // the oldest row is delivered: the clock is row 2's
  h.in_flight.pop_front();
  h.buf.append(1);
  h.buf.append(1);
  h.step();
  REQUIRE(h.in_flight.size() == 5);  // 2..6: 5 and 6 produced 20 ms after the others
  h.advance(first_sent + 3000 - 1 - h.now);
  h.step();
  CHECK(h.core.mode() == core_mode::running);
  CHECK(h.in_flight_purges == 0);
  h.advance(1);  // row 2 has waited 3000 ms; 5 and 6 only 2980 ms: they go too
  h.step();
  CHECK(h.core.mode() == core_mode::settling);
  CHECK(h.in_flight_purges == 1);
  CHECK(h.purges == 1);
  CHECK(h.core.stats().delivery_timeouts == 1);
  CHECK_FALSE(h.core.uplink_up());
  CHECK_FALSE(h.core.next_to_produce());
  // Reports that do not come: no second purge before another delivery_timeout_ms.
  h.advance(2999);
  h.step();
  CHECK(h.in_flight_purges == 1);
  h.advance(1);
  h.step();
  CHECK(h.in_flight_purges == 2);
  CHECK(h.core.stats().settles == 1);  // one settle
  // The purge reports every row: sent ones as possibly persisted, queued ones as purged.
  h.core.on_delivery_failed(gateway_seq(2), code::purge_inflight, "purged in flight", h.now);
  h.core.on_delivery_failed(gateway_seq(3), code::purge_inflight, "purged in flight", h.now);
  h.core.on_delivery_failed(gateway_seq(4), code::purge_queue, "purged", h.now);
  h.core.on_delivery_failed(gateway_seq(5), code::purge_queue, "purged", h.now);
  h.step();
  CHECK(h.core.mode() == core_mode::settling);  // 6 has no report yet
  h.core.on_delivery_failed(gateway_seq(6), code::purge_queue, "purged", h.now);
  h.in_flight.clear();
  h.step();
  REQUIRE(h.core.mode() == core_mode::backing_off);
  CHECK(h.core.next_deadline_ms(h.now) == h.core.resume_at_ms());  // nothing in flight: no delivery clock
  const auto sent_before = h.sent.size();
  h.advance(*h.core.resume_at_ms() - h.now);
  h.step();
  std::vector<int64_t> resent(h.sent.begin() + static_cast<std::ptrdiff_t>(sent_before), h.sent.end());
  // From the oldest, in order (the first peek takes 4 rows, the next one the last).
  CHECK(resent == std::vector<int64_t>{2, 3, 4, 5, 6});
  h.drain();
  CHECK(h.buf.rows.empty());
  CHECK(h.core.stats().delivery_timeouts == 2);
}

TEST_CASE("the delivery timeout runs from the oldest row still in flight; 0 turns it off") {
  SUBCASE("on") {
    auto l = small_limits();
    l.delivery_timeout_ms = 1000;
    harness h(l);
    for (int i = 1; i <= 4; ++i) h.buf.append(i);
    h.step();
    REQUIRE(h.in_flight.size() == 4);
    const uint64_t t0 = h.now;
    h.advance(600);
    // Delivered out of order (other partitions): the clock stays with the oldest row in flight.
    h.core.on_delivered(gateway_seq(3), h.now);
    CHECK(h.core.next_deadline_ms(h.now) == t0 + 1000);
    h.core.on_delivered(gateway_seq(1), h.now);
    h.core.on_delivered(gateway_seq(2), h.now);
    h.core.on_delivered(gateway_seq(4), h.now);
    h.in_flight.clear();
    h.buf.append(5);
    h.advance(20);  // past idle_poll_ms
    h.step();
    REQUIRE(h.in_flight.size() == 1);
    CHECK(h.core.stats().delivery_timeouts == 0);
    const uint64_t t5 = h.now;  // row 5's clock
    h.advance(999);
    h.step();
    CHECK(h.in_flight_purges == 0);
    h.advance(1);
    h.step();
    CHECK(h.in_flight_purges == 1);
    CHECK(h.now == t5 + 1000);
    h.fail_all(code::purge_inflight);
    h.drain();
    CHECK(h.core.stats().delivery_timeouts == 1);
    CHECK(h.buf.rows.empty());
  }
  SUBCASE("off") {
    harness h;  // delivery_timeout_ms = 0: the producer's timeout, if any
    h.buf.append(1);
    h.step();
    REQUIRE(h.in_flight.size() == 1);
    h.advance(1000000);
    h.step();
    CHECK(h.core.mode() == core_mode::running);
    CHECK(h.in_flight_purges == 0);
    CHECK(h.core.stats().delivery_timeouts == 0);
  }
}

TEST_CASE("backoff doubles while failures repeat and resets after a delivery") {
  harness h;
  h.buf.append(1);
  uint64_t prev_nominal = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    h.step();
    REQUIRE(h.in_flight.size() == 1);
    h.fail_all(code::transport);
    h.step();
    REQUIRE(h.core.mode() == core_mode::backing_off);
    const uint64_t delay = *h.core.resume_at_ms() - h.now;
    const uint64_t nominal = std::min<uint64_t>(100ull << attempt, 1000);
    CHECK(delay >= nominal / 2);
    CHECK(delay <= nominal);
    CHECK(nominal >= prev_nominal);
    prev_nominal = nominal;
    h.advance(delay);
  }
  h.step();
  h.deliver_all();
  h.step();
  h.buf.append(1);
  h.advance(20);
  h.step();
  h.fail_all(code::transport);
  h.step();
  CHECK(*h.core.resume_at_ms() - h.now <= 100);  // back to the first step
}

TEST_CASE("the same seed gives the same jitter") {
  backoff a(100, 10000, 42), b(100, 10000, 42), c(100, 10000, 43);
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    auto x = a.next_delay_ms();
    CHECK(x == b.next_delay_ms());
    if (x != c.next_delay_ms()) differs = true;
  }
  CHECK(differs);
  CHECK(a.nominal_ms(0) == 100);
  CHECK(a.nominal_ms(3) == 800);
  CHECK(a.nominal_ms(200) == 10000);
}

TEST_CASE("a batch refused as too large: neighbours go again alone, the large row is dead-lettered") {
  harness h;
  for (int i = 1; i <= 3; ++i) h.buf.append(1);
  h.step();
  REQUIRE(h.in_flight.size() == 3);
  // The broker refused the batch: every row in it gets MSG_SIZE_TOO_LARGE.
  h.fail_all(code::msg_size_too_large);
  h.step();
  CHECK(h.core.mode() == core_mode::running);  // no backoff: not the network's fault
  CHECK(h.core.suspects() == 3);
  // Each suspect now goes alone.
  CHECK(h.in_flight.size() == 1);
  CHECK(h.in_flight.front() == 1);
  h.deliver_all();  // 1 was innocent
  h.step();
  REQUIRE(h.in_flight.size() == 1);
  CHECK(h.in_flight.front() == 2);
  h.fail_all(code::msg_size_too_large);  // 2 fails alone: it is the culprit
  h.step();
  REQUIRE(h.in_flight.size() == 1);
  CHECK(h.in_flight.front() == 3);
  h.deliver_all();
  h.drain();
  CHECK(h.buf.rows.empty());
  REQUIRE(h.buf.dead.count(2) == 1);
  CHECK(h.buf.dead[2] == "failed");
  CHECK(h.buf.dead.size() == 1);
  CHECK(h.core.stats().isolated_sends == 3);
  CHECK(h.core.suspects() == 0);
}

TEST_CASE("a row librdkafka refuses at produce time is dead-lettered at once; the rest flows") {
  harness h;
  for (int i = 1; i <= 3; ++i) h.buf.append(1);
  h.next_produce_status = produce_status::failed;
  h.next_produce_error = code::msg_size_too_large;
  h.step();
  CHECK(h.in_flight.size() == 2);
  h.drain();
  CHECK(h.buf.dead.count(1) == 1);
  CHECK(h.buf.rows.empty());
  CHECK(h.core.stats().failures[static_cast<size_t>(error_class::record_final)] == 1);
  CHECK(h.core.stats().settles == 0);
}

TEST_CASE("topic errors are dead-lettered; unknown topics by the policy") {
  SUBCASE("not authorized") {
    harness h;
    h.buf.append(1);
    h.step();
    h.fail_all(code::topic_authorization_failed);
    h.drain();
    CHECK(h.buf.dead.size() == 1);
    CHECK(h.core.stats().dead_lettered_rows == 1);
  }
  SUBCASE("unknown topic, dead-letter") {
    harness h;
    h.buf.append(1);
    h.step();
    h.fail_all(code::unknown_topic);
    h.drain();
    CHECK(h.buf.dead.size() == 1);
  }
  SUBCASE("unknown topic, retry") {
    auto l = small_limits();
    l.unknown_topic_dead_letter = false;
    harness h(l);
    h.buf.append(1);
    h.step();
    h.fail_all(code::unknown_topic);
    h.step();
    CHECK(h.core.mode() == core_mode::backing_off);
    h.drain();
    CHECK(h.buf.dead.empty());
    CHECK(h.buf.rows.empty());
  }
}

TEST_CASE("producer-wide errors never dead-letter; a fatal error recreates the producer") {
  harness h;
  h.buf.append(1);
  h.buf.append(2);
  h.step();
  h.core.on_producer_fatal(h.now);
  h.fail_all(code::fatal);
  h.step();
  CHECK(h.core.mode() == core_mode::backing_off);
  CHECK(h.recreations == 1);
  CHECK(h.core.stats().producer_recreations == 1);
  h.drain();
  CHECK(h.buf.dead.empty());
  CHECK(h.buf.rows.empty());
  CHECK(h.core.stats().failures[static_cast<size_t>(error_class::producer)] == 2);
}

TEST_CASE("a full producer queue blocks until a report or the retry timer") {
  harness h;
  for (int i = 1; i <= 3; ++i) h.buf.append(1);
  h.next_produce_status = produce_status::queue_full;
  h.step();
  CHECK(h.in_flight.empty());
  CHECK(h.core.stats().queue_full == 1);
  CHECK_FALSE(h.core.next_to_produce());
  REQUIRE(h.core.next_deadline_ms(h.now));
  CHECK(*h.core.next_deadline_ms(h.now) == h.now + 10);
  h.advance(10);
  h.step();
  CHECK(h.in_flight.size() == 3);
  CHECK(h.sent == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("a failed remove is retried; the rows are not sent again meanwhile") {
  harness h;
  for (int i = 1; i <= 3; ++i) h.buf.append(1);
  h.fail_removes = true;
  h.step();
  h.deliver_all();
  h.step();
  CHECK(h.core.stats().remove_errors == 1);
  CHECK(h.core.window_rows() == 3);
  // A retriable failure elsewhere resets the cursor: the held rows are skipped, not re-sent.
  h.buf.append(2);
  h.advance(20);
  h.step();
  REQUIRE(h.in_flight.size() == 1);
  h.fail_all(code::transport);
  h.step();
  h.advance(*h.core.resume_at_ms() - h.now);
  h.step();
  CHECK(h.core.stats().skipped_rows == 3);
  CHECK(h.sent == std::vector<int64_t>{1, 2, 3, 4, 4});
  h.fail_removes = false;
  h.drain();
  CHECK(h.buf.rows.empty());
}

TEST_CASE("a failed peek is retried after job_retry_ms") {
  harness h;
  h.buf.append(1);
  h.fail_peeks = true;
  h.step();
  CHECK(h.core.stats().peek_errors == 1);
  CHECK(*h.core.next_deadline_ms(h.now) == h.now + 500);
  h.fail_peeks = false;
  h.advance(500);
  h.step();
  CHECK(h.sent.size() == 1);
}

TEST_CASE("stop waits for reports and removes, then says stopped") {
  harness h;
  for (int i = 1; i <= 3; ++i) h.buf.append(1);
  h.step();
  h.core.stop(h.now);
  CHECK(h.core.mode() == core_mode::stopping);
  h.step();
  CHECK_FALSE(h.core.stopped());
  h.deliver_all();
  h.step();
  CHECK(h.core.stopped());
  CHECK(h.buf.rows.empty());
  harness idle;
  idle.core.stop(idle.now);
  CHECK(idle.core.stopped());
}

TEST_CASE("priorities: a higher priority row goes first; order within a key is kept") {
  harness h;
  h.buf.append(1, 100, 0);
  h.buf.append(1, 100, 0);
  h.buf.append(2, 100, 9);
  h.step();
  CHECK(h.sent == std::vector<int64_t>{3, 1, 2});
}

TEST_CASE("uplink: statistics and reports") {
  harness h;
  CHECK_FALSE(h.core.uplink_up());
  h.core.on_brokers_up(1, h.now);
  CHECK(h.core.uplink_up());
  h.core.on_all_brokers_down(h.now);
  CHECK_FALSE(h.core.uplink_up());
  h.core.on_brokers_up(0, h.now);
  CHECK_FALSE(h.core.uplink_up());
  h.buf.append(1);
  h.step();
  h.deliver_all();
  CHECK(h.core.uplink_up());
  CHECK(h.core.stats().uplink_changes == 3);
}

// ---------------------------------------------------------------------------------------------
// Seeded simulation: a cluster that commits, times out (with or without having committed), purges
// and refuses, with partitions kept in order as idempotence does. Checked: nothing is removed from
// the buffer before the cluster committed it; every row ends committed or dead-lettered; per key,
// first occurrences in the cluster are in seq order; duplicates only from rows that failed.
// ---------------------------------------------------------------------------------------------

namespace {

struct sim_result {
  bool ok = true;
  std::string why;
};

std::string at_seq(const std::string& what, int64_t s) { return what + " " + std::to_string(s); }

sim_result simulate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  core_limits l = small_limits();
  l.batch_rows_max = 1 + rng() % 6;
  l.in_flight_rows_max = l.batch_rows_max + rng() % 10;
  l.remove_batch_rows_max = 1 + rng() % 4;
  harness h(l, seed);
  constexpr int partitions = 3;
  constexpr int keys = 5;
  constexpr int rows_total = 120;
  std::set<int64_t> too_large;
  std::map<int64_t, int> key_of;
  // The cluster: per partition, the messages handed over, in order. After a failure a partition
  // stalls until the purge (idempotence drains the partition, then bumps the epoch).
  std::deque<int64_t> part_queue[partitions];
  bool part_stalled[partitions] = {};
  std::map<int, std::vector<int64_t>> log_by_key;  // committed, in commit order
  std::set<int64_t> committed;
  int appended = 0;
  size_t routed = 0;  // h.sent entries already in a partition queue
  int purges_seen = 0;

  auto commit = [&](int64_t s) {
    log_by_key[key_of[s]].push_back(s);
    committed.insert(s);
  };
  auto route_and_purge = [&] {
    for (int p = 0; p < partitions; ++p) {
      if (part_stalled[p] && part_queue[p].empty()) part_stalled[p] = false;
    }
    for (; routed < h.sent.size(); ++routed) {
      const int64_t s = h.sent[routed];
      part_queue[key_of[s] % partitions].push_back(s);
    }
    h.in_flight.clear();  // tracked per partition here
    // A stalled partition with nothing left drains, bumps its epoch and takes messages again.
    for (int p = 0; p < partitions; ++p) {
      if (part_stalled[p] && part_queue[p].empty()) part_stalled[p] = false;
    }
    if (h.purges == purges_seen) return;
    purges_seen = h.purges;
    // Purge: what was not sent yet fails; the head of a healthy partition is in a request already
    // and will still commit or fail on its own.
    for (int p = 0; p < partitions; ++p) {
      const size_t keep = part_stalled[p] ? 0 : 1;
      while (part_queue[p].size() > keep) {
        const int64_t s = part_queue[p].back();
        part_queue[p].pop_back();
        h.core.on_delivery_failed(gateway_seq(s), code::purge_queue, "purged", h.now);
      }
      part_stalled[p] = false;
    }
  };

  for (int round = 0; round < 20000; ++round) {
    if (appended < rows_total && chance(40)) {
      const int key = static_cast<int>(rng() % keys);
      const int64_t s = h.buf.append(key);
      key_of[s] = key;
      if (chance(3)) too_large.insert(s);
      appended++;
    }
    h.step();
    route_and_purge();
    // The cluster works on one partition's head.
    const int p = static_cast<int>(rng() % partitions);
    if (!part_queue[p].empty() && !part_stalled[p]) {
      const int64_t s = part_queue[p].front();
      part_queue[p].pop_front();
      if (too_large.count(s)) {
        part_stalled[p] = !part_queue[p].empty();  // alone (isolated): nothing behind it to hold
        h.core.on_delivery_failed(gateway_seq(s), code::msg_size_too_large, "too large", h.now);
      } else if (chance(10)) {
        part_stalled[p] = true;
        if (chance(50)) commit(s);  // timed out after the cluster committed it: unknown outcome
        h.core.on_delivery_failed(gateway_seq(s), code::msg_timed_out, "timed out", h.now);
      } else {
        commit(s);
        h.core.on_delivered(gateway_seq(s), h.now);
      }
    }
    h.step();
    route_and_purge();
    // A row gone from the buffer (and not dead-lettered) was committed.
    for (const auto& [s, k] : key_of) {
      if (!h.buf.rows.count(s) && !h.buf.dead.count(s) && !committed.count(s)) {
        return {false, at_seq("removed before committed:", s)};
      }
    }
    h.advance(1 + rng() % 30);
    if (appended == rows_total && h.buf.rows.empty() && h.core.window_rows() == 0) break;
  }
  if (!h.buf.rows.empty()) {
    std::string why =
        "rows left in the buffer: " + std::to_string(h.buf.rows.size()) + " mode " +
        std::string(to_string(h.core.mode())) + " window " + std::to_string(h.core.window_rows()) +
        " in_flight " + std::to_string(h.core.in_flight_rows()) + " unsent " +
        std::to_string(h.core.unsent_rows()) + " suspects " + std::to_string(h.core.suspects()) + " queues";
    for (int p = 0; p < partitions; ++p) {
      why += " [" + std::to_string(part_queue[p].size()) + (part_stalled[p] ? " stalled]" : "]");
    }
    why += " appended " + std::to_string(appended);
    return {false, why};
  }
  for (const auto& [s, k] : key_of) {
    const bool dead = h.buf.dead.count(s) > 0;
    if (dead && !too_large.count(s)) return {false, at_seq("dead-lettered wrongly:", s)};
    if (!dead && !committed.count(s)) return {false, at_seq("lost:", s)};
    if (too_large.count(s) && !dead) return {false, at_seq("too large but not dead-lettered:", s)};
  }
  for (const auto& [k, seqs] : log_by_key) {
    std::set<int64_t> seen;
    int64_t last = 0;
    for (auto s : seqs) {
      if (!seen.insert(s).second) continue;  // a duplicate: the window
      if (s < last) return {false, at_seq("out of order in key " + std::to_string(k) + " at", s)};
      last = s;
    }
  }
  return {};
}

}  // namespace

TEST_CASE("simulation: seeded faults, nothing lost, order per key kept") {
  // TRIB_FWD_SIM_SEEDS=<n> runs more seeds; TRIB_FWD_SIM_SEED=<s> replays one.
  uint64_t first = 1;
  uint64_t count = 50;
  if (const char* n = std::getenv("TRIB_FWD_SIM_SEEDS")) count = std::strtoull(n, nullptr, 10);
  if (const char* one = std::getenv("TRIB_FWD_SIM_SEED")) {
    first = std::strtoull(one, nullptr, 10);
    count = 1;
  }
  for (uint64_t seed = first; seed < first + count; ++seed) {
    auto r = simulate(seed);
    if (!r.ok) {
      FAIL_CHECK("seed " << seed << ": " << r.why);
      break;
    }
  }
}
