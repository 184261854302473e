"""The produce path for one partition: validate the batch, assign offsets, append (sans-I/O).

Kafka's ``ProduceRequest.validateRecords`` and ``LogValidator`` are the specification:

- Produce v3+ carries exactly one magic-v2 batch per partition → else INVALID_RECORD;
- a batch that does not parse or fails its CRC-32C → CORRUPT_MESSAGE;
- a batch larger than the topic's ``max.message.bytes`` (whole batch, log overhead included)
  → MESSAGE_TOO_LARGE;
- control batches from clients, a record count that disagrees with lastOffsetDelta, or
  keyless records on a compacted topic → INVALID_RECORD;
- idempotent producers' sequences per :mod:`chronik.broker.producer_state`.

The batch is stored as sent: only its base offset and partition leader epoch are patched
(outside the CRC), plus maxTimestamp and a new CRC when the topic uses LogAppendTime. Records
of an uncompressed batch are walked (framing only, natively) as Kafka's LogValidator reads them,
answering INVALID_RECORD for a malformed one; they are decoded only for compacted topics (to
check keys) and when the topic's
``compression.type`` names a codec other than the batch's (it is then rebuilt with that codec,
keeping offsets, timestamps, headers and the producer's id, epoch and sequence, as Kafka's
LogValidator recompresses); ``producer`` (the default) keeps whatever the client sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from chronik.broker.producer_state import STATE_KEY, BatchMeta, ProducerStates
from chronik.broker.topics import Partition
from chronik.protocol.compression import Codec
from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import (
    MAGIC_V2,
    BatchTooLargeError,
    CorruptRecordError,
    RecordBatch,
    SimpleRecord,
    UnsupportedMagicError,
    build_batch,
    split_batches,
)
from chronik.storage.api import BatchEntry

NO_TIMESTAMP = -1
#: ``compression.type`` values that force a codec (``producer`` keeps the batch's own).
TOPIC_CODECS = {
    "uncompressed": Codec.NONE,
    "gzip": Codec.GZIP,
    "snappy": Codec.SNAPPY,
    "lz4": Codec.LZ4,
    "zstd": Codec.ZSTD,
}


@dataclass(slots=True)
class AppendResult:
    """What a ProduceResponse partition entry reports."""

    error: ErrorCode = ErrorCode.NONE
    message: str | None = None
    base_offset: int = -1
    log_append_time: int = NO_TIMESTAMP
    log_start_offset: int = -1
    record_errors: list[tuple[int, str | None]] | None = None


def _writable(records: bytes | bytearray | memoryview) -> memoryview:
    """A writable view of the batch: patched in place when the request buffer allows it,
    else copied once (the only copy on the produce path)."""
    view = records if isinstance(records, memoryview) else memoryview(records)
    return view if not view.readonly else memoryview(bytearray(view))


def append_records(
    partition: Partition,
    records: bytes | bytearray | memoryview | None,
    *,
    max_message_bytes: int,
    log_append_time: bool,
    compacted: bool,
    now_ms: int,
    compression: str = "producer",
) -> AppendResult:
    """Validate and append one partition's records of a Produce request (v3+)."""
    log = partition.log
    if not records:
        return AppendResult(
            ErrorCode.INVALID_RECORD, "Produce request contains no record batch", log_start_offset=log.log_start_offset
        )
    view = _writable(records)
    try:
        split = split_batches(view, max_batch_size=max_message_bytes, allow_truncated=False, allow_legacy=False)
    except BatchTooLargeError as exc:
        return AppendResult(ErrorCode.MESSAGE_TOO_LARGE, str(exc), log_start_offset=log.log_start_offset)
    except UnsupportedMagicError as exc:
        if exc.magic not in (0, 1):  # Kafka's ByteBufferLogInputStream: "Invalid magic found in record"
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, str(exc), log_start_offset=log.log_start_offset)
        return AppendResult(
            ErrorCode.INVALID_RECORD,
            "Produce requests with version 3 and above must use magic v2",
            log_start_offset=log.log_start_offset,
        )
    except CorruptRecordError as exc:
        return AppendResult(ErrorCode.CORRUPT_MESSAGE, str(exc), log_start_offset=log.log_start_offset)
    if len(split.batches) != 1:
        return AppendResult(
            ErrorCode.INVALID_RECORD,
            "Produce requests with version 3 are only allowed to contain exactly one record batch",
            log_start_offset=log.log_start_offset,
        )
    batch = split.batches[0]
    assert isinstance(batch, RecordBatch) and batch.magic == MAGIC_V2
    try:
        batch.validate()
    except CorruptRecordError as exc:
        return AppendResult(ErrorCode.CORRUPT_MESSAGE, str(exc), log_start_offset=log.log_start_offset)
    header = batch.header()
    if batch.compression == Codec.NONE:
        problem = _record_framing_error(batch, header.record_count)
        if problem is not None:
            return AppendResult(ErrorCode.INVALID_RECORD, problem, log_start_offset=log.log_start_offset)
    if batch.is_control:
        return AppendResult(
            ErrorCode.INVALID_RECORD,
            "Clients are not allowed to write control records",
            log_start_offset=log.log_start_offset,
        )
    count = header.record_count
    if count <= 0 or count != header.last_offset_delta + 1:
        return AppendResult(
            ErrorCode.INVALID_RECORD,
            f"Inconsistent batch offset range ({header.last_offset_delta + 1}) and record count ({count})",
            log_start_offset=log.log_start_offset,
        )
    if compacted:
        try:
            keyless = [i for i, r in enumerate(batch.records()) if r.key is None]
        except CorruptRecordError as exc:
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, str(exc), log_start_offset=log.log_start_offset)
        if keyless:
            return AppendResult(
                ErrorCode.INVALID_RECORD,
                "Compacted topic cannot accept message without key",
                log_start_offset=log.log_start_offset,
                record_errors=[(i, "Compacted topic cannot accept message without key") for i in keyless],
            )

    target = TOPIC_CODECS.get(compression)
    if target is not None and target != batch.compression:
        try:
            view, batch = _recompress(batch, target)
        except CorruptRecordError as exc:
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, str(exc), log_start_offset=log.log_start_offset)
        header = batch.header()

    producer_id = header.producer_id
    states: ProducerStates | None = None
    last_seq = -1
    if producer_id >= 0:
        if partition.producers is None:
            partition.producers = ProducerStates.from_bytes(log.get_state(STATE_KEY))
        states = partition.producers
        last_seq = header.base_sequence + header.last_offset_delta
        if last_seq > 0x7FFFFFFF:
            last_seq -= 0x80000000
        error, duplicate = states.check(producer_id, header.producer_epoch, header.base_sequence, last_seq)
        if error != ErrorCode.NONE:
            return AppendResult(error, None, log_start_offset=log.log_start_offset)
        if duplicate is not None:
            return AppendResult(base_offset=duplicate.first_offset, log_start_offset=log.log_start_offset)

    base = log.log_end_offset
    batch.set_base_offset(base)
    batch.set_partition_leader_epoch(partition.leader_epoch)
    append_time = NO_TIMESTAMP
    max_ts = header.max_timestamp
    if log_append_time:
        batch.set_log_append_time(now_ms)
        append_time = max_ts = now_ms
    last = base + header.last_offset_delta
    log.append([(view, BatchEntry(base, last, max_ts, len(view)))])
    if states is not None:
        states.record(
            producer_id,
            header.producer_epoch,
            BatchMeta(header.base_sequence, header.base_sequence + header.last_offset_delta, base, last),
        )
        log.put_state(STATE_KEY, states.to_bytes())
    return AppendResult(base_offset=base, log_append_time=append_time, log_start_offset=log.log_start_offset)


def _recompress(batch: RecordBatch, codec: int) -> tuple[memoryview, RecordBatch]:
    """The batch rebuilt with ``codec`` (the topic's compression.type), same records and offsets."""
    records = batch.records()
    rebuilt = build_batch(
        [SimpleRecord(r.key, r.value, r.headers, r.timestamp) for r in records],
        base_offset=batch.base_offset,
        offsets=[r.offset for r in records],
        codec=codec,
        producer_id=batch.producer_id,
        producer_epoch=batch.producer_epoch,
        base_sequence=batch.base_sequence,
        is_transactional=batch.is_transactional,
    )
    view = memoryview(rebuilt)
    return view, RecordBatch(view)


def _record_framing_error(batch: RecordBatch, count: int) -> str | None:
    """Why the records of an uncompressed batch do not parse (Kafka's LogValidator reads them all).

    The native walker checks the framing without building objects; without it, records are
    decoded in Python. Compressed batches are stored as sent, unread (see the module docstring).
    """
    if _validate_records is not None:
        try:
            _validate_records(batch.records_section, count)
        except _AccelMalformed as exc:
            return f"Invalid record: {exc}"
        return None
    try:
        if len(batch.records()) != count:
            return "Invalid record count"
    except CorruptRecordError as exc:
        return f"Invalid record: {exc}"
    return None


try:  # the optional native extension (setup.py); pure Python otherwise, or with CHRONIK_PURE_PYTHON=1
    if os.environ.get("CHRONIK_PURE_PYTHON") == "1":
        raise ImportError("pure Python requested")
    from chronik._accel import Malformed as _AccelMalformed
    from chronik._accel import validate_records as _validate_records
except ImportError:  # pragma: no cover - exercised where no C compiler is available
    _validate_records = None
    _AccelMalformed = ValueError
