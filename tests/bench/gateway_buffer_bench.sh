#!/usr/bin/env bash
# Gateway buffer throughput: committed rows/s for 100-byte readings with synchronous=full and
# =normal, with and without group commit, the average rows per transaction, and this file system's
# write+fdatasync rate as the ceiling for one-transaction-per-row commits. Prints figures; asserts
# nothing.
#
# Usage: tests/bench/gateway_buffer_bench.sh [seconds_per_run=3] [dir=<build>/bench-tmp] [window=1000]
#   TRIB_BENCH_BUILD   release build directory (default build/release, the preset's; configured if missing)
#   The database and the fsync probe live in <dir>: put it on the file system the gateway will use.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${TRIB_BENCH_BUILD:-$root/build/release}
secs=${1:-3}
dir=${2:-$build/bench-tmp}
window=${3:-1000}
payload=100

if [ ! -f "$build/build.ninja" ]; then
  if [ "$build" = "$root/build/release" ]; then
    (cd "$root" && cmake --preset release >/dev/null)
  else
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
fi
cmake --build "$build" --target gateway_buffer_bench >/dev/null
bin="$build/tests/unit/gateway_buffer/gateway_buffer_bench"
mkdir -p "$dir"

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

fs=$(df -T "$dir" | awk 'NR==2 {print $1" ("$2")"}')
echo "gateway buffer bench: ${payload} B payloads, ${secs} s per run, dir $dir on $fs, $(nproc) CPUs"
echo

fsync_line=$("$bin" fsync "$dir" "$secs")
fsync_rate=$(echo "$fsync_line" | field fsyncs_per_s)

printf '%-34s %12s %12s %14s %14s\n' "run" "rows/s" "rows/tx" "commit ms avg" "vs fsync/s"
printf '%-34s %12s %12s %14s %14s\n' "write+fdatasync 4 KiB (ceiling)" "$fsync_rate" "-" "-" "1.00x"
for sync in full normal; do
  line=$("$bin" single "$dir" "$sync" "$secs" "$payload")
  rate=$(echo "$line" | field rows_per_s)
  printf '%-34s %12s %12s %14s %14s\n' "one row per tx, synchronous=$sync" "$rate" "1.0" "-" \
    "$(awk -v a="$rate" -v b="$fsync_rate" 'BEGIN {printf "%.2fx", a / b}')"
done
for sync in full normal; do
  line=$("$bin" group "$dir" "$sync" "$secs" "$payload" "$window")
  rate=$(echo "$line" | field rows_per_s)
  printf '%-34s %12s %12s %14s %14s\n' "group commit, synchronous=$sync" "$rate" \
    "$(echo "$line" | field rows_per_tx)" "$(echo "$line" | field commit_ms_avg)" \
    "$(awk -v a="$rate" -v b="$fsync_rate" 'BEGIN {printf "%.2fx", a / b}')"
done
echo
echo "group commit: $window readings outstanding (clients waiting for PUBACK); rows/tx is the average batch."
