"""tributary-sim run against tributary-gateway (forwarder off, so every reading stays in the buffer):
1. the counts match: every reading the report says was acknowledged (QoS 1, PUBACK after the commit) is
   a row of the gateway's SQLite buffer, exactly once, with the route's topic and key; nothing else is;
2. devices reconnect after the gateway restarts (SIGTERM, then started again on the same port and data)
   and at the end every acknowledged reading is still in the buffer (duplicates only from re-sends of
   readings whose PUBACK was lost with the connection).
Usage: test_sim_gateway.py <build dir>"""
import os
import sys
import threading
import time

import simlib
from simlib import check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway"))
import gwlib  # noqa: E402

ROUTES = {"unmatched": "refuse",
          "rules": [{"filter": "sensors/+device/telemetry", "topic": "telemetry", "key": "{device}"}]}


def buffered(gw, names):
    """[(device, seq)] of every buffered reading, checking each row's topic and key."""
    out = []
    for r in gw.rows():
        dev, seq, _ = simlib.decode_reading(r["payload"])
        dev = names.get(dev, dev) if isinstance(dev, int) else dev
        check(r["topic"] == "telemetry" and r["key"] == dev, f"row {r['seq']}: topic {r['topic']} key {r['key']}")
        out.append((dev, seq))
    return out


def counts_match(build_dir, workdir):
    with gwlib.gateway(build_dir, workdir, routes=ROUTES, name="counts") as gw:
        report_path = os.path.join(workdir, "counts.json")
        devices, rate, duration = 50, 5, 4
        rc, err = simlib.run_sim(build_dir, ["--broker", f"tcp://127.0.0.1:{gw.port}", "--devices", str(devices),
                                             "--rate", str(rate), "--duration", str(duration), "--qos", "1",
                                             "--connect-rate", "200", "--topic", "sensors/{device}/telemetry",
                                             "--report", report_path], timeout_s=60)
        check(rc == 0, f"tributary-sim exited {rc}: {err[-3000:]}")
        report = simlib.load_report(report_path)
        expected, names = simlib.acked_set(report)
        totals = report["totals"]
        check(totals["acked"] == totals["generated"] > 0 and totals["dropped"] == 0, f"totals {totals}")
        got = buffered(gw, names)
        check(len(got) == len(set(got)), "a reading is in the buffer twice")
        check(set(got) == expected, f"buffer holds {len(got)}, report acknowledged {len(expected)}; missing "
              f"{sorted(expected - set(got))[:5]} unexpected {sorted(set(got) - expected)[:5]}")
        check(gw.metric("tributary_gateway_buffer_backlog_rows") == len(got), "backlog_rows gauge equals the rows")
        print(f"counts match: {len(got)} acknowledged readings of {devices} devices, each buffered once")


def restart(build_dir, workdir):
    gw = gwlib.gateway(build_dir, workdir, routes=ROUTES, name="restart").start()
    report_path = os.path.join(workdir, "restart.json")
    devices, duration = 20, 8
    stopped = threading.Event()

    def during(proc):
        time.sleep(3)
        code = gw.stop()
        check(code == 0, f"gateway exit {code} after SIGTERM")
        stopped.set()
        time.sleep(1.5)
        gw.start()

    try:
        rc, err = simlib.run_sim(build_dir, ["--broker", f"tcp://127.0.0.1:{gw.port}", "--devices", str(devices),
                                             "--rate", "5", "--duration", str(duration), "--qos", "1",
                                             "--connect-rate", "200", "--topic", "sensors/{device}/telemetry",
                                             "--backoff-initial-ms", "200", "--backoff-max-ms", "1000",
                                             "--drain-s", "10", "--report", report_path],
                                 timeout_s=90, during=during)
        check(stopped.is_set(), "the gateway was not restarted during the run")
        check(rc == 0, f"tributary-sim exited {rc}: {err[-3000:]}")
        report = simlib.load_report(report_path)
        expected, names = simlib.acked_set(report)
        for d in report["devices"]:
            check(d["connects"] >= 2 and d["connection_losses"] >= 1, f"{d['device']} did not reconnect: {d}")
        got = buffered(gw, names)
        missing = expected - set(got)
        check(not missing, f"{len(missing)} acknowledged readings not in the buffer after the restart: "
              f"{sorted(missing)[:5]}")
        dups = len(got) - len(set(got))
        print(f"restart: {devices} devices reconnected; {len(expected)} acknowledged readings all buffered, "
              f"{dups} duplicates from re-sends")
    finally:
        if gw.proc is not None:
            code = gw.stop()
            check(code == 0, f"gateway exit {code} after SIGTERM")
        gw.check_sanitizers()


def test(build_dir, workdir):
    counts_match(build_dir, workdir)
    restart(build_dir, workdir)


if __name__ == "__main__":
    simlib.main(test)
