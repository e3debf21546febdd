"""kafka-python 2.0.2 against tributary-broker. It sends ApiVersions v0 and pipelines Metadata v0 behind
it, guesses a broker release from the advertised ranges, then uses fixed versions (Produce v7, Fetch
v4, ListOffsets v1): KafkaProducer with its default acks=1, KafkaConsumer with assign/seek and no
group, offsets by time, and KafkaAdminClient create/list/describe/delete."""
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

import brokerlib
from brokerlib import check


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir).start()
    bs = b.bootstrap

    p = KafkaProducer(bootstrap_servers=bs)  # acks=1, the kafka-python default
    check(p.config["api_version"] >= (2, 1), f"kafka-python guessed broker {p.config['api_version']}")
    now = int(time.time() * 1000)
    futures = [p.send("kp", key=b"k%d" % i, value=b"value-%d" % i, headers=[("h", b"%d" % i)],
                      timestamp_ms=now - 100000 + i * 1000) for i in range(60)]
    p.flush(30)
    offsets = [f.get(timeout=10).offset for f in futures]
    check(offsets == list(range(60)), f"produce offsets {offsets[:5]}...")
    p.close(10)

    tp = TopicPartition("kp", 0)
    c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False, group_id=None, consumer_timeout_ms=3000)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = list(c)
    check(len(got) == 60, f"consumed {len(got)} of 60")
    for i, m in enumerate(got):
        check((m.offset, m.key, m.value, m.headers) == (i, b"k%d" % i, b"value-%d" % i, [("h", b"%d" % i)]),
              f"record {i}: {m}")
    c.seek(tp, 42)
    again = list(c)
    check([m.offset for m in again] == list(range(42, 60)), f"after seek(42): {[m.offset for m in again][:3]}")
    check(c.end_offsets([tp]) == {tp: 60}, f"end_offsets {c.end_offsets([tp])}")
    check(c.beginning_offsets([tp]) == {tp: 0}, f"beginning_offsets {c.beginning_offsets([tp])}")
    by_time = c.offsets_for_times({tp: now - 100000 + 10500})
    check(by_time[tp].offset == 11, f"offsets_for_times {by_time}")
    c.close()

    a = KafkaAdminClient(bootstrap_servers=bs)
    r = a.create_topics([NewTopic("kp-admin", 4, 1, topic_configs={"retention.bytes": "1000000000"})])
    check(all(e[1] == 0 for e in r.topic_errors), f"create_topics {r}")
    check({"kp", "kp-admin"} <= set(a.list_topics()), f"list_topics {a.list_topics()}")
    desc = a.describe_topics(["kp-admin"])
    check(len(desc[0]["partitions"]) == 4 and desc[0]["error_code"] == 0, f"describe_topics {desc}")
    cfg = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-admin")])
    entries = {e[0]: e[1] for e in cfg[0].resources[0][4]}
    check(entries.get("retention.bytes") == "1000000000", f"describe_configs {entries}")
    r = a.delete_topics(["kp-admin"])
    check(all(e[1] == 0 for e in r.topic_error_codes), f"delete_topics {r}")
    check("kp-admin" not in a.list_topics(), "deleted topic still listed")
    a.close()

    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
