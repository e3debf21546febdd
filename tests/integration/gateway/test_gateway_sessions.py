"""Sessions with real clients: the will on an abrupt close (a paho process killed with SIGKILL) and on
keep-alive expiry goes into the stream as a device-offline event; a normal DISCONNECT sends none, a
5.0 DISCONNECT 0x04 does; a second CONNECT with the same client id takes the session over (5.0: the
old client hears DISCONNECT 0x8E); a persistent session is resumed (session present)."""
import subprocess
import sys

from gwlib import *

WILL_CHILD = r"""
import sys, time
import paho.mqtt.client as mqtt
port, version = int(sys.argv[1]), int(sys.argv[2])
c = mqtt.Client(client_id="dev-will-%d" % version, protocol=mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311)
c.will_set("status/dev-will-%d" % version, "offline", qos=1)
c.on_connect = lambda *a, **k: print("connected", flush=True)
c.connect("127.0.0.1", port, keepalive=60)
c.loop_start()
time.sleep(60)
"""


def wills(g):
    return [r for r in g.rows() if r["headers"].get("tributary.event") == b"will"]


def test_will_on_abrupt_close(build_dir, d):
    with gateway(build_dir, d) as g:
        for version in (3, 5):
            p = subprocess.Popen([sys.executable, "-c", WILL_CHILD, str(g.port), str(version)], stdout=subprocess.PIPE,
                                 text=True)
            try:
                line = p.stdout.readline()
                check(line.strip() == "connected", f"child said {line!r}")
            finally:
                p.kill()
                p.wait(timeout=10)
            wait_for(lambda: len(wills(g)) == (1 if version == 3 else 2), 10, "the will reading")
        for version in (3, 5):
            w = rows_with(wills(g), key=f"dev-will-{version}")
            check(len(w) == 1, w)
            check(w[0]["topic"] == "status" and w[0]["payload"] == b"offline", w[0])
            check(w[0]["priority"] == 5, "the route's priority")
            check(w[0]["headers"]["tributary.will_reason"] == b"connection_lost", w[0]["headers"])
            check(w[0]["headers"]["tributary.client_id"] == f"dev-will-{version}".encode(), w[0]["headers"])


def test_will_on_keep_alive_expiry(build_dir, d):
    with gateway(build_dir, d) as g:
        c = paho_client(g.port, "dev-ka", version=5, keepalive=1, will=("status/dev-ka", "gone"))
        check(c.wait_connack() == 0, "connect")
        t0 = time.monotonic()
        c.c.loop_stop()  # the client goes silent: no PINGREQ, the socket stays open
        wait_for(lambda: len(wills(g)) == 1, 10, "the will after keep-alive expiry")
        elapsed = time.monotonic() - t0
        check(1.0 < elapsed < 4.0, f"expired after {elapsed:.2f}s (keep alive 1 s, enforced at 1.5x)")
        w = wills(g)[0]
        check(w["headers"]["tributary.will_reason"] == b"keep_alive_timeout", w["headers"])
        check(g.metric("tributary_gateway_mqtt_keep_alive_timeouts_total") == 1, "counted")
        # The raw view: DISCONNECT 0x8D, then close.
        r = raw_client(g.port)
        check(r.connect("dev-ka-raw", version=5, keepalive=1) == 0, "connect")
        p = r.recv_packet(timeout_s=5)
        check(p is not None and p[0] == 14 and p[2][0] == 0x8D, f"DISCONNECT 0x8D, got {p}")
        r.expect_closed()


def test_disconnect_and_will(build_dir, d):
    from paho.mqtt.reasoncodes import ReasonCodes
    from paho.mqtt.packettypes import PacketTypes
    with gateway(build_dir, d) as g:
        a = paho_client(g.port, "dev-clean", version=3, will=("status/dev-clean", "x"))
        check(a.wait_connack() == 0, "connect")
        a.stop(disconnect=True)
        b = paho_client(g.port, "dev-04", version=5, will=("status/dev-04", "bye"))
        check(b.wait_connack() == 0, "connect")
        b.c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, "Disconnect with will message"))
        wait_for(lambda: len(wills(g)) == 1, 10, "the will after DISCONNECT 0x04")
        b.c.loop_stop()
        time.sleep(0.3)
        w = wills(g)
        check(len(w) == 1 and w[0]["key"] == "dev-04", f"only the 0x04 client's will: {w}")
        check(w[0]["headers"]["tributary.will_reason"] == b"disconnect_with_will", w[0]["headers"])


def test_takeover(build_dir, d):
    with gateway(build_dir, d) as g:
        old = paho_client(g.port, "dev-dup", version=5, will=("status/dev-dup", "taken"))
        check(old.wait_connack() == 0, "first connect")
        new = paho_client(g.port, "dev-dup", version=5)
        check(new.wait_connack() == 0, "second connect")
        wait_for(lambda: old.disconnects, 10, "the old client's disconnect")
        check(old.disconnects == [0x8E], f"old client: DISCONNECT 0x8E, got {old.disconnects}")
        new.publish_wait("sensors/dev-dup/temp", "after-takeover", qos=1)
        check(new.disconnects == [], "the new client goes on")
        wait_for(lambda: len(wills(g)) == 1, 10, "the old connection's will")
        check(wills(g)[0]["headers"]["tributary.will_reason"] == b"session_taken_over", "will reason")
        new.stop()
        old.stop(disconnect=False)
        # 3.1.1: the old connection is closed (3.1.1 has no server DISCONNECT).
        a = raw_client(g.port)
        check(a.connect("dev-dup3", version=4) == 0, "first")
        b = raw_client(g.port)
        check(b.connect("dev-dup3", version=4) == 0, "second")
        a.expect_closed()
        check(g.metric("tributary_gateway_mqtt_takeovers_total") == 2, "counted")


def test_persistent_session(build_dir, d):
    with gateway(build_dir, d) as g:
        a = paho_client(g.port, "dev-p", version=3, clean=False)
        check(a.wait_connack() == 0 and a.session_present == 0, "new session")
        a.c.subscribe("cmd/dev-p", qos=1)
        a.publish_wait("sensors/dev-p/temp", "1", qos=2)
        a.stop()
        b = paho_client(g.port, "dev-p", version=3, clean=False)
        check(b.wait_connack() == 0 and b.session_present == 1, f"session resumed: {b.session_present}")
        b.stop()
        c = paho_client(g.port, "dev-p5", version=5, clean=False, session_expiry=300)
        check(c.wait_connack() == 0 and c.session_present == 0, "new 5.0 session")
        c.stop()
        e = paho_client(g.port, "dev-p5", version=5, clean=False, session_expiry=300)
        check(e.wait_connack() == 0 and e.session_present == 1, "5.0 session resumed")
        e.stop()
        check(g.metric("tributary_gateway_mqtt_sessions_detached") == 2, "two persistent sessions kept")


if __name__ == "__main__":
    main([test_will_on_abrupt_close, test_will_on_keep_alive_expiry, test_disconnect_and_will, test_takeover,
          test_persistent_session])
