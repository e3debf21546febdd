"""Helpers for the tributary-gateway integration tests: free ports, the gateway process (started on
127.0.0.1 with a temporary data dir, stopped by its pid), its metrics, the rows of its SQLite buffer,
a raw MQTT client for what no real client sends, and bounded waits. Processes are ours: each is
signalled by its pid, and every wait is bounded."""
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77  # CTest SKIP_RETURN_CODE

DEFAULT_ROUTES = {
    "unmatched": "refuse",
    "rules": [
        {"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"},
        {"filter": "status/+device", "topic": "status", "key": "{device}", "priority": 5},
        {"filter": "alarms/+device/#rest", "topic": "alarms", "key": "{device}", "priority": 9, "ttl_ms": 3600000},
    ],
}


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout_s, what, interval_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def binary(build_dir, name):
    for p in [os.path.join(build_dir, "gateway", name), os.path.join(build_dir, "tests", "integration", "gateway", name)]:
        if os.path.exists(p):
            return p
    fail(f"{name} not built under {build_dir}")


class gateway:
    """tributary-gateway on 127.0.0.1 free ports, data in its own temporary directory."""

    def __init__(self, build_dir, workdir, config=None, routes=None, name="gw"):
        self.build_dir = build_dir
        self.bin = binary(build_dir, "tributary-gateway")
        self.workdir = workdir
        self.port = free_port()
        self.http_port = free_port()
        self.data_dir = os.path.join(workdir, f"{name}-data")
        self.conf = os.path.join(workdir, f"{name}.json")
        self.log = os.path.join(workdir, f"{name}.log")
        cfg = {"gateway": {"id": "gw-it"}, "mqtt": {"close_linger_ms": 500}, "routes": routes or DEFAULT_ROUTES}
        for section, values in (config or {}).items():
            cfg.setdefault(section, {}).update(values)
        with open(self.conf, "w") as f:
            json.dump(cfg, f, indent=2)
        self.proc = None

    def args(self):
        return [self.bin, "--config", self.conf, "--data-dir", self.data_dir,
                "--listen", f"127.0.0.1:{self.port}", "--http", f"127.0.0.1:{self.http_port}"]

    def start(self, timeout_s=20):
        check(self.proc is None, "already started")
        logf = open(self.log, "a")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(self.args(), stdout=logf, stderr=logf, env=env)
        logf.close()
        try:
            wait_for(lambda: self.healthy() or self.proc.poll() is not None, timeout_s, "gateway /health")
        except AssertionError:
            self.kill()
            raise
        if self.proc.poll() is not None:
            code = self.proc.returncode
            self.proc = None
            fail(f"gateway exited with {code} at start: {self.log_text()[-3000:]}")
        return self

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.proc is None:
            return False
        if exc_type is not None:
            self.kill()
            print(f"gateway log ({self.log}):\n" + self.log_text()[-4000:], file=sys.stderr)
            return False
        code = self.stop()
        check(code == 0, f"gateway exited with {code} after SIGTERM: {self.log_text()[-3000:]}")
        self.check_sanitizers()
        return False

    def check_sanitizers(self):
        text = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            check(marker not in text, f"sanitizer report in the gateway log: {text[text.find(marker) - 200:][:3000]}")

    def healthy(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/health", timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def health(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/health", timeout=5) as r:
            return json.loads(r.read())

    def metrics(self):
        """{'name{labels}': value} from /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
        return out

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def stop(self, timeout_s=30):
        """SIGTERM; returns the exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
            fail("gateway did not stop within %ss after SIGTERM" % timeout_s)
        self.proc = None
        self.check_sanitizers()
        return code

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def db_path(self):
        return os.path.join(self.data_dir, "buffer.db")

    def rows(self):
        return read_rows(self.db_path())


def decode_headers(blob):
    """The buffer's headers column (gateway/buffer/reading.h) as a dict (last value wins)."""
    if not blob:
        return {}
    b = bytes(blob)
    check(b[0] == 1, "headers encoding version 1")
    pos = 1

    def uvarint():
        nonlocal pos
        shift = 0
        v = 0
        while True:
            x = b[pos]
            pos += 1
            v |= (x & 0x7F) << shift
            if not x & 0x80:
                return v
            shift += 7

    count = uvarint()
    out = {}
    for _ in range(count):
        klen = uvarint()
        key = b[pos:pos + klen].decode()
        pos += klen
        z = uvarint()
        vlen = (z >> 1) ^ -(z & 1)
        if vlen < 0:
            out[key] = None
        else:
            out[key] = b[pos:pos + vlen]
            pos += vlen
    check(pos == len(b), "no bytes after the last header")
    return out


def read_rows(path):
    """Every reading in the buffer, in seq order, as dicts (headers decoded)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        cur = con.execute("SELECT seq, receive_ms, priority, expires_ms, topic, key, headers, payload FROM readings ORDER BY seq")
        rows = []
        for seq, receive_ms, priority, expires_ms, topic, key, headers, payload in cur:
            rows.append({"seq": seq, "receive_ms": receive_ms, "priority": priority, "expires_ms": expires_ms,
                         "topic": topic, "key": bytes(key).decode() if key is not None else None,
                         "headers": decode_headers(headers), "payload": bytes(payload)})
        return rows
    finally:
        con.close()


def rows_with(rows, **match):
    out = []
    for r in rows:
        ok = True
        for k, v in match.items():
            if k.startswith("h_"):
                hv = r["headers"].get("tributary." + k[2:])
                if hv is None or hv.decode() != v:
                    ok = False
            elif r.get(k) != v:
                ok = False
        if ok:
            out.append(r)
    return out


# --- a raw MQTT client: exact bytes, exact answers ---------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def mqtt_str(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">H", len(s)) + s


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect_packet(client_id, version=5, clean=True, keepalive=60, will=None, user=None, password=None, props=b""):
    flags = 0x02 if clean else 0
    if will:
        flags |= 0x04
    if user is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = mqtt_str("MQTT") + bytes([version, flags]) + struct.pack(">H", keepalive)
    if version == 5:
        body += varint(len(props)) + props
    body += mqtt_str(client_id)
    if will:
        if version == 5:
            body += varint(0)
        body += mqtt_str(will[0]) + mqtt_str(will[1])
    if user is not None:
        body += mqtt_str(user)
    if password is not None:
        body += mqtt_str(password)
    return packet(0x10, body)


def publish_packet(topic, payload, qos=0, pid=1, version=5, props=b"", dup=False):
    body = mqtt_str(topic)
    if qos:
        body += struct.pack(">H", pid)
    if version == 5:
        body += varint(len(props)) + props
    body += payload if isinstance(payload, bytes) else payload.encode()
    return packet(0x30 | (qos << 1) | (0x08 if dup else 0), body)


def pubrel_packet(pid):
    return packet(0x62, struct.pack(">H", pid))


class raw_client:
    def __init__(self, port, timeout_s=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_packet(self, timeout_s=10):
        """(type, flags, body), or None when the gateway closed the connection."""
        self.sock.settimeout(timeout_s)
        deadline = time.monotonic() + timeout_s
        while True:
            if len(self.buf) >= 2:
                mult, length, i = 1, 0, 1
                complete = False
                while i < len(self.buf) and i <= 4:
                    b = self.buf[i]
                    length += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        complete = True
                        break
                if complete and len(self.buf) >= i + length:
                    first = self.buf[0]
                    body = self.buf[i:i + length]
                    self.buf = self.buf[i + length:]
                    return first >> 4, first & 0x0F, body
            if time.monotonic() > deadline:
                raise AssertionError("no packet from the gateway in time")
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buf += data

    def expect_closed(self, timeout_s=10):
        p = self.recv_packet(timeout_s)
        check(p is None, f"expected the connection closed, got packet {p}")

    def connect(self, client_id, version=5, **kw):
        self.send(connect_packet(client_id, version=version, **kw))
        p = self.recv_packet()
        check(p is not None and p[0] == 2, f"expected CONNACK, got {p}")
        return p[2][1]  # reason / return code

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def run(cmd, timeout_s=30, input=None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, input=input)


def main(test_functions):
    """Runs each test with a fresh temporary directory; prints what ran; exit 1 on the first failure."""
    if len(sys.argv) < 2:
        print("usage: test.py BUILD_DIR", file=sys.stderr)
        sys.exit(2)
    build_dir = sys.argv[1]
    try:
        binary(build_dir, "tributary-gateway")
    except AssertionError as e:
        print(f"skip: {e}")
        sys.exit(SKIP)
    for fn in test_functions:
        with tempfile.TemporaryDirectory(prefix="trib-gw-it-") as d:
            t0 = time.monotonic()
            print(f"--- {fn.__name__}", flush=True)
            fn(build_dir, d)
            print(f"ok  {fn.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
    print("all passed")


# --- python paho (Debian's python3-paho-mqtt 1.6) ----------------------------------------------------

class paho_client:
    """A paho client on its own network thread, recording what happens to it."""

    def __init__(self, port, client_id, version=5, clean=True, keepalive=60, will=None, user=None, password=None,
                 reconnect=False, session_expiry=None, max_inflight=20):
        import paho.mqtt.client as mqtt
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        self.mqtt = mqtt
        self.version = version
        proto = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
        if version == 5:
            self.c = mqtt.Client(client_id=client_id, protocol=proto, reconnect_on_failure=reconnect)
        else:
            self.c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=proto,
                                 reconnect_on_failure=reconnect)
        self.c.max_inflight_messages_set(max_inflight)
        self.connack = None      # rc (3.1.1 int) or reason code value (5.0)
        self.session_present = None
        self.disconnects = []    # rc / reason code values
        self.acked = set()       # mids acknowledged
        if will:
            self.c.will_set(will[0], will[1], qos=1)
        if user is not None:
            self.c.username_pw_set(user, password)

        def on_connect(client, userdata, flags, rc, properties=None):
            self.connack = rc.value if hasattr(rc, "value") else rc
            self.session_present = flags.get("session present")

        def on_disconnect(client, userdata, rc, properties=None):
            self.disconnects.append(rc.value if hasattr(rc, "value") else rc)

        def on_publish(client, userdata, mid):
            self.acked.add(mid)

        self.c.on_connect = on_connect
        self.c.on_disconnect = on_disconnect
        self.c.on_publish = on_publish
        props = None
        if version == 5:
            props = Properties(PacketTypes.CONNECT)
            if session_expiry is not None:
                props.SessionExpiryInterval = session_expiry
            self.c.connect("127.0.0.1", port, keepalive=keepalive, clean_start=clean, properties=props)
        else:
            self.c.connect("127.0.0.1", port, keepalive=keepalive)
        self.c.loop_start()

    def wait_connack(self, timeout_s=10):
        wait_for(lambda: self.connack is not None or self.disconnects, timeout_s, "CONNACK")
        return self.connack

    def publish(self, topic, payload, qos=1, properties=None):
        return self.c.publish(topic, payload, qos=qos, properties=properties)

    def publish_wait(self, topic, payload, qos=1, properties=None, timeout_s=10):
        info = self.publish(topic, payload, qos, properties)
        check(info.rc == 0, f"publish rc {info.rc}")
        info.wait_for_publish(timeout_s)
        check(info.is_published(), f"no acknowledgement for {payload!r}")
        return info

    def stop(self, disconnect=True):
        if disconnect:
            try:
                self.c.disconnect()
            except Exception:
                pass
        self.c.loop_stop()


# --- mosquitto, the local broker of bridge mode -------------------------------------------------------

class mosquitto:
    """A mosquitto started by the test on a free 127.0.0.1 port (kept across restarts), with a config
    file the test writes: anonymous, persistence in its own directory (so a restart keeps the gateway's
    persistent session), queues large enough that nothing is dropped for a disconnected session."""

    def __init__(self, workdir, name="mosq", max_inflight=20, extra=""):
        self.bin = "/usr/sbin/mosquitto"
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.log = os.path.join(self.dir, "mosquitto.log")
        self.max_inflight = max_inflight
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n"
                    "allow_anonymous true\n"
                    "persistence true\n"
                    f"persistence_location {self.dir}/\n"
                    f"max_inflight_messages {max_inflight}\n"
                    "max_queued_messages 1000000\n"
                    "max_queued_bytes 0\n"
                    # As root mosquitto would switch to user "mosquitto", which cannot write here.
                    + ("user root\n" if os.geteuid() == 0 else "")
                    + "log_dest stdout\n"
                    "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                    + extra)
        self.proc = None

    @staticmethod
    def available():
        return os.path.exists("/usr/sbin/mosquitto")

    def start(self, timeout_s=10):
        check(self.proc is None, "mosquitto already started")
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.bin, "-c", self.conf], stdout=logf, stderr=logf)
        logf.close()

        def up():
            if self.proc.poll() is not None:
                fail(f"mosquitto exited with {self.proc.returncode}: {open(self.log).read()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_for(up, timeout_s, "mosquitto to listen")
        return self

    def stop(self, timeout_s=10):
        """SIGTERM (mosquitto saves its persistence file), by pid."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def bridge_config(broker_port, mode="also", subscriptions=None, **extra):
    """The gateway's bridge section for a mosquitto on broker_port."""
    b = {"enabled": True, "mode": mode, "broker": f"127.0.0.1:{broker_port}", "client_id": "gw-it-bridge",
         "clean_session": False, "reconnect_min_ms": 50, "reconnect_max_ms": 400, "keep_alive_s": 5,
         "subscriptions": subscriptions or [{"filter": "sensors/#", "qos": 1}, {"filter": "alarms/#", "qos": 2}]}
    b.update(extra)
    return {"bridge": b}
