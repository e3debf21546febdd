#!/usr/bin/env bash
# Pure cores (STYLE.md §1) never do I/O, never read the clock and never use unseeded randomness.
# This check fails when a core's source mentions what it must not.
# Usage: check_pure_cores.sh [root]   (root defaults to the repository; tests pass a planted tree)
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"

# Folders holding pure cores. Adapters live elsewhere (common/uv, common/http server, cluster/storage,
# gateway/buffer, gateway/forwarder, firmware-sim).
cores=(common/kafka common/mqtt cluster/raft cluster/group cluster/broker/producer_state.h cluster/broker/producer_state.cc
  cluster/broker/hw_waiters.h cluster/broker/hw_waiters.cc cluster/kafka/response_queue.h cluster/kafka/response_queue.cc
  gateway/mqtt/core.cc gateway/mqtt/session.cc gateway/mqtt/handlers gateway/routes firmware-sim/core
  gateway/bridge/client_core.h gateway/bridge/client_core.cc gateway/bridge/bridge_config.h)
forbidden='#include *<uv\.h>|#include *<sqlite3\.h>|#include *<librdkafka|rd_kafka_|#include *<mqtt/|uv_[a-z_]+\(|sqlite3_[a-z_]+\(|system_clock|steady_clock|high_resolution_clock|std::random_device|[^_a-z]rand\(\)|[^_a-z.]time\(nullptr\)|gettimeofday|clock_gettime|std::thread|#include *<thread>|fopen\(|std::ifstream|std::ofstream|(^|[^a-zA-Z0-9_])::(open|read|write|fsync|fdatasync)\('

status=0
for dir in "${cores[@]}"; do
  [ -e "$dir" ] || continue
  # Line comments are ignored: a comment may name what the code must not call.
  hits=$(find "$dir" -type f \( -name '*.h' -o -name '*.cc' \) -print0 |
    xargs -0 -r awk -v re="$forbidden" '{ line = $0; sub(/\/\/.*/, "", line); if (line ~ re) print FILENAME ":" FNR ": " $0 }')
  if [ -n "$hits" ]; then
    echo "pure core $dir uses I/O, a clock or unseeded randomness:"
    echo "$hits"
    status=1
  fi
done
[ $status -eq 0 ] && echo "pure cores are pure: ${cores[*]}"
exit $status
