#pragma once
// Strong types and errors of the partition log.
#include <cstdint>
#include <system_error>

#include "common/bytes.h"
#include "common/result.h"
#include "common/strong_type.h"

namespace tributary::cluster::storage {

// A Kafka offset: the position of a record in a partition. A batch covers [base, base + delta].
using offset = strong<int64_t, struct offset_tag>;
// The leader epoch written into a batch's partitionLeaderEpoch; the Raft term of the entry.
using leader_epoch = strong<int32_t, struct leader_epoch_tag>;

enum class errc {
  io_error = 1,         // a system call failed (errno in the log line)
  corrupt_batch,        // a stored batch fails its length/magic/CRC check
  bad_batch,            // an appended batch is malformed (caller should have validated)
  offset_out_of_range,  // a read or truncate outside [log start, log end]
  not_batch_boundary,   // a truncate point inside a batch
  bad_directory,        // a partition directory with files we do not understand
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::storage

template <>
struct tributary::errc_info<tributary::cluster::storage::errc> {
  static constexpr const char* name = "storage";
  static const char* message(tributary::cluster::storage::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::storage::errc> : std::true_type {};
