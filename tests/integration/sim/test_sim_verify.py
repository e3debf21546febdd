"""tributary-sim verify end to end: a real run against mosquitto is captured by a subscriber, its readings
are produced straight into a Kafka topic the way the gateway will forward them (key = device, header
mqtt.topic), one acknowledged reading deleted, one duplicated and two swapped; verify must report exactly
that and exit 1. Then a clean copy of another run (binary payloads) must verify with exit 0.

Usage: test_sim_verify.py <build dir> broker   against build/.../cluster/tributary-broker (SKIPPED, exit 77,
                                               until that binary exists)
       test_sim_verify.py <build dir> mock     against librdkafka's in-process mock cluster (an extra:
                                               it proves the consumer adapter today)"""
import json
import os
import subprocess
import sys
import time

import simlib
from simlib import check


def capture_run(build_dir, workdir, broker, sub, name, extra):
    report_path = os.path.join(workdir, f"{name}-report.json")
    before = sub.count()
    rc, err = simlib.run_sim(build_dir, ["--broker", broker.uri, "--devices", "10", "--rate", "5", "--duration", "3",
                                         "--connect-rate", "0", "--qos", "1", "--report", report_path,
                                         "--name-template", f"{name}-{{index}}", "--skew-ms", "500"] + extra,
                             timeout_s=60)
    check(rc == 0, f"{name}: tributary-sim exited {rc}: {err[-2000:]}")
    sub.settle()
    report = simlib.load_report(report_path)
    expected, names = simlib.acked_set(report)
    records = []
    for topic, payload, (dev, seq, _) in sub.readings()[before:]:
        device = names.get(dev, dev) if isinstance(dev, int) else dev
        records.append({"device": device, "seq": seq, "topic": topic, "payload": payload})
    check({(r["device"], r["seq"]) for r in records} == expected, f"{name}: capture does not match the report")
    return report_path, report, records


def write_records(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(f"{r['device']}\t{r['payload'].hex()}\t{r['topic']}\n")


class kafka_target:
    """Where records go: the real broker (started here) or a mock cluster per feed."""

    def __init__(self, build_dir, workdir, mode):
        self.build_dir, self.workdir, self.mode = build_dir, workdir, mode
        self.feed_bin = os.path.join(build_dir, "tests", "integration", "sim", "sim_kafka_feed")
        self.broker = None
        self.mocks = []
        if mode == "broker":
            binary = os.path.join(build_dir, "cluster", "tributary-broker")
            self.kafka_port, http_port = simlib.free_port(), simlib.free_port()
            data_dir = os.path.join(workdir, "broker-data")
            os.makedirs(data_dir)
            self.broker_log = open(os.path.join(workdir, "broker.log"), "w")
            self.broker = subprocess.Popen([binary, "--data-dir", data_dir, "--listen",
                                            f"127.0.0.1:{self.kafka_port}", "--http", f"127.0.0.1:{http_port}"],
                                           stdout=self.broker_log, stderr=self.broker_log)
            simlib.wait_for(lambda: simlib.port_open(self.kafka_port) or self.broker.poll() is not None, 30,
                            "tributary-broker to listen")
            check(self.broker.poll() is None, "tributary-broker exited at start")

    def feed(self, topic, records_path):
        """Produces the records into `topic`; returns the bootstrap servers to consume from."""
        if self.mode == "broker":
            bootstrap = f"127.0.0.1:{self.kafka_port}"
            out = subprocess.run([self.feed_bin, "--records", records_path, "--topic", topic, "--bootstrap",
                                  bootstrap], capture_output=True, text=True, timeout=90)
            check(out.returncode == 0, f"feed failed: {out.stderr}")
            return bootstrap
        proc = subprocess.Popen([self.feed_bin, "--records", records_path, "--topic", topic, "--mock",
                                 "--hold-s", "120"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.mocks.append(proc)
        bootstrap = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("BOOTSTRAP "):
                bootstrap = line.split()[1]
            if line.startswith("READY "):
                return bootstrap
        raise AssertionError("mock feed did not become ready")

    def close(self):
        for p in self.mocks:
            try:
                p.stdin.close()
                p.wait(timeout=10)
            except Exception:
                p.kill()
                p.wait(timeout=10)
        if self.broker is not None:
            self.broker.terminate()
            try:
                self.broker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.broker.kill()
                self.broker.wait(timeout=10)


def run_verify(build_dir, workdir, report_path, bootstrap, topic, name):
    out_json = os.path.join(workdir, f"{name}-verify.json")
    proc = subprocess.run([simlib.sim_binary(build_dir), "verify", "--report", report_path, "--bootstrap", bootstrap,
                           "--topic", topic, "--idle-s", "3", "--timeout-s", "60", "--json", out_json],
                          capture_output=True, text=True, timeout=90)
    result = json.load(open(out_json)) if os.path.exists(out_json) else None
    return proc.returncode, proc.stdout + proc.stderr, result


def test(build_dir, workdir, mode):
    if mode == "broker" and not os.path.exists(os.path.join(build_dir, "cluster", "tributary-broker")):
        print("SKIP: cluster/tributary-broker is not built yet")
        return simlib.SKIP
    mq = simlib.mosquitto(workdir).start()
    sub = simlib.subscriber(mq.port)
    try:
        lossy_report, lossy, lossy_records = capture_run(build_dir, workdir, mq, sub, "lossy", ["--payload", "json"])
        clean_report, clean, clean_records = capture_run(build_dir, workdir, mq, sub, "clean",
                                                         ["--payload", "binary", "--size", "64"])
    finally:
        sub.stop()
        mq.kill()

    # Tamper: delete one acknowledged reading, duplicate another (right after itself), swap two others.
    by_device = {}
    for i, r in enumerate(lossy_records):
        by_device.setdefault(r["device"], []).append(i)
    devices = sorted(by_device)
    victim = lossy_records[by_device[devices[2]][5]]
    twin = lossy_records[by_device[devices[4]][7]]
    a, b = by_device[devices[6]][3], by_device[devices[6]][4]
    swapped = (lossy_records[a]["device"], lossy_records[a]["seq"])
    tampered = list(lossy_records)
    tampered[a], tampered[b] = tampered[b], tampered[a]
    tampered.insert(tampered.index(twin) + 1, twin)
    tampered.remove(victim)
    lossy_path = os.path.join(workdir, "lossy.records")
    write_records(lossy_path, tampered)
    clean_path = os.path.join(workdir, "clean.records")
    write_records(clean_path, clean_records)

    target = kafka_target(build_dir, workdir, mode)
    try:
        suffix = f"{os.getpid()}"
        bootstrap = target.feed(f"telemetry-lossy-{suffix}", lossy_path)
        rc, out, result = run_verify(build_dir, workdir, lossy_report, bootstrap, f"telemetry-lossy-{suffix}", "lossy")
        check(result is not None, f"verify wrote no result (rc {rc}): {out}")
        check(rc == 1, f"verify must exit 1 on loss, got {rc}: {out}")
        check(result["lost"] == 1, f"lost {result['lost']}, want 1: {out}")
        check(result["lost_samples"] == [{"device": victim["device"], "seq": victim["seq"]}],
              f"lost {result['lost_samples']}, want {victim['device']}#{victim['seq']}")
        check(result["duplicated"] == 1, f"duplicated {result['duplicated']}, want 1: {out}")
        check(result["duplicate_samples"] == [{"device": twin["device"], "seq": twin["seq"]}],
              f"duplicated {result['duplicate_samples']}, want {twin['device']}#{twin['seq']}")
        check(result["reordered"] == 1, f"reordered {result['reordered']}, want 1: {out}")
        check(result["reorder_samples"] == [{"device": swapped[0], "seq": swapped[1]}],
              f"reordered {result['reorder_samples']}, want {swapped}")
        check(result["expected"] == lossy["totals"]["acked"] and result["arrived"] == result["expected"] - 1,
              f"counts: {result}")
        check(result["records"] == len(tampered), f"records {result['records']} of {len(tampered)}")
        check("lost: " in out and f"{victim['device']}#{victim['seq']}" in out, f"verify output: {out}")
        check("latency_ms: p50=" in out, f"no latency line: {out}")

        bootstrap = target.feed(f"telemetry-clean-{suffix}", clean_path)
        rc, out, result = run_verify(build_dir, workdir, clean_report, bootstrap, f"telemetry-clean-{suffix}", "clean")
        check(rc == 0, f"verify must pass a clean topic, got {rc}: {out}")
        check(result["lost"] == 0 and result["duplicated"] == 0 and result["reordered"] == 0, f"{result}")
        check(result["arrived"] == clean["totals"]["acked"] == result["expected"], f"{result}")
        lat = result["latency_ms"]
        check(lat["count"] == result["arrived"] and 0 <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"],
              f"latency {lat}")
        check(lat["negative"] == 0, f"skew was not taken out of latency: {lat}")
    finally:
        target.close()
    print(f"verify ({mode}): caught the deleted, duplicated and swapped readings; a clean topic passes")


if __name__ == "__main__":
    mode = sys.argv[2] if len(sys.argv) > 2 else "mock"
    simlib.main(lambda b, w: test(b, w, mode))
