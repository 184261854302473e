"""chronik.protocol.records against Apache Kafka's own record code (tests/javacheck/BatchWriter.java).

1. Kafka writes batches (``MemoryRecords.builder`` with every CompressionType, magic v2 with kafka-clients
   4.4.0, magic v0/v1 with 3.9.2, and ``withEndTransactionMarker`` control batches); we split, validate and
   decode every one and must agree with Kafka's own reading of the same bytes (offsets, timestamps,
   sequences, keys, values, headers, codec, CRC, producer fields). For uncompressed batches our builders
   must produce the identical bytes.
2. We write batches (every codec, both legacy magics, LogAppendTime, patched offsets/epochs, raw snappy as
   librdkafka writes it) and Kafka must validate and read them as we do.
3. What Kafka rejects (a bad CRC, a v2 lz4 frame with the pre-0.10 header checksum) we reject too.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from chronik.protocol.compression import lz4_compress, snappy_compress, xxh32
from chronik.protocol.records import (
    Codec,
    ControlRecordType,
    CorruptRecordError,
    LegacyRecordBatch,
    RecordBatch,
    SimpleRecord,
    TimestampType,
    build_batch,
    build_control_batch,
    build_legacy_message_set,
    crc32c,
    split_batches,
)

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "tests" / "javacheck" / "BatchWriter.java"
V2_RELEASE = "4.4.0"
LEGACY_RELEASE = "3.9.2"  # Kafka 4.x can no longer write magic v0/v1

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="java is not on PATH (scripts/test installs a JDK 17)"
)


def _lib(release: str) -> Path:
    lib = REPO / "tests" / "javacheck" / "lib" / release
    if not (lib / f"kafka-clients-{release}.jar").is_file():
        proc = subprocess.run(["bash", str(REPO / "scripts" / "java-deps")], cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(f"scripts/java-deps could not fetch the kafka-clients jars:\n{proc.stdout}\n{proc.stderr}")
    return lib


def _java(release: str, mode: str, stdin: str = "") -> Any:
    proc = subprocess.run(
        ["java", "-cp", str(_lib(release) / "*"), str(SOURCE), mode],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JAVA_TOOL_OPTIONS": ""},
    )
    assert proc.returncode == 0, f"BatchWriter {mode} failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


@cache
def _written(release: str, mode: str) -> list[dict[str, Any]]:
    return _java(release, mode)["cases"]


def _read_with_kafka(release: str, buffers: list[bytes]) -> list[dict[str, Any]]:
    return _java(release, "read", "".join(bytes(b).hex() + "\n" for b in buffers))


def _h(x: str | None) -> bytes | None:
    return None if x is None else bytes.fromhex(x)


def _case_id(c: dict[str, Any]) -> str:
    return f"{c['name']}-v{c['magic']}-{c['codec'].lower()}"


def _assert_same_reading(buf: bytes, kafka: dict[str, Any], where: str) -> None:
    """Our split + validate + decode of ``buf`` equals Kafka's reading of it, batch by batch."""
    assert "error" not in kafka, f"{where}: Kafka could not read it: {kafka.get('error')}"
    res = split_batches(buf, allow_truncated=False, validate=True)
    assert len(res.batches) == len(kafka["batches"]), where
    for ours, k in zip(res.batches, kafka["batches"], strict=True):
        assert ours.magic == k["magic"], where
        assert ours.base_offset == k["baseOffset"] and ours.last_offset == k["lastOffset"], where
        assert ours.crc == k["checksum"], where
        assert Codec(ours.compression).name == k["compressionType"], where
        assert ours.timestamp_type.name == k["timestampType"], where
        assert ours.max_timestamp == k["maxTimestamp"], where
        assert ours.is_transactional == k["isTransactional"] and ours.is_control == k["isControlBatch"], where
        assert (ours.producer_id, ours.producer_epoch, ours.base_sequence) == (
            k["producerId"],
            k["producerEpoch"],
            k["baseSequence"],
        ), where
        assert ours.partition_leader_epoch == k["partitionLeaderEpoch"], where
        assert ours.size == k["sizeInBytes"] and ours.record_count == k["countOrNull"], where
        if isinstance(ours, RecordBatch):
            assert ours.last_sequence == k["lastSequence"], where
        got = [(r.offset, r.timestamp, r.sequence, r.key, r.value, list(r.headers)) for r in ours.records()]
        exp = [
            (
                r["offset"],
                r["timestamp"],
                r["sequence"],
                _h(r["key"]),
                _h(r["value"]),
                [(a, _h(b)) for a, b in r["headers"]],
            )
            for r in k["records"]
        ]
        assert got == exp, where


def _rebuild(c: dict[str, Any]) -> bytearray:
    """The same batch, written by our builders from the case's parameters."""
    if c["control"]:
        return build_control_batch(
            ControlRecordType[c["control_type"]],
            producer_id=c["producer_id"],
            producer_epoch=c["producer_epoch"],
            coordinator_epoch=c["coordinator_epoch"],
            base_offset=c["base_offset"],
            timestamp=c["timestamp"],
            partition_leader_epoch=c["partition_leader_epoch"],
        )
    recs = [
        SimpleRecord(_h(r["key"]), _h(r["value"]), [(a, _h(b)) for a, b in r["headers"]], r["timestamp"])
        for r in c["records"]
    ]
    common: dict[str, Any] = {
        "base_offset": c["base_offset"],
        "codec": Codec[c["codec"]],
        "timestamp_type": TimestampType[c["timestamp_type"]],
        "log_append_time": c["log_append_time"],
        "offsets": [r["offset"] for r in c["records"]],
    }
    if c["magic"] == 2:
        return build_batch(
            recs,
            producer_id=c["producer_id"],
            producer_epoch=c["producer_epoch"],
            base_sequence=c["base_sequence"],
            is_transactional=c["transactional"],
            partition_leader_epoch=c["partition_leader_epoch"],
            **common,
        )
    return build_legacy_message_set(recs, magic=c["magic"], **common)


# ------------------------------------------------------------------------- Kafka writes, we read


def test_kafka_written_batches_cover_every_codec_and_magic() -> None:
    v2 = _written(V2_RELEASE, "write-v2")
    legacy = _written(LEGACY_RELEASE, "write-legacy")
    assert {c["codec"] for c in v2} == {"NONE", "GZIP", "SNAPPY", "LZ4", "ZSTD"}
    assert {(c["magic"], c["codec"]) for c in legacy} == {
        (m, k) for m in (0, 1) for k in ("NONE", "GZIP", "SNAPPY", "LZ4")
    }
    assert any(c["control"] for c in v2)


@pytest.mark.parametrize("mode,release", [("write-v2", V2_RELEASE), ("write-legacy", LEGACY_RELEASE)])
def test_we_read_what_kafka_writes(mode: str, release: str) -> None:
    for c in _written(release, mode):
        buf = bytes.fromhex(c["hex"])
        _assert_same_reading(buf, c["kafka"], _case_id(c))
        if not c["control"]:
            # The records Kafka appended are the records we decode.
            ours = [r for b in split_batches(buf).batches for r in b.records()]
            assert [(r.offset, r.key, r.value) for r in ours] == [
                (r["offset"], _h(r["key"]), _h(r["value"])) for r in c["records"]
            ], _case_id(c)


@pytest.mark.parametrize("mode,release", [("write-v2", V2_RELEASE), ("write-legacy", LEGACY_RELEASE)])
def test_our_uncompressed_batches_are_byte_identical(mode: str, release: str) -> None:
    checked = 0
    for c in _written(release, mode):
        if c["codec"] != "NONE":
            continue
        mine = bytes(_rebuild(c))
        assert mine.hex() == c["hex"], _case_id(c)
        checked += 1
    assert checked >= (8 if mode == "write-v2" else 7)


@pytest.mark.parametrize("mode,release", [("write-v2", V2_RELEASE), ("write-legacy", LEGACY_RELEASE)])
def test_compressed_rebuilds_decode_the_same(mode: str, release: str) -> None:
    """Our compressed rebuild of each case decodes to the records Kafka's bytes decode to."""
    for c in _written(release, mode):
        if c["codec"] == "NONE":
            continue
        theirs = [r for b in split_batches(bytes.fromhex(c["hex"])).batches for r in b.records()]
        mine_batches = split_batches(_rebuild(c), validate=True).batches
        mine = [r for b in mine_batches for r in b.records()]
        assert mine == theirs, _case_id(c)


# ------------------------------------------------------------------------- we write, Kafka reads


def _big(n: int) -> bytes:
    return b"".join(b"chronik record %d " % i for i in range(n // 16 + 1))[:n]


RECS = [
    SimpleRecord(b"k1", _big(2000), [("h", b"x"), ("nul", None), ("ünï", b"\xff")], 1_700_000_000_000),
    SimpleRecord(None, os.urandom(70_000), (), 1_700_000_000_005),
    SimpleRecord(b"k3", None, (), 1_699_999_999_999),
    SimpleRecord(b"", b"", [("", b"")], 1_700_000_000_100),
    SimpleRecord(b"k5", _big(100_000), (), 1_700_000_000_050),
]
LEGACY = [r._replace(headers=()) for r in RECS]


def _with_payload(batch: bytearray, codec: Codec, payload: bytes) -> bytearray:
    """``batch`` with its records section replaced by ``payload`` (already compressed) and a fresh CRC."""
    out = bytearray(batch[:61]) + payload
    out[22] = (out[22] & ~7) | codec
    struct.pack_into(">i", out, 8, len(out) - 12)
    struct.pack_into(">I", out, 17, crc32c(bytes(out[21:])))
    return out


def test_kafka_reads_our_v2_batches() -> None:
    bufs: list[bytes] = []
    for codec in Codec:
        bufs.append(bytes(build_batch(RECS, base_offset=10, codec=codec)))
        bufs.append(
            bytes(
                build_batch(
                    RECS,
                    base_offset=2**40,
                    codec=codec,
                    producer_id=99,
                    producer_epoch=2,
                    base_sequence=2**31 - 3,
                    is_transactional=True,
                    partition_leader_epoch=5,
                )
            )
        )
        lat = build_batch(RECS[:3], codec=codec, timestamp_type=TimestampType.LOG_APPEND_TIME, log_append_time=123)
        bufs.append(bytes(lat))
        patched = build_batch(RECS[:3], codec=codec, offsets=[0, 4, 9])
        b = RecordBatch(patched)
        b.set_base_offset(5000)
        b.set_partition_leader_epoch(11)
        b.set_log_append_time(1_760_000_000_000)
        bufs.append(bytes(patched))
    for ctype in (ControlRecordType.COMMIT, ControlRecordType.ABORT):
        bufs.append(
            bytes(build_control_batch(ctype, producer_id=3, producer_epoch=4, coordinator_epoch=5, timestamp=6))
        )
    plain = build_batch(RECS)
    raw_records = bytes(RecordBatch(plain).uncompressed_records())
    bufs.append(bytes(_with_payload(plain, Codec.SNAPPY, snappy_compress(raw_records, xerial=False))))  # librdkafka
    bufs.append(b"".join(bufs[:4]))  # several batches in one buffer
    for buf, kafka in zip(bufs, _read_with_kafka(V2_RELEASE, bufs), strict=True):
        _assert_same_reading(buf, kafka, f"ours: {RecordBatch.from_buffer(buf)!r}")


def test_kafka_reads_our_legacy_message_sets() -> None:
    bufs: list[bytes] = []
    for magic in (0, 1):
        for codec in (Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4):
            bufs.append(bytes(build_legacy_message_set(LEGACY, magic=magic, base_offset=7, codec=codec)))
            bufs.append(
                bytes(
                    build_legacy_message_set(
                        LEGACY,
                        magic=magic,
                        codec=codec,
                        offsets=[3, 5, 8, 13, 21],
                        timestamp_type=TimestampType.LOG_APPEND_TIME,
                        log_append_time=777,
                    )
                )
            )
        patched = bytearray(build_legacy_message_set(LEGACY[:2], magic=1, codec=codec))
        (w,) = split_batches(patched).batches
        assert isinstance(w, LegacyRecordBatch)
        w.set_offset(41)
        w.set_log_append_time(888)
        bufs.append(bytes(patched))
    for buf, kafka in zip(bufs, _read_with_kafka(LEGACY_RELEASE, bufs), strict=True):
        _assert_same_reading(buf, kafka, f"ours: {split_batches(buf).batches[0]!r}")


def test_what_kafka_rejects_we_reject() -> None:
    good = build_batch(RECS[:2], codec=Codec.LZ4)
    bad_crc = bytearray(good)
    bad_crc[-3] ^= 0x40
    raw = bytes(RecordBatch(build_batch(RECS[:2])).uncompressed_records())
    # The pre-0.10 lz4 header checksum is only tolerated for magic v0.
    broken_lz4 = _with_payload(good, Codec.LZ4, lz4_compress(raw, broken_header_checksum=True))
    linked = bytearray(lz4_compress(raw))
    linked[4] &= ~0x20  # clear "block independence" (a linked-block frame), with a correct header checksum
    linked[6] = (xxh32(bytes(linked[4:6])) >> 8) & 0xFF
    dependent_lz4 = _with_payload(good, Codec.LZ4, bytes(linked))
    cases = [bytes(bad_crc), bytes(broken_lz4), bytes(dependent_lz4)]
    for buf, kafka in zip(cases, _read_with_kafka(V2_RELEASE, cases), strict=True):
        assert "error" in kafka, f"Kafka accepted {buf[:80].hex()}"
        with pytest.raises(CorruptRecordError):
            for b in split_batches(buf, validate=True).batches:
                b.records()
