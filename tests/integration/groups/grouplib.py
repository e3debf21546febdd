"""Helpers for the consumer-group integration tests: the broker harness of tests/integration/broker
(brokerlib), consumer processes (group_consumer.py) whose events are collected by a reader thread,
and the checks every group test makes (balanced assignments, every record consumed, duplicates only
where no commit covered the first delivery)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "broker"))

import brokerlib  # noqa: E402
from brokerlib import check, wait_for  # noqa: E402,F401

# Short group timings so that each test stays within seconds: a 500 ms initial rebalance delay.
BROKER_ARGS = ["--set", "groups.initial_rebalance_delay_ms=500"]

_consumers = []


class consumer:
    """group_consumer.py in its own process; .events holds every event it printed."""

    def __init__(self, lib, bootstrap, group, topic, name, strategy="range", session_ms=6000, instance=None):
        self.name = name
        self.events = []
        self.lock = threading.Lock()
        args = ["/usr/bin/python3", os.path.join(HERE, "group_consumer.py"), lib, bootstrap, group, topic,
                "--strategy", strategy, "--session-ms", str(session_ms)]
        if instance:
            args += ["--instance", instance]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.killed = False
        _consumers.append(self)

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def assignment(self, cooperative=False):
        """The current assignment from the assign/revoke events."""
        parts = set()
        for ev in self.snapshot():
            if ev["ev"] == "assign":
                parts = parts | set(ev["parts"]) if cooperative else set(ev["parts"])
            elif ev["ev"] == "revoke":
                parts -= set(ev["parts"])
        return parts

    def records(self):
        return [ev for ev in self.snapshot() if ev["ev"] == "rec"]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.killed = True

    def stop(self, timeout_s=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.reader.join(5)


def stop_all():
    for c in _consumers:
        if c.proc.poll() is None:
            c.proc.kill()
            try:
                c.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


def run_test(main):
    def wrapped(binary, workdir):
        try:
            main(binary, workdir)
        finally:
            stop_all()
    brokerlib.run_test(wrapped)


def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic(topic, partitions, 1)]).values():
        f.result(30)


def produce(bootstrap, topic, values, partitions):
    """Produces values round-robin over partitions, every one acknowledged (acks=all)."""
    import confluent_kafka as ck
    errors = []
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    for i, v in enumerate(values):
        p.produce(topic, value=v, partition=i % partitions, on_delivery=lambda e, m: e and errors.append(e))
        p.poll(0)
    check(p.flush(30) == 0, "produce: messages left undelivered")
    check(not errors, f"produce errors: {errors[:3]}")


def wait_balanced(members, partitions, timeout_s, what, cooperative=False):
    """Waits until the live members' assignments are disjoint, cover every partition and differ in size
    by at most one."""
    def ok():
        sets = [m.assignment(cooperative) for m in members]
        union = set().union(*sets)
        sizes = [len(s) for s in sets]
        return (union == set(range(partitions)) and sum(sizes) == partitions and max(sizes) - min(sizes) <= 1)
    try:
        wait_for(ok, timeout_s, what, interval_s=0.1)
    except AssertionError:
        raise AssertionError(f"{what}: assignments {[sorted(m.assignment(cooperative)) for m in members]}")


def wait_consumed(members, values, timeout_s, what):
    want = set(values)

    def seen():
        got = set()
        for m in members:
            got.update(ev["v"] for ev in m.records())
        return got
    try:
        wait_for(lambda: want <= seen(), timeout_s, what, interval_s=0.1)
    except AssertionError:
        missing = want - seen()
        raise AssertionError(f"{what}: {len(missing)} records missing, e.g. {sorted(missing)[:5]}")


def check_no_duplicates_except_uncommitted(members):
    """A record delivered twice: no successful commit of the member that got it first covered it before
    the second delivery (that member was killed, or its commit failed across a rebalance). Returns the
    number of such redeliveries."""
    recs = []
    commits = {}  # member name -> [(t, {partition: next offset})]
    for m in members:
        commits[m.name] = []
        for ev in m.snapshot():
            if ev["ev"] == "rec":
                recs.append((ev["t"], m.name, ev["p"], ev["o"], ev["v"]))
            elif ev["ev"] == "commit" and ev["ok"]:
                commits[m.name].append((ev["t"], dict((p, o) for p, o in ev["offs"])))
    recs.sort()
    first = {}
    dups, bad = 0, []
    for t, name, p, o, v in recs:
        if v not in first:
            first[v] = (t, name, p, o)
            continue
        dups += 1
        _, n1, p1, o1 = first[v]
        if any(ct < t and offs.get(p1, 0) > o1 for ct, offs in commits[n1]):
            bad.append((v, first[v], (name, p, o)))
    check(not bad, f"{len(bad)} records delivered again although a commit covered them: {bad[:3]}")
    return dups


def brokerlib_topics(bootstrap):
    """Topic names in a Metadata answer for every topic."""
    from confluent_kafka.admin import AdminClient
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)
