#!/usr/bin/python3
"""One consumer-group member as its own process (so a test can kill -9 it), printing JSON lines:
  {"ev": "assign", "parts": [..]}    partitions given (eager: the whole assignment; cooperative: added)
  {"ev": "revoke", "parts": [..]}    partitions taken away
  {"ev": "rec", "p": P, "o": O, "v": V}
  {"ev": "commit", "ok": bool, "offs": [[P, next], ..], "err": "..."}
Every event carries "t" (wall time of printing). Each record is printed before the synchronous commit that covers it, so a record delivered twice must
have a first delivery that no successful commit covered.

  group_consumer.py <lib: confluent|kafka-python> <bootstrap> <group> <topic> [--strategy S]
                    [--session-ms N] [--instance ID]
Stops on SIGTERM (closing the consumer: LeaveGroup) or when stdin closes."""
import argparse
import json
import signal
import sys
import threading
import time

stop = threading.Event()


def out(obj):
    obj["t"] = time.time()
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_confluent(a):
    import confluent_kafka as ck
    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": a.session_ms, "heartbeat.interval.ms": 500,
            "partition.assignment.strategy": a.strategy, "fetch.wait.max.ms": 100,
            "topic.metadata.refresh.interval.ms": 2000}
    if a.instance:
        conf["group.instance.id"] = a.instance
    c = ck.Consumer(conf)

    def on_assign(consumer, parts):
        out({"ev": "assign", "parts": sorted(p.partition for p in parts)})

    def on_revoke(consumer, parts):
        out({"ev": "revoke", "parts": sorted(p.partition for p in parts)})

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        msgs = c.consume(100, 0.2)
        offs = {}
        for m in msgs:
            if m.error():
                continue
            out({"ev": "rec", "p": m.partition(), "o": m.offset(), "v": m.value().decode()})
            offs[m.partition()] = m.offset() + 1
        if offs:
            try:
                c.commit(offsets=[ck.TopicPartition(a.topic, p, o) for p, o in offs.items()], asynchronous=False)
                out({"ev": "commit", "ok": True, "offs": sorted(offs.items())})
            except ck.KafkaException as e:
                out({"ev": "commit", "ok": False, "offs": sorted(offs.items()), "err": str(e)})
    c.close()


def run_kafka_python(a):
    import kafka
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

    class listener(ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned):
            out({"ev": "assign", "parts": sorted(p.partition for p in assigned)})

        def on_partitions_revoked(self, revoked):
            out({"ev": "revoke", "parts": sorted(p.partition for p in revoked)})

    c = kafka.KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group, auto_offset_reset="earliest",
                            enable_auto_commit=False, session_timeout_ms=a.session_ms,
                            heartbeat_interval_ms=500, max_poll_records=100, fetch_max_wait_ms=100,
                            metadata_max_age_ms=2000)
    c.subscribe([a.topic], listener=listener())
    while not stop.is_set():
        batch = c.poll(200)
        offs = {}
        for tp, msgs in batch.items():
            for m in msgs:
                out({"ev": "rec", "p": m.partition, "o": m.offset, "v": m.value.decode()})
                offs[m.partition] = m.offset + 1
        if offs:
            try:
                c.commit({kafka.TopicPartition(a.topic, p): kafka.OffsetAndMetadata(o, None) for p, o in offs.items()})
                out({"ev": "commit", "ok": True, "offs": sorted(offs.items())})
            except Exception as e:  # CommitFailedError and friends
                out({"ev": "commit", "ok": False, "offs": sorted(offs.items()), "err": repr(e)})
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib")
    ap.add_argument("bootstrap")
    ap.add_argument("group")
    ap.add_argument("topic")
    ap.add_argument("--strategy", default="range")
    ap.add_argument("--session-ms", type=int, default=6000)
    ap.add_argument("--instance", default=None)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    (run_confluent if a.lib == "confluent" else run_kafka_python)(a)
    out({"ev": "closed"})


if __name__ == "__main__":
    main()
