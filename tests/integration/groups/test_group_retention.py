"""Offset retention (groups.offsets_retention_ms, KIP-211): the offsets of a group without members
expire once it has been empty that long (counted from its last commit), and stay gone after a restart
(tombstones in __consumer_offsets); a group with a live member keeps its offsets."""
import time

import confluent_kafka as ck

import grouplib
from grouplib import check, consumer

RETENTION_MS = 2000


def committed(bs, group, topic):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": group})
    got = c.committed([ck.TopicPartition(topic, 0)], timeout=10)
    c.close()
    return got[0].offset


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS +
                                  ["--set", f"groups.offsets_retention_ms={RETENTION_MS}"]).start()
    bs = b.bootstrap
    topic = "ret"
    grouplib.create_topic(bs, topic, 1)
    grouplib.produce(bs, topic, [f"v{i}" for i in range(10)], 1)
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-simple", "enable.auto.commit": False})
    c.commit(offsets=[ck.TopicPartition(topic, 0, 7)], asynchronous=False)
    c.close()
    live = consumer("confluent", bs, "g-live", topic, "m0")
    grouplib.wait_for(lambda: len(live.records()) == 10, 30, "the live member reads")
    check(committed(bs, "g-simple", topic) == 7, "simple commit")
    grouplib.wait_for(lambda: committed(bs, "g-simple", topic) < 0, 10, "the empty group's offsets to expire",
                      interval_s=0.5)
    time.sleep(RETENTION_MS / 1000 + 0.5)
    check(committed(bs, "g-live", topic) == 10, "a group with a member keeps its offsets")
    check("event=offsets_expired" in b.log_text(), "expiry not logged")
    live.stop()
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")
    b.start()
    check(committed(bs, "g-simple", topic) < 0, "expired offsets came back after a restart")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
