#!/usr/bin/env bash
# sim_fleet_bench.sh: the largest fleet tributary-sim runs at 1 reading/s per device, with the simulator's
# CPU and memory. For each fleet size it starts mosquitto on a free port (generated config,
# max_connections -1, raised fd limit), runs `tributary-sim run` for DURATION seconds at 1 reading/s per
# device, samples /proc/<pid>/stat and /proc/<pid>/status of the simulator (and mosquitto) over the steady
# part of the run (after the ramp-up), and prints one line per fleet. Prints figures; asserts nothing.
#
#   tests/bench/sim_fleet_bench.sh [build-dir] [fleet sizes...]
#   BUILD: cmake -S . -B build/h-sim-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && \
#          cmake --build build/h-sim-rel --target tributary-sim
#   env: DURATION=30 (s per fleet)  CONNECT_RATE=2000 (devices/s)  QOS=1  PAYLOAD=json  SIZE=0
#        BROKER=tcp://host:port (use a running MQTT server instead of starting mosquitto)
set -euo pipefail
build=${1:-$(dirname "$0")/../../build/h-sim-rel}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 5000 10000)
duration=${DURATION:-30}
connect_rate=${CONNECT_RATE:-2000}
qos=${QOS:-1}
payload=${PAYLOAD:-json}
size=${SIZE:-0}
sim="$build/firmware-sim/tributary-sim"
[ -x "$sim" ] || { echo "no $sim: build the tributary-sim target first (see the header)" >&2; exit 2; }

# Each device is one TCP connection, on both sides: raise the descriptor limit as far as allowed.
ulimit -n "$(ulimit -Hn)" || true
fd_limit=$(ulimit -n)

work=$(mktemp -d)
mq_pid=""
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  [ -n "$mq_pid" ] && kill "$mq_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime + stime, clock ticks
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

echo "tributary-sim fleet benchmark: ${duration}s per fleet at 1 reading/s per device, qos=$qos payload=$payload" \
  "size=$size connect_rate=${connect_rate}/s fd_limit=$fd_limit cpus=$(nproc)"
echo "$(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%8s %10s %12s %12s %9s %9s %10s %8s %9s %10s\n' devices connected rate_target acked_rate sim_cpu% \
  sim_rss sim_hwm threads mq_cpu% errors
for n in "${sizes[@]}"; do
  if [ "$((n + 64))" -gt "$fd_limit" ]; then
    printf '%8s skipped: needs %d descriptors, limit %d\n' "$n" "$((n + 64))" "$fd_limit"
    continue
  fi
  broker=${BROKER:-}
  if [ -z "$broker" ]; then
    port=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\n' "$port" \
      > "$work/mosquitto.conf"
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
    mq_pid=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
    broker="tcp://127.0.0.1:$port"
  fi
  "$sim" run --broker "$broker" --devices "$n" --rate 1 --duration "$duration" --connect-rate "$connect_rate" \
    --qos "$qos" --payload "$payload" --size "$size" --report "$work/report-$n.json" --drain-s 5 --close-s 10 \
    > /dev/null 2> "$work/sim-$n.log" &
  sim_pid=$!
  # Steady window: from the end of the ramp-up (+3 s) to 2 s before the end.
  ramp=$(( n / connect_rate + 3 ))
  window=$(( duration - ramp - 2 ))
  if [ "$window" -lt 5 ]; then
    echo "duration $duration too short for a $n-device ramp-up at $connect_rate/s" >&2
    kill "$sim_pid"; wait "$sim_pid" || true; sim_pid=""
    continue
  fi
  sleep "$ramp"
  t0=$(date +%s.%N); s0=$(ticks "$sim_pid"); m0=$([ -n "$mq_pid" ] && ticks "$mq_pid" || echo 0)
  sleep "$window"
  t1=$(date +%s.%N); s1=$(ticks "$sim_pid"); m1=$([ -n "$mq_pid" ] && ticks "$mq_pid" || echo 0)
  rss=$(status_kb "$sim_pid" VmRSS); threads=$(status_kb "$sim_pid" Threads)
  hwm=$(status_kb "$sim_pid" VmHWM)
  wait "$sim_pid" || echo "tributary-sim exited $? for $n devices (see below)" >&2
  sim_pid=""
  # Acknowledged rate over the same steady window from the progress lines (one per second), the fleet
  # connected at the window's end, and the errors in the report.
  read -r acked_rate connected errors < <(/usr/bin/python3 - "$work/sim-$n.log" "$work/report-$n.json" \
      "$ramp" "$((ramp + window))" <<'PY'
import json, re, sys
log, report, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rates, connected = [], 0
for line in open(log):
    m = re.match(r"^\[ *(\d+)s\] running connected=(\d+)/.*acked_rate=(\d+)/s", line)
    if m and a < int(m.group(1)) <= b:
        rates.append(int(m.group(3)))
        connected = int(m.group(2))
try:
    t = json.load(open(report))["totals"]
    errors = t["connect_failures"] + t["connection_losses"] + t["publish_failures"] + t["dropped"]
except Exception:
    errors = "?"
print(round(sum(rates) / len(rates)) if rates else "n/a", connected, errors)
PY
  )
  elapsed=$(echo "$t1 - $t0" | bc -l)
  sim_cpu=$(echo "100 * ($s1 - $s0) / $hz / $elapsed" | bc -l)
  mq_cpu=$(echo "100 * ($m1 - $m0) / $hz / $elapsed" | bc -l)
  printf '%8d %10s %12d %12s %9.1f %8.0fM %9.0fM %8s %9.1f %10s\n' "$n" "$connected" "$n" "$acked_rate" "$sim_cpu" \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$threads" "$mq_cpu" "$errors"
  grep -E '^summary:' "$work/sim-$n.log" | sed 's/^/         /'
  if [ -n "$mq_pid" ]; then kill "$mq_pid"; wait "$mq_pid" 2>/dev/null || true; mq_pid=""; fi
done
