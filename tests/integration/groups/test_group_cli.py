"""Lag per group and partition: a group commits part of a topic; `tributary group list` and
`tributary group describe` (text and --json) and the broker's /metrics
(tributary_group_lag{group,topic,partition}) show the same lag; a member's assignment shows in
describe; `tributary group delete` refuses a group with members (NON_EMPTY_GROUP) and deletes an
empty one.

    test_group_cli.py <tributary-broker> <tributary>"""
import json
import subprocess
import sys

import confluent_kafka as ck

import grouplib
from grouplib import check, consumer

CLI = sys.argv.pop(2) if len(sys.argv) > 2 else None
PARTS = 3


def cli(bs, *args):
    r = subprocess.run([CLI, "-b", bs, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def main(binary, workdir):
    check(CLI is not None, "usage: test_group_cli.py <tributary-broker> <tributary>")
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    bs = b.bootstrap
    topic = "lagged"
    grouplib.create_topic(bs, topic, PARTS)
    grouplib.produce(bs, topic, [f"v{i}" for i in range(300)], PARTS)  # 100 per partition
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-lag", "enable.auto.commit": False})
    c.commit(offsets=[ck.TopicPartition(topic, 0, 100), ck.TopicPartition(topic, 1, 30)], asynchronous=False)
    c.close()

    rc, out, err = cli(bs, "group", "list", "--json")
    check(rc == 0, f"group list: {rc} {err}")
    groups = {g["group"]: g for g in json.loads(out)}
    # Partitions with a commit (or a member) count: 0 + 70 (partition 2 is not the group's).
    check(groups["g-lag"]["lag"] == 70, f"group list lag: {groups['g-lag']}")
    check(groups["g-lag"]["state"] == "Empty", f"group list state: {groups['g-lag']}")
    rc, out, err = cli(bs, "group", "list")
    check(rc == 0 and "g-lag" in out and "70" in out, f"group list text: {out} {err}")

    rc, out, err = cli(bs, "group", "describe", "g-lag", "--json")
    check(rc == 0, f"group describe: {rc} {err}")
    d = json.loads(out)
    lags = {p["partition"]: (p["committed"], p["high_watermark"], p["lag"]) for p in d["partitions"]}
    check(lags == {0: (100, 100, 0), 1: (30, 100, 70)}, f"describe partitions: {lags}")
    metrics = b.metrics()
    for p, lag in ((0, 0), (1, 70)):
        got = grouplib.brokerlib.metric_value(metrics, "tributary_group_lag",
                                              {"group": "g-lag", "topic": topic, "partition": str(p)})
        check(got == lag, f"/metrics lag of partition {p}: {got}")

    m = consumer("confluent", bs, "g-live", topic, "m0")
    grouplib.wait_balanced([m], PARTS, 30, "one member settles")
    grouplib.wait_for(lambda: len(m.records()) == 300, 30, "the member reads everything")
    rc, out, err = cli(bs, "group", "describe", "g-live")
    check(rc == 0, f"describe g-live: {rc} {err}")
    check("state Stable" in out and "members 1" in out, f"describe g-live: {out}")
    check(out.count("/127.0.0.1") == 1, f"describe g-live members: {out}")
    rc, out, err = cli(bs, "group", "delete", "g-live")
    check(rc == 1 and "NON_EMPTY_GROUP" in err, f"delete a group with members: {rc} {out} {err}")
    m.stop()
    rc, out, err = cli(bs, "group", "delete", "g-live", "g-lag")
    check(rc == 0 and "deleted group g-live" in out and "deleted group g-lag" in out, f"delete: {rc} {out} {err}")
    rc, out, err = cli(bs, "group", "list", "--json")
    check(rc == 0 and json.loads(out) == [], f"groups after delete: {out}")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
