"""A flipped byte inside a record of a CLOSED segment (the recovery policy of
cluster/storage/partition_log.h, docs/operations.md "Storage recovery"). A topic with segment.bytes=16384
rolls many segments; the broker is stopped, one byte is flipped in the records of a middle batch of the
second segment, and the broker is restarted on the same data directory:
  - it starts, and its log names the file and the position (damaged_segment with path and valid_bytes,
    partition_recovered with the detail); again at the next start;
  - the damaged file is left as it is (forensics);
  - it serves the batches before the damage and every later segment, byte-identical; consumers see
    the offset gap (damaged batch .. end of that segment), also when they start inside it;
  - new records continue at the old log end.
Also: CreateTopics with a segment.bytes below a batch header is refused and the broker stays up (it used
to stop the broker at once and at every start after)."""
import os
import re
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic

import seglib
from seglib import brokerlib
from brokerlib import check

TOPIC = "dmg"
N = 3000


def record(i):
    return b"key-%d" % i, (b"value-%06d|" % i) * (2 + i % 9), [("n", b"%d" % i)]


def consume(bs, start, expect, timeout_s=30):
    """[(offset, key, value, headers)] from `start` until `expect` records or the log end stays quiet."""
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100, "enable.partition.eof": True})
    c.assign([ck.TopicPartition(TOPIC, 0, start)])
    got = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error() is not None:
            if m.error().code() == ck.KafkaError._PARTITION_EOF and len(got) >= expect:
                break
            continue
        got.append((m.offset(), m.key(), m.value(), m.headers()))
    c.close()
    return got


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir).start()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    bad = a.create_topics([NewTopic("tiny", 1, 1, config={"segment.bytes": "20"})])["tiny"]
    try:
        bad.result(10)
        check(False, "segment.bytes=20 accepted")
    except ck.KafkaException as e:
        check(e.args[0].code() == ck.KafkaError.INVALID_CONFIG, f"segment.bytes=20: {e}")
    check(b.alive(), "the broker stopped on CreateTopics segment.bytes=20")
    a.create_topics([NewTopic(TOPIC, 1, 1, config={"segment.bytes": "16384"})])[TOPIC].result(10)
    del a

    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 1, "batch.num.messages": 20})
    acked = {}
    for i in range(N):
        key, value, headers = record(i)
        p.produce(TOPIC, key=key, value=value, headers=headers, partition=0,
                  on_delivery=lambda err, m: acked.__setitem__(m.offset(), int(m.key()[4:])) if err is None else None)
        if i % 100 == 0:
            p.poll(0)
    check(p.flush(60) == 0 and len(acked) == N, f"{len(acked)} of {N} acknowledged")
    check(sorted(acked) == list(range(N)), "offsets not 0..N-1")
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")

    pdir = seglib.partition_dir(b.data_dir, TOPIC, 0)
    segs = seglib.segments(pdir)
    check(len(segs) >= 4, f"only {len(segs)} segments; segment.bytes did not roll")
    _, path = segs[1]
    whole = seglib.batches(path)
    check(len(whole) >= 3, f"{path}: {len(whole)} batches")
    pos, first_lost, total, _ = whole[len(whole) // 2]
    next_base = segs[2][0]
    flip_at = pos + seglib.BATCH_HEADER + (total - seglib.BATCH_HEADER) // 2  # inside a record
    with open(path, "r+b") as f:
        f.seek(flip_at)
        byte = f.read(1)[0]
        f.seek(flip_at)
        f.write(bytes([byte ^ 0x01]))
    with open(path, "rb") as f:
        damaged = f.read()
    print(f"flipped byte {flip_at} of {os.path.basename(path)} (batch at {pos}, offsets {first_lost}.."
          f"{next_base - 1} lost of {N})")

    for start in (1, 2):
        b.start()
        log = b.log_text().split("event=starting")[-1]  # this start's lines only
        m = re.search(r"event=damaged_segment path=" + re.escape(path) + r" .*valid_bytes=(\d+)", log)
        check(m is not None, f"start {start}: no damaged_segment naming {path}")
        check(int(m.group(1)) == pos, f"start {start}: valid_bytes={m.group(1)}, damaged batch at {pos}")
        check(re.search(rf"event=partition_recovered topic={TOPIC} partition=0 .*detail=.*{re.escape(path)}", log),
              f"start {start}: partition_recovered does not name the file")
        check(re.search(rf"event=partition_recovered topic={TOPIC} partition=0 .*damaged_segments=1", log),
              f"start {start}: partition_recovered does not count the damaged segment")
        with open(path, "rb") as f:
            check(f.read() == damaged, f"start {start}: the damaged segment was modified")

        # Before the damage and every later segment, byte-identical; the gap is skipped.
        want = [o for o in range(N) if o < first_lost or o >= next_base]
        got = consume(b.bootstrap, 0, len(want))
        check([g[0] for g in got] == want, f"start {start}: offsets served {len(got)}, expected {len(want)} with "
              f"the gap {first_lost}..{next_base - 1}")
        for o, key, value, headers in got:
            check((key, value, headers) == record(acked[o]), f"offset {o} reads back different bytes")
        # A consumer starting inside the gap gets the first offset after it.
        inside = consume(b.bootstrap, first_lost + 1, 1)
        check(inside and inside[0][0] == next_base, f"from inside the gap: {inside[:1]}")
        if start == 1:
            rc, _ = b.stop()
            check(rc == 0, f"SIGTERM exit code {rc}")

    # New records continue at the old end.
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    new = []
    p.produce(TOPIC, key=b"new", value=b"after", partition=0,
              on_delivery=lambda err, m: new.append(m.offset()) if err is None else None)
    check(p.flush(30) == 0 and new == [N], f"offset after restart {new}")
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
