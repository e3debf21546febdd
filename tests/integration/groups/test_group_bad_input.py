"""Bad group requests over raw sockets get the error codes clients expect, and nothing crashes:
Heartbeat/SyncGroup for an unknown group (UNKNOWN_MEMBER_ID), SyncGroup from an unknown member,
SyncGroup/Heartbeat/OffsetCommit with a stale generation (ILLEGAL_GENERATION), OffsetCommit from an
unknown member (UNKNOWN_MEMBER_ID) or to an unknown partition (UNKNOWN_TOPIC_OR_PARTITION), JoinGroup
v4 without a member id (MEMBER_ID_REQUIRED) but v2 never, a session timeout out of bounds
(INVALID_SESSION_TIMEOUT), another protocol type (INCONSISTENT_GROUP_PROTOCOL), an empty group id
(INVALID_GROUP_ID), DeleteGroups of a group with members (NON_EMPTY_GROUP), LeaveGroup of an unknown
member, OffsetFetch of an unknown group (-1, no error), and truncated group requests (the connection
is closed). The broker stays healthy throughout."""
import struct

import grouplib
from grouplib import check
from brokerlib import kstring, raw_client, request_frame  # noqa: E402 (path set by grouplib)

NONE, UNKNOWN_TOPIC_OR_PARTITION, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL = 0, 3, 22, 23
INVALID_GROUP_ID, UNKNOWN_MEMBER_ID, INVALID_SESSION_TIMEOUT, NON_EMPTY_GROUP = 24, 25, 26, 68
GROUP_ID_NOT_FOUND, MEMBER_ID_REQUIRED = 69, 79


def kbytes(b):
    return struct.pack(">i", len(b)) + b


class reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def i16(self):
        (v,) = struct.unpack_from(">h", self.d, self.p)
        self.p += 2
        return v

    def i32(self):
        (v,) = struct.unpack_from(">i", self.d, self.p)
        self.p += 4
        return v

    def i64(self):
        (v,) = struct.unpack_from(">q", self.d, self.p)
        self.p += 8
        return v

    def s(self):
        n = self.i16()
        if n < 0:
            return None
        v = self.d[self.p:self.p + n].decode()
        self.p += n
        return v

    def b(self):
        n = self.i32()
        v = self.d[self.p:self.p + n]
        self.p += n
        return v


def call(port, key, version, body, corr=1):
    c = raw_client(port, timeout_s=20)
    c.send(request_frame(key, version, corr, body))
    r = c.recv_frame()
    c.close()
    check(r is not None and r[0] == corr, f"api {key} v{version}: no answer")
    return reader(r[1])


def join(port, version, group, member="", session_ms=10000, ptype="consumer", proto="range"):
    body = kstring(group) + struct.pack(">i", session_ms)
    if version >= 1:
        body += struct.pack(">i", 10000)
    body += kstring(member) + kstring(ptype) + struct.pack(">i", 1) + kstring(proto) + kbytes(b"\x00\x01")
    r = call(port, 11, version, body)
    if version >= 2:
        r.i32()
    err, gen, proto_name, leader, member_id = r.i16(), r.i32(), r.s(), r.s(), r.s()
    return err, gen, leader, member_id, r.i32()


def sync(port, group, gen, member, assignments=()):
    body = kstring(group) + struct.pack(">i", gen) + kstring(member) + struct.pack(">i", len(assignments))
    for m, a in assignments:
        body += kstring(m) + kbytes(a)
    r = call(port, 14, 0, body)
    return r.i16(), r.b()


def heartbeat(port, group, gen, member):
    return call(port, 12, 0, kstring(group) + struct.pack(">i", gen) + kstring(member)).i16()


def commit(port, group, gen, member, topic, partition, offset):
    body = (kstring(group) + struct.pack(">i", gen) + kstring(member) + struct.pack(">q", -1) +
            struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 1) + struct.pack(">iq", partition, offset) +
            kstring(None))
    r = call(port, 8, 2, body)
    check(r.i32() == 1, "one topic")
    r.s()
    check(r.i32() == 1, "one partition")
    r.i32()
    return r.i16()


def fetch_offset(port, group, topic, partition):
    r = call(port, 9, 1, kstring(group) + struct.pack(">i", 1) + kstring(topic) + struct.pack(">ii", 1, partition))
    check(r.i32() == 1, "one topic")
    r.s()
    check(r.i32() == 1, "one partition")
    r.i32()
    offset, _md, err = r.i64(), r.s(), r.i16()
    return offset, err


def leave(port, group, member):
    return call(port, 13, 0, kstring(group) + kstring(member)).i16()


def delete(port, group):
    r = call(port, 42, 0, struct.pack(">i", 1) + kstring(group))
    r.i32()
    check(r.i32() == 1, "one result")
    r.s()
    return r.i16()


def main(binary, workdir):
    b = grouplib.brokerlib.broker(binary, workdir, grouplib.BROKER_ARGS).start()
    port = b.kafka_port
    grouplib.create_topic(b.bootstrap, "t", 2)

    check(heartbeat(port, "nope", 1, "m") == UNKNOWN_MEMBER_ID, "heartbeat, unknown group")
    check(sync(port, "nope", 1, "m")[0] == UNKNOWN_MEMBER_ID, "sync, unknown group")
    check(leave(port, "nope", "m") == UNKNOWN_MEMBER_ID, "leave, unknown group")
    check(fetch_offset(port, "nope", "t", 0) == (-1, NONE), "offset fetch, unknown group")
    check(commit(port, "nope", 3, "m", "t", 0, 5) == ILLEGAL_GENERATION, "commit with a generation, unknown group")
    check(delete(port, "nope") == GROUP_ID_NOT_FOUND, "delete, unknown group")

    err, _, _, member, _ = join(port, 4, "g4")
    check(err == MEMBER_ID_REQUIRED and member, f"JoinGroup v4 without member id: {err} {member!r}")
    err, gen, leader, member, n = join(port, 2, "gb")
    check(err == NONE and gen == 1 and leader == member and n == 1, f"JoinGroup v2: {err} gen {gen} members {n}")
    check(join(port, 2, "")[0] == INVALID_GROUP_ID, "empty group id")
    check(join(port, 2, "gb", session_ms=100)[0] == INVALID_SESSION_TIMEOUT, "session timeout below the minimum")
    check(join(port, 2, "gb", session_ms=100000000)[0] == INVALID_SESSION_TIMEOUT, "session timeout above the maximum")
    check(join(port, 2, "gb", ptype="connect")[0] == INCONSISTENT_GROUP_PROTOCOL, "another protocol type")
    check(join(port, 2, "gb", proto="roundrobin")[0] == INCONSISTENT_GROUP_PROTOCOL, "no common protocol")
    check(join(port, 2, "gb", member="ghost")[0] == UNKNOWN_MEMBER_ID, "join with an unknown member id")

    check(sync(port, "gb", gen, "ghost")[0] == UNKNOWN_MEMBER_ID, "sync from an unknown member")
    check(sync(port, "gb", gen + 5, member)[0] == ILLEGAL_GENERATION, "sync with a stale generation")
    err, assignment = sync(port, "gb", gen, member, [(member, b"\x07\x07")])
    check(err == NONE and assignment == b"\x07\x07", f"leader's sync: {err} {assignment!r}")
    check(heartbeat(port, "gb", gen, member) == NONE, "heartbeat")
    check(heartbeat(port, "gb", gen - 1, member) == ILLEGAL_GENERATION, "heartbeat, stale generation")
    check(heartbeat(port, "gb", gen, "ghost") == UNKNOWN_MEMBER_ID, "heartbeat, unknown member")

    check(commit(port, "gb", gen - 1, member, "t", 0, 5) == ILLEGAL_GENERATION, "commit, stale generation")
    check(commit(port, "gb", gen, "ghost", "t", 0, 5) == UNKNOWN_MEMBER_ID, "commit, unknown member")
    check(commit(port, "gb", -1, "", "t", 0, 5) == UNKNOWN_MEMBER_ID, "simple commit to an active group")
    check(commit(port, "gb", gen, member, "t", 7, 5) == UNKNOWN_TOPIC_OR_PARTITION, "commit, unknown partition")
    check(commit(port, "gb", gen, member, "nowhere", 0, 5) == UNKNOWN_TOPIC_OR_PARTITION, "commit, unknown topic")
    check(commit(port, "gb", gen, member, "t", 1, 42) == NONE, "commit")
    check(fetch_offset(port, "gb", "t", 1) == (42, NONE), "offset fetch")
    check(fetch_offset(port, "gb", "t", 0) == (-1, NONE), "offset fetch, no commit")

    check(delete(port, "gb") == NON_EMPTY_GROUP, "delete a group with members")
    check(leave(port, "gb", "ghost") == UNKNOWN_MEMBER_ID, "leave, unknown member")
    check(leave(port, "gb", member) == NONE, "leave")
    check(commit(port, "gb", -1, "", "t", 0, 9) == NONE, "simple commit to an empty group")
    check(delete(port, "gb") == NONE, "delete an empty group")
    check(fetch_offset(port, "gb", "t", 1) == (-1, NONE), "offsets of a deleted group")

    # Truncated group requests: the connection closes, the broker lives on.
    for key, version in ((11, 5), (14, 3), (8, 7), (9, 5), (12, 3), (13, 3), (16, 3), (15, 4), (42, 2), (10, 3)):
        c = raw_client(port)
        c.send(request_frame(key, version, 9, b"\x00\x05ab"))
        check(c.closed_by_peer(10), f"api {key} v{version} truncated: the connection should close")
        c.close()
    status, _ = b.health()
    check(status == 200, "health after bad input")
    check(heartbeat(port, "nope", 1, "m") == UNKNOWN_MEMBER_ID, "still answering")
    rc, _ = b.stop()
    check(rc == 0, f"broker exit code {rc}")


if __name__ == "__main__":
    grouplib.run_test(main)
