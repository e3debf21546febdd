"""flush.mode=interval (acks=-1 answered after the append, fdatasync on a timer, consumers read up to the
log end) and the command line: --print-config prints every key, a bad value or unknown key exits 2
with a message naming it, a JSON config file with comments is accepted."""
import json
import os
import subprocess
import time

import confluent_kafka as ck

import brokerlib
from brokerlib import check


def main(binary, workdir):
    # Command line and config file.
    r = subprocess.run([binary, "--print-config", "--set", "flush.mode=interval"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0, f"--print-config: {r.stderr}")
    cfg = json.loads(r.stdout)
    check(cfg["flush"]["mode"] == "interval" and cfg["listen"] == "0.0.0.0:9092" and cfg["auto_create_topics"],
          f"effective config {cfg}")
    for bad, word in ((["--set", "flush.mode=sometimes"], "flush.mode"), (["--set", "no.such=1"], "no.such"),
                      (["--listen", "localhost:9092"], "listen"), (["--config", "/nonexistent.json"], "nonexistent")):
        r = subprocess.run([binary, *bad], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and word in r.stderr, f"{bad}: exit {r.returncode}, {r.stderr}")
    conf = os.path.join(workdir, "broker.json")
    with open(conf, "w") as f:
        f.write('{\n  // group commit on a timer\n  "flush": {"mode": "interval", "interval_ms": 200},\n'
                '  "default_partitions": 2\n}\n')

    b = brokerlib.broker(binary, workdir, ["--config", conf]).start()
    bs = b.bootstrap
    check("flush_mode=interval" in b.log_text(), "interval mode in the start-up line")

    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 5000})
    c.assign([ck.TopicPartition("fast", 0, 0), ck.TopicPartition("fast", 1, 0)])
    acked = []
    p = ck.Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 2})
    for i in range(200):
        p.produce("fast", value=f"v{i}", partition=i % 2,
                  on_delivery=lambda e, m: acked.append(m.value()) if e is None else None)
    check(p.flush(30) == 0 and len(acked) == 200, f"acked {len(acked)}")
    got = []
    deadline = time.monotonic() + 30
    while len(got) < 200 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m.value())
    check(sorted(got) == sorted(acked), f"consumed {len(got)} of 200")
    # The long poll is woken by the append itself (the high watermark is the log end).
    p.produce("fast", value="wake", partition=0)
    p.flush(10)
    m = None
    deadline = time.monotonic() + 10
    while m is None and time.monotonic() < deadline:
        m = c.poll(0.5)
    check(m is not None and m.value() == b"wake", f"long poll woken by the append: {m}")
    c.close()
    brokerlib.wait_for(lambda: (brokerlib.metric_value(b.metrics(), "tributary_fsync_rounds_total") or 0) >= 1, 10,
                       "an fsync round on the timer")
    del p
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")
    b.start()
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False})
    lo, hi = c.get_watermark_offsets(ck.TopicPartition("fast", 0), timeout=10)
    check((lo, hi) == (0, 101), f"after restart partition 0 holds [{lo}, {hi})")
    c.close()
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
