"""SIGHUP: the broker reads its config file again. log_level applies live (seen in what it logs next);
other changed keys are logged by name as needing a restart and counted in /metrics; the command line's
flags keep overriding the file; a file that does not load or validate is refused with an error naming
the key while the broker keeps serving (a kcat produce and consume after each reload)."""
import json
import os
import signal
import subprocess

import brokerlib
from brokerlib import check, wait_for


def main(binary, workdir):
    conf = os.path.join(workdir, "broker.json")

    def write(cfg):
        with open(conf, "w") as f:
            json.dump(cfg, f)

    base = {"log_level": "info", "log": {"retention_ms": 604800000}}
    write(base)
    b = brokerlib.broker(binary, workdir, extra_args=["--config", conf]).start()

    def metric(result):
        return brokerlib.metric_value(b.metrics(), "tributary_broker_config_reloads_total", {"result": result}) or 0

    def hup(result, count):
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(result) >= count, 10, f"{count} reloads {result}")

    def round_trip(n):
        r = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", "reload"], input=f"m{n}\n", text=True,
                           capture_output=True, timeout=30)
        check(r.returncode == 0, f"kcat -P: {r.stderr}")
        r = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "reload", "-o", "beginning", "-e"], text=True,
                           capture_output=True, timeout=30)
        check(r.stdout.splitlines() == [f"m{i}" for i in range(n + 1)], f"kcat -C: {r.stdout!r}")

    round_trip(0)
    # warn: the reload's own summary (info) is no longer written; a restart key is (warn).
    write({"log_level": "warn", "log": {"retention_ms": 1000}})
    hup("ok", 1)
    text = b.log_text()
    check('event=reload_needs_restart key=log.retention_ms message="key log.retention_ms changed; restart to apply"'
          in text, text[-2000:])
    check("event=reloaded" not in text, "an info line written at level warn")
    check(brokerlib.metric_value(b.metrics(), "tributary_broker_config_restart_pending_keys") == 1, "pending 1")
    for key in ("data_dir", "listen", "http.listen"):  # set by flags, which keep overriding the file
        check(f"key={key} " not in text, f"{key} reported as changed")
    round_trip(1)

    # Back to info, the restart key reverted: the summary line is there and nothing is pending.
    write(base)
    hup("ok", 2)
    wait_for(lambda: "event=reloaded" in b.log_text(), 10, "the summary line at level info")
    line = [x for x in b.log_text().splitlines() if "event=reloaded" in x][-1]
    check("applied=1 needs_restart=0" in line and "log_level=info" in line, line)
    check(brokerlib.metric_value(b.metrics(), "tributary_broker_config_restart_pending_keys") == 0, "pending 0")

    # Refused: a bad level, an unknown key, broken JSON. Each names the problem; nothing changes.
    for n, (content, needle) in enumerate([
            (json.dumps({"log_level": "loud"}), "log_level"),
            (json.dumps({"log_levle": "debug"}), "log_levle"),
            ('{"log_level": "debug",', f"{conf}:1:")], start=1):
        with open(conf, "w") as f:
            f.write(content)
        hup("failed", n)
        failed = [x for x in b.log_text().splitlines() if "event=reload_failed" in x]
        check(len(failed) == n and needle in failed[-1] and "the running configuration stays" in failed[-1],
              failed[-1:])
    check("level=debug" not in b.log_text(), "the level stayed info")
    round_trip(2)
    rc, _ = b.stop()
    check(rc == 0, f"exit {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
