"""Idempotent producer checks on the produce path (Kafka's ProducerAppendInfo), with the memory
engine: duplicates return the original offsets, gaps and stale epochs are refused, and the
state survives a restart (it is stored with the partition)."""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.log_append import AppendResult, append_records
from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import SimpleRecord, build_batch
from chronik.storage.memory import MemoryStorage


def batch(pid: int, epoch: int, seq: int, n: int = 2) -> bytearray:
    return build_batch(
        [SimpleRecord(b"k", b"v%d" % i, (), 1000 + i) for i in range(n)],
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
    )


def broker_on(storage: MemoryStorage) -> Broker:
    return Broker(storage, lambda overrides: {}, node_id=1, host="127.0.0.1", port=9092)


def append(broker: Broker, data: bytearray) -> AppendResult:
    partition = broker.topics["t"].partitions[0]
    return append_records(partition, data, max_message_bytes=1 << 20, log_append_time=False, compacted=False, now_ms=0)


def test_sequences_duplicates_and_epochs() -> None:
    storage = MemoryStorage()
    broker = broker_on(storage)
    broker.create_topic("t", 1, {})
    first = append(broker, batch(7, 0, 0))
    assert (first.error, first.base_offset) == (ErrorCode.NONE, 0)
    assert append(broker, batch(7, 0, 2)).base_offset == 2  # seq 2 follows 0-1
    retry = append(broker, batch(7, 0, 0))  # a retry of the first batch: not stored again
    assert (retry.error, retry.base_offset) == (ErrorCode.NONE, 0)
    assert broker.topics["t"].partitions[0].log.log_end_offset == 4
    assert append(broker, batch(7, 0, 9)).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER  # a gap
    assert append(broker, batch(7, 1, 5)).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER  # new epoch must start at 0
    assert append(broker, batch(7, 1, 0)).error == ErrorCode.NONE  # bumped epoch from 0
    assert append(broker, batch(7, 0, 4)).error == ErrorCode.INVALID_PRODUCER_EPOCH  # fenced old epoch
    assert append(broker, batch(8, 0, 42)).error == ErrorCode.NONE  # unknown producer: any sequence
    # Another broker instance over the same storage (a restart) keeps the state.
    restarted = broker_on(storage)
    again = append(restarted, batch(7, 1, 0))
    assert (again.error, again.base_offset) == (ErrorCode.NONE, 4)
    assert append(restarted, batch(7, 1, 4)).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert append(restarted, batch(7, 1, 2)).error == ErrorCode.NONE


def test_sequence_wraps_at_int32_max() -> None:
    broker = broker_on(MemoryStorage())
    broker.create_topic("t", 1, {})
    assert append(broker, batch(3, 0, 0x7FFFFFFF - 1, n=2)).error == ErrorCode.NONE
    assert append(broker, batch(3, 0, 0, n=1)).error == ErrorCode.NONE
