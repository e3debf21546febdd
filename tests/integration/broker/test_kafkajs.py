"""kafkajs 2.2.4 (npm) against tributary-broker: kafkajs_client.js runs the admin client (createTopics,
fetchTopicMetadata, fetchTopicOffsets, fetchTopicOffsetsByTimestamp, listTopics), three producers
(default acks -1; idempotent; GZIP with acks 1) and reads everything back twice: with kafkajs's Fetch
request and decoder, and with a kafkajs consumer in a consumer group. Here every acknowledged record is
checked at its offset in both, and again with confluent-kafka (assign, no group): same keys, values and
headers, offsets gap-free.

kafkajs is installed with npm into a folder of this test's own (--npm-dir, reused when it already holds
2.2.4). No node/npm, or an npm install that fails (no network): exit 77, CTest's SKIP."""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import confluent_kafka as ck

import brokerlib
from brokerlib import check

KAFKAJS = "2.2.4"
HERE = os.path.dirname(os.path.abspath(__file__))
PARTITIONS = 3
PER_PRODUCER = 400
SEND_BATCH = 50  # kafkajs_client.js sends this many records per send()


def npm_dir_arg():
    for i, a in enumerate(sys.argv):
        if a == "--npm-dir" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return os.path.join(tempfile.gettempdir(), f"trib-kafkajs-{KAFKAJS}")


def install_kafkajs(npm_dir):
    """The node_modules folder holding kafkajs KAFKAJS, or exits with SKIP saying why."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not found on PATH")
            sys.exit(brokerlib.SKIP)
    os.makedirs(npm_dir, exist_ok=True)
    pkg = os.path.join(npm_dir, "node_modules", "kafkajs", "package.json")
    with open(os.path.join(npm_dir, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs sharing the folder install once
        try:
            with open(pkg) as f:
                if json.load(f).get("version") == KAFKAJS:
                    return os.path.join(npm_dir, "node_modules")
        except (OSError, ValueError):
            pass
        try:
            r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", npm_dir,
                                f"kafkajs@{KAFKAJS}"], capture_output=True, text=True, timeout=180)
            ok, why = r.returncode == 0, r.stderr.strip()[-1500:]
        except subprocess.TimeoutExpired:
            ok, why = False, "npm install took longer than 180 s"
        if not ok or not os.path.exists(pkg):
            print(f"SKIP: npm install kafkajs@{KAFKAJS} into {npm_dir} failed (no network?): {why}")
            sys.exit(brokerlib.SKIP)
    return os.path.join(npm_dir, "node_modules")


def expected_records():
    """{(tag, i): (key, value, headers)} exactly as kafkajs_client.js builds them."""
    out = {}
    for tag in ("plain", "idem", "gzip"):
        for i in range(PER_PRODUCER):
            value = f"{tag}-value-{i}-".ljust(40 + i % 50, "x").encode()
            out[(tag, i)] = (f"{tag}-key-{i}".encode(), value, {"tag": tag, "seq": str(i)})
    return out


def expected_at_offsets(acks):
    """{(partition, offset): (tag, i)} from the acknowledgements: one per partition per send(), whose
    records are that send's records of that partition, in order, from its base offset."""
    at = {}
    for a in acks:
        p, base = a["partition"], a["base_offset"]
        mine = [i for i in range(a["from"], min(a["from"] + SEND_BATCH, PER_PRODUCER)) if i % PARTITIONS == p]
        for k, i in enumerate(mine):
            check((p, base + k) not in at, f"offset {p}/{base + k} acknowledged twice")
            at[(p, base + k)] = (a["tag"], i)
    return at


def main(binary, workdir):
    node_modules = install_kafkajs(npm_dir_arg())
    b = brokerlib.broker(binary, workdir).start()
    topic = "kjs"
    env = dict(os.environ, NODE_PATH=node_modules, KAFKAJS_NO_PARTITIONER_WARNING="1")
    r = subprocess.run(["node", os.path.join(HERE, "kafkajs_client.js"), b.bootstrap, topic, str(PARTITIONS),
                        str(PER_PRODUCER)], capture_output=True, text=True, timeout=120, env=env)
    check(r.returncode == 0, f"kafkajs_client.js exit {r.returncode}: {r.stderr[-3000:]}")
    out = json.loads(r.stdout)

    want = expected_records()
    at = expected_at_offsets(out["acks"])
    check(len(at) == len(want), f"{len(at)} records acknowledged of {len(want)}")
    ends = {o["partition"]: int(o["high"]) for o in out["offsets"]}
    for p in range(PARTITIONS):
        check(sorted(o for q, o in at if q == p) == list(range(ends[p])), f"partition {p}: offsets not gap-free")
    check(all(o["offset"] == "0" for o in out["by_ts"]), f"fetchTopicOffsetsByTimestamp {out['by_ts']}")

    # What kafkajs read back.
    got = {}
    for m in out["records"]:
        got[(m["partition"], m["offset"])] = (base64.b64decode(m["key"]), base64.b64decode(m["value"]), m["headers"])
    check(set(got) == set(at), f"kafkajs read {len(got)} records, {len(set(got) ^ set(at))} differ from acknowledged")
    for po, ti in at.items():
        check(got[po] == want[ti], f"kafkajs read at {po}: {got[po]} != {want[ti]}")

    # What a kafkajs consumer group read: every record once (one member, no rebalance), same bytes.
    group = {}
    for m in out["group_records"]:
        po = (m["partition"], m["offset"])
        check(po not in group, f"kafkajs consumer group read {po} twice")
        group[po] = (base64.b64decode(m["key"]), base64.b64decode(m["value"]), m["headers"])
    check(set(group) == set(at), f"kafkajs consumer group read {len(group)} of {len(at)} records")
    for po, ti in at.items():
        check(group[po] == want[ti], f"kafkajs consumer group read at {po}: {group[po]} != {want[ti]}")

    # The same bytes through librdkafka.
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    seen = {}
    deadline = time.monotonic() + 30
    while len(seen) < len(at) and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen[(m.partition(), m.offset())] = (m.key(), m.value(), {k: v.decode() for k, v in m.headers() or []})
    c.close()
    check(set(seen) == set(at), f"confluent-kafka read {len(seen)} of {len(at)}")
    for po, ti in at.items():
        check(seen[po] == want[ti], f"confluent-kafka read at {po}: {seen[po]} != {want[ti]}")
    print(f"kafkajs {KAFKAJS}: {len(at)} records produced (acks -1, idempotent, gzip), read back by kafkajs "
          f"Fetch, a kafkajs consumer group and confluent-kafka; admin create/metadata/offsets/offsets-by-time ok")

    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
