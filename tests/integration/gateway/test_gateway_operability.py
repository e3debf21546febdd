"""Operability, the broker's conventions: --help, --print-config, --config-keys, config errors (exit 2,
naming the key), /metrics and /health, routes with a time-to-live, SIGTERM under load (exit 0, every
acknowledged reading stored, 5.0 clients told 0x8B), and the backlog logged after a restart."""
import json
import signal
import threading

from gwlib import *


def test_command_line(build_dir, d):
    gw = binary(build_dir, "tributary-gateway")
    r = run([gw, "--help"])
    check(r.returncode == 0, r.stderr)
    for flag in ("--config", "--data-dir", "--listen", "--http", "--set", "--print-config", "--config-keys", "passwd"):
        check(flag in r.stdout, f"--help mentions {flag}")
    g = gateway(build_dir, d)
    r = run(g.args() + ["--set", "buffer.overflow=drop-oldest", "--print-config"])
    check(r.returncode == 0, r.stderr)
    cfg = json.loads(r.stdout)
    check(cfg["mqtt"]["listen"] == f"127.0.0.1:{g.port}", cfg["mqtt"])
    check(cfg["buffer"]["overflow"] == "drop-oldest", cfg["buffer"])
    check(cfg["routes"]["rules"][0]["filter"] == "sensors/+device/+kind", cfg["routes"])
    r = run([gw, "--config-keys"])
    check(r.returncode == 0 and "`mqtt.receive_maximum`" in r.stdout and "`routes.rules`" in r.stdout, r.stdout[:500])
    r = run(g.args() + ["--set", "mqtt.receive_maximum=0"])
    check(r.returncode == 2 and 'key "mqtt.receive_maximum"' in r.stderr, r.stderr)
    r = run(g.args() + ["--set", "mqtt.nope=1"])
    check(r.returncode == 2 and "unknown key" in r.stderr, r.stderr)
    bad = gateway(build_dir, d, name="bad", routes={"rules": [{"filter": "a/+x", "topic": "t.{y}"}]})
    r = run(bad.args())
    check(r.returncode == 2 and 'routes.rules[0].topic' in r.stderr, r.stderr)


def test_metrics_and_health(build_dir, d):
    with gateway(build_dir, d) as g:
        h = g.health()
        check(h["status"] == "ok" and h["gateway"] == "gw-it", h)
        c = paho_client(g.port, "m1", version=5)
        c.wait_connack()
        for q in (0, 1, 2):
            c.publish_wait("sensors/m1/t", f"v{q}", qos=q) if q else c.publish("sensors/m1/t", "v0", qos=0)
        c.publish_wait("nowhere", "x", qos=1)
        wait_for(lambda: g.metric("tributary_gateway_buffer_backlog_rows") == 3, 10, "3 rows")
        m = g.metrics()
        for name in ["tributary_gateway_mqtt_connections", 'tributary_gateway_mqtt_publishes_total{qos="0"}',
                     'tributary_gateway_mqtt_publishes_total{qos="1"}', 'tributary_gateway_mqtt_publishes_total{qos="2"}',
                     "tributary_gateway_buffer_commit_rows_count", "tributary_gateway_buffer_commit_seconds_count",
                     "tributary_gateway_buffer_backlog_rows", "tributary_gateway_buffer_backlog_bytes",
                     "tributary_gateway_buffer_oldest_age_seconds", 'tributary_gateway_mqtt_dropped_total{reason="no_route"}']:
            check(name in m, f"/metrics has {name}")
        check(m["tributary_gateway_mqtt_connections"] == 1, m["tributary_gateway_mqtt_connections"])
        check(m['tributary_gateway_mqtt_publishes_total{qos="2"}'] == 1, "QoS 2 counted")
        check(m['tributary_gateway_mqtt_dropped_total{reason="no_route"}'] == 1, "no route counted")
        check(m["tributary_gateway_buffer_commit_rows_count"] >= 1, "commit batches observed")
        check(g.health()["buffer_rows"] == 3, g.health())
        c.stop()


def test_ttl_expiry(build_dir, d):
    routes = {"rules": [{"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}",
                         "ttl_ms": 300}]}
    with gateway(build_dir, d, routes=routes, config={"buffer": {"expire_interval_ms": 100}}) as g:
        r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-q", "1", "-t", "sensors/ttl/x", "-m", "old"])
        check(r.returncode == 0, r.stderr)
        rows = g.rows()
        check(len(rows) == 1 and rows[0]["expires_ms"] == rows[0]["receive_ms"] + 300, rows)
        wait_for(lambda: not g.rows(), 10, "the reading to expire")
        check(g.metric("tributary_gateway_buffer_expired_rows_total") == 1, "expiry counted")


def test_sigterm_under_load(build_dir, d):
    g = gateway(build_dir, d).start()
    try:
        clients = [paho_client(g.port, f"load{i}", version=5 if i % 2 else 3, max_inflight=50) for i in range(4)]
        for c in clients:
            check(c.wait_connack() == 0, "connect")
        sent = {c: {} for c in clients}  # mid -> payload
        stop = threading.Event()

        def pump(c, i):
            n = 0
            while not stop.is_set() and n < 20000:
                info = c.publish(f"sensors/load{i}/x", f"load{i}-{n}", qos=1)
                if info.rc != 0:
                    break
                sent[c][info.mid] = f"load{i}-{n}"
                n += 1
                if n % 50 == 0:
                    time.sleep(0.001)

        threads = [threading.Thread(target=pump, args=(c, i), daemon=True) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        wait_for(lambda: g.metric("tributary_gateway_buffer_backlog_rows") > 1000, 30, "some load")
        g.proc.send_signal(signal.SIGTERM)
        code = g.proc.wait(timeout=30)
        g.proc = None
        stop.set()
        for t in threads:
            t.join(timeout=10)
        check(code == 0, f"exit {code}")
        time.sleep(0.2)
        acked = set()
        for c in clients:
            acked |= {sent[c][m] for m in c.acked if m in sent[c]}
            c.stop(disconnect=False)
        stored = {r["payload"].decode() for r in g.rows()}
        missing = acked - stored
        check(not missing, f"{len(missing)} acknowledged readings missing, e.g. {sorted(missing)[:5]}")
        check(len(acked) > 1000, f"only {len(acked)} acknowledged")
        v5 = [c for c in clients if c.version == 5]
        check(all(c.disconnects and c.disconnects[0] == 0x8B for c in v5), [c.disconnects for c in v5])
        check("event=stopped" in g.log_text(), "a clean stop")
        # Restart: the backlog is reported.
        g.start()
        check(f"backlog_rows={len(stored)}" in g.log_text(), "backlog logged at start")
        check(g.stop() == 0, "second stop")
    finally:
        g.kill()


if __name__ == "__main__":
    main([test_command_line, test_metrics_and_health, test_ttl_expiry, test_sigterm_under_load])
