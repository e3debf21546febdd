#include "cluster/kafka/response_queue.h"

#include "common/assert.h"

namespace tributary::cluster::kafka {

response_queue::slot response_queue::open() {
  slots_.emplace_back();
  return first_ + slots_.size() - 1;
}

void response_queue::complete(slot s, std::vector<uint8_t> bytes) {
  TRIB_ASSERT(s >= first_ && s - first_ < slots_.size(), "completing a slot that is not open");
  auto& entry = slots_[s - first_];
  TRIB_ASSERT(!entry.has_value(), "a slot is completed once");
  entry = std::move(bytes);
}

bool response_queue::completed(slot s) const {
  if (s < first_) return true;
  if (s - first_ >= slots_.size()) return false;
  return slots_[s - first_].has_value();
}

std::vector<std::vector<uint8_t>> response_queue::take_ready() {
  std::vector<std::vector<uint8_t>> out;
  while (!slots_.empty() && slots_.front().has_value()) {
    if (!slots_.front()->empty()) out.push_back(std::move(*slots_.front()));
    slots_.pop_front();
    ++first_;
  }
  return out;
}

}  // namespace tributary::cluster::kafka
