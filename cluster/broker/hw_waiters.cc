#include "cluster/broker/hw_waiters.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::broker {

hw_waiters::id hw_waiters::add(std::vector<condition> conditions, int64_t deadline_ms, callback cb) {
  TRIB_ASSERT(cb != nullptr);
  const id w = next_id_++;
  for (const auto& c : conditions) {
    TRIB_ASSERT(c.p != nullptr);
    by_partition_[c.p].emplace(c.target, w);
  }
  if (deadline_ms >= 0) by_deadline_.emplace(deadline_ms, w);
  waiters_.emplace(w, waiter{std::move(conditions), deadline_ms, std::move(cb)});
  return w;
}

std::optional<hw_waiters::waiter> hw_waiters::take(id w) {
  auto it = waiters_.find(w);
  if (it == waiters_.end()) return std::nullopt;
  waiter out = std::move(it->second);
  waiters_.erase(it);
  for (const auto& c : out.conditions) {
    auto p = by_partition_.find(c.p);
    if (p == by_partition_.end()) continue;
    p->second.erase({c.target, w});
    if (p->second.empty()) by_partition_.erase(p);
  }
  if (out.deadline_ms >= 0) by_deadline_.erase({out.deadline_ms, w});
  return out;
}

bool hw_waiters::cancel(id w) { return take(w).has_value(); }

void hw_waiters::fire(std::vector<id> ids, wake_reason why) {
  // Take every waiter first, then call back: callbacks may add or cancel waiters freely.
  std::vector<callback> cbs;
  cbs.reserve(ids.size());
  for (id w : ids) {
    if (auto taken = take(w)) cbs.push_back(std::move(taken->cb));
  }
  for (auto& cb : cbs) cb(why);
}

void hw_waiters::advanced(const partition* p, int64_t hw) {
  auto it = by_partition_.find(p);
  if (it == by_partition_.end()) return;
  std::vector<id> ready;
  for (const auto& [target, w] : it->second) {
    if (target > hw) break;
    ready.push_back(w);
  }
  fire(std::move(ready), wake_reason::reached);
}

void hw_waiters::gone(const partition* p) {
  auto it = by_partition_.find(p);
  if (it == by_partition_.end()) return;
  std::vector<id> ids;
  for (const auto& entry : it->second) ids.push_back(entry.second);
  fire(std::move(ids), wake_reason::gone);
}

void hw_waiters::expire(int64_t now_ms) {
  std::vector<id> ids;
  for (const auto& [deadline, w] : by_deadline_) {
    if (deadline > now_ms) break;
    ids.push_back(w);
  }
  fire(std::move(ids), wake_reason::deadline);
}

void hw_waiters::wake_all(wake_reason why) {
  std::vector<id> ids;
  ids.reserve(waiters_.size());
  for (const auto& entry : waiters_) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());  // oldest first: deterministic order
  fire(std::move(ids), why);
}

std::optional<int64_t> hw_waiters::next_deadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

size_t hw_waiters::watching(const partition* p) const {
  auto it = by_partition_.find(p);
  return it == by_partition_.end() ? 0 : it->second.size();
}

}  // namespace tributary::cluster::broker
