#!/usr/bin/python3
"""Golden RecordBatch v2 vectors from real Kafka clients, and the reverse cross-check.

Run with Debian's /usr/bin/python3 (python3-kafka and python3-confluent-kafka load only there).

  make_fixtures.py generate [--out DIR]
      Writes fixtures/ (committed): batches built by kafka-python's DefaultRecordBatchBuilder and by
      librdkafka (confluent-kafka producing to librdkafka's in-process mock cluster, the raw batch
      fetched back over the Kafka protocol), files compressed by the gzip/zstd/lz4 command-line
      tools, and expected.json describing every decoded field, computed here independently of our
      C++ code. Run by hand; review the diff; commit.

  make_fixtures.py crosscheck --emitter BIN --work DIR [--fixtures DIR]
      CTest step. BIN (kafka_record_emit, built from our builder) re-encodes every fixture's
      contents; this script then decodes our bytes with real clients: kafka-python's
      DefaultRecordBatch (CRC + records; codecs none/gzip, the only ones its installed modules
      support) and librdkafka (ours produced raw into the mock cluster, consumed by a confluent-kafka
      Consumer: CRC check on, every codec). Exit status 0 only if every check passes.

Codecs: kafka-python here can only do gzip (python3-snappy, python3-lz4 and python3-zstandard are
not installed), so its snappy/lz4/zstd batches are skipped; librdkafka provides all four.
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import time

try:
    import confluent_kafka
    import kafka
    import kafka.codec
    from kafka.protocol.api import RequestHeader
    from kafka.protocol.fetch import FetchRequest
    from kafka.protocol.produce import ProduceRequest
    from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
except ImportError as e:  # not Debian's python3, or python3-kafka / python3-confluent-kafka missing
    print("make_fixtures.py: %s (run with /usr/bin/python3); skipping" % e)
    sys.exit(77)  # CTest SKIP_RETURN_CODE

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_FIELDS = ["base_offset", "batch_length", "partition_leader_epoch", "magic", "crc", "attributes",
                 "last_offset_delta", "base_timestamp", "max_timestamp", "producer_id", "producer_epoch",
                 "base_sequence", "record_count"]
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
T0 = 1700000000000


def hexb(b):
    return None if b is None else bytes(b).hex()


def unhex(h):
    return None if h is None else bytes.fromhex(h)


def header_of(buf):
    return dict(zip(HEADER_FIELDS, HEADER.unpack_from(buf)))


def split_batches(buf):
    out, pos = [], 0
    while pos + 12 <= len(buf):
        (length,) = struct.unpack_from(">i", buf, pos + 8)
        if pos + 12 + length > len(buf):
            break  # a fetch response may end with a partial batch
        out.append(bytes(buf[pos:pos + 12 + length]))
        pos += 12 + length
    return out


# ---- record sets ---------------------------------------------------------------------------------

def main_records():
    """Several records exercising every field: keys, null key/value, empty key, headers (null and
    empty values, several, non-ASCII key), timestamps not in order, a value long enough for
    multi-byte length varints."""
    long_value = b"".join(b"reading %04d;" % i for i in range(40))  # 520 bytes
    return [
        # (offset_delta, timestamp, key, value, headers)
        (0, T0, b"device-1", b'{"t":21.5}', []),
        (1, T0 + 5, None, b"value with null key", [("gw", b"edge-7")]),
        (2, T0 - 3, b"device-2", None, [("mqtt-topic", b"sensors/device-2/telemetry"), ("nullh", None),
                                        ("empty", b"")]),
        (3, T0 + 100, b"", b"", [("cl\u00e9", b"\x00\x01\x02")]),
        (4, T0 + 100, b"device-3", long_value, [("seq", b"12345678")]),
    ]


def compressible_records(n=6):
    return [(i, T0 + i, b"device-%d" % (i % 3),
             b"temperature=21.%d humidity=40 pressure=1013 status=ok " % i * 4,
             [("gw", b"edge-7")]) for i in range(n)]


# ---- kafka-python --------------------------------------------------------------------------------

def build_kafka_python(records, codec="none", transactional=False, producer_id=-1, producer_epoch=-1,
                       base_sequence=-1):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=CODECS[codec], is_transactional=transactional,
                                  producer_id=producer_id, producer_epoch=producer_epoch,
                                  base_sequence=base_sequence, batch_size=1 << 20)
    for delta, ts, key, value, headers in records:
        assert b.append(delta, timestamp=ts, key=key, value=value, headers=headers) is not None
    return bytes(b.build())


def decode_kafka_python(buf):
    """Decodes with kafka-python's reader: CRC, then every record."""
    batch = DefaultRecordBatch(buf)
    if not batch.validate_crc():
        raise AssertionError("kafka-python: CRC mismatch")
    records = []
    for r in batch:
        records.append({"offset": r.offset, "timestamp": r.timestamp, "key": hexb(r.key),
                        "value": hexb(r.value), "headers": [[k, hexb(v)] for k, v in r.headers]})
    return records


def expected_records(records, base_offset=0):
    return [{"offset": base_offset + d, "timestamp": ts, "key": hexb(k), "value": hexb(v),
             "headers": [[hk, hexb(hv)] for hk, hv in h]} for d, ts, k, v, h in records]


def describe(name, buf, source, records):
    h = header_of(buf)
    h.pop("batch_length")
    h["size"] = len(buf)
    h["codec"] = h["attributes"] & 7
    return {"file": name + ".bin", "source": source, "header": h, "records": records}


# ---- Kafka protocol over a socket (for librdkafka's mock cluster) ----------------------------------

class raw_client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.correlation = 0

    def call(self, request):
        self.correlation += 1
        # Keep the header object alive: kafka-python binds encode() through a weak reference.
        header = RequestHeader(request, correlation_id=self.correlation, client_id="fixtures")
        payload = header.encode() + request.encode()
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (n,) = struct.unpack(">i", self._read(4))
        data = self._read(n)
        (correlation,) = struct.unpack_from(">i", data)
        assert correlation == self.correlation
        return request.RESPONSE_TYPE.decode(data[4:])

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("mock broker closed the connection")
            data += chunk
        return data

    def fetch_raw(self, topic, partition=0):
        req = FetchRequest[4](replica_id=-1, max_wait_time=100, min_bytes=1, max_bytes=1 << 24,
                              isolation_level=0, topics=[(topic, [(partition, 0, 1 << 24)])])
        resp = self.call(req)
        part = resp.topics[0][1][0]
        assert part[1] == 0, "fetch error %d" % part[1]
        return part[-1]

    def produce_raw(self, topic, batch, partition=0):
        req = ProduceRequest[3](transactional_id=None, required_acks=1, timeout=5000,
                                topics=[(topic, [(partition, batch)])])
        resp = self.call(req)
        error = resp.topics[0][1][0][1]
        assert error == 0, "produce error %d" % error


def mock_cluster():
    """A librdkafka mock cluster kept alive by the returned producer handle."""
    p = confluent_kafka.Producer({"test.mock.num.brokers": 1, "log_level": 3})
    broker = list(p.list_topics(timeout=10).brokers.values())[0]
    return p, broker.host, broker.port


def build_librdkafka(codec, records, idempotent=True):
    p = confluent_kafka.Producer({"test.mock.num.brokers": 1, "compression.codec": codec,
                                  "enable.idempotence": idempotent, "linger.ms": 500,
                                  "batch.num.messages": 10000, "log_level": 3})
    broker = list(p.list_topics(timeout=10).brokers.values())[0]
    topic = "fixtures-" + codec
    for _delta, ts, key, value, headers in records:
        p.produce(topic, key=key, value=value, partition=0, timestamp=ts, headers=headers)
    assert p.flush(15) == 0, "librdkafka could not deliver to its mock cluster"
    raw = raw_client(broker.host, broker.port).fetch_raw(topic)
    batches = split_batches(raw)
    assert len(batches) == 1, "expected one batch, got %d" % len(batches)
    return batches[0]


def librdkafka_version():
    return confluent_kafka.libversion()[0]


# ---- generate ------------------------------------------------------------------------------------

def xerial_frame(blocks):
    out = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
    for b in blocks:
        out += struct.pack(">i", len(b)) + b
    return out


def snappy_literal_block(data):
    """A raw snappy block holding `data` as literals only (format_description.txt), so the snappy
    framing can be tested with a block not produced by libsnappy."""
    assert 0 < len(data) <= 60
    n, varint = len(data), b""
    while True:
        if n < 0x80:
            varint += bytes([n])
            break
        varint += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return varint + bytes([(len(data) - 1) << 2]) + data


def generate(out):
    os.makedirs(out, exist_ok=True)
    batches = {}
    kp = "kafka-python %s" % kafka.__version__

    def add(name, buf, source, records):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(buf)
        batches[name] = describe(name, buf, source, records)

    # kafka-python: each batch decoded back by kafka-python must equal what was put in.
    kp_cases = [
        ("kp_uncompressed", main_records(), {}),
        ("kp_gzip", compressible_records(), {"codec": "gzip"}),
        ("kp_idempotent", main_records()[:2],
         {"producer_id": 4242, "producer_epoch": 3, "base_sequence": 17}),
        ("kp_transactional", main_records()[:1],
         {"transactional": True, "producer_id": 77, "producer_epoch": 0, "base_sequence": 0}),
        # Offset deltas with gaps, as compaction leaves them: record_count < last_offset_delta + 1.
        ("kp_gaps", [(0, T0, b"a", b"1", []), (2, T0 + 1, b"b", b"2", []), (5, T0 + 2, b"c", b"3", [])], {}),
    ]
    skipped = [c for c in ("snappy", "lz4", "zstd") if not getattr(kafka.codec, "has_" + c)()]
    for name, records, opts in kp_cases:
        buf = build_kafka_python(records, **opts)
        decoded = decode_kafka_python(buf)
        assert decoded == expected_records(records), name
        assert header_of(buf)["attributes"] & 7 == CODECS[opts.get("codec", "none")], name
        add(name, buf, kp, decoded)

    # librdkafka: every codec, idempotent producer (producer id, epoch and sequence set).
    rdk = "librdkafka %s" % librdkafka_version()
    for codec in CODECS:
        records = compressible_records() if codec != "none" else main_records()
        buf = build_librdkafka(codec, records)
        assert header_of(buf)["attributes"] & 7 == CODECS[codec], "librdkafka did not compress with " + codec
        if codec in ("none", "gzip"):  # a second, independent decoder agrees
            assert decode_kafka_python(buf) == expected_records(records), codec
        add("rdk_" + codec, buf, rdk, expected_records(records))

    # Compressed files from the command-line tools (streamed through stdin: zstd writes no content
    # size, lz4 writes the frame format) plus hand-framed xerial snappy.
    payload = b"".join(b"line %06d: the quick brown fox jumps over the lazy dog\n" % i for i in range(1200))
    with open(os.path.join(out, "cli_payload.bin"), "wb") as f:
        f.write(payload)
    files = []
    for codec, cmd, ext in (("gzip", ["gzip", "-c", "-n"], "gz"), ("zstd", ["zstd", "-q", "-c"], "zst"),
                            ("lz4", ["lz4", "-q", "-c"], "lz4")):
        try:
            data = subprocess.run(cmd, input=payload, stdout=subprocess.PIPE, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            print("skipping %s command-line fixture: %s" % (codec, e))
            continue
        with open(os.path.join(out, "cli_payload." + ext), "wb") as f:
            f.write(data)
        files.append({"file": "cli_payload." + ext, "codec": codec, "plain": "cli_payload.bin"})
    parts = [b"hello, ", b"snappy ", b"xerial framing"]
    with open(os.path.join(out, "xerial_literals.snappy"), "wb") as f:
        f.write(xerial_frame([snappy_literal_block(p) for p in parts]))
    with open(os.path.join(out, "xerial_literals.bin"), "wb") as f:
        f.write(b"".join(parts))
    files.append({"file": "xerial_literals.snappy", "codec": "snappy", "plain": "xerial_literals.bin"})

    doc = {
        "generator": "tests/unit/kafka_record/make_fixtures.py generate",
        "kafka_python_codecs_skipped": skipped,
        "batches": batches,
        "compressed_files": files,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d batches, %d compressed files to %s (kafka-python skipped: %s)"
          % (len(batches), len(files), out, ", ".join(skipped) or "none"))


# ---- crosscheck ----------------------------------------------------------------------------------

def crosscheck(emitter, work, fixtures):
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(fixtures, "expected.json")) as f:
        doc = json.load(f)
    subprocess.run([emitter, os.path.join(fixtures, "expected.json"), work], check=True)
    failures = []

    def check(cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            failures.append(what)

    # 1. Our re-encoding of every fixture: kafka-python decodes it (codecs it has), header fields
    #    match, and for kafka-python's own uncompressed batches our bytes are identical.
    for name, want in sorted(doc["batches"].items()):
        with open(os.path.join(work, name + ".bin"), "rb") as f:
            ours = f.read()
        h = header_of(ours)
        for k, v in want["header"].items():
            if k in ("size", "crc", "codec"):
                continue
            check(h[k] == v, "%s: header %s = %r (want %r)" % (name, k, h[k], v))
        if want["header"]["codec"] in (0, 1):
            try:
                check(decode_kafka_python(ours) == want["records"], "%s: kafka-python decodes our batch" % name)
            except Exception as e:  # noqa: BLE001 - any decoder exception is a failed check
                check(False, "%s: kafka-python decodes our batch (%s)" % (name, e))
        if name.startswith("kp_") and want["header"]["codec"] == 0:
            with open(os.path.join(fixtures, want["file"]), "rb") as f:
                check(f.read() == ours, "%s: our bytes identical to kafka-python's" % name)

    # 2. librdkafka consumes our batches for every codec (produced raw into its mock cluster).
    keeper, host, port = mock_cluster()
    client = raw_client(host, port)
    want = doc["batches"]["kp_uncompressed"]["records"]

    def consume_ours(topic, batch):
        """Produces `batch` raw to partition 0 of a new topic; returns (records, error) as librdkafka
        decodes them."""
        keeper.produce(topic, value=b"create", partition=1)  # creates the topic; partition 0 stays ours
        keeper.flush(10)
        client.produce_raw(topic, batch)
        consumer = confluent_kafka.Consumer({"bootstrap.servers": "%s:%d" % (host, port), "group.id": topic,
                                             "check.crcs": True, "enable.auto.commit": False, "log_level": 3})
        consumer.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
        got, error, deadline = [], None, time.time() + 15
        while len(got) < len(want) and time.time() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                error = m.error()
                break
            got.append({"offset": m.offset(), "timestamp": m.timestamp()[1], "key": hexb(m.key()),
                        "value": hexb(m.value()),
                        "headers": [[k, hexb(v)] for k, v in (m.headers() or [])]})
        consumer.close()
        return got, error

    for codec in CODECS:
        with open(os.path.join(work, "ours_%s.bin" % codec), "rb") as f:
            ours = f.read()
        got, error = consume_ours("ours-" + codec, ours)
        check(error is None and got == want, "librdkafka decodes our %s batch (error: %s)" % (codec, error))
        if got != want:
            print(json.dumps({"got": got, "want": want}, indent=1))

    # 3. Negative controls: both decoders must reject a corrupted copy, or the checks above prove nothing.
    with open(os.path.join(work, "ours_lz4.bin"), "rb") as f:
        corrupt = bytearray(f.read())
    corrupt[-3] ^= 0x40
    got, error = consume_ours("ours-corrupt", bytes(corrupt))
    check(error is not None and not got, "negative control: librdkafka rejects a corrupted batch (%s)" % error)
    with open(os.path.join(work, "kp_uncompressed.bin"), "rb") as f:
        corrupt = bytearray(f.read())
    corrupt[-3] ^= 0x40
    check(not DefaultRecordBatch(bytes(corrupt)).validate_crc(),
          "negative control: kafka-python rejects a corrupted batch")

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", default=os.path.join(HERE, "fixtures"))
    c = sub.add_parser("crosscheck")
    c.add_argument("--emitter", required=True)
    c.add_argument("--work", required=True)
    c.add_argument("--fixtures", default=os.path.join(HERE, "fixtures"))
    args = ap.parse_args()
    if args.cmd == "generate":
        generate(args.out)
        return 0
    return crosscheck(args.emitter, args.work, args.fixtures)


if __name__ == "__main__":
    sys.exit(main())
