"""Publish-subscribe: two groups (one confluent-kafka, one kafka-python member each, plus a second
confluent member in the first group) read one topic, and each group receives every record. Then
ListGroups / DescribeGroups (AdminClient.list_groups) show both groups, Stable, with their members;
after the consumers leave, DeleteGroups (raw v0: this confluent-kafka's AdminClient lacks it) removes
one group and its offsets and answers GROUP_ID_NOT_FOUND for an unknown group; the other group's
offsets stay."""
import confluent_kafka as ck
from confluent_kafka.admin import AdminClient

import grouplib
from grouplib import check, consumer

PARTS = 4


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "pubsub"
    grouplib.create_topic(bs, topic, PARTS)
    values = [f"v{i}" for i in range(400)]
    grouplib.produce(bs, topic, values, PARTS)
    g1 = [consumer("confluent", bs, "g-one", topic, "a0"), consumer("confluent", bs, "g-one", topic, "a1")]
    g2 = [consumer("kafka-python", bs, "g-two", topic, "b0")]
    grouplib.wait_balanced(g1, PARTS, 30, "group one settles")
    grouplib.wait_balanced(g2, PARTS, 30, "group two settles")
    grouplib.wait_consumed(g1, values, 30, "group one gets every record")
    grouplib.wait_consumed(g2, values, 30, "group two gets every record")
    grouplib.check_no_duplicates_except_uncommitted(g1)
    grouplib.check_no_duplicates_except_uncommitted(g2)

    admin = AdminClient({"bootstrap.servers": bs})
    listed = {g.id: g for g in admin.list_groups(timeout=30)}  # ListGroups + DescribeGroups
    check({"g-one", "g-two"} <= set(listed), f"ListGroups: {sorted(listed)}")
    check("__consumer_offsets" not in grouplib.brokerlib_topics(bs), "__consumer_offsets listed by Metadata")
    d1 = listed["g-one"]
    check(d1.state == "Stable", f"g-one state {d1.state}")
    check(d1.protocol_type == "consumer" and d1.protocol == "range", f"g-one {d1.protocol_type}/{d1.protocol}")
    check(len(d1.members) == 2, f"g-one members {d1.members}")
    check(all(m.client_host == "/127.0.0.1" for m in d1.members), f"hosts {[m.client_host for m in d1.members]}")
    check(len(listed["g-two"].members) == 1, f"g-two members {listed['g-two'].members}")

    for m in g1 + g2:
        m.stop()
    listed = {g.id: g for g in admin.list_groups(timeout=30)}
    check(listed["g-one"].state == "Empty" and not listed["g-one"].members, f"g-one after leaving: {listed['g-one']}")
    # DeleteGroups (not in this confluent-kafka version's AdminClient): raw, v0.
    import struct
    c = grouplib.brokerlib.raw_client(b.kafka_port)
    body = struct.pack(">i", 2) + grouplib.brokerlib.kstring("g-one") + grouplib.brokerlib.kstring("nobody")
    c.send(grouplib.brokerlib.request_frame(42, 0, 5, body))
    corr, payload = c.recv_frame()
    c.close()
    check(corr == 5, f"DeleteGroups correlation id {corr}")
    pos = 4
    (n,) = struct.unpack_from(">i", payload, pos)
    pos += 4
    results = {}
    for _ in range(n):
        (ln,) = struct.unpack_from(">h", payload, pos)
        gid = payload[pos + 2:pos + 2 + ln].decode()
        pos += 2 + ln
        (err,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        results[gid] = err
    check(results == {"g-one": 0, "nobody": 69}, f"DeleteGroups answered {results}")
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-one"})
    committed = c.committed([ck.TopicPartition(topic, p) for p in range(PARTS)], timeout=10)
    check(all(tp.offset < 0 for tp in committed), f"offsets of a deleted group: {committed}")
    c.close()
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-two"})
    committed = c.committed([ck.TopicPartition(topic, p) for p in range(PARTS)], timeout=10)
    check(sum(tp.offset for tp in committed) == len(values), f"offsets of g-two: {committed}")
    c.close()
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
