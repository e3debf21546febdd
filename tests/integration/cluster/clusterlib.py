"""Helpers for the cluster tests: N tributary-broker processes on 127.0.0.1 (free Kafka, HTTP and
cluster RPC ports, their own data directories), the first `seeds` of them the controller quorum.
Built on tests/integration/broker/brokerlib.py (processes stopped by pid, every wait bounded)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "broker"))
import brokerlib  # noqa: E402
from brokerlib import check, free_port, http_get, wait_for  # noqa: E402,F401


class cluster:
    def __init__(self, binary, workdir, nodes=3, seeds=3, extra_args=()):
        os.makedirs(workdir, exist_ok=True)
        self.rpc_ports = {i: free_port() for i in range(1, nodes + 1)}
        self.seed_list = ",".join(f"{i}@127.0.0.1:{self.rpc_ports[i]}" for i in range(1, seeds + 1))
        self.nodes = {}
        for i in range(1, nodes + 1):
            args = ["--node-id", str(i), "--set", f"cluster.seeds={self.seed_list}",
                    "--set", f"cluster.listen=127.0.0.1:{self.rpc_ports[i]}"] + list(extra_args)
            self.nodes[i] = brokerlib.broker(binary, workdir, args, name=f"node{i}")

    def start(self, ids=None):
        for i in ids or self.nodes:
            self.nodes[i].start()
        return self

    def status(self, i):
        """/v1/cluster of node i, or None when it does not answer."""
        code, body = http_get(self.nodes[i].http_port, "/v1/cluster", timeout_s=2)
        if code != 200:
            return None
        return json.loads(body)

    def running(self):
        return [i for i, n in self.nodes.items() if n.alive()]

    def agreed_leader(self, ids=None, registered=None):
        """The controller leader every running node (or `ids`) names, when they all name the same one
        and (if given) know `registered` nodes; else None."""
        leaders = set()
        for i in ids or self.running():
            s = self.status(i)
            if s is None or s["controller"]["leader"] == 0:
                return None
            if registered is not None and len(s["nodes"]) != registered:
                return None
            leaders.add(s["controller"]["leader"])
        if len(leaders) != 1:
            return None
        lead = leaders.pop()
        return lead if self.nodes[lead].alive() else None  # not a killed leader whose lease lingers

    def wait_leader(self, timeout_s=30, ids=None, registered=None):
        found = []

        def probe():
            lead = self.agreed_leader(ids, registered)
            if lead:
                found.append(lead)
            return bool(lead)
        wait_for(probe, timeout_s, f"the nodes to agree on a controller leader ({registered} nodes)")
        return found[-1]

    def partitions(self, i, topic=None):
        """{(topic, partition): status} of the replicas node i hosts ({} when it does not answer)."""
        s = self.status(i)
        if s is None:
            return {}
        return {(p["topic"], p["partition"]): p for p in s["partitions"] if topic is None or p["topic"] == topic}

    def serving_leader(self, topic, partition):
        """The live node that leads and serves (topic, partition), by its own account; else None."""
        for i in self.running():
            p = self.partitions(i, topic).get((topic, partition))
            if p and p["role"] == "leader" and p["serving"]:
                return i
        return None

    def wait_serving(self, topic, partitions, timeout_s=30, preferred=False):
        """{partition: leader} once every partition of `topic` has a serving leader (its preferred
        replica, the first one placed, when `preferred`)."""
        found = {}

        def probe():
            for p in range(partitions):
                lead = self.serving_leader(topic, p)
                if lead is None:
                    return False
                if preferred and self.partitions(lead, topic)[(topic, p)]["replicas"][0] != lead:
                    return False
                found[p] = lead
            return True
        wait_for(probe, timeout_s, f"a serving leader for each of {topic}'s {partitions} partitions")
        return dict(found)


def high_watermarks(consumer, topic, partitions, timeout_s=30):
    """{partition: high watermark} through a confluent-kafka consumer, each asked again while a
    leader just elected is not in every node's Metadata yet."""
    from confluent_kafka import KafkaException, TopicPartition
    ends = {}
    for p in range(partitions):
        def probe():
            try:
                ends[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                return True
            except KafkaException:
                return False
        wait_for(probe, timeout_s, f"the high watermark of {topic}-{p}", interval_s=0.5)
    return ends
