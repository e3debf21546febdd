#!/usr/bin/env bash
# group_bench.sh: consumer groups on tributary-broker. Builds the release preset (or BENCH_BUILD),
# starts the broker on free ports with a temp data directory, then:
#  1. settle time: confluent-kafka consumers join one group on a 16-partition topic one after another
#     (1..8 members); after each join, the seconds until every member holds a balanced share again.
#     The first join includes groups.initial_rebalance_delay_ms (the broker's default, 3 s); later
#     joins cost a JoinGroup round (members learn of the rebalance from their next heartbeat:
#     heartbeat.interval.ms: 1000, then librdkafka's default 3000) plus SyncGroup.
#  2. consume throughput: BENCH_RECORDS records of 100 B on 8 partitions (kafka_load produce, acks=1),
#     read by a group of 1 member and by a group of 4 members (kafka_load consume --group, one process
#     each), timed from the first record any member got to the last record of the group.
# Everything runs on this machine's cores (broker, clients): figures only, nothing is asserted.
#
#   BENCH_DIR=<dir>       where the data directory goes (default /var/tmp)
#   BENCH_RECORDS=<n>     records for the throughput runs (default 2000000)
#   BENCH_BUILD=<dir>     build directory (default build/release, the preset's)
#   tests/bench/group_bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$root/build/release}
records=${BENCH_RECORDS:-2000000}

cd "$root"
# shellcheck source=tests/bench/build_release.sh
. "$root/tests/bench/build_release.sh"
build_targets "$build" tributary-broker kafka_load
broker_bin=$build/cluster/tributary-broker
load=$build/tests/bench/kafka_load

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" trib-group-bench.XXXXXX)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kport=$(free_port)
hport=$(free_port)
bs=127.0.0.1:$kport
"$broker_bin" --data-dir "$work/data" --listen "$bs" --http "127.0.0.1:$hport" --set log_level=warn \
  >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$hport/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== settle time as members join (16 partitions, range assignor, heartbeat.interval.ms=1000)"
"$load" produce --bootstrap "$bs" --topic settle --records 16 --size 10 --partitions 16 >/dev/null
/usr/bin/python3 "$root/tests/bench/group_settle.py" "$bs" settle 16 8 1000
echo "== the same with librdkafka's default heartbeat.interval.ms=3000"
/usr/bin/python3 "$root/tests/bench/group_settle.py" "$bs" settle 16 8 3000

echo "== consume throughput, $records records of 100 B on 8 partitions"
"$load" produce --bootstrap "$bs" --topic tput --records "$records" --size 100 --partitions 8 --acks 1 |
  sed 's/^/produce: /'
group_run() {  # group_run <members>
  local n=$1 share=$((records / $1)) pids=() i
  for i in $(seq "$n"); do
    "$load" consume --bootstrap "$bs" --topic tput --records "$share" --partitions 8 --group "g$n" \
      --timeout-s 300 >"$work/c$n-$i.out" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  cat "$work"/c"$n"-*.out | /usr/bin/python3 -c '
import sys
n, total = int(sys.argv[1]), int(sys.argv[2])
lines = [dict(kv.split("=", 1) for kv in l.split()) for l in sys.stdin if l.strip()]
got = sum(int(l["records"]) for l in lines)
first = min(int(l["first_ms"]) for l in lines)
last = max(int(l["last_ms"]) for l in lines)
s = max(last - first, 1) / 1000
per = " ".join(l["records_per_s"] for l in lines)
print(f"group of {n}: records={got}/{total} seconds={s:.2f} records_per_s={got / s:.0f} "
      f"mb_per_s={got * 100 / s / 1e6:.1f} (per member: {per})")
' "$n" "$records"
}
group_run 1
group_run 4
echo "broker: $(grep -c . "$work/broker.log") log lines at warn or above"
