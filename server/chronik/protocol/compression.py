"""Kafka record compression codecs: gzip, snappy, lz4 and zstd, as Apache Kafka reads and writes them.

Every decompressor is bounded: it takes ``max_size`` (the most bytes the caller accepts) and raises
:class:`DecompressionLimitError` as soon as the output would exceed it, so a decompression bomb costs at
most about ``max_size`` bytes of memory. Corrupt or truncated input raises :class:`CompressionError`;
nothing else (``zlib.error``, ``RuntimeError`` from lz4, ``ZstdError``, ``cramjam`` errors) escapes.

Kafka quirks kept here (see Kafka's ``compress`` package):

* snappy: the Java client writes xerial framing (``SnappyOutputStream``): the 8-byte magic
  ``\\x82SNAPPY\\x00``, int32 version 1, int32 minimum-compatible version 1, then blocks of at most 32 KiB,
  each an int32 big-endian compressed length followed by a raw snappy block. ``SnappyInputStream`` also
  reads a plain raw snappy buffer (librdkafka and others write those), so :func:`snappy_decompress` accepts
  both, and concatenated xerial streams.
* lz4: the LZ4 *frame* format with independent 64 KiB blocks, no content size, no checksums
  (``Lz4BlockOutputStream``). Kafka's reader rejects dependent (linked) blocks, a non-zero reserved bit, a
  version other than 1 and block sizes other than 64 KiB..4 MiB, and checks the header checksum (HC)
  except for magic v0 message sets: Kafka before 0.10 computed HC over the magic number too
  (KAFKA-3160), and still writes that broken HC for magic v0 (``useBrokenFlagDescriptorChecksum``).
  Bytes after the end mark are ignored, as Kafka's stream stops there.
* zstd: ``ZstdOutputStream`` writes frames without a content size, so decompression streams; several
  concatenated frames are one stream, as for ``ZstdInputStream``.
* gzip: a gzip stream (``GZIPOutputStream``); like ``GZIPInputStream`` concatenated members are read and
  bytes after the last member that do not start another member are ignored.
"""

from __future__ import annotations

import struct
import zlib
from enum import IntEnum
from typing import Final

import cramjam
import lz4.frame
import zstandard

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "Codec",
    "CompressionError",
    "DecompressionLimitError",
    "UnsupportedCodecError",
    "compress",
    "decompress",
    "gzip_compress",
    "gzip_decompress",
    "lz4_compress",
    "lz4_decompress",
    "snappy_compress",
    "snappy_decompress",
    "xxh32",
    "zstd_compress",
    "zstd_decompress",
]

Buffer = bytes | bytearray | memoryview

#: A sensible cap for callers that have no better one (Kafka's own cap is ~2 GiB per array).
DEFAULT_MAX_DECOMPRESSED_SIZE: Final = 64 * 1024 * 1024


class Codec(IntEnum):
    """Compression codec ids, as stored in the low 3 attribute bits of a batch or legacy message."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


class CompressionError(ValueError):
    """Compressed data is corrupt or truncated, or cannot be handled."""


class DecompressionLimitError(CompressionError):
    """The decompressed data would exceed the caller's ``max_size`` (for example a decompression bomb)."""


class UnsupportedCodecError(CompressionError):
    """A codec id Kafka does not define (5-7), or a codec not allowed in this place."""


def _check_limit(total: int, max_size: int, codec: str) -> None:
    if total > max_size:
        raise DecompressionLimitError(f"{codec}: decompressed data exceeds the limit of {max_size} bytes")


# ---------------------------------------------------------------------------------------------- gzip

_GZIP_MAGIC: Final = b"\x1f\x8b"


def gzip_compress(data: Buffer, level: int = 6) -> bytes:
    """gzip stream, as Kafka's ``GZIPOutputStream`` (deflate level 6 unless told otherwise).

    The header's OS byte is set to 255 (unknown) as Java 16+ writes it, which makes the output
    byte-identical to the Java client's for the same input.
    """
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    out = bytearray(c.compress(data))
    out += c.flush()
    out[9] = 0xFF
    return bytes(out)


def gzip_decompress(data: Buffer, max_size: int) -> bytes:
    """Decompress gzip member(s); raises :class:`CompressionError` on corrupt or truncated input."""
    out: list[bytes] = []
    total = 0
    buf: Buffer = data
    try:
        while True:
            d = zlib.decompressobj(31)
            while True:
                chunk = d.decompress(buf, max_size - total + 1)
                total += len(chunk)
                _check_limit(total, max_size, "gzip")
                out.append(chunk)
                if d.eof:
                    break
                buf = d.unconsumed_tail
                if not buf:
                    raise CompressionError("gzip: stream truncated (no end of member)")
            rest = d.unused_data
            # GZIPInputStream reads a following member; anything else after a member is ignored.
            if rest[:2] != _GZIP_MAGIC:
                break
            buf = rest
    except zlib.error as e:
        raise CompressionError(f"gzip: corrupt stream: {e}") from None
    return b"".join(out)


# -------------------------------------------------------------------------------------------- snappy

_XERIAL_MAGIC: Final = b"\x82SNAPPY\x00"
_XERIAL_HEADER: Final = _XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_HEADER_SIZE: Final = 16
_XERIAL_MIN_COMPATIBLE_VERSION: Final = 1
_SNAPPY_BLOCK_SIZE: Final = 32 * 1024
_I32 = struct.Struct(">i")


def snappy_compress(data: Buffer, *, xerial: bool = True, block_size: int = _SNAPPY_BLOCK_SIZE) -> bytes:
    """Snappy in the xerial framing the Java client writes (32 KiB blocks), or a raw block if not ``xerial``."""
    if not xerial:
        return bytes(cramjam.snappy.compress_raw(bytes(data)))
    mv = memoryview(data).cast("B")
    parts = [_XERIAL_HEADER]
    for pos in range(0, len(mv), block_size):
        block = bytes(cramjam.snappy.compress_raw(bytes(mv[pos : pos + block_size])))
        parts.append(_I32.pack(len(block)))
        parts.append(block)
    return b"".join(parts)


def _snappy_raw(block: Buffer, budget: int) -> bytes:
    try:
        n = cramjam.snappy.decompress_raw_len(block)
    except Exception as e:  # cramjam raises its own DecompressionError (an Exception subclass)
        raise CompressionError(f"snappy: corrupt block header: {e}") from None
    if n > budget:
        raise DecompressionLimitError(f"snappy: block of {n} bytes exceeds the decompression limit")
    try:
        return bytes(cramjam.snappy.decompress_raw(block))
    except Exception as e:
        raise CompressionError(f"snappy: corrupt block: {e}") from None


def snappy_decompress(data: Buffer, max_size: int) -> bytes:
    """Decompress xerial-framed snappy (Java) or, failing the xerial magic, one raw snappy block."""
    mv = memoryview(data).cast("B")
    n = len(mv)
    # SnappyInputStream: fewer than 16 bytes, or no magic, means the whole input is one raw block.
    if n < _XERIAL_HEADER_SIZE or mv[:8] != _XERIAL_MAGIC:
        if n == 0:
            raise CompressionError("snappy: empty input")
        return _snappy_raw(bytes(mv), max_size)
    out: list[bytes] = []
    total = 0
    pos = 0
    while pos < n:
        if n - pos >= 8 and mv[pos : pos + 8] == _XERIAL_MAGIC:
            # A (possibly concatenated) stream header: magic, version, minimum compatible version.
            if n - pos < _XERIAL_HEADER_SIZE:
                raise CompressionError(f"snappy: truncated xerial header at byte {pos}")
            (compat,) = _I32.unpack_from(mv, pos + 12)
            if compat < _XERIAL_MIN_COMPATIBLE_VERSION:
                raise CompressionError(f"snappy: incompatible xerial version {compat} at byte {pos}")
            pos += _XERIAL_HEADER_SIZE
            continue
        if n - pos < 4:
            raise CompressionError(f"snappy: truncated block length at byte {pos}")
        (size,) = _I32.unpack_from(mv, pos)
        pos += 4
        if size < 0 or size > n - pos:
            raise CompressionError(f"snappy: block length {size} at byte {pos - 4} runs past the end")
        block = _snappy_raw(bytes(mv[pos : pos + size]), max_size - total)
        total += len(block)
        out.append(block)
        pos += size
    return b"".join(out)


# ----------------------------------------------------------------------------------------------- lz4

_LZ4_MAGIC: Final = b"\x04\x22\x4d\x18"
_LZ4_STEP: Final = 1 << 20
_M32: Final = 0xFFFFFFFF
_P1: Final = 2654435761
_P2: Final = 2246822519
_P3: Final = 3266489917
_P4: Final = 668265263
_P5: Final = 374761393


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def xxh32(data: Buffer, seed: int = 0) -> int:
    """XXH32 (used for the LZ4 frame header checksum); pure Python, meant for a few bytes."""
    b = bytes(data)
    n = len(b)
    i = 0
    if n >= 16:
        v1 = (seed + _P1 + _P2) & _M32
        v2 = (seed + _P2) & _M32
        v3 = seed & _M32
        v4 = (seed - _P1) & _M32
        while i + 16 <= n:
            a, bb, c, d = struct.unpack_from("<4I", b, i)
            v1 = (_rotl((v1 + a * _P2) & _M32, 13) * _P1) & _M32
            v2 = (_rotl((v2 + bb * _P2) & _M32, 13) * _P1) & _M32
            v3 = (_rotl((v3 + c * _P2) & _M32, 13) * _P1) & _M32
            v4 = (_rotl((v4 + d * _P2) & _M32, 13) * _P1) & _M32
            i += 16
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M32
    else:
        h = (seed + _P5) & _M32
    h = (h + n) & _M32
    while i + 4 <= n:
        (w,) = struct.unpack_from("<I", b, i)
        h = (_rotl((h + w * _P3) & _M32, 17) * _P4) & _M32
        i += 4
    while i < n:
        h = (_rotl((h + b[i] * _P5) & _M32, 11) * _P1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M32
    h ^= h >> 13
    h = (h * _P3) & _M32
    h ^= h >> 16
    return h


def lz4_compress(data: Buffer, *, broken_header_checksum: bool = False, level: int = 0) -> bytes:
    """LZ4 frame as Kafka writes it: independent 64 KiB blocks, no content size, no checksums.

    ``broken_header_checksum`` writes the pre-0.10 header checksum (over the magic number too), which is
    what Kafka writes for magic v0 message sets.
    """
    out = lz4.frame.compress(
        bytes(data),
        block_size=lz4.frame.BLOCKSIZE_MAX64KB,
        block_linked=False,
        content_checksum=False,
        block_checksum=False,
        store_size=False,
        compression_level=level,
    )
    if broken_header_checksum:
        hc = (xxh32(out[:6]) >> 8) & 0xFF
        out = out[:6] + bytes((hc,)) + out[7:]
    return out


def _lz4_header(mv: memoryview, ignore_header_checksum: bool) -> bytes | None:
    """Check the frame descriptor the way Kafka's ``Lz4BlockInputStream`` does.

    Returns a corrected descriptor to feed instead of the stored one when the stored header checksum is
    wrong and ``ignore_header_checksum`` is set (magic v0), else None.
    """
    if len(mv) < 7:
        raise CompressionError("lz4: stream ended prematurely (frame header)")
    if mv[:4] != _LZ4_MAGIC:
        raise CompressionError("lz4: stream unsupported (invalid magic bytes)")
    flg, bd = mv[4], mv[5]
    if flg & 0x03:
        raise CompressionError("lz4: reserved FLG bits must be 0")
    if not flg & 0x20:
        raise CompressionError("lz4: dependent block stream is unsupported (Kafka requires independent blocks)")
    if flg >> 6 != 1:
        raise CompressionError(f"lz4: frame version {flg >> 6} is unsupported")
    if bd & 0x8F or not 4 <= (bd >> 4) & 7 <= 7:
        raise CompressionError(f"lz4: invalid block descriptor 0x{bd:02x}")
    end = 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0)
    if len(mv) < end + 1:
        raise CompressionError("lz4: stream ended prematurely (frame header)")
    hc = (xxh32(mv[4:end]) >> 8) & 0xFF
    if mv[end] == hc:
        return None
    if not ignore_header_checksum:
        raise CompressionError("lz4: stream frame descriptor corrupted (header checksum mismatch)")
    return bytes(mv[:end]) + bytes((hc,))


def lz4_decompress(data: Buffer, max_size: int, *, ignore_header_checksum: bool = False) -> bytes:
    """Decompress one LZ4 frame as Kafka reads it; pass ``ignore_header_checksum`` for magic v0."""
    mv = memoryview(data).cast("B")
    fixed = _lz4_header(mv, ignore_header_checksum)
    d = lz4.frame.LZ4FrameDecompressor()
    out: list[bytes] = []
    total = 0
    try:
        if fixed is not None:
            d.decompress(fixed)
            src: Buffer = mv[len(fixed) :]
        else:
            src = mv
        while True:
            chunk = d.decompress(src, max_length=min(max_size - total + 1, _LZ4_STEP))
            src = b""
            total += len(chunk)
            _check_limit(total, max_size, "lz4")
            out.append(chunk)
            if d.eof:
                break
            if d.needs_input:
                raise CompressionError("lz4: stream ended prematurely (no end mark)")
    except RuntimeError as e:  # lz4.frame reports LZ4F errors as RuntimeError
        raise CompressionError(f"lz4: corrupt stream: {e}") from None
    return b"".join(out)


# ---------------------------------------------------------------------------------------------- zstd

_ZSTD_MAX_RATIO_SHIFT: Final = 15  # a 4-byte RLE block expands to at most 128 KiB: 2**15 : 1
_ZSTD_MIN_FEED: Final = 64


def zstd_compress(data: Buffer, level: int = 3) -> bytes:
    """One zstd frame (level 3, Kafka's default)."""
    return zstandard.ZstdCompressor(level=level).compress(bytes(data))


def zstd_decompress(data: Buffer, max_size: int) -> bytes:
    """Decompress one or more concatenated zstd frames, with or without a content size in the header.

    Frames that declare their content size within the budget are decoded in one call; other frames are
    fed in slices small enough that even the best-compressing input cannot overshoot ``max_size`` by more
    than a few MiB.
    """
    mv = memoryview(data).cast("B")
    if len(mv) == 0:
        raise CompressionError("zstd: empty input")
    dctx = zstandard.ZstdDecompressor()
    out: list[bytes] = []
    total = 0
    pos = 0
    n = len(mv)
    try:
        while pos < n:
            obj = dctx.decompressobj()
            try:
                declared = zstandard.frame_content_size(mv[pos:])
            except zstandard.ZstdError:
                declared = -1
            budget = max_size - total
            while True:
                if 0 <= declared <= budget:
                    feed = n - pos
                else:
                    feed = max(_ZSTD_MIN_FEED, (max_size - total) >> (_ZSTD_MAX_RATIO_SHIFT + 1))
                piece = mv[pos : pos + feed]
                pos += len(piece)
                chunk = obj.decompress(piece)
                total += len(chunk)
                _check_limit(total, max_size, "zstd")
                out.append(chunk)
                if obj.eof:
                    pos -= len(obj.unused_data)
                    break
                if pos >= n:
                    raise CompressionError("zstd: stream truncated (incomplete frame)")
    except zstandard.ZstdError as e:
        raise CompressionError(f"zstd: corrupt stream: {e}") from None
    return b"".join(out)


# ------------------------------------------------------------------------------------------ dispatch


def compress(codec: int, data: Buffer, *, level: int | None = None, magic: int = 2) -> bytes:
    """Compress ``data`` with the codec as Kafka writes it for a batch of the given magic."""
    if codec == Codec.GZIP:
        return gzip_compress(data, 6 if level is None else level)
    if codec == Codec.SNAPPY:
        return snappy_compress(data)
    if codec == Codec.LZ4:
        return lz4_compress(data, broken_header_checksum=magic == 0, level=level or 0)
    if codec == Codec.ZSTD:
        if magic < 2:
            raise UnsupportedCodecError("zstd needs message format v2 (magic 2)")
        return zstd_compress(data, 3 if level is None else level)
    if codec == Codec.NONE:
        return bytes(data)
    raise UnsupportedCodecError(f"unknown compression codec id {codec}")


def decompress(codec: int, data: Buffer, *, max_size: int, magic: int = 2) -> bytes:
    """Decompress ``data`` of a batch (or legacy wrapper) of the given magic; output capped at ``max_size``."""
    if codec == Codec.GZIP:
        return gzip_decompress(data, max_size)
    if codec == Codec.SNAPPY:
        return snappy_decompress(data, max_size)
    if codec == Codec.LZ4:
        return lz4_decompress(data, max_size, ignore_header_checksum=magic == 0)
    if codec == Codec.ZSTD:
        if magic < 2:
            raise UnsupportedCodecError("zstd is not allowed below message format v2 (magic 2)")
        return zstd_decompress(data, max_size)
    if codec == Codec.NONE:
        _check_limit(len(data), max_size, "none")
        return bytes(data)
    raise UnsupportedCodecError(f"unknown compression codec id {codec}")
