"""Produce and consume through Raft across three real processes (issue 9's first test).

Three nodes, a topic of 3 partitions at replication factor 3. confluent-kafka produces 200,000
records with acks=all and enable.idempotence while the test kills -9 the leader of partition 0 twice
(restarting each victim a few seconds later): first the leader of partition 0 of the topic,
then the leader of the __consumer_offsets partition of the group that reads meanwhile, so its
coordinator moves. Every record whose delivery was acknowledged must then
be read exactly once, in order, per partition, from whichever node leads it. A consumer group reads
throughout (its coordinator is the leader of the group's __consumer_offsets partition, which moves
with the kills too) and ends up having seen every record, its committed offsets at the end.

Then every node is stopped and started again: the same topic, the same high watermarks and the
group's committed offsets come back. Along the way:
Metadata from any node names every node and each partition's leader; a follower answers Produce and
Fetch with NOT_LEADER_OR_FOLLOWER (the client refreshes and carries on)."""
import json
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import clusterlib  # first: puts tests/integration/broker on the path
from clusterlib import brokerlib, check

TOPIC = "readings"
GROUP = "live"
OFFSETS_PARTITIONS = 50  # groups.offsets_partitions's default


def offsets_partition(group):
    """The group's partition of __consumer_offsets (cluster/group/records.cc: FNV-1a of the id)."""
    h = 2166136261
    for b in group.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % OFFSETS_PARTITIONS
PARTITIONS = 3
RECORDS = 200_000


def produce_with_kills(c, leaders):
    bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 120000, "topic.metadata.refresh.interval.ms": 1000})
    acked = {p: [] for p in range(PARTITIONS)}
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        p, seq = msg.value().decode().split(":")
        acked[int(p)].append((int(seq), msg.offset()))

    # The kills come when a share of the records is acknowledged, with at most 20,000 in flight and
    # at most 10,000 records/s; a victim is restarted 2 s after its kill, and the next kill waits
    # until it is back in the cluster.
    kills = [RECORDS // 4, RECORDS * 6 // 10]
    started = time.monotonic()
    restarts = []
    seq = [0] * PARTITIONS
    deadline = time.monotonic() + 240

    def n_acked():
        return sum(len(v) for v in acked.values())

    def housekeeping():
        check(time.monotonic() < deadline, "produce loop within its time bound")
        for at, victim in list(restarts):
            if time.monotonic() >= at:
                c.nodes[victim].start()
                restarts.remove((at, victim))
        if kills and n_acked() >= kills[0] and not restarts:
            kills.pop(0)
            brokerlib.wait_for(lambda: all(c.partitions(i, TOPIC) for i in c.nodes), 30,
                               "every node back and replicating")
            topic, part = (TOPIC, 0) if len(kills) == 1 else ("__consumer_offsets", offsets_partition(GROUP))
            brokerlib.wait_for(lambda: c.serving_leader(topic, part) is not None, 30, f"a leader for {topic}-{part}")
            victim = c.serving_leader(topic, part)
            c.nodes[victim].kill()
            print(f"{n_acked()} acknowledged: killed node {victim} (leader of {topic}-{part})", flush=True)
            restarts.append((time.monotonic() + 2, victim))

    for i in range(RECORDS):
        while i - n_acked() - len(errors) > 20_000 or i > (time.monotonic() - started) * 10_000:
            producer.poll(0.05)
            housekeeping()
        housekeeping()
        p = i % PARTITIONS
        value = f"{p}:{seq[p]}".encode()
        seq[p] += 1
        while True:
            try:
                producer.produce(TOPIC, value=value, partition=p, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = len(producer)
    while remaining > 0 or restarts:
        remaining = producer.flush(0.2)
        housekeeping()
    check(not kills, f"both kills happened ({kills} left)")
    check(remaining == 0, f"every record delivered or failed within the bound ({remaining} left)")
    check(not errors, f"no delivery failed: {errors[:5]} ({len(errors)} in all)")
    return acked


def committed_offsets(bootstrap):
    """{partition: committed offset} of group `live` ({} when the coordinator is not there yet)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        tps = consumer.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    except KafkaException:
        return {}
    finally:
        consumer.close()


def consume_all(c, leaders_hint):
    bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "verify", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "enable.partition.eof": True})
    md = consumer.list_topics(TOPIC, timeout=15)
    check(len(md.topics[TOPIC].partitions) == PARTITIONS, f"the consumer sees {TOPIC}: {md.topics[TOPIC]}")
    ends = clusterlib.high_watermarks(consumer, TOPIC, PARTITIONS)
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    got = {p: [] for p in range(PARTITIONS)}
    done = set(p for p in range(PARTITIONS) if ends[p] == 0)
    deadline = time.monotonic() + 120
    while len(done) < PARTITIONS:
        check(time.monotonic() < deadline, f"consumed up to the high watermarks {ends} in time")
        for m in consumer.consume(1000, timeout=1.0):
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF, f"consume error {m.error()}")
                if m.offset() >= ends[m.partition()]:  # control batches (Raft no-ops) may end the log
                    done.add(m.partition())
                continue
            p, seq = m.value().decode().split(":")
            got[m.partition()].append((int(seq), m.offset()))
    consumer.close()
    return got


class group_reader(threading.Thread):
    """A consumer of group `live` reading the topic while the test produces and kills, committing
    synchronously every 5,000 records."""

    def __init__(self, bootstrap):
        super().__init__(daemon=True)
        self.bootstrap = bootstrap
        self.seen = set()
        self.records = 0
        self.stop_at = None  # {partition: end offset} once production is over
        self.error = None
        self.positions = {}
        self.progress_times = []

    def run(self):
        try:
            consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": GROUP,
                                 "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                 "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                                 "topic.metadata.refresh.interval.ms": 1000})
            consumer.subscribe([TOPIC])
            deadline = time.monotonic() + 300
            since_commit = 0
            while time.monotonic() < deadline:
                for m in consumer.consume(500, timeout=0.5):
                    if m.error():
                        continue
                    self.seen.add(m.value())
                    self.records += 1
                    since_commit += 1
                    self.positions[m.partition()] = m.offset() + 1
                if since_commit >= 5000:
                    try:
                        consumer.commit(asynchronous=False)
                        since_commit = 0
                    except KafkaException:
                        pass  # the coordinator moved: the next commit goes to the new one
                self.progress_times.append((time.monotonic(), self.records))
                if self.stop_at is not None and all(self.positions.get(p, 0) >= end
                                                    for p, end in self.stop_at.items()):
                    break
            for _ in range(60):
                try:
                    consumer.commit(asynchronous=False)
                    break
                except KafkaException:
                    time.sleep(0.5)
            consumer.close()
        except Exception as e:  # noqa: BLE001 (reported by the main thread)
            self.error = e


def main(binary, workdir):
    c = clusterlib.cluster(binary, workdir, nodes=3, seeds=3)
    c.start()
    c.wait_leader(registered=3)
    admin = AdminClient({"bootstrap.servers": c.nodes[3].bootstrap})
    for _, f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, -1)], request_timeout=15).items():
        f.result(timeout=15)
    leaders = c.wait_serving(TOPIC, PARTITIONS, preferred=True)

    # Metadata from every node: three brokers, and the leader each node names is the serving one.
    for i in c.nodes:
        md = AdminClient({"bootstrap.servers": c.nodes[i].bootstrap}).list_topics(TOPIC, timeout=10)
        check(sorted(md.brokers) == [1, 2, 3], f"node {i} names every node: {sorted(md.brokers)}")
        for p, pm in md.topics[TOPIC].partitions.items():
            check(pm.leader == leaders[p], f"node {i}: partition {p} led by {pm.leader}, not {leaders[p]}")
            check(sorted(pm.replicas) == [1, 2, 3], f"partition {p} replicas {pm.replicas}")

    # A follower refuses (NOT_LEADER_OR_FOLLOWER) rather than write behind Raft's back.
    follower = next(i for i in c.nodes if i != leaders[0])
    raw = brokerlib.raw_client(c.nodes[follower].kafka_port)
    raw.send(brokerlib.request_frame(0, 3, 7, brokerlib.produce_v3_body(
        TOPIC, 0, brokerlib.record_batch([b"x"]), acks=-1)))
    _, body = raw.recv_frame()
    raw.close()
    resp = brokerlib.parse_produce_v3_response(body)
    check(resp[0][2] == 6, f"a follower answers NOT_LEADER_OR_FOLLOWER (6): {resp}")

    bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    reader = group_reader(bootstrap)
    reader.start()
    t0 = time.monotonic()
    acked = produce_with_kills(c, leaders)
    n_acked = sum(len(v) for v in acked.values())
    print(f"produced {n_acked} acknowledged records in {time.monotonic() - t0:.1f}s with two leader kills")
    check(n_acked == RECORDS, f"every record acknowledged ({n_acked} of {RECORDS})")
    c.wait_serving(TOPIC, PARTITIONS)

    got = consume_all(c, leaders)
    for p in range(PARTITIONS):
        seqs = [s for s, _ in got[p]]
        offsets = [o for _, o in got[p]]
        check(offsets == sorted(set(offsets)), f"partition {p}: offsets strictly increase")
        check(len(seqs) == len(set(seqs)), f"partition {p}: no record twice "
              f"({len(seqs) - len(set(seqs))} duplicates)")
        check(seqs == sorted(seqs), f"partition {p}: records in the order produced")
        want = sorted(s for s, _ in acked[p])
        check(seqs == want, f"partition {p}: every acknowledged record, exactly once "
              f"(got {len(seqs)}, acked {len(want)})")
        acked_offsets = {s: o for s, o in acked[p]}
        check(all(acked_offsets[s] == o for s, o in got[p]), f"partition {p}: at the offsets acknowledged")
    print(f"consumed {sum(len(v) for v in got.values())} records: each acknowledged one exactly once, in order")

    # The group kept reading through both kills and reaches the end.
    ends = {p: max(o for _, o in got[p]) + 1 for p in range(PARTITIONS)}
    reader.stop_at = ends
    reader.join(120)
    check(not reader.is_alive(), f"the group reached the end in time ({reader.records} records read)")
    check(reader.error is None, f"the group consumer failed: {reader.error}")
    want = {f"{p}:{s}".encode() for p in range(PARTITIONS) for s, _ in acked[p]}
    check(want <= reader.seen, f"the group saw every acknowledged record ({len(want - reader.seen)} missing)")
    print(f"the group read {reader.records} records ({reader.records - len(want)} redelivered after rebalances)")

    # Stop and start every node: topics, high watermarks and the group's offsets come back.
    committed_before = committed_offsets(bootstrap)
    # (a position may be past trailing control batches: Raft's no-ops)
    check(all(committed_before.get(p, -1) >= ends[p] for p in range(PARTITIONS)),
          f"the group committed the end offsets {ends}: {committed_before}")
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0, not {rc}")
    c.start()
    c.wait_leader(registered=3)
    c.wait_serving(TOPIC, PARTITIONS)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "verify-restart"})
    hw = clusterlib.high_watermarks(consumer, TOPIC, PARTITIONS)
    for p in range(PARTITIONS):
        check(hw[p] >= ends[p], f"partition {p}: high watermark {hw[p]} after the restart, {ends[p]} before")
    consumer.close()
    committed_after = {}
    brokerlib.wait_for(lambda: committed_after.update(committed_offsets(bootstrap)) or
                       committed_after == committed_before, 60, "the group's committed offsets after the restart")
    print(f"after a restart of every node: the same topic, high watermarks and committed offsets {committed_after}")

    # tributary topic describe --admin: leader, replicas and each follower's lag (all caught up now).
    if len(sys.argv) > 2:
        def described():
            out = subprocess.run([sys.argv[2], "-b", bootstrap, "--json", "topic", "describe", TOPIC, "--admin",
                                  f"127.0.0.1:{c.nodes[1].http_port}"], capture_output=True, text=True, timeout=30)
            last.append(out.stdout + out.stderr)
            if out.returncode != 0:
                return None
            d = json.loads(out.stdout)
            ok = all(p["leader"] in (1, 2, 3) and sorted(p["replicas"]) == [1, 2, 3] and p["lag"] is not None
                     and len(p["lag"]) == 2 and all(v == 0 for v in p["lag"].values()) for p in d["partitions"])
            return d if ok else None
        last = []
        try:
            brokerlib.wait_for(lambda: described() is not None, 30, "topic describe with every follower caught up")
        finally:
            print(f"last topic describe: {last[-1] if last else None}")
        print("topic describe --admin: leader, replicas and lag 0 for every follower")
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0, not {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
