"""Helpers for the forwarder's integration, fault and bench tests: the forward_driver process (a buffer
and the forwarder, without MQTT), the broker (tests/integration/broker/brokerlib.py), consumers
(confluent-kafka and kcat) and the checks every test makes: nothing acknowledged lost, order per
device, duplicates identified by (tributary.gateway, tributary.gateway_seq).

Processes are ours: started here, signalled by pid, every wait bounded."""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "broker"))
import brokerlib  # noqa: E402
from brokerlib import check, free_port, wait_for, metric_value, http_get  # noqa: E402,F401

SKIP = 77


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--driver", required=True)
    p.add_argument("--broker", required=True)
    p.add_argument("--gateway", default="")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    for a, kw in (extra or []):
        p.add_argument(a, **kw)
    args = p.parse_args()
    for b in (args.driver, args.broker):
        if not os.access(b, os.X_OK):
            print(f"not built: {b}")
            sys.exit(SKIP)
    return args


def run_test(args, main):
    """Runs main(args, workdir) in a fresh temp dir; prints the logs on failure."""
    workdir = tempfile.mkdtemp(prefix="trib-fwd-it-")
    ok = False
    try:
        main(args, workdir)
        ok = True
        print("PASS")
    finally:
        if not ok:
            for f in sorted(os.listdir(workdir)):
                if f.endswith(".log"):
                    print(f"---- {f} (tail) ----")
                    with open(os.path.join(workdir, f), errors="replace") as fh:
                        print(fh.read()[-5000:])
        if args.keep or not ok and os.environ.get("TRIB_KEEP_FAILED"):
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class driver:
    """forward_driver on a buffer file in workdir. Restartable (same buffer) and killable (-9)."""

    def __init__(self, binary, workdir, bootstrap, name="drv", topic="telemetry", extra=()):
        self.binary = binary
        self.workdir = workdir
        self.bootstrap = bootstrap
        self.name = name
        self.topic = topic
        self.buffer = os.path.join(workdir, f"{name}-buffer.db")
        self.ack_log = os.path.join(workdir, f"{name}-acked.txt")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.status_path = os.path.join(workdir, f"{name}-status.jsonl")
        self.extra = list(extra)
        self.proc = None
        self.http_port = None
        self.starts = 0

    def start(self, *args, may_finish=False):
        """Starts the driver and waits for its /metrics. may_finish: it may also have exited 0 by then
        (a --drain-only run over a backlog small enough to drain at once)."""
        check(self.proc is None, "driver already running")
        self.http_port = free_port()
        cmd = [self.binary, "--buffer", self.buffer, "--bootstrap", self.bootstrap, "--topic", self.topic,
               "--ack-log", self.ack_log, "--http", f"127.0.0.1:{self.http_port}", "--gateway-id", "gw-it",
               "--status-interval-ms", "500"] + self.extra + list(args)
        logf = open(self.log_path, "a")
        out = open(self.status_path, "a")
        logf.write(f"---- start {self.starts}: {' '.join(cmd)}\n")
        logf.flush()
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=logf)
        logf.close()
        out.close()
        self.starts += 1
        wait_for(lambda: self.proc.poll() is not None or http_get(self.http_port, "/metrics", 1)[0] == 200, 20,
                 "the driver's /metrics")
        code = self.proc.poll()
        check(code is None or (may_finish and code == 0), f"driver exited at start: {code}")
        return self

    def metrics(self):
        status, body = http_get(self.http_port, "/metrics", 2)
        return body if status == 200 else ""

    def metric(self, name, labels=None):
        return metric_value(self.metrics(), name, labels)

    def wait(self, timeout_s):
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"driver did not exit within {timeout_s}s")
        self.proc = None
        return rc

    def stop(self, timeout_s=30):
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout_s)

    def kill9(self):
        if self.proc is not None:
            self.proc.kill()  # SIGKILL, by pid
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def acked(self):
        """[(device, seq, gateway_seq)] of every reading whose commit completed."""
        out = []
        if not os.path.exists(self.ack_log):
            return out
        with open(self.ack_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:  # a torn last line (kill -9 mid-write) is ignored
                    out.append((parts[0], int(parts[1]), int(parts[2])))
        return out

    def statuses(self):
        out = []
        if os.path.exists(self.status_path):
            with open(self.status_path) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out

    def dead_letters(self):
        """[(seq, topic, reason)] from the buffer file (a second connection, read-only)."""
        db = sqlite3.connect(f"file:{self.buffer}?mode=ro", uri=True, timeout=10)
        try:
            return [tuple(r) for r in db.execute("SELECT seq, topic, reason FROM dead_letters ORDER BY seq")]
        finally:
            db.close()

    def backlog_rows(self):
        db = sqlite3.connect(f"file:{self.buffer}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT count(*) FROM readings").fetchone()[0]
        finally:
            db.close()

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def consume_all(bootstrap, topic, min_count, timeout_s=60, idle_s=2.0):
    """Every record of the topic from the beginning (confluent-kafka), once at least min_count arrived
    and nothing more came for idle_s. Records: dicts with key, value, headers (dict of str -> bytes or
    None), partition, offset, timestamp."""
    from confluent_kafka import Consumer, TopicPartition, KafkaError
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"fwd-it-{os.getpid()}-{time.time()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        md = c.list_topics(topic, timeout=10)
        check(topic in md.topics and md.topics[topic].error is None, f"topic {topic} missing: {md.topics.get(topic)}")
        parts = sorted(md.topics[topic].partitions.keys())
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out = []
        deadline = time.monotonic() + timeout_s
        last = time.monotonic()
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                if len(out) >= min_count and time.monotonic() - last >= idle_s:
                    break
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {m.error()}")
            last = time.monotonic()
            hdrs = {}
            for k, v in (m.headers() or []):
                hdrs[k] = v
            out.append({"key": m.key(), "value": m.value(), "headers": hdrs, "partition": m.partition(),
                        "offset": m.offset(), "timestamp": m.timestamp()[1]})
        check(len(out) >= min_count, f"consumed {len(out)} records of {topic}, expected at least {min_count}")
        return out
    finally:
        c.close()


def kcat_consume(bootstrap, topic, timeout_s=60):
    """Every record via kcat -J (JSON envelope with headers): a list of dicts."""
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
                         capture_output=True, text=True, timeout=timeout_s)
    check(out.returncode == 0, f"kcat failed: {out.stderr[-2000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def reading_of(record):
    """(device, seq) from a record's JSON payload."""
    v = json.loads(record["value"])
    return v["device"], v["seq"]


def order_report(records, dev, seq, last, around=8):
    """Text for an order failure: the device's records in its partition's offset order (offset, device
    seq, gateway_seq, timestamp) around the first copy of `seq` and around `last`, and the partition's
    records (every device) just before the misplaced one, so that a reader sees which batch landed
    where."""
    mine = []
    for r in records:
        d, s = reading_of(r)
        if d == dev:
            mine.append((r["partition"], r["offset"], s, r["headers"].get("tributary.gateway_seq"), r["timestamp"]))
    mine.sort()
    lines = [f"---- order failure: device {dev}, seq {seq} after {last}; the device's records "
             f"(partition, offset, seq, gateway_seq, timestamp_ms) ----"]
    first = next((i for i, m in enumerate(mine) if m[2] == seq), None)
    prev = next((i for i, m in enumerate(mine) if m[2] == last), None)
    shown = set()
    for centre in (prev, first):
        if centre is None:
            continue
        for i in range(max(0, centre - around), min(len(mine), centre + around + 1)):
            if i not in shown:
                shown.add(i)
    for i in sorted(shown):
        p, o, s, g, t = mine[i]
        g = g.decode() if isinstance(g, bytes) else g
        mark = "  <-- first copy" if i == first else ("  <-- seq before it" if i == prev else "")
        lines.append(f"  p{p} @{o} seq {s} gseq {g} ts {t}{mark}")
    if first is not None:
        part, off = mine[first][0], mine[first][1]
        lines.append(f"---- partition {part} around offset {off} (every device) ----")
        near = sorted((r["offset"], reading_of(r), r["headers"].get("tributary.gateway_seq"), r["timestamp"])
                      for r in records if r["partition"] == part and abs(r["offset"] - off) <= 12)
        for o, (d, s), g, t in near:
            g = g.decode() if isinstance(g, bytes) else g
            lines.append(f"  @{o} {d} seq {s} gseq {g} ts {t}")
    return "\n".join(lines)


def check_delivery(acked, records, window=None, kills=0):
    """Every acknowledged reading is in `records`; per device, first occurrences are in seq order;
    duplicates share (gateway, gateway_seq) and number at most kills * window (when given).
    Returns (unique readings, duplicates)."""
    seen = {}
    dup = 0
    by_device = {}
    gseq_of = {}
    for r in records:
        dev, seq = reading_of(r)
        gw = r["headers"].get("tributary.gateway")
        gseq = r["headers"].get("tributary.gateway_seq")
        check(gw is not None and gseq is not None, f"record without gateway headers: {r['headers']}")
        gkey = (gw, int(gseq))
        if (dev, seq) in seen:
            dup += 1
            check(seen[(dev, seq)] == gkey, f"duplicate of {(dev, seq)} under another gateway seq: {gkey}")
            continue
        check(gkey not in gseq_of, f"gateway seq {gkey} carries two readings: {gseq_of.get(gkey)} and {(dev, seq)}")
        gseq_of[gkey] = (dev, seq)
        seen[(dev, seq)] = gkey
        last = by_device.get(dev, 0)
        if seq <= last:
            print(order_report(records, dev, seq, last))
        check(seq > last, f"device {dev}: seq {seq} after {last} (order per key broken)")
        by_device[dev] = seq
    missing = [(d, s) for (d, s, _g) in acked if (d, s) not in seen]
    check(not missing, f"{len(missing)} acknowledged readings missing upstream, e.g. {missing[:5]}")
    if window is not None:
        check(dup <= max(kills, 1) * window, f"{dup} duplicates, more than {max(kills, 1)} x window {window}")
    return len(seen), dup
