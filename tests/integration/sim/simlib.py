"""Helpers for the tributary-sim integration tests: free ports, a mosquitto started on one, a Paho
subscriber that records every reading, and the simulator itself. Processes are ours: each is killed by
its pid, and every wait is bounded."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

SKIP = 77  # CTest SKIP_RETURN_CODE


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


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class mosquitto:
    """mosquitto on 127.0.0.1:port with a generated config; restartable on the same port."""

    def __init__(self, workdir, port=None, max_connections=-1):
        self.port = port or free_port()
        self.conf = os.path.join(workdir, f"mosquitto-{self.port}.conf")
        self.log = os.path.join(workdir, f"mosquitto-{self.port}.log")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nmax_connections {max_connections}\n"
                    "persistence false\nmax_inflight_messages 0\nmax_queued_messages 100000\n")
        self.proc = None

    def start(self, timeout_s=10):
        assert self.proc is None
        deadline = time.monotonic() + timeout_s
        while True:  # the port may be briefly unavailable right after a kill
            logf = open(self.log, "a")
            self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", self.conf], stdout=logf, stderr=logf)
            logf.close()
            try:
                wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 5, "mosquitto to listen")
            except AssertionError:
                pass
            if self.proc.poll() is None and port_open(self.port):
                return self
            self.proc = None
            if time.monotonic() > deadline:
                raise AssertionError(f"mosquitto did not start on port {self.port}: {open(self.log).read()[-2000:]}")
            time.sleep(0.2)

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"


def decode_reading(payload):
    """(device name or index, seq, ts_ms) from a JSON or binary reading (firmware-sim/core/reading.h)."""
    if payload[:4] == b"TRIB":
        assert payload[4] == 1, "binary reading version"
        index, seq, ts = struct.unpack(">IQq", payload[8:28])
        return index, seq, ts
    j = json.loads(payload)
    return j["device"], j["seq"], j["ts_ms"]


class subscriber:
    """Records every message on a topic filter (QoS 1), re-subscribing after reconnects."""

    def __init__(self, port, topic="sensors/+/telemetry", qos=1):
        self.lock = threading.Lock()
        self.messages = []  # (topic, payload bytes)
        self.connected = threading.Event()
        self.topic = topic
        self.qos = qos
        self.client = mqtt.Client(client_id=f"sim-test-sub-{os.getpid()}-{port}", clean_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.connected.set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise AssertionError("subscriber did not connect and subscribe")

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe(self.topic, qos=self.qos)

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def count(self):
        with self.lock:
            return len(self.messages)

    def settle(self, quiet_s=1.0, timeout_s=15):
        """Waits until no message has arrived for quiet_s."""
        deadline = time.monotonic() + timeout_s
        last = -1
        while time.monotonic() < deadline:
            n = self.count()
            if n == last:
                return n
            last = n
            time.sleep(quiet_s)
        return self.count()

    def readings(self):
        with self.lock:
            return [(t, p, decode_reading(p)) for t, p in self.messages]

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


def sim_binary(build_dir):
    return os.path.join(build_dir, "firmware-sim", "tributary-sim")


def run_sim(build_dir, args, timeout_s, during=None):
    """Runs `tributary-sim run ...`; `during(proc)` may act while it runs. Returns (rc, stderr text)."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([sim_binary(build_dir), "run"] + args, stdout=subprocess.DEVNULL, stderr=err)
    try:
        if during:
            during(proc)
        rc = proc.wait(timeout=timeout_s)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    err.seek(0)
    text = err.read().decode(errors="replace")
    return rc, text


def load_report(path):
    with open(path) as f:
        return json.load(f)


def acked_set(report):
    """{(device name, seq)} of every acknowledged reading, and {index: name}."""
    out = set()
    names = {}
    for d in report["devices"]:
        names[d["index"]] = d["device"]
        for lo, hi in d["acked_seqs"]:
            for s in range(lo, hi + 1):
                out.add((d["device"], s))
    return out, names


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def main(test):
    """Runs test(build_dir, workdir); prints the failure and exits 1, or exits with SKIP."""
    build_dir = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sim-it-") as workdir:
        try:
            rc = test(build_dir, workdir)
        except AssertionError as e:
            print(f"FAIL: {e}", file=sys.stderr)
            sys.exit(1)
        sys.exit(rc or 0)
