"""confluent-kafka (librdkafka 2.0.2) against tributary-broker: produce with acks 0, 1, all and with
enable.idempotence=true, every delivery acknowledged and every message consumed back by
partition/offset (assign: consumer groups come later); ListOffsets by timestamp (offsets_for_times,
refined to the record inside a batch) and earliest/latest (watermarks); a long-polling consumer gets a
message produced after it started waiting; AdminClient create_topics / describe_configs /
delete_topics, with the errors of a bad replication factor and of an existing topic."""
import threading
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import brokerlib
from brokerlib import check


def produce_all(bootstrap, topic, conf, n, prefix):
    errors, delivered = [], []

    def on_delivery(err, msg):
        (errors if err else delivered).append(err or (msg.partition(), msg.offset()))

    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **conf})
    for i in range(n):
        p.produce(topic, key=f"{prefix}-k{i}", value=f"{prefix}-v{i}", partition=i % 2, on_delivery=on_delivery)
        p.poll(0)
    left = p.flush(30)
    check(left == 0, f"{conf}: {left} messages not delivered")
    check(not errors, f"{conf}: delivery errors {errors[:3]}")
    check(len(delivered) == n, f"{conf}: {len(delivered)} delivery reports for {n}")
    return delivered


def consume(bootstrap, topic, partitions, expect, timeout_s=30):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, p, 0) for p in partitions])
    got = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        check(m.error() is None, f"consume error {m.error()}")
        key = m.key().decode() if m.key() is not None else None
        got.append((m.partition(), m.offset(), key, m.value().decode()))
    c.close()
    return got


def main(binary, workdir):
    t0 = time.monotonic()
    step = lambda what: print(f"{time.monotonic() - t0:6.2f}s {what}", flush=True)
    b = brokerlib.broker(binary, workdir, ["--set", "default_partitions=2"]).start()
    bs = b.bootstrap

    # acks 0, 1, all and idempotence, each into its own auto-created two-partition topic.
    cases = [("acks0", {"acks": "0"}), ("acks1", {"acks": "1"}), ("acksall", {"acks": "all"}),
             ("idempotent", {"enable.idempotence": True})]
    n = 300
    for topic, conf in cases:
        produce_all(bs, topic, conf, n, topic)
        got = consume(bs, topic, [0, 1], n)
        check(len(got) == n, f"{topic}: consumed {len(got)} of {n}")
        for part in (0, 1):
            mine = [g for g in got if g[0] == part]
            check([g[1] for g in mine] == list(range(len(mine))), f"{topic}[{part}]: offsets not 0..n-1")
            want = [(f"{topic}-k{i}", f"{topic}-v{i}") for i in range(part, n, 2)]
            check([(g[2], g[3]) for g in mine] == want, f"{topic}[{part}]: keys/values differ")

    step("produced and consumed with acks 0/1/all/idempotent")
    # ListOffsets: earliest/latest and by timestamp, inside one batch (linger keeps the three together).
    now = int(time.time() * 1000)
    p = ck.Producer({"bootstrap.servers": bs, "linger.ms": 200})
    for i, ts in enumerate((now - 30000, now - 20000, now - 10000)):
        p.produce("times", value=f"t{i}", partition=0, timestamp=ts)
    check(p.flush(30) == 0, "times: not delivered")
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False})
    lo, hi = c.get_watermark_offsets(ck.TopicPartition("times", 0), timeout=10)
    check((lo, hi) == (0, 3), f"watermarks {(lo, hi)}")
    for ts, want in ((now - 40000, 0), (now - 25000, 1), (now - 20000, 1), (now - 15000, 2), (now + 60000, -1)):
        r = c.offsets_for_times([ck.TopicPartition("times", 0, ts)], timeout=10)
        check(r[0].error is None and r[0].offset == want, f"offsets_for_times({ts - now:+}ms) = {r[0]}, want {want}")
    c.close()

    step("list offsets")
    # Long poll: the consumer waits on an empty partition; a message produced later arrives.
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False, "fetch.wait.max.ms": 5000})
    c.assign([ck.TopicPartition("acks1", 0, ck.OFFSET_END)])
    late = {}

    def produce_later():
        time.sleep(1.0)
        pl = ck.Producer({"bootstrap.servers": bs})
        pl.produce("acks1", value="late", partition=0)
        pl.flush(10)
        late["sent"] = time.monotonic()

    t = threading.Thread(target=produce_later)
    t.start()
    got = None
    deadline = time.monotonic() + 20
    while got is None and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got = m.value()
    t.join()
    c.close()
    check(got == b"late", f"long-polling consumer got {got!r}")

    step("long poll")
    # Admin.
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic("admin-made", 3, 1, config={"retention.ms": "3600000",
                                                               "message.timestamp.type": "LogAppendTime"})])
    fs["admin-made"].result(10)
    md = a.list_topics(timeout=10)
    check("admin-made" in md.topics and len(md.topics["admin-made"].partitions) == 3, "created topic in metadata")
    res = a.describe_configs([ConfigResource("topic", "admin-made")])
    cfg = list(res.values())[0].result(10)
    check(cfg["retention.ms"].value == "3600000" and cfg["retention.ms"].source == 1, f"retention.ms {cfg['retention.ms']}")
    check(cfg["message.timestamp.type"].value == "LogAppendTime", "message.timestamp.type")
    check(cfg["segment.bytes"].source == 5, "segment.bytes is a default")
    res = a.describe_configs([ConfigResource("broker", "0")])
    bcfg = list(res.values())[0].result(10)
    check(bcfg["broker.id"].value == "0", f"broker.id {bcfg.get('broker.id')}")

    for topic, rf, parts, code in (("admin-made", 1, 1, ck.KafkaError.TOPIC_ALREADY_EXISTS),
                                   ("bad-rf", 3, 1, ck.KafkaError.INVALID_REPLICATION_FACTOR),
                                   ("bad-name/x", 1, 1, ck.KafkaError.TOPIC_EXCEPTION)):
        fs = a.create_topics([NewTopic(topic, parts, rf)])
        try:
            fs[topic].result(10)
            raise AssertionError(f"create {topic} should fail")
        except ck.KafkaException as e:
            check(e.args[0].code() == code, f"create {topic}: {e.args[0]}")

    step("admin")
    # LogAppendTime topic: the broker stamps the time.
    p = ck.Producer({"bootstrap.servers": bs})
    p.produce("admin-made", value="stamped", partition=0, timestamp=1000)
    check(p.flush(10) == 0, "admin-made: not delivered")
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False})
    c.assign([ck.TopicPartition("admin-made", 0, 0)])
    m = None
    deadline = time.monotonic() + 20
    while m is None and time.monotonic() < deadline:
        m = c.poll(0.5)
    c.close()
    check(m is not None and m.error() is None and m.value() == b"stamped", f"admin-made: consumed {m}")
    ts_type, ts = m.timestamp()
    check(ts_type == ck.TIMESTAMP_LOG_APPEND_TIME and ts > 1000, f"LogAppendTime topic: timestamp {m.timestamp()}")

    fs = a.delete_topics(["admin-made"])
    fs["admin-made"].result(10)
    check("admin-made" not in a.list_topics(timeout=10).topics, "deleted topic still listed")

    check(b.alive(), "broker died")
    del p, a  # disconnect the clients before the broker stops (no reconnect noise)
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
