#!/usr/bin/env bash
# gateway_bridge_bench.sh: bridge mode throughput. gateway_load publishes QoS 1 100-byte readings into a
# mosquitto on this machine; tributary-gateway (bridge.mode "instead", persistent session) subscribes
# and commits them to its buffer, acknowledging each to mosquitto only after its commit. Prints, per
# publisher connection count: what mosquitto acknowledged to the publishers per second, what the
# bridge received (= committed and acknowledged, give or take bridge.inflight_max) per second over the
# same window, and how long the gateway took to catch up after the publishers stopped. Asserts nothing.
#
#   tests/bench/gateway_bridge_bench.sh [build-dir]
#   Without a build dir it configures and builds the release preset (build/release) first.
#   env: DURATION=10 (s measured)  WARMUP=3 (s)  CONNS="10 100"  INFLIGHT=10 (per publisher connection)
#        BRIDGE_INFLIGHT=256 (bridge.inflight_max)  MOSQ_INFLIGHT=100 (mosquitto max_inflight_messages)
#        SYNC=full (buffer.synchronous)  PAYLOAD=100
# mosquitto, the gateway and the load tool share this machine's cores: compare runs on one machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  build=$root/build/release
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target tributary-gateway gateway_load >/dev/null)
fi
duration=${DURATION:-10}
warmup=${WARMUP:-3}
conns=(${CONNS:-10 100})
inflight=${INFLIGHT:-10}
bridge_inflight=${BRIDGE_INFLIGHT:-256}
mosq_inflight=${MOSQ_INFLIGHT:-100}
sync=${SYNC:-full}
payload=${PAYLOAD:-100}
gw="$build/gateway/tributary-gateway"
load="$build/tests/integration/gateway/gateway_load"
mosq=/usr/sbin/mosquitto
for b in "$gw" "$load" "$mosq"; do
  [ -x "$b" ] || { echo "missing $b (build the targets: tributary-gateway gateway_load)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
bridged() {  # the bridge's QoS 1 messages_total
  /usr/bin/python3 - "$1" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
for line in text.splitlines():
    if line.startswith('tributary_gateway_bridge_messages_total{qos="1"}'):
        print(int(float(line.split()[-1])))
EOF
}
wait_metric() {  # http-port name value: bounded
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null | grep -q "^$2 $3\$" && return 0
    sleep 0.1
  done
  echo "gateway: $2 never reached $3" >&2
  return 1
}

printf '%-6s %12s %12s %12s %10s\n' conns mosq_acked/s bridged/s catch_up_s load1
for n in "${conns[@]}"; do
  mport=$(free_port)
  hport=$(free_port)
  rm -rf "$work/mosq" "$work/gw-data"
  mkdir -p "$work/mosq"
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\nmax_inflight_messages %s\nmax_queued_messages 10000000\nmax_queued_bytes 0\nlog_type error\n' \
    "$mport" "$mosq_inflight" > "$work/mosq/mosquitto.conf"
  "$mosq" -c "$work/mosq/mosquitto.conf" > "$work/mosq/log" 2>&1 &
  mpid=$!
  pids+=("$mpid")
  cat > "$work/gw.json" <<EOF
{"gateway": {"id": "bench"}, "log": {"level": "warn"},
 "buffer": {"synchronous": "$sync", "quota_bytes": 4294967296},
 "bridge": {"enabled": true, "mode": "instead", "broker": "127.0.0.1:$mport", "client_id": "bench-bridge",
            "inflight_max": $bridge_inflight, "reconnect_min_ms": 50, "subscriptions": [{"filter": "sensors/#", "qos": 1}]},
 "routes": {"unmatched": "refuse", "rules": [{"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"}]}}
EOF
  sleep 0.3
  "$gw" --config "$work/gw.json" --data-dir "$work/gw-data" --http "127.0.0.1:$hport" > "$work/gw.log" 2>&1 &
  gpid=$!
  pids+=("$gpid")
  wait_metric "$hport" tributary_gateway_bridge_connected 1
  sleep 0.3  # the SUBACK
  "$load" --target "127.0.0.1:$mport" --connections "$n" --inflight "$inflight" --payload-bytes "$payload" \
    --warmup-s "$warmup" --duration-s "$duration" > "$work/load.json" &
  lpid=$!
  sleep "$warmup"
  b1=$(bridged "$hport")
  t1=$(date +%s.%N)
  sleep "$duration"
  b2=$(bridged "$hport")
  t2=$(date +%s.%N)
  wait "$lpid" || true
  tend=$(date +%s.%N)
  # Catch up: until the count stops moving for 1 s (bounded: 120 s).
  last=-1
  for _ in $(seq 1 120); do
    now=$(bridged "$hport")
    [ "$now" = "$last" ] && break
    last=$now
    sleep 1
  done
  tcaught=$(date +%s.%N)
  kill -TERM "$gpid" "$mpid" 2>/dev/null || true
  wait "$gpid" "$mpid" 2>/dev/null || true
  pids=()
  /usr/bin/python3 - "$n" "$work/load.json" "$b1" "$b2" "$t1" "$t2" "$tend" "$tcaught" <<'EOF'
import json, sys
n, path, b1, b2, t1, t2, tend, tc = sys.argv[1:]
r = json.loads(open(path).read().strip().splitlines()[-1])
rate = (int(b2) - int(b1)) / (float(t2) - float(t1))
catch = max(0.0, float(tc) - float(tend) - 1.0)
load1 = open("/proc/loadavg").read().split()[0]
print(f"{int(n):<6} {r['acked_per_s']:12.0f} {rate:12.0f} {catch:12.1f} {load1:>10}")
EOF
done
