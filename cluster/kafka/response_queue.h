#pragma once
// Responses of one connection in request order. Clients pipeline requests and match answers by
// order (the protocol requires it), while the broker completes them out of order: an acks=-1 Produce
// waits for its fsync, a Fetch long-polls, a Metadata answers at once. Each request takes a slot
// when it is decoded; a slot is completed with the bytes of its answer (or none: Produce acks=0), and
// only the completed prefix of the queue is released for writing. A pure core: no I/O.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace tributary::cluster::kafka {

class response_queue {
 public:
  using slot = uint64_t;

  // Reserves the slot of the next request.
  slot open();
  // Completes `s` (opened, not yet completed) with its answer; empty bytes = no answer.
  void complete(slot s, std::vector<uint8_t> bytes);
  bool completed(slot s) const;
  // The answers of the completed prefix, in request order (empty answers are dropped).
  std::vector<std::vector<uint8_t>> take_ready();

  // Opened and not yet released by take_ready().
  size_t in_flight() const { return slots_.size(); }

 private:
  std::deque<std::optional<std::vector<uint8_t>>> slots_;  // slots_[0] is slot first_
  slot first_ = 0;
};

}  // namespace tributary::cluster::kafka
