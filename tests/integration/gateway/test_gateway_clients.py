"""Real clients publish through the gateway at QoS 0, 1 and 2, and the buffer holds exactly what they
sent: mosquitto_pub (3.1.1, 5.0), python paho (3.1.1, 5.0), Paho MQTT C++ (3.1.1, 5.0). Subscribers
(mosquitto_sub, paho) to a command topic are accepted, not refused."""
import os

from gwlib import *


def test_mosquitto_pub_all_qos(build_dir, d):
    with gateway(build_dir, d) as g:
        for v in ("311", "5"):
            for q in (0, 1, 2):
                dev = f"mp{v}q{q}"
                r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-V", v, "-q", str(q),
                         "-i", dev, "-t", f"sensors/{dev}/temp", "-m", f"payload-{dev}"])
                check(r.returncode == 0, f"mosquitto_pub -V {v} -q {q}: {r.returncode} {r.stderr}")
        wait_for(lambda: len(g.rows()) == 6, 10, "6 readings")
        for v in ("311", "5"):
            for q in (0, 1, 2):
                dev = f"mp{v}q{q}"
                rows = rows_with(g.rows(), key=dev)
                check(len(rows) == 1, f"{dev}: {len(rows)} rows")
                r = rows[0]
                check(r["topic"] == "telemetry.temp", r["topic"])
                check(r["payload"] == f"payload-{dev}".encode(), r["payload"])
                h = r["headers"]
                check(h["tributary.gateway"] == b"gw-it", h)
                check(h["tributary.mqtt_topic"] == f"sensors/{dev}/temp".encode(), h)
                check(h["tributary.mqtt_qos"] == str(q).encode(), h)
                check(h["tributary.client_id"] == dev.encode(), h)
                check(abs(int(h["tributary.receive_ms"]) - r["receive_ms"]) == 0, h)
        m = g.metrics()
        check(m['tributary_gateway_mqtt_publishes_total{qos="1"}'] == 2, m)
        check(m["tributary_gateway_buffer_backlog_rows"] == 6, m)


def test_mosquitto_sub_command_topic_not_refused(build_dir, d):
    with gateway(build_dir, d) as g:
        for v in ("311", "5"):
            r = run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(g.port), "-V", v, "-q", "2", "-t", "cmd/dev-1/#",
                     "-W", "1", "-d"])
            check(r.returncode == 27, f"mosquitto_sub -V {v} should time out (27), got {r.returncode}: {r.stderr}")
            check("Subscribed (mid: 1): 2" in r.stdout, r.stdout)
        check(g.metric("tributary_gateway_mqtt_connects_total") == 2, "two connects")


def test_binary_payload_untouched(build_dir, d):
    with gateway(build_dir, d) as g:
        payload = bytes(range(256)) * 4
        path = os.path.join(d, "payload.bin")
        with open(path, "wb") as f:
            f.write(payload)
        r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-q", "1", "-t", "sensors/bin/raw", "-f", path])
        check(r.returncode == 0, r.stderr)
        rows = g.rows()
        check(len(rows) == 1 and rows[0]["payload"] == payload, "payload passes through untouched")


def test_paho_python_311_and_5(build_dir, d):
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    with gateway(build_dir, d) as g:
        c3 = paho_client(g.port, "paho3", version=3)
        check(c3.wait_connack() == 0, f"3.1.1 CONNACK {c3.connack}")
        for q in (0, 1, 2):
            if q == 0:
                c3.publish("sensors/paho3/temp", f"p3-q{q}", qos=0)
            else:
                c3.publish_wait("sensors/paho3/temp", f"p3-q{q}", qos=q)
        c5 = paho_client(g.port, "paho5", version=5)
        check(c5.wait_connack() == 0, f"5.0 CONNACK {c5.connack}")
        for q in (1, 2):
            c5.publish_wait("sensors/paho5/temp", f"p5-q{q}", qos=q)
        # 5.0 properties: content type and user properties become headers; a topic alias is resolved.
        props = Properties(PacketTypes.PUBLISH)
        props.ContentType = "application/json"
        props.UserProperty = [("site", "north")]
        props.TopicAlias = 1
        c5.publish_wait("sensors/paho5/hum", '{"h":40}', qos=1, properties=props)
        alias_only = Properties(PacketTypes.PUBLISH)
        alias_only.TopicAlias = 1
        c5.publish_wait("", '{"h":41}', qos=1, properties=alias_only)
        c3.stop()
        c5.stop()
        wait_for(lambda: len(g.rows()) == 7, 10, "7 readings")
        rows = g.rows()
        check(sorted(r["payload"] for r in rows_with(rows, key="paho3")) == [b"p3-q0", b"p3-q1", b"p3-q2"], rows)
        hum = rows_with(rows, topic="telemetry.hum")
        check(len(hum) == 2, hum)
        check(hum[0]["headers"]["tributary.content_type"] == b"application/json", hum[0])
        check(hum[0]["headers"]["site"] == b"north", hum[0])
        check(hum[1]["headers"]["tributary.mqtt_topic"] == b"sensors/paho5/hum", "alias resolved")
        check(not c3.disconnects or c3.disconnects == [0], c3.disconnects)


def test_paho_cpp(build_dir, d):
    client = binary(build_dir, "paho_cpp_client")
    with gateway(build_dir, d) as g:
        for v in (4, 5):
            for q in (1, 2):
                dev = f"cpp{v}q{q}"
                r = run([client, "--uri", f"tcp://127.0.0.1:{g.port}", "--id", dev, "--version", str(v), "--qos", str(q),
                         "--count", "50", "--topic", f"sensors/{dev}/temp", "--prefix", dev], timeout_s=60)
                check(r.returncode == 0 and "delivered 50" in r.stdout, f"{dev}: {r.returncode} {r.stdout} {r.stderr}")
        rows = g.rows()
        for v in (4, 5):
            for q in (1, 2):
                dev = f"cpp{v}q{q}"
                got = [x["payload"].decode() for x in rows_with(rows, key=dev)]
                check(got == [f"{dev}-{i}" for i in range(50)], f"{dev}: stored in order, once each: {got[:5]}...")


if __name__ == "__main__":
    main([test_mosquitto_pub_all_qos, test_mosquitto_sub_command_topic_not_refused, test_binary_payload_untouched,
          test_paho_python_311_and_5, test_paho_cpp])
