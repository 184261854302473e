"""Kafka record batches (magic v2) and legacy message sets (magic v0/v1), hand-written.

Apache Kafka's ``DefaultRecordBatch``, ``DefaultRecord``, ``LegacyRecord`` and
``AbstractLegacyRecordBatch`` are the specification; the behaviour noted in each docstring is theirs.

Record batch v2 (all integers big-endian), 61 bytes of header then the records::

    0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8 |
    17 crc uint32 (CRC-32C of bytes [21, end)) | 21 attributes int16 | 23 lastOffsetDelta int32 |
    27 baseTimestamp int64 | 35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16 |
    55 baseSequence int32 | 57 recordCount int32 | 61 records (compressed as one stream if codec != 0)

Attributes: bits 0-2 codec, 3 timestamp type (1 = LogAppendTime), 4 transactional, 5 control,
6 delete horizon (baseTimestamp then holds the delete horizon). baseOffset and partitionLeaderEpoch lie
outside the CRC, so a broker patches them in place without recomputing it.

Hot paths (:class:`RecordBatch` header reads, patching, :meth:`RecordBatch.validate`,
:func:`split_batches`) never loop over records; decoding records is pure Python (~1-2 us per record) and
meant for features that need it (transactions, compaction, tests).

Errors: every problem with the input raises :class:`CorruptRecordError` or a subclass, never
``IndexError``/``struct.error``. Wrong arguments to the builders raise ``ValueError``; patching a
read-only buffer raises ``TypeError``.
"""

from __future__ import annotations

import abc
import itertools
import struct
import zlib
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import ClassVar, Final, NamedTuple

from fastcrc import crc32 as _fastcrc32

from chronik.protocol.compression import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    Codec,
    CompressionError,
    DecompressionLimitError,
    compress,
    decompress,
)

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "LOG_OVERHEAD",
    "MAGIC_V0",
    "MAGIC_V1",
    "MAGIC_V2",
    "NO_PARTITION_LEADER_EPOCH",
    "NO_PRODUCER_EPOCH",
    "NO_PRODUCER_ID",
    "NO_SEQUENCE",
    "NO_TIMESTAMP",
    "RECORD_BATCH_OVERHEAD",
    "BatchHeader",
    "BatchTooLargeError",
    "Codec",
    "ControlRecordKey",
    "ControlRecordType",
    "CorruptRecordError",
    "CrcMismatchError",
    "EndTransactionMarker",
    "InvalidRecordError",
    "LegacyRecordBatch",
    "Record",
    "RecordBatch",
    "RecordDecompressionError",
    "RecordDecompressionLimitError",
    "SimpleRecord",
    "SplitResult",
    "TimestampType",
    "TruncatedBatchError",
    "UnsupportedMagicError",
    "build_batch",
    "build_control_batch",
    "build_legacy_message_set",
    "crc32c",
    "decode_control_key",
    "decode_end_transaction_marker",
    "encode_control_key",
    "encode_end_transaction_marker_value",
    "encode_record",
    "split_batches",
]

Buffer = bytes | bytearray | memoryview
Header = tuple[str, bytes | None]

# ------------------------------------------------------------------------------------------- constants

LOG_OVERHEAD: Final = 12  # offset int64 + size int32, in front of every batch / legacy message
RECORD_BATCH_OVERHEAD: Final = 61
MAGIC_V0: Final = 0
MAGIC_V1: Final = 1
MAGIC_V2: Final = 2
NO_TIMESTAMP: Final = -1
NO_PRODUCER_ID: Final = -1
NO_PRODUCER_EPOCH: Final = -1
NO_SEQUENCE: Final = -1
NO_PARTITION_LEADER_EPOCH: Final = -1

_LEGACY_OVERHEAD_V0: Final = 14  # crc 4, magic 1, attributes 1, key length 4, value length 4
_LEGACY_OVERHEAD_V1: Final = 22  # ... plus timestamp 8
_HEADER_UP_TO_MAGIC: Final = 17
_MIN_V2_SIZE_FIELD: Final = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD
_INT32_MAX: Final = 0x7FFFFFFF

_CODEC_MASK: Final = 0x07
_TIMESTAMP_TYPE_MASK: Final = 0x08
_TRANSACTIONAL_MASK: Final = 0x10
_CONTROL_MASK: Final = 0x20
_DELETE_HORIZON_MASK: Final = 0x40

_HEADER = struct.Struct(">qiibIhiqqqhii")
_Q = struct.Struct(">q")
_I = struct.Struct(">i")
_H = struct.Struct(">h")
_U32 = struct.Struct(">I")
_QI = struct.Struct(">qi")
_HH = struct.Struct(">hh")
_HI = struct.Struct(">hi")

_OFF_LENGTH: Final = 8
_OFF_EPOCH: Final = 12
_OFF_MAGIC: Final = 16
_OFF_CRC: Final = 17
_OFF_ATTRIBUTES: Final = 21
_OFF_LAST_DELTA: Final = 23
_OFF_BASE_TS: Final = 27
_OFF_MAX_TS: Final = 35
_OFF_PRODUCER_ID: Final = 43
_OFF_PRODUCER_EPOCH: Final = 51
_OFF_BASE_SEQ: Final = 53
_OFF_COUNT: Final = 57

crc32c = _fastcrc32.iscsi
"""CRC-32C (Castagnoli) of a bytes-like object, as Kafka's ``Crc32C``."""


class TimestampType(IntEnum):
    """Kafka's ``TimestampType``; NO_TIMESTAMP_TYPE is what magic v0 records have."""

    NO_TIMESTAMP_TYPE = -1
    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


class ControlRecordType(IntEnum):
    """Control record types (the int16 ``type`` in a control record's key); UNKNOWN for any other id."""

    UNKNOWN = -1
    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    SNAPSHOT_HEADER = 3
    SNAPSHOT_FOOTER = 4
    KRAFT_VERSION = 5
    KRAFT_VOTERS = 6


# -------------------------------------------------------------------------------------------- errors


class CorruptRecordError(ValueError):
    """The input is not a well-formed batch or message set (Kafka: ``CorruptRecordException``).

    ``position`` is the byte position the problem was found at, relative to the buffer that was being
    read (the batch, the record section, or the whole split buffer, as the message says).
    """

    error_code: ClassVar[int] = 2  # CORRUPT_MESSAGE

    def __init__(self, message: str, *, position: int | None = None) -> None:
        self.position = position
        super().__init__(message if position is None else f"{message} (at byte {position})")


class TruncatedBatchError(CorruptRecordError):
    """The buffer ends inside a batch (legal at the end of a Fetch response, not in a Produce request)."""


class UnsupportedMagicError(CorruptRecordError):
    """A magic byte other than the formats this code path reads."""

    def __init__(self, magic: int, message: str, *, position: int | None = None) -> None:
        self.magic = magic
        super().__init__(message, position=position)


class CrcMismatchError(CorruptRecordError):
    """The stored checksum does not match the bytes (CRC-32C for v2, CRC-32 for v0/v1)."""

    def __init__(self, stored: int, computed: int, message: str, *, position: int | None = None) -> None:
        self.stored = stored
        self.computed = computed
        super().__init__(message, position=position)


class BatchTooLargeError(CorruptRecordError):
    """A batch is larger than the caller's ``max_batch_size``."""

    error_code: ClassVar[int] = 10  # MESSAGE_TOO_LARGE


class InvalidRecordError(CorruptRecordError):
    """A record inside a batch is malformed (Kafka: ``InvalidRecordException``, INVALID_RECORD)."""

    error_code: ClassVar[int] = 87  # INVALID_RECORD


class RecordDecompressionError(CorruptRecordError, CompressionError):
    """The compressed records of a batch could not be decompressed."""


class RecordDecompressionLimitError(RecordDecompressionError, DecompressionLimitError):
    """The decompressed records of a batch would exceed the caller's limit."""


def _decompress(codec: int, data: Buffer, max_size: int, magic: int, what: str) -> bytes:
    try:
        return decompress(codec, data, max_size=max_size, magic=magic)
    except DecompressionLimitError as e:
        raise RecordDecompressionLimitError(f"{what}: {e}") from e
    except CompressionError as e:
        raise RecordDecompressionError(f"{what}: {e}") from e


# ------------------------------------------------------------------------------------------- records


class Record:
    """One decoded record (v2 record, or a v0/v1 message), with absolute offset and timestamp.

    Header keys are ``str`` decoded as UTF-8 with ``surrogateescape``, so any bytes survive a round trip.
    ``sequence`` is the producer sequence (baseSequence + offsetDelta, wrapping), -1 without one.
    """

    __slots__ = ("attributes", "headers", "key", "offset", "sequence", "timestamp", "timestamp_type", "value")

    def __init__(
        self,
        offset: int,
        timestamp: int,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[Header, ...] = (),
        *,
        attributes: int = 0,
        sequence: int = NO_SEQUENCE,
        timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    ) -> None:
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
        self.attributes = attributes
        self.sequence = sequence
        self.timestamp_type = timestamp_type

    def _astuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self._astuple() == other._astuple()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Record(offset={self.offset}, timestamp={self.timestamp}, key={self.key!r}, "
            f"value={_short(self.value)}, headers={self.headers!r}, sequence={self.sequence})"
        )


def _short(b: bytes | None) -> str:
    if b is None or len(b) <= 40:
        return repr(b)
    return f"<{len(b)} bytes>"


def _wrap64(v: int) -> int:
    return ((v + (1 << 63)) & 0xFFFFFFFFFFFFFFFF) - (1 << 63)


def _increment_sequence(sequence: int, increment: int) -> int:
    """``DefaultRecordBatch.incrementSequence``: sequences wrap from Int32.MAX to 0."""
    if sequence > _INT32_MAX - increment:
        return increment - (_INT32_MAX - sequence) - 1
    return sequence + increment


def _read_varint(buf: Buffer, pos: int, end: int, what: str) -> tuple[int, int]:
    """Zigzag varint int32 (``ByteUtils.readVarint``): at most 5 bytes, bits past 32 dropped as in Java."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise InvalidRecordError(f"{what}: varint runs past the end of its record", position=pos)
        b = buf[pos]
        pos += 1
        if b < 0x80:
            result |= b << shift
            break
        result |= (b & 0x7F) << shift
        shift += 7
        if shift > 28:
            raise InvalidRecordError(f"{what}: varint is longer than 5 bytes", position=pos - 1)
    result &= 0xFFFFFFFF
    return (result >> 1) ^ -(result & 1), pos


def _read_varlong(buf: Buffer, pos: int, end: int, what: str) -> tuple[int, int]:
    """Zigzag varlong int64 (``ByteUtils.readVarlong``): at most 10 bytes."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise InvalidRecordError(f"{what}: varlong runs past the end of its record", position=pos)
        b = buf[pos]
        pos += 1
        if b < 0x80:
            result |= b << shift
            break
        result |= (b & 0x7F) << shift
        shift += 7
        if shift > 63:
            raise InvalidRecordError(f"{what}: varlong is longer than 10 bytes", position=pos - 1)
    result &= 0xFFFFFFFFFFFFFFFF
    return (result >> 1) ^ -(result & 1), pos


def _varint_bytes(value: int) -> bytes:
    """Zigzag varint of an int32 (``ByteUtils.writeVarint``)."""
    if not -0x80000000 <= value <= _INT32_MAX:
        raise ValueError(f"varint value {value} out of int32 range")
    v = ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF
    return _uvar(v)


def _varlong_bytes(value: int) -> bytes:
    """Zigzag varlong of an int64 (``ByteUtils.writeVarlong``)."""
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError(f"varlong value {value} out of int64 range")
    v = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    return _uvar(v)


def _uvar(v: int) -> bytes:
    if v < 0x80:
        return bytes((v,))
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_NULL_VARINT: Final = _varint_bytes(-1)


def _decode_records(
    data: Buffer,
    count: int,
    base_offset: int,
    base_timestamp: int,
    base_sequence: int,
    log_append_time: int | None,
) -> list[Record]:
    """Decode ``count`` v2 records filling ``data`` exactly (``DefaultRecord.readFrom``)."""
    end = len(data)
    pos = 0
    out: list[Record] = []
    ts_type = TimestampType.CREATE_TIME if log_append_time is None else TimestampType.LOG_APPEND_TIME
    rv = _read_varint
    for i in range(count):
        what = f"record {i}"
        if pos >= end:
            raise InvalidRecordError(
                f"Incorrect declared batch size, premature EOF reached: {i} of {count} records present",
                position=pos,
            )
        size, pos = rv(data, pos, end, what)
        if size < 0 or size > end - pos:
            raise InvalidRecordError(
                f"{what}: invalid record size {size}, {end - pos} bytes remain in the batch", position=pos
            )
        rend = pos + size
        start = pos
        if pos >= rend:
            raise InvalidRecordError(f"{what}: empty record body", position=pos)
        attributes = data[pos]
        ts_delta, pos = _read_varlong(data, pos + 1, rend, what)
        offset_delta, pos = rv(data, pos, rend, what)
        key_len, pos = rv(data, pos, rend, what)
        if key_len < 0:
            key = None
        else:
            if key_len > rend - pos:
                raise InvalidRecordError(f"{what}: key of {key_len} bytes runs past the record", position=pos)
            key = bytes(data[pos : pos + key_len])
            pos += key_len
        value_len, pos = rv(data, pos, rend, what)
        if value_len < 0:
            value = None
        else:
            if value_len > rend - pos:
                raise InvalidRecordError(f"{what}: value of {value_len} bytes runs past the record", position=pos)
            value = bytes(data[pos : pos + value_len])
            pos += value_len
        n_headers, pos = rv(data, pos, rend, what)
        if n_headers < 0:
            raise InvalidRecordError(f"{what}: Found invalid number of record headers {n_headers}", position=pos)
        if n_headers > rend - pos:
            raise InvalidRecordError(
                f"{what}: {n_headers} headers is more than the remaining {rend - pos} bytes", position=pos
            )
        headers: list[Header] = []
        for _ in range(n_headers):
            hk_len, pos = rv(data, pos, rend, what)
            if hk_len < 0:
                raise InvalidRecordError(f"{what}: Invalid negative header key size {hk_len}", position=pos)
            if hk_len > rend - pos:
                raise InvalidRecordError(f"{what}: header key runs past the record", position=pos)
            hkey = bytes(data[pos : pos + hk_len]).decode("utf-8", "surrogateescape")
            pos += hk_len
            hv_len, pos = rv(data, pos, rend, what)
            if hv_len < 0:
                hval = None
            else:
                if hv_len > rend - pos:
                    raise InvalidRecordError(f"{what}: header value runs past the record", position=pos)
                hval = bytes(data[pos : pos + hv_len])
                pos += hv_len
            headers.append((hkey, hval))
        if pos != rend:
            raise InvalidRecordError(
                f"{what}: Invalid record size: expected to read {size} bytes in record payload, "
                f"but instead read {pos - start}",
                position=pos,
            )
        out.append(
            Record(
                _wrap64(base_offset + offset_delta),
                log_append_time if log_append_time is not None else _wrap64(base_timestamp + ts_delta),
                key,
                value,
                tuple(headers),
                attributes=attributes,
                sequence=NO_SEQUENCE if base_sequence < 0 else _increment_sequence(base_sequence, offset_delta),
                timestamp_type=ts_type,
            )
        )
    if pos != end:
        raise InvalidRecordError(
            f"Incorrect declared batch size, records still remaining: {end - pos} bytes after {count} records",
            position=pos,
        )
    return out


# ------------------------------------------------------------------------------------ control records


class ControlRecordKey(NamedTuple):
    """A control record's key: version int16, type int16."""

    version: int
    type: int

    @property
    def control_type(self) -> ControlRecordType:
        try:
            return ControlRecordType(self.type)
        except ValueError:
            return ControlRecordType.UNKNOWN


class EndTransactionMarker(NamedTuple):
    """A COMMIT or ABORT marker: the control type from the key, the value's version and coordinatorEpoch."""

    control_type: ControlRecordType
    coordinator_epoch: int
    version: int = 0


def decode_control_key(key: Buffer | None) -> ControlRecordKey:
    """``ControlRecordType.parseTypeId``: at least 4 bytes, version >= 0; extra bytes ignored."""
    if key is None or len(key) < 4:
        n = -1 if key is None else len(key)
        raise InvalidRecordError(f"control record key needs at least 4 bytes, found {n}")
    version, typ = _HH.unpack_from(key, 0)
    if version < 0:
        raise InvalidRecordError(f"Invalid version found for control record: {version}")
    return ControlRecordKey(version, typ)


def encode_control_key(control_type: int, version: int = 0) -> bytes:
    """The key Kafka writes for a control record (version 0)."""
    return _HH.pack(version, control_type)


def decode_end_transaction_marker(key: Buffer | None, value: Buffer | None) -> EndTransactionMarker:
    """``EndTransactionMarker.deserialize``: key type COMMIT/ABORT, value version int16 + coordinatorEpoch int32."""
    ck = decode_control_key(key)
    ct = ck.control_type
    if ct not in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
        raise InvalidRecordError(f"Invalid control record type for end transaction marker {ck.type}")
    if value is None or len(value) < 6:
        n = -1 if value is None else len(value)
        raise InvalidRecordError(f"end transaction marker value needs at least 6 bytes, found {n}")
    version, epoch = _HI.unpack_from(value, 0)
    if version < 0:
        raise InvalidRecordError(f"Invalid version found for end transaction marker: {version}")
    return EndTransactionMarker(ct, epoch, version)


def encode_end_transaction_marker_value(coordinator_epoch: int, version: int = 0) -> bytes:
    """The value of an end transaction marker record: version int16, coordinatorEpoch int32."""
    return _HI.pack(version, coordinator_epoch)


# ---------------------------------------------------------------------------------------- batch view


class BatchHeader(NamedTuple):
    """All 13 v2 header fields, unpacked in one call."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int


def _view(buffer: Buffer) -> memoryview:
    mv = buffer if isinstance(buffer, memoryview) else memoryview(buffer)
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv


class _BatchView(abc.ABC):
    """What both batch views share: the buffer, the validity check and in-place patching."""

    __slots__ = ("_buf",)

    _buf: memoryview
    _KIND: ClassVar[str] = "record batch"

    @abc.abstractmethod
    def validate(self) -> None:
        """Raise :class:`CorruptRecordError` if the batch is not valid."""

    def is_valid(self) -> bool:
        try:
            self.validate()
        except CorruptRecordError:
            return False
        return True

    def _writable(self) -> memoryview:
        if self._buf.readonly:
            raise TypeError(f"{self._KIND} buffer is read-only: use a bytearray or writable memoryview to patch")
        return self._buf


class RecordBatch(_BatchView):
    """Zero-copy view over one v2 record batch held in a bytes-like buffer.

    Construct from exactly one batch (``RecordBatch(buf)``), from a batch at an offset of a larger buffer
    (:meth:`from_buffer`), or get views from :func:`split_batches`. Reading header fields never copies; the
    ``set_*`` methods patch the buffer in place and need a writable one (``bytearray``, writable
    ``memoryview``).
    """

    __slots__ = ()

    magic_value: ClassVar[int] = MAGIC_V2

    def __init__(self, buffer: Buffer) -> None:
        mv = _view(buffer)
        if len(mv) < RECORD_BATCH_OVERHEAD:
            raise CorruptRecordError(
                f"Record batch is corrupt (the size {len(mv)} is smaller than the minimum allowed overhead "
                f"{RECORD_BATCH_OVERHEAD})"
            )
        self._buf = mv

    @classmethod
    def _wrap(cls, mv: memoryview) -> RecordBatch:
        self = object.__new__(cls)
        self._buf = mv
        return self

    @classmethod
    def from_buffer(cls, buffer: Buffer, offset: int = 0) -> RecordBatch:
        """The v2 batch starting at ``offset`` of ``buffer``, sized by its batchLength field."""
        mv = _view(buffer)
        rem = len(mv) - offset
        if offset < 0 or rem < _HEADER_UP_TO_MAGIC:
            raise TruncatedBatchError(f"no batch header at byte {offset} of a {len(mv)}-byte buffer", position=offset)
        (size,) = _I.unpack_from(mv, offset + _OFF_LENGTH)
        magic = _signed8(mv[offset + _OFF_MAGIC])
        if magic != MAGIC_V2:
            raise UnsupportedMagicError(magic, f"expected a magic 2 batch, found magic {magic}", position=offset)
        if size < _MIN_V2_SIZE_FIELD:
            raise CorruptRecordError(f"batch length {size} is smaller than the v2 header", position=offset)
        if rem < size + LOG_OVERHEAD:
            raise TruncatedBatchError(
                f"batch of {size + LOG_OVERHEAD} bytes but only {rem} in the buffer", position=offset
            )
        return cls._wrap(mv[offset : offset + size + LOG_OVERHEAD])

    # -- header fields ----------------------------------------------------------------------------
    @property
    def buffer(self) -> memoryview:
        """The batch bytes (a view into the original buffer)."""
        return self._buf

    @property
    def size(self) -> int:
        """Size of this view in bytes (equals batch_length + 12 in a valid batch)."""
        return len(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def header(self) -> BatchHeader:
        """Every header field, unpacked at once."""
        return BatchHeader._make(_HEADER.unpack_from(self._buf, 0))

    @property
    def base_offset(self) -> int:
        return _Q.unpack_from(self._buf, 0)[0]

    @property
    def batch_length(self) -> int:
        return _I.unpack_from(self._buf, _OFF_LENGTH)[0]

    @property
    def partition_leader_epoch(self) -> int:
        return _I.unpack_from(self._buf, _OFF_EPOCH)[0]

    @property
    def magic(self) -> int:
        return _signed8(self._buf[_OFF_MAGIC])

    @property
    def crc(self) -> int:
        return _U32.unpack_from(self._buf, _OFF_CRC)[0]

    @property
    def attributes(self) -> int:
        return _H.unpack_from(self._buf, _OFF_ATTRIBUTES)[0]

    @property
    def compression(self) -> int:
        """Codec id (bits 0-2); a :class:`Codec` member when Kafka defines it, else the raw int 5-7."""
        c = self._buf[_OFF_ATTRIBUTES + 1] & _CODEC_MASK
        return Codec(c) if c <= Codec.ZSTD else c

    @property
    def timestamp_type(self) -> TimestampType:
        if self._buf[_OFF_ATTRIBUTES + 1] & _TIMESTAMP_TYPE_MASK:
            return TimestampType.LOG_APPEND_TIME
        return TimestampType.CREATE_TIME

    @property
    def is_transactional(self) -> bool:
        return bool(self._buf[_OFF_ATTRIBUTES + 1] & _TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        return bool(self._buf[_OFF_ATTRIBUTES + 1] & _CONTROL_MASK)

    @property
    def has_delete_horizon(self) -> bool:
        return bool(self._buf[_OFF_ATTRIBUTES + 1] & _DELETE_HORIZON_MASK)

    @property
    def delete_horizon_ms(self) -> int | None:
        """baseTimestamp when the delete-horizon flag is set (KIP-534), else None."""
        return self.base_timestamp if self.has_delete_horizon else None

    @property
    def last_offset_delta(self) -> int:
        return _I.unpack_from(self._buf, _OFF_LAST_DELTA)[0]

    @property
    def base_timestamp(self) -> int:
        return _Q.unpack_from(self._buf, _OFF_BASE_TS)[0]

    @property
    def max_timestamp(self) -> int:
        return _Q.unpack_from(self._buf, _OFF_MAX_TS)[0]

    @property
    def producer_id(self) -> int:
        return _Q.unpack_from(self._buf, _OFF_PRODUCER_ID)[0]

    @property
    def producer_epoch(self) -> int:
        return _H.unpack_from(self._buf, _OFF_PRODUCER_EPOCH)[0]

    @property
    def base_sequence(self) -> int:
        return _I.unpack_from(self._buf, _OFF_BASE_SEQ)[0]

    @property
    def last_sequence(self) -> int:
        """baseSequence + lastOffsetDelta (wrapping), or -1 without a sequence."""
        base = self.base_sequence
        return NO_SEQUENCE if base == NO_SEQUENCE else _increment_sequence(base, self.last_offset_delta)

    @property
    def record_count(self) -> int:
        return _I.unpack_from(self._buf, _OFF_COUNT)[0]

    @property
    def last_offset(self) -> int:
        """baseOffset + lastOffsetDelta."""
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        """The offset after this batch: last_offset + 1."""
        return self.base_offset + self.last_offset_delta + 1

    @property
    def is_compressed(self) -> bool:
        return bool(self._buf[_OFF_ATTRIBUTES + 1] & _CODEC_MASK)

    @property
    def records_section(self) -> memoryview:
        """The bytes after the 61-byte header (compressed stream if the batch is compressed)."""
        return self._buf[RECORD_BATCH_OVERHEAD:]

    # -- validation -------------------------------------------------------------------------------
    def compute_crc(self) -> int:
        """CRC-32C over bytes [21, end) of the batch."""
        return crc32c(self._buf[_OFF_ATTRIBUTES:])

    def validate(self) -> None:
        """Kafka's ``ensureValid`` plus framing checks: magic 2, batchLength + 12 == size, CRC-32C.

        Raises :class:`UnsupportedMagicError`, :class:`CorruptRecordError` or :class:`CrcMismatchError`.
        Records are not decoded (see :meth:`records`).
        """
        buf = self._buf
        n = len(buf)
        magic = _signed8(buf[_OFF_MAGIC])
        if magic != MAGIC_V2:
            raise UnsupportedMagicError(magic, f"record batch has magic {magic}, expected 2", position=_OFF_MAGIC)
        (length,) = _I.unpack_from(buf, _OFF_LENGTH)
        if length + LOG_OVERHEAD != n:
            raise CorruptRecordError(
                f"batchLength {length} does not match the batch size {n} (expected {n - LOG_OVERHEAD})",
                position=_OFF_LENGTH,
            )
        (stored,) = _U32.unpack_from(buf, _OFF_CRC)
        computed = crc32c(buf[_OFF_ATTRIBUTES:])
        if stored != computed:
            raise CrcMismatchError(
                stored,
                computed,
                f"Record is corrupt (stored crc = {stored}, computed crc = {computed})",
                position=_OFF_CRC,
            )

    # -- patching ---------------------------------------------------------------------------------

    def set_base_offset(self, offset: int) -> None:
        """Overwrite baseOffset in place (outside the CRC, which stays valid)."""
        _check_range(offset, 64, "base offset")
        _Q.pack_into(self._writable(), 0, offset)

    def set_last_offset(self, offset: int) -> None:
        """Kafka's ``setLastOffset``: baseOffset = offset - lastOffsetDelta."""
        self.set_base_offset(offset - self.last_offset_delta)

    def set_partition_leader_epoch(self, epoch: int) -> None:
        """Overwrite partitionLeaderEpoch in place (outside the CRC, which stays valid)."""
        _check_range(epoch, 32, "partition leader epoch")
        _I.pack_into(self._writable(), _OFF_EPOCH, epoch)

    def set_max_timestamp(self, timestamp_type: TimestampType, max_timestamp: int) -> None:
        """Kafka's ``setMaxTimestamp``: rewrite attributes and maxTimestamp, recompute the CRC.

        A no-op if both already match (the CRC is not touched). As in Kafka, the attribute word is
        rebuilt from the known flags, so unknown high bits are cleared.
        """
        if timestamp_type not in (TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME):
            raise ValueError("timestamp type must be CREATE_TIME or LOG_APPEND_TIME for a v2 batch")
        _check_range(max_timestamp, 64, "max timestamp")
        buf = self._writable()
        if self.timestamp_type == timestamp_type and self.max_timestamp == max_timestamp:
            return
        attrs = buf[_OFF_ATTRIBUTES + 1] & (_CODEC_MASK | _TRANSACTIONAL_MASK | _CONTROL_MASK | _DELETE_HORIZON_MASK)
        if timestamp_type == TimestampType.LOG_APPEND_TIME:
            attrs |= _TIMESTAMP_TYPE_MASK
        _H.pack_into(buf, _OFF_ATTRIBUTES, attrs)
        _Q.pack_into(buf, _OFF_MAX_TS, max_timestamp)
        _U32.pack_into(buf, _OFF_CRC, crc32c(buf[_OFF_ATTRIBUTES:]))

    def set_log_append_time(self, timestamp: int) -> None:
        """Mark the batch LogAppendTime with ``timestamp`` as maxTimestamp; recomputes the CRC."""
        self.set_max_timestamp(TimestampType.LOG_APPEND_TIME, timestamp)

    # -- records ----------------------------------------------------------------------------------
    def uncompressed_records(self, max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> Buffer:
        """The records section, decompressed if needed (at most ``max_size`` bytes)."""
        section = self._buf[RECORD_BATCH_OVERHEAD:]
        codec = self._buf[_OFF_ATTRIBUTES + 1] & _CODEC_MASK
        if codec == Codec.NONE:
            return section
        if codec > Codec.ZSTD:
            raise RecordDecompressionError(f"record batch uses unknown compression codec id {codec}")
        return _decompress(codec, section, max_size, MAGIC_V2, f"record batch at offset {self.base_offset}")

    def records(self, max_uncompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> list[Record]:
        """Decode every record (decompressing first), as Kafka's batch iterator does.

        A record count of 0 yields nothing without reading further; a negative count, a record that does
        not parse or does not fill its declared size, missing records, or bytes left over after the last
        record raise :class:`InvalidRecordError`. With LogAppendTime every record's timestamp is
        maxTimestamp.
        """
        h = self.header()
        if h.record_count < 0:
            raise InvalidRecordError(f"Found invalid record count {h.record_count} in magic v2 batch")
        if h.record_count == 0:
            return []
        data = self.uncompressed_records(max_uncompressed_size)
        lat = h.max_timestamp if h.attributes & _TIMESTAMP_TYPE_MASK else None
        return _decode_records(data, h.record_count, h.base_offset, h.base_timestamp, h.base_sequence, lat)

    def end_transaction_marker(self) -> EndTransactionMarker | None:
        """For a control batch holding a COMMIT/ABORT marker, the decoded marker; None otherwise."""
        if not self.is_control:
            return None
        recs = self.records()
        if not recs:
            return None
        ck = decode_control_key(recs[0].key)
        if ck.control_type not in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
            return None
        return decode_end_transaction_marker(recs[0].key, recs[0].value)

    def __repr__(self) -> str:
        return (
            f"RecordBatch(magic=2, offsets=[{self.base_offset}, {self.last_offset}], size={len(self._buf)}, "
            f"count={self.record_count}, compression={self.compression!r}, "
            f"timestamp_type={self.timestamp_type.name}, transactional={self.is_transactional}, "
            f"control={self.is_control})"
        )


def _signed8(b: int) -> int:
    return b - 256 if b > 127 else b


def _check_range(value: int, bits: int, what: str) -> None:
    lim = 1 << (bits - 1)
    if not -lim <= value < lim:
        raise ValueError(f"{what} {value} does not fit in int{bits}")


# ------------------------------------------------------------------------------------ legacy batches


class LegacyRecordBatch(_BatchView):
    """Zero-copy view over one legacy log entry: offset int64, size int32, then a v0/v1 message.

    Message: crc uint32 (CRC-32 of [magic, end)), magic int8, attributes int8 (bits 0-2 codec, bit 3
    LogAppendTime in v1), timestamp int64 (v1 only), key int32-length bytes, value int32-length bytes.
    A compressed message is a *wrapper* whose value is a compressed message set of inner messages. Like
    Kafka, the entry offset is the batch's last offset; for v1 wrappers inner offsets are relative
    (absolute = wrapper offset - last inner offset + inner offset), for v0 they are absolute.
    """

    __slots__ = ()
    _KIND: ClassVar[str] = "legacy batch"

    def __init__(self, buffer: Buffer) -> None:
        mv = _view(buffer)
        if len(mv) < LOG_OVERHEAD + _LEGACY_OVERHEAD_V0:
            raise CorruptRecordError(
                f"legacy message of {len(mv)} bytes is smaller than the minimum {LOG_OVERHEAD + _LEGACY_OVERHEAD_V0}"
            )
        self._buf = mv

    @classmethod
    def _wrap(cls, mv: memoryview) -> LegacyRecordBatch:
        self = object.__new__(cls)
        self._buf = mv
        return self

    @property
    def buffer(self) -> memoryview:
        return self._buf

    @property
    def size(self) -> int:
        return len(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    @property
    def offset(self) -> int:
        """The entry offset: for a compressed wrapper, the absolute offset of its last inner message."""
        return _Q.unpack_from(self._buf, 0)[0]

    @property
    def last_offset(self) -> int:
        return self.offset

    @property
    def next_offset(self) -> int:
        return self.offset + 1

    @property
    def base_offset(self) -> int:
        """Offset of the first (inner) message; decompresses a wrapper, as Kafka does."""
        if not self.is_compressed:
            return self.offset
        return self.records()[0].offset

    @property
    def message_size(self) -> int:
        return _I.unpack_from(self._buf, _OFF_LENGTH)[0]

    @property
    def crc(self) -> int:
        return _U32.unpack_from(self._buf, LOG_OVERHEAD)[0]

    @property
    def magic(self) -> int:
        return _signed8(self._buf[_OFF_MAGIC])

    @property
    def attributes(self) -> int:
        return self._buf[_OFF_MAGIC + 1]

    @property
    def compression(self) -> int:
        c = self._buf[_OFF_MAGIC + 1] & _CODEC_MASK
        return Codec(c) if c <= Codec.ZSTD else c

    @property
    def is_compressed(self) -> bool:
        return bool(self._buf[_OFF_MAGIC + 1] & _CODEC_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        if self.magic == MAGIC_V0:
            return TimestampType.NO_TIMESTAMP_TYPE
        if self._buf[_OFF_MAGIC + 1] & _TIMESTAMP_TYPE_MASK:
            return TimestampType.LOG_APPEND_TIME
        return TimestampType.CREATE_TIME

    @property
    def timestamp(self) -> int:
        """The message timestamp (v1), -1 for v0."""
        if self.magic == MAGIC_V0:
            return NO_TIMESTAMP
        self._need(_OFF_MAGIC + 2 + 8, "timestamp")
        return _Q.unpack_from(self._buf, _OFF_MAGIC + 2)[0]

    max_timestamp = timestamp

    # Constant fields of the legacy formats, for code that handles both kinds of batch.
    producer_id: ClassVar[int] = NO_PRODUCER_ID
    producer_epoch: ClassVar[int] = NO_PRODUCER_EPOCH
    base_sequence: ClassVar[int] = NO_SEQUENCE
    partition_leader_epoch: ClassVar[int] = NO_PARTITION_LEADER_EPOCH
    is_transactional: ClassVar[bool] = False
    is_control: ClassVar[bool] = False
    record_count: ClassVar[None] = None

    def _need(self, end: int, what: str) -> None:
        if end > len(self._buf):
            raise CorruptRecordError(f"legacy message too short for its {what}", position=len(self._buf))

    @property
    def key(self) -> bytes | None:
        return _legacy_fields(self._buf[LOG_OVERHEAD:], "legacy message")[3]

    @property
    def value(self) -> bytes | None:
        return _legacy_fields(self._buf[LOG_OVERHEAD:], "legacy message")[4]

    def compute_crc(self) -> int:
        return zlib.crc32(self._buf[_OFF_MAGIC:])

    def validate(self) -> None:
        """``LegacyRecord.ensureValid`` plus framing: magic 0/1, size + 12 == entry size, minimum size, CRC-32."""
        buf = self._buf
        n = len(buf)
        magic = _signed8(buf[_OFF_MAGIC])
        if magic not in (MAGIC_V0, MAGIC_V1):
            raise UnsupportedMagicError(magic, f"legacy message has magic {magic}", position=_OFF_MAGIC)
        (size,) = _I.unpack_from(buf, _OFF_LENGTH)
        if size + LOG_OVERHEAD != n:
            raise CorruptRecordError(f"message size {size} does not match the entry size {n}", position=8)
        if size < (_LEGACY_OVERHEAD_V0 if magic == MAGIC_V0 else _LEGACY_OVERHEAD_V1):
            raise CorruptRecordError(f"message size {size} is smaller than the magic v{magic} overhead", position=8)
        (stored,) = _U32.unpack_from(buf, LOG_OVERHEAD)
        computed = zlib.crc32(buf[_OFF_MAGIC:])
        if stored != computed:
            raise CrcMismatchError(
                stored,
                computed,
                f"Record is corrupt (stored crc = {stored}, computed crc = {computed})",
                position=LOG_OVERHEAD,
            )

    def set_offset(self, offset: int) -> None:
        """Overwrite the entry offset (the last offset) in place; the CRC does not cover it."""
        _check_range(offset, 64, "offset")
        _Q.pack_into(self._writable(), 0, offset)

    set_last_offset = set_offset

    def set_max_timestamp(self, timestamp_type: TimestampType, timestamp: int) -> None:
        """Kafka's legacy ``setMaxTimestamp`` (v1 only): attributes and timestamp, then a new CRC-32."""
        if self.magic != MAGIC_V1:
            raise ValueError("Cannot set timestamp for a record with magic = 0")
        _check_range(timestamp, 64, "timestamp")
        buf = self._writable()
        if self.timestamp_type == timestamp_type and self.timestamp == timestamp:
            return
        attrs = buf[_OFF_MAGIC + 1] & _CODEC_MASK
        if timestamp_type == TimestampType.LOG_APPEND_TIME:
            attrs |= _TIMESTAMP_TYPE_MASK
        buf[_OFF_MAGIC + 1] = attrs
        _Q.pack_into(buf, _OFF_MAGIC + 2, timestamp)
        _U32.pack_into(buf, LOG_OVERHEAD, zlib.crc32(buf[_OFF_MAGIC:]))

    def set_log_append_time(self, timestamp: int) -> None:
        self.set_max_timestamp(TimestampType.LOG_APPEND_TIME, timestamp)

    def records(self, max_uncompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> list[Record]:
        """The message itself, or for a compressed wrapper its inner messages with absolute offsets.

        As Kafka's ``DeepRecordsIterator``: zstd and null wrapper values are invalid, an empty inner set is
        invalid, inner messages must not be compressed, a v1 wrapper offset of 0 (some librdkafka
        versions) means inner offsets are already absolute, a truncated inner entry at the end is
        ignored, and v1 inner messages take the wrapper's timestamp when it is LogAppendTime. Inner CRCs
        are checked (Kafka's broker does so when validating a produce).
        """
        outer = self._buf[LOG_OVERHEAD:]
        magic, attributes, timestamp, key, value = _legacy_fields(outer, "legacy message")
        ts_type = self.timestamp_type
        if not attributes & _CODEC_MASK:
            return [Record(self.offset, timestamp, key, value, (), attributes=attributes, timestamp_type=ts_type)]
        codec = attributes & _CODEC_MASK
        if codec == Codec.ZSTD or codec > Codec.ZSTD:
            raise InvalidRecordError(f"Invalid wrapper compression codec {codec} in a magic v{magic} message")
        if value is None:
            raise InvalidRecordError(f"Found invalid compressed record set with null value (magic = {magic})")
        data = _decompress(codec, value, max_uncompressed_size, magic, f"legacy wrapper at offset {self.offset}")
        mv = memoryview(data)
        n = len(mv)
        pos = 0
        entries: list[tuple[int, memoryview]] = []
        while n - pos >= LOG_OVERHEAD:
            off, size = _QI.unpack_from(mv, pos)
            if size < _LEGACY_OVERHEAD_V0:
                raise CorruptRecordError(
                    f"inner message size {size} is less than the minimum record overhead {_LEGACY_OVERHEAD_V0}",
                    position=pos,
                )
            if n - pos - LOG_OVERHEAD < size:
                break  # DataLogInputStream: a partial trailing entry ends the set
            entries.append((off, mv[pos + LOG_OVERHEAD : pos + LOG_OVERHEAD + size]))
            pos += LOG_OVERHEAD + size
        if not entries:
            raise InvalidRecordError("Found invalid compressed record set with no inner records")
        wrapper_offset = self.offset
        base = 0
        if magic == MAGIC_V1 and wrapper_offset != 0:
            last_inner = entries[-1][0]
            if wrapper_offset < last_inner:
                raise InvalidRecordError(
                    f"Found invalid wrapper offset in compressed v1 message set, wrapper offset "
                    f"'{wrapper_offset}' is less than the last inner message offset '{last_inner}' and it is "
                    f"not zero."
                )
            base = wrapper_offset - last_inner
        out: list[Record] = []
        for i, (off, msg) in enumerate(entries):
            what = f"inner message {i}"
            (stored,) = _U32.unpack_from(msg, 0)
            computed = zlib.crc32(msg[4:])
            if stored != computed:
                raise CrcMismatchError(
                    stored, computed, f"{what} is corrupt (stored crc = {stored}, computed crc = {computed})"
                )
            imagic, iattr, its, ikey, ivalue = _legacy_fields(msg, what)
            if iattr & _CODEC_MASK:
                raise InvalidRecordError("Inner messages must not be compressed")
            if imagic == MAGIC_V0:
                its, itype = NO_TIMESTAMP, TimestampType.NO_TIMESTAMP_TYPE
            else:
                itype = ts_type
                if ts_type == TimestampType.LOG_APPEND_TIME:
                    its = timestamp
            offset = base + off if magic == MAGIC_V1 else off
            out.append(Record(offset, its, ikey, ivalue, (), attributes=iattr, timestamp_type=itype))
        return out

    def __repr__(self) -> str:
        return (
            f"LegacyRecordBatch(magic={self.magic}, offset={self.offset}, size={len(self._buf)}, "
            f"compression={self.compression!r})"
        )


def _legacy_fields(msg: memoryview, what: str) -> tuple[int, int, int, bytes | None, bytes | None]:
    """Parse a v0/v1 message (from its crc): magic, attributes, timestamp, key, value."""
    n = len(msg)
    if n < _LEGACY_OVERHEAD_V0:
        raise CorruptRecordError(f"{what}: {n} bytes is less than the minimum message overhead 14")
    magic = _signed8(msg[4])
    attributes = msg[5]
    if magic == MAGIC_V0:
        pos = 6
        timestamp = NO_TIMESTAMP
    elif magic == MAGIC_V1:
        if n < _LEGACY_OVERHEAD_V1:
            raise CorruptRecordError(f"{what}: {n} bytes is less than the magic v1 message overhead 22")
        (timestamp,) = _Q.unpack_from(msg, 6)
        pos = 14
    else:
        raise UnsupportedMagicError(magic, f"{what}: magic {magic} is not a legacy message format")
    (klen,) = _I.unpack_from(msg, pos)
    pos += 4
    key = None
    if klen >= 0:
        if klen > n - pos - 4:
            raise CorruptRecordError(f"{what}: key of {klen} bytes runs past the message", position=pos)
        key = bytes(msg[pos : pos + klen])
        pos += klen
    (vlen,) = _I.unpack_from(msg, pos)
    pos += 4
    value = None
    if vlen >= 0:
        if vlen > n - pos:
            raise CorruptRecordError(f"{what}: value of {vlen} bytes runs past the message", position=pos)
        value = bytes(msg[pos : pos + vlen])
    return magic, attributes, timestamp, key, value


# ----------------------------------------------------------------------------------------- splitting


class SplitResult(NamedTuple):
    """Batches found in a buffer, and the size of an incomplete batch at its end (0 if none)."""

    batches: list[RecordBatch | LegacyRecordBatch]
    truncated_bytes: int

    @property
    def complete(self) -> bool:
        return self.truncated_bytes == 0


def split_batches(
    buffer: Buffer,
    *,
    max_batch_size: int | None = None,
    allow_truncated: bool = True,
    allow_legacy: bool = True,
    validate: bool = False,
) -> SplitResult:
    """Split concatenated batches (a Produce ``records`` field, a Fetch response's records) into views.

    Follows ``ByteBufferLogInputStream``: a size field below 14 bytes or a magic outside 0..2 is corrupt;
    a buffer that ends inside a batch (fewer than 12 bytes left, fewer than 17 before the magic, or fewer
    than the batch size) is *truncated*, which Fetch may legally return: it is reported in
    ``truncated_bytes`` (or raised as :class:`TruncatedBatchError` if not ``allow_truncated``). A v2
    batch whose size is below its 61-byte header is corrupt. ``max_batch_size`` (whole batch, 12-byte
    prefix included, as Kafka's ``max.message.bytes``) raises :class:`BatchTooLargeError`; legacy
    entries raise :class:`UnsupportedMagicError` unless ``allow_legacy``. ``validate`` also runs each
    batch's :meth:`~RecordBatch.validate` (CRC). The loop is per batch, never per record.
    """
    mv = _view(buffer)
    n = len(mv)
    pos = 0
    out: list[RecordBatch | LegacyRecordBatch] = []
    append = out.append
    unpack_size = _I.unpack_from
    wrap_v2 = RecordBatch._wrap
    while pos < n:
        rem = n - pos
        if rem < LOG_OVERHEAD:
            break
        (size,) = unpack_size(mv, pos + _OFF_LENGTH)
        if size < _LEGACY_OVERHEAD_V0:
            raise CorruptRecordError(
                f"Record size {size} is less than the minimum record overhead ({_LEGACY_OVERHEAD_V0})", position=pos
            )
        total = size + LOG_OVERHEAD
        if max_batch_size is not None and total > max_batch_size:
            raise BatchTooLargeError(
                f"batch of {total} bytes exceeds the largest allowable size ({max_batch_size})", position=pos
            )
        if rem < _HEADER_UP_TO_MAGIC:
            break
        magic = mv[pos + _OFF_MAGIC]
        if magic == MAGIC_V2:
            if size < _MIN_V2_SIZE_FIELD:
                raise CorruptRecordError(
                    f"Record batch is corrupt (the size {total} is smaller than the minimum allowed overhead "
                    f"{RECORD_BATCH_OVERHEAD})",
                    position=pos,
                )
            if rem < total:
                break
            batch: RecordBatch | LegacyRecordBatch = wrap_v2(mv[pos : pos + total])
        elif magic <= MAGIC_V1:
            if not allow_legacy:
                raise UnsupportedMagicError(magic, f"legacy message set (magic {magic}) not allowed", position=pos)
            if rem < total:
                break
            batch = LegacyRecordBatch._wrap(mv[pos : pos + total])
        else:
            raise UnsupportedMagicError(
                _signed8(magic), f"Invalid magic found in record: {_signed8(magic)}", position=pos
            )
        if validate:
            try:
                batch.validate()
            except CorruptRecordError as e:
                p = pos if e.position is None else pos + e.position
                raise _relocate(e, p) from None
        append(batch)
        pos += total
    rem = n - pos
    if rem and not allow_truncated:
        raise TruncatedBatchError(f"buffer ends inside a batch: {rem} bytes left over", position=pos)
    return SplitResult(out, rem)


def _relocate(e: CorruptRecordError, position: int) -> CorruptRecordError:
    """The same error with its position made relative to the whole split buffer."""
    msg = str(e.args[0]).rsplit(" (at byte ", 1)[0]
    if isinstance(e, CrcMismatchError):
        return CrcMismatchError(e.stored, e.computed, msg, position=position)
    if isinstance(e, UnsupportedMagicError):
        return UnsupportedMagicError(e.magic, msg, position=position)
    return type(e)(msg, position=position)


# ------------------------------------------------------------------------------------------ builders


class SimpleRecord(NamedTuple):
    """A record to build: key, value (None for null), headers (key str/bytes, value or None), timestamp."""

    key: bytes | None = None
    value: bytes | None = None
    headers: Sequence[tuple[str | bytes, bytes | None]] = ()
    timestamp: int = NO_TIMESTAMP


def encode_record(
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[tuple[str | bytes, bytes | None]] = (),
    attributes: int = 0,
) -> bytes:
    """One v2 record exactly as ``DefaultRecord.writeTo`` writes it (length varint first)."""
    parts = [bytes((attributes & 0xFF,)), _varlong_bytes(timestamp_delta), _varint_bytes(offset_delta)]
    if key is None:
        parts.append(_NULL_VARINT)
    else:
        parts += (_varint_bytes(len(key)), bytes(key))
    if value is None:
        parts.append(_NULL_VARINT)
    else:
        parts += (_varint_bytes(len(value)), bytes(value))
    hs = list(headers)
    parts.append(_varint_bytes(len(hs)))
    for hk, hv in hs:
        if hk is None:
            raise ValueError("Invalid null header key found in headers")
        hkb = hk.encode("utf-8", "surrogateescape") if isinstance(hk, str) else bytes(hk)
        parts += (_varint_bytes(len(hkb)), hkb)
        if hv is None:
            parts.append(_NULL_VARINT)
        else:
            parts += (_varint_bytes(len(hv)), bytes(hv))
    body = b"".join(parts)
    return _varint_bytes(len(body)) + body


def _offsets(records: Sequence[SimpleRecord], base_offset: int, offsets: Sequence[int] | None) -> list[int]:
    if offsets is None:
        return [base_offset + i for i in range(len(records))]
    offs = list(offsets)
    if len(offs) != len(records):
        raise ValueError("offsets must have one entry per record")
    for prev, cur in itertools.pairwise(offs):
        if cur <= prev:
            raise ValueError(f"Illegal offset {cur} following previous offset {prev} (offsets must increase)")
    if offs and offs[0] < base_offset:
        raise ValueError("the first offset is below the base offset")
    return offs


def _check_timestamp(ts: int) -> None:
    if ts < 0 and ts != NO_TIMESTAMP:
        raise ValueError(f"Invalid negative timestamp {ts}")


def build_batch(
    records: Sequence[SimpleRecord],
    *,
    base_offset: int = 0,
    codec: int = Codec.NONE,
    compression_level: int | None = None,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    log_append_time: int = NO_TIMESTAMP,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    is_transactional: bool = False,
    is_control: bool = False,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
    delete_horizon_ms: int | None = None,
    offsets: Sequence[int] | None = None,
) -> bytearray:
    """Build one v2 batch as Kafka's ``MemoryRecordsBuilder`` does (byte-exact when uncompressed).

    baseTimestamp is the first record's timestamp (or ``delete_horizon_ms``, setting that flag);
    maxTimestamp the largest record timestamp, or ``log_append_time`` with LogAppendTime;
    lastOffsetDelta the last offset minus ``base_offset``. ``offsets`` gives increasing absolute offsets
    (default: consecutive from ``base_offset``). No records gives an empty buffer, as Kafka's builder.
    Producer state is checked as Kafka does (a transactional batch needs a producer id; a producer id
    needs an epoch and, unless control, a non-negative sequence).
    """
    if timestamp_type not in (TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME):
        raise ValueError("timestamp type must be CREATE_TIME or LOG_APPEND_TIME for magic v2")
    if codec not in tuple(Codec):
        raise ValueError(f"unknown codec {codec}")
    if is_transactional and producer_id == NO_PRODUCER_ID:
        raise ValueError("Cannot write transactional messages without a valid producer ID")
    if producer_id != NO_PRODUCER_ID:
        if producer_epoch == NO_PRODUCER_EPOCH:
            raise ValueError("Invalid negative producer epoch")
        if base_sequence < 0 and not is_control:
            raise ValueError("Invalid negative sequence number used")
    if not records:
        return bytearray()
    offs = _offsets(records, base_offset, offsets)
    base_ts = records[0].timestamp if delete_horizon_ms is None else delete_horizon_ms
    max_ts = NO_TIMESTAMP
    parts: list[bytes] = []
    for rec, off in zip(records, offs, strict=True):
        _check_timestamp(rec.timestamp)
        if rec.timestamp > max_ts:
            max_ts = rec.timestamp
        delta = off - base_offset
        if delta > _INT32_MAX:
            raise ValueError(f"Maximum offset delta exceeded, base offset: {base_offset}, last offset: {off}")
        parts.append(encode_record(delta, rec.timestamp - base_ts, rec.key, rec.value, rec.headers))
    payload = b"".join(parts)
    if codec != Codec.NONE:
        payload = compress(codec, payload, level=compression_level, magic=MAGIC_V2)
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        max_ts = log_append_time
    attrs = codec
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        attrs |= _TIMESTAMP_TYPE_MASK
    if is_transactional:
        attrs |= _TRANSACTIONAL_MASK
    if is_control:
        attrs |= _CONTROL_MASK
    if delete_horizon_ms is not None:
        attrs |= _DELETE_HORIZON_MASK
    total = RECORD_BATCH_OVERHEAD + len(payload)
    out = bytearray(total)
    try:
        _HEADER.pack_into(
            out,
            0,
            base_offset,
            total - LOG_OVERHEAD,
            partition_leader_epoch,
            MAGIC_V2,
            0,
            attrs,
            offs[-1] - base_offset,
            base_ts,
            max_ts,
            producer_id,
            producer_epoch,
            base_sequence,
            len(records),
        )
    except struct.error as e:
        raise ValueError(f"batch header field out of range: {e}") from None
    out[RECORD_BATCH_OVERHEAD:] = payload
    _U32.pack_into(out, _OFF_CRC, crc32c(memoryview(out)[_OFF_ATTRIBUTES:]))
    return out


def build_control_batch(
    control_type: ControlRecordType,
    *,
    producer_id: int,
    producer_epoch: int,
    coordinator_epoch: int = 0,
    base_offset: int = 0,
    timestamp: int = NO_TIMESTAMP,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytearray:
    """An end-transaction (COMMIT/ABORT) control batch, as ``MemoryRecords.withEndTransactionMarker``.

    Uncompressed, CreateTime, transactional + control, baseSequence -1, one record whose key is
    (version 0, type) and value (version 0, coordinatorEpoch), at ``timestamp``.
    """
    if control_type not in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
        raise ValueError(f"Invalid control record type for end transaction marker {control_type}")
    if producer_id == NO_PRODUCER_ID:
        raise ValueError("End transaction marker requires a valid producerId")
    rec = SimpleRecord(
        key=encode_control_key(control_type),
        value=encode_end_transaction_marker_value(coordinator_epoch),
        timestamp=timestamp,
    )
    return build_batch(
        [rec],
        base_offset=base_offset,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=NO_SEQUENCE,
        is_transactional=True,
        is_control=True,
        partition_leader_epoch=partition_leader_epoch,
    )


def _legacy_message(magic: int, attributes: int, timestamp: int, key: bytes | None, value: bytes | None) -> bytes:
    parts = [bytes((magic, attributes))]
    if magic == MAGIC_V1:
        parts.append(_Q.pack(timestamp))
    for field in (key, value):
        if field is None:
            parts.append(_I.pack(-1))
        else:
            parts += (_I.pack(len(field)), bytes(field))
    body = b"".join(parts)
    return _U32.pack(zlib.crc32(body)) + body


def build_legacy_message_set(
    records: Sequence[SimpleRecord],
    *,
    magic: int,
    base_offset: int = 0,
    codec: int = Codec.NONE,
    compression_level: int | None = None,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    log_append_time: int = NO_TIMESTAMP,
    offsets: Sequence[int] | None = None,
) -> bytearray:
    """A v0/v1 message set as Kafka's ``MemoryRecordsBuilder`` writes it (byte-exact when uncompressed).

    Uncompressed: one entry per record at its absolute offset. Compressed: one wrapper entry at the last
    offset, null key, value = compressed inner entries (v1: relative offsets 0..n-1, v0: absolute), wrapper
    timestamp = LogAppendTime or the max record timestamp. With LogAppendTime every message carries
    ``log_append_time`` and the timestamp-type bit (v1). v0 has no timestamps; headers are not allowed;
    zstd needs v2. lz4 in v0 uses Kafka's old (broken) frame header checksum.
    """
    if magic not in (MAGIC_V0, MAGIC_V1):
        raise ValueError(f"legacy message sets have magic 0 or 1, not {magic}")
    if codec == Codec.ZSTD or codec not in tuple(Codec):
        raise ValueError(f"codec {codec} is not supported for magic {magic}")
    if not records:
        return bytearray()
    offs = _offsets(records, base_offset, offsets)
    lat = timestamp_type == TimestampType.LOG_APPEND_TIME
    ts_bit = _TIMESTAMP_TYPE_MASK if (magic == MAGIC_V1 and lat) else 0
    compressed = codec != Codec.NONE
    max_ts = NO_TIMESTAMP
    entries: list[bytes] = []
    for rec, off in zip(records, offs, strict=True):
        if rec.headers:
            raise ValueError(f"Magic v{magic} does not support record headers")
        _check_timestamp(rec.timestamp)
        ts = log_append_time if lat else rec.timestamp
        if magic > MAGIC_V0 and ts > max_ts:
            max_ts = ts
        msg = _legacy_message(magic, ts_bit, ts, rec.key, rec.value)
        inner_offset = off - base_offset if (compressed and magic > MAGIC_V0) else off
        entries.append(_QI.pack(inner_offset, len(msg)) + msg)
    if not compressed:
        return bytearray(b"".join(entries))
    value = compress(codec, b"".join(entries), level=compression_level, magic=magic)
    wrapper_ts = log_append_time if lat else max_ts
    msg = _legacy_message(magic, codec | ts_bit, wrapper_ts, None, value)
    return bytearray(_QI.pack(offs[-1], len(msg)) + msg)
