"""Partitions as Raft groups across three real processes: a topic created with confluent-kafka's
AdminClient (any node; the controller places it) becomes one Raft group per partition over its three
replicas, with preferred leaders spread evenly (two per node); kill -9 of a node moves its
leaderships to the others; when it comes back, leadership returns to the preferred replicas; a stop
and start of every node brings back the same partitions, and placement over four nodes at replication
factor 2 gives every node its share. (Produce and Fetch through the groups come in a later step.)"""
import time

from confluent_kafka.admin import AdminClient, NewTopic

import clusterlib  # first: puts tests/integration/broker on the path
from clusterlib import brokerlib, check


def partitions(c, node):
    s = c.status(node)
    return {p["partition"]: p for p in s["partitions"]} if s else {}


def leaders_settled(c, want_count):
    """{partition: leader} when every running node hosts want_count partitions and all agree on a live
    leader for each; else None."""
    views = [partitions(c, i) for i in c.running()]
    if any(len(v) != want_count for v in views):
        return None
    out = {}
    for p in range(want_count):
        named = {v[p]["leader"] for v in views}
        if len(named) != 1:
            return None
        lead = named.pop()
        if lead == 0 or not c.nodes[lead].alive():
            return None
        out[p] = lead
    return out


def wait_leaders(c, want_count, predicate=lambda m: True, timeout_s=30, what="leaders"):
    found = []

    def probe():
        m = leaders_settled(c, want_count)
        if m is not None and predicate(m):
            found.append(m)
            return True
        return False
    brokerlib.wait_for(probe, timeout_s, what)
    return found[-1]


def main(binary, workdir):
    c = clusterlib.cluster(binary, workdir, nodes=3, seeds=3)
    c.start()
    c.wait_leader(registered=3)
    admin = AdminClient({"bootstrap.servers": c.nodes[2].bootstrap})
    for topic, f in admin.create_topics([NewTopic("readings", 6, -1)], request_timeout=15).items():
        f.result(timeout=15)

    preferred = {}
    brokerlib.wait_for(lambda: len(partitions(c, 1)) == 6, 20, "node 1 to host the 6 partitions")
    for p, info in partitions(c, 1).items():
        check(sorted(info["replicas"]) == [1, 2, 3], f"partition {p} on all three nodes: {info}")
        preferred[p] = info["replicas"][0]
    check(sorted(preferred.values()) == [1, 1, 2, 2, 3, 3], f"preferred leaders spread: {preferred}")
    m = wait_leaders(c, 6, lambda m: m == preferred, what="every partition led by its preferred replica")

    # kill -9 a node: its partitions get a new leader among the other two.
    victim = 1
    led = [p for p, lead in m.items() if lead == victim]
    c.nodes[victim].kill()
    t0 = time.monotonic()
    m = wait_leaders(c, 6, lambda m: all(m[p] != victim for p in led), what="new leaders for the victim's partitions")
    print(f"partition failover: {time.monotonic() - t0:.2f}s for {len(led)} partitions")

    # It comes back: leadership returns to the preferred replicas.
    c.nodes[victim].start()
    t0 = time.monotonic()
    wait_leaders(c, 6, lambda m: m == preferred, timeout_s=40, what="leadership back on the preferred replicas")
    print(f"back to preferred leaders: {time.monotonic() - t0:.2f}s")

    # Every node stopped (exit 0) and started: the same partitions and groups come back.
    terms = {p: info["term"] for p, info in partitions(c, 2).items()}
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0, not {rc}")
    c.start()
    m = wait_leaders(c, 6, what="the partitions after a restart of every node")
    for p, info in partitions(c, 2).items():
        check(info["term"] >= terms[p], f"partition {p}: the term went back ({info['term']} < {terms[p]})")
    for i in c.running():
        c.nodes[i].stop()

    # Four nodes, replication factor 2: every node holds its share.
    c4 = clusterlib.cluster(binary, workdir + "/four", nodes=4, seeds=3)
    c4.start()
    c4.wait_leader(registered=4)
    admin = AdminClient({"bootstrap.servers": c4.nodes[4].bootstrap})
    for topic, f in admin.create_topics([NewTopic("spread", 8, 2)], request_timeout=15).items():
        f.result(timeout=15)
    brokerlib.wait_for(lambda: all(len(partitions(c4, i)) == 4 for i in range(1, 5)), 30,
                       "each of the four nodes to host 4 of the 8 replicas pairs (16 replicas / 4)")
    for i in c4.running():
        c4.nodes[i].stop()


if __name__ == "__main__":
    brokerlib.run_test(main)
