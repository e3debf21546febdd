#!/usr/bin/env bash
# e2e_bench.sh: end to end, device -> tributary-gateway -> tributary-broker -> consumer, on this machine.
# For each offered rate: tributary-sim processes publish MQTT QoS 1 readings (1 reading/s per device) into
# the gateway for SECONDS; the gateway buffers them durably and forwards them (acks=all, lz4); then
# `tributary-sim verify` consumes the topic as a consumer group and reports lost / duplicated / reordered
# and latency. The topic uses message.timestamp.type=LogAppendTime, so latency = the broker's append
# time minus the device's send time: device -> gateway (commit) -> forwarder -> broker (fsync).
# Prints, per rate: offered and acknowledged readings/s, lost, duplicated, latency p50/p99 (per simulator
# process; the row shows the median of their p50s and the largest p99). Figures only; nothing asserted.
#
#   tests/bench/e2e_bench.sh [release-build-dir]   (default: build the release preset)
#   env: RATES="2000 10000 20000" (readings/s offered)  SECONDS_PER_RUN=30  PER_PROC=1500 (devices per
#        simulator process: Paho's QoS 1 ceiling is ~2,000 acked/s per process, firmware-sim/README.md)
# Every process listens on 127.0.0.1 free ports and is stopped by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  build=$root/build/release
  (cd "$root" && cmake --preset release >/dev/null &&
    cmake --build --preset release --target tributary-broker tributary-gateway tributary-sim tributary >/dev/null)
fi
rates=(${RATES:-2000 10000 20000})
seconds=${SECONDS_PER_RUN:-30}
per_proc=${PER_PROC:-1500}
py=/usr/bin/python3

work=$(mktemp -d -p /var/tmp trib-e2e.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() {
  local i
  for i in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "e2e_bench: no /health on :$1" >&2
  exit 1
}

kport=$(free_port) khttp=$(free_port) mport=$(free_port) ghttp=$(free_port)
"$build/cluster/tributary-broker" --data-dir "$work/broker" --listen "127.0.0.1:$kport" \
  --http "127.0.0.1:$khttp" >"$work/broker.log" 2>&1 &
pids+=($!)
wait_health "$khttp"
cat >"$work/gateway.json" <<EOF
{
  "gateway": {"id": "bench-gateway"},
  "log": {"level": "warn"},
  "routes": {"unmatched": "refuse",
             "rules": [{"filter": "bench/+run/+device", "topic": "e2e-{run}", "key": "{device}"}]},
  "forwarder": {"enabled": true, "bootstrap_servers": "127.0.0.1:$kport", "compression": "lz4"}
}
EOF
"$build/gateway/tributary-gateway" --config "$work/gateway.json" --data-dir "$work/gateway" \
  --listen "127.0.0.1:$mport" --http "127.0.0.1:$ghttp" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_health "$ghttp"

echo "e2e bench: $(nproc) cores shared by broker, gateway, simulators and verifier; QoS 1, JSON readings," \
  "1/s per device, ${seconds}s per rate"
printf '%-10s %6s %12s %12s %8s %8s %10s %10s\n' offered procs acked_per_s acked lost dup p50_ms p99_ms
for rate in "${rates[@]}"; do
  topic=e2e-r$rate
  "$build/cluster/tributary" -b "127.0.0.1:$kport" topic create "$topic" --partitions 6 \
    -c message.timestamp.type=LogAppendTime >/dev/null
  procs=$(((rate + per_proc - 1) / per_proc))
  devices=$((rate / procs))
  sims=()
  for k in $(seq 1 "$procs"); do
    "$build/firmware-sim/tributary-sim" run --broker "tcp://127.0.0.1:$mport" --devices "$devices" --rate 1 \
      --qos 1 --duration "$seconds" --connect-rate 2000 --topic "bench/r$rate/{device}" \
      --name-template "r$rate-p$k-{index}" --report "$work/r$rate-p$k.json" --quiet --log-level warn \
      --drain-s 30 &
    sims+=($!)
  done
  for s in "${sims[@]}"; do wait "$s" || true; done
  acked=0 lost=0 dup=0 p50s=() p99=0
  for k in $(seq 1 "$procs"); do
    out=$("$build/firmware-sim/tributary-sim" verify --report "$work/r$rate-p$k.json" \
      --bootstrap "127.0.0.1:$kport" --topic "$topic" --idle-s 5 --timeout-s 180 2>/dev/null || true)
    a=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["acked"])' "$work/r$rate-p$k.json")
    acked=$((acked + a))
    lost=$((lost + $(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$out")))
    dup=$((dup + $(sed -n 's/.* duplicated=\([0-9]*\).*/\1/p' <<<"$out")))
    p50s+=("$(sed -n 's/^latency_ms: p50=\([0-9]*\).*/\1/p' <<<"$out")")
    q=$(sed -n 's/^latency_ms: .* p99=\([0-9]*\).*/\1/p' <<<"$out")
    [ "${q:-0}" -gt "$p99" ] && p99=$q
  done
  p50=$(printf '%s\n' "${p50s[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-10s %6s %12s %12s %8s %8s %10s %10s\n' "$rate" "$procs" "$((acked / seconds))" "$acked" "$lost" \
    "$dup" "$p50" "$p99"
done
