"""SIGTERM and observability. /health answers 200 with the node id and partition count; /metrics has the
per-API request counters and latency histograms, bytes and records in and out per topic-partition, the
connection gauge, log sizes and the group-commit counters. On SIGTERM a Fetch parked in a long poll
(max_wait 30 s) is answered at once, the connection is closed after that answer, and the broker exits
0 well within the bound."""
import struct
import subprocess
import time

import brokerlib
from brokerlib import check, raw_client, request_frame

EXIT_BOUND_S = 10


def fetch_v4_body(topic, partition, offset, max_wait_ms):
    return (struct.pack(">iiiib", -1, max_wait_ms, 1, 1 << 20, 0) + struct.pack(">i", 1) + brokerlib.kstring(topic) +
            struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, 1 << 20))


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir).start()
    lines = "\n".join(f"k{i}:v{i}" for i in range(30)) + "\n"
    r = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", "observed", "-K:"], input=lines, text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 0, f"kcat -P: {r.stderr}")
    r = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "observed", "-o", "beginning", "-e"], text=True,
                       capture_output=True, timeout=30)
    check(len(r.stdout.splitlines()) == 30, f"kcat -C: {r.stdout!r}")

    status, health = b.health()
    check(status == 200 and health == {"status": "ok", "node_id": 0, "partitions": 1}, f"/health {status} {health}")

    m = b.metrics()
    for api in ("ApiVersions", "Metadata", "Produce", "Fetch", "ListOffsets"):
        v = brokerlib.metric_value(m, "tributary_kafka_requests_total", {"api": api})
        check(v is not None and v >= 1, f"requests_total{{api={api}}} = {v}")
        v = brokerlib.metric_value(m, "tributary_kafka_request_seconds_count", {"api": api})
        check(v is not None and v >= 1, f"request_seconds_count{{api={api}}} = {v}")
    part = {"topic": "observed", "partition": "0"}
    check(brokerlib.metric_value(m, "tributary_partition_records_in_total", part) == 30, "records in")
    check(brokerlib.metric_value(m, "tributary_partition_records_out_total", part) >= 30, "records out")
    bytes_in = brokerlib.metric_value(m, "tributary_partition_bytes_in_total", part)
    check(bytes_in and bytes_in > 0, f"bytes in {bytes_in}")
    check(brokerlib.metric_value(m, "tributary_partition_bytes_out_total", part) >= bytes_in, "bytes out")
    check(brokerlib.metric_value(m, "tributary_partition_log_bytes", part) == bytes_in, "log bytes")
    check(brokerlib.metric_value(m, "tributary_fsync_rounds_total") >= 1, "fsync rounds")
    check(brokerlib.metric_value(m, "tributary_fsync_round_seconds_count") >= 1, "fsync latency histogram")
    check(brokerlib.metric_value(m, "tributary_kafka_connections") is not None, "connections gauge")

    # A long poll in flight, then SIGTERM.
    c = raw_client(b.kafka_port, timeout_s=EXIT_BOUND_S)
    c.send(request_frame(1, 4, 77, fetch_v4_body("observed", 0, 30, 30000)))
    time.sleep(0.5)
    m = b.metrics()
    check(brokerlib.metric_value(m, "tributary_kafka_connections") >= 1, "the raw connection is counted")
    check(brokerlib.metric_value(m, "tributary_waiting_requests") == 1, "the fetch is parked")
    t0 = time.monotonic()
    b.proc.send_signal(brokerlib.signal.SIGTERM)
    r = c.recv_frame()
    check(r is not None and r[0] == 77, f"the parked fetch is answered on shutdown: {r}")
    check(time.monotonic() - t0 < EXIT_BOUND_S, "answered within the bound")
    check(c.closed_by_peer(EXIT_BOUND_S), "connection closed after the answer")
    c.close()
    rc = b.proc.wait(timeout=EXIT_BOUND_S)
    took = time.monotonic() - t0
    b.proc = None
    check(rc == 0, f"exit code {rc}")
    check(took < EXIT_BOUND_S, f"exit took {took:.1f}s")
    log = b.log_text()
    check("shutting_down" in log and "partitions_closed" in log and "stopped" in log, "shutdown is logged")


if __name__ == "__main__":
    brokerlib.run_test(main)
