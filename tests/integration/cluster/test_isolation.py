"""Issue 9: isolate a partition's leader with iptables, in network namespaces this test creates.

Three tributary-broker processes, each in its own network namespace with its own address on a bridge
(in a fourth, "hub" namespace, where the clients run), form a cluster; a topic of 1 partition at
replication factor 3 is one Raft group over the three. With iptables rules in the leader L's
namespace dropping everything between L and the other two nodes (clients in the hub still reach L),
the test proves:
- the minority stops acknowledging: writes sent to L with acks=all get no success (L appends them
  before it notices, so they are its unacknowledged suffix; with check-quorum it steps down about an
  election timeout later and answers them NOT_LEADER_OR_FOLLOWER), and L's high watermark stays put;
- the majority elects a leader within two election timeouts and some slack (the time is printed),
  and acknowledges new writes;
- once the rules are flushed, L rejoins (as a follower, in a later term; being the preferred replica
  it may then lead again), all three replicas agree on log end and high watermark, and L's log no
  longer holds its unacknowledged suffix (no file of its data directory has those bytes any more);
- every acknowledged record, before and after the isolation, is read back exactly once at the offset
  acknowledged, and none of the minority's writes is;
- producer ids are unique across the cluster (InitProducerId on each node): otherwise a second
  idempotent producer, handed the first one's id by another node, has its records taken for
  duplicates, acknowledged and never written (seen here: the majority's records, acknowledged at
  the offsets of the records written before the isolation, then missing).

Layout: the outer process (root, in the initial namespace) creates the namespaces "trib-iso-<pid>-hub"
(a bridge with 10.231.X.254/24) and "trib-iso-<pid>-n<i>" (a veth pair into the bridge, 10.231.X.i/24),
with X taken from the pid, re-runs this file under `ip netns exec <hub>` for the test itself, and in
a finally kills whatever still runs in the node namespaces (only this test's brokers can) and deletes
the namespaces (their veth pairs go with them). Exit 77 (skip) when not root or without `ip netns`
or iptables."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "broker"))
import brokerlib  # noqa: E402
from brokerlib import check, wait_for  # noqa: E402

TOPIC = "isolation"
NODES = (1, 2, 3)
KAFKA_PORT, HTTP_PORT, RPC_PORT = 9092, 9644, 9093
TICK_MS, ELECTION_TICKS = 100, 10  # the defaults, given explicitly: the failover bound derives from them
ELECTION_TIMEOUT_MAX_S = 2 * TICK_MS * ELECTION_TICKS / 1000  # a follower campaigns within [1x, 2x)
FAILOVER_BOUND_S = 2 * ELECTION_TIMEOUT_MAX_S + 4  # two election timeouts, slack for an ASan build on 2 cores
BEFORE, AFTER = 300, 300  # records acknowledged before and during the isolation
MARKER = b"MINORITY-UNACKED-"  # the value prefix of the writes sent to the isolated leader
MINORITY_WRITES = 5  # batches of 3 records each
INNER_TIMEOUT_S = 180


def run(*args, check_rc=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check_rc and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


# ---------------------------------------------------------------------------------------------
# Outer process: the namespaces
# ---------------------------------------------------------------------------------------------

class network:
    """The hub namespace with its bridge and one namespace per node, each plugged into the bridge by a
    veth pair created inside the namespaces (nothing is added to the initial namespace)."""

    def __init__(self, pid):
        self.prefix = f"trib-iso-{pid}"
        self.hub = f"{self.prefix}-hub"
        self.node_ns = {i: f"{self.prefix}-n{i}" for i in NODES}
        self.subnet = f"10.231.{pid % 250 + 1}"
        self.created = []

    def addr(self, i):
        return f"{self.subnet}.{i}"

    def create(self):
        for ns in [self.hub] + list(self.node_ns.values()):
            run("ip", "netns", "add", ns)
            self.created.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.hub, "addr", "add", f"{self.subnet}.254/24", "dev", "br0")
        run("ip", "-n", self.hub, "link", "set", "br0", "up")
        for i, ns in self.node_ns.items():
            run("ip", "-n", self.hub, "link", "add", f"vn{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            run("ip", "-n", self.hub, "link", "set", f"vn{i}", "master", "br0", "up")
            run("ip", "-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")

    def destroy(self):
        """Kills what still runs in the node namespaces (this test's brokers, if the inner run left any),
        deletes every namespace created; returns the names of ours `ip netns list` still shows."""
        for ns in self.node_ns.values():
            if ns not in self.created:
                continue
            pids = run("ip", "netns", "pids", ns, check_rc=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in reversed(self.created):
            run("ip", "netns", "del", ns, check_rc=False)
        listed = run("ip", "netns", "list", check_rc=False).stdout
        return [line.split()[0] for line in listed.splitlines() if line.startswith(self.prefix)]


def skip_reason():
    if os.geteuid() != 0:
        return "not root: network namespaces and iptables need CAP_NET_ADMIN"
    if shutil.which("ip") is None or shutil.which("iptables") is None:
        return "ip or iptables not installed"
    probe = f"trib-iso-probe-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "`ip netns add` fails here"
    ok = subprocess.run(["ip", "netns", "exec", probe, "iptables", "-w", "-S"], capture_output=True).returncode == 0
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None if ok else "iptables does not work inside a network namespace here"


def outer(binary):
    reason = skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(brokerlib.SKIP)
    # A SIGTERM (ctest's timeout, ^C) still runs the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    net = network(os.getpid())
    workdir = tempfile.mkdtemp(prefix="trib-isolation-it-")
    rc = 1
    inner_proc = None
    t0 = time.monotonic()
    try:
        net.create()
        inner_proc = subprocess.Popen(["ip", "netns", "exec", net.hub, sys.executable, os.path.abspath(__file__),
                                       "--inner", binary, workdir, net.prefix, net.subnet])
        try:
            rc = inner_proc.wait(timeout=INNER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"FAIL: the test did not finish within {INNER_TIMEOUT_S}s")
            inner_proc.kill()
            inner_proc.wait()
    finally:
        if inner_proc is not None and inner_proc.poll() is None:
            inner_proc.kill()
            inner_proc.wait()
        left = net.destroy()
        if rc != 0 and os.environ.get("TRIB_IT_KEEP_WORKDIR"):
            print(f"kept the data directories and logs in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if left:
            print(f"FAIL: namespaces left behind: {left}")
            rc = 1
    print(f"test_isolation: {time.monotonic() - t0:.1f}s in all, namespaces removed")
    sys.exit(rc)


# ---------------------------------------------------------------------------------------------
# Inner process (in the hub namespace): the brokers and the clients
# ---------------------------------------------------------------------------------------------

def http_get(host, port, path, timeout_s=2):
    return brokerlib.http_get(port, path, timeout_s, host=host)


class node:
    """One tributary-broker in its namespace, on its own address (Kafka, HTTP and cluster RPC)."""

    def __init__(self, binary, workdir, i, ns, ip, seeds):
        self.i, self.ns, self.ip = i, ns, ip
        self.data_dir = os.path.join(workdir, f"node{i}-data")
        self.log_path = os.path.join(workdir, f"node{i}.log")
        self.args = [binary, "--node-id", str(i), "--data-dir", self.data_dir, "--listen", f"{ip}:{KAFKA_PORT}",
                     "--http", f"{ip}:{HTTP_PORT}", "--set", f"cluster.seeds={seeds}",
                     "--set", f"cluster.listen={ip}:{RPC_PORT}", "--set", f"cluster.tick_ms={TICK_MS}",
                     "--set", f"cluster.election_ticks={ELECTION_TICKS}"]
        self.proc = None

    @property
    def bootstrap(self):
        return f"{self.ip}:{KAFKA_PORT}"

    def start(self):
        with open(self.log_path, "a") as logf:
            # `ip netns exec` execs the broker: the pid is the broker's.
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + self.args, stdout=logf, stderr=logf)

    def wait_healthy(self, timeout_s=30):
        wait_for(lambda: self.proc.poll() is not None or http_get(self.ip, HTTP_PORT, "/health")[0] == 200,
                 timeout_s, f"node {self.i}'s /health")
        check(self.proc.poll() is None, f"node {self.i} exited at start ({self.proc.returncode})")

    def status(self):
        code, body = http_get(self.ip, HTTP_PORT, "/v1/cluster")
        return json.loads(body) if code == 200 else None

    def partition(self):
        """This node's view of TOPIC-0 (role, leader, term, serving, high_watermark, log_end), or None."""
        s = self.status()
        for p in (s or {}).get("partitions", []):
            if p["topic"] == TOPIC and p["partition"] == 0:
                return p
        return None

    def iptables(self, *args):
        run("ip", "netns", "exec", self.ns, "iptables", "-w", *args)

    def stop(self, timeout_s=30):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"node {self.i} did not exit within {timeout_s}s of SIGTERM")
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def isolate(victim, others):
    for o in others:
        victim.iptables("-A", "INPUT", "-s", o.ip, "-j", "DROP")
        victim.iptables("-A", "OUTPUT", "-d", o.ip, "-j", "DROP")


def heal(victim):
    victim.iptables("-F", "INPUT")
    victim.iptables("-F", "OUTPUT")


def serving_leader(nodes):
    """The node among `nodes` that leads and serves TOPIC-0 by its own account, else None."""
    for n in nodes:
        p = n.partition()
        if p and p["role"] == "leader" and p["serving"]:
            return n
    return None


def produce_acked(bootstrap, values, idempotent):
    """Produces `values` with acks=all; {value: offset} of those acknowledged, and the errors."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": idempotent,
                         "max.in.flight.requests.per.connection": 5 if idempotent else 1,
                         "linger.ms": 5, "message.timeout.ms": 30000, "topic.metadata.refresh.interval.ms": 1000})
    acked, errors = {}, []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.value()] = msg.offset()
    for v in values:
        producer.produce(TOPIC, value=v, partition=0, on_delivery=delivered)
        producer.poll(0)
    left = producer.flush(40)
    check(left == 0, f"{left} records neither delivered nor failed within 40s")
    return acked, errors


class minority_writer:
    """Produce v3 requests (acks=all) sent straight to the isolated leader on one connection, each a
    batch of 3 records with MARKER values. Their answers are collected over time: any success fails."""

    def __init__(self, n):
        self.sock = socket.create_connection((n.ip, KAFKA_PORT), timeout=5)
        self.answers = {}  # correlation id -> error code, or "closed"
        self.sent = []
        self.buf = b""
        self.closed = False

    def send(self, count):
        for k in range(count):
            corr = 100 + k
            batch = brokerlib.record_batch([MARKER + f"{k}-{j}".encode() for j in range(3)])
            # timeout_ms long: the request may stay pending across the heal, where a deposed leader must
            # not answer it with success.
            self.sock.sendall(brokerlib.request_frame(0, 3, corr, brokerlib.produce_v3_body(
                TOPIC, 0, batch, acks=-1, timeout_ms=60000)))
            self.sent.append(corr)

    def collect(self, for_s):
        """Reads whatever answers arrive within for_s seconds."""
        deadline = time.monotonic() + for_s
        while not self.closed and len(self.answers) < len(self.sent) and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self.buf += chunk
            while len(self.buf) >= 4:
                (size,) = struct.unpack_from(">i", self.buf, 0)
                if len(self.buf) < 4 + size:
                    break
                payload, self.buf = self.buf[4:4 + size], self.buf[4 + size:]
                (corr,) = struct.unpack_from(">i", payload, 0)
                self.answers[corr] = brokerlib.parse_produce_v3_response(payload[4:])[0][2]
        successes = [c for c, e in self.answers.items() if e == 0]
        check(not successes, f"the isolated leader acknowledged minority writes (requests {successes})")
        return dict(self.answers)

    def close(self):
        self.sock.close()


def init_producer_id(n):
    """A new producer id from node n (InitProducerId v0, without a transactional id)."""
    with socket.create_connection((n.ip, KAFKA_PORT), timeout=10) as sock:
        sock.sendall(brokerlib.request_frame(22, 0, 1, brokerlib.kstring(None) + struct.pack(">i", 60000)))
        head = b""
        while len(head) < 4:
            chunk = sock.recv(4 - len(head))
            check(chunk, f"node {n.i} closed the connection on InitProducerId")
            head += chunk
        (size,) = struct.unpack(">i", head)
        payload = b""
        while len(payload) < size:
            chunk = sock.recv(size - len(payload))
            check(chunk, f"node {n.i} closed the connection on InitProducerId")
            payload += chunk
    _corr, _throttle, err, producer_id, _epoch = struct.unpack_from(">iihqh", payload, 0)
    check(err == 0, f"InitProducerId from node {n.i}: error {err}")
    return producer_id


def consume_all(nodes):
    """Every record of TOPIC-0 up to the high watermark: [(offset, value)]."""
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
    consumer = Consumer({"bootstrap.servers": ",".join(n.bootstrap for n in nodes), "group.id": "isolation-verify",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "enable.partition.eof": True, "topic.metadata.refresh.interval.ms": 1000})
    try:
        end = []

        def watermark():
            try:
                end.append(consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=5)[1])
                return True
            except KafkaException:
                return False
        wait_for(watermark, 20, "the partition's high watermark", interval_s=0.5)
        consumer.assign([TopicPartition(TOPIC, 0, 0)])
        got = []
        deadline = time.monotonic() + 30
        done = end[-1] == 0
        while not done:
            check(time.monotonic() < deadline, f"consumed up to the high watermark {end[-1]} in time")
            for m in consumer.consume(1000, timeout=1.0):
                if m.error():
                    check(m.error().code() == KafkaError._PARTITION_EOF, f"consume error {m.error()}")
                    if m.offset() >= end[-1]:  # control batches (Raft no-ops) may end the log
                        done = True
                    continue
                got.append((m.offset(), m.value()))
        return got, end[-1]
    finally:
        consumer.close()


def files_holding(directory, needle):
    found = []
    for root, _, files in os.walk(directory):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                if needle in fh.read():
                    found.append(os.path.relpath(path, directory))
    return found


def test(binary, workdir, prefix, subnet):
    from confluent_kafka.admin import AdminClient, NewTopic
    seeds = ",".join(f"{i}@{subnet}.{i}:{RPC_PORT}" for i in NODES)
    nodes = {i: node(binary, workdir, i, f"{prefix}-n{i}", f"{subnet}.{i}", seeds) for i in NODES}
    try:
        t_start = time.monotonic()
        for n in nodes.values():
            n.start()
        for n in nodes.values():
            n.wait_healthy()
        all_bootstrap = ",".join(n.bootstrap for n in nodes.values())

        # 1. A topic of one partition over the three nodes, and its leader L.
        admin = AdminClient({"bootstrap.servers": all_bootstrap})

        def created():
            try:
                for _, f in admin.create_topics([NewTopic(TOPIC, 1, -1)], request_timeout=10).items():
                    f.result(timeout=10)
                return True
            except Exception as e:  # noqa: BLE001 (the controller may not be elected yet: retried)
                return "TOPIC_ALREADY_EXISTS" in str(e)
        wait_for(created, 30, "CreateTopics to succeed", interval_s=0.5)
        wait_for(lambda: all(n.partition() for n in nodes.values()), 20, "every node to host the partition")
        # The preferred replica (the first placed) ends up leading: wait for it, so that leadership does
        # not move on its own once the test has picked L.
        def preferred_serving():
            n = serving_leader(nodes.values())
            return n is not None and n.partition()["replicas"][0] == n.i
        wait_for(preferred_serving, 30, "the preferred replica to lead and serve")
        victim = serving_leader(nodes.values())
        majority = [n for n in nodes.values() if n is not victim]
        print(f"cluster up, topic created, node {victim.i} leads ({time.monotonic() - t_start:.1f}s)", flush=True)

        # 2. Records acknowledged with acks=all by the whole cluster.
        before, errors = produce_acked(all_bootstrap, [f"before-{k}".encode() for k in range(BEFORE)], idempotent=True)
        check(not errors and len(before) == BEFORE, f"{len(before)} of {BEFORE} acknowledged before, errors {errors[:3]}")
        wait_for(lambda: len({(p["log_end"], p["high_watermark"]) for p in (n.partition() for n in nodes.values()) if p}) == 1
                 and all(n.partition() for n in nodes.values()), 10, "the three replicas to agree before the isolation")
        hw_before = victim.partition()["high_watermark"]

        # 3. Isolate L; at once send it writes: it appends them as leader, but cannot commit them.
        writer = minority_writer(victim)
        isolate(victim, majority)
        t_isolated = time.monotonic()
        writer.send(MINORITY_WRITES)

        # 4. The majority elects a leader within the bound.
        new_leader = []

        def elected():
            n = serving_leader(majority)
            if n is not None:
                new_leader.append(n)
            return n is not None
        wait_for(elected, FAILOVER_BOUND_S, f"the majority to elect a serving leader within {FAILOVER_BOUND_S}s")
        failover_s = time.monotonic() - t_isolated
        new_leader = new_leader[-1]
        print(f"failover: node {new_leader.i} leads and serves {failover_s:.2f}s after node {victim.i} was "
              f"isolated (bound {FAILOVER_BOUND_S}s)", flush=True)

        # The minority did not acknowledge (within 5 s of sending) and L's high watermark stood still;
        # its log end shows the writes it appended (its unacknowledged suffix).
        answers = writer.collect(max(0.0, 5 - (time.monotonic() - t_isolated)))
        lp = victim.partition()
        print(f"isolated node {victim.i}: role {lp['role']}, term {lp['term']}, high watermark {lp['high_watermark']} "
              f"(was {hw_before}), log end {lp['log_end']}; answers to its {len(writer.sent)} writes: {answers}",
              flush=True)
        check(lp["high_watermark"] == hw_before, f"the isolated node's high watermark moved: {lp}")
        suffix = lp["log_end"] - hw_before
        check(suffix > 0, f"the isolated leader appended the minority writes (log end {lp['log_end']}, "
              f"high watermark {hw_before})")
        check(files_holding(victim.data_dir, MARKER), "the minority writes are in the isolated node's log files")

        # Idempotent, from another node than the first producer most likely got its id from: producer
        # ids are unique across the cluster, so its records are never taken for the first one's.
        after, errors = produce_acked(",".join(n.bootstrap for n in majority), [f"after-{k}".encode() for k in range(AFTER)],
                                      idempotent=True)
        check(not errors and len(after) == AFTER, f"{len(after)} of {AFTER} acknowledged by the majority, errors {errors[:3]}")
        check(victim.partition()["high_watermark"] == hw_before, "the isolated node's high watermark stayed put")
        views = {n.i: n.partition() for n in nodes.values()}
        print(f"acknowledged by the majority at offsets {min(after.values())}..{max(after.values())}; (role, term, "
              f"high watermark, log end) by node: {[(i, v['role'], v['term'], v['high_watermark'], v['log_end']) for i, v in views.items()]}",
              flush=True)
        print(f"the majority acknowledged {AFTER} records ({time.monotonic() - t_isolated:.1f}s into the isolation)", flush=True)

        # 5. Heal: L rejoins as a follower, cuts its suffix, and the three replicas agree.
        heal(victim)
        t_healed = time.monotonic()
        views = {}

        def converged():
            for n in nodes.values():
                views[n.i] = n.partition()
            if any(v is None for v in views.values()):
                return False
            ends = {(v["log_end"], v["high_watermark"], v["leader"]) for v in views.values()}
            leaders = [i for i, v in views.items() if v["role"] == "leader" and v["serving"]]
            # L is a follower first; once caught up it may take leadership back as the preferred replica.
            return len(ends) == 1 and len(leaders) == 1 and views[victim.i]["term"] > lp["term"]
        wait_for(converged, 20, "the three replicas to agree after the heal", interval_s=0.1)
        v = views[victim.i]
        print(f"healed: the replicas agree {time.monotonic() - t_healed:.2f}s later: leader {v['leader']}, term "
              f"{v['term']}, log end {v['log_end']}, high watermark {v['high_watermark']}", flush=True)
        late = writer.collect(3)  # a deposed leader must never answer its pending writes with success
        writer.close()
        print(f"answers to the minority writes after the heal: {late}")

        # 6. Every acknowledged record exactly once, at the offset acknowledged; none of the minority's.
        got, hw = consume_all(list(nodes.values()))
        acked = {**before, **after}
        values = [val for _, val in got]
        check(len(values) == len(set(values)), f"a record read twice ({len(values) - len(set(values))} duplicates)")
        check(not [val for val in values if val.startswith(MARKER)], "a minority write was read back")
        read = dict((val, off) for off, val in got)
        missing = [val for val in acked if val not in read]
        check(not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}")
        moved = [(val, acked[val], read[val]) for val in acked if acked[val] != read[val]]
        check(not moved, f"records read at another offset than acknowledged: {moved[:3]}")
        check(set(read) == set(acked), f"records read that were never acknowledged: {sorted(set(read) - set(acked))[:3]}")
        check(hw == v["high_watermark"], f"the consumer's high watermark {hw} is the replicas' {v['high_watermark']}")
        print(f"read {len(got)} records up to {hw}: every acknowledged one exactly once, no minority write")

        # The suffix is gone from L's files too (all of them: a cut that only moves a pointer would not do).
        wait_for(lambda: not files_holding(victim.data_dir, MARKER), 10,
                 f"the minority writes to leave node {victim.i}'s files")
        for n in majority:
            check(not files_holding(n.data_dir, MARKER), f"node {n.i}'s files hold a minority write")

        # Producer ids are unique across the cluster: InitProducerId from each node hands out another id
        # (else two producers writing to one partition dedupe each other's records: acknowledged, lost).
        ids = {n.i: init_producer_id(n) for n in nodes.values()}
        print(f"InitProducerId from each node: {ids}")

        for n in nodes.values():
            rc = n.stop()
            check(rc == 0, f"node {n.i} exits 0, not {rc}")
        for n in nodes.values():
            with open(n.log_path, errors="replace") as f:
                check("AddressSanitizer" not in f.read(), f"node {n.i}'s log has an AddressSanitizer report")
        print(f"test body: {time.monotonic() - t_start:.1f}s; failover {failover_s:.2f}s; nodes stopped, exit 0")
        check(len(set(ids.values())) == len(ids), f"two nodes handed out the same producer id: {ids}")
        print("PASS")
        return 0
    except BaseException:
        for n in nodes.values():
            n.kill()
        for i in NODES:
            path = os.path.join(workdir, f"node{i}.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:  # without the 50 __consumer_offsets groups' noise
                    lines = [line for line in f if "__consumer_offsets" not in line]
                print(f"---- node{i}.log (tail, without __consumer_offsets) ----\n{''.join(lines[-40:])}")
        raise
    finally:
        for n in nodes.values():
            n.kill()


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "--inner":
        sys.exit(test(*sys.argv[2:6]))
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} <tributary-broker binary>")
        sys.exit(brokerlib.SKIP)
    outer(sys.argv[1])
