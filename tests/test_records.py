"""chronik.protocol.records: batch views, patching, validation, splitting, legacy sets, builders, fuzzing."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronik.protocol import records as R
from chronik.protocol.compression import compress, lz4_compress, snappy_compress
from chronik.protocol.records import (
    LOG_OVERHEAD,
    RECORD_BATCH_OVERHEAD,
    BatchTooLargeError,
    Codec,
    ControlRecordType,
    CorruptRecordError,
    CrcMismatchError,
    EndTransactionMarker,
    InvalidRecordError,
    LegacyRecordBatch,
    Record,
    RecordBatch,
    RecordDecompressionError,
    RecordDecompressionLimitError,
    SimpleRecord,
    TimestampType,
    TruncatedBatchError,
    UnsupportedMagicError,
    build_batch,
    build_control_batch,
    build_legacy_message_set,
    crc32c,
    decode_control_key,
    decode_end_transaction_marker,
    encode_record,
    split_batches,
)

ALL_CODECS = list(Codec)
LEGACY_CODECS = [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4]

RECS = [
    SimpleRecord(b"key-1", b"value-1", [("h1", b"x"), ("null", None), ("ünï", b"\x00\xff")], 1_700_000_000_000),
    SimpleRecord(None, b"null key", (), 1_700_000_000_005),
    SimpleRecord(b"key-3", None, [("", b"")], 1_699_999_999_990),
    SimpleRecord(b"", b"", (), 1_700_000_000_100),
    SimpleRecord(b"k5", b"v" * 300, (), 1_700_000_000_050),
]
LEGACY_RECS = [r._replace(headers=()) for r in RECS]


def _expected(recs: list[SimpleRecord], offsets: list[int]) -> list[tuple[object, ...]]:
    return [
        (o, r.timestamp, r.key, r.value, tuple((k, v) for k, v in r.headers))
        for r, o in zip(recs, offsets, strict=True)
    ]


def _got(records: list[Record]) -> list[tuple[object, ...]]:
    return [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in records]


# ------------------------------------------------------------------------------------- wire form


def test_record_wire_form_is_exact() -> None:
    # length 8 (zigzag 16), attributes 0, timestampDelta 0, offsetDelta 0, key len 1 (zigzag 2) "k",
    # value len 1 "v", 0 headers.
    assert encode_record(0, 0, b"k", b"v") == bytes.fromhex("10 00 00 00 02 6b 02 76 00")
    # null key and value are varint -1 (zigzag 1); one header "h" -> null value.
    assert encode_record(1, -1, None, None, [("h", None)]) == bytes.fromhex("12 00 01 02 01 01 02 02 68 01")
    # timestampDelta 300 -> zigzag 600 (2 bytes), offsetDelta 64 -> zigzag 128 (2 bytes).
    assert encode_record(64, 300, None, b"") == bytes.fromhex("10 00 d8 04 80 01 01 00 00")


@pytest.mark.parametrize("value", [0, 1, -1, 63, -64, 64, 2**31 - 1, -(2**31), 300, -300])
def test_varint_round_trip(value: int) -> None:
    enc = R._varint_bytes(value)
    assert len(enc) <= 5
    assert R._read_varint(enc, 0, len(enc), "t") == (value, len(enc))


@pytest.mark.parametrize("value", [0, -1, 2**63 - 1, -(2**63), 2**40, -(2**35)])
def test_varlong_round_trip(value: int) -> None:
    enc = R._varlong_bytes(value)
    assert len(enc) <= 10
    assert R._read_varlong(enc, 0, len(enc), "t") == (value, len(enc))


def test_varints_longer_than_allowed() -> None:
    with pytest.raises(InvalidRecordError, match="longer than 5"):
        R._read_varint(b"\x80\x80\x80\x80\x80\x01", 0, 6, "t")
    with pytest.raises(InvalidRecordError, match="longer than 10"):
        R._read_varlong(b"\x80" * 10 + b"\x01", 0, 11, "t")
    with pytest.raises(InvalidRecordError, match="past the end"):
        R._read_varint(b"\x80\x80", 0, 2, "t")
    # As Java's int arithmetic: bits of the 5th byte beyond 32 are dropped.
    assert (
        R._read_varint(b"\xfe\xff\xff\xff\x7f", 0, 5, "t")[0] == R._read_varint(b"\xfe\xff\xff\xff\x0f", 0, 5, "t")[0]
    )


# --------------------------------------------------------------------------------- v2 round trip


@pytest.mark.parametrize("codec", ALL_CODECS)
def test_v2_round_trip_every_codec(codec: Codec) -> None:
    buf = build_batch(
        RECS,
        base_offset=1000,
        codec=codec,
        producer_id=4242,
        producer_epoch=7,
        base_sequence=99,
        is_transactional=True,
        partition_leader_epoch=3,
    )
    b = RecordBatch(buf)
    b.validate()
    h = b.header()
    assert h == (
        1000,
        len(buf) - 12,
        3,
        2,
        b.crc,
        codec | 0x10,
        4,
        RECS[0].timestamp,
        max(r.timestamp for r in RECS),
        4242,
        7,
        99,
        5,
    )
    assert (b.base_offset, b.last_offset, b.next_offset, b.record_count) == (1000, 1004, 1005, 5)
    assert b.compression == codec and b.is_compressed == (codec != Codec.NONE)
    assert b.is_transactional and not b.is_control and not b.has_delete_horizon
    assert b.timestamp_type == TimestampType.CREATE_TIME
    assert (b.producer_id, b.producer_epoch, b.base_sequence, b.last_sequence) == (4242, 7, 99, 103)
    assert b.crc == crc32c(bytes(buf[21:]))
    recs = b.records()
    assert _got(recs) == _expected(RECS, list(range(1000, 1005)))
    assert [r.sequence for r in recs] == [99, 100, 101, 102, 103]
    assert all(r.timestamp_type == TimestampType.CREATE_TIME for r in recs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    codec=st.sampled_from(ALL_CODECS),
    base=st.integers(0, 2**62),
    recs=st.lists(
        st.builds(
            SimpleRecord,
            key=st.none() | st.binary(max_size=40),
            value=st.none() | st.binary(max_size=200),
            headers=st.lists(st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=20)), max_size=3),
            timestamp=st.just(-1) | st.integers(0, 2**50),
        ),
        min_size=1,
        max_size=20,
    ),
    gaps=st.lists(st.integers(1, 1000), min_size=20, max_size=20),
)
def test_v2_round_trip_random(codec: Codec, base: int, recs: list[SimpleRecord], gaps: list[int]) -> None:
    offsets = [base]
    for g in gaps[: len(recs) - 1]:
        offsets.append(offsets[-1] + g)
    b = RecordBatch(build_batch(recs, base_offset=base, codec=codec, offsets=offsets))
    b.validate()
    assert b.last_offset == offsets[-1]
    assert _got(b.records()) == _expected(recs, offsets)


def test_empty_and_no_timestamp_batches() -> None:
    assert build_batch([]) == bytearray()
    b = RecordBatch(build_batch([SimpleRecord(b"k", b"v"), SimpleRecord(None, b"w")]))
    assert (b.base_timestamp, b.max_timestamp) == (-1, -1)
    assert [r.timestamp for r in b.records()] == [-1, -1]


def test_sequence_wraps_like_kafka() -> None:
    b = RecordBatch(
        build_batch([SimpleRecord(value=b"x")] * 3, producer_id=1, producer_epoch=0, base_sequence=2**31 - 2)
    )
    assert [r.sequence for r in b.records()] == [2**31 - 2, 2**31 - 1, 0]
    assert b.last_sequence == 0


def test_delete_horizon() -> None:
    b = RecordBatch(build_batch(RECS[:2], delete_horizon_ms=1_800_000_000_000))
    assert b.has_delete_horizon and b.delete_horizon_ms == 1_800_000_000_000 == b.base_timestamp
    assert [r.timestamp for r in b.records()] == [r.timestamp for r in RECS[:2]]


def test_builder_argument_checks() -> None:
    with pytest.raises(ValueError):
        build_batch(RECS, is_transactional=True)
    with pytest.raises(ValueError):
        build_batch(RECS, producer_id=1)
    with pytest.raises(ValueError):
        build_batch(RECS, producer_id=1, producer_epoch=0)
    with pytest.raises(ValueError):
        build_batch([SimpleRecord(timestamp=-5)])
    with pytest.raises(ValueError):
        build_batch(RECS[:2], offsets=[5, 5])
    with pytest.raises(ValueError):
        build_batch([SimpleRecord(headers=[(None, b"x")])])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        build_batch(RECS, base_offset=2**63)
    with pytest.raises(ValueError):
        build_legacy_message_set(RECS, magic=1)  # headers
    with pytest.raises(ValueError):
        build_legacy_message_set(LEGACY_RECS, magic=1, codec=Codec.ZSTD)
    with pytest.raises(ValueError):
        build_legacy_message_set(LEGACY_RECS, magic=2)


# ----------------------------------------------------------------------------------- validation


def _small_batch(codec: Codec = Codec.NONE) -> bytearray:
    return build_batch(RECS[:3], base_offset=50, codec=codec, partition_leader_epoch=2)


@pytest.mark.parametrize("codec", [Codec.NONE, Codec.ZSTD])
def test_any_flipped_bit_in_crc_range_fails_validation(codec: Codec) -> None:
    buf = _small_batch(codec)
    RecordBatch(buf).validate()
    for pos in range(17, len(buf)):  # the CRC itself and everything it covers
        for bit in range(8):
            bad = bytearray(buf)
            bad[pos] ^= 1 << bit
            with pytest.raises(CrcMismatchError):
                RecordBatch(bad).validate()


def test_flipped_bits_outside_crc_range() -> None:
    buf = _small_batch()
    for pos in range(17):
        for bit in range(8):
            bad = bytearray(buf)
            bad[pos] ^= 1 << bit
            b = RecordBatch(bad)
            if pos < 8 or 12 <= pos < 16:  # baseOffset, partitionLeaderEpoch: not covered
                b.validate()
            elif pos < 12:
                with pytest.raises(CorruptRecordError, match="batchLength"):
                    b.validate()
            else:
                with pytest.raises(UnsupportedMagicError):
                    b.validate()


def test_crc_error_details() -> None:
    bad = _small_batch()
    bad[-1] ^= 0xFF
    with pytest.raises(CrcMismatchError) as ei:
        RecordBatch(bad).validate()
    assert ei.value.stored == RecordBatch(bad).crc and ei.value.computed == crc32c(bytes(bad[21:]))
    assert ei.value.position == 17 and isinstance(ei.value, ValueError) and ei.value.error_code == 2
    assert not RecordBatch(bad).is_valid()


@pytest.mark.parametrize("n", [0, 1, 12, 17, 60])
def test_too_short_for_a_header(n: int) -> None:
    with pytest.raises(CorruptRecordError):
        RecordBatch(_small_batch()[:n])


def test_truncated_view_fails_validation() -> None:
    buf = _small_batch()
    for n in range(61, len(buf)):
        with pytest.raises(CorruptRecordError):
            RecordBatch(buf[:n]).validate()
        with pytest.raises(TruncatedBatchError):
            RecordBatch.from_buffer(buf[:n])
    assert RecordBatch.from_buffer(bytes(buf) + b"extra").size == len(buf)
    assert RecordBatch.from_buffer(b"xx" + bytes(buf), 2).base_offset == 50


# ------------------------------------------------------------------------------------- patching


def test_patch_base_offset_and_leader_epoch_keep_crc() -> None:
    buf = _small_batch(Codec.LZ4)
    crc = RecordBatch(buf).crc
    b = RecordBatch(buf)
    b.set_base_offset(123_456_789_012)
    b.set_partition_leader_epoch(77)
    b.validate()
    assert (b.base_offset, b.partition_leader_epoch, b.crc) == (123_456_789_012, 77, crc)
    assert [r.offset for r in b.records()] == [123_456_789_012 + i for i in range(3)]
    b.set_last_offset(1000)
    assert (b.base_offset, b.last_offset) == (998, 1000)
    b.validate()
    # Patching through a view of a larger buffer writes into that buffer.
    big = bytearray(b"\x00" * 5) + _small_batch()
    v = split_batches(memoryview(big)[5:]).batches[0]
    assert isinstance(v, RecordBatch)
    v.set_base_offset(9)
    assert struct.unpack_from(">q", big, 5)[0] == 9
    with pytest.raises(ValueError):
        b.set_partition_leader_epoch(2**31)


def test_patching_a_read_only_buffer() -> None:
    b = RecordBatch(bytes(_small_batch()))
    for call in (
        lambda: b.set_base_offset(1),
        lambda: b.set_partition_leader_epoch(1),
        lambda: b.set_log_append_time(5),
    ):
        with pytest.raises(TypeError):
            call()


@pytest.mark.parametrize("codec", [Codec.NONE, Codec.GZIP])
def test_log_append_time(codec: Codec) -> None:
    buf = build_batch(RECS, codec=codec, producer_id=1, producer_epoch=1, base_sequence=0, is_transactional=True)
    b = RecordBatch(buf)
    b.set_log_append_time(1_750_000_000_000)
    b.validate()
    assert b.timestamp_type == TimestampType.LOG_APPEND_TIME and b.max_timestamp == 1_750_000_000_000
    assert b.attributes == codec | 0x10 | 0x08 and b.is_transactional
    recs = b.records()
    assert {r.timestamp for r in recs} == {1_750_000_000_000}
    assert all(r.timestamp_type == TimestampType.LOG_APPEND_TIME for r in recs)
    before = bytes(buf)
    b.set_log_append_time(1_750_000_000_000)  # unchanged: a no-op
    assert bytes(buf) == before
    b.set_max_timestamp(TimestampType.CREATE_TIME, 5)
    b.validate()
    assert b.timestamp_type == TimestampType.CREATE_TIME and b.max_timestamp == 5
    # Same bytes as building the batch with LogAppendTime in the first place.
    lat = build_batch(RECS, codec=Codec.NONE, timestamp_type=TimestampType.LOG_APPEND_TIME, log_append_time=42)
    plain = build_batch(RECS, codec=Codec.NONE)
    RecordBatch(plain).set_log_append_time(42)
    assert plain == lat


def test_log_append_time_clears_unknown_attribute_bits_like_kafka() -> None:
    buf = _small_batch()
    buf[21] = 0x01  # an unknown high attribute bit
    RecordBatch(buf).set_log_append_time(1)
    assert RecordBatch(buf).attributes == 0x08


# ------------------------------------------------------------------------------------ splitting


def _three() -> tuple[bytes, list[int]]:
    parts = [
        build_batch(RECS, base_offset=0),
        build_batch(RECS[:2], base_offset=5, codec=Codec.SNAPPY),
        build_batch(RECS[:1], base_offset=7, codec=Codec.ZSTD),
    ]
    return b"".join(parts), [len(p) for p in parts]


def test_split_concatenated_batches() -> None:
    buf, sizes = _three()
    res = split_batches(buf, validate=True)
    assert res.complete and res.truncated_bytes == 0
    assert [b.size for b in res.batches] == sizes
    assert [b.base_offset for b in res.batches] == [0, 5, 7]
    assert [len(b.records()) for b in res.batches] == [5, 2, 1]
    assert split_batches(b"") == ([], 0)


def test_split_truncated_tail_is_reported_not_corrupt() -> None:
    buf, sizes = _three()
    start = sizes[0] + sizes[1]
    for cut in range(start + 1, len(buf)):
        res = split_batches(buf[:cut])
        assert len(res.batches) == 2 and res.truncated_bytes == cut - start
        assert not res.complete
        with pytest.raises(TruncatedBatchError) as ei:
            split_batches(buf[:cut], allow_truncated=False)
        assert ei.value.position == start


@pytest.mark.parametrize("size", [-1, -(2**31), 0, 13])
def test_split_bad_sizes(size: int) -> None:
    buf = bytearray(_small_batch())
    struct.pack_into(">i", buf, 8, size)
    with pytest.raises(CorruptRecordError, match="minimum record overhead"):
        split_batches(buf)


def test_split_v2_size_below_header_and_past_end() -> None:
    buf = bytearray(_small_batch())
    struct.pack_into(">i", buf, 8, 40)
    with pytest.raises(CorruptRecordError, match="minimum allowed overhead"):
        split_batches(buf)
    struct.pack_into(">i", buf, 8, 2**31 - 1)  # a length past the end: Fetch-style truncation
    assert split_batches(buf).truncated_bytes == len(buf)
    with pytest.raises(TruncatedBatchError):
        split_batches(buf, allow_truncated=False)


@pytest.mark.parametrize("magic", [3, 127, 128, 255])
def test_split_wrong_magic(magic: int) -> None:
    buf = bytearray(_small_batch())
    buf[16] = magic
    with pytest.raises(UnsupportedMagicError) as ei:
        split_batches(buf)
    assert ei.value.magic == (magic if magic < 128 else magic - 256)


def test_split_limits_and_legacy_switch() -> None:
    buf, sizes = _three()
    with pytest.raises(BatchTooLargeError) as ei:
        split_batches(buf, max_batch_size=sizes[0] - 1)
    assert ei.value.error_code == 10
    assert len(split_batches(buf, max_batch_size=max(sizes)).batches) == 3
    legacy = build_legacy_message_set(LEGACY_RECS, magic=1)
    with pytest.raises(UnsupportedMagicError):
        split_batches(legacy, allow_legacy=False)


def test_split_validate_points_at_the_bad_batch() -> None:
    buf, sizes = _three()
    bad = bytearray(buf)
    bad[sizes[0] + 40] ^= 1
    with pytest.raises(CrcMismatchError) as ei:
        split_batches(bad, validate=True)
    assert ei.value.position == sizes[0] + 17
    assert len(split_batches(bad).batches) == 3  # splitting alone does not check CRCs


def test_mixed_legacy_and_v2() -> None:
    buf = bytes(build_legacy_message_set(LEGACY_RECS[:2], magic=0)) + bytes(build_batch(RECS[:1], base_offset=2))
    res = split_batches(buf, validate=True)
    assert [type(b).__name__ for b in res.batches] == ["LegacyRecordBatch", "LegacyRecordBatch", "RecordBatch"]
    assert [b.last_offset for b in res.batches] == [0, 1, 2]


# ---------------------------------------------------------------------------------- bad records


def _batch_with_payload(payload: bytes, count: int, codec: Codec = Codec.NONE) -> bytearray:
    """A v2 batch around an arbitrary (possibly broken) records section, with a valid CRC."""
    section = payload if codec == Codec.NONE else compress(codec, payload)
    out = bytearray(61) + section
    R._HEADER.pack_into(out, 0, 0, len(out) - 12, -1, 2, 0, codec, max(count - 1, 0), 0, 0, -1, -1, -1, count)
    struct.pack_into(">I", out, 17, crc32c(bytes(out[21:])))
    return out


GOOD = encode_record(0, 0, b"k", b"v", [("h", b"x")])


def _rec(body_hex: str) -> bytes:
    """A record with the given body (hex) and its correct length prefix."""
    body = bytes.fromhex(body_hex)
    return R._varint_bytes(len(body)) + body


@pytest.mark.parametrize(
    "payload,count,match",
    [
        (GOOD, 2, "premature EOF"),
        (GOOD + GOOD, 1, "records still remaining"),
        (GOOD[:-1], 1, "invalid record size"),
        (b"\x01" + GOOD[1:], 1, "invalid record size"),  # length -1
        (b"\x7f" + GOOD[1:], 1, "invalid record size"),  # length -64
        (R._varint_bytes(13) + GOOD[1:] + b"\x00", 1, "expected to read 13"),  # body longer than its fields
        (R._varint_bytes(11) + GOOD[1:], 1, "runs past"),  # body shorter than its fields
        (b"\x00", 1, "empty record body"),
        (_rec("00 00 00 20 6b 02 76 00"), 1, "key of 16 bytes"),
        (_rec("00 00 00 02 6b 20 76 00"), 1, "value of 16 bytes"),
        (_rec("00 00 00 02 6b 02 76 01"), 1, "invalid number of record headers"),
        (_rec("00 00 00 02 6b 02 76 02"), 1, "more than the remaining"),
        (_rec("00 00 00 02 6b 02 76 02 01 00"), 1, "negative header key size"),
        (_rec("00 00 00 02 6b 02 76 02 08 00"), 1, "header key runs past"),
        (_rec("00 00 00 02 6b 02 76 02 00 08 00"), 1, "header value runs past"),
        (_rec("00 80 80 80 80 80 80 80 80 80 80 01 00 01 01 00"), 1, "longer than 10"),
        (_rec("00 00 80 80 80 80 80 01 01 01 00"), 1, "longer than 5"),
        (bytes.fromhex("80 80 80 80 80 01"), 1, "longer than 5"),
    ],
)
@pytest.mark.parametrize("codec", [Codec.NONE, Codec.LZ4])
def test_malformed_records(payload: bytes, count: int, match: str, codec: Codec) -> None:
    b = RecordBatch(_batch_with_payload(payload, count, codec))
    b.validate()  # the CRC is fine: the records are what is wrong
    with pytest.raises(InvalidRecordError, match=match) as ei:
        b.records()
    assert ei.value.error_code == 87


def test_record_counts() -> None:
    b = RecordBatch(_batch_with_payload(b"garbage", 0))
    assert b.records() == []  # Kafka reads nothing from a batch that declares 0 records
    with pytest.raises(InvalidRecordError, match="invalid record count"):
        RecordBatch(_batch_with_payload(GOOD, -1)).records()
    huge = RecordBatch(_batch_with_payload(GOOD, 2**31 - 1))
    with pytest.raises(InvalidRecordError, match="premature EOF"):
        huge.records()


def test_corrupt_compressed_records() -> None:
    good = _batch_with_payload(GOOD, 1, Codec.GZIP)
    section = bytearray(good[61:])
    section[len(section) // 2] ^= 0xFF
    bad = _batch_with_payload(b"", 1)
    bad[61:] = section
    bad[21:23] = b"\x00\x01"
    struct.pack_into(">i", bad, 8, len(bad) - 12)
    struct.pack_into(">I", bad, 17, crc32c(bytes(bad[21:])))
    with pytest.raises(RecordDecompressionError):
        RecordBatch(bad).records()
    unknown = bytearray(good)
    unknown[22] = 0x05  # codec id 5
    with pytest.raises(RecordDecompressionError):
        RecordBatch(unknown).records()
    assert RecordBatch(unknown).compression == 5


def test_decompression_limit_on_records() -> None:
    b = RecordBatch(build_batch([SimpleRecord(value=bytes(1 << 20))], codec=Codec.ZSTD))
    with pytest.raises(RecordDecompressionLimitError) as ei:
        b.records(max_uncompressed_size=100_000)
    assert isinstance(ei.value, CorruptRecordError)
    assert len(b.records(max_uncompressed_size=2 << 20)[0].value or b"") == 1 << 20


# ------------------------------------------------------------------------------------- control


@pytest.mark.parametrize("ctype", [ControlRecordType.COMMIT, ControlRecordType.ABORT])
def test_control_batch(ctype: ControlRecordType) -> None:
    buf = build_control_batch(
        ctype, producer_id=77, producer_epoch=3, coordinator_epoch=9, base_offset=40, timestamp=1234
    )
    b = RecordBatch(buf)
    b.validate()
    assert b.is_control and b.is_transactional and b.base_sequence == -1 and b.record_count == 1
    assert (b.producer_id, b.producer_epoch, b.base_timestamp, b.max_timestamp) == (77, 3, 1234, 1234)
    (rec,) = b.records()
    assert rec.key == struct.pack(">hh", 0, ctype) and rec.value == struct.pack(">hi", 0, 9)
    assert b.end_transaction_marker() == EndTransactionMarker(ctype, 9, 0)
    assert decode_control_key(rec.key).control_type == ctype


def test_control_key_and_marker_decoding() -> None:
    assert decode_control_key(b"\x00\x00\x00\x05").control_type == ControlRecordType.KRAFT_VERSION
    assert decode_control_key(b"\x00\x07\x00\x63extra").control_type == ControlRecordType.UNKNOWN
    for bad_key in (None, b"", b"\x00\x00\x00", b"\xff\xff\x00\x00"):
        with pytest.raises(InvalidRecordError):
            decode_control_key(bad_key)
    commit = b"\x00\x00\x00\x01"
    assert decode_end_transaction_marker(commit, b"\x00\x01\x00\x00\x00\x02more") == (ControlRecordType.COMMIT, 2, 1)
    for key, value in (
        (commit, None),
        (commit, b"\x00\x00\x00\x00\x00"),
        (commit, b"\xff\xff\x00\x00\x00\x00"),
        (b"\x00\x00\x00\x02", b"\x00" * 6),
    ):
        with pytest.raises(InvalidRecordError):
            decode_end_transaction_marker(key, value)
    with pytest.raises(ValueError):
        build_control_batch(ControlRecordType.LEADER_CHANGE, producer_id=1, producer_epoch=0)
    assert RecordBatch(_small_batch()).end_transaction_marker() is None


# -------------------------------------------------------------------------------------- legacy


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", LEGACY_CODECS)
@pytest.mark.parametrize("lat", [False, True])
def test_legacy_round_trip(magic: int, codec: Codec, lat: bool) -> None:
    offsets = [300, 302, 307, 308, 400]
    tt = TimestampType.LOG_APPEND_TIME if lat else TimestampType.CREATE_TIME
    buf = build_legacy_message_set(
        LEGACY_RECS, magic=magic, base_offset=300, codec=codec, offsets=offsets, timestamp_type=tt, log_append_time=99
    )
    res = split_batches(buf, validate=True)
    assert res.complete
    batches = res.batches
    assert all(isinstance(b, LegacyRecordBatch) and b.magic == magic for b in batches)
    recs = [r for b in batches for r in b.records()]
    if magic == 0:
        ts = [-1] * 5
        types = {TimestampType.NO_TIMESTAMP_TYPE}
    elif lat:
        ts = [99] * 5
        types = {TimestampType.LOG_APPEND_TIME}
    else:
        ts = [r.timestamp for r in LEGACY_RECS]
        types = {TimestampType.CREATE_TIME}
    assert [(r.offset, r.timestamp, r.key, r.value) for r in recs] == [
        (o, t, r.key, r.value) for o, t, r in zip(offsets, ts, LEGACY_RECS, strict=True)
    ]
    assert {r.timestamp_type for r in recs} == types
    if codec == Codec.NONE:
        assert [b.offset for b in batches] == offsets
    else:
        (w,) = batches
        assert isinstance(w, LegacyRecordBatch)
        assert (w.offset, w.last_offset, w.base_offset, w.compression, w.key) == (400, 400, 300, codec, None)
        if magic == 1:
            assert w.timestamp == (99 if lat else max(r.timestamp for r in LEGACY_RECS))
        # Inner offsets: v1 relative to the first, v0 absolute (MemoryRecordsBuilder.toInnerOffset).
        from chronik.protocol.compression import decompress

        inner = decompress(codec, w.value or b"", max_size=1 << 20, magic=magic)
        first_inner = struct.unpack_from(">q", inner, 0)[0]
        assert first_inner == (0 if magic == 1 else 300)


def test_legacy_message_layout() -> None:
    (e,) = split_batches(build_legacy_message_set([SimpleRecord(b"k", b"v", (), 5)], magic=1, base_offset=3)).batches
    raw = bytes(e.buffer)
    body = bytes([1, 0]) + struct.pack(">q", 5) + struct.pack(">i", 1) + b"k" + struct.pack(">i", 1) + b"v"
    assert raw == struct.pack(">qi", 3, 4 + len(body)) + struct.pack(">I", zlib.crc32(body)) + body
    assert isinstance(e, LegacyRecordBatch)
    assert (e.crc, e.attributes, e.timestamp, e.key, e.value) == (zlib.crc32(body), 0, 5, b"k", b"v")
    (e0,) = split_batches(build_legacy_message_set([SimpleRecord(None, None)], magic=0)).batches
    assert bytes(e0.buffer)[16:] == bytes([0, 0]) + struct.pack(">ii", -1, -1)


def test_legacy_crc_and_framing_errors() -> None:
    buf = build_legacy_message_set(LEGACY_RECS[:1], magic=1)
    for pos in range(16, len(buf)):
        bad = bytearray(buf)
        bad[pos] ^= 0x10
        with pytest.raises(CorruptRecordError):
            LegacyRecordBatch(bad).validate()
    bad = bytearray(buf)
    struct.pack_into(">i", bad, 8, 999)
    with pytest.raises(CorruptRecordError, match="entry size"):
        LegacyRecordBatch(bad).validate()
    with pytest.raises(CorruptRecordError):
        LegacyRecordBatch(buf[:20])


def _legacy_wrapper(
    inner: bytes, *, magic: int, offset: int, codec: Codec = Codec.GZIP, value_null: bool = False
) -> bytes:
    value = None if value_null else compress(codec, inner, magic=magic)
    msg = R._legacy_message(magic, codec, 1, None, value)
    return struct.pack(">qi", offset, len(msg)) + msg


def _inner(magic: int, offsets: list[int], codec: int = 0) -> bytes:
    out = b""
    for o in offsets:
        msg = R._legacy_message(magic, codec, 10, b"k", b"v")
        out += struct.pack(">qi", o, len(msg)) + msg
    return out


def test_legacy_wrapper_quirks() -> None:
    # librdkafka may send a v1 wrapper with offset 0: inner offsets are then taken as they are.
    (w,) = split_batches(_legacy_wrapper(_inner(1, [0, 1, 2]), magic=1, offset=0)).batches
    assert [r.offset for r in w.records()] == [0, 1, 2]
    (w,) = split_batches(_legacy_wrapper(_inner(1, [0, 1, 2]), magic=1, offset=1000)).batches
    assert [r.offset for r in w.records()] == [998, 999, 1000]
    with pytest.raises(InvalidRecordError, match="wrapper offset"):
        split_batches(_legacy_wrapper(_inner(1, [0, 1, 5]), magic=1, offset=3)).batches[0].records()
    with pytest.raises(InvalidRecordError, match="must not be compressed"):
        split_batches(_legacy_wrapper(_inner(1, [0], codec=1), magic=1, offset=0)).batches[0].records()
    with pytest.raises(InvalidRecordError, match="no inner records"):
        split_batches(_legacy_wrapper(b"", magic=0, offset=0)).batches[0].records()
    with pytest.raises(InvalidRecordError, match="null value"):
        split_batches(_legacy_wrapper(b"", magic=0, offset=0, value_null=True)).batches[0].records()
    # A partial inner entry at the end is ignored, as Kafka's DataLogInputStream does.
    inner = _inner(0, [5, 6])
    (w,) = split_batches(_legacy_wrapper(inner + inner[:20], magic=0, offset=6)).batches
    assert [r.offset for r in w.records()] == [5, 6]
    bad_inner = bytearray(_inner(0, [5]))
    bad_inner[-1] ^= 1
    with pytest.raises(CrcMismatchError):
        split_batches(_legacy_wrapper(bytes(bad_inner), magic=0, offset=5)).batches[0].records()


def test_legacy_lz4_v0_uses_the_old_header_checksum() -> None:
    inner = _inner(0, [0, 1])
    w = _legacy_wrapper(inner, magic=0, offset=1, codec=Codec.LZ4)
    assert lz4_compress(inner, broken_header_checksum=True) in w
    assert len(split_batches(w).batches[0].records()) == 2
    # The same broken header in a v1 wrapper is rejected, as Kafka does.
    msg = R._legacy_message(1, Codec.LZ4, 1, None, lz4_compress(_inner(1, [0]), broken_header_checksum=True))
    with pytest.raises(RecordDecompressionError):
        LegacyRecordBatch(struct.pack(">qi", 0, len(msg)) + msg).records()


def test_legacy_set_log_append_time() -> None:
    buf = build_legacy_message_set(LEGACY_RECS[:2], magic=1, codec=Codec.SNAPPY)
    (w,) = split_batches(buf).batches
    assert isinstance(w, LegacyRecordBatch)
    w.set_log_append_time(555)
    w.validate()
    assert w.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert [r.timestamp for r in w.records()] == [555, 555]
    w.set_offset(10)
    w.validate()
    assert [r.offset for r in w.records()] == [9, 10]
    (v0,) = split_batches(build_legacy_message_set(LEGACY_RECS[:1], magic=0)).batches
    with pytest.raises(ValueError):
        v0.set_log_append_time(1)  # type: ignore[union-attr]


def test_snappy_raw_payload_is_accepted_in_a_batch() -> None:
    payload = b"".join(encode_record(i, 0, None, b"v%d" % i) for i in range(3))
    raw = bytes(snappy_compress(payload, xerial=False))
    b = _batch_with_payload(b"", 3)
    b[61:] = raw
    b[21:23] = b"\x00\x02"
    struct.pack_into(">i", b, 8, len(b) - 12)
    struct.pack_into(">I", b, 17, crc32c(bytes(b[21:])))
    assert [r.value for r in RecordBatch(b).records()] == [b"v0", b"v1", b"v2"]


# ----------------------------------------------------------------------------------------- fuzz


def _exercise(buf: bytes | bytearray) -> None:
    """Everything a broker does with untrusted bytes; only CorruptRecordError may come out."""
    try:
        res = split_batches(buf, max_batch_size=1 << 20)
        for b in res.batches:
            b.is_valid()
            b.records(max_uncompressed_size=1 << 16)
            if isinstance(b, RecordBatch):
                b.header()
                b.end_transaction_marker()
            else:
                _ = (b.base_offset, b.key, b.value, b.timestamp)
    except CorruptRecordError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data: bytes) -> None:
    _exercise(data)


_SEEDS = [bytes(build_batch(RECS, codec=c, producer_id=1, producer_epoch=1, base_sequence=1)) for c in ALL_CODECS] + [
    bytes(build_legacy_message_set(LEGACY_RECS, magic=m, codec=c)) for m in (0, 1) for c in LEGACY_CODECS
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(_SEEDS), data=st.data(), fix_crc=st.booleans())
def test_fuzz_mutated_batches(seed: bytes, data: st.DataObject, fix_crc: bool) -> None:
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    buf = buf[: data.draw(st.integers(0, len(buf)))]
    if fix_crc and len(buf) >= RECORD_BATCH_OVERHEAD and buf[16] == 2:
        # Recompute the CRC so the mutation reaches decompression and record decoding.
        struct.pack_into(">I", buf, 17, crc32c(bytes(buf[21:])))
    elif fix_crc and len(buf) >= LOG_OVERHEAD + 14 and buf[16] in (0, 1):
        struct.pack_into(">I", buf, 12, zlib.crc32(bytes(buf[16:])))
    _exercise(buf)


def test_native_record_framing_check_agrees_with_the_decoder() -> None:
    """chronik._accel.validate_records accepts what records() decodes and rejects what it cannot."""
    import random

    accel = pytest.importorskip("chronik._accel", reason="the optional C extension is not built")
    from chronik.protocol.records import SimpleRecord, build_batch

    rng = random.Random(7)
    recs = [
        SimpleRecord(
            None if i % 3 == 0 else b"k%d" % i,
            None if i % 5 == 0 else bytes(rng.randrange(40)),
            [("h", b"x"), ("n", None)] if i % 2 else [],
            1000 + i,
        )
        for i in range(50)
    ]
    batch = RecordBatch(build_batch(recs))
    accel.validate_records(batch.records_section, batch.record_count)
    section = bytes(batch.records_section)
    for _ in range(300):
        damaged = bytearray(section)
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(len(damaged))]
        try:
            accel.validate_records(bytes(damaged), batch.record_count)
            native_ok = True
        except accel.Malformed:
            native_ok = False
        if native_ok:  # whatever the walker accepts must decode, with the declared count
            rebuilt = bytearray(bytes(batch.buffer[:61]) + bytes(damaged))
            struct.pack_into(">i", rebuilt, 8, len(rebuilt) - 12)
            view = RecordBatch(rebuilt)
            struct.pack_into(">I", rebuilt, 17, view.compute_crc())
            assert len(view.records()) == batch.record_count
