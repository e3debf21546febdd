#!/usr/bin/env bash
# gateway_ingest_callgrind.sh: instructions per committed reading on each gateway thread (the event
# loop and the buffer's worker), counted by callgrind while gateway_load sends QoS 1 PUBLISH packets.
# Instruction counts do not move with the machine's load the way msgs/s do, so this compares two
# builds on a shared machine where gateway_ingest_bench.sh cannot. Prints figures; asserts nothing.
#
#   tests/bench/gateway_ingest_callgrind.sh [release-build-dir]
#   Without a build dir it configures and builds the release preset (build/release) first.
#   env: CONNS=100  DURATION=8 (s counted)  INFLIGHT=10  PAYLOAD=100
#
# Under valgrind the gateway runs one thread at a time and ~50x slower, so batches are smaller than
# in a real run (the per-commit share is larger); compare builds at the same settings. Counted:
# from 3 s after the load starts, for DURATION s (callgrind_control zeroes, then dumps).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  build=$root/build/release
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target tributary-gateway gateway_load >/dev/null)
fi
conns=${CONNS:-100}
duration=${DURATION:-8}
inflight=${INFLIGHT:-10}
payload=${PAYLOAD:-100}
gw="$build/gateway/tributary-gateway"
load="$build/tests/integration/gateway/gateway_load"
for b in "$gw" "$load" /usr/bin/valgrind /usr/bin/callgrind_annotate /usr/bin/curl; do
  [ -x "$b" ] || { echo "missing $b" >&2; exit 2; }
done

work=$(mktemp -d)
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
http=$(free_port)
cat > "$work/gw.json" <<EOF
{"gateway": {"id": "bench"}, "log": {"level": "warn"},
 "mqtt": {"max_connections": 20000, "receive_maximum": 1024},
 "buffer": {"synchronous": "full", "quota_bytes": 4294967296},
 "routes": {"unmatched": "refuse", "rules": [{"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"}]}}
EOF
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.out" \
  "$gw" --config "$work/gw.json" --data-dir "$work/data" --listen "127.0.0.1:$port" --http "127.0.0.1:$http" \
  > "$work/gw.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 300); do
  /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.2
done
"$load" --target "127.0.0.1:$port" --connections "$conns" --inflight "$inflight" --payload-bytes "$payload" \
  --warmup-s 1 --duration-s "$((duration + 4))" > "$work/load.json" &
load_pid=$!
committed() {
  curl -s "127.0.0.1:$http/metrics" | awk '$1 == "tributary_gateway_buffer_committed_rows_total" {print $2}'
}
# Count only the steady state: zero the counters once the connections are up and readings flow,
# dump them before the load ends (start-up and shutdown are left out).
sleep 3
rows0=$(committed)
callgrind_control -z "$gw_pid" > /dev/null
sleep "$duration"
callgrind_control -d "$gw_pid" > /dev/null
rows1=$(committed)
commits=$(curl -s "127.0.0.1:$http/metrics" | awk '$1 == "tributary_gateway_buffer_commits_total" {print $2}')
wait "$load_pid" || true
kill -TERM "$gw_pid"
wait "$gw_pid" || true
gw_pid=""
rows=$((rows1 - rows0))
[ "$rows" -gt 0 ] || { echo "no readings committed in the window (see $work/gw.log)" >&2; exit 1; }
echo "gateway under callgrind: $conns connections, $inflight in flight, ${payload}-byte payloads, ${duration}s;" \
  "readings_in_window=$rows (committed_rows_total=$rows1, commits_total=$commits, rows_per_commit=$((rows1 / commits)))"
printf '%-14s %16s %14s\n' thread instructions per_reading
for f in "$work"/cg.out.1-*; do
  total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
  [ -n "$total" ] && [ "$total" -gt 1000000 ] || continue  # threads that hardly ran (auth, exit)
  # Threads in creation order: 01 the event loop, 02 the buffer's worker (started first in main).
  case "${f##*-}" in 01) name="loop" ;; 02) name="buffer-worker" ;; *) name="thread-${f##*-}" ;; esac
  printf '%-14s %16s %14.0f\n' "$name" "$total" "$(echo "$total / $rows" | bc -l)"
done
