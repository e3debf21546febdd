"""kill -9 the gateway during 50,000 QoS 1 publishes from 10 paho clients: every reading that was
PUBACKed before the kill is in the buffer after the restart. Then the clients reconnect and re-send
what was not acknowledged, and in the end all 50,000 are stored (at least once).

The kill comes at a random moment (seeded; the seed is printed and TRIB_SEED replays it) between 10%
and 70% of the acknowledgements. Bounded: at most ~90 s."""
import os
import random
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration", "gateway"))
from gwlib import *  # noqa: E402

CLIENTS = 10
TOTAL = 50000
PER_CLIENT = TOTAL // CLIENTS


class device:
    """One paho client publishing its share; remembers what was acknowledged. (No lock of ours is held
    around paho calls: paho calls on_publish with its own lock held.)"""

    def __init__(self, port, i):
        self.i = i
        self.done = set()  # payloads acknowledged on earlier connections
        self.connect(port)

    def connect(self, port):
        self.by_mid = {}       # this connection's mid -> payload
        self.acked_mids = []   # appended by paho's thread
        self.c = paho_client(port, f"kill-{self.i}", version=3, max_inflight=200)
        self.c.c.on_publish = lambda client, userdata, mid: self.acked_mids.append(mid)
        check(self.c.wait_connack() == 0, "connect")

    def acked(self):
        """Payloads acknowledged so far (a snapshot)."""
        mids = list(self.acked_mids)
        return self.done | {self.by_mid[m] for m in mids if m in self.by_mid}

    def acked_count(self):
        return len(self.done) + len(self.acked_mids)

    def pump(self, stop, payloads):
        for p in payloads:
            if stop.is_set():
                return
            info = self.c.c.publish(f"sensors/kill-{self.i}/x", p, qos=1)
            if info.rc != 0:
                return
            self.by_mid[info.mid] = p
            # Bounded in flight: wait while too many are unacknowledged.
            deadline = time.monotonic() + 30
            while len(self.by_mid) - len(self.acked_mids) > 400 and not stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)

    def payloads(self):
        return [f"kill-{self.i}-{n}" for n in range(PER_CLIENT)]


def test_kill_during_publish(build_dir, d):
    seed = int(os.environ.get("TRIB_SEED", random.SystemRandom().randrange(1 << 30)))
    rng = random.Random(seed)
    kill_at = int(TOTAL * rng.uniform(0.1, 0.7))
    print(f"seed={seed} kill after {kill_at} acknowledgements (TRIB_SEED={seed} replays it)", flush=True)
    g = gateway(build_dir, d, config={"buffer": {"synchronous": "full"}}).start()
    try:
        devices = [device(g.port, i) for i in range(CLIENTS)]
        stop = threading.Event()
        threads = [threading.Thread(target=x.pump, args=(stop, x.payloads()), daemon=True) for x in devices]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        acked = lambda: sum(x.acked_count() for x in devices)  # noqa: E731
        wait_for(lambda: acked() >= kill_at, 60, f"{kill_at} acknowledgements")
        g.proc.kill()  # SIGKILL: no shutdown, no last commit
        g.proc.wait(timeout=10)
        g.proc = None
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for x in devices:
            x.c.stop(disconnect=False)
        before_kill = set()
        for x in devices:
            before_kill |= x.acked()
        print(f"killed after {time.monotonic() - t0:.1f}s with {len(before_kill)} acknowledged", flush=True)

        g.start()
        stored = [r["payload"].decode() for r in g.rows()]
        stored_set = set(stored)
        missing = before_kill - stored_set
        check(not missing, f"{len(missing)} PUBACKed readings lost, e.g. {sorted(missing)[:5]} (seed {seed})")
        check(f"backlog_rows={len(stored)}" in g.log_text(), "the restart reports the backlog")
        print(f"after restart: {len(stored)} rows, all {len(before_kill)} acknowledged present", flush=True)

        # Re-send what was not acknowledged; in the end all 50,000 are there.
        stop = threading.Event()
        for x in devices:
            x.done = x.acked()
            x.connect(g.port)
        threads = [threading.Thread(target=x.pump, args=(stop, [p for p in x.payloads() if p not in x.done]),
                                    daemon=True) for x in devices]
        for t in threads:
            t.start()
        wait_for(lambda: sum(len(x.acked()) for x in devices) >= TOTAL, 90, "all 50,000 acknowledged", interval_s=0.5)
        for t in threads:
            t.join(timeout=10)
        for x in devices:
            x.c.stop()
        check(g.stop() == 0, "clean stop")
        final = {r["payload"].decode() for r in g.rows()}
        everything = {p for x in devices for p in x.payloads()}
        check(everything <= final, f"{len(everything - final)} readings missing at the end")
        print(f"total {TOTAL} acknowledged and stored in {time.monotonic() - t0:.1f}s", flush=True)
    finally:
        g.kill()


if __name__ == "__main__":
    main([test_kill_during_publish])
