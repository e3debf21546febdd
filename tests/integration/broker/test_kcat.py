"""kcat (librdkafka 2.0.2) against tributary-broker: -L lists topics and partitions; keyed lines with
headers produced with -P -K: -H come back identical from -C -e -f '%k %s %h'; the same with the
idempotent producer and with every compression codec librdkafka enables (batches are stored and served
as produced, compressed)."""
import subprocess

import brokerlib
from brokerlib import check

TIMEOUT_S = 30


def kcat(b, *args, stdin=None):
    r = subprocess.run(["kcat", "-b", b.bootstrap, "-m", "10", *args], input=stdin, capture_output=True, text=True,
                       timeout=TIMEOUT_S)
    check(r.returncode == 0, f"kcat {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir, ["--set", "default_partitions=3"]).start()

    out = kcat(b, "-L")
    check("1 brokers:" in out and f"broker 0 at 127.0.0.1:{b.kafka_port}" in out, f"-L: {out}")
    check("0 topics" in out, f"-L on an empty broker: {out}")

    lines = [f"key{i}:value {i} with spaces" for i in range(20)]
    kcat(b, "-P", "-t", "lines", "-p", "1", "-K:", "-H", "a=b", "-H", "source=kcat", stdin="\n".join(lines) + "\n")
    out = kcat(b, "-L", "-t", "lines")
    check('topic "lines" with 3 partitions' in out, f"-L -t lines: {out}")
    for p in range(3):
        check(f"partition {p}, leader 0, replicas: 0, isrs: 0" in out, f"partition {p} in -L: {out}")

    got = kcat(b, "-C", "-t", "lines", "-p", "1", "-o", "beginning", "-e", "-f", "%k %s %h\n").splitlines()
    want = [f"key{i} value {i} with spaces a=b,source=kcat" for i in range(20)]
    check(got == want, f"consumed {got[:3]}... want {want[:3]}...")
    empty = kcat(b, "-C", "-t", "lines", "-p", "0", "-o", "beginning", "-e", "-f", "%s\n")
    check(empty == "", f"partition 0 should be empty: {empty!r}")

    # Offsets keep counting across produce calls; -o with an absolute offset.
    kcat(b, "-P", "-t", "lines", "-p", "1", "-K:", stdin="late:arrival\n")
    got = kcat(b, "-C", "-t", "lines", "-p", "1", "-o", "20", "-e", "-f", "%o %k %s\n").splitlines()
    check(got == ["20 late arrival"], f"-o 20: {got}")

    for extra in (["-X", "enable.idempotence=true"], ["-X", "compression.codec=gzip"], ["-X", "compression.codec=lz4"],
                  ["-X", "compression.codec=snappy"], ["-X", "compression.codec=zstd"]):
        topic = "t-" + extra[1].replace("=", "-").replace(".", "-")
        msgs = [f"k{i}:{extra[1]} message {i}" for i in range(50)]
        kcat(b, "-P", "-t", topic, "-p", "2", "-K:", "-H", "h=1", *extra, stdin="\n".join(msgs) + "\n")
        got = kcat(b, "-C", "-t", topic, "-p", "2", "-o", "beginning", "-e", "-f", "%k %s %h\n").splitlines()
        want = [f"k{i} {extra[1]} message {i} h=1" for i in range(50)]
        check(got == want, f"{extra}: consumed {len(got)} lines, first {got[:2]}")

    rc, took = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
