#pragma once
// faulty_storage: a log_storage that reads through to another one but can be told to fail, for
// the error branches that a healthy memory_storage never takes.
#include "cluster/raft/storage.h"

namespace raft_test {

class faulty_storage final : public tributary::cluster::raft::log_storage {
 public:
  explicit faulty_storage(const tributary::cluster::raft::log_storage& inner) : inner_(inner) {}

  bool fail_snapshot = false;  // latest_snapshot() answers snapshot_unavailable

  tributary::cluster::raft::hard_state saved_hard_state() const override { return inner_.saved_hard_state(); }
  tributary::cluster::raft::snapshot_metadata snapshot_meta() const override {
    return inner_.snapshot_meta();
  }
  tributary::result<tributary::cluster::raft::snapshot> latest_snapshot() const override {
    if (fail_snapshot) return tributary::fail(tributary::cluster::raft::errc::snapshot_unavailable);
    return inner_.latest_snapshot();
  }
  tributary::cluster::raft::log_index first_index() const override { return inner_.first_index(); }
  tributary::cluster::raft::log_index last_index() const override { return inner_.last_index(); }
  tributary::result<tributary::cluster::raft::term> term_at(
      tributary::cluster::raft::log_index i) const override {
    return inner_.term_at(i);
  }
  tributary::result<std::vector<tributary::cluster::raft::entry>> entries(
      tributary::cluster::raft::log_index lo, tributary::cluster::raft::log_index hi,
      size_t max_bytes) const override {
    return inner_.entries(lo, hi, max_bytes);
  }

 private:
  const tributary::cluster::raft::log_storage& inner_;
};

}  // namespace raft_test
