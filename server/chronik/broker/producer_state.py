"""Idempotent-producer state of one partition (Kafka's ProducerStateManager / ProducerAppendInfo).

Per producer id: the current epoch and the last five batches' (first seq, last seq, first
offset, last offset). A produce batch with a producer id is checked before it is appended:

- epoch below the current one → INVALID_PRODUCER_EPOCH;
- a batch equal to one of the last five (same epoch, first and last sequence) is a retry of an
  already-written batch: nothing is appended and the original offsets are returned (Kafka ≥ 2.x
  answers such a retry with NONE and the first append's offsets);
- a new epoch must start at sequence 0 (unless the producer had no known epoch) → else
  OUT_OF_ORDER_SEQUENCE_NUMBER;
- the same epoch must continue at last sequence + 1 (wrapping at Int32.MAX) → else
  OUT_OF_ORDER_SEQUENCE_NUMBER.

The state is persisted per partition as JSON (``PartitionLog.put_state``) with every append
that changes it, so it survives restarts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from chronik.protocol.errors import ErrorCode

NO_EPOCH = -1
NO_SEQUENCE = -1
INT32_MAX = 0x7FFFFFFF
BATCHES_KEPT = 5  # Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN
STATE_KEY = "producers"


@dataclass(slots=True)
class BatchMeta:
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int


@dataclass(slots=True)
class ProducerEntry:
    epoch: int = NO_EPOCH
    batches: list[BatchMeta] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


class ProducerStates:
    """All producers of one partition."""

    def __init__(self, entries: dict[int, ProducerEntry] | None = None) -> None:
        self.entries: dict[int, ProducerEntry] = entries or {}

    def check(self, producer_id: int, epoch: int, first_seq: int, last_seq: int) -> tuple[ErrorCode, BatchMeta | None]:
        """Validate a batch: (NONE, None) to append it, (NONE, meta) for a duplicate of ``meta``,
        or (error, None)."""
        entry = self.entries.get(producer_id)
        if entry is None:
            return ErrorCode.NONE, None
        if epoch < entry.epoch:
            return ErrorCode.INVALID_PRODUCER_EPOCH, None
        if epoch == entry.epoch:
            for meta in entry.batches:
                if meta.first_seq == first_seq and meta.last_seq == last_seq:
                    return ErrorCode.NONE, meta
            if entry.epoch != NO_EPOCH and not _in_sequence(entry.last_seq, first_seq):
                return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, None
        elif first_seq != 0 and entry.epoch != NO_EPOCH:
            return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, None
        return ErrorCode.NONE, None

    def record(self, producer_id: int, epoch: int, meta: BatchMeta) -> None:
        """Remember an appended batch."""
        entry = self.entries.get(producer_id)
        if entry is None or entry.epoch != epoch:
            entry = self.entries[producer_id] = ProducerEntry(epoch)
        entry.batches.append(meta)
        if len(entry.batches) > BATCHES_KEPT:
            del entry.batches[0]

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                str(pid): [e.epoch, [[b.first_seq, b.last_seq, b.first_offset, b.last_offset] for b in e.batches]]
                for pid, e in self.entries.items()
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes | None) -> ProducerStates:
        if not data:
            return cls()
        raw = json.loads(data)
        return cls(
            {int(pid): ProducerEntry(epoch, [BatchMeta(*b) for b in batches]) for pid, (epoch, batches) in raw.items()}
        )
