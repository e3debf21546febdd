"""Static membership (group.instance.id, JoinGroup v5) with confluent-kafka: two static members share
a 6-partition topic; each is in turn killed -9 and restarted under the same instance id before its
session timeout: the restarted process gets the same partitions back without a rebalance (the other
member sees no revocation), and reads on from the committed offsets."""
import time

import grouplib
from grouplib import check, consumer

PARTS = 6


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "static"
    grouplib.create_topic(bs, topic, PARTS)
    first = [f"a{i}" for i in range(300)]
    grouplib.produce(bs, topic, first, PARTS)
    members = {i: consumer("confluent", bs, "g-static", topic, f"s{i}", session_ms=30000, instance=f"inst-{i}")
               for i in (0, 1)}
    grouplib.wait_balanced(list(members.values()), PARTS, 30, "2 static members settle")
    grouplib.wait_consumed(list(members.values()), first, 30, "first batch consumed")
    everyone = list(members.values())
    for victim in (0, 1):
        other = members[1 - victim]
        before = {i: m.assignment() for i, m in members.items()}
        mark = len(other.snapshot())
        members[victim].kill9()
        t0 = time.monotonic()
        members[victim] = consumer("confluent", bs, "g-static", topic, f"s{victim}-again", session_ms=30000,
                                   instance=f"inst-{victim}")
        everyone.append(members[victim])
        grouplib.wait_for(lambda: members[victim].assignment() == before[victim], 20,
                          f"instance {victim} gets its partitions back")
        print(f"instance {victim} back with {sorted(before[victim])} in {time.monotonic() - t0:.1f}s")
        batch = [f"b{victim}-{i}" for i in range(120)]
        grouplib.produce(bs, topic, batch, PARTS)
        grouplib.wait_consumed(list(members.values()), batch, 30, "records after the restart")
        revokes = [ev for ev in other.snapshot()[mark:] if ev["ev"] in ("revoke", "assign")]
        check(not revokes, f"instance {1 - victim} was rebalanced by a static restart: {revokes}")
        check(other.assignment() == before[1 - victim], "the other member's partitions changed")
    grouplib.check_no_duplicates_except_uncommitted(everyone)
    for m in members.values():
        m.stop()
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
