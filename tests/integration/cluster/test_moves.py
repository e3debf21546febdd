"""Adding and removing a node moves replicas through Raft membership changes (issue 9).

Three seed nodes hold a topic of 4 partitions at replication factor 3, with 4,000 acknowledged
records. A fourth node starts (it registers with the controller); `tributary cluster add-node 4`
plans moves that give it its share of replicas and waits until every partition's committed voters
are its placed replicas: node 4 then holds replicas, served from a log it received from the leaders.
More records are produced, then `tributary cluster remove-node 4` moves every replica off it (a
leader on node 4 hands over first), the node is marked removed, Metadata no longer names it, and
its partition directories are gone. Throughout, every acknowledged record is read back exactly once,
in order, at its offset."""
import json
import os
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import clusterlib  # first: puts tests/integration/broker on the path
from clusterlib import brokerlib, check

TOPIC = "moved"
PARTITIONS = 4


def produce(bootstrap, start, count):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 5, "message.timeout.ms": 60000, "topic.metadata.refresh.interval.ms": 1000})
    acked, errors = {}, []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.value()] = (msg.partition(), msg.offset())
    for i in range(start, start + count):
        producer.produce(TOPIC, value=f"r{i}".encode(), partition=i % PARTITIONS, on_delivery=delivered)
        producer.poll(0)
    check(producer.flush(90) == 0, "every record delivered within the bound")
    check(not errors, f"no delivery failed: {errors[:3]}")
    return acked


def consume_all(bootstrap):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "verify", "enable.auto.commit": False,
                         "enable.partition.eof": True})
    ends = clusterlib.high_watermarks(consumer, TOPIC, PARTITIONS)
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    got, done = {}, {p for p in range(PARTITIONS) if ends[p] == 0}
    deadline = time.monotonic() + 60
    while len(done) < PARTITIONS:
        check(time.monotonic() < deadline, f"consumed up to {ends} in time")
        for m in consumer.consume(1000, timeout=1.0):
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF, f"consume error {m.error()}")
                if m.offset() >= ends[m.partition()]:
                    done.add(m.partition())
                continue
            check(m.value() not in got, f"{m.value()} read twice")
            got[m.value()] = (m.partition(), m.offset())
    consumer.close()
    return got


def cli(tributary, *args, timeout_s=120):
    out = subprocess.run([tributary, *args], capture_output=True, text=True, timeout=timeout_s)
    print(f"$ tributary {' '.join(args)}\n{out.stdout}{out.stderr}", end="", flush=True)
    return out


def main(binary, workdir):
    tributary = sys.argv[2] if len(sys.argv) > 2 else None
    if tributary is None:
        print("usage: test_moves.py <tributary-broker> <tributary>")
        sys.exit(brokerlib.SKIP)
    c = clusterlib.cluster(binary, workdir, nodes=4, seeds=3)
    c.start([1, 2, 3])
    c.wait_leader(ids=[1, 2, 3], registered=3)
    bootstrap = ",".join(c.nodes[i].bootstrap for i in (1, 2, 3))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _, f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3)], request_timeout=15).items():
        f.result(timeout=15)
    c.wait_serving(TOPIC, PARTITIONS, preferred=True)
    acked = produce(bootstrap, 0, 4000)

    # Node 4 joins; add-node gives it its share of the replicas.
    c.start([4])
    c.wait_leader(registered=4)
    out = cli(tributary, "cluster", "add-node", "4", "--admin", f"127.0.0.1:{c.nodes[1].http_port}", "--wait-s", "90")
    check(out.returncode == 0, "add-node finishes")
    hosted = c.partitions(4, TOPIC)
    check(len(hosted) >= 2, f"node 4 holds replicas after add-node: {sorted(hosted)}")
    for (_, p), info in hosted.items():
        check(4 in info["voters"], f"partition {p}: node 4 is a voter: {info}")
    def caught_up():  # node 4's copy of each partition reaches its leader's high watermark
        for (_, p), info in c.partitions(4, TOPIC).items():
            lead = c.serving_leader(TOPIC, p)
            if lead is None or info["log_end"] < c.partitions(lead, TOPIC)[(TOPIC, p)]["high_watermark"]:
                return False
        return True
    brokerlib.wait_for(caught_up, 20, "node 4's logs to hold what was written before it joined")
    all_bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    md = AdminClient({"bootstrap.servers": all_bootstrap}).list_topics(TOPIC, timeout=10)
    check(sorted(md.brokers) == [1, 2, 3, 4], f"Metadata names the four nodes: {sorted(md.brokers)}")
    acked.update(produce(all_bootstrap, 4000, 4000))

    # Node 4 leaves: every replica moves off it, then it is marked removed.
    out = cli(tributary, "cluster", "remove-node", "4", "--admin", f"127.0.0.1:{c.nodes[2].http_port}",
              "--wait-s", "90")
    check(out.returncode == 0, "remove-node finishes")
    brokerlib.wait_for(lambda: not c.partitions(4, TOPIC), 30, "node 4 to drop its replicas")
    brokerlib.wait_for(lambda: not any(d.startswith(f"{TOPIC}-") for d in os.listdir(c.nodes[4].data_dir)), 30,
                       "node 4's partition directories to go")
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(TOPIC, timeout=10)
    check(sorted(md.brokers) == [1, 2, 3], f"Metadata no longer names node 4: {sorted(md.brokers)}")
    for p, pm in md.topics[TOPIC].partitions.items():
        check(4 not in pm.replicas, f"partition {p} replicas {pm.replicas}")
    acked.update(produce(bootstrap, 8000, 2000))

    got = consume_all(bootstrap)
    check(set(got) == set(acked), f"every acknowledged record read back ({len(set(acked) - set(got))} missing, "
          f"{len(set(got) - set(acked))} unexpected)")
    check(all(got[v] == acked[v] for v in acked), "each at the partition and offset acknowledged")
    print(f"{len(acked)} records acknowledged across add-node and remove-node, each read back once at its offset")
    status = json.loads(brokerlib.http_get(c.nodes[1].http_port, "/v1/cluster")[1])
    check(any(n["node_id"] == 4 and n["removed"] for n in status["nodes"]), "node 4 is marked removed")
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0, not {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
