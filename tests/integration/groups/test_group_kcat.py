"""kcat -G (librdkafka's balanced consumer): two kcat processes in one group share a 4-partition
topic (each gets partitions, together every record exactly once), commit (auto commit), and a third
kcat of the same group started after they stopped reads only what was produced since."""
import os
import signal
import subprocess
import threading

import confluent_kafka as ck

import grouplib
from grouplib import check

PARTS = 4


class kcat:
    def __init__(self, bs, group, topic):
        self.lines = []
        self.proc = subprocess.Popen(
            ["kcat", "-b", bs, "-G", group, topic, "-X", "auto.offset.reset=earliest", "-f", "%p %o %s\\n", "-q", "-u",
             "-X", "session.timeout.ms=6000", "-X", "auto.commit.interval.ms=200"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.append(line.split())

    def stop(self):
        self.proc.send_signal(signal.SIGINT)  # kcat commits and leaves the group on SIGINT
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.t.join(5)


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "kcat-g"
    grouplib.create_topic(bs, topic, PARTS)
    first = [f"a{i}" for i in range(400)]
    grouplib.produce(bs, topic, first, PARTS)
    ks = [kcat(bs, "g-kcat", topic), kcat(bs, "g-kcat", topic)]
    grouplib.wait_for(lambda: sum(len(k.lines) for k in ks) >= len(first), 30, "kcat -G reads the topic")
    values = [line[2] for k in ks for line in k.lines]
    check(sorted(values) == sorted(first), f"kcat -G read {len(values)} records, {len(set(values))} distinct")
    parts = [set(int(line[0]) for line in k.lines) for k in ks]
    check(all(parts) and not (parts[0] & parts[1]), f"partitions per kcat: {parts}")
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-kcat"})

    def all_committed():
        return sum(max(tp.offset, 0) for tp in c.committed(
            [ck.TopicPartition(topic, p) for p in range(PARTS)], timeout=10)) == len(first)
    grouplib.wait_for(all_committed, 20, "kcat's auto commits")
    c.close()
    for k in ks:
        k.stop()
    second = [f"b{i}" for i in range(100)]
    grouplib.produce(bs, topic, second, PARTS)
    k3 = kcat(bs, "g-kcat", topic)
    grouplib.wait_for(lambda: len(k3.lines) >= len(second), 30, "a new kcat of the group reads on")
    k3.stop()
    check(sorted(line[2] for line in k3.lines) == sorted(second), f"the new kcat read {len(k3.lines)} records")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
