"""Reading a tributary-broker partition directory from the outside, for the storage fault tests: the
segment files (`<20-digit base offset>.log`) and the RecordBatch v2 headers in them (see
cluster/storage/segment.h), plus brokerlib from tests/integration/broker."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration", "broker"))
import brokerlib  # noqa: E402,F401

BATCH_HEADER = 61  # bytes of a RecordBatch v2 header; the records follow
LOG_OVERHEAD = 12  # baseOffset + batchLength, not counted in batchLength


def partition_dir(data_dir, topic, partition):
    return os.path.join(data_dir, f"{topic}-{partition}")


def segments(pdir):
    """[(base offset, path of the .log)] sorted by base offset."""
    out = []
    for f in os.listdir(pdir):
        stem, ext = os.path.splitext(f)
        if ext == ".log" and len(stem) == 20 and stem.isdigit():
            out.append((int(stem), os.path.join(pdir, f)))
    return sorted(out)


def batches(path):
    """[(file position, base offset, total bytes, last offset)] of the whole batches in a segment file."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    pos = 0
    while pos + BATCH_HEADER <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        total = length + LOG_OVERHEAD
        if length < BATCH_HEADER - LOG_OVERHEAD or pos + total > len(data):
            break
        (last_delta,) = struct.unpack_from(">i", data, pos + 23)
        out.append((pos, base, total, base + last_delta))
        pos += total
    return out
