#!/usr/bin/env bash
# forwarder_drain_bench.sh: forwarding throughput after an outage — how fast a backlog drains into the
# broker while new readings keep arriving, against the ingest rate (the issue asks for >= 3x).
# Prints figures; asserts nothing.
#
#   tests/bench/forwarder_drain_bench.sh [build-dir]
#   Without a build dir it configures and builds the release preset (build/release) first.
#   env: BACKLOG=100000 (rows buffered before the uplink returns)  RATE=1000 (ingest rows/s during the
#        drain)  PAYLOAD=200 (bytes)  DEVICES=100  COMPRESSION=lz4  SYNC=full (buffer.synchronous)
#        DEADLINE=300 (s, bound on the drain phase)
#
# Phase 1 (the outage): forward_driver --no-forward appends BACKLOG readings to a fresh buffer as fast
# as the group committer takes them. Phase 2 (the uplink is back): a broker on a free 127.0.0.1 port,
# forward_driver forwarding the buffer while it appends RATE readings/s. The drain ends when the
# backlog first falls to what one second of ingest leaves in flight (<= RATE rows). Figures:
#   drain_rows_per_s  = readings acknowledged by the broker during the drain / drain seconds
#   ingest_rows_per_s = readings appended during the drain / drain seconds
#   ratio             = drain / ingest
# The broker (acks=all, fsync before acknowledging), the driver (SQLite commits, peeks and deletes on
# one worker thread, librdkafka) and this script share the machine's cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then  # default: the release preset, built here
  build=$root/build/release
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target tributary-broker forward_driver >/dev/null)
fi
backlog=${BACKLOG:-100000}
rate=${RATE:-1000}
payload=${PAYLOAD:-200}
devices=${DEVICES:-100}
compression=${COMPRESSION:-lz4}
sync=${SYNC:-full}
deadline=${DEADLINE:-300}
broker="$build/cluster/tributary-broker"
driver="$build/tests/integration/forwarder/forward_driver"
for b in "$broker" "$driver"; do
  [ -x "$b" ] || { echo "missing $b (build the targets: tributary-broker forward_driver)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== phase 1: buffering $backlog readings (uplink down)"
t0=$(date +%s.%N)
"$driver" --buffer "$work/buffer.db" --no-forward --rows "$backlog" --rate 0 --devices "$devices" \
  --payload-bytes "$payload" --synchronous "$sync" --log-level warn >"$work/fill.jsonl" 2>"$work/fill.log"
t1=$(date +%s.%N)
echo "   buffered in $(/usr/bin/python3 -c "print(f'{$t1-$t0:.1f}')") s"

kport=$(free_port)
hport=$(free_port)
"$broker" --data-dir "$work/broker" --listen "127.0.0.1:$kport" --http "127.0.0.1:$hport" --set log_level=warn \
  >"$work/broker.log" 2>&1 &
pids+=($!)
disown $!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$hport/health" >/dev/null 2>&1 && break
  sleep 0.05
done

echo "== phase 2: uplink back; draining while $rate readings/s arrive"
"$driver" --buffer "$work/buffer.db" --bootstrap "127.0.0.1:$kport" --rate "$rate" --devices "$devices" \
  --payload-bytes "$payload" --synchronous "$sync" --seq-start 100000000 --status-interval-ms 250 \
  --set "forwarder.compression=$compression" --log-level warn >"$work/drain.jsonl" 2>"$work/drain.log" &
dpid=$!
pids+=($dpid)
disown $dpid

/usr/bin/python3 - "$work/drain.jsonl" "$rate" "$deadline" "$backlog" <<'EOF'
import json, sys, time
path, rate, deadline, backlog = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
start = time.monotonic()
first = end = None
while time.monotonic() - start < deadline:
    time.sleep(0.25)
    lines = []
    with open(path) as f:
        for line in f:
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
    if not lines:
        continue
    if first is None:
        first = lines[0]
    done = [s for s in lines if s["backlog_rows"] <= rate and s["t_ms"] > 0]
    if done and lines[-1]["t_ms"] >= done[0]["t_ms"]:
        end = done[0]
        break
if end is None:
    print(f"   drain did not finish within {deadline:.0f} s")
    sys.exit(1)
secs = (end["t_ms"] - 0) / 1000.0
drained = end["forwarded"]
ingested = end["appended"]
d, i = drained / secs, ingested / secs
print(f"   backlog at start        {backlog} rows")
print(f"   drain time              {secs:.2f} s (backlog <= {rate:.0f} rows)")
print(f"   drain_rows_per_s        {d:,.0f}")
print(f"   ingest_rows_per_s       {i:,.0f} (target {rate:.0f})")
print(f"   ratio drain/ingest      {d / i if i else float('inf'):.1f}x  (issue: >= 3x)")
print(f"   settles during drain    {end['settles']}")
EOF
kill -TERM "$dpid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
