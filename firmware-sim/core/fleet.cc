#include "firmware-sim/core/fleet.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/assert.h"
#include "firmware-sim/core/name_template.h"

namespace tributary::sim {
namespace {

int64_t period_us(const group_spec& g) {
  return g.rate_hz > 0 ? std::max<int64_t>(1, std::llround(1e6 / g.rate_hz)) : 0;
}

int64_t ceil_ms(int64_t us) { return us >= 0 ? (us + 999) / 1000 : -((-us) / 1000); }

}  // namespace

std::string_view state_name(device_state s) {
  switch (s) {
    case device_state::unborn: return "unborn";
    case device_state::connecting: return "connecting";
    case device_state::online: return "online";
    case device_state::waiting: return "waiting";
    case device_state::disconnecting: return "disconnecting";
    case device_state::off: return "off";
    case device_state::done: return "done";
  }
  return "?";
}

std::string_view phase_name(fleet_phase p) {
  switch (p) {
    case fleet_phase::running: return "running";
    case fleet_phase::draining: return "draining";
    case fleet_phase::closing: return "closing";
    case fleet_phase::finished: return "finished";
  }
  return "?";
}

// --- reading_queue ------------------------------------------------------------------------------

void fleet::reading_queue::grow() {
  std::vector<pending> bigger(std::max<size_t>(4, buf_.size() * 2));
  for (size_t i = 0; i < size_; ++i) bigger[i] = at(i);
  buf_ = std::move(bigger);
  head_ = 0;
}

void fleet::reading_queue::push_back(const pending& p) {
  if (size_ == buf_.size()) grow();
  buf_[(head_ + size_) % buf_.size()] = p;
  ++size_;
}

void fleet::reading_queue::pop_front() {
  TRIB_ASSERT(size_ > 0);
  head_ = (head_ + 1) % buf_.size();
  --size_;
}

void fleet::reading_queue::pop_back() {
  TRIB_ASSERT(size_ > 0);
  --size_;
}

void fleet::reading_queue::insert_sorted(const pending& p) {
  push_back(p);
  // Bubble towards the head until ordered; re-queued readings are older, so they travel far, but a
  // queue holds at most queue_max + inflight_max readings.
  for (size_t i = size_ - 1; i > 0 && at(i - 1).r.seq > at(i).r.seq; --i) std::swap(at(i - 1), at(i));
}

bool fleet::reading_queue::erase_seq(uint64_t seq) {
  for (size_t i = 0; i < size_; ++i) {
    if (at(i).r.seq != seq) continue;
    for (size_t j = i; j + 1 < size_; ++j) at(j) = at(j + 1);
    --size_;
    return true;
  }
  return false;
}

// --- fleet --------------------------------------------------------------------------------------

fleet::fleet(const scenario& s, int64_t wall_base_ms)
    : spec_(s), wall_base_ms_(wall_base_ms), duration_ms_(std::llround(s.duration_s * 1000)) {
  TRIB_ASSERT(!spec_.groups.empty());
  const uint64_t n = fleet_size(spec_);
  TRIB_ASSERT(n > 0 && n <= fleet_devices_max);
  devices_.resize(n);
  names_.reserve(n);
  device_slot slot = 0;
  for (uint32_t gi = 0; gi < spec_.groups.size(); ++gi) {
    const group_spec& g = spec_.groups[gi];
    for (uint32_t i = 0; i < g.devices; ++i, ++slot) {
      device& dev = devices_[slot];
      dev.group = gi;
      dev.random = rng(derive_seed(spec_.seed, slot + 1));
      dev.skew_ms = static_cast<int32_t>(dev.random.uniform_int(g.skew_min_ms, g.skew_max_ms));
      dev.models = init_models(g.models, dev.random);
      names_.push_back(expand_template(g.name_template, {slot + 1, g.name, {}}));
      const int64_t start_ms =
          spec_.connect_rate > 0 ? static_cast<int64_t>(std::floor(slot * 1000.0 / spec_.connect_rate)) : 0;
      arm(slot, timer_connect, start_ms);
    }
  }
  totals_.in_state[static_cast<size_t>(device_state::unborn)] = static_cast<uint32_t>(n);
}

void fleet::set_wall_base_ms(int64_t wall_base_ms) {
  TRIB_ASSERT(!ticked_, "the wall clock base moves only before the first tick");
  wall_base_ms_ = wall_base_ms;
}

std::string fleet::client_id(device_slot d) const {
  const group_spec& g = group_of(d);
  return expand_template(g.client_id_template, {d + 1, g.name, names_[d]});
}
std::string fleet::username(device_slot d) const {
  const group_spec& g = group_of(d);
  return expand_template(g.username_template, {d + 1, g.name, names_[d]});
}
std::string fleet::password(device_slot d) const {
  const group_spec& g = group_of(d);
  return expand_template(g.password_template, {d + 1, g.name, names_[d]});
}
std::string fleet::topic(device_slot d) const {
  const group_spec& g = group_of(d);
  return expand_template(g.topic_template, {d + 1, g.name, names_[d]});
}

void fleet::arm(device_slot d, timer_kind k, int64_t due_ms) {
  const uint32_t gen = ++devices_[d].timer_gen[k];
  timers_.push({due_ms, d, k, gen});
}

void fleet::set_state(device_slot d, device_state s) {
  device& dev = devices_[d];
  TRIB_ASSERT(totals_.in_state[static_cast<size_t>(dev.state)] > 0);
  --totals_.in_state[static_cast<size_t>(dev.state)];
  ++totals_.in_state[static_cast<size_t>(s)];
  dev.state = s;
}

void fleet::note_queue_depth(device_slot d) {
  device& dev = devices_[d];
  const auto depth = static_cast<uint32_t>(dev.queue.size());
  dev.counters.queue_depth_max = std::max(dev.counters.queue_depth_max, depth);
  totals_.queue_depth_max = std::max(totals_.queue_depth_max, depth);
}

void fleet::power_on(device_slot d, int64_t now_ms, std::vector<action>& out) {
  device& dev = devices_[d];
  const group_spec& g = group_of(d);
  dev.powered = true;
  if (const int64_t p = period_us(g); p > 0) {
    // A random phase spreads the fleet's readings evenly over each period.
    dev.next_reading_us = now_ms * 1000 + static_cast<int64_t>(dev.random.uniform() * static_cast<double>(p));
    arm(d, timer_reading, ceil_ms(dev.next_reading_us));
  }
  set_state(d, device_state::connecting);
  out.push_back({action::kind::connect, d, {}});
  arm_leave(d, now_ms);
}

void fleet::arm_leave(device_slot d, int64_t now_ms) {
  const churn_policy& c = group_of(d).churn;
  if (c.leave_per_hour <= 0) return;
  const double mean_ms = 3'600'000.0 / c.leave_per_hour;
  const double wait = std::clamp(devices_[d].random.exponential(mean_ms), 1.0, 1e12);
  arm(d, timer_churn, now_ms + static_cast<int64_t>(wait));
}

void fleet::take_readings(device_slot d, int64_t now_ms) {
  device& dev = devices_[d];
  const group_spec& g = group_of(d);
  const int64_t p = period_us(g);
  if (p == 0) return;
  const int64_t now_us = now_ms * 1000;
  uint32_t taken = 0;
  while (dev.next_reading_us <= now_us && taken < catch_up_readings_max) {
    pending item;
    item.r.device_index = d + 1;
    item.r.seq = dev.next_seq++;
    item.r.ts_ms = wall_base_ms_ + dev.next_reading_us / 1000 + dev.skew_ms;
    item.r.values = step_models(g.models, dev.models, dev.random, static_cast<double>(p) / 1e6);
    ++dev.counters.generated;
    ++totals_.generated;
    dev.queue.push_back(item);
    ++totals_.queued;
    dev.next_reading_us += p;
    ++taken;
  }
  if (dev.next_reading_us <= now_us) {  // far behind: skip the missed ticks rather than burst
    const int64_t missed = (now_us - dev.next_reading_us) / p + 1;
    totals_.readings_skipped += static_cast<uint64_t>(missed);
    dev.next_reading_us += missed * p;
  }
  note_queue_depth(d);
  arm(d, timer_reading, ceil_ms(dev.next_reading_us));
}

void fleet::trim_queue(device_slot d) {
  device& dev = devices_[d];
  const group_spec& g = group_of(d);
  while (dev.queue.size() > g.queue_max) {
    if (g.overflow == overflow_policy::drop_oldest) {
      dev.queue.pop_front();
    } else {
      dev.queue.pop_back();
    }
    --totals_.queued;
    ++dev.counters.dropped;
    ++totals_.dropped;
  }
}

void fleet::pump(device_slot d, std::vector<action>& out) {
  device& dev = devices_[d];
  if (dev.state != device_state::online) return;
  const group_spec& g = group_of(d);
  while (dev.inflight.size() < g.inflight_max && !dev.queue.empty()) {
    pending p = dev.queue.front();
    dev.queue.pop_front();
    --totals_.queued;
    if (++p.sends > 1) {
      ++dev.counters.resent;
      ++totals_.resent;
    }
    ++dev.counters.sent;
    ++totals_.sent;
    dev.inflight.push_back(p);
    ++totals_.inflight;
    out.push_back({action::kind::publish, d, p.r});
  }
}

void fleet::requeue_inflight(device_slot d) {
  device& dev = devices_[d];
  for (const pending& p : dev.inflight) dev.queue.insert_sorted(p);
  totals_.queued += dev.inflight.size();
  totals_.inflight -= dev.inflight.size();
  dev.inflight.clear();
  note_queue_depth(d);
}

void fleet::schedule_reconnect(device_slot d, int64_t now_ms) {
  device& dev = devices_[d];
  ++dev.attempt;
  const uint32_t delay = backoff_delay_ms(group_of(d).backoff, dev.attempt, dev.random);
  dev.counters.backoff_ms_max = std::max(dev.counters.backoff_ms_max, delay);
  totals_.backoff_ms_max = std::max(totals_.backoff_ms_max, delay);
  set_state(d, device_state::waiting);
  arm(d, timer_connect, now_ms + delay);
}

void fleet::fire(const timer& t, int64_t now_ms, std::vector<action>& out) {
  const device_slot d = t.device;
  device& dev = devices_[d];
  if (dev.timer_gen[t.kind] != t.gen) return;  // re-armed or cancelled since
  switch (t.kind) {
    case timer_reading:
      if (!dev.powered || phase_ != fleet_phase::running) return;
      take_readings(d, now_ms);
      pump(d, out);
      trim_queue(d);
      return;
    case timer_connect:
      if (dev.state == device_state::unborn) {
        if (phase_ == fleet_phase::running) power_on(d, now_ms, out);
      } else if (dev.state == device_state::waiting) {
        if (phase_ == fleet_phase::running || phase_ == fleet_phase::draining) {
          set_state(d, device_state::connecting);
          out.push_back({action::kind::connect, d, {}});
        } else {
          set_state(d, device_state::done);
        }
      }
      return;
    case timer_churn:
      if (dev.state == device_state::online && dev.powered && phase_ == fleet_phase::running) {
        // Leave: power off cleanly. What is in flight goes back to the queue (kept, like flash).
        ++dev.counters.leaves;
        ++totals_.leaves;
        dev.powered = false;
        disarm(d, timer_reading);
        requeue_inflight(d);
        trim_queue(d);
        dev.leaving = true;
        set_state(d, device_state::disconnecting);
        out.push_back({action::kind::disconnect, d, {}});
      } else if (dev.state == device_state::off) {
        if (phase_ == fleet_phase::running) {
          ++totals_.rejoins;
          power_on(d, now_ms, out);
        } else if (phase_ == fleet_phase::draining && unsent(d) > 0) {
          ++totals_.rejoins;  // comes back only to deliver what it kept
          set_state(d, device_state::connecting);
          out.push_back({action::kind::connect, d, {}});
        } else {
          set_state(d, device_state::done);
        }
      } else if (dev.powered && phase_ == fleet_phase::running) {
        arm_leave(d, now_ms);  // not online right now: try again later
      }
      return;
    default: TRIB_ASSERT(false, "unknown timer kind");
  }
}

void fleet::tick(int64_t now_ms, std::vector<action>& out) {
  ticked_ = true;
  now_ms_ = std::max(now_ms_, now_ms);
  const int64_t now = now_ms_;
  if (phase_ == fleet_phase::running && (now >= duration_ms_ || stop_requested_)) {
    phase_ = fleet_phase::draining;
    run_ended_ms_ = now;
    drain_deadline_ms_ = now + (stop_immediately_ ? 0 : spec_.drain_ms);
  }
  while (!timers_.empty() && timers_.top().due_ms <= now) {
    const timer t = timers_.top();
    timers_.pop();
    fire(t, now, out);
  }
  if (phase_ == fleet_phase::draining) {
    if (stop_immediately_) drain_deadline_ms_ = std::min(drain_deadline_ms_, now);
    if (totals_.queued + totals_.inflight == 0 || now >= drain_deadline_ms_) enter_closing(now, out);
  }
  if (phase_ == fleet_phase::closing) {
    const auto in = [&](device_state s) { return totals_.in_state[static_cast<size_t>(s)]; };
    const uint32_t active =
        in(device_state::connecting) + in(device_state::online) + in(device_state::disconnecting);
    if (active == 0 || now >= close_deadline_ms_) phase_ = fleet_phase::finished;
  }
}

void fleet::enter_closing(int64_t now_ms, std::vector<action>& out) {
  phase_ = fleet_phase::closing;
  close_deadline_ms_ = now_ms + (stop_immediately_ ? 0 : spec_.close_ms);
  for (device_slot d = 0; d < devices_.size(); ++d) {
    device& dev = devices_[d];
    dev.powered = false;
    dev.leaving = false;
    switch (dev.state) {
      case device_state::online:
        requeue_inflight(d);
        set_state(d, device_state::disconnecting);
        out.push_back({action::kind::disconnect, d, {}});
        break;
      case device_state::waiting:
      case device_state::off: set_state(d, device_state::done); break;
      case device_state::unborn:  // never started: stays unborn in the report
      case device_state::connecting:
      case device_state::disconnecting:
      case device_state::done: break;
    }
  }
}

void fleet::request_stop(int64_t now_ms, bool immediately) {
  stop_requested_ = true;
  if (immediately) {
    stop_immediately_ = true;
    if (phase_ == fleet_phase::draining) drain_deadline_ms_ = std::min(drain_deadline_ms_, now_ms);
    if (phase_ == fleet_phase::closing) close_deadline_ms_ = std::min(close_deadline_ms_, now_ms);
  }
}

int64_t fleet::next_due_ms() const {
  int64_t due = timers_.empty() ? std::numeric_limits<int64_t>::max() : timers_.top().due_ms;
  switch (phase_) {
    case fleet_phase::running: return std::min(due, duration_ms_);
    case fleet_phase::draining: return std::min(due, drain_deadline_ms_);
    case fleet_phase::closing: return std::min(due, close_deadline_ms_);
    case fleet_phase::finished: return std::numeric_limits<int64_t>::max();
  }
  return due;
}

void fleet::on_connected(device_slot d, int64_t now_ms, std::vector<action>& out) {
  (void)now_ms;
  device& dev = devices_[d];
  if (dev.state != device_state::connecting) {
    ++totals_.stale_events;
    return;
  }
  ++dev.counters.connects;
  ++totals_.connects;
  if (dev.counters.connects > 1) ++totals_.reconnects;
  dev.attempt = 0;
  if (phase_ == fleet_phase::closing || phase_ == fleet_phase::finished) {
    set_state(d, device_state::disconnecting);
    out.push_back({action::kind::disconnect, d, {}});
    return;
  }
  set_state(d, device_state::online);
  pump(d, out);
}

void fleet::on_connect_failed(device_slot d, int64_t now_ms, std::vector<action>& out) {
  (void)out;
  device& dev = devices_[d];
  if (dev.state != device_state::connecting) {
    ++totals_.stale_events;
    return;
  }
  ++dev.counters.connect_failures;
  ++totals_.connect_failures;
  if (phase_ == fleet_phase::closing || phase_ == fleet_phase::finished) {
    set_state(d, device_state::done);
    return;
  }
  schedule_reconnect(d, now_ms);
}

void fleet::on_connection_lost(device_slot d, int64_t now_ms, std::vector<action>& out) {
  device& dev = devices_[d];
  if (dev.state == device_state::disconnecting) {  // lost while saying goodbye: the same outcome
    on_disconnected(d, now_ms, out);
    return;
  }
  if (dev.state != device_state::online) {
    ++totals_.stale_events;
    return;
  }
  ++dev.counters.connection_losses;
  ++totals_.connection_losses;
  requeue_inflight(d);
  trim_queue(d);
  if (phase_ == fleet_phase::closing || phase_ == fleet_phase::finished) {
    set_state(d, device_state::done);
    return;
  }
  dev.attempt = 0;
  schedule_reconnect(d, now_ms);
}

void fleet::on_disconnected(device_slot d, int64_t now_ms, std::vector<action>& out) {
  (void)out;
  device& dev = devices_[d];
  if (dev.state != device_state::disconnecting) {
    ++totals_.stale_events;
    return;
  }
  requeue_inflight(d);
  trim_queue(d);
  if (dev.leaving && (phase_ == fleet_phase::running || phase_ == fleet_phase::draining)) {
    dev.leaving = false;
    set_state(d, device_state::off);
    const churn_policy& c = group_of(d).churn;
    arm(d, timer_churn, now_ms + dev.random.uniform_int(c.absent_min_ms, c.absent_max_ms));
    return;
  }
  dev.leaving = false;
  set_state(d, device_state::done);
}

void fleet::on_published(device_slot d, uint64_t seq, int64_t now_ms, std::vector<action>& out) {
  (void)now_ms;
  device& dev = devices_[d];
  if (seq == 0 || seq >= dev.next_seq) {
    ++totals_.stale_events;
    return;
  }
  auto it = std::find_if(dev.inflight.begin(), dev.inflight.end(),
                         [&](const pending& p) { return p.r.seq == seq; });
  if (it != dev.inflight.end()) {
    dev.inflight.erase(it);
    --totals_.inflight;
  } else if (dev.queue.erase_seq(seq)) {  // acknowledged after it was re-queued: no need to send it again
    --totals_.queued;
  }
  if (dev.acked.insert(seq)) {
    ++dev.counters.acked;
    ++totals_.acked;
  } else {
    ++totals_.duplicate_acks;
  }
  pump(d, out);
}

void fleet::on_publish_failed(device_slot d, uint64_t seq, int64_t now_ms, std::vector<action>& out) {
  (void)now_ms;
  (void)out;
  device& dev = devices_[d];
  auto it = std::find_if(dev.inflight.begin(), dev.inflight.end(),
                         [&](const pending& p) { return p.r.seq == seq; });
  if (it == dev.inflight.end()) {  // already re-queued (connection lost first) or acknowledged
    ++totals_.stale_events;
    return;
  }
  ++dev.counters.publish_failures;
  ++totals_.publish_failures;
  const pending p = *it;
  dev.inflight.erase(it);
  --totals_.inflight;
  // Back to the queue; it goes out again with the next reading or after a reconnect (not at once, which
  // could spin on a broken connection).
  dev.queue.insert_sorted(p);
  ++totals_.queued;
  note_queue_depth(d);
  trim_queue(d);
}

}  // namespace tributary::sim
