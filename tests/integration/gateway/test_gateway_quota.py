"""A full buffer, both overflow policies (buffer.overflow), as documented in gateway.json:
  reject       5.0: PUBACK/PUBREC 0x97 Quota exceeded, the connection goes on; 3.1.1: no acknowledgement,
               reading stops, the connection closes after mqtt.quota_backoff_ms (the client re-sends on
               reconnect), no will; QoS 0: dropped and counted.
  drop-oldest  every PUBLISH is acknowledged; the oldest readings are evicted and counted."""
from gwlib import *

PAYLOAD = b"q" * 50000  # about 20 of these fill the 1 MiB quota
QUOTA = {"quota_bytes": 1048576}


def test_reject(build_dir, d):
    cfg = {"buffer": dict(QUOTA, overflow="reject"), "mqtt": {"quota_backoff_ms": 500}}
    with gateway(build_dir, d, config=cfg) as g:
        c = raw_client(g.port)
        check(c.connect("full5", version=5) == 0, "connect")
        codes = []
        for pid in range(1, 31):
            c.send(publish_packet("sensors/full5/x", PAYLOAD, qos=1, pid=pid, version=5))
            p = c.recv_packet()
            check(p is not None and p[0] == 4 and p[2][:2] == pid.to_bytes(2, "big"), f"PUBACK {pid}, got {p}")
            codes.append(p[2][2] if len(p[2]) > 2 else 0)
        accepted = codes.count(0)
        check(15 <= accepted <= 21 and codes == [0] * accepted + [0x97] * (30 - accepted), f"codes {codes}")
        c.send(bytes([0xC0, 0x00]))
        check(c.recv_packet() == (13, 0, b""), "the 5.0 connection goes on (PINGRESP)")
        c.send(publish_packet("sensors/full5/x", PAYLOAD, qos=0, version=5))
        c.close()
        r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-V", "5", "-q", "1", "-t", "sensors/mp/x",
                 "-m", "x" * 60000])
        check("Quota exceeded" in r.stderr, r.stderr)

        # 3.1.1: no PUBACK, then closed after the back-off; its will is not published.
        c3 = raw_client(g.port)
        check(c3.connect("full3", version=4, will=("status/full3", "x")) == 0, "connect")
        t0 = time.monotonic()
        c3.send(publish_packet("sensors/full3/x", PAYLOAD, qos=1, pid=1, version=4))
        c3.expect_closed(timeout_s=10)
        check(0.4 < time.monotonic() - t0 < 5, "closed after about quota_backoff_ms")
        wait_for(lambda: g.metric('tributary_gateway_mqtt_dropped_total{reason="quota_exceeded"}') >= 30 - accepted + 3,
                 10, "drops counted")
        check(len(g.rows()) == accepted, f"{len(g.rows())} rows")
        check(not rows_with(g.rows(), topic="status"), "no will for a back-off close")
        check(g.metric("tributary_gateway_buffer_rejected_rows_total") >= 30 - accepted, "the buffer counted too")


def test_drop_oldest(build_dir, d):
    cfg = {"buffer": dict(QUOTA, overflow="drop-oldest")}
    with gateway(build_dir, d, config=cfg) as g:
        c = paho_client(g.port, "evict", version=3)
        check(c.wait_connack() == 0, "connect")
        for i in range(40):
            c.publish_wait("sensors/evict/x", PAYLOAD[:-4] + f"{i:04d}".encode(), qos=1)
        c.stop()
        rows = g.rows()
        check(10 <= len(rows) <= 21, f"{len(rows)} rows kept")
        tails = [int(r["payload"][-4:]) for r in rows]
        check(tails == list(range(40 - len(rows), 40)), f"the newest are kept, in order: {tails}")
        check(g.metric("tributary_gateway_buffer_evicted_rows_total") == 40 - len(rows), "evictions counted")
        check(g.metric('tributary_gateway_mqtt_dropped_total{reason="quota_exceeded"}') == 0, "nothing refused")


if __name__ == "__main__":
    main([test_reject, test_drop_oldest])
