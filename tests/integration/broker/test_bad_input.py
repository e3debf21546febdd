"""Bad input stays with the client that sent it. Raw sockets send: (a) random bytes, (b) a frame length
over kafka.max_request_bytes, (c) a truncated request, (d) an unknown API key and a version beyond
what the broker can decode (each: that connection is closed), an ApiVersions version we do not know
(the v0 fallback answer with UNSUPPORTED_VERSION and our range), an API we do not implement and a
Produce version we do not advertise (UNSUPPORTED_VERSION in the answer), (e) a Produce batch with a bad
CRC (CORRUPT_MESSAGE), (f) a Produce to an unknown partition (UNKNOWN_TOPIC_OR_PARTITION), plus the
RecordBatch v2 rules (one batch, magic 2, no control batches: INVALID_RECORD) and acks=0 failures
(connection closed, as Kafka does). Pipelined requests are answered in order. Meanwhile a
confluent-kafka producer on its own connection keeps getting every message acknowledged; at the end
the broker is alive and /health is 200."""
import struct
import subprocess
import threading
import time

import confluent_kafka as ck

import brokerlib
from brokerlib import check, raw_client, record_batch, request_frame

MAX_REQUEST = 65536
CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION, UNSUPPORTED_VERSION, INVALID_RECORD = 2, 3, 35, 87


class background_producer:
    def __init__(self, bs):
        self.errors, self.acked = [], 0
        self.stop_flag = threading.Event()
        self.p = ck.Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 1})
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def on_delivery(self, err, msg):
        if err:
            self.errors.append(err)
        else:
            self.acked += 1

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            self.p.produce("steady", value=f"m{i}", on_delivery=self.on_delivery)
            self.p.poll(0.005)
            i += 1
        self.p.flush(30)

    def stop(self):
        self.stop_flag.set()
        self.t.join(60)
        return self.acked, self.errors


def produce(port, batch, topic="raw", partition=0, acks=1, version=3, corr=7):
    c = raw_client(port)
    c.send(request_frame(0, version, corr, brokerlib.produce_v3_body(topic, partition, batch, acks=acks,
                                                                     version=version)))
    return c


def produce_error(port, batch, **kw):
    c = produce(port, batch, **kw)
    r = c.recv_frame()
    c.close()
    check(r is not None, f"no answer to produce {kw}")
    corr, body = r
    check(corr == kw.get("corr", 7), f"correlation id {corr}")
    parts = brokerlib.parse_produce_v3_response(body)
    check(len(parts) == 1, f"answer {parts}")
    return parts[0][2], parts[0][3]


def expect_closed(port, data, what):
    c = raw_client(port)
    c.send(data)
    check(c.closed_by_peer(10), f"{what}: the connection should be closed")
    c.close()


def main(binary, workdir):
    b = brokerlib.broker(binary, workdir, ["--set", f"kafka.max_request_bytes={MAX_REQUEST}"]).start()
    port = b.kafka_port
    bg = background_producer(b.bootstrap)
    time.sleep(0.5)

    # A valid produce first: the topic exists from here on (auto-created, one partition).
    err, base = produce_error(port, record_batch([b"hello", b"world"]))
    check((err, base) == (0, 0), f"valid produce: error {err} base {base}")

    # (a) random bytes: garbage prefixes, and well-sized frames of garbage (closed, or answered if they
    # happen to decode: never a crash).
    for seed in range(20):
        expect_closed(port, brokerlib.random_bytes(1000, seed), f"random bytes seed {seed}")
    for seed in range(100, 140):
        junk = brokerlib.random_bytes(200, seed)
        c = raw_client(port)
        c.send(struct.pack(">i", len(junk)) + junk)
        c.closed_by_peer(5)  # closed or answered; either is fine
        c.close()

    # (b) a frame length over the maximum: refused as soon as the length is read.
    expect_closed(port, struct.pack(">i", MAX_REQUEST + 1) + b"\0" * 100, "frame over kafka.max_request_bytes")
    expect_closed(port, struct.pack(">i", -5), "negative frame length")

    # (c) a truncated request: Metadata v1 announcing 5 topics and holding one.
    body = struct.pack(">i", 5) + brokerlib.kstring("only-one")
    expect_closed(port, request_frame(3, 1, 1, body), "truncated Metadata")
    # ... and a Produce whose records length runs past the frame.
    bad = bytearray(request_frame(0, 3, 1, brokerlib.produce_v3_body("raw", 0, record_batch([b"x"]))))
    bad = bad[:-10]
    bad[0:4] = struct.pack(">i", len(bad) - 4)
    expect_closed(port, bytes(bad), "truncated Produce")

    # (d) an unknown API key, a version beyond the codec.
    expect_closed(port, request_frame(999, 0, 1, b""), "unknown api key 999")
    expect_closed(port, request_frame(3, 99, 1, b""), "Metadata v99")
    # ApiVersions of an unknown version: the v0 fallback.
    c = raw_client(port)
    c.send(request_frame(18, 77, 41, b"whatever"))
    corr, body = c.recv_frame()
    err, n = struct.unpack_from(">hi", body, 0)
    entries = [struct.unpack_from(">hhh", body, 6 + 6 * i) for i in range(n)]
    check(corr == 41 and err == UNSUPPORTED_VERSION and entries == [(18, 0, 3)], f"fallback {corr} {err} {entries}")
    # The connection stays usable: ApiVersions v0 now.
    c.send(request_frame(18, 0, 42, b""))
    corr, body = c.recv_frame()
    err, n = struct.unpack_from(">hi", body, 0)
    keys = {struct.unpack_from(">hhh", body, 6 + 6 * i)[0]: struct.unpack_from(">hhh", body, 6 + 6 * i)[1:]
            for i in range(n)}
    check(corr == 42 and err == 0 and keys.get(0) == (3, 9) and keys.get(1) == (4, 12) and 17 not in keys,
          f"ApiVersions v0: {keys}")
    # An API we do not implement (SaslHandshake v1): UNSUPPORTED_VERSION, connection kept.
    c.send(request_frame(17, 1, 43, brokerlib.kstring("PLAIN")))
    corr, body = c.recv_frame()
    (err,) = struct.unpack_from(">h", body, 0)
    check(corr == 43 and err == UNSUPPORTED_VERSION, f"SaslHandshake: {corr} {err}")
    c.close()
    # Produce v2 (described, not advertised: magic 2 needs v3+): UNSUPPORTED_VERSION per partition.
    err, _ = produce_error(port, record_batch([b"v2"]), version=2)
    check(err == UNSUPPORTED_VERSION, f"Produce v2: error {err}")

    # (e) a bad CRC: CORRUPT_MESSAGE.
    batch = bytearray(record_batch([b"payload-to-corrupt"]))
    batch[-3] ^= 0xFF
    err, base = produce_error(port, bytes(batch))
    check(err == CORRUPT_MESSAGE and base == -1, f"bad CRC: error {err}")

    # (f) an unknown partition: UNKNOWN_TOPIC_OR_PARTITION.
    err, _ = produce_error(port, record_batch([b"x"]), partition=7)
    check(err == UNKNOWN_TOPIC_OR_PARTITION, f"unknown partition: error {err}")

    # RecordBatch v2 rules: two batches, magic 1, a control batch.
    err, _ = produce_error(port, record_batch([b"a"]) + record_batch([b"b"]))
    check(err == INVALID_RECORD, f"two batches: error {err}")
    err, _ = produce_error(port, record_batch([b"a"], magic=1))
    check(err == INVALID_RECORD, f"magic 1: error {err}")
    err, _ = produce_error(port, record_batch([b"\x00\x00\x00\x00"], attributes=0x20))
    check(err == INVALID_RECORD, f"control batch: error {err}")

    # acks=0: no answer when it works; the connection closes when it fails (Kafka's way to tell).
    c = produce(port, record_batch([b"fire and forget"]), acks=0)
    c.send(request_frame(18, 0, 8, b""))  # the next answer is the ApiVersions one
    corr, _ = c.recv_frame()
    check(corr == 8, f"acks=0 produce must not be answered (got correlation id {corr})")
    c.close()
    c = produce(port, record_batch([b"x"]), partition=9, acks=0)
    check(c.closed_by_peer(10), "acks=0 to an unknown partition closes the connection")
    c.close()

    # Pipelining: three requests in one write, answers in order.
    c = raw_client(port)
    c.send(request_frame(18, 0, 100, b"") + request_frame(3, 1, 101, struct.pack(">i", -1)) +
           request_frame(0, 3, 102, brokerlib.produce_v3_body("raw", 0, record_batch([b"pipelined"]), acks=-1)))
    corrs = [c.recv_frame()[0] for _ in range(3)]
    check(corrs == [100, 101, 102], f"pipelined answers {corrs}")
    c.close()

    # Everything stored is still served, bad batches left nothing behind.
    out = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "raw", "-p", "0", "-o", "beginning", "-e",
                                    "-f", "%s\n"], capture_output=True, text=True, timeout=30)
    check(out.stdout.splitlines() == ["hello", "world", "fire and forget", "pipelined"], f"raw topic: {out.stdout!r}")

    acked, errors = bg.stop()
    check(not errors and acked > 50, f"background producer: {acked} acknowledged, errors {errors[:3]}")
    check(b.alive(), "broker died")
    status, health = b.health()
    check(status == 200 and health["status"] == "ok", f"/health {status} {health}")
    m = b.metrics()
    for reason in ("frame_too_large", "unknown_api_key", "malformed", "api_versions_fallback", "unsupported_version"):
        v = brokerlib.metric_value(m, "tributary_kafka_bad_requests_total", {"reason": reason})
        check(v is not None and v >= 1, f"bad request metric {reason}: {v}")
    del bg
    rc, _ = b.stop()
    check(rc == 0, f"SIGTERM exit code {rc}")


if __name__ == "__main__":
    brokerlib.run_test(main)
