#!/usr/bin/python3
"""Helper of group_bench.sh: consumers (confluent-kafka, one thread each) join one group on a topic one
after another; after each join, the time until the group has settled again (every member assigned,
assignments disjoint, balanced, covering every partition). Prints one line per group size.

    group_settle.py <bootstrap> <topic> <partitions> <max members> <heartbeat.interval.ms>"""
import random
import sys
import threading
import time

import confluent_kafka as ck


class member:
    def __init__(self, bs, group, topic, hb_ms):
        self.parts = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.c = ck.Consumer({"bootstrap.servers": bs, "group.id": group, "session.timeout.ms": 10000,
                              "heartbeat.interval.ms": hb_ms, "enable.auto.commit": False,
                              "auto.offset.reset": "latest"})
        self.c.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def on_assign(self, consumer, parts):
        with self.lock:
            self.parts = {p.partition for p in parts}

    def on_revoke(self, consumer, parts):
        with self.lock:
            self.parts = set()

    def run(self):
        while not self.stop.is_set():
            self.c.poll(0.05)
        self.c.close()

    def assignment(self):
        with self.lock:
            return set(self.parts)


def balanced(members, partitions):
    sets = [m.assignment() for m in members]
    sizes = [len(s) for s in sets]
    return set().union(*sets) == set(range(partitions)) and sum(sizes) == partitions and max(sizes) - min(sizes) <= 1


def main():
    bs, topic, partitions, most, hb_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    group = f"settle-{int(time.time())}"
    rng = random.Random(6)
    members = []
    for n in range(1, most + 1):
        t0 = time.monotonic()
        members.append(member(bs, group, topic, hb_ms))
        while not balanced(members, partitions):
            if time.monotonic() - t0 > 120:
                print(f"members={n} settle_s=timeout")
                break
            time.sleep(0.01)
        else:
            print(f"members={n} settle_s={time.monotonic() - t0:.2f}", flush=True)
        # A random pause, so that the next join lands anywhere in the members' heartbeat cycle (a fixed
        # pause would phase-lock with it and always measure the same fraction of an interval).
        time.sleep(rng.uniform(0.2, 1.2))
    for m in members:
        m.stop.set()
    for m in members:
        m.t.join(30)


if __name__ == "__main__":
    main()
