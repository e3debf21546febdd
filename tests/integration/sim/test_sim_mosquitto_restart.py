"""tributary-sim against a mosquitto that is killed and restarted on the same port: every device
reconnects (with growing, jittered backoff), keeps taking readings into its bounded offline queue while
the server is away, and delivers them afterwards; a device whose queue is too small drops the oldest and
says so in the report. The progress lines show the outage.
Usage: test_sim_mosquitto_restart.py <build dir>"""
import json
import os
import re
import time

import simlib
from simlib import check

OUTAGE_S = 3
DURATION_S = 12


def test(build_dir, workdir):
    broker = simlib.mosquitto(workdir).start()
    sub = simlib.subscriber(broker.port)
    scenario = {
        "broker": broker.uri, "duration_s": DURATION_S, "connect_rate": 0, "seed": 3, "drain_s": 8,
        "defaults": {"rate_hz": 5, "qos": 1,
                     "backoff": {"initial_ms": 200, "max_ms": 1000, "multiplier": 2, "jitter": 0.5}},
        "groups": [
            {"name": "keep", "devices": 10, "queue_max": 100, "name_template": "keep-{n}"},
            {"name": "tiny", "devices": 5, "queue_max": 2, "name_template": "tiny-{n}", "payload": "binary"},
        ],
    }
    scenario_path = os.path.join(workdir, "scenario.json")
    with open(scenario_path, "w") as f:
        json.dump(scenario, f)
    report_path = os.path.join(workdir, "report.json")
    marks = {}

    def outage(proc):
        simlib.wait_for(lambda: sub.count() >= 15 * 5 * 2 or proc.poll() is not None, 20, "readings to flow")
        check(proc.poll() is None, "simulator exited early")
        marks["kill"] = time.monotonic()
        broker.kill()  # SIGKILL: no goodbye to anyone
        time.sleep(OUTAGE_S)
        broker.start()
        marks["restart"] = time.monotonic()

    try:
        rc, err = simlib.run_sim(build_dir, ["--scenario", scenario_path, "--report", report_path],
                                 timeout_s=60, during=outage)
        check(rc == 0, f"tributary-sim exited {rc}: {err[-3000:]}")
        sub.settle()
    finally:
        sub.stop()
        broker.kill()
    report = simlib.load_report(report_path)
    t = report["totals"]
    devices = {d["device"]: d for d in report["devices"]}
    # Every device lost its connection and came back.
    for name, d in devices.items():
        check(d["connection_losses"] >= 1, f"{name}: no connection loss recorded: {d}")
        check(d["connects"] >= 2, f"{name}: did not reconnect: {d}")
        check(d["state"] == "done", f"{name}: ended {d['state']}")
    check(t["reconnects"] >= 15, f"reconnects {t['reconnects']}")
    # Backoff: retries against the dead port failed, and the delays grew past the first one.
    check(t["connect_failures"] >= 15, f"connect failures {t['connect_failures']}")
    check(t["backoff_ms_max"] > 300, f"backoff never grew: {t['backoff_ms_max']} ms")
    # The offline queue: "keep" devices held everything and delivered it all; "tiny" ones dropped the oldest.
    for name, d in devices.items():
        if name.startswith("keep"):
            check(d["dropped"] == 0 and d["unsent"] == 0 and d["acked"] == d["generated"],
                  f"{name}: expected every reading acknowledged: {d}")
            check(d["acked_seqs"] == [[1, d["generated"]]], f"{name}: gaps in {d['acked_seqs']}")
            check(d["queue_depth_max"] >= 5 * (OUTAGE_S - 1), f"{name}: queue never filled: {d['queue_depth_max']}")
        else:
            check(d["dropped"] > 0, f"{name}: a 2-reading queue should have dropped readings: {d}")
            check(d["queue_depth_max"] <= 3, f"{name}: queue above its bound: {d['queue_depth_max']}")
            check(d["acked"] + d["dropped"] + d["unsent"] <= d["generated"], f"{name}: counts {d}")
    check(t["dropped"] > 0 and t["resent"] >= 0, f"totals {t}")
    # Readings taken after the restart reached the subscriber from every device.
    expected, names = simlib.acked_set(report)
    got = set()
    for _, _, (dev, seq, _) in sub.readings():
        got.add((names.get(dev, dev) if isinstance(dev, int) else dev, seq))
    check(got <= expected | {(n, s) for n, d in devices.items() for s in range(1, d["generated"] + 1)},
          "subscriber saw readings the simulator never took")
    for name, d in devices.items():
        last = max((s for n, s in got if n == name), default=0)
        check(last >= d["generated"] - 5, f"{name}: subscriber's last seq {last} of {d['generated']}")
    # Progress lines show the outage: devices waiting to reconnect, errors counted.
    lines = [l for l in err.splitlines() if re.match(r"^\[\s*\d+s\] ", l)]
    check(any(int(re.search(r"waiting=(\d+)", l).group(1)) > 0 or
              int(re.search(r"connected=(\d+)/", l).group(1)) < 15 for l in lines),
          f"no progress line shows the outage:\n{err}")
    check(int(re.search(r"errors=(\d+)", lines[-1]).group(1)) > 0, f"no errors counted: {lines[-1]}")
    print(f"reconnected: reconnects={t['reconnects']} connect_failures={t['connect_failures']} "
          f"backoff_ms_max={t['backoff_ms_max']} dropped={t['dropped']} queue_depth_max={t['queue_depth_max']}")


if __name__ == "__main__":
    simlib.main(test)
