"""The broker stopped during load (--outage-s, 10 s in CI; the issue's 60 s by hand), then restarted:
the driver keeps accepting and buffering, /metrics shows the backlog (rows, bytes, oldest age) and the
uplink down; after the restart every acknowledged reading arrives, in order per device.

With forwarder.delivery_timeout_ms (3 s here) shorter than the outage, records in flight fail as
retriable: the forwarder settles, backs off with jitter and re-reads the buffer (checked: settles >= 1)."""
import time

import fwdlib
from fwdlib import check

RATE = 300


def main(args, workdir):
    b = fwdlib.brokerlib.broker(args.broker, workdir).start()
    try:
        total_s = args.outage_s + 12
        rows = RATE * total_s
        d = fwdlib.driver(args.driver, workdir, b.bootstrap,
                          extra=["--set", "forwarder.delivery_timeout_ms=3000", "--set",
                                 "forwarder.request_timeout_ms=1000", "--set", "forwarder.retry_backoff_max_ms=2000",
                                 "--set", "forwarder.stats_interval_ms=500"] +
                          (["--log-level", "trace", "--set", "forwarder.librdkafka=debug=eos"] if args.trace else []))
        d.start("--rows", str(rows), "--rate", str(RATE), "--devices", "20", "--exit-when-drained")
        fwdlib.wait_for(lambda: (d.metric("tributary_gateway_forwarder_forwarded_rows_total") or 0) > RATE, 20,
                        "forwarding to start")
        if args.broker_kill:
            b.kill()
        else:
            rc, _ = b.stop()
            check(rc == 0, f"broker exit {rc}")
        t_down = time.monotonic()
        saw = {"backlog": 0, "bytes": 0, "age": 0.0, "uplink_down": False}

        def sample():
            m = d.metrics()
            saw["backlog"] = max(saw["backlog"], fwdlib.metric_value(m, "tributary_gateway_buffer_backlog_rows") or 0)
            saw["bytes"] = max(saw["bytes"], fwdlib.metric_value(m, "tributary_gateway_buffer_backlog_bytes") or 0)
            saw["age"] = max(saw["age"],
                             fwdlib.metric_value(m, "tributary_gateway_buffer_oldest_age_seconds") or 0)
            if fwdlib.metric_value(m, "tributary_gateway_forwarder_uplink_up") == 0:
                saw["uplink_down"] = True

        while time.monotonic() - t_down < args.outage_s:
            check(d.alive(), "driver died during the outage")
            sample()
            time.sleep(0.5)
        print(f"during the outage: backlog up to {saw['backlog']:.0f} rows, {saw['bytes']:.0f} bytes, "
              f"oldest {saw['age']:.1f} s; uplink down seen: {saw['uplink_down']}")
        check(saw["backlog"] >= RATE * args.outage_s * 0.5, f"backlog {saw['backlog']} too small: not buffering?")
        check(saw["bytes"] > 0 and saw["age"] >= args.outage_s * 0.5, "backlog bytes and oldest age shown")
        check(saw["uplink_down"], "uplink_up never showed 0")
        b.start()
        t_up = time.monotonic()
        check(d.wait(total_s + 120) == 0, "driver failed")
        print(f"drained {time.monotonic() - t_up:.1f} s after the broker came back")
        acked = d.acked()
        check(len(acked) == rows, f"{len(acked)} acknowledged, expected {rows}")
        records = fwdlib.consume_all(b.bootstrap, "telemetry", rows, timeout_s=120)
        unique, dup = fwdlib.check_delivery(acked, records)
        final = d.statuses()[-1]
        print(f"{unique} readings arrived in order per device; {dup} duplicates; settles {final['settles']}")
        if args.outage_s * 1000 > 3000 * 2:
            check(final["settles"] >= 1, "records in flight should have timed out and been re-sent")
    finally:
        b.kill()


if __name__ == "__main__":
    a = fwdlib.parse_args([("--outage-s", {"type": int, "default": 10}),
                           ("--broker-kill", {"action": "store_true", "help": "SIGKILL the broker instead of SIGTERM"}),
                           ("--trace", {"action": "store_true",
                                        "help": "log every delivery report and librdkafka's idempotence events"})])
    fwdlib.run_test(a, main)
