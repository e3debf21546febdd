#pragma once
// Requests parked until a partition's high watermark moves: acks=-1 Produce waiting for the fsync that
// covers its batches, Fetch long polls waiting for data (min_bytes) or their max_wait_ms. A pure core:
// no I/O, no clock (the owner passes the loop's monotonic time and runs one timer for
// next_deadline()).
//
// A waiter watches one or more partitions, each with a target high watermark, plus an optional
// deadline. It wakes ONCE, on the first of: one watched partition reached its target (reached), a
// watched partition went away (gone: topic deleted), the deadline passed (deadline), or wake_all()
// (shutdown). Waking removes the whole waiter; its callback decides whether it is done (answer) or
// adds a new waiter (e.g. a Produce over several partitions that are not all durable yet, a Fetch
// below min_bytes). Callbacks may add and cancel waiters.
//
// Partitions are identified by address (the owner calls gone() before a partition is destroyed).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tributary::cluster::broker {

class partition;

enum class wake_reason { reached, gone, deadline, shutdown };

class hw_waiters {
 public:
  using id = uint64_t;
  using callback = std::function<void(wake_reason)>;

  struct condition {
    const partition* p = nullptr;
    int64_t target = 0;  // wake when the high watermark is >= target
  };

  // `deadline_ms` < 0: none. Conditions may be empty (a pure timer). Returns an id > 0.
  id add(std::vector<condition> conditions, int64_t deadline_ms, callback cb);
  // Removes a waiter that has not woken; false when there is none with this id.
  bool cancel(id w);

  // p's high watermark is now `hw`: wakes every waiter with a condition on p whose target <= hw.
  void advanced(const partition* p, int64_t hw);
  // p goes away: wakes every waiter watching it with `gone`.
  void gone(const partition* p);
  // Wakes every waiter whose deadline is <= now_ms.
  void expire(int64_t now_ms);
  // Wakes every waiter (shutdown: answer with what there is).
  void wake_all(wake_reason why = wake_reason::shutdown);

  std::optional<int64_t> next_deadline() const;
  size_t size() const { return waiters_.size(); }
  // Waiters watching p (for tests and metrics).
  size_t watching(const partition* p) const;

 private:
  struct waiter {
    std::vector<condition> conditions;
    int64_t deadline_ms = -1;
    callback cb;
  };
  // Removes w from every index and returns it (nullopt if gone already).
  std::optional<waiter> take(id w);
  void fire(std::vector<id> ids, wake_reason why);

  id next_id_ = 1;
  std::unordered_map<id, waiter> waiters_;
  // Per partition: (target, waiter id), ordered by target so advanced() takes a prefix.
  std::unordered_map<const partition*, std::set<std::pair<int64_t, id>>> by_partition_;
  std::set<std::pair<int64_t, id>> by_deadline_;
};

}  // namespace tributary::cluster::broker
