"""chronik.protocol.compression: round trips, Kafka's framing quirks, bounded decompression."""

from __future__ import annotations

import contextlib
import os
import struct
import tracemalloc

import cramjam
import lz4.frame
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronik.protocol.compression import (
    Codec,
    CompressionError,
    DecompressionLimitError,
    UnsupportedCodecError,
    compress,
    decompress,
    gzip_compress,
    gzip_decompress,
    lz4_compress,
    lz4_decompress,
    snappy_compress,
    snappy_decompress,
    xxh32,
    zstd_compress,
    zstd_decompress,
)

CODECS = [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]
MiB = 1 << 20


def _text(n: int) -> bytes:
    words = [b"kafka", b"record", b"batch", b"offset", b"chronik", b"epoch"]
    out = bytearray()
    i = 0
    while len(out) < n:
        out += words[(i * 7919) % len(words)] + str(i % 977).encode() + b" "
        i += 1
    return bytes(out[:n])


PAYLOADS = [b"", b"x", os.urandom(1000), _text(100_000), os.urandom(200_000), _text(3 * MiB)]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: f"{len(p)}B")
def test_round_trip(codec: Codec, payload: bytes) -> None:
    blob = compress(codec, payload)
    assert decompress(codec, blob, max_size=len(payload)) == payload
    assert decompress(codec, memoryview(bytearray(blob)), max_size=4 * MiB) == payload
    if payload:
        with pytest.raises(DecompressionLimitError):
            decompress(codec, blob, max_size=len(payload) - 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codec=st.sampled_from(CODECS), payload=st.binary(max_size=5000))
def test_round_trip_random(codec: Codec, payload: bytes) -> None:
    assert decompress(codec, compress(codec, payload), max_size=len(payload)) == payload


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", [Codec.GZIP, Codec.SNAPPY, Codec.LZ4])
def test_legacy_round_trip(codec: Codec, magic: int) -> None:
    data = _text(50_000)
    assert decompress(codec, compress(codec, data, magic=magic), max_size=MiB, magic=magic) == data


def test_none_and_unknown_codecs() -> None:
    assert decompress(Codec.NONE, b"abc", max_size=3) == b"abc"
    with pytest.raises(DecompressionLimitError):
        decompress(Codec.NONE, b"abcd", max_size=3)
    for bad in (5, 6, 7):
        with pytest.raises(UnsupportedCodecError):
            decompress(bad, b"abc", max_size=10)
        with pytest.raises(UnsupportedCodecError):
            compress(bad, b"abc")
    with pytest.raises(UnsupportedCodecError):
        compress(Codec.ZSTD, b"abc", magic=1)
    with pytest.raises(UnsupportedCodecError):
        decompress(Codec.ZSTD, zstd_compress(b"abc"), max_size=10, magic=0)
    assert issubclass(CompressionError, ValueError)


# --------------------------------------------------------------------------------------- snappy


def test_snappy_xerial_framing_as_java_writes_it() -> None:
    data = _text(100_000)
    blob = snappy_compress(data)
    assert blob[:8] == b"\x82SNAPPY\x00"
    assert struct.unpack(">ii", blob[8:16]) == (1, 1)
    pos, blocks, out = 16, 0, b""
    while pos < len(blob):
        (n,) = struct.unpack_from(">i", blob, pos)
        block = bytes(cramjam.snappy.decompress_raw(blob[pos + 4 : pos + 4 + n]))
        assert len(block) <= 32 * 1024
        out += block
        pos += 4 + n
        blocks += 1
    assert out == data
    assert blocks == 4  # 32 KiB blocks, as SnappyOutputStream's default


def test_snappy_reads_raw_and_concatenated_streams() -> None:
    data = _text(40_000)
    raw = bytes(cramjam.snappy.compress_raw(data))  # what librdkafka writes
    assert snappy_decompress(raw, MiB) == data
    assert snappy_compress(data, xerial=False) == raw
    assert snappy_decompress(snappy_compress(b"ab"), 10) == b"ab"
    tiny_raw = bytes(cramjam.snappy.compress_raw(b"hi"))  # < 16 bytes: always raw, as SnappyInputStream
    assert len(tiny_raw) < 16 and snappy_decompress(tiny_raw, 10) == b"hi"
    two = snappy_compress(data) + snappy_compress(b"tail")
    assert snappy_decompress(two, MiB) == data + b"tail"


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 0),  # minimum compatible version 0
        b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + struct.pack(">i", -5),
        b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + struct.pack(">i", 100) + b"short",
        b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + b"\x00\x01",
        b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + struct.pack(">i", 3) + b"\xff\xff\xff",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x05ab",
    ],
)
def test_snappy_corrupt(blob: bytes) -> None:
    with pytest.raises(CompressionError):
        snappy_decompress(blob, MiB)


def test_snappy_declared_length_is_checked_before_allocating() -> None:
    # A raw block claiming 4 GiB of output is refused from its header alone.
    with pytest.raises(DecompressionLimitError):
        snappy_decompress(b"\xff\xff\xff\xff\x0f" + b"\x00" * 20, MiB)


# ------------------------------------------------------------------------------------------ lz4


def test_xxh32_known_values() -> None:
    assert xxh32(b"") == 0x02CC5D05
    assert xxh32(b"abc") == 0x32D153FF
    data = os.urandom(1234)
    frame = lz4.frame.compress(data, content_checksum=True, store_size=False)
    assert struct.unpack("<I", frame[-4:])[0] == xxh32(data)  # LZ4's own content checksum


def test_lz4_frame_as_kafka_writes_it() -> None:
    blob = lz4_compress(_text(200_000))
    assert blob[:4] == b"\x04\x22\x4d\x18"
    assert blob[4] == 0x60  # version 1, independent blocks, no checksums, no content size
    assert blob[5] == 0x40  # 64 KiB blocks
    assert blob[6] == (xxh32(blob[4:6]) >> 8) & 0xFF
    assert blob[-4:] == b"\x00\x00\x00\x00"  # end mark, no content checksum


def test_lz4_broken_header_checksum_of_magic_v0() -> None:
    data = _text(10_000)
    broken = lz4_compress(data, broken_header_checksum=True)
    assert broken[6] == (xxh32(broken[0:6]) >> 8) & 0xFF  # computed over the magic too (KAFKA-3160)
    assert broken[6] != (xxh32(broken[4:6]) >> 8) & 0xFF
    assert lz4_decompress(broken, MiB, ignore_header_checksum=True) == data
    assert decompress(Codec.LZ4, broken, max_size=MiB, magic=0) == data
    with pytest.raises(CompressionError, match="descriptor"):
        decompress(Codec.LZ4, broken, max_size=MiB, magic=1)
    assert compress(Codec.LZ4, data, magic=0) == broken


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content_checksum": True},
        {"block_checksum": True},
        {"store_size": True},
        {"block_size": lz4.frame.BLOCKSIZE_MAX4MB},
        {"compression_level": 9},
    ],
)
def test_lz4_accepts_what_kafka_accepts(kwargs: dict[str, object]) -> None:
    data = _text(300_000)
    blob = lz4.frame.compress(data, block_linked=False, **kwargs)
    assert lz4_decompress(blob, MiB) == data
    assert lz4_decompress(blob + b"trailing bytes are ignored", MiB) == data


def test_lz4_rejects_what_kafka_rejects() -> None:
    data = _text(300_000)
    linked = lz4.frame.compress(data, block_linked=True)
    with pytest.raises(CompressionError, match="dependent"):
        lz4_decompress(linked, MiB)
    good = bytearray(lz4_compress(data))
    for pos, val in ((4, good[4] | 0x01), (4, (good[4] & 0x3F) | 0x80), (5, 0x30), (5, 0x41), (6, good[6] ^ 1)):
        bad = bytearray(good)
        bad[pos] = val
        with pytest.raises(CompressionError):
            lz4_decompress(bytes(bad), MiB)
    with pytest.raises(CompressionError, match="magic"):
        lz4_decompress(b"\x00" * 20, MiB)


@pytest.mark.parametrize("cut", [1, 5, 6, 7, 8, 11, 100, -5, -1])
def test_lz4_truncated(cut: int) -> None:
    blob = lz4_compress(_text(200_000))
    with pytest.raises(CompressionError):
        lz4_decompress(blob[:cut], MiB)


# ----------------------------------------------------------------------------------------- zstd


def test_zstd_streaming_frames_without_content_size() -> None:
    data = _text(2 * MiB)
    streamed = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(data)
    assert zstandard.frame_content_size(streamed) == -1  # like zstd-jni's ZstdOutputStream
    assert zstd_decompress(streamed, 2 * MiB) == data
    sized = zstd_compress(data)
    assert zstd_decompress(sized + streamed, 4 * MiB) == data + data  # concatenated frames
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"skip"
    assert zstd_decompress(skippable + sized, 2 * MiB) == data


@pytest.mark.parametrize("content_size", [True, False])
def test_zstd_corrupt_and_truncated(content_size: bool) -> None:
    blob = zstandard.ZstdCompressor(write_content_size=content_size).compress(_text(500_000))
    for bad in (blob[: len(blob) // 2], blob[:-1], blob + b"junk", b"", b"\x28\xb5\x2f\xfd", os.urandom(64)):
        with pytest.raises(CompressionError):
            zstd_decompress(bad, MiB)


def test_zstd_lying_content_size() -> None:
    blob = bytearray(zstandard.ZstdCompressor(write_content_size=True).compress(b"a" * 10 * MiB))
    assert blob[4] & 0xC0 == 0x80  # 4-byte frame content size field at byte 6
    struct.pack_into("<I", blob, 6, 1000)
    with pytest.raises(CompressionError):
        zstd_decompress(bytes(blob), MiB)


# ----------------------------------------------------------------------------------------- gzip


def test_gzip_members_and_trailing_bytes() -> None:
    a, b = _text(10_000), _text(777)
    assert gzip_decompress(gzip_compress(a) + gzip_compress(b), MiB) == a + b
    assert gzip_decompress(gzip_compress(a) + b"\x00garbage", MiB) == a  # as GZIPInputStream
    blob = gzip_compress(a)
    assert blob[9] == 0xFF  # OS byte as Java 16+ writes it
    for bad in (blob[:-1], blob[:20], blob[:5], b"", b"\x1f\x8b" + os.urandom(30)):
        with pytest.raises(CompressionError):
            gzip_decompress(bad, MiB)
    corrupt = bytearray(blob)
    corrupt[-6] ^= 0xFF  # CRC-32 of the member
    with pytest.raises(CompressionError):
        gzip_decompress(bytes(corrupt), MiB)


# ---------------------------------------------------------------------------------------- bombs


_BOMBS = {
    "gzip": (Codec.GZIP, lambda z: gzip_compress(z, 9)),
    "snappy": (Codec.SNAPPY, snappy_compress),
    "lz4": (Codec.LZ4, lz4_compress),
    "zstd-stream": (Codec.ZSTD, lambda z: zstandard.ZstdCompressor(write_content_size=False).compress(z)),
    "zstd-sized": (Codec.ZSTD, zstd_compress),
}


@pytest.mark.parametrize("name", sorted(_BOMBS))
def test_decompression_bomb_is_bounded(name: str) -> None:
    codec, make = _BOMBS[name]
    blob = make(bytes(64 * MiB))
    limit = 4 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionLimitError):
            decompress(codec, blob, max_size=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit + 8 * MiB, f"peak {peak / MiB:.1f} MiB for a {limit / MiB:.0f} MiB limit"


# ------------------------------------------------------------------------------------------ fuzz


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codec=st.sampled_from(CODECS), blob=st.binary(max_size=300), magic=st.sampled_from([0, 1, 2]))
def test_random_input_raises_only_compression_error(codec: Codec, blob: bytes, magic: int) -> None:
    with contextlib.suppress(CompressionError):
        decompress(codec, blob, max_size=64 * 1024, magic=magic)


_VALID = {c: compress(c, _text(5000)) for c in CODECS}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codec=st.sampled_from(CODECS), data=st.data())
def test_mutated_streams_raise_only_compression_error(codec: Codec, data: st.DataObject) -> None:
    blob = bytearray(_VALID[codec])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    try:
        out = decompress(codec, bytes(blob[:cut]), max_size=64 * 1024)
        assert len(out) <= 64 * 1024
    except CompressionError:
        pass
