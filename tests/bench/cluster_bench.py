"""Three tributary-broker nodes on this machine (127.0.0.1, temp data directories): throughput and
produce latency of 1 KiB records with acks=all at replication factor 3 against the same run at
replication factor 1 (kafka_load, librdkafka, side by side in one run, at saturation and with
1,000 records in flight), then the failover time over
10 kills: the leader of a replication-factor-3 partition is killed -9 while a producer sends one
acks=all record at a time; failover = kill -> the first record produced after it acknowledged. Each
victim is restarted and the cluster settles (leaders back on their preferred replicas) before the
next kill. Figures only; nothing is asserted. Run by cluster_bench.sh (which builds release)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "cluster"))
import clusterlib  # noqa: E402
from clusterlib import brokerlib  # noqa: E402


def create_topic(bootstrap, topic, partitions, rf):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _, f in admin.create_topics([NewTopic(topic, partitions, rf)], request_timeout=15).items():
        f.result(timeout=15)


def load(kafka_load, bootstrap, topic, rf, records, size, window):
    out = subprocess.run([kafka_load, "produce", "--bootstrap", bootstrap, "--topic", topic, "--records",
                          str(records), "--size", str(size), "--acks", "all", "--partitions", "3",
                          "--replication-factor", str(rf), "--timeout-s", "300", "--window", str(window)],
                         capture_output=True, text=True, timeout=330)
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr.strip()
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def failovers(c, kills):
    from confluent_kafka import Producer
    bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
    create_topic(bootstrap, "failover", 1, 3)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 0, "message.timeout.ms": 60000, "retry.backoff.ms": 20})
    times = []
    for k in range(kills):
        c.wait_serving("failover", 1, timeout_s=60, preferred=True)
        producer.produce("failover", b"warm")
        producer.flush(30)
        victim = c.serving_leader("failover", 0)
        c.nodes[victim].kill()
        t0 = time.monotonic()
        ok = []
        while not ok:
            producer.produce("failover", f"after-kill-{k}".encode(),
                             on_delivery=lambda err, msg: ok.append(err is None))
            producer.flush(30)
            if time.monotonic() - t0 > 60:
                raise RuntimeError("no successful produce within 60 s of the kill")
        times.append(time.monotonic() - t0)
        print(f"kill {k + 1}: node {victim}, first acknowledged produce after {times[-1]:.2f}s", flush=True)
        c.nodes[victim].start()
    return times


def main():
    binary, kafka_load = sys.argv[1], sys.argv[2]
    records = int(os.environ.get("BENCH_RECORDS", "100000"))
    kills = int(os.environ.get("BENCH_KILLS", "10"))
    workdir = tempfile.mkdtemp(prefix="trib-cluster-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    c = clusterlib.cluster(binary, workdir, nodes=3, seeds=3)
    try:
        c.start()
        c.wait_leader(registered=3)
        bootstrap = ",".join(n.bootstrap for n in c.nodes.values())
        print(f"three nodes, 1 KiB records, acks=all, 3 partitions, {records} records per run", flush=True)
        # Throughput: as fast as the client can push (100,000 records may wait in the client, so the
        # latency then is mostly queueing); latency: at most 1,000 records in flight.
        for what, window in (("throughput", 100000), ("latency", 1000)):
            for rep in range(2):
                for rf in (3, 1):
                    # Measured once every partition is led by its preferred replica: before, leadership
                    # moves (a second or two of NOT_LEADER_OR_FOLLOWER and retries).
                    topic = f"bench-{what}-rf{rf}-{rep}"
                    create_topic(bootstrap, topic, 3, rf)
                    c.wait_serving(topic, 3, timeout_s=60, preferred=True)
                    time.sleep(1)
                    r = load(kafka_load, bootstrap, topic, rf, records, 1024, window)
                    print(f"{what} rf={rf} run={rep + 1} window={window} records_per_s={r.get('records_per_s')} "
                          f"mb_per_s={r.get('mb_per_s')} p50_ms={r.get('latency_ms_p50')} "
                          f"p99_ms={r.get('latency_ms_p99')} complete={r.get('complete')}", flush=True)
        times = failovers(c, kills)
        print(f"failover over {len(times)} kills: p50={statistics.median(times):.2f}s max={max(times):.2f}s "
              f"(election timeout 1-2 s: cluster.tick_ms=100 x cluster.election_ticks=10..20)")
    finally:
        for n in c.nodes.values():
            n.kill()
        subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    main()
