#!/usr/bin/env bash
# broker_bench.sh: tributary-broker throughput and latency with a librdkafka load tool (kafka_load.cc)
# on the same machine and cores. Builds the release preset, starts the broker on free ports with a temp
# data directory, and runs: 100 B and 1 KiB records x acks=1 / acks=all (flush.mode=sync: answered after
# the fdatasync) x 1 / 8 partitions, then a consumer reading the 100 B topic from the beginning. For each
# run: records/s, MB/s, produce latency p50/p99 (delivery report - enqueue, so queueing in the client is
# included), the broker's CPU% (of one core; 200% = both cores) and peak RSS from /proc/<pid>. In the same
# run, on the same filesystem: the disk's sequential write-with-fsync rate (dd oflag=dsync, 1 MiB and
# 64 KiB blocks) as the ceiling for acks=all. Figures only; nothing is asserted.
#
#   BENCH_DIR=<dir>          where the data directory and the dd file go (default /var/tmp)
#   BENCH_SMALL=<n>          100 B records per produce run (default 2000000)
#   BENCH_LARGE=<n>          1 KiB records per produce run (default 300000)
#   BENCH_BUILD=<dir>        release build directory (default build/release, the preset's)
#   tests/bench/broker_bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$root/build/release}
small=${BENCH_SMALL:-2000000}
large=${BENCH_LARGE:-300000}
timeout_s=180

cd "$root"
# shellcheck source=tests/bench/build_release.sh
. "$root/tests/bench/build_release.sh"
build_targets "$build" tributary-broker kafka_load
broker_bin=$build/cluster/tributary-broker
load=$build/tests/bench/kafka_load

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" trib-broker-bench.XXXXXX)
broker_pid=""
sampler_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  if [ -n "$broker_pid" ]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- disk ceiling: sequential writes, each followed by a sync (O_DSYNC), on the data directory's fs ---
dd_rate() {  # dd_rate <block size> <count>: MB/s of dd if=/dev/zero oflag=dsync
  local out
  out=$(LC_ALL=C dd if=/dev/zero of="$work/ceiling" bs="$1" count="$2" oflag=dsync 2>&1 | tail -1)
  rm -f "$work/ceiling"
  # "N bytes (...) copied, S s, R MB/s": recompute from bytes and seconds (dd's unit varies).
  echo "$out" | awk '{ for (i = 1; i <= NF; i++) if ($i == "copied,") { printf "%.1f", $1 / $(i+1) / 1e6 } }'
}
ceiling_1m=$(dd_rate 1M 256)
ceiling_64k=$(dd_rate 64K 2048)

kport=$(free_port)
hport=$(free_port)
"$broker_bin" --data-dir "$work/data" --listen "127.0.0.1:$kport" --http "127.0.0.1:$hport" \
  --set log_level=warn >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
  if /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$hport/health', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
kill -0 "$broker_pid"
bootstrap=127.0.0.1:$kport
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$broker_pid/stat"; }
start_sampler() {  # peak VmRSS (kB) of the broker while a run lasts, into $work/rss
  echo 0 >"$work/rss"
  (
    peak=0
    while kill -0 "$broker_pid" 2>/dev/null; do
      r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$broker_pid/status")
      if [ "${r:-0}" -gt "$peak" ]; then peak=$r; echo "$peak" >"$work/rss"; fi
      sleep 0.2
    done
  ) &
  sampler_pid=$!
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""; }

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

rows=()
run() {  # run <label> <kafka_load args...>
  local label=$1
  shift
  local t0 c0 t1 c1 out cpu rss
  start_sampler
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  out=$(timeout $((timeout_s + 30)) "$load" "$@" --bootstrap "$bootstrap" --timeout-s "$timeout_s" 2>"$work/load.err") || {
    echo "run $label failed: $out $(tail -3 "$work/load.err")" >&2
  }
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  stop_sampler
  cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) / hz / (t1 - t0) * 100 }')
  rss=$(awk '{ printf "%.0f", $1 / 1024 }' "$work/rss")
  rows+=("$(printf '%-28s %10s %12s %8s %9s %9s %7s %8s' "$label" "$(field "$out" records)" \
    "$(field "$out" records_per_s)" "$(field "$out" mb_per_s)" "$(field "$out" latency_ms_p50)" \
    "$(field "$out" latency_ms_p99)" "$cpu" "$rss")")
}

for size in 100 1024; do
  n=$small
  [ "$size" -eq 1024 ] && n=$large
  for acks in 1 all; do
    for parts in 1 8; do
      run "produce ${size}B acks=$acks p=$parts" produce --topic "t${size}-a${acks}-p${parts}" --records "$n" \
        --size "$size" --acks "$acks" --partitions "$parts"
    done
  done
done
run "consume 100B p=1" consume --topic t100-a1-p1 --records "$small" --partitions 1
run "consume 100B p=8" consume --topic t100-a1-p8 --records "$small" --partitions 8

echo "tributary-broker bench: $(nproc) cores, load tool on the same cores; data dir $work ($(df --output=source "$work" | tail -1))"
echo "disk ceiling (dd oflag=dsync, same filesystem): 1 MiB blocks $ceiling_1m MB/s, 64 KiB blocks $ceiling_64k MB/s"
printf '%-28s %10s %12s %8s %9s %9s %7s %8s\n' run records records/s MB/s p50_ms p99_ms cpu% rss_MB
for r in "${rows[@]}"; do echo "$r"; done
if grep -q "level=error\|level=fatal" "$work/broker.log"; then
  echo "broker log errors:"
  grep "level=error\|level=fatal" "$work/broker.log" | head -5
fi
