#!/usr/bin/env bash
# gateway_ingest_bench.sh: durable QoS 1 ingest of 100-byte payloads into tributary-gateway, side by side
# with mosquitto 2.0 (persistence off) fed by the same load tool, from 100 and 1,000 connections; then
# the RSS of each server holding 10,000 idle connections. Prints figures; asserts nothing.
#
#   tests/bench/gateway_ingest_bench.sh [release-build-dir]
#   Without a build dir it configures and builds the release preset (build/release) first.
#   env: DURATION=10 (s measured per run)  WARMUP=3 (s)  INFLIGHT=10 (QoS 1 in flight per connection)
#        CONNS="100 1000"  IDLE=10000 (0 skips)  PAYLOAD=100  SYNC=full (buffer.synchronous)
#        REPEAT=1 (runs per server and connection count, alternating servers; on a shared machine take
#        the best of several). The last column is the 1-minute load average when the run ended.
#
# The load tool (tests/bench/gateway_load.cc) is one libuv loop speaking MQTT 3.1.1 with the project's
# codec: every connection keeps INFLIGHT QoS 1 PUBLISH packets in flight and measures each PUBACK's
# latency; it reports acknowledgements/s and p50/p99 over the window after the warm-up. (tributary-sim,
# built on Paho C's MQTTAsync, tops out near 2,000 QoS 1 msgs/s per process - see firmware-sim/README.md
# - so it would measure itself, not the servers.) Server CPU is utime+stime from /proc over the middle of
# the window, in % of one core, and per acknowledged message (us/msg); load_cpu is the load tool's; RSS is VmRSS at the end of the window and VmHWM (peak).
# Both servers and the load tool share this machine's cores: read the figures side by side, not as
# absolutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then  # default: the release preset, built here
  build=$root/build/release
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target tributary-gateway gateway_load >/dev/null)
fi
duration=${DURATION:-10}
warmup=${WARMUP:-3}
inflight=${INFLIGHT:-10}
conns=(${CONNS:-100 1000})
idle=${IDLE:-10000}
payload=${PAYLOAD:-100}
sync=${SYNC:-full}
gw="$build/gateway/tributary-gateway"
load="$build/tests/integration/gateway/gateway_load"
mosq=/usr/sbin/mosquitto
for b in "$gw" "$load" "$mosq"; do
  [ -x "$b" ] || { echo "missing $b (build the targets: tributary-gateway gateway_load)" >&2; exit 2; }
done

# 10,000 connections on both ends of 127.0.0.1: raise the descriptor limit as far as allowed.
ulimit -n "$(ulimit -Hn)" || true
fd_limit=$(ulimit -n)

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
wait_port() {
  for _ in $(seq 1 100); do
    /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not listen on $1" >&2
  return 1
}

start_gateway() {  # port
  local data="$work/gw-data-$1"
  rm -rf "$data"
  cat > "$work/gw.json" <<EOF
{"gateway": {"id": "bench"}, "log": {"level": "warn"},
 "mqtt": {"max_connections": 20000, "receive_maximum": 1024},
 "buffer": {"synchronous": "$sync", "quota_bytes": 4294967296},
 "routes": {"unmatched": "refuse", "rules": [{"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"}]}}
EOF
  "$gw" --config "$work/gw.json" --data-dir "$data" --listen "127.0.0.1:$1" --http "127.0.0.1:$(free_port)" \
    > "$work/gw.log" 2>&1 &
  server_pid=$!
  wait_port "$1"
}

start_mosquitto() {  # port
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\nmax_queued_messages 1000\nlog_type error\n' \
    "$1" > "$work/mosquitto.conf"
  "$mosq" -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
  server_pid=$!
  wait_port "$1"
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# One measured run: prints a result line. Args: server-name connections
run_load() {
  local name=$1 n=$2 port
  port=$(free_port)
  if [ "$name" = tributary-gateway ]; then start_gateway "$port"; else start_mosquitto "$port"; fi
  "$load" --target "127.0.0.1:$port" --connections "$n" --inflight "$inflight" --payload-bytes "$payload" \
    --warmup-s "$warmup" --duration-s "$duration" > "$work/load.json" &
  local load_pid=$!
  # CPU over the middle of the window (connections take a moment; the window starts after the warm-up).
  sleep "$(echo "$warmup + 1.5" | bc)"
  local t1 c1 l1 t2 c2 l2 rss hwm
  t1=$(date +%s.%N)
  c1=$(ticks "$server_pid")
  l1=$(ticks "$load_pid")
  sleep "$(echo "$duration - 2" | bc)"
  t2=$(date +%s.%N)
  c2=$(ticks "$server_pid")
  l2=$(ticks "$load_pid")
  rss=$(status_kb "$server_pid" VmRSS)
  hwm=$(status_kb "$server_pid" VmHWM)
  wait "$load_pid" || true
  stop_server
  /usr/bin/python3 - "$name" "$n" "$work/load.json" "$c1" "$c2" "$t1" "$t2" "$hz" "$rss" "$hwm" \
    "$l1" "$l2" <<'EOF'
import json, sys
name, n, path, c1, c2, t1, t2, hz, rss, hwm, l1, l2 = sys.argv[1:]
r = json.loads(open(path).read().strip().splitlines()[-1])
window = float(t2) - float(t1)
cpu = (float(c2) - float(c1)) / float(hz) / window * 100
load_cpu = (float(l2) - float(l1)) / float(hz) / window * 100
# Server CPU per acknowledged message: what the server costs, whoever else shares the cores.
us_per_msg = cpu / 100 * 1e6 / r['acked_per_s'] if r['acked_per_s'] else 0
load1 = open("/proc/loadavg").read().split()[0]
print(f"{name:18} {int(n):6} {r['connected']:6} {r['acked_per_s']:10.0f} {r['p50_ms']:9.2f} {r['p99_ms']:9.2f} "
      f"{cpu:7.0f}% {us_per_msg:8.2f} {load_cpu:7.0f}% {int(rss)/1024:8.1f} {int(hwm)/1024:8.1f} {r['refused']:7} "
      f"{load1:>6}")
EOF
}

run_idle() {  # server-name connections
  local name=$1 n=$2 port
  port=$(free_port)
  if [ "$name" = tributary-gateway ]; then start_gateway "$port"; else start_mosquitto "$port"; fi
  local base
  base=$(status_kb "$server_pid" VmRSS)
  "$load" --target "127.0.0.1:$port" --connections "$n" --idle --warmup-s 1 --duration-s 6 > "$work/idle.json" &
  local load_pid=$!
  # Sample once every connection is up (the tool holds them for the whole window).
  sleep 5
  for _ in $(seq 1 60); do
    grep -q connected "$work/idle.json" 2>/dev/null && break
    local est
    est=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
    [ "$est" -ge "$n" ] && break
    sleep 1
  done
  local rss hwm
  rss=$(status_kb "$server_pid" VmRSS)
  hwm=$(status_kb "$server_pid" VmHWM)
  wait "$load_pid" || true
  stop_server
  local connected
  connected=$(/usr/bin/python3 -c "import json; print(json.loads(open('$work/idle.json').read().strip().splitlines()[-1])['connected'])" 2>/dev/null || echo "?")
  printf '%-18s %6s %9s %10.1f %10.1f %10.1f %12.2f\n' "$name" "$n" "$connected" "$(echo "$base/1024" | bc -l)" \
    "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" "$(echo "($rss-$base)/$n" | bc -l)"
}

echo "gateway ingest benchmark: QoS 1, ${payload}-byte payloads, $inflight in flight per connection, ${warmup}s warm-up +" \
  "${duration}s measured; gateway buffer.synchronous=$sync; fd_limit=$fd_limit; $(nproc) cpus"
echo "$(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $("$mosq" -h 2>/dev/null | head -1)"
printf '%-18s %6s %6s %10s %9s %9s %8s %8s %8s %8s %8s %7s %6s\n' server conns up msgs/s p50_ms p99_ms cpu \
  us/msg load_cpu rss_MB hwm_MB refused load1
for n in "${conns[@]}"; do
  if [ "$((2 * n + 200))" -gt "$fd_limit" ]; then echo "skip $n connections: fd limit $fd_limit"; continue; fi
  for _ in $(seq 1 "${REPEAT:-1}"); do
    run_load tributary-gateway "$n"
    run_load mosquitto "$n"
  done
done

if [ "$idle" -gt 0 ]; then
  if [ "$((idle + 200))" -gt "$fd_limit" ]; then
    echo "skip the idle run: $idle connections need more than the fd limit $fd_limit"
  else
    echo
    echo "idle connections (MQTT 3.1.1 CONNECT, then nothing): server RSS"
    printf '%-18s %6s %9s %10s %10s %10s %12s\n' server conns connected base_MB rss_MB hwm_MB kB_per_conn
    run_idle tributary-gateway "$idle"
    run_idle mosquitto "$idle"
  fi
fi
