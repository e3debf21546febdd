"""A record too large for its topic (max.message.bytes set small at CreateTopics by confluent-kafka's
AdminClient) lands in the dead-letter table with its reason; its neighbours — refused with it when they
shared a batch — are sent again alone and delivered. With --gateway, the `dlq list|retry|purge`
commands are checked on the same buffer file."""
import subprocess

import fwdlib
from fwdlib import check

ROWS = 100
BIG_EVERY = 10
TOPIC = "small"


def create_small_topic(bootstrap):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    fs = a.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1,
                                   config={"max.message.bytes": "2048"})], operation_timeout=10)
    for _t, f in fs.items():
        f.result(timeout=20)


def main(args, workdir):
    b = fwdlib.brokerlib.broker(args.broker, workdir).start()
    try:
        create_small_topic(b.bootstrap)
        d = fwdlib.driver(args.driver, workdir, b.bootstrap, topic=TOPIC,
                          extra=["--set", "forwarder.compression=none", "--set", "forwarder.linger_ms=20"])
        d.start("--rows", str(ROWS), "--rate", "0", "--devices", "1", "--payload-bytes", "150", "--big-every",
                str(BIG_EVERY), "--big-bytes", "5000", "--exit-when-drained")
        check(d.wait(120) == 0, "driver failed")
        dead = d.dead_letters()
        print(f"dead letters: {len(dead)}, e.g. {dead[:1]}")
        check(len(dead) == ROWS // BIG_EVERY, f"{len(dead)} dead letters, expected {ROWS // BIG_EVERY}")
        for seq, topic, reason in dead:
            check(topic == TOPIC, f"dead letter topic {topic}")
            check("MSG_SIZE_TOO_LARGE" in reason, f"reason: {reason}")
        acked = d.acked()
        check(len(acked) == ROWS, f"{len(acked)} acknowledged")
        big = {(dev, s) for dev, s, _g in acked if s % BIG_EVERY == 0}
        dead_seqs = {seq for seq, _t, _r in dead}
        check(dead_seqs == {g for dev, s, g in acked if (dev, s) in big}, "the big readings are the dead letters")
        small = [a for a in acked if (a[0], a[1]) not in big]
        records = fwdlib.consume_all(b.bootstrap, TOPIC, len(small))
        unique, dup = fwdlib.check_delivery(small, records)
        check(unique == len(small), f"{unique} delivered, expected {len(small)}")
        print(f"{unique} small readings delivered in order, {len(dead)} too large dead-lettered")

        if args.gateway:
            gw = args.gateway
            run = lambda *a: subprocess.run([gw, "dlq", *a, "--buffer", d.buffer], capture_output=True, text=True,
                                            timeout=30)
            out = run("list")
            check(out.returncode == 0, f"dlq list: {out.stderr}")
            check(out.stdout.count("MSG_SIZE_TOO_LARGE") == len(dead), f"dlq list output:\n{out.stdout}")
            out = run("list", "--json")
            check(out.returncode == 0 and len(out.stdout.splitlines()) == len(dead), f"dlq list --json: {out.stdout}")
            first = sorted(dead_seqs)[0]
            out = run("retry", str(first))
            check(out.returncode == 0 and f"{first} ->" in out.stdout, f"dlq retry: {out.stdout} {out.stderr}")
            check(len(d.dead_letters()) == len(dead) - 1 and d.backlog_rows() == 1, "retry moved one row back")
            out = run("purge", "--all")
            check(out.returncode == 0, f"dlq purge: {out.stderr}")
            check(len(d.dead_letters()) == 0, "purge emptied the table")
            out = run("retry", "999999")
            check(out.returncode == 1, f"retry of an unknown seq: {out.returncode} {out.stderr}")
            print("dlq list, retry and purge work on the buffer file")
    finally:
        b.kill()


if __name__ == "__main__":
    a = fwdlib.parse_args()
    fwdlib.run_test(a, main)
