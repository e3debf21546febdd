"""One group of consumers (confluent-kafka or kafka-python, one process each) on a 6-partition topic:
3 members get 2 partitions each; a 4th joins and the group rebalances (2,2,1,1); one member is
killed -9 and its partitions move to the others after its session timeout (6 s). Every produced record
is consumed, and a record is delivered twice only when no commit covered its first delivery.

    test_group_scale.py <tributary-broker> <confluent|kafka-python>"""
import sys
import time

import grouplib
from grouplib import check, consumer

LIB = sys.argv.pop(2) if len(sys.argv) > 2 else "confluent"
PARTS = 6


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "scale"
    grouplib.create_topic(bs, topic, PARTS)
    batch1 = [f"a{i}" for i in range(600)]
    grouplib.produce(bs, topic, batch1, PARTS)

    t0 = time.monotonic()
    members = [consumer(LIB, bs, "g-scale", topic, f"c{i}") for i in range(3)]
    grouplib.wait_balanced(members, PARTS, 30, "3 members settle")
    check(all(len(m.assignment()) == 2 for m in members), "3 members: 2 partitions each")
    print(f"3 members settled in {time.monotonic() - t0:.1f}s")
    grouplib.wait_consumed(members, batch1, 30, "first batch consumed")

    t0 = time.monotonic()
    members.append(consumer(LIB, bs, "g-scale", topic, "c3"))
    grouplib.wait_balanced(members, PARTS, 30, "4 members settle")
    check(sorted(len(m.assignment()) for m in members) == [1, 1, 2, 2], "4 members: 2,2,1,1")
    print(f"4th member joined, settled in {time.monotonic() - t0:.1f}s")
    batch2 = [f"b{i}" for i in range(600)]
    grouplib.produce(bs, topic, batch2, PARTS)
    grouplib.wait_consumed(members, batch2, 30, "second batch consumed")

    victim = max(members, key=lambda m: len(m.assignment()))
    lost = victim.assignment()
    t0 = time.monotonic()
    victim.kill9()
    batch3 = [f"c{i}" for i in range(600)]
    grouplib.produce(bs, topic, batch3, PARTS)
    alive = [m for m in members if m is not victim]
    grouplib.wait_balanced(alive, PARTS, 30, "partitions of the killed member move")
    moved_after = time.monotonic() - t0
    print(f"partitions {sorted(lost)} of the killed member moved after {moved_after:.1f}s")
    check(moved_after >= 3, f"partitions moved after {moved_after:.1f}s, before the 6 s session timeout")
    grouplib.wait_consumed(alive, batch3, 30, "third batch consumed")
    grouplib.wait_consumed(members, batch1 + batch2 + batch3, 5, "every record consumed")
    dups = grouplib.check_no_duplicates_except_uncommitted(members)
    print(f"records delivered twice (uncommitted work across a rebalance): {dups}")

    for m in alive:
        m.stop()
    # A restarted consumer of the group finds every offset committed: nothing more to read.
    lag_text = b.metrics()
    for p in range(PARTS):
        lag = grouplib.brokerlib.metric_value(lag_text, "tributary_group_lag",
                                              {"group": "g-scale", "topic": topic, "partition": str(p)})
        check(lag == 0, f"lag of partition {p} is {lag}")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
