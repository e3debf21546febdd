"""Helpers for the tributary-broker integration tests: a broker process on free ports with its own data
directory (stopped by its pid, every wait bounded), an HTTP getter for /health and /metrics, and a raw
Kafka wire client (framing, request headers, a RecordBatch v2 encoder with CRC-32C) for the tests that
send bytes no real client would."""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77  # CTest SKIP_RETURN_CODE

_started = []  # every broker object of this test, killed by run_test() whatever happens


def check(cond, what):
    if not cond:
        raise AssertionError(what)


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


def http_get(port, path, timeout_s=5, host="127.0.0.1"):
    """(status, body text); status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout_s) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError):
        return 0, ""


class broker:
    """tributary-broker on 127.0.0.1 with free Kafka and HTTP ports and a data directory under workdir.
    Restartable on the same ports and directory."""

    def __init__(self, binary, workdir, extra_args=(), name="broker"):
        self.binary = binary
        self.workdir = workdir
        self.name = name
        self.data_dir = os.path.join(workdir, f"{name}-data")
        self.kafka_port = free_port()
        self.http_port = free_port()
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.starts = 0
        _started.append(self)

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.kafka_port}"

    def start(self, timeout_s=30):
        check(self.proc is None, "broker already running")
        logf = open(self.log_path, "a")
        args = [self.binary, "--data-dir", self.data_dir, "--listen", self.bootstrap,
                "--http", f"127.0.0.1:{self.http_port}"] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=logf, stderr=logf)
        logf.close()
        self.starts += 1
        try:
            wait_for(lambda: self.proc.poll() is not None or self.health()[0] == 200, timeout_s,
                     "the broker's /health to answer 200")
        except AssertionError:
            self.kill()
            raise AssertionError(f"broker did not start: {self.log_tail()}")
        check(self.proc.poll() is None, f"broker exited at start ({self.proc.returncode}): {self.log_tail()}")
        return self

    def health(self):
        status, body = http_get(self.http_port, "/health", timeout_s=2)
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, None

    def metrics(self):
        status, body = http_get(self.http_port, "/metrics")
        check(status == 200, f"/metrics answered {status}")
        return body

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s=30):
        """SIGTERM; returns (exit code, seconds taken). Kills and fails if it takes longer than timeout_s."""
        check(self.proc is not None, "broker not running")
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"broker did not exit within {timeout_s}s of SIGTERM: {self.log_tail()}")
        self.proc = None
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def log_tail(self, n=4000):
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


def metric_value(text, name, labels=None):
    """The value of one series in Prometheus text, or None. labels: dict that must all match."""
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        if rest and rest[0] not in " {":
            continue
        if labels:
            if not rest.startswith("{"):
                continue
            inside = rest[1:rest.index("}")]
            have = dict(kv.split("=", 1) for kv in inside.split(",") if kv)
            have = {k: v.strip('"') for k, v in have.items()}
            if any(have.get(k) != v for k, v in labels.items()):
                continue
            rest = rest[rest.index("}") + 1:]
        return float(rest.split()[0])
    return None


def run_test(main):
    """Runs main(binary, workdir) in a fresh temp dir; prints the broker logs on failure."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} <tributary-broker binary>")
        sys.exit(SKIP)
    binary = sys.argv[1]
    workdir = tempfile.mkdtemp(prefix="trib-broker-it-")
    ok = False
    try:
        main(binary, workdir)
        ok = True
        print("PASS")
    finally:
        for b in _started:
            b.kill()  # a broker left by a failed test (a passing test stopped its own already)
        if not ok:
            for f in sorted(os.listdir(workdir)):
                if f.endswith(".log"):
                    print(f"---- {f} (tail) ----")
                    with open(os.path.join(workdir, f), errors="replace") as fh:
                        print(fh.read()[-6000:])
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Raw Kafka wire client
# ---------------------------------------------------------------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def zigzag_varint(v):
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def kstring(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def record_batch(values, base_ts_ms=None, producer_id=-1, producer_epoch=-1, base_sequence=-1, keys=None,
                 magic=2, attributes=0):
    """One uncompressed RecordBatch v2 holding `values` (bytes), CreateTime."""
    ts = base_ts_ms if base_ts_ms is not None else int(time.time() * 1000)
    records = bytearray()
    for i, v in enumerate(values):
        key = keys[i] if keys else None
        body = bytearray()
        body += b"\x00"  # attributes
        body += zigzag_varint(0)  # timestamp delta
        body += zigzag_varint(i)  # offset delta
        if key is None:
            body += zigzag_varint(-1)
        else:
            body += zigzag_varint(len(key)) + key
        body += zigzag_varint(len(v)) + v
        body += zigzag_varint(0)  # headers
        records += zigzag_varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", attributes, len(values) - 1, ts, ts, producer_id, producer_epoch, base_sequence,
                            len(values)) + bytes(records)
    crc = crc32c(after_crc)
    after_length = struct.pack(">ibI", -1, magic, crc) + after_crc  # leader epoch, magic, crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def request_frame(api_key, version, correlation_id, body, client_id="trib-raw-test"):
    payload = struct.pack(">hhi", api_key, version, correlation_id) + kstring(client_id) + body
    return struct.pack(">i", len(payload)) + payload


def produce_v3_body(topic, partition, batch, acks=1, timeout_ms=5000, version=3):
    """A Produce body of v3-v8 (v0-v2: without transactional_id)."""
    return ((kstring(None) if version >= 3 else b"") + struct.pack(">hi", acks, timeout_ms) + struct.pack(">i", 1) + kstring(topic) +
            struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(batch)) + batch)


def parse_produce_v3_response(payload):
    """[(topic, partition, error_code, base_offset)] from a Produce v3 response body (after correlation id)."""
    out = []
    pos = 0
    (ntopics,) = struct.unpack_from(">i", payload, pos)
    pos += 4
    for _ in range(ntopics):
        (tlen,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        topic = payload[pos:pos + tlen].decode()
        pos += tlen
        (nparts,) = struct.unpack_from(">i", payload, pos)
        pos += 4
        for _ in range(nparts):
            part, err, base, _lat = struct.unpack_from(">ihqq", payload, pos)
            pos += 22
            out.append((topic, part, err, base))
    return out


class raw_client:
    """A blocking socket speaking length-prefixed frames."""

    def __init__(self, port, timeout_s=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.settimeout(timeout_s)

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        """(correlation_id, rest of the payload) or None when the broker closed the connection."""
        head = self.recv_exact(4)
        if head is None:
            return None
        (size,) = struct.unpack(">i", head)
        payload = self.recv_exact(size)
        if payload is None:
            return None
        (corr,) = struct.unpack_from(">i", payload, 0)
        return corr, payload[4:]

    def closed_by_peer(self, timeout_s=10):
        """True once the broker closes the connection (EOF or reset) within timeout_s; False if data came."""
        self.sock.settimeout(timeout_s)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                return False
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def random_bytes(n, seed):
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) for _ in range(n))
