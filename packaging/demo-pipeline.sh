#!/usr/bin/env bash
# The whole path on this machine, called by demo.sh once every component is built:
#   simulated devices --MQTT QoS 1--> tributary-gateway (SQLite buffer, forwarder)
#     --Kafka, acks=all--> tributary-broker --consumer group--> tributary-sim verify
# and the verifier's counts: sent, acknowledged, received, lost, duplicated, latency.
#   demo-pipeline.sh <build dir> <work dir> [nodes]
# nodes: 1 (default) runs one broker node; 3 runs a local three-node cluster (Raft-replicated
# partitions, the topic at replication factor 3), and the gateway and the verifier use all three.
# Environment (all optional): DEMO_DEVICES (200), DEMO_RATE (readings/s per device, 5), DEMO_SECONDS (20).
# Everything listens on 127.0.0.1 on free ports; the processes started here are stopped by pid.
set -euo pipefail
bin=$1
work=$2
nodes=${3:-1}
devices=${DEMO_DEVICES:-200}
rate=${DEMO_RATE:-5}
seconds=${DEMO_SECONDS:-20}
topic=telemetry
py=/usr/bin/python3
mkdir -p "$work"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() {  # wait_health <name> <http port> <pid>
  local i
  for i in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$2/health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "demo: $1 exited at start; its log:" >&2
      cat "$work/$1.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "demo: $1 not healthy after 10 s; its log: $work/$1.log" >&2
  exit 1
}

mqtt_port=$(free_port)
gateway_http=$(free_port)

# Broker nodes: one, or a cluster whose nodes are all controller voters (cluster.seeds).
kafka_ports=()
http_ports=()
rpc_ports=()
for i in $(seq 1 "$nodes"); do
  kafka_ports+=("$(free_port)")
  http_ports+=("$(free_port)")
  rpc_ports+=("$(free_port)")
done
seeds=""
bootstrap=""
for i in $(seq 1 "$nodes"); do
  seeds+="${seeds:+,}$i@127.0.0.1:${rpc_ports[$((i - 1))]}"
  bootstrap+="${bootstrap:+,}127.0.0.1:${kafka_ports[$((i - 1))]}"
done
for i in $(seq 1 "$nodes"); do
  kp=${kafka_ports[$((i - 1))]}
  hp=${http_ports[$((i - 1))]}
  name=broker
  args=()
  if [ "$nodes" -gt 1 ]; then
    name=broker$i
    args=(--node-id "$i" --set "cluster.seeds=$seeds" --set "cluster.listen=127.0.0.1:${rpc_ports[$((i - 1))]}")
  fi
  echo "== $name: Kafka on 127.0.0.1:$kp, /metrics on :$hp =="
  "$bin/cluster/tributary-broker" --data-dir "$work/$name" --listen "127.0.0.1:$kp" \
    --http "127.0.0.1:$hp" "${args[@]}" >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_health "$name" "$hp" "${pids[-1]}"
done
if [ "$nodes" -gt 1 ]; then
  # The topic exists once the controller quorum committed it and every partition has a leader.
  for i in $(seq 1 100); do
    if "$bin/cluster/tributary" -b "$bootstrap" topic create "$topic" --partitions 6 \
      --replication-factor "$nodes" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  for i in $(seq 1 150); do
    if "$bin/cluster/tributary" -b "$bootstrap" topic describe "$topic" --json 2>/dev/null |
      $py -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d["partitions"]) == 6 and all(p["leader"] >= 0 and not p["error"] for p in d["partitions"]) else 1)'; then
      break
    fi
    sleep 0.2
  done
  "$bin/cluster/tributary" cluster status --admin "127.0.0.1:${http_ports[0]}"
  "$bin/cluster/tributary" -b "$bootstrap" topic describe "$topic"
else
  "$bin/cluster/tributary" -b "$bootstrap" topic create "$topic" --partitions 6
fi

echo "== gateway: MQTT on 127.0.0.1:$mqtt_port, /metrics on :$gateway_http, forwarding to the broker =="
cat >"$work/gateway.json" <<EOF
{
  "gateway": {"id": "demo-gateway"},
  "routes": {
    "unmatched": "refuse",
    "rules": [{"filter": "sensors/+device/telemetry", "topic": "$topic", "key": "{device}"}]
  },
  "forwarder": {"enabled": true, "bootstrap_servers": "$bootstrap"}
}
EOF
"$bin/gateway/tributary-gateway" --config "$work/gateway.json" --data-dir "$work/gateway" \
  --listen "127.0.0.1:$mqtt_port" --http "127.0.0.1:$gateway_http" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_health gateway "$gateway_http" "${pids[-1]}"

echo "== fleet: $devices devices x $rate readings/s for $seconds s, QoS 1 =="
"$bin/firmware-sim/tributary-sim" run --broker "tcp://127.0.0.1:$mqtt_port" --devices "$devices" \
  --rate "$rate" --qos 1 --duration "$seconds" --topic 'sensors/{device}/telemetry' \
  --report "$work/run.json" --progress-ms 5000

echo "== verify: consume '$topic' from the broker as a consumer group, match against the run report =="
set +e
"$bin/firmware-sim/tributary-sim" verify --report "$work/run.json" --bootstrap "$bootstrap" \
  --topic "$topic" --idle-s 5 --timeout-s 120 | tee "$work/verify.txt"
rc=${PIPESTATUS[0]}
set -e

echo "== gateway buffer after the run =="
curl -sf "http://127.0.0.1:$gateway_http/metrics" |
  grep -E '^tributary_(gateway_)?(buffer_rows|forwarder_[a-z_]*(rows|sent|delivered|dead)[a-z_]*) ' || true
sent=$($py -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["sent"], t["acked"])' "$work/run.json")
field() { sed -n "s/^verify: .* $1=\([0-9]*\).*/\1/p" "$work/verify.txt"; }
echo
echo "== result: sent ${sent% *}, acknowledged by the gateway ${sent#* }, received by the consumer $(field arrived)," \
  "lost $(field lost), duplicated $(field duplicated) =="
if [ "$rc" -eq 0 ]; then
  echo "demo: every acknowledged reading arrived (lost = 0)"
  cleanup
  trap - EXIT
  rm -rf "$work"
else
  echo "demo: verify reported a problem (exit $rc); logs kept in $work" >&2
  trap - EXIT
  cleanup
  exit "$rc"
fi
