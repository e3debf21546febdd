#include "gateway/forwarder/core/forward_core.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::gateway::forwarder {

namespace {
constexpr uint64_t rate_bucket_ms = 1000;

uint64_t sub_floor(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// Errors that say the cluster cannot be reached (as opposed to refusing something).
bool unreachable(int32_t error_code) {
  return error_code == code::msg_timed_out || error_code == code::transport ||
         error_code == code::timed_out || error_code == code::all_brokers_down;
}
}  // namespace

std::string_view to_string(core_mode m) {
  switch (m) {
    case core_mode::running: return "running";
    case core_mode::settling: return "settling";
    case core_mode::backing_off: return "backing_off";
    case core_mode::stopping: return "stopping";
    case core_mode::stopped: return "stopped";
  }
  return "running";
}

forward_core::forward_core(const core_limits& limits, uint64_t seed)
    : limits_(limits),
      backoff_(limits.retry_backoff_min_ms, limits.retry_backoff_max_ms, seed),
      drained_(std::max<uint64_t>(rate_bucket_ms, limits.rate_window_ms / rate_bucket_ms * rate_bucket_ms),
               rate_bucket_ms) {
  TRIB_ASSERT(limits.batch_rows_max >= 1 && limits.batch_bytes_max >= 1, "batch limits");
  TRIB_ASSERT(limits.in_flight_rows_max >= 1 && limits.in_flight_bytes_max >= 1, "window limits");
  TRIB_ASSERT(limits.remove_batch_rows_max >= 1 && limits.dead_letter_batch_max >= 1, "job limits");
}

// ---------------------------------------------------------------------------------------------
// Producing
// ---------------------------------------------------------------------------------------------

std::optional<gateway_seq> forward_core::next_to_produce() const {
  if (mode_ != core_mode::running || blocked_ || isolating_ || unsent_.empty()) return std::nullopt;
  const gateway_seq s = unsent_.front();
  // A suspect goes alone: only once everything before it has its report.
  if (suspects_.count(s.value) && in_flight_ > 0) return std::nullopt;
  return s;
}

void forward_core::on_produce(gateway_seq seq, produce_status status, int32_t error_code,
                              std::string_view reason, uint64_t now_ms) {
  TRIB_ASSERT(!unsent_.empty() && unsent_.front() == seq, "rows are produced in peek order");
  auto it = window_.find(seq.value);
  TRIB_ASSERT(it != window_.end() && it->second.state == row_state::unsent);
  switch (status) {
    case produce_status::accepted:
      unsent_.pop_front();
      it->second.state = row_state::in_flight;
      in_flight_++;
      if (limits_.delivery_timeout_ms > 0) sent_.emplace_back(seq.value, now_ms);
      stats_.produced_rows++;
      if (suspects_.count(seq.value)) {
        TRIB_ASSERT(in_flight_ == 1, "a suspect is alone in flight");
        isolating_ = seq.value;
        stats_.isolated_sends++;
      }
      return;
    case produce_status::queue_full:
      // The row stays first; a delivery report (room in the producer) or the timer unblocks.
      blocked_ = true;
      blocked_until_ = now_ms + limits_.queue_full_retry_ms;
      stats_.queue_full++;
      return;
    case produce_status::failed:
      unsent_.pop_front();
      handle_failure(seq, classify(error_code, error_origin::produce_call), error_code, reason, false,
                     now_ms);
      maybe_settled(now_ms);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

void forward_core::on_delivered(gateway_seq seq, uint64_t now_ms) {
  auto it = window_.find(seq.value);
  TRIB_ASSERT(it != window_.end() && it->second.state == row_state::in_flight,
              "a report for a row in flight");
  TRIB_ASSERT(in_flight_ > 0);
  in_flight_--;
  blocked_ = false;
  it->second.state = row_state::acked;
  acked_.push_back(seq);
  stats_.delivered_rows++;
  stats_.delivered_bytes += it->second.bytes;
  drained_.add(now_ms, 1);
  if (isolating_ && *isolating_ == seq.value) isolating_.reset();
  suspects_.erase(seq.value);
  backoff_.reset();
  set_uplink(true);
  prune_sent();
  maybe_settled(now_ms);
}

void forward_core::on_delivery_failed(gateway_seq seq, int32_t error_code, std::string_view reason,
                                      uint64_t now_ms) {
  auto it = window_.find(seq.value);
  TRIB_ASSERT(it != window_.end() && it->second.state == row_state::in_flight,
              "a report for a row in flight");
  TRIB_ASSERT(in_flight_ > 0);
  in_flight_--;
  blocked_ = false;
  handle_failure(seq, classify(error_code, error_origin::delivery), error_code, reason, true, now_ms);
  prune_sent();
  maybe_settled(now_ms);
}

bool forward_core::is_in_flight(int64_t seq) const {
  auto it = window_.find(seq);
  return it != window_.end() && it->second.state == row_state::in_flight;
}

void forward_core::prune_sent() {
  while (!sent_.empty() && !is_in_flight(sent_.front().first)) sent_.pop_front();
  TRIB_ASSERT(in_flight_ > 0 || sent_.empty(), "nothing in flight: nothing sent without a report");
}

std::optional<uint64_t> forward_core::delivery_deadline_ms() const {
  if (limits_.delivery_timeout_ms == 0 || sent_.empty() || mode_ == core_mode::stopped) return std::nullopt;
  return std::max(sent_.front().second + limits_.delivery_timeout_ms, timeout_purge_at_);
}

void forward_core::handle_failure(gateway_seq seq, error_class cls, int32_t error_code,
                                  std::string_view reason, bool was_in_flight, uint64_t now_ms) {
  (void)now_ms;
  stats_.failures[static_cast<size_t>(cls)]++;
  const bool isolated = isolating_ && *isolating_ == seq.value;
  if (isolated) isolating_.reset();
  if (cls == error_class::unknown_topic) {
    cls = limits_.unknown_topic_dead_letter ? error_class::topic : error_class::retriable;
  }
  switch (cls) {
    case error_class::record:
      if (isolated) {  // refused alone: it is this row
        dead_letter(seq, std::string(reason));
        return;
      }
      // Refused in a batch: maybe a neighbour's fault. Send it again alone.
      if (suspects_.size() >= limits_.in_flight_rows_max) suspects_.erase(suspects_.begin());
      suspects_.insert(seq.value);
      erase_row(seq);
      stats_.resent_rows++;
      begin_settle(false);
      return;
    case error_class::record_final:
    case error_class::topic: dead_letter(seq, std::string(reason)); return;
    case error_class::unknown_topic:  // mapped above
    case error_class::retriable:
    case error_class::producer:
      erase_row(seq);
      stats_.resent_rows++;
      if (was_in_flight && unreachable(error_code)) set_uplink(false);
      begin_settle(true);
      return;
  }
}

void forward_core::on_producer_fatal(uint64_t now_ms) {
  if (mode_ == core_mode::stopping || mode_ == core_mode::stopped) return;
  fatal_ = true;
  begin_settle(true);
  maybe_settled(now_ms);
}

void forward_core::on_brokers_up(size_t up, uint64_t) { set_uplink(up > 0); }
void forward_core::on_all_brokers_down(uint64_t) { set_uplink(false); }

void forward_core::set_uplink(bool up) {
  if (up == uplink_up_) return;
  uplink_up_ = up;
  stats_.uplink_changes++;
}

// ---------------------------------------------------------------------------------------------
// Settling: stop, purge, wait for every report, then read again (after a backoff)
// ---------------------------------------------------------------------------------------------

void forward_core::begin_settle(bool with_backoff) {
  if (mode_ == core_mode::stopping || mode_ == core_mode::stopped) {
    drop_unsent();
    return;
  }
  if (mode_ != core_mode::settling) {
    mode_ = core_mode::settling;
    stats_.settles++;
    settle_backoff_ = false;
    purge_pending_ = true;  // once per settle: younger rows must not overtake the failed one
  }
  settle_backoff_ = settle_backoff_ || with_backoff;
  blocked_ = false;
  drop_unsent();
}

void forward_core::drop_unsent() {
  if (unsent_.empty()) return;
  for (auto s : unsent_) erase_row(s);
  unsent_.clear();
  drop_pending_ = true;
}

void forward_core::maybe_settled(uint64_t now_ms) {
  if (mode_ == core_mode::settling && in_flight_ == 0 && !peek_outstanding_) {
    if (fatal_) {
      fatal_ = false;
      recreate_pending_ = true;
      stats_.producer_recreations++;
      settle_backoff_ = true;
    }
    if (settle_backoff_) {
      const uint64_t d = backoff_.next_delay_ms();
      stats_.backoffs++;
      stats_.backoff_ms_total += d;
      resume_at_ = now_ms + d;
      mode_ = core_mode::backing_off;
    } else {
      mode_ = core_mode::running;
      reset_cursor_ = true;
      idle_until_ = 0;
    }
  }
  if (mode_ == core_mode::stopping && in_flight_ == 0 && !peek_outstanding_ && acked_.empty() &&
      !remove_outstanding_ && dead_letters_.empty() && !dead_letter_outstanding_) {
    TRIB_ASSERT(unsent_.empty());
    mode_ = core_mode::stopped;
  }
}

void forward_core::tick(uint64_t now_ms) {
  if (blocked_ && now_ms >= blocked_until_) blocked_ = false;
  if (auto d = delivery_deadline_ms(); d && now_ms >= *d) {
    // The oldest row in flight has waited too long. Not the producer's own timeout: that one fails
    // the head of a partition's queue and goes on sending the rest. Everything goes, then a settle.
    stats_.delivery_timeouts++;
    purge_in_flight_pending_ = true;
    timeout_purge_at_ = now_ms + limits_.delivery_timeout_ms;  // reports that never come: again later
    set_uplink(false);
    begin_settle(true);
  }
  if (mode_ == core_mode::backing_off && now_ms >= resume_at_) {
    mode_ = core_mode::running;
    reset_cursor_ = true;
    idle_until_ = 0;
  }
}

std::optional<uint64_t> forward_core::resume_at_ms() const {
  if (mode_ == core_mode::backing_off) return resume_at_;
  return std::nullopt;
}

std::optional<uint64_t> forward_core::next_deadline_ms(uint64_t now_ms) const {
  std::optional<uint64_t> best;
  auto consider = [&](uint64_t t) {
    if (t > now_ms && (!best || t < *best)) best = t;
  };
  if (blocked_) consider(blocked_until_);
  if (auto d = delivery_deadline_ms()) consider(*d);
  if (mode_ == core_mode::backing_off) consider(resume_at_);
  if (mode_ == core_mode::running && !peek_outstanding_ && unsent_.empty()) {
    consider(idle_until_);
    consider(peek_retry_at_);
  }
  if (!remove_outstanding_ && !acked_.empty()) consider(remove_retry_at_);
  if (!dead_letter_outstanding_ && !dead_letters_.empty()) consider(dead_letter_retry_at_);
  return best;
}

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

core_actions forward_core::take_actions(uint64_t now_ms) {
  tick(now_ms);
  core_actions a;
  if (drop_pending_) {
    a.drop_unsent = true;
    drop_pending_ = false;
  }
  if (purge_pending_) {
    a.purge_unsent = true;
    purge_pending_ = false;
  }
  if (purge_in_flight_pending_) {
    a.purge_unsent = true;
    a.purge_in_flight = true;
    purge_in_flight_pending_ = false;
  }
  if (recreate_pending_) {
    a.recreate_producer = true;
    recreate_pending_ = false;
  }
  if (!dead_letter_outstanding_ && !dead_letters_.empty() && now_ms >= dead_letter_retry_at_) {
    while (!dead_letters_.empty() && a.dead_letter.size() < limits_.dead_letter_batch_max) {
      a.dead_letter.push_back(std::move(dead_letters_.front()));
      dead_letters_.pop_front();
    }
    dead_letter_outstanding_ = true;
  }
  if (!remove_outstanding_ && !acked_.empty() && now_ms >= remove_retry_at_) {
    const size_t n = std::min(acked_.size(), limits_.remove_batch_rows_max);
    a.remove.assign(acked_.begin(), acked_.begin() + static_cast<std::ptrdiff_t>(n));
    acked_.erase(acked_.begin(), acked_.begin() + static_cast<std::ptrdiff_t>(n));
    for (auto s : a.remove) window_.at(s.value).state = row_state::removing;
    removing_ = a.remove;
    remove_outstanding_ = true;
  }
  if (mode_ == core_mode::running && !peek_outstanding_ && unsent_.empty() && !isolating_ &&
      now_ms >= idle_until_ && now_ms >= peek_retry_at_) {
    const uint64_t room_rows = sub_floor(limits_.in_flight_rows_max, window_.size());
    const uint64_t room_bytes = sub_floor(limits_.in_flight_bytes_max, window_bytes_);
    // Read a useful batch or nothing: wait until half a batch fits (or the window is empty).
    const uint64_t want_rows =
        std::max<uint64_t>(1, std::min<uint64_t>(limits_.batch_rows_max, limits_.in_flight_rows_max) / 2);
    const uint64_t want_bytes =
        std::max<uint64_t>(1, std::min<uint64_t>(limits_.batch_bytes_max, limits_.in_flight_bytes_max) / 2);
    if (window_.empty() || (room_rows >= want_rows && room_bytes >= want_bytes)) {
      peek_request p;
      p.rows_max =
          static_cast<size_t>(std::min<uint64_t>(limits_.batch_rows_max, std::max<uint64_t>(room_rows, 1)));
      p.bytes_max = std::min<uint64_t>(limits_.batch_bytes_max, std::max<uint64_t>(room_bytes, 1));
      p.reset_cursor = reset_cursor_;
      reset_cursor_ = false;
      last_peek_ = p;
      peek_outstanding_ = true;
      stats_.peeks++;
      a.peek = p;
    }
  }
  return a;
}

std::vector<bool> forward_core::on_peeked(std::span<const row_info> rows, uint64_t now_ms) {
  TRIB_ASSERT(peek_outstanding_, "a peek result without a peek");
  peek_outstanding_ = false;
  std::vector<bool> taken(rows.size(), false);
  if (mode_ != core_mode::running) {  // settling or stopping: a reset peek follows
    maybe_settled(now_ms);
    return taken;
  }
  stats_.peeked_rows += rows.size();
  uint64_t bytes = 0;
  size_t skipped = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const row_info& r = rows[i];
    bytes += r.bytes;
    auto it = window_.find(r.seq.value);
    if (it != window_.end()) {
      // Still held after a reset: its remove or dead-letter job has not committed yet.
      TRIB_ASSERT(it->second.state == row_state::acked || it->second.state == row_state::removing ||
                      it->second.state == row_state::dead_lettering,
                  "a cursor hands a row out once between resets");
      stats_.skipped_rows++;
      skipped++;
      continue;
    }
    window_.emplace(r.seq.value, entry{r.bytes, row_state::unsent});
    window_bytes_ += r.bytes;
    unsent_.push_back(r.seq);
    taken[i] = true;
  }
  // Fewer rows than asked and well under the byte limit: the buffer is drained for now. Only rows
  // still held: wait for their jobs rather than read them again at once.
  const bool drained = rows.size() < last_peek_.rows_max && bytes < last_peek_.bytes_max / 2;
  if (drained || (!rows.empty() && skipped == rows.size())) idle_until_ = now_ms + limits_.idle_poll_ms;
  return taken;
}

void forward_core::on_peek_failed(uint64_t now_ms) {
  TRIB_ASSERT(peek_outstanding_, "a peek result without a peek");
  peek_outstanding_ = false;
  stats_.peek_errors++;
  if (last_peek_.reset_cursor) reset_cursor_ = true;
  idle_until_ = 0;
  peek_retry_at_ = now_ms + limits_.job_retry_ms;
  maybe_settled(now_ms);
}

void forward_core::on_removed(std::span<const gateway_seq> seqs, bool ok, uint64_t now_ms) {
  TRIB_ASSERT(remove_outstanding_, "a remove result without a remove");
  TRIB_ASSERT(seqs.size() == removing_.size() && std::equal(seqs.begin(), seqs.end(), removing_.begin()),
              "the remove answered is the one asked");
  remove_outstanding_ = false;
  if (ok) {
    for (auto s : seqs) erase_row(s);
    stats_.removed_rows += seqs.size();
  } else {
    // The rows are still in the buffer: they stay acked and the remove runs again later.
    stats_.remove_errors++;
    for (auto s : seqs) window_.at(s.value).state = row_state::acked;
    acked_.insert(acked_.begin(), seqs.begin(), seqs.end());
    remove_retry_at_ = now_ms + limits_.job_retry_ms;
  }
  removing_.clear();
  maybe_settled(now_ms);
}

void forward_core::on_dead_lettered(std::span<const dead_letter_request> requests,
                                    const std::vector<bool>& ok, uint64_t now_ms) {
  TRIB_ASSERT(dead_letter_outstanding_, "a dead-letter result without a job");
  TRIB_ASSERT(requests.size() == ok.size());
  dead_letter_outstanding_ = false;
  bool failed = false;
  for (size_t i = requests.size(); i-- > 0;) {
    if (ok[i]) {
      erase_row(requests[i].seq);
      stats_.dead_lettered_rows++;
    } else {
      failed = true;
      stats_.dead_letter_errors++;
      dead_letters_.push_front(requests[i]);
    }
  }
  if (failed) dead_letter_retry_at_ = now_ms + limits_.job_retry_ms;
  maybe_settled(now_ms);
}

void forward_core::dead_letter(gateway_seq seq, std::string reason) {
  auto it = window_.find(seq.value);
  TRIB_ASSERT(it != window_.end());
  it->second.state = row_state::dead_lettering;
  suspects_.erase(seq.value);
  dead_letters_.push_back(dead_letter_request{seq, std::move(reason)});
  stats_.dead_letter_requests++;
}

void forward_core::erase_row(gateway_seq seq) {
  auto it = window_.find(seq.value);
  TRIB_ASSERT(it != window_.end());
  TRIB_ASSERT(window_bytes_ >= it->second.bytes);
  window_bytes_ -= it->second.bytes;
  window_.erase(it);
}

void forward_core::stop(uint64_t now_ms) {
  if (mode_ == core_mode::stopping || mode_ == core_mode::stopped) return;
  mode_ = core_mode::stopping;
  drop_unsent();
  maybe_settled(now_ms);
}

void forward_core::check_invariants() const {
  uint64_t bytes = 0;
  size_t in_flight = 0;
  size_t unsent = 0;
  size_t acked = 0;
  size_t removing = 0;
  size_t dead = 0;
  for (const auto& [seq, e] : window_) {
    bytes += e.bytes;
    switch (e.state) {
      case row_state::unsent: unsent++; break;
      case row_state::in_flight: in_flight++; break;
      case row_state::acked: acked++; break;
      case row_state::removing: removing++; break;
      case row_state::dead_lettering: dead++; break;
    }
  }
  TRIB_ASSERT(bytes == window_bytes_, "window bytes");
  TRIB_ASSERT(in_flight == in_flight_, "rows in flight");
  TRIB_ASSERT(unsent == unsent_.size(), "unsent rows");
  TRIB_ASSERT(acked == acked_.size(), "acked rows");
  TRIB_ASSERT(removing == removing_.size(), "rows being removed");
  size_t dead_queued = dead_letters_.size();
  TRIB_ASSERT(dead >= dead_queued, "dead letters");
  TRIB_ASSERT(!isolating_ || (in_flight_ == 1 && window_.at(*isolating_).state == row_state::in_flight),
              "a suspect goes alone");
  // Every row in flight is in sent_ exactly once, the oldest first.
  std::set<int64_t> sent_in_flight;
  for (const auto& [seq, at] : sent_) {
    if (is_in_flight(seq)) TRIB_ASSERT(sent_in_flight.insert(seq).second, "a row in flight sent twice");
  }
  TRIB_ASSERT(sent_in_flight.size() == (limits_.delivery_timeout_ms > 0 ? in_flight_ : 0),
              "rows in flight and their produce times");
  TRIB_ASSERT(sent_.empty() || is_in_flight(sent_.front().first), "the oldest row sent is in flight");
  if (mode_ == core_mode::backing_off) TRIB_ASSERT(in_flight_ == 0 && unsent_.empty());
  if (mode_ == core_mode::stopped) TRIB_ASSERT(window_.empty());
}

}  // namespace tributary::gateway::forwarder
