#pragma once
// The fleet core: every virtual device's firmware behaviour, as a pure state machine.
//
// It owns the devices (models, sequence numbers, offline queues, connection state, backoff, churn,
// clock skew) and a timer heap, and never does I/O. The adapter (io/paho_fleet) calls tick(now) and
// the on_*() event functions with the time since the run started, and carries out the actions they
// append: connect a device, publish a reading, disconnect a device.
//
// A device's life:
//   unborn --ramp-up--> connecting --ok--> online --lost--> waiting --backoff--> connecting ...
//                                   \--fail--> waiting                online --churn--> disconnecting --> off
//   off --absence over--> connecting;   at the end: draining (deliver what is queued), closing, done.
// A powered device takes a reading every 1/rate_hz seconds whatever its connection state; readings wait in
// the bounded offline queue, and an online device publishes from its queue while fewer than inflight_max
// publishes await acknowledgement. A lost connection puts the unacknowledged readings back at the head of
// the queue (so they are sent again: at-least-once, as firmware does).
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "firmware-sim/core/models.h"
#include "firmware-sim/core/reading.h"
#include "firmware-sim/core/rng.h"
#include "firmware-sim/core/scenario.h"
#include "firmware-sim/core/seq_ranges.h"

namespace tributary::sim {

using device_slot = uint32_t;  // 0-based position in the fleet; the reading's device index is slot + 1

enum class device_state : uint8_t { unborn, connecting, online, waiting, disconnecting, off, done };
inline constexpr size_t device_state_count = 7;
std::string_view state_name(device_state s);

enum class fleet_phase : uint8_t { running, draining, closing, finished };
std::string_view phase_name(fleet_phase p);

struct action {
  enum class kind : uint8_t { connect, publish, disconnect };
  kind what = kind::connect;
  device_slot device = 0;
  reading r;  // publish only
};

// Per-device counters, reported at the end.
struct device_counters {
  uint64_t generated = 0;         // readings taken
  uint64_t sent = 0;              // publishes issued, including re-sends
  uint64_t resent = 0;            // publishes of a reading sent before
  uint64_t acked = 0;             // distinct readings acknowledged
  uint64_t dropped = 0;           // readings dropped because the offline queue was full
  uint64_t publish_failures = 0;  // publishes the client reported failed
  uint32_t connects = 0;          // successful connections
  uint32_t connect_failures = 0;
  uint32_t connection_losses = 0;
  uint32_t leaves = 0;  // churn
  uint32_t backoff_ms_max = 0;
  uint32_t queue_depth_max = 0;
};

// Fleet-wide sums and gauges, kept up to date incrementally (progress line, report).
struct fleet_totals {
  uint64_t generated = 0, sent = 0, resent = 0, acked = 0, dropped = 0, publish_failures = 0;
  uint64_t duplicate_acks = 0;  // an acknowledgement for a reading already acknowledged (re-sent copy)
  uint64_t stale_events = 0;    // events that did not fit the device's state (ignored)
  uint64_t connects = 0, reconnects = 0, connect_failures = 0, connection_losses = 0, leaves = 0, rejoins = 0;
  uint64_t readings_skipped = 0;  // reading ticks skipped because the driver fell far behind
  uint32_t backoff_ms_max = 0;
  uint32_t queue_depth_max = 0;
  uint64_t queued = 0;                         // gauge: readings in offline queues
  uint64_t inflight = 0;                       // gauge: publishes awaiting acknowledgement
  uint32_t in_state[device_state_count] = {};  // gauge: devices per state
};

class fleet {
 public:
  // wall_base_ms: the epoch time at now = 0 (injected; readings carry wall_base_ms + now + skew).
  fleet(const scenario& s, int64_t wall_base_ms);
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  // Moves the epoch base before the first tick (the adapter reads the wall clock just before it starts
  // counting, after constructing a large fleet).
  void set_wall_base_ms(int64_t wall_base_ms);

  size_t size() const { return devices_.size(); }
  const scenario& spec() const { return spec_; }
  const group_spec& group_of(device_slot d) const { return spec_.groups[devices_[d].group]; }
  uint32_t group_index(device_slot d) const { return devices_[d].group; }
  const std::string& device_name(device_slot d) const { return names_[d]; }
  std::string client_id(device_slot d) const;
  std::string username(device_slot d) const;
  std::string password(device_slot d) const;
  std::string topic(device_slot d) const;
  int32_t skew_ms(device_slot d) const { return devices_[d].skew_ms; }
  device_state state(device_slot d) const { return devices_[d].state; }
  const device_counters& counters(device_slot d) const { return devices_[d].counters; }
  const seq_ranges& acked(device_slot d) const { return devices_[d].acked; }
  // Readings still in the device's queue or in flight.
  uint64_t unsent(device_slot d) const { return devices_[d].queue.size() + devices_[d].inflight.size(); }
  uint64_t last_seq(device_slot d) const { return devices_[d].next_seq - 1; }

  // Advances time: fires due timers and phase changes. `now_ms` never goes backwards.
  void tick(int64_t now_ms, std::vector<action>& out);
  // Events from the MQTT client of device d.
  void on_connected(device_slot d, int64_t now_ms, std::vector<action>& out);
  void on_connect_failed(device_slot d, int64_t now_ms, std::vector<action>& out);
  void on_connection_lost(device_slot d, int64_t now_ms, std::vector<action>& out);
  void on_disconnected(device_slot d, int64_t now_ms, std::vector<action>& out);
  void on_published(device_slot d, uint64_t seq, int64_t now_ms, std::vector<action>& out);
  void on_publish_failed(device_slot d, uint64_t seq, int64_t now_ms, std::vector<action>& out);

  // Ends the run early (e.g. on SIGINT): drain then close; `immediately` skips the drain.
  void request_stop(int64_t now_ms, bool immediately);

  fleet_phase phase() const { return phase_; }
  bool finished() const { return phase_ == fleet_phase::finished; }
  // When tick() next has something to do (for the adapter's sleep); INT64_MAX if nothing is scheduled.
  int64_t next_due_ms() const;
  const fleet_totals& totals() const { return totals_; }
  // When the run phase ended (duration or stop), or -1 while running.
  int64_t run_ended_ms() const { return run_ended_ms_; }

  // Largest number of readings one reading timer may take at once when the driver falls behind.
  static constexpr uint32_t catch_up_readings_max = 16;

 private:
  struct pending {
    reading r;
    uint32_t sends = 0;
  };
  // A bounded FIFO of readings in ascending seq order; storage grows on demand.
  class reading_queue {
   public:
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    pending& front() { return at(0); }
    pending& back() { return at(size_ - 1); }
    pending& at(size_t i) { return buf_[(head_ + i) % buf_.size()]; }
    void push_back(const pending& p);
    void pop_front();
    void pop_back();
    // Inserts keeping ascending seq order (re-queued readings go near the head).
    void insert_sorted(const pending& p);
    // Removes the reading with this seq if present; returns whether it was.
    bool erase_seq(uint64_t seq);

   private:
    void grow();
    std::vector<pending> buf_;
    size_t head_ = 0;
    size_t size_ = 0;
  };
  enum timer_kind : uint8_t { timer_reading = 0, timer_connect = 1, timer_churn = 2 };
  struct device {
    uint32_t group = 0;
    device_state state = device_state::unborn;
    bool powered = false;  // taking readings
    bool leaving = false;  // disconnecting because of churn
    uint32_t attempt = 0;  // consecutive connection failures
    int32_t skew_ms = 0;
    uint32_t timer_gen[3] = {};
    uint64_t next_seq = 1;
    int64_t next_reading_us = 0;
    rng random;
    model_state models;
    reading_queue queue;
    std::vector<pending> inflight;  // ascending seq, at most inflight_max
    seq_ranges acked;
    device_counters counters;
  };
  struct timer {
    int64_t due_ms;
    device_slot device;
    uint8_t kind;
    uint32_t gen;
    bool operator>(const timer& o) const { return due_ms > o.due_ms; }
  };

  void arm(device_slot d, timer_kind k, int64_t due_ms);
  void disarm(device_slot d, timer_kind k) { ++devices_[d].timer_gen[k]; }
  void fire(const timer& t, int64_t now_ms, std::vector<action>& out);
  void set_state(device_slot d, device_state s);
  void power_on(device_slot d, int64_t now_ms, std::vector<action>& out);
  void take_readings(device_slot d, int64_t now_ms);
  void enqueue(device_slot d, const pending& p);
  void trim_queue(device_slot d);
  void pump(device_slot d, std::vector<action>& out);
  void requeue_inflight(device_slot d);
  void schedule_reconnect(device_slot d, int64_t now_ms);
  void arm_leave(device_slot d, int64_t now_ms);
  void enter_closing(int64_t now_ms, std::vector<action>& out);
  void note_queue_depth(device_slot d);

  scenario spec_;
  int64_t wall_base_ms_;
  int64_t duration_ms_;
  std::vector<device> devices_;
  std::vector<std::string> names_;
  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
  fleet_phase phase_ = fleet_phase::running;
  bool ticked_ = false;
  int64_t now_ms_ = 0;
  int64_t run_ended_ms_ = -1;
  int64_t drain_deadline_ms_ = 0;
  int64_t close_deadline_ms_ = 0;
  bool stop_requested_ = false;
  bool stop_immediately_ = false;
  fleet_totals totals_;
};

}  // namespace tributary::sim
