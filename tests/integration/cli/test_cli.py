"""The `tributary` CLI end to end against a real tributary-broker: topic create/list/describe/delete,
produce (stdin with keys and headers, generated payloads, idempotent) and consume (--eof, --count,
--offset, --format, --json), each cross-checked with kcat; then the error paths and their exit codes.

Usage: test_cli.py <tributary binary> <tributary-broker binary | none>
Exits 77 (CTest SKIP) when the broker binary does not exist yet or kcat is missing."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
COMMAND_TIMEOUT_S = 60  # any single CLI or kcat run
TOPIC = "it-cli-orders"


class failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise failed(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class broker:
    def __init__(self, binary, workdir):
        self.kafka_port, self.http_port = free_port(), free_port()
        self.data_dir = os.path.join(workdir, "broker-data")
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(workdir, "broker.log")
        logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--data-dir", self.data_dir, "--listen",
                                      f"127.0.0.1:{self.kafka_port}", "--http", f"127.0.0.1:{self.http_port}"],
                                     stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None and not port_open(self.kafka_port):
            time.sleep(0.05)
        check(self.proc.poll() is None, f"tributary-broker exited at start: {self.log_tail()}")
        check(port_open(self.kafka_port), "tributary-broker did not listen within 30 s")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.kafka_port}"

    def log_tail(self, n=3000):
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


class result:
    def __init__(self, args, proc):
        self.args, self.rc = args, proc.returncode
        self.out = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else proc.stdout
        self.err = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else proc.stderr
        self.raw = proc.stdout if isinstance(proc.stdout, bytes) else None

    def describe(self):
        return f"$ {' '.join(self.args)}\nexit {self.rc}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


def run(args, stdin=None, timeout_s=COMMAND_TIMEOUT_S):
    proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout_s)
    return result([str(a) for a in args], proc)


class cli:
    def __init__(self, binary, bootstrap):
        self.binary, self.bootstrap = binary, bootstrap

    def __call__(self, *args, stdin=None, expect=0, bootstrap=None):
        r = run([self.binary, "-b", bootstrap or self.bootstrap, *args], stdin=stdin)
        check(r.rc == expect, f"expected exit {expect}\n{r.describe()}")
        if expect != 0:  # an error is one clear line on stderr
            lines = [l for l in r.err.splitlines() if l.strip()]
            check(len(lines) == 1 and lines[0].startswith("tributary: "),
                  f"expected one 'tributary: ...' line on stderr\n{r.describe()}")
        return r

    def json(self, *args, **kw):
        return json.loads(self(*args, "--json", **kw).out)

    def json_lines(self, *args, **kw):
        return [json.loads(l) for l in self(*args, "--json", **kw).out.splitlines() if l.strip()]


def kcat(*args, stdin=None):
    r = run(["kcat", *args], stdin=stdin)
    check(r.rc == 0, f"kcat failed\n{r.describe()}")
    return r


def kcat_metadata(bootstrap):
    return json.loads(kcat("-L", "-J", "-b", bootstrap).out)


def kcat_records(bootstrap, topic):
    """{(partition, offset): (key, value)} of the whole topic, read by kcat."""
    out = kcat("-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", "%p\t%o\t%k\t%s\n").out
    records = {}
    for line in out.splitlines():
        p, o, k, v = line.split("\t", 3)
        records[(int(p), int(o))] = (k, v)
    return records


def test(tributary, b):
    t = cli(tributary, b.bootstrap)

    # --- topic create / list / describe, cross-checked with kcat -L --------------------------------------
    created = t.json("topic", "create", TOPIC, "--partitions", "3", "--replication-factor", "1",
                     "--config", "retention.ms=86400000")
    check(created == {"topic": TOPIC, "created": True, "partitions": 3, "replication_factor": 1,
                      "configs": {"retention.ms": "86400000"}}, f"create answered {created}")
    r = t("topic", "create", TOPIC, "--partitions", "3", expect=1)
    check("TOPIC_ALREADY_EXISTS" in r.err, f"second create: {r.err}")
    t("topic", "create", "it-cli-defaults")  # the broker's default partitions and replication factor

    check(TOPIC in t("topic", "list").out.split(), "topic list misses the topic")
    listed = {x["topic"]: x for x in t.json("topic", "list")}
    check(listed[TOPIC]["partitions"] == 3 and listed[TOPIC]["replication_factor"] == 1,
          f"topic list --json: {listed.get(TOPIC)}")
    check(listed["it-cli-defaults"]["partitions"] >= 1, "the default topic has no partition")
    md = {x["topic"]: x for x in kcat_metadata(b.bootstrap)["topics"]}
    check(TOPIC in md and len(md[TOPIC]["partitions"]) == 3, f"kcat -L: {md.get(TOPIC)}")
    check(set(listed) == set(md), f"topic list {sorted(listed)} != kcat -L {sorted(md)}")

    d = t.json("topic", "describe", TOPIC)
    check(d["topic"] == TOPIC and d["partition_count"] == 3 and d["replication_factor"] == 1, f"describe: {d}")
    kcat_parts = {p["partition"]: p for p in md[TOPIC]["partitions"]}
    for p in d["partitions"]:
        k = kcat_parts[p["partition"]]
        check(p["leader"] == k["leader"], f"leader of {p['partition']}: {p['leader']} vs kcat {k['leader']}")
        check(p["replicas"] == [x["id"] for x in k["replicas"]], f"replicas of {p['partition']}")
        check(p["isr"] == [x["id"] for x in k["isrs"]], f"isr of {p['partition']}")
        check(p["log_start_offset"] == 0 and p["high_watermark"] == 0, f"offsets of an empty partition: {p}")
        check(p["error"] is None and p["offsets_error"] is None, f"errors in {p}")
    configs = {c["name"]: c for c in d["configs"]}
    check(d["configs_error"] is None, f"configs error: {d['configs_error']}")
    check(configs.get("retention.ms", {}).get("value") == "86400000", f"retention.ms: {configs.get('retention.ms')}")
    check(configs["retention.ms"]["is_default"] is False, "retention.ms was set at creation")
    text = t("topic", "describe", TOPIC).out
    check("PARTITION  LEADER  REPLICAS  ISR  LOG-START  HIGH-WATERMARK" in text and "retention.ms" in text,
          f"describe text:\n{text}")

    # --- produce ---------------------------------------------------------------------------------------
    lines = "".join(f"k{i % 5}:value-{i}\n" for i in range(30))
    s = t.json("produce", TOPIC, "-K", ":", "--header", "src=it", "--header", "run=1", stdin=lines.encode())
    check(s["records"] == 30 and s["delivered"] == 30 and s["failed"] == 0 and s["errors"] == [],
          f"produce summary: {s}")
    check(sum(p["records"] for p in s["partitions"]) == 30, f"per-partition counts: {s['partitions']}")
    g = t.json("produce", TOPIC, "--count", "20", "--size", "64", "--partition", "1", "--acks", "all",
               "--idempotent", "--key", "gen")
    check(g["delivered"] == 20 and g["failed"] == 0 and g["bytes"] == 20 * (64 + 3), f"generated: {g}")
    check(len(g["partitions"]) == 1 and g["partitions"][0]["partition"] == 1 and g["partitions"][0]["records"] == 20,
          f"generated went to {g['partitions']}")
    text = t("produce", TOPIC, "--acks", "1", "--partition", "0", stdin=b"plain\n\xff\xfebinary\n").out
    check(text.startswith(f"produced 2 records (13 bytes) to {TOPIC}: 2 delivered, 0 failed"), f"text summary: {text}")
    kcat("-P", "-b", b.bootstrap, "-t", TOPIC, "-p", "2", "-k", "kk", "-H", "h1=v1", stdin=b"from-kcat")

    # --- describe: the high watermarks add up --------------------------------------------------------------
    d = t.json("topic", "describe", TOPIC)
    hw = {p["partition"]: p["high_watermark"] for p in d["partitions"]}
    check(sum(hw.values()) == 30 + 20 + 2 + 1, f"high watermarks {hw}")
    for part in s["partitions"] + g["partitions"]:
        check(hw[part["partition"]] > part["last_offset"], f"high watermark {hw} below produced {part}")

    # --- consume everything, cross-checked with kcat -C ------------------------------------------------------
    ours = t.json_lines("consume", TOPIC, "--eof")
    check(len(ours) == 53, f"consume --eof read {len(ours)} records, expected 53")
    theirs = kcat_records(b.bootstrap, TOPIC)
    mine = {}
    for rec in ours:
        if "value" in rec:
            mine[(rec["partition"], rec["offset"])] = (rec["key"] or "", rec["value"])
    check(set(mine) | {(r["partition"], r["offset"]) for r in ours if "value_base64" in r} == set(theirs),
          "consume and kcat disagree on the (partition, offset) set")
    for key, kv in mine.items():
        check(theirs[key] == kv, f"record {key}: ours {kv}, kcat {theirs[key]}")
    from_stdin = sorted((r for r in ours if r["headers"] and r["headers"][0] == {"key": "src", "value": "it"}),
                        key=lambda r: int(r["value"].split("-")[1]))
    check([r["value"] for r in from_stdin] == [f"value-{i}" for i in range(30)], "stdin records lost or changed")
    check(all(r["key"] == f"k{int(r['value'].split('-')[1]) % 5}" for r in from_stdin), "keys from -K")
    check(all(r["headers"] == [{"key": "src", "value": "it"}, {"key": "run", "value": "1"}] for r in from_stdin),
          "headers")
    now_ms = time.time() * 1000
    check(all(abs(r["timestamp"] - now_ms) < 3600_000 for r in ours), "timestamps are not recent")
    gen = [r for r in ours if r["key"] == "gen"]
    check(sorted(r["value"] for r in gen) == sorted(f"{i} " + ("abcdefghijklmnopqrstuvwxyz" * 3)[: 64 - len(f"{i} ")]
                                                    for i in range(20)), "generated payloads")
    binary = [r for r in ours if "value_base64" in r]
    check(len(binary) == 1 and binary[0]["value_base64"] == "//5iaW5hcnk=", f"binary record: {binary}")
    # Records of one key stay in order (one partition per key).
    by_key = {}
    for r in sorted(from_stdin, key=lambda r: (r["partition"], r["offset"])):
        by_key.setdefault(r["key"], []).append(int(r["value"].split("-")[1]))
    check(all(v == sorted(v) for v in by_key.values()), f"order per key: {by_key}")

    # --- consume: --format, --partition, --offset, --count --------------------------------------------------------
    last = t("consume", TOPIC, "-p", "2", "-o", "-1", "-n", "1", "--format", "%t|%p|%k|%v|%h|%K|%V").out
    check(last == f"{TOPIC}|2|kk|from-kcat|h1=v1|2|9\n", f"kcat's record through --format: {last!r}")
    part1 = t("consume", TOPIC, "--partition", "1", "--offset", str(hw[1] - 5), "--count", "5",
              "--timeout-ms", "10000", "--format", "%o").out.split()
    check(part1 == [str(o) for o in range(hw[1] - 5, hw[1])], f"offsets of partition 1 from {hw[1] - 5}: {part1}")
    r = t("consume", TOPIC, "--offset", "end", "--count", "1", "--timeout-ms", "1500", expect=4)
    check("0 of 1 records" in r.err, f"idle stop: {r.err}")
    check(t("consume", TOPIC, "--eof", "--format", "%o").out.count("\n") == 53, "consume text lines")

    # --- error paths -------------------------------------------------------------------------------------------------
    r = t("consume", "it-cli-nosuch", "--count", "1", expect=1)
    check("does not exist" in r.err, r.err)
    r = t("produce", "it-cli-nosuch", "--count", "1", expect=1)
    check("does not exist" in r.err, r.err)
    r = t("produce", TOPIC, "--partition", "7", "--count", "1", expect=1)
    check("partition 7 does not exist" in r.err, r.err)
    r = t("topic", "describe", "it-cli-nosuch", expect=1)
    check("does not exist" in r.err, r.err)
    t("-X", "no.such.property=1", "topic", "list", expect=2)
    t("produce", TOPIC, "--idempotent", "--acks", "1", expect=2)
    t("produce", TOPIC, "--file", os.path.join(os.path.dirname(b.data_dir), "missing.txt"), expect=2)
    closed = free_port()
    r = t("--timeout-ms", "1500", "topic", "list", bootstrap=f"127.0.0.1:{closed}", expect=3)
    check("Connection refused" in r.err or "no metadata" in r.err, r.err)

    # --- topic delete ------------------------------------------------------------------------------------------------
    check(t("topic", "delete", TOPIC, "it-cli-defaults").out ==
          f"deleted topic {TOPIC}\ndeleted topic it-cli-defaults\n", "delete output")
    check(TOPIC not in t("topic", "list").out.split(), "deleted topic still listed")
    md = {x["topic"] for x in kcat_metadata(b.bootstrap)["topics"]}
    check(TOPIC not in md, f"kcat -L still lists the deleted topic: {md}")
    r = t("topic", "delete", TOPIC, expect=1)
    check("UNKNOWN_TOPIC_OR_PART" in r.err, r.err)
    return 0


def main():
    tributary, broker_binary = sys.argv[1], sys.argv[2]
    if broker_binary == "none" or not os.path.exists(broker_binary):
        print(f"SKIP: tributary-broker not built ({broker_binary})")
        return SKIP
    if shutil.which("kcat") is None:
        print("SKIP: kcat not installed")
        return SKIP
    check(os.path.exists(tributary), f"{tributary} not built")
    with tempfile.TemporaryDirectory(prefix="cli-it-") as workdir:
        b = broker(broker_binary, workdir)
        try:
            return test(tributary, b)
        except (failed, subprocess.TimeoutExpired) as e:
            print(f"FAIL: {e}\n--- broker log (tail)\n{b.log_tail()}", file=sys.stderr)
            return 1
        finally:
            b.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
