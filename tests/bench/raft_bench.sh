#!/usr/bin/env bash
# raft_bench.sh [raft_bench flags]: builds raft_bench in a release build and runs it pinned to one
# core. Prints entries and offsets committed per second (1 KiB entries of width 1 and of width 16,
# a 16-record Kafka batch; 3 in-memory nodes, no faults) and heap allocations per committed entry
# on the leader. Figures only; nothing is asserted.
#
#   RAFT_BENCH_BUILD=<dir>   the release build directory (default: build/release, the preset's)
#   tests/bench/raft_bench.sh --entries 500000
#   tests/bench/raft_bench.sh --width 64 --batch 16
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RAFT_BENCH_BUILD:-$root/build/release}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIB_WERROR=ON >/dev/null
fi
cmake --build "$build" --target raft_bench >/dev/null
bin="$build/tests/sim/raft_bench"
if command -v taskset >/dev/null 2>&1; then
  exec taskset -c 0 "$bin" "$@"
fi
exec "$bin" "$@"
