"""Retention on a Raft-replicated partition, and a follower behind the leader's log start (issue 9).

Three nodes, one partition at replication factor 3 with small segments (16 KiB) and retention.bytes
64 KiB, retention checked every 200 ms. One follower is stopped; 1,500 records of 1 KiB are
produced with acks=all, so the other replicas roll segments and delete the old ones (the cut is
recorded as the group's snapshot point first). When the follower comes back, its log ends before
the leader's log starts: it gets a snapshot and restarts its log from there, then catches up. Its
log start and end then match the leader's, and consumers read from the new log start to the end
with no record twice, in the order produced."""
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import clusterlib  # first: puts tests/integration/broker on the path
from clusterlib import brokerlib, check

TOPIC = "short"


def main(binary, workdir):
    c = clusterlib.cluster(binary, workdir, nodes=3, seeds=3,
                           extra_args=["--set", "retention.check_interval_ms=200"])
    c.start()
    c.wait_leader(registered=3)
    bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = NewTopic(TOPIC, 1, 3, config={"segment.bytes": "16384", "retention.bytes": "65536"})
    for _, f in admin.create_topics([topic], request_timeout=15).items():
        f.result(timeout=15)
    leader = c.wait_serving(TOPIC, 1, preferred=True)[0]
    follower = next(i for i in c.nodes if i != leader)
    c.nodes[follower].kill()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "batch.size": 4096})
    errors = []
    for i in range(1500):
        producer.produce(TOPIC, value=f"{i:06d}".encode() + b"x" * 1018, partition=0,
                         on_delivery=lambda err, msg: err and errors.append(str(err)))
        producer.poll(0)
    check(producer.flush(60) == 0 and not errors, f"every record acknowledged: {errors[:3]}")

    brokerlib.wait_for(lambda: c.partitions(leader, TOPIC)[(TOPIC, 0)]["log_start"] > 0, 20,
                       "retention on the leader's log")
    lead = c.partitions(leader, TOPIC)[(TOPIC, 0)]
    print(f"leader {leader}: log start {lead['log_start']}, end {lead['log_end']}")

    c.nodes[follower].start()
    t0 = time.monotonic()

    def caught_up():
        mine = c.partitions(follower, TOPIC).get((TOPIC, 0))
        theirs = c.partitions(leader, TOPIC).get((TOPIC, 0))
        return (mine and theirs and mine["log_end"] == theirs["log_end"] and mine["log_start"] > 0 and
                mine["log_start"] >= lead["log_start"])
    brokerlib.wait_for(caught_up, 30, "the follower to restart from the leader's log start and catch up")
    mine = c.partitions(follower, TOPIC)[(TOPIC, 0)]
    print(f"follower {follower}: restarted from {mine['log_start']}, caught up to {mine['log_end']} "
          f"in {time.monotonic() - t0:.2f}s")

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "read", "enable.partition.eof": True,
                         "auto.offset.reset": "earliest"})
    lo, hi = consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
    check(lo > 0, f"the earliest offset moved past the deleted segments: {lo}")
    consumer.assign([TopicPartition(TOPIC, 0, lo)])
    seqs, deadline = [], time.monotonic() + 30
    while True:
        check(time.monotonic() < deadline, "read to the end in time")
        m = consumer.poll(1.0)
        if m is None:
            continue
        if m.error():
            check(m.error().code() == KafkaError._PARTITION_EOF, str(m.error()))
            if m.offset() >= hi:
                break
            continue
        seqs.append(int(m.value()[:6]))
    consumer.close()
    check(seqs and seqs == list(range(seqs[0], 1500)), f"from the log start to the end, in order, once "
          f"(first {seqs[:1]}, {len(seqs)} records)")
    print(f"read {len(seqs)} records from offset {lo}: {seqs[0]}..1499")
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0, not {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
