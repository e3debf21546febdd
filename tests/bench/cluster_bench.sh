#!/usr/bin/env bash
# cluster_bench.sh: issue 9's figures for a local three-node cluster, release build: 1 KiB acks=all
# throughput and p99 at replication factor 3 vs 1 (one run, side by side, twice), and the failover
# time (leader killed -9 -> first acknowledged produce) p50 and max over 10 kills.
#
#   BENCH_RECORDS=<n>   records per throughput run (default 100000)
#   BENCH_KILLS=<n>     failovers measured (default 10)
#   BENCH_DIR=<dir>     where the data directories go (default /var/tmp)
#   BENCH_BUILD=<dir>   release build directory (default build/release, the preset's)
#   tests/bench/cluster_bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$root/build/release}
cd "$root"
# shellcheck source=tests/bench/build_release.sh
. "$root/tests/bench/build_release.sh"
build_targets "$build" tributary-broker kafka_load
exec /usr/bin/python3 "$root/tests/bench/cluster_bench.py" "$build/cluster/tributary-broker" \
  "$build/tests/bench/kafka_load"
