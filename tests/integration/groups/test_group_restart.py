"""Committed offsets survive broker restarts: a confluent-kafka member consumes and commits, the
broker is killed -9 (an OffsetCommit is answered only once durable) and restarted: a new member of the
group continues where the old one stopped (the records produced meanwhile, none of the old ones); then
a SIGTERM restart, and kafka-python reads the same committed offsets. Compaction keeps
__consumer_offsets bounded: with a tiny offsets_compact_bytes, thousands of commits leave a few
segments, and the last commit is what a restart finds; junk records in __consumer_offsets are skipped
on replay."""
import os
import time

import confluent_kafka as ck
import kafka

import grouplib
from grouplib import check, consumer

PARTS = 3
COMPACT_BYTES = 16384


def committed(bs, group, topic):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": group})
    got = c.committed([ck.TopicPartition(topic, p) for p in range(PARTS)], timeout=10)
    c.close()
    return [tp.offset for tp in got]


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def main(binary, workdir):
    args = grouplib.BROKER_ARGS + ["--set", f"groups.offsets_compact_bytes={COMPACT_BYTES}",
                                   "--set", "groups.offsets_segment_bytes=4096",
                                   "--set", "groups.offsets_partitions=4"]
    b = grouplib.brokerlib.broker(binary, workdir, args).start()
    bs = b.bootstrap
    topic = "restart"
    grouplib.create_topic(bs, topic, PARTS)
    first = [f"a{i}" for i in range(300)]
    grouplib.produce(bs, topic, first, PARTS)
    c1 = consumer("confluent", bs, "g-restart", topic, "c1")
    grouplib.wait_consumed([c1], first, 30, "first batch consumed")
    grouplib.wait_for(lambda: committed(bs, "g-restart", topic) == [100, 100, 100], 15, "commits of the first batch")
    c1.kill9()

    b.kill()  # kill -9: committed offsets were durable before the OffsetCommit answers
    b.start()
    check(committed(bs, "g-restart", topic) == [100, 100, 100],
          f"after kill -9: {committed(bs, 'g-restart', topic)}")
    second = [f"b{i}" for i in range(150)]
    grouplib.produce(bs, topic, second, PARTS)
    c2 = consumer("confluent", bs, "g-restart", topic, "c2")
    grouplib.wait_consumed([c2], second, 40, "second batch consumed after the restart")
    old = [ev["v"] for ev in c2.records() if ev["v"].startswith("a")]
    check(not old, f"the restarted member read {len(old)} records committed before the restart")
    grouplib.wait_for(lambda: committed(bs, "g-restart", topic) == [150, 150, 150], 15, "commits of the second batch")
    c2.stop()

    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")
    b.start()
    kc = kafka.KafkaConsumer(bootstrap_servers=bs, group_id="g-restart", enable_auto_commit=False)
    got = [kc.committed(kafka.TopicPartition(topic, p)) for p in range(PARTS)]
    kc.close()
    check(got == [150, 150, 150], f"kafka-python after a SIGTERM restart: {got}")

    # Compaction: 3000 simple commits to one group.
    t0 = time.monotonic()
    p = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-compact", "enable.auto.commit": False})
    for i in range(1, 3001):
        p.commit(offsets=[ck.TopicPartition(topic, 0, i)], asynchronous=False)
    p.close()
    print(f"3000 synchronous commits in {time.monotonic() - t0:.1f}s")
    sizes = {d: dir_bytes(os.path.join(b.data_dir, d)) for d in os.listdir(b.data_dir)
             if d.startswith("__consumer_offsets-")}
    biggest = max(sizes.values())
    print(f"__consumer_offsets partition sizes after 3000 commits: {sorted(sizes.values())}")
    # 3000 commits are ~300 KB of records; compaction keeps a partition near COMPACT_BYTES.
    check(biggest < 6 * COMPACT_BYTES, f"__consumer_offsets grew to {biggest} bytes")
    check("event=compacted" in b.log_text(), "no compaction logged")
    # Records that are not the coordinator's (a client writing to the internal topic) are skipped on
    # replay, never fatal.
    junk = ck.Producer({"bootstrap.servers": bs})
    for part in range(4):
        junk.produce("__consumer_offsets", key=b"\x00\x01junk", value=b"junk", partition=part)
        junk.produce("__consumer_offsets", key=b"\x00\x02\x00\x09g-compact", value=b"\x00\x01\x05", partition=part)
    check(junk.flush(10) == 0, "junk records not delivered")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")
    b.start()
    check("skipped=" in b.log_text(), "skipped records not reported")
    check(committed(bs, "g-compact", topic)[0] == 3000, f"after compaction and restart: {committed(bs, 'g-compact', topic)}")
    check(committed(bs, "g-restart", topic) == [150, 150, 150], "other groups' offsets after compaction")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
