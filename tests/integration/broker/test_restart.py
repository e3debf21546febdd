"""Restarts: everything acknowledged survives. (1) Produce to two topics (one with three partitions),
SIGTERM (exit 0), restart on the same data directory: topics and partition counts are back, every
message is consumed back, offsets continue. (2) Produce with acks=all (answered after the fsync that
covers it), kill -9, restart: every acknowledged message is there."""
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic

import brokerlib
from brokerlib import check


def produce(bs, topic, n, partitions, prefix):
    acked = []
    p = ck.Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 2})
    for i in range(n):
        p.produce(topic, key=f"{prefix}{i}", value=f"{prefix}-value-{i}", partition=i % partitions,
                  on_delivery=lambda err, m: acked.append((m.partition(), m.offset(), m.value().decode()))
                  if err is None else None)
        p.poll(0)
    check(p.flush(30) == 0, f"{topic}: not all delivered")
    return acked


def consume_all(bs, topic, partitions, expect, timeout_s=30):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, p, 0) for p in range(partitions)])
    got = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append((m.partition(), m.offset(), m.value().decode()))
    c.close()
    return got


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir).start()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic("three", 3, 1)])["three"].result(10)
    acked = produce(b.bootstrap, "three", 600, 3, "a") + produce(b.bootstrap, "single", 200, 1, "s")
    del a
    rc, took = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")

    b.start()
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
    check(len(md.topics["three"].partitions) == 3 and len(md.topics["single"].partitions) == 1,
          f"topics after restart: {md.topics}")
    got = consume_all(b.bootstrap, "three", 3, 600) + consume_all(b.bootstrap, "single", 1, 200)
    check(sorted(got) == sorted(acked), f"after restart consumed {len(got)} of {len(acked)} acknowledged")
    more = produce(b.bootstrap, "single", 10, 1, "m")
    check([o for _, o, _ in more] == list(range(200, 210)), f"offsets after restart {[o for _, o, _ in more]}")
    check("partition_recovered" in b.log_text(), "recovery is logged")

    # kill -9 after acks=all: acknowledged means fsync'ed.
    acked = produce(b.bootstrap, "crash", 500, 1, "c")
    b.kill()
    b.start()
    got = consume_all(b.bootstrap, "crash", 1, 500)
    check(sorted(got) == sorted(acked), f"after kill -9 consumed {len(got)} of {len(acked)} acknowledged")
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
