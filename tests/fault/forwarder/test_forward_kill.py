"""kill -9 of the process holding the buffer (forward_driver: buffer + forwarder), --kills times at
random moments during load (seeded: the seed is printed and --seed replays it), restarted on the same
buffer each time; a last run drains. Then everything is consumed: nothing acknowledged is lost, order
per device holds over first occurrences, and duplicates — identified by (tributary.gateway,
tributary.gateway_seq) — number at most kills x the window (forwarder.in_flight_rows_max)."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration", "forwarder"))
import fwdlib  # noqa: E402
from fwdlib import check  # noqa: E402

RATE = 800
WINDOW = 2000


def main(args, workdir):
    seed = args.seed or random.randrange(1, 1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    b = fwdlib.brokerlib.broker(args.broker, workdir).start()
    try:
        d = fwdlib.driver(args.driver, workdir, b.bootstrap,
                          extra=["--set", f"forwarder.in_flight_rows_max={WINDOW}", "--devices", "16"])
        for run in range(args.kills):
            # Each run's device sequences start above the previous run's.
            d.start("--rate", str(RATE), "--seq-start", str(run * 10_000_000), "--run", str(run))
            time.sleep(rng.uniform(1.0, 3.0))
            check(d.alive(), f"driver died by itself in run {run}")
            d.kill9()
        d.start("--drain-only", may_finish=True)
        check(d.wait(120) == 0, "drain run failed")
        acked = d.acked()
        check(len(acked) > RATE, f"only {len(acked)} acknowledged")
        records = fwdlib.consume_all(b.bootstrap, "telemetry", len(acked), timeout_s=120)
        unique, dup = fwdlib.check_delivery(acked, records, window=WINDOW, kills=args.kills)
        check(d.backlog_rows() == 0, "buffer not empty after the drain")
        print(f"{args.kills} kills: {len(acked)} acknowledged, {unique} unique readings upstream, "
              f"{dup} duplicates (bound {args.kills} x {WINDOW})")
    finally:
        b.kill()


if __name__ == "__main__":
    a = fwdlib.parse_args([("--kills", {"type": int, "default": 5}), ("--seed", {"type": int, "default": 0})])
    fwdlib.run_test(a, main)
