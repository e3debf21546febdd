"""The controller quorum (Raft group 0) over real processes: three seeds elect a leader and every node
registers; a fourth node, not a seed, joins as a learner and learns the metadata; the leader killed
-9 is replaced, the metadata survives, the killed node comes back as a follower; a clean stop and
start of every node keeps the nodes and the log; a node of another cluster is refused; a bad
cluster.seeds is an error naming the key."""
import json
import subprocess
import sys
import time

import clusterlib  # first: puts tests/integration/broker on the path
from clusterlib import brokerlib, check


def main(binary, workdir):
    c = clusterlib.cluster(binary, workdir, nodes=4, seeds=3)
    c.start()
    leader = c.wait_leader(registered=4)
    check(leader in (1, 2, 3), f"a seed leads, not {leader}")
    s4 = c.status(4)
    check(s4["controller"]["voters"] == [1, 2, 3], f"voters: {s4['controller']}")
    check(s4["controller"]["learners"] == [4], f"node 4 joins as a learner: {s4['controller']}")
    check(all(n["connected"] for n in c.status(leader)["nodes"]), "the leader is connected to every node")
    term = c.status(leader)["controller"]["term"]

    # The admin CLI shows the same, from any node.
    cli = sys.argv[2]
    r = subprocess.run([cli, "cluster", "status", "--admin", f"127.0.0.1:{c.nodes[4].http_port}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and f"controller: leader {leader} term {term}" in r.stdout
          and "learners: 4" in r.stdout and r.stdout.count(" up") == 4, f"cluster status: {r.stdout!r} {r.stderr!r}")
    r = subprocess.run([cli, "cluster", "status", "--json", "--admin", f"127.0.0.1:{c.nodes[1].http_port}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and json.loads(r.stdout)["controller"]["leader"] == leader, f"--json: {r.stdout!r}")
    r = subprocess.run([cli, "cluster", "status", "--timeout-ms", "2000", "--admin",
                        f"127.0.0.1:{clusterlib.free_port()}"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 3 and "cannot connect" in r.stderr, f"no node there: {r.returncode} {r.stderr!r}")

    # kill -9 the leader: the other seeds elect another one, every survivor agrees.
    c.nodes[leader].kill()
    t0 = time.monotonic()
    new_leader = c.wait_leader(registered=4)
    took = time.monotonic() - t0
    check(new_leader != leader, "a new leader")
    check(c.status(new_leader)["controller"]["term"] > term, "in a later term")
    print(f"controller failover: {took:.2f}s (election timeout 1-2 s)")
    # The old leader restarts: it follows the new one and catches up.
    c.nodes[leader].start()
    c.wait_leader(registered=4)
    lead_commit = c.status(new_leader)["controller"]["commit_index"]
    brokerlib.wait_for(lambda: c.status(leader)["controller"]["commit_index"] >= lead_commit, 20,
                       "the restarted node to catch up")
    check(c.status(leader)["controller"]["role"] == "follower", "the restarted node follows")

    # A clean stop of every node (exit 0), then a start: the same nodes, the log continues.
    for i in c.running():
        rc, _ = c.nodes[i].stop()
        check(rc == 0, f"node {i} exits 0 on SIGTERM, not {rc}")
    c.start()
    after = c.wait_leader(registered=4)
    st = c.status(after)
    check(st["controller"]["commit_index"] >= lead_commit, f"the log survived: {st['controller']}")
    check(sorted(n["node_id"] for n in st["nodes"]) == [1, 2, 3, 4], "the same nodes")

    # A node of another cluster is refused at the handshake and never joins.
    other = brokerlib.broker(binary, workdir, ["--node-id", "9", "--set", f"cluster.seeds={c.seed_list}",
                                               "--set", f"cluster.listen=127.0.0.1:{clusterlib.free_port()}",
                                               "--set", "cluster.id=another"], name="stranger")
    other.start()
    brokerlib.wait_for(lambda: "hello_refused" in c.nodes[1].log_text() + c.nodes[2].log_text()
                       + c.nodes[3].log_text(), 20, "the seeds to refuse the stranger")
    time.sleep(1)
    check(len(c.status(after)["nodes"]) == 4, "the stranger did not register")
    other.stop()

    # Bad seeds: an error naming the key, exit 2, before anything starts.
    for seeds, words in [("1@127.0.0.1:1,2@127.0.0.1:2", "1, 3 or 5"), ("x@127.0.0.1:1", "cluster.seeds"),
                         ("1@nohost", "host:port")]:
        r = subprocess.run([binary, "--node-id", "1", "--data-dir", f"{workdir}/bad",
                            "--set", f"cluster.seeds={seeds}"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "cluster.seeds" in r.stderr and words in r.stderr,
              f"bad seeds {seeds!r}: exit {r.returncode}, {r.stderr!r}")
    r = subprocess.run([binary, "--data-dir", f"{workdir}/bad", "--set", f"cluster.seeds={c.seed_list}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "node_id" in r.stderr, f"node id 0 in a cluster: {r.stderr!r}")

    for i in c.running():
        c.nodes[i].stop()


if __name__ == "__main__":
    brokerlib.run_test(main)
