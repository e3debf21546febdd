"""Misbehaving clients get their defined answer and nobody else notices: an oversized packet, a
malformed remaining length, invalid UTF-8 in a topic, a wildcard in a PUBLISH topic, a first packet
that is not CONNECT, no CONNECT at all, an unsupported protocol version, an unrouted topic. While they
run, a well-behaved paho client publishes QoS 1 without pause; afterwards every one of its readings is
in the buffer and it was never disconnected."""
import threading

from gwlib import *

CONFIG = {"mqtt": {"max_packet_bytes": 65536, "connect_timeout_ms": 1000, "close_linger_ms": 500}}


class bystander:
    def __init__(self, port):
        self.c = paho_client(port, "bystander", version=3)
        check(self.c.wait_connack() == 0, "bystander connects")
        self.sent = []
        self.stop_flag = threading.Event()
        self.error = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            i = 0
            while not self.stop_flag.is_set() and i < 100000:
                p = f"by-{i}"
                self.c.publish_wait("sensors/bystander/temp", p, qos=1, timeout_s=10)
                self.sent.append(p)
                i += 1
        except Exception as e:  # reported by finish()
            self.error = e

    def finish(self, g):
        self.stop_flag.set()
        self.t.join(timeout=30)
        check(self.error is None, f"bystander failed: {self.error}")
        check(len(self.sent) > 10, f"bystander published only {len(self.sent)}")
        check(self.c.disconnects == [], f"bystander was disconnected: {self.c.disconnects}")
        self.c.stop()
        stored = [r["payload"].decode() for r in rows_with(g.rows(), key="bystander")]
        check(stored[:len(self.sent)] == self.sent, "every acknowledged bystander reading is stored, in order")


def expect_disconnect(c, reason):
    p = c.recv_packet()
    check(p is not None and p[0] == 14, f"expected DISCONNECT, got {p}")
    check(p[2][0] == reason, f"expected DISCONNECT 0x{reason:02x}, got 0x{p[2][0]:02x}")
    c.expect_closed()


def test_misbehaving_clients(build_dir, d):
    with gateway(build_dir, d, config=CONFIG) as g:
        b = bystander(g.port)

        # Oversized packet: 5.0 DISCONNECT 0x95, then close; 3.1.1: close.
        c = raw_client(g.port)
        check(c.connect("big5", version=5) == 0, "connect")
        c.send(publish_packet("sensors/big/x", b"x" * 70000, qos=1, version=5))
        expect_disconnect(c, 0x95)
        c = raw_client(g.port)
        check(c.connect("big3", version=4) == 0, "connect")
        c.send(publish_packet("sensors/big/x", b"x" * 70000, qos=1, version=4))
        c.expect_closed()

        # Malformed remaining length (five length bytes): 0x81.
        c = raw_client(g.port)
        c.connect("mrl", version=5)
        c.send(bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        expect_disconnect(c, 0x81)
        c = raw_client(g.port)
        c.connect("mrl3", version=4)
        c.send(bytes([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))
        c.expect_closed()

        # Invalid UTF-8 in a topic (an overlong NUL): 0x81.
        c = raw_client(g.port)
        c.connect("utf", version=5)
        c.send(publish_packet(b"sensors/\xc0\x80/x", b"v", qos=1, version=5))
        expect_disconnect(c, 0x81)
        c = raw_client(g.port)
        c.connect("utf3", version=4)
        c.send(publish_packet(b"sensors/\xed\xa0\x80/x", b"v", qos=1, version=4))  # a surrogate
        c.expect_closed()

        # A wildcard in a PUBLISH topic: 0x90 Topic Name invalid.
        c = raw_client(g.port)
        c.connect("wild", version=5)
        c.send(publish_packet("sensors/+/x", b"v", qos=1, version=5))
        expect_disconnect(c, 0x90)
        c = raw_client(g.port)
        c.connect("wild3", version=4)
        c.send(publish_packet("sensors/#", b"v", qos=0, version=4))
        c.expect_closed()

        # First packet not a CONNECT: closed. No CONNECT at all: closed after connect_timeout_ms.
        c = raw_client(g.port)
        c.send(bytes([0xC0, 0x00]))
        c.expect_closed()
        c = raw_client(g.port)
        t0 = time.monotonic()
        c.expect_closed(timeout_s=10)
        check(0.8 < time.monotonic() - t0 < 5, "closed after about connect_timeout_ms")

        # Unsupported protocol version: mosquitto_pub -V 31 (level 3) is told 0x01.
        r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-V", "31", "-t", "sensors/a/b", "-m", "x"])
        check(r.returncode != 0 and "unacceptable protocol version" in r.stderr, f"{r.returncode} {r.stderr}")

        # A second CONNECT: protocol error.
        c = raw_client(g.port)
        c.connect("twice", version=5)
        c.send(connect_packet("twice", version=5))
        expect_disconnect(c, 0x82)

        # No route: 5.0 PUBACK 0x90, the connection goes on; mosquitto_pub says so.
        c = raw_client(g.port)
        c.connect("noroute", version=5)
        c.send(publish_packet("nowhere/x", b"v", qos=1, pid=7, version=5))
        p = c.recv_packet()
        check(p == (4, 0, bytes([0, 7, 0x90])), f"PUBACK 0x90, got {p}")
        c.send(publish_packet("sensors/noroute/x", b"v", qos=1, pid=8, version=5))
        p = c.recv_packet()
        check(p[0] == 4 and p[2][:2] == bytes([0, 8]) and (len(p[2]) == 2 or p[2][2] == 0), f"PUBACK ok, got {p}")
        c.close()
        r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-V", "5", "-q", "1", "-t", "nowhere/y", "-m", "x"])
        check("Topic Name invalid" in r.stderr, r.stderr)

        # QoS 2 re-sent with the same id before PUBREL is stored once.
        c = raw_client(g.port)
        c.connect("dup2", version=5)
        for dup in (False, True, True):
            c.send(publish_packet("sensors/dup2/x", b"once", qos=2, pid=9, version=5, dup=dup))
            p = c.recv_packet()
            check(p[0] == 5 and p[2][:2] == bytes([0, 9]), f"PUBREC, got {p}")
        c.send(pubrel_packet(9))
        p = c.recv_packet()
        check(p[0] == 7, f"PUBCOMP, got {p}")
        c.close()

        # Clients that reset their connection (RST) with acknowledgements still to come: the gateway's
        # writes fail (EPIPE/ECONNRESET), it must not die of SIGPIPE.
        for i in range(5):
            c = raw_client(g.port)
            c.connect(f"rst{i}", version=4)
            for pid in range(1, 201):
                c.send(publish_packet(f"sensors/rst{i}/x", b"v" * 100, qos=1, pid=pid, version=4))
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        time.sleep(0.5)
        check(g.proc.poll() is None and g.healthy(), "the gateway survives resets")

        b.finish(g)
        check(len(rows_with(g.rows(), key="dup2")) == 1, "QoS 2 stored once")
        m = g.metrics()
        check(m['tributary_gateway_mqtt_disconnects_total{reason="packet_too_large"}'] == 2, m)
        check(m['tributary_gateway_mqtt_disconnects_total{reason="topic_name_invalid"}'] == 2, m)
        check(m['tributary_gateway_mqtt_dropped_total{reason="no_route"}'] == 2, m)
        check(m["tributary_gateway_mqtt_qos2_duplicates_total"] == 2, m)


if __name__ == "__main__":
    main([test_misbehaving_clients])
