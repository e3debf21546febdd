"""Incremental rebalancing (KIP-429) with confluent-kafka, partition.assignment.strategy =
cooperative-sticky: 2 members share 6 partitions (3 each); a 3rd joins and takes 2; the partitions
that stay with their member are never revoked (the old members only lose what moves), and the
members keep consuming meanwhile. Every record is consumed; redeliveries only of uncommitted work."""
import time

import grouplib
from grouplib import check, consumer

PARTS = 6


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "coop"
    grouplib.create_topic(bs, topic, PARTS)
    batch1 = [f"a{i}" for i in range(300)]
    grouplib.produce(bs, topic, batch1, PARTS)
    members = [consumer("confluent", bs, "g-coop", topic, f"c{i}", strategy="cooperative-sticky")
               for i in range(2)]
    grouplib.wait_balanced(members, PARTS, 30, "2 members settle", cooperative=True)
    grouplib.wait_consumed(members, batch1, 30, "first batch consumed")
    before = [m.assignment(cooperative=True) for m in members]
    marks = [len(m.snapshot()) for m in members]

    t0 = time.monotonic()
    members.append(consumer("confluent", bs, "g-coop", topic, "c2", strategy="cooperative-sticky"))
    grouplib.wait_balanced(members, PARTS, 30, "3 members settle", cooperative=True)
    print(f"3rd member settled in {time.monotonic() - t0:.1f}s")
    after = [m.assignment(cooperative=True) for m in members]
    check(all(len(a) == 2 for a in after), f"3 members: 2 partitions each, {after}")
    for i in range(2):
        revoked = set()
        for ev in members[i].snapshot()[marks[i]:]:
            if ev["ev"] == "revoke":
                revoked |= set(ev["parts"])
        kept = before[i] & after[i]
        check(not (revoked & kept), f"member {i} had partitions {sorted(revoked & kept)} revoked that it kept")
        check(revoked == before[i] - after[i], f"member {i} revoked {sorted(revoked)}, moved "
              f"{sorted(before[i] - after[i])}")
        check(len(kept) == 2, f"member {i} kept {sorted(kept)} of {sorted(before[i])}")
    batch2 = [f"b{i}" for i in range(300)]
    grouplib.produce(bs, topic, batch2, PARTS)
    grouplib.wait_consumed(members, batch2, 30, "second batch consumed")
    dups = grouplib.check_no_duplicates_except_uncommitted(members)
    print(f"records delivered twice: {dups}")
    for m in members:
        m.stop()
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
