"""Bridge mode against a real mosquitto started here (free port, a config file written here): readings
published to mosquitto by mosquitto_pub and python paho reach the gateway's buffer through the same
routes and headers as the listener's (3.1.1 and 5.0 bridge); the bridge reconnects with backoff when
mosquitto stops and comes back, and carries on; mode "instead" opens no MQTT listener; SIGTERM while
the bridge is held back by a full commit queue acknowledges everything it stored (no duplicates after
a restart); a bad bridge config exits 2 with an error naming the key."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwlib import *  # noqa: E402


def wait_bridge_up(g, timeout_s=15):
    wait_for(lambda: g.metric("tributary_gateway_bridge_connected") == 1, timeout_s, "bridge connected")
    wait_for(lambda: "event=subscribed" in g.log_text(), timeout_s, "the broker's SUBACK")


def mosquitto_pub(port, topic, payload, qos):
    r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", str(qos), "-t", topic, "-m", payload])
    check(r.returncode == 0, f"mosquitto_pub {topic}: {r.stderr}")


def by_payload(rows):
    return {r["payload"].decode(): r for r in rows}


def test_clients_through_mosquitto(build_dir, d):
    for protocol in ("3.1.1", "5.0"):
        m = mosquitto(d, name=f"mosq-{protocol}").start()
        t0 = int(time.time() * 1000)
        try:
            cfg = bridge_config(m.port, protocol=protocol, client_id=f"gw-bridge-{protocol}")
            with gateway(build_dir, d, config=cfg, name=f"gw-{protocol}") as g:
                wait_bridge_up(g)
                mosquitto_pub(m.port, "sensors/mp-0/temp", "mp-q0", 0)
                mosquitto_pub(m.port, "sensors/mp-1/temp", "mp-q1", 1)
                c = paho_client(m.port, f"paho-{protocol}", version=3)
                check(c.wait_connack() == 0, "paho connects to mosquitto")
                c.publish_wait("sensors/paho-1/hum", b"paho-q1", qos=1)
                c.publish_wait("sensors/paho-0/hum", b"paho-q0", qos=0)
                c.publish_wait("alarms/paho-2/fire/x", b"paho-q2", qos=2)
                c.publish_wait("sensors/odd", b"no-route", qos=1)  # subscribed, but no route matches
                c.stop()
                mosquitto_pub(g.port, "sensors/direct/temp", "direct", 1)  # mode "also": the listener too
                wait_for(lambda: len(g.rows()) >= 6, 15, "six readings in the buffer")
                time.sleep(0.2)  # nothing more may arrive (no-route is dropped)
                rows = g.rows()
                got = by_payload(rows)
                check(sorted(got) == ["direct", "mp-q0", "mp-q1", "paho-q0", "paho-q1", "paho-q2"],
                      f"stored payloads: {sorted(got)}")
                check(len(rows) == 6, f"each reading once: {len(rows)} rows")
                expect = {"mp-q0": ("telemetry.temp", "mp-0", "sensors/mp-0/temp", "0"),
                          "mp-q1": ("telemetry.temp", "mp-1", "sensors/mp-1/temp", "1"),
                          "paho-q1": ("telemetry.hum", "paho-1", "sensors/paho-1/hum", "1"),
                          "paho-q0": ("telemetry.hum", "paho-0", "sensors/paho-0/hum", "0"),
                          "paho-q2": ("alarms", "paho-2", "alarms/paho-2/fire/x", "2")}
                for payload, (topic, key, mqtt_topic, qos) in expect.items():
                    r = got[payload]
                    h = r["headers"]
                    check(r["topic"] == topic and r["key"] == key, f"{payload}: routed to {r['topic']}/{r['key']}")
                    check(h["tributary.gateway"] == b"gw-it", f"{payload}: gateway header")
                    check(h["tributary.mqtt_topic"].decode() == mqtt_topic, f"{payload}: mqtt topic header")
                    check(h["tributary.client_id"].decode() == f"gw-bridge-{protocol}", f"{payload}: client id")
                    check(h["tributary.mqtt_qos"].decode() == qos, f"{payload}: qos header {h['tributary.mqtt_qos']}")
                    check(t0 <= int(h["tributary.receive_ms"]) <= int(time.time() * 1000), f"{payload}: receive_ms")
                check(got["paho-q2"]["priority"] == 9, "the alarms route's priority")
                check(got["direct"]["headers"]["tributary.client_id"] != b"gw-bridge-" + protocol.encode(),
                      "the listener's reading carries its client's id")
                seqs = [r["seq"] for r in rows]
                check(seqs == sorted(set(seqs)), "gateway sequence numbers, one per reading")
                # The no-route message leaves no row: its count may trail the rows by a moment.
                wait_for(lambda: g.metric('tributary_gateway_bridge_dropped_total{reason="no_route"}') == 1, 10,
                         "the no-route message counted")
                mt = g.metrics()
                q = lambda n: mt.get(f'tributary_gateway_bridge_messages_total{{qos="{n}"}}', 0)  # noqa: E731
                check((q(0), q(1), q(2)) == (2, 3, 1), f"messages by QoS: {(q(0), q(1), q(2))}")
                check(mt.get("tributary_gateway_bridge_awaiting_commit") == 0, "nothing waits for a commit")
                check(mt.get("tributary_gateway_bridge_connected") == 1, "connected gauge")
        finally:
            m.stop()


def test_broker_restart(build_dir, d):
    m = mosquitto(d).start()
    try:
        with gateway(build_dir, d, config=bridge_config(m.port)) as g:
            wait_bridge_up(g)
            mosquitto_pub(m.port, "sensors/r1/temp", "before", 1)
            wait_for(lambda: len(g.rows()) == 1, 10, "the first reading")
            m.stop()  # SIGTERM: mosquitto saves the gateway's persistent session
            wait_for(lambda: g.metric("tributary_gateway_bridge_connected") == 0, 10, "bridge disconnected")
            wait_for(lambda: g.metric("tributary_gateway_bridge_connect_failures_total") >= 3, 15,
                     "reconnect attempts while the broker is down")
            check(g.healthy(), "the gateway stays healthy without its broker")
            m.start()  # same port, same persistence file
            wait_for(lambda: g.metric("tributary_gateway_bridge_connected") == 1, 15, "bridge reconnected")
            check(g.metric("tributary_gateway_bridge_reconnects_total") >= 1, "reconnect counted")
            check("session_present=true" in g.log_text(), "mosquitto kept the session across its restart")
            mosquitto_pub(m.port, "sensors/r2/temp", "after", 1)
            wait_for(lambda: len(g.rows()) == 2, 10, "the reading after the restart")
            check([r["payload"] for r in g.rows()] == [b"before", b"after"], "both readings, once each")
    finally:
        m.stop()


def test_mode_instead(build_dir, d):
    m = mosquitto(d).start()
    try:
        subs = [{"filter": "status/+", "qos": 1}]
        with gateway(build_dir, d, config=bridge_config(m.port, mode="instead", subscriptions=subs)) as g:
            wait_bridge_up(g)
            check("event=mqtt_listener_off" in g.log_text(), "the log says the listener is off")
            try:
                socket.create_connection(("127.0.0.1", g.port), timeout=2).close()
                fail(f"something listens on the gateway's MQTT port {g.port} in mode instead")
            except ConnectionRefusedError:
                pass
            check("tributary_gateway_mqtt_connections" not in g.metrics(), "no listener metrics")
            mosquitto_pub(m.port, "status/dev-9", "online", 1)
            wait_for(lambda: len(g.rows()) == 1, 10, "the bridged reading")
            r = g.rows()[0]
            check((r["topic"], r["key"], r["priority"]) == ("status", "dev-9", 5), f"routed: {r}")
            h = g.health()
            check(h["bridge_connected"] is True and h["connections"] == 0, f"/health: {h}")
    finally:
        m.stop()


def test_sigterm_under_backpressure(build_dir, d):
    """A commit queue of one reading: the bridge holds readings and stops reading mosquitto while the
    buffer is busy. SIGTERM in the middle of 2,000 QoS 1 readings: the gateway commits what it took and
    acknowledges it before DISCONNECT, so after a restart every reading is there exactly once (a
    duplicate would mean a reading was stored but its PUBACK never reached mosquitto)."""
    n = 2000
    m = mosquitto(d, max_inflight=50).start()
    cfg = bridge_config(m.port, mode="instead", subscriptions=[{"filter": "sensors/#", "qos": 1}])
    cfg["buffer"] = {"commit_queue_rows_max": 1, "synchronous": "normal"}  # one row per commit: no fsync each
    g = gateway(build_dir, d, config=cfg).start()
    c = None
    try:
        wait_bridge_up(g)
        c = paho_client(m.port, "bp-pub", version=3, max_inflight=100)
        check(c.wait_connack() == 0, "publisher connects to mosquitto")
        infos = [c.publish("sensors/bp/x", f"bp-{i}", qos=1) for i in range(n)]
        bridged = lambda: g.metric('tributary_gateway_bridge_messages_total{qos="1"}')  # noqa: E731
        wait_for(lambda: bridged() >= n // 3, 60, f"{n // 3} bridged readings")
        check(g.metric("tributary_gateway_bridge_held_total") > 0, "readings waited for the commit queue")
        check(g.stop() == 0, "clean stop while bridging")
        stopped_with = len(g.rows())
        wait_for(lambda: all(i.is_published() for i in infos), 60, "mosquitto acknowledged every publish")
        g.start()
        try:
            wait_for(lambda: len(g.rows()) >= n, 60, f"{n} readings after the restart", interval_s=0.2)
        except AssertionError:
            pass  # reported below
        time.sleep(0.3)  # a duplicate would come with the rest
        stored = [r["payload"].decode() for r in g.rows()]
        missing = {f"bp-{i}" for i in range(n)} - set(stored)
        check(not missing, f"{len(missing)} readings missing, e.g. {sorted(missing)[:5]}")
        check(len(stored) == n, f"{len(stored) - n} duplicates after a clean stop (stopped with {stopped_with})")
        print(f"stopped with {stopped_with} of {n} stored; all {n} once after the restart", flush=True)
        check(g.stop() == 0, "clean stop")
    finally:
        if c is not None:
            c.stop()
        g.kill()
        m.stop()


def test_bad_bridge_config(build_dir, d):
    bin = binary(build_dir, "tributary-gateway")
    cases = [
        ({"enabled": True, "subscriptions": [{"filter": "sensors/#", "qos": 3}]},
         'key "bridge.subscriptions[0].qos": 3 is outside [0, 2]'),
        ({"enabled": True, "subscriptions": [{"filter": "a/#/b"}]}, 'key "bridge.subscriptions[0].filter"'),
        ({"enabled": True, "broker": "localhost:1883", "subscriptions": [{"filter": "#"}]}, 'key "bridge.broker"'),
        ({"enabled": True}, 'key "bridge.subscriptions": empty'),
        ({"mode": "instead"}, 'key "bridge.mode"'),
        ({"mode": "sometimes"}, 'key "bridge.mode"'),
        ({"enabled": "yes"}, 'key "bridge.enabled"'),
        ({"enabled": True, "password": "x", "subscriptions": [{"filter": "#"}]}, 'key "bridge.password"'),
        ({"subscriptions": [{"topic": "#"}]}, 'unknown key "bridge.subscriptions[0].topic"'),
    ]
    for i, (bridge, expect) in enumerate(cases):
        conf = os.path.join(d, f"bad-{i}.json")
        with open(conf, "w") as f:
            json.dump({"bridge": bridge}, f)
        r = run([bin, "--config", conf, "--data-dir", os.path.join(d, "data"), "--listen", "127.0.0.1:0",
                 "--http", "127.0.0.1:0"])
        check(r.returncode == 2, f"case {i}: exit {r.returncode}, stderr {r.stderr}")
        check(expect in r.stderr, f"case {i}: expected {expect!r} in {r.stderr!r}")
        check("runtime error" not in r.stderr and "Sanitizer" not in r.stderr, f"case {i}: {r.stderr}")
    r = run([bin, "--set", "bridge.reconnect_max_ms=5", "--print-config"])
    check(r.returncode == 2 and 'key "bridge.reconnect_max_ms"' in r.stderr, f"--set: {r.stderr}")


if __name__ == "__main__":
    if not mosquitto.available():
        print("skip: mosquitto is not installed")
        sys.exit(SKIP)
    main([test_clients_through_mosquitto, test_broker_restart, test_mode_instead, test_sigterm_under_backpressure,
          test_bad_bridge_config])
