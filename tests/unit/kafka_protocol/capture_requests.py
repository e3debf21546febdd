#!/usr/bin/python3
"""Captures request frames from real Kafka clients as golden fixtures for the codec tests.

    /usr/bin/python3 tests/unit/kafka_protocol/capture_requests.py [--only NAME]

(/usr/bin/python3: Debian's python3-kafka and python3-confluent-kafka load there, not in a python3
found earlier on PATH.) It runs a fake broker on 127.0.0.1:<free port> that answers just enough for
the clients to go on (a one-node cluster, topic "t" with one partition, one-member consumer groups,
produced batches kept in memory and fetched back), then drives kcat (librdkafka), confluent-kafka
(librdkafka) and kafka-python through produce, consume, group and admin scenarios. Every request
frame is recorded; the first frame of each (client, API, version) is written to
fixtures/<client>_<api>_v<version>.hex (without the 4-byte size prefix) and, raw, to
tests/fuzz/corpus/kafka_request/ as a fuzzing seed. The fixtures are committed: the unit tests
decode them, check their fields and re-encode them byte for byte. Correlation ids, member ids and
record timestamps differ from run to run, so a new capture changes those bytes; review the diff.

The responses are written by hand here, independently of the C++ codec (they only need to satisfy
the clients). "narrow" scenarios advertise the versions the broker is meant to advertise
(KAFKA-PROTOCOL.md, "the smallest set"); "wide" ones advertise the codec's whole range so that the
clients pick their flexible versions; "fallback" answers ApiVersions v3 with the v0 error body.
"""
import argparse
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(HERE, "fixtures")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "kafka_request")

API_NAMES = {
    0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata", 8: "offset_commit", 9: "offset_fetch",
    10: "find_coordinator", 11: "join_group", 12: "heartbeat", 13: "leave_group", 14: "sync_group",
    15: "describe_groups", 16: "list_groups", 17: "sasl_handshake", 18: "api_versions",
    19: "create_topics", 20: "delete_topics", 22: "init_producer_id", 32: "describe_configs",
    36: "sasl_authenticate",
}
FIRST_FLEXIBLE = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3,
                  17: 99, 18: 3, 19: 5, 20: 4, 22: 2, 32: 4, 36: 2}
NARROW = {18: 3, 3: 4, 0: 7, 1: 11, 2: 2, 10: 2, 11: 5, 14: 3, 12: 3, 13: 1, 8: 7, 9: 5, 16: 2, 15: 2,
          19: 3, 20: 1, 22: 1, 17: 1, 36: 1, 32: 2}
WIDE = {18: 3, 3: 12, 0: 9, 1: 12, 2: 6, 10: 3, 11: 7, 14: 4, 12: 4, 13: 4, 8: 8, 9: 7, 16: 4, 15: 5,
        19: 5, 20: 4, 22: 4, 17: 1, 36: 2, 32: 4}
INT32_MIN = -2 ** 31


# ---------------------------------------------------------------------------------------------
# Primitive encodings.
class W:
    def __init__(self, flex=False):
        self.b = bytearray()
        self.flex = flex

    def i8(self, v): self.b += struct.pack(">b", v); return self
    def i16(self, v): self.b += struct.pack(">h", v); return self
    def i32(self, v): self.b += struct.pack(">i", v); return self
    def i64(self, v): self.b += struct.pack(">q", v); return self

    def uvar(self, v):
        while v >= 0x80:
            self.b.append((v & 0x7F) | 0x80)
            v >>= 7
        self.b.append(v)
        return self

    def length(self, n):
        return self.uvar(n + 1) if self.flex else self.i32(n)

    def str(self, s):
        raw = s.encode()
        if self.flex:
            self.uvar(len(raw) + 1)
        else:
            self.i16(len(raw))
        self.b += raw
        return self

    def nstr(self, s):
        if s is None:
            return self.uvar(0) if self.flex else self.i16(-1)
        return self.str(s)

    def byts(self, raw):
        self.length(len(raw))
        self.b += raw
        return self

    def nbyts(self, raw):
        if raw is None:
            return self.uvar(0) if self.flex else self.i32(-1)
        return self.byts(raw)

    def arr(self, items, fn):
        self.length(len(items))
        for item in items:
            fn(self, item)
        return self

    def tags(self):
        if self.flex:
            self.uvar(0)
        return self


class R:
    def __init__(self, data, flex=False):
        self.d = bytes(data)
        self.p = 0
        self.flex = flex

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("truncated")
        out = self.d[self.p:self.p + n]
        self.p += n
        return out

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def uvar(self):
        v, shift = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def length(self):
        if self.flex:
            return self.uvar() - 1
        return self.i32()

    def nstr(self, classic=False):
        if self.flex and not classic:
            n = self.uvar() - 1
        else:
            n = self.i16()
        return None if n < 0 else self.take(n).decode(errors="replace")

    def str(self): return self.nstr() or ""

    def nbyts(self):
        n = self.length()
        return None if n < 0 else self.take(n)

    def arr(self, fn):
        n = self.length()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def tags(self):
        if self.flex:
            for _ in range(self.uvar()):
                self.uvar()
                self.take(self.uvar())


# ---------------------------------------------------------------------------------------------
# The fake broker.
class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "narrow"
        self.label = "none"
        self.port = 0
        self.topics = {"t": 1}
        self.log = {}  # (topic, partition) -> list of (base_offset, batch bytes)
        self.next_offset = {}
        self.groups = {}  # group -> {"generation", "members": {member: metadata}, "assignments": {}}
        self.commits = {}  # (group, topic, partition) -> offset
        self.member_seq = 0
        self.frames = []  # (label, api, version, tag, frame)

    def advertised(self):
        if self.mode == "wide":
            return WIDE
        return NARROW


ST = State()


def batches_in(records):
    """Splits a record set into (magic, record count, batch bytes) for each batch."""
    out = []
    p = 0
    while p + 17 <= len(records):
        size = struct.unpack(">i", records[p + 8:p + 12])[0]
        end = p + 12 + size
        if size < 0 or end > len(records):
            break
        magic = records[p + 16]
        count = struct.unpack(">i", records[p + 23:p + 27])[0] + 1 if magic == 2 else 1
        out.append((magic, count, bytearray(records[p:end])))
        p = end
    return out


def answer(api, version, r, w):
    """Reads the request body from r and writes the response body to w; returns False for no answer."""
    st = ST
    if api == 18:  # ApiVersions
        if version > 3 or (st.mode == "fallback" and version == 3):
            w.flex = False
            w.i16(35).arr([18], lambda w, k: w.i16(18).i16(0).i16(3))
            return True
        w.i16(0)
        w.arr(sorted(st.advertised().items()), lambda w, kv: w.i16(kv[0]).i16(0).i16(kv[1]).tags())
        if version >= 1:
            w.i32(0)
        w.tags()
        return True

    if api == 3:  # Metadata
        def req_topic(r):
            if version >= 10:
                r.take(16)
            name = r.nstr()
            r.tags()
            return name
        names = r.arr(req_topic)
        auto = r.i8() if version >= 4 else 1
        if version >= 8:
            if version <= 10:
                r.i8()
            r.i8()
        r.tags()
        with st.lock:
            if names is None or (version == 0 and not names):
                names = list(st.topics)
            for n in names:
                if n and n not in st.topics and auto:
                    st.topics[n] = 1
            topics = [(n, st.topics.get(n)) for n in names if n]
        if version >= 3:
            w.i32(0)
        w.arr([0], lambda w, b: (w.i32(0).str("127.0.0.1").i32(st.port), version >= 1 and w.nstr(None), w.tags()))
        if version >= 2:
            w.nstr("tributary-capture")
        if version >= 1:
            w.i32(0)

        def partition(w, p):
            w.i16(0).i32(p).i32(0)
            if version >= 7:
                w.i32(0)
            w.arr([0], lambda w, x: w.i32(x)).arr([0], lambda w, x: w.i32(x))
            if version >= 5:
                w.arr([], None)
            w.tags()

        def topic(w, t):
            name, count = t
            w.i16(0 if count else 3)
            w.str(name)
            if version >= 10:
                w.b += bytes(16)
            if version >= 1:
                w.i8(0)
            w.arr(list(range(count or 0)), partition)
            if version >= 8:
                w.i32(INT32_MIN)
            w.tags()
        w.arr(topics, topic)
        if 8 <= version <= 10:
            w.i32(INT32_MIN)
        w.tags()
        return True

    if api == 0:  # Produce
        if version >= 3:
            r.nstr()
        acks = r.i16()
        r.i32()

        def req_partition(r):
            idx = r.i32()
            records = r.nbyts()
            r.tags()
            return idx, records

        def req_topic(r):
            name = r.str()
            parts = r.arr(req_partition)
            r.tags()
            return name, parts
        topics = r.arr(req_topic)
        r.tags()
        results = []
        with st.lock:
            for name, parts in topics:
                res = []
                for idx, records in parts:
                    key = (name, idx)
                    base = st.next_offset.get(key, 0)
                    offset = base
                    for magic, count, batch in batches_in(records or b""):
                        batch[0:8] = struct.pack(">q", offset)
                        st.log.setdefault(key, []).append((offset, count, bytes(batch)))
                        offset += count
                    st.next_offset[key] = offset
                    res.append((idx, base))
                results.append((name, res))
        if acks == 0:
            return False

        def partition(w, p):
            w.i32(p[0]).i16(0).i64(p[1])
            if version >= 2:
                w.i64(-1)
            if version >= 5:
                w.i64(0)
            if version >= 8:
                w.arr([], None).nstr(None)
            w.tags()
        w.arr(results, lambda w, t: (w.str(t[0]), w.arr(t[1], partition), w.tags()))
        if version >= 1:
            w.i32(0)
        w.tags()
        return True

    if api == 22:  # InitProducerId
        w.i32(0).i16(0).i64(1000).i16(0).tags()
        return True

    if api == 10:  # FindCoordinator
        if version >= 1:
            w.i32(0)
        w.i16(0)
        if version >= 1:
            w.nstr(None)
        w.i32(0).str("127.0.0.1").i32(st.port).tags()
        return True

    if api == 11:  # JoinGroup
        group = r.str()
        r.i32()
        if version >= 1:
            r.i32()
        member = r.str()
        instance = r.nstr() if version >= 5 else None
        r.str()

        def proto(r):
            name = r.str()
            meta = r.nbyts()
            r.tags()
            return name, meta
        protocols = r.arr(proto)
        r.tags()
        if version >= 2:
            w.i32(0)
        with st.lock:
            if version >= 4 and not member:
                st.member_seq += 1
                w.i16(79).i32(-1)
                if version >= 7:
                    w.nstr(None)
                w.nstr("") if version >= 7 else w.str("")
                w.str("").str("%s-member-%d" % (st.label, st.member_seq)).arr([], None).tags()
                return True
            if not member:
                st.member_seq += 1
                member = "%s-member-%d" % (st.label, st.member_seq)
            g = st.groups.setdefault(group, {"generation": 0, "assignments": {}})
            g["generation"] += 1
            gen = g["generation"]
        w.i16(0).i32(gen)
        if version >= 7:
            w.nstr("consumer")
        w.str(protocols[0][0])
        w.str(member).str(member)

        def member_entry(w, m):
            w.str(m)
            if version >= 5:
                w.nstr(instance)
            w.byts(protocols[0][1] or b"")
            w.tags()
        w.arr([member], member_entry).tags()
        return True

    if api == 14:  # SyncGroup
        group = r.str()
        r.i32()
        member = r.str()
        if version >= 3:
            r.nstr()

        def assignment(r):
            m = r.str()
            a = r.nbyts()
            r.tags()
            return m, a
        assignments = r.arr(assignment)
        r.tags()
        with st.lock:
            g = st.groups.setdefault(group, {"generation": 0, "assignments": {}})
            for m, a in assignments:
                g["assignments"][m] = a
            mine = g["assignments"].get(member, b"")
        if version >= 1:
            w.i32(0)
        w.i16(0).byts(mine or b"").tags()
        return True

    if api == 12:  # Heartbeat
        if version >= 1:
            w.i32(0)
        w.i16(0).tags()
        return True

    if api == 13:  # LeaveGroup
        r.str()
        members = []
        if version <= 2:
            r.str()
        else:
            def identity(r):
                m = r.str()
                i = r.nstr()
                r.tags()
                return m, i
            members = r.arr(identity)
        r.tags()
        if version >= 1:
            w.i32(0)
        w.i16(0)
        if version >= 3:
            w.arr(members, lambda w, m: w.str(m[0]).nstr(m[1]).i16(0).tags())
        w.tags()
        return True

    if api == 9:  # OffsetFetch
        group = r.str()

        def topic(r):
            name = r.str()
            parts = r.arr(lambda r: r.i32())
            r.tags()
            return name, parts
        topics = r.arr(topic)
        if topics is None:
            topics = [("t", [0])]
        if version >= 3:
            w.i32(0)

        def partition(w, tp):
            w.i32(tp[1]).i64(ST.commits.get((group, tp[0], tp[1]), -1))
            if version >= 5:
                w.i32(-1)
            w.nstr("").i16(0).tags()
        w.arr(topics, lambda w, t: (w.str(t[0]), w.arr([(t[0], p) for p in t[1]], partition), w.tags()))
        if version >= 2:
            w.i16(0)
        w.tags()
        return True

    if api == 8:  # OffsetCommit
        group = r.str()
        if version >= 1:
            r.i32()
            r.str()
        if version >= 7:
            r.nstr()
        if 2 <= version <= 4:
            r.i64()

        def partition(r):
            idx = r.i32()
            offset = r.i64()
            if version >= 6:
                r.i32()
            if version == 1:
                r.i64()
            r.nstr()
            r.tags()
            return idx, offset

        def topic(r):
            name = r.str()
            parts = r.arr(partition)
            r.tags()
            return name, parts
        topics = r.arr(topic)
        r.tags()
        with st.lock:
            for name, parts in topics:
                for idx, offset in parts:
                    st.commits[(group, name, idx)] = offset
        if version >= 3:
            w.i32(0)
        w.arr(topics, lambda w, t: (w.str(t[0]), w.arr(t[1], lambda w, p: w.i32(p[0]).i16(0).tags()), w.tags()))
        w.tags()
        return True

    if api == 2:  # ListOffsets
        r.i32()
        if version >= 2:
            r.i8()

        def partition(r):
            idx = r.i32()
            if version >= 4:
                r.i32()
            ts = r.i64()
            if version == 0:
                r.i32()
            r.tags()
            return idx, ts

        def topic(r):
            name = r.str()
            parts = r.arr(partition)
            r.tags()
            return name, parts
        topics = r.arr(topic)
        r.tags()
        if version >= 2:
            w.i32(0)

        def partition_out(w, tp):
            name, (idx, ts) = tp
            offset = 0 if ts == -2 else ST.next_offset.get((name, idx), 0)
            w.i32(idx).i16(0)
            if version == 0:
                w.arr([offset], lambda w, o: w.i64(o))
            else:
                w.i64(-1).i64(offset)
                if version >= 4:
                    w.i32(0)
            w.tags()
        w.arr(topics, lambda w, t: (w.str(t[0]), w.arr([(t[0], p) for p in t[1]], partition_out), w.tags()))
        w.tags()
        return True

    if api == 1:  # Fetch
        r.i32()
        max_wait = r.i32()
        r.i32()
        if version >= 3:
            r.i32()
        if version >= 4:
            r.i8()
        if version >= 7:
            r.i32()
            r.i32()

        def partition(r):
            idx = r.i32()
            if version >= 9:
                r.i32()
            offset = r.i64()
            if version >= 12:
                r.i32()
            if version >= 5:
                r.i64()
            r.i32()
            r.tags()
            return idx, offset

        def topic(r):
            name = r.str()
            parts = r.arr(partition)
            r.tags()
            return name, parts
        topics = r.arr(topic)
        if version >= 7:
            r.arr(lambda r: (r.str(), r.arr(lambda r: r.i32()), r.tags()))
        if version >= 11:
            r.str()
        r.tags()
        out = []
        have_data = False
        with st.lock:
            for name, parts in topics:
                res = []
                for idx, offset in parts:
                    hw = st.next_offset.get((name, idx), 0)
                    data = b"".join(b for base, count, b in st.log.get((name, idx), []) if base + count > offset)
                    have_data = have_data or bool(data)
                    res.append((idx, hw, data))
                out.append((name, res))
        if not have_data:
            time.sleep(min(max_wait, 300) / 1000.0)
        if version >= 1:
            w.i32(0)
        if version >= 7:
            w.i16(0).i32(0)

        def partition_out(w, p):
            idx, hw, data = p
            w.i32(idx).i16(0).i64(hw)
            if version >= 4:
                w.i64(hw)
            if version >= 5:
                w.i64(0)
            if version >= 4:
                w.nbyts(None)  # no aborted transactions
            if version >= 11:
                w.i32(-1)
            w.nbyts(data)
            w.tags()
        w.arr(out, lambda w, t: (w.str(t[0]), w.arr(t[1], partition_out), w.tags()))
        w.tags()
        return True

    if api == 16:  # ListGroups
        if version >= 4:
            r.arr(lambda r: r.str())
        r.tags()
        if version >= 1:
            w.i32(0)
        w.i16(0)
        with st.lock:
            groups = sorted(st.groups)

        def group(w, g):
            w.str(g).str("consumer")
            if version >= 4:
                w.str("Stable")
            w.tags()
        w.arr(groups, group).tags()
        return True

    if api == 15:  # DescribeGroups
        groups = r.arr(lambda r: r.str())
        if version >= 1:
            w.i32(0)

        def group(w, g):
            w.i16(0).str(g).str("Empty").str("consumer").str("").arr([], None)
            if version >= 3:
                w.i32(INT32_MIN)
            w.tags()
        w.arr(groups, group).tags()
        return True

    if api == 19:  # CreateTopics
        def topic(r):
            name = r.str()
            count = r.i32()
            r.i16()
            r.arr(lambda r: (r.i32(), r.arr(lambda r: r.i32()), r.tags()))
            r.arr(lambda r: (r.str(), r.nstr(), r.tags()))
            r.tags()
            return name, count
        topics = r.arr(topic)
        with st.lock:
            for name, count in topics:
                st.topics.setdefault(name, max(count, 1))
        if version >= 2:
            w.i32(0)

        def result(w, t):
            w.str(t[0]).i16(0)
            if version >= 1:
                w.nstr(None)
            if version >= 5:
                w.i32(max(t[1], 1)).i16(1).arr([], None)
            w.tags()
        w.arr(topics, result).tags()
        return True

    if api == 20:  # DeleteTopics
        names = r.arr(lambda r: r.str())
        with st.lock:
            for n in names:
                st.topics.pop(n, None)
        if version >= 1:
            w.i32(0)
        w.arr(names, lambda w, n: w.str(n).i16(0).tags()).tags()
        return True

    if api == 32:  # DescribeConfigs
        def resource(r):
            kind = r.i8()
            name = r.str()
            r.arr(lambda r: r.str())
            r.tags()
            return kind, name
        resources = r.arr(resource)
        w.i32(0)

        def config(w, c):
            w.str(c[0]).nstr(c[1]).i8(0)
            if version == 0:
                w.i8(1)
            else:
                w.i8(5)
            w.i8(0)
            if version >= 1:
                w.arr([], None)
            if version >= 3:
                w.i8(0).nstr(None)
            w.tags()

        def result(w, res):
            w.i16(0).nstr(None).i8(res[0]).str(res[1])
            w.arr([("retention.ms", "604800000")], config)
            w.tags()
        w.arr(resources, result).tags()
        return True

    if api == 17:  # SaslHandshake
        r.str()
        w.i16(0).arr(["PLAIN"], lambda w, m: w.str(m))
        return True

    if api == 36:  # SaslAuthenticate
        r.nbyts()
        w.i16(0).nstr(None).byts(b"")
        if version >= 1:
            w.i64(0)
        w.tags()
        return True

    raise ValueError("no answer for api %d" % api)


def frame_tag(api, version, frame):
    """Tells apart frames of one API and version worth keeping separately: a JoinGroup rejoin."""
    if api != 11:
        return ""
    try:
        r = R(frame[8:], version >= FIRST_FLEXIBLE[api])
        r.nstr(classic=True)
        r.tags()
        r.str()
        r.i32()
        if version >= 1:
            r.i32()
        return "rejoin" if r.str() else ""
    except (ValueError, struct.error):
        return ""


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def handle(self):
        raw_sasl = False
        try:
            while True:
                size = struct.unpack(">i", self.recv_exact(4))[0]
                frame = self.recv_exact(size)
                api, version, corr = struct.unpack(">hhi", frame[:8])
                if raw_sasl and api != 36:
                    # A raw SASL token after SaslHandshake (kafka-python): not a Kafka request.
                    raw_sasl = False
                    self.request.sendall(struct.pack(">i", 0))
                    continue
                raw_sasl = api == 17
                with ST.lock:
                    ST.frames.append((ST.label, api, version, frame_tag(api, version, frame), frame))
                if api not in API_NAMES:
                    return
                flex = version >= FIRST_FLEXIBLE[api]
                r = R(frame[8:], flex)
                r.nstr(classic=True)  # client id
                if flex:
                    r.tags()
                w = W(flex)
                if not answer(api, version, r, w):
                    continue
                header = struct.pack(">i", corr)
                if flex and api != 18:
                    header += b"\x00"
                body = header + bytes(w.b)
                self.request.sendall(struct.pack(">i", len(body)) + body)
        except (EOFError, ConnectionError, ValueError, struct.error):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---------------------------------------------------------------------------------------------
# Scenarios: (label, mode, kind, command).
def kcat(*args):
    return ["kcat", "-b", "127.0.0.1:%d" % ST.port, "-X", "topic.metadata.refresh.interval.ms=60000"] + list(args)


def py(code):
    return ["/usr/bin/python3", "-c", code.replace("{BOOT}", "127.0.0.1:%d" % ST.port)]


KAFKA_PYTHON_PRODUCE = """
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers='{BOOT}', request_timeout_ms=5000)
p.send('t', key=b'k', value=b'from kafka-python').get(timeout=10)
p.close()
"""
KAFKA_PYTHON_CONSUME = """
from kafka import KafkaConsumer
c = KafkaConsumer('t', bootstrap_servers='{BOOT}', group_id='kp-group', auto_offset_reset='earliest',
                  consumer_timeout_ms=4000, enable_auto_commit=False)
for m in c:
    pass
c.commit()
c.close()
"""
KAFKA_PYTHON_ADMIN = """
from kafka.admin import KafkaAdminClient, NewTopic, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers='{BOOT}', request_timeout_ms=5000)
a.create_topics([NewTopic('kp-new', 2, 1, topic_configs={'retention.ms': '1000'})])
a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 't')])
a.list_consumer_groups()
a.describe_consumer_groups(['kp-group'])
a.delete_topics(['kp-new'])
a.close()
"""
KAFKA_PYTHON_SASL = """
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers='{BOOT}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN',
                  sasl_plain_username='user', sasl_plain_password='secret', request_timeout_ms=5000)
p.close()
"""
CONFLUENT_ADMIN = """
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
a = AdminClient({'bootstrap.servers': '{BOOT}'})
for f in a.create_topics([NewTopic('ck-new', 3, 1, config={'retention.ms': '1000'})], request_timeout=5).values():
    f.result()
for f in a.describe_configs([ConfigResource('topic', 't')], request_timeout=5).values():
    f.result()
a.list_groups(timeout=5)
for f in a.delete_topics(['ck-new'], request_timeout=5).values():
    f.result()
"""
CONFLUENT_CONSUME = """
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': '{BOOT}', 'group.id': 'ck-group', 'auto.offset.reset': 'earliest',
              'group.instance.id': 'ck-static-1', 'enable.auto.commit': False})
c.subscribe(['t'])
import time
end = time.time() + 8
got = None
while time.time() < end:
    m = c.poll(0.5)
    if m is not None and not m.error():
        got = m
        break
if got is not None:
    c.commit(message=got, asynchronous=False)
c.close()
"""

SCENARIOS = [
    ("librdkafka", "fallback", lambda: kcat("-L", "-m", "5")),
    ("librdkafka", "narrow", lambda: kcat("-L", "-m", "5")),
    ("librdkafka", "narrow", lambda: kcat("-P", "-t", "t", "-p", "0", "-k", "key1")),
    ("librdkafka", "narrow", lambda: kcat("-C", "-t", "t", "-p", "0", "-o", "beginning", "-e")),
    ("librdkafka", "narrow", lambda: kcat("-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-e", "t")),
    ("librdkafka", "narrow", lambda: kcat("-P", "-t", "t", "-p", "0", "-X", "enable.idempotence=true")),
    ("librdkafka", "narrow", lambda: kcat("-P", "-t", "t", "-p", "0", "-z", "gzip")),
    ("librdkafka", "narrow", lambda: kcat("-L", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
                                   "-X", "sasl.username=user", "-X", "sasl.password=secret", "-m", "5")),
    ("librdkafka_wide", "wide", lambda: kcat("-P", "-t", "t", "-p", "0", "-X", "enable.idempotence=true")),
    ("librdkafka_wide", "wide", lambda: kcat("-G", "kcat-wide-group", "-X", "auto.offset.reset=earliest", "-e", "t")),
    ("confluent_kafka", "narrow", lambda: py(CONFLUENT_ADMIN)),
    ("confluent_kafka_wide", "wide", lambda: py(CONFLUENT_ADMIN)),
    ("confluent_kafka", "narrow", lambda: py(CONFLUENT_CONSUME)),
    ("kafka_python", "narrow", lambda: py(KAFKA_PYTHON_PRODUCE)),
    ("kafka_python", "narrow", lambda: py(KAFKA_PYTHON_CONSUME)),
    ("kafka_python", "narrow", lambda: py(KAFKA_PYTHON_ADMIN)),
    ("kafka_python", "narrow", lambda: py(KAFKA_PYTHON_SASL)),
]
STDIN = {"-P": b"hello\nworld\n"}


def run(label, mode, cmd, timeout_s=25):
    with ST.lock:
        ST.label = label
        ST.mode = mode
    data = STDIN["-P"] if "-P" in cmd else None
    print("== %s (%s): %s" % (label, mode, " ".join(cmd[:6] if cmd[0] == "kcat" else cmd[2].split("\n")[1:3])), flush=True)
    first = len(ST.frames)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(2)  # SIGINT: let the client leave its group cleanly
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if proc.returncode != 0:
        print("   exit %s: %s" % (proc.returncode, err.decode(errors="replace")[-400:].strip()), flush=True)
    time.sleep(0.5)
    with ST.lock:
        seen = sorted({"%s v%d" % (API_NAMES.get(a, str(a)), v) for _, a, v, _, _ in ST.frames[first:]})
    print("   requests: " + ", ".join(seen), flush=True)


def write_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    os.makedirs(CORPUS, exist_ok=True)
    seen = set()
    written = []
    for label, api, version, tag, frame in ST.frames:
        if api not in API_NAMES:
            continue
        client = label.replace("_wide", "")
        name = "%s_%s_v%d%s" % (client, API_NAMES[api], version, "_" + tag if tag else "")
        if name in seen:
            continue
        seen.add(name)
        lines = ["# %s request v%d captured from %s by capture_requests.py (frame without its size prefix)"
                 % (API_NAMES[api], version, client.replace("_", "-"))]
        hexed = frame.hex()
        lines += [hexed[i:i + 64] for i in range(0, len(hexed), 64)]
        with open(os.path.join(FIXTURES, name + ".hex"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(CORPUS, name + ".bin"), "wb") as f:
            f.write(frame)
        written.append(name)
    print("wrote %d fixtures:\n  %s" % (len(written), "\n  ".join(sorted(written))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="run only scenarios whose label contains this")
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    ST.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("fake broker on 127.0.0.1:%d" % ST.port)
    for label, mode, cmd in SCENARIOS:
        if args.only and args.only not in label:
            continue
        run(label, mode, cmd())
    server.shutdown()
    write_fixtures()


if __name__ == "__main__":
    sys.exit(main())
