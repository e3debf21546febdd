"""SIGHUP: the gateway reads its config file again. Routes and log.level apply live (the next PUBLISH
is routed by the new table); other changed keys are logged by name as needing a restart; flags given
on the command line keep overriding the file; a file that does not load or validate is refused with
an error naming the key, and the old configuration keeps running. Seen through real mosquitto_pub
publishes, the rows of the SQLite buffer, the log and /metrics."""
import json
import signal

from gwlib import *


def write_config(g, cfg):
    with open(g.conf, "w") as f:
        json.dump(cfg, f, indent=2)


def publish(g, topic, payload):
    r = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-q", "1", "-t", topic, "-m", payload])
    check(r.returncode == 0, f"mosquitto_pub {topic}: {r.stderr}")


def hup(g, event, count):
    """SIGHUP, then wait until the log holds `count` lines of event=<event>."""
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: g.log_text().count(f"event={event} ") >= count, 10, f"{count} x event={event}")


def row_of(g, payload):
    rows = [r for r in g.rows() if r["payload"] == payload.encode()]
    check(len(rows) == 1, f"one row with payload {payload}: {rows}")
    return rows[0]


def test_routes_and_log_level_live(build_dir, d):
    with gateway(build_dir, d) as g:
        base = json.load(open(g.conf))
        publish(g, "sensors/dev1/temp", "before")
        r = row_of(g, "before")
        check(r["topic"] == "telemetry.temp" and r["key"] == "dev1", r)
        check("level=debug" not in g.log_text(), "no debug line at level info")

        cfg = json.loads(json.dumps(base))
        cfg["routes"] = {"unmatched": "default", "default_topic": "unrouted",
                         "rules": [{"filter": "sensors/+device/+kind", "topic": "v2.{kind}", "key": "{kind}-{device}",
                                    "priority": 3}]}
        cfg["log"] = {"level": "debug"}
        cfg["mqtt"]["max_connections"] = 77  # needs a restart
        write_config(g, cfg)
        hup(g, "reloaded", 1)
        log = g.log_text()
        check("event=reload_applied key=log.level value=debug" in log, log[-2000:])
        check("event=reload_applied key=routes.rules" in log and "event=reload_applied key=routes.unmatched" in log,
              log[-2000:])
        check('event=reload_needs_restart key=mqtt.max_connections message="key mqtt.max_connections changed; '
              'restart to apply"' in log, log[-2000:])
        # Flags override the file at a reload as at the start: --listen, --http, --data-dir did not change.
        for key in ("mqtt.listen", "http.listen", "gateway.data_dir"):
            check(f"key={key}" not in log, f"{key} reported as changed")
        check("applied=4 needs_restart=1" in log, log[-1000:])

        publish(g, "sensors/dev1/temp", "after")
        r = row_of(g, "after")
        check(r["topic"] == "v2.temp" and r["key"] == "temp-dev1" and r["priority"] == 3, r)
        publish(g, "elsewhere/x", "unmatched")  # refused before, now the default topic
        r = row_of(g, "unmatched")
        check(r["topic"] == "unrouted" and r["key"] == "elsewhere/x", r)
        # The old row keeps its old route; the level applies: debug lines appear.
        check(row_of(g, "before")["topic"] == "telemetry.temp", "rows already buffered are not rewritten")
        m = g.metrics()
        check(m['tributary_gateway_config_reloads_total{result="ok"}'] == 1, m)
        check(m["tributary_gateway_config_restart_pending_keys"] == 1, m)
        # Still listening with the old max_connections, and a second reload with the same file applies
        # nothing new but still names the pending key.
        hup(g, "reloaded", 2)
        check(g.log_text().count("key=mqtt.max_connections") == 2, "pending key named again")
        check(g.log_text().count("applied=0 needs_restart=1") == 1, g.log_text()[-500:])
        check(g.health()["status"] == "ok", "serving")


def test_invalid_config_keeps_the_running_one(build_dir, d):
    with gateway(build_dir, d) as g:
        base = json.load(open(g.conf))
        bad_route = json.loads(json.dumps(base))
        bad_route["routes"]["rules"][0]["topic"] = "t.{nope}"
        write_config(g, bad_route)
        hup(g, "reload_failed", 1)
        log = g.log_text()
        check('key \\"routes.rules[0].topic\\"' in log or "routes.rules[0].topic" in log, log[-1500:])
        check("the running configuration stays" in log, log[-1500:])

        with open(g.conf, "w") as f:
            f.write('{"log": {"level": "debug",}}')  # not JSON
        hup(g, "reload_failed", 2)
        check(f"{g.conf}:1:" in g.log_text(), g.log_text()[-1500:])

        unknown = json.loads(json.dumps(base))
        unknown["log"] = {"levle": "debug"}
        write_config(g, unknown)
        hup(g, "reload_failed", 3)
        check('unknown key \\"log.levle\\"' in g.log_text() or 'unknown key "log.levle"' in g.log_text(),
              g.log_text()[-1500:])

        bad_level = json.loads(json.dumps(base))
        bad_level["log"] = {"level": "loud"}
        write_config(g, bad_level)
        hup(g, "reload_failed", 4)
        failed = [line for line in g.log_text().splitlines() if "event=reload_failed" in line]
        check("log.level" in failed[-1] and "loud" in failed[-1], failed[-1])

        # Nothing of those applied: the original routes still route, at level info.
        publish(g, "sensors/dev2/hum", "still-old")
        r = row_of(g, "still-old")
        check(r["topic"] == "telemetry.hum" and r["key"] == "dev2", r)
        check("level=debug" not in g.log_text(), "the level stayed info")
        m = g.metrics()
        check(m['tributary_gateway_config_reloads_total{result="failed"}'] == 4, m)
        check(m['tributary_gateway_config_reloads_total{result="ok"}'] == 0, m)

        # A good file again: accepted.
        write_config(g, base)
        hup(g, "reloaded", 1)
        check(g.metric('tributary_gateway_config_reloads_total{result="ok"}') == 1, "ok counted")


def test_sighup_while_stopping_is_harmless(build_dir, d):
    g = gateway(build_dir, d).start()
    try:
        g.proc.send_signal(signal.SIGTERM)
        g.proc.send_signal(signal.SIGHUP)
        code = g.proc.wait(timeout=30)
        g.proc = None
        check(code == 0, f"exit {code} (a SIGHUP during shutdown must not count as a second signal)")
        check("event=stopped" in g.log_text(), g.log_text()[-1000:])
    finally:
        g.kill()


if __name__ == "__main__":
    main([test_routes_and_log_level_live, test_invalid_config_keeps_the_running_one,
          test_sighup_while_stopping_is_harmless])
