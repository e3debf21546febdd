"""The whole path: mosquitto_pub (MQTT 3.1.1 and 5.0, QoS 1) -> tributary-gateway -> tributary-broker,
read back by kcat and by confluent-kafka: payload, key and headers intact (the route's topic and key,
tributary.gateway, tributary.gateway_seq, tributary.mqtt_topic, 5.0 user properties); the gateway's
/metrics shows the forwarder; after a clean stop the buffer is empty and `dlq list` works on it."""
import json
import os
import subprocess
import sys

import fwdlib
from fwdlib import check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway"))
import gwlib  # noqa: E402

COUNT = 200


def main(args, workdir):
    if not args.gateway or not os.access(args.gateway, os.X_OK):
        print("no --gateway binary")
        sys.exit(fwdlib.SKIP)
    build_dir = os.path.dirname(os.path.dirname(os.path.abspath(args.gateway)))
    b = fwdlib.brokerlib.broker(args.broker, workdir).start()
    try:
        g = gwlib.gateway(build_dir, workdir, config={"forwarder": {"bootstrap_servers": b.bootstrap, "linger_ms": 5}})
        with g:
            lines = "\n".join(json.dumps({"device": "dev-7", "seq": i, "ts_ms": 1700000000000 + i})
                              for i in range(1, COUNT + 1)) + "\n"
            pub = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-q", "1", "-i", "it-pub",
                                  "-t", "sensors/dev-7/temp", "-l"], input=lines, text=True, capture_output=True,
                                 timeout=60)
            check(pub.returncode == 0, f"mosquitto_pub: {pub.stderr}")
            pub5 = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-q", "1", "-V", "mqttv5",
                                   "-i", "it-pub5", "-t", "sensors/dev-8/temp", "-D", "publish", "user-property",
                                   "site", "north", "-m", json.dumps({"device": "dev-8", "seq": 1, "ts_ms": 1})],
                                  text=True, capture_output=True, timeout=30)
            check(pub5.returncode == 0, f"mosquitto_pub v5: {pub5.stderr}")
            fwdlib.wait_for(lambda: g.metric("tributary_gateway_forwarder_forwarded_rows_total") >= COUNT + 1, 60,
                            "the gateway to forward every reading")
            m = g.metrics()
            check(m.get("tributary_gateway_forwarder_uplink_up") == 1, f"uplink_up: {m.get('tributary_gateway_forwarder_uplink_up')}")
            fwdlib.wait_for(lambda: g.metric("tributary_gateway_buffer_backlog_rows") == 0, 30, "an empty backlog")

        records = fwdlib.consume_all(b.bootstrap, "telemetry.temp", COUNT + 1)
        check(len(records) == COUNT + 1, f"{len(records)} records, expected {COUNT + 1}")
        seqs = []
        gseqs = set()
        for r in records:
            v = json.loads(r["value"])
            h = r["headers"]
            check(r["key"] == v["device"].encode(), f"key {r['key']} for {v['device']}")
            check(h.get("tributary.gateway") == b"gw-it", f"headers {h}")
            check(h.get("tributary.mqtt_topic") == f"sensors/{v['device']}/temp".encode(), f"headers {h}")
            gseqs.add(int(h["tributary.gateway_seq"]))
            if v["device"] == "dev-7":
                seqs.append(v["seq"])
            else:
                check(h.get("site") == b"north", f"5.0 user property lost: {h}")
        check(seqs == list(range(1, COUNT + 1)), "dev-7 readings in order, each once")
        check(len(gseqs) == COUNT + 1, "one gateway seq per reading")

        k = fwdlib.kcat_consume(b.bootstrap, "telemetry.temp")
        check(len(k) == COUNT + 1, f"kcat read {len(k)}")
        for env in k:
            v = json.loads(env["payload"])
            hd = env.get("headers") or {}
            if isinstance(hd, list):
                hd = dict(zip(hd[0::2], hd[1::2]))
            check(env["key"] == v["device"] and hd.get("tributary.gateway") == "gw-it", f"kcat: {env}")

        out = subprocess.run([args.gateway, "dlq", "list", "--data-dir", g.data_dir], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 0, f"dlq list: {out.stderr}")
        check("0 dead letters" in out.stdout, f"dlq list: {out.stdout}")
        print(f"mosquitto_pub -> gateway -> broker: {COUNT + 1} readings, kcat and confluent-kafka agree")
    finally:
        b.kill()


if __name__ == "__main__":
    a = fwdlib.parse_args()
    fwdlib.run_test(a, main)
