"""tributary-sim run against mosquitto: what a subscriber receives is exactly what the report says was
acknowledged (JSON QoS 1, binary QoS 1 padded to --size, JSON QoS 0), progress once a second, a summary.
Usage: test_sim_mosquitto_counts.py <build dir>"""
import os
import re

import simlib
from simlib import check


def one_run(build_dir, workdir, broker, sub, name, extra, devices=20, rate=5, duration=4):
    report_path = os.path.join(workdir, f"{name}.json")
    before = sub.count()
    rc, err = simlib.run_sim(build_dir, ["--broker", broker.uri, "--devices", str(devices), "--rate", str(rate),
                                         "--duration", str(duration), "--connect-rate", "100",
                                         "--report", report_path, "--topic", f"sensors/{{device}}/telemetry",
                                         "--name-template", f"{name}-{{index}}"] + extra, timeout_s=60)
    check(rc == 0, f"{name}: tributary-sim exited {rc}: {err[-3000:]}")
    sub.settle()
    report = simlib.load_report(report_path)
    totals = report["totals"]
    expected, names = simlib.acked_set(report)
    got = [r for r in sub.readings()[before:]]
    keys = []
    for topic, payload, (dev, seq, ts) in got:
        dev = names.get(dev, dev) if isinstance(dev, int) else dev
        check(topic == f"sensors/{dev}/telemetry", f"{name}: reading of {dev} on topic {topic}")
        keys.append((dev, seq))
    # Counts match: every acknowledged reading arrived, exactly once, and nothing else did.
    # Ramp-up (100 devices/s) and each device's random phase shave at most one reading per device.
    check(devices * (rate * duration - 1) <= totals["generated"] <= devices * rate * duration,
          f"{name}: generated {totals['generated']}, want about {devices * rate * duration}")
    check(totals["acked"] == totals["generated"] and totals["unsent"] == 0 and totals["dropped"] == 0,
          f"{name}: totals {totals}")
    check(len(expected) == totals["acked"], f"{name}: report ranges hold {len(expected)}, acked {totals['acked']}")
    check(len(keys) == len(set(keys)), f"{name}: duplicates at the subscriber")
    check(set(keys) == expected,
          f"{name}: subscriber got {len(keys)}, report acknowledged {len(expected)}; "
          f"missing {sorted(expected - set(keys))[:5]} unexpected {sorted(set(keys) - expected)[:5]}")
    for d in report["devices"]:
        check(d["connects"] == 1 and d["connection_losses"] == 0, f"{name}: {d['device']} reconnected")
    # A progress line about once a second, and a summary.
    lines = [l for l in err.splitlines() if re.match(r"^\[\s*\d+s\] ", l)]
    check(len(lines) >= duration - 1, f"{name}: {len(lines)} progress lines in a {duration}s run:\n{err}")
    check(all(re.search(r"connected=\d+/%d .*sent=\d+ acked=\d+ errors=\d+ rate=\d+/s" % devices, l) for l in lines),
          f"{name}: progress line shape: {lines[:2]}")
    check(re.search(r"\[\s*\d+s\] running connected=%d/%d" % (devices, devices), err),
          f"{name}: never saw the whole fleet connected:\n{err}")
    check("summary: devices=%d" % devices in err and "acked=%d" % totals["acked"] in err,
          f"{name}: no summary:\n{err}")
    return got, report


def test(build_dir, workdir):
    broker = simlib.mosquitto(workdir).start()
    sub = simlib.subscriber(broker.port)
    try:
        one_run(build_dir, workdir, broker, sub, "json1", ["--qos", "1", "--payload", "json"])
        got, _ = one_run(build_dir, workdir, broker, sub, "bin1",
                         ["--qos", "1", "--payload", "binary", "--size", "200", "--models",
                          "temperature,counter,gps,vibration"])
        check(all(len(p) == 200 for _, p, _ in got), "binary readings are padded to --size")
        got, _ = one_run(build_dir, workdir, broker, sub, "json0",
                         ["--qos", "0", "--payload", "json", "--size", "300"])
        check(all(len(p) == 300 for _, p, _ in got), "JSON readings are padded to --size")
    finally:
        sub.stop()
        broker.kill()
    print("counts match for json/qos1, binary/qos1 and json/qos0")


if __name__ == "__main__":
    simlib.main(test)
