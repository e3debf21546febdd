"""kill -9 of tributary-broker during a 100,000-record acks=all produce (confluent-kafka, idempotent,
3 partitions), at a seeded random point (the seed is printed; --seed replays the choice). While the
broker is down, a torn tail is planted in the active segment of every partition (random bytes; a batch
header whose length runs past the end of the file; a whole batch with a bad CRC). After a restart on the
same data directory:
  - the start-up log reports the cut (torn_tail_cut with bytes_cut >= what was planted) and the active
    segment is back to at most its size before the garbage;
  - every acknowledged (partition, offset) reads back with identical key, value and headers;
  - offsets are gap-free from 0 and each log ends at or after its last acknowledged offset;
  - a record past the last acknowledged one is one that was sent, whole and in order (never garbage);
  - nothing past the cut is served: a new produce continues at the log end and reads back exactly."""
import os
import random
import re
import struct
import sys
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic

import seglib
from seglib import brokerlib
from brokerlib import check

N = 100_000
PARTITIONS = 3
TOPIC = "crash"


def seed_arg():
    for i, a in enumerate(sys.argv):
        if a == "--seed" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
    return random.randrange(1, 1 << 30)


def record(i):
    """(key, value, headers) of record i: sizes vary, content depends on i only."""
    value = (b"%08d:" % i) * (1 + i % 23)
    return b"k%d" % i, value, [("seq", b"%d" % i), ("src", b"kill-test")]


def produce_and_kill(b, rng):
    """Produces N records with acks=all; kill -9 once a random share of them is acknowledged.
    Returns ({(partition, offset): i}, in flight at the kill)."""
    acked = {}
    kill_at = rng.randint(N // 5, (N * 3) // 5)

    def on_delivery(err, m):
        if err is None:
            i = int(m.key()[1:])
            check(record(i)[:2] == (m.key(), m.value()), f"delivery report of {i} carries other bytes")
            check((m.partition(), m.offset()) not in acked, f"offset {m.partition()}/{m.offset()} acknowledged twice")
            acked[(m.partition(), m.offset())] = i

    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "enable.idempotence": True,
                     "linger.ms": 5, "queue.buffering.max.messages": N + 1000, "message.timeout.ms": 30000})
    killed_with = None
    deadline = time.monotonic() + 90
    for i in range(N):
        key, value, headers = record(i)
        p.produce(TOPIC, key=key, value=value, headers=headers, partition=i % PARTITIONS, on_delivery=on_delivery)
        if i % 500 == 0:
            p.poll(0)
        if killed_with is None and len(acked) >= kill_at:
            b.kill()
            killed_with = N - len(acked)
    while killed_with is None and time.monotonic() < deadline:
        p.poll(0.005)
        if len(acked) >= kill_at:
            b.kill()
            killed_with = N - len(acked)
    if killed_with is None:  # never reached the share in time: kill anyway, the checks still hold
        b.kill()
        killed_with = N - len(acked)
    p.purge(in_queue=True, in_flight=True, blocking=True)
    p.flush(10)  # delivery reports of what was answered before the kill, failures for the rest
    return acked, killed_with


def plant_torn_tails(b, rng):
    """Appends a different torn tail to each partition's active segment. Returns {partition: (path, size
    before, bytes planted)}."""
    planted = {}
    for p in range(PARTITIONS):
        base, path = seglib.segments(seglib.partition_dir(b.data_dir, TOPIC, p))[-1]
        whole = seglib.batches(path)
        size = os.path.getsize(path)
        check(whole and whole[-1][0] + whole[-1][2] == size, f"{path}: not whole batches before planting")
        next_offset = whole[-1][3] + 1
        if p == 0:  # random bytes
            junk = bytes(rng.getrandbits(8) for _ in range(777))
        elif p == 1:  # a batch header whose length runs past the end of the file (a torn append)
            junk = struct.pack(">qiibI", next_offset, 5000, 0, 2, 0x12345678) + bytes(300)
        else:  # a whole batch of the right shape whose CRC does not match (the last one, one byte flipped)
            pos, _, total, last = whole[-1]
            with open(path, "rb") as f:
                f.seek(pos)
                batch = bytearray(f.read(total))
            struct.pack_into(">q", batch, 0, last + 1)
            batch[-1] ^= 0x40
            junk = bytes(batch)
        with open(path, "ab") as f:
            f.write(junk)
        planted[p] = (path, size, len(junk))
    return planted


def consume_all(bs, ends, timeout_s=60):
    """{(partition, offset): (key, value, headers)} of everything below `ends` (per partition)."""
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100, "queued.max.messages.kbytes": 65536})
    c.assign([ck.TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    got = {}
    want = sum(ends.values())
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        for m in c.consume(10000, 0.5):
            if m.error() is None:
                got[(m.partition(), m.offset())] = (m.key(), m.value(), m.headers())
    c.close()
    return got


def main(binary, workdir):
    seed = seed_arg()
    print(f"seed {seed}")
    rng = random.Random(seed)
    b = brokerlib.broker(binary, workdir).start()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
    del admin

    t0 = time.monotonic()
    acked, in_flight = produce_and_kill(b, rng)
    print(f"killed after {time.monotonic() - t0:.1f}s with {N - in_flight} of {N} acknowledged at the kill; "
          f"{len(acked)} in all once the reports of answers sent before it arrived")
    check(acked, "nothing was acknowledged before the kill")
    planted = plant_torn_tails(b, rng)

    b.start()
    log = b.log_text()
    for p, (path, size, n) in planted.items():
        m = re.search(r"event=torn_tail_cut path=" + re.escape(path) + r" .*bytes_cut=(\d+)", log)
        check(m is not None, f"no torn_tail_cut logged for {path}")
        check(int(m.group(1)) >= n, f"{path}: cut {m.group(1)} bytes, planted {n}")
        check(os.path.getsize(path) <= size, f"{path}: {os.path.getsize(path)} bytes after the cut, {size} before")
        check(re.search(rf"event=partition_recovered topic={TOPIC} partition={p} .*bytes_cut=[1-9]", log),
              f"partition_recovered of {p} does not report the cut")

    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
    ends = {p: c.get_watermark_offsets(ck.TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS)}
    c.close()
    got = consume_all(b.bootstrap, ends)
    for p in range(PARTITIONS):
        offsets = sorted(o for q, o in got if q == p)
        check(offsets == list(range(ends[p])), f"partition {p}: {len(offsets)} offsets read of {ends[p]}, not gap-free")
        last_acked = max((o for q, o in acked if q == p), default=-1)
        check(ends[p] >= last_acked + 1, f"partition {p} ends at {ends[p]}, last acknowledged {last_acked}")
    for po, i in acked.items():
        check(got.get(po) == record(i), f"acknowledged {po} (record {i}) reads back as {got.get(po)}")
    unacked = 0
    for p in range(PARTITIONS):
        seq = []
        for o in range(ends[p]):
            key, value, headers = got[(p, o)]
            check(key.startswith(b"k") and key[1:].isdigit(), f"{p}/{o}: a key we never sent: {key[:40]}")
            i = int(key[1:])
            check(i % PARTITIONS == p and got[(p, o)] == record(i), f"{p}/{o}: not the bytes of record {i}")
            if (p, o) not in acked:
                unacked += 1
            seq.append(i)
        check(seq == sorted(set(seq)), f"partition {p}: records out of order or duplicated")

    # Nothing past the cut is served: new records land at the old end and read back as sent.
    p2 = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    fresh = []
    for p in range(PARTITIONS):
        p2.produce(TOPIC, key=b"after", value=b"after-restart-%d" % p, partition=p,
                   on_delivery=lambda err, m: fresh.append((m.partition(), m.offset())) if err is None else None)
    check(p2.flush(30) == 0 and len(fresh) == PARTITIONS, f"produce after restart: {fresh}")
    check(sorted(fresh) == [(p, ends[p]) for p in range(PARTITIONS)], f"new offsets {sorted(fresh)}, log ends {ends}")
    after = consume_all(b.bootstrap, {p: ends[p] + 1 for p in range(PARTITIONS)})
    for p in range(PARTITIONS):
        check(after[(p, ends[p])][:2] == (b"after", b"after-restart-%d" % p), f"{p}/{ends[p]}: {after[(p, ends[p])]}")
    print(f"after restart: {len(acked)} acknowledged read back intact, {unacked} whole unacknowledged records "
          f"kept, log ends {ends}, torn tails cut: {[n for _, _, n in planted.values()]} bytes planted")
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
