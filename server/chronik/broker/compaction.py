"""Log compaction (``cleanup.policy`` contains ``compact``), run by the janitor in time-bounded steps.

Kafka's ``LogCleaner`` / ``LogCleanerManager`` / ``MemoryRecords.filterTo`` are the specification,
with batches where Kafka has segments:

- **What is cleanable.** The *dirty* part of a partition starts at its cleaner checkpoint (the
  offset the previous cleaning reached, kept in the partition's state blob ``cleaner.checkpoint``;
  Kafka's ``cleaner-offset-checkpoint``) or the log start offset if higher. It ends before the
  log's last batch (Kafka never cleans the active segment) and before the first batch whose max
  timestamp is less than ``min.compaction.lag.ms`` old.
- **When.** A partition is cleaned when its dirty bytes are at least ``min.cleanable.dirty.ratio``
  of the bytes up to the dirty end, or when its first dirty batch is older than
  ``max.compaction.lag.ms``, or when a tombstone's delete horizon (below) has passed.
- **How.** (1) *map*: the dirty batches are decoded and the latest offset of every key recorded;
  (2) *clean*: every batch from the log start to the dirty end is filtered: a record is kept
  unless a later record with the same key is in the map, it has no key (Kafka drops those), it
  lies below the log start offset, or it is a tombstone (null value) whose batch's delete horizon
  has passed. A batch whose records all stay is left untouched; one that loses all its records is
  removed (a gap in the offsets); otherwise it is rebuilt with the surviving records at their
  original offsets, keeping its base offset, last offset (lastOffsetDelta as before, as Kafka's
  ``overrideLastOffset``), codec, timestamp type, producer id/epoch/base sequence, transactional
  flag and leader epoch. Each change is one :meth:`PartitionLog.replace` (atomic). (3) the
  checkpoint moves to the dirty end.
- **Tombstones** (KIP-534): the first cleaning that keeps a tombstone sets the batch's delete
  horizon to now + ``delete.retention.ms`` (the batch header's delete-horizon flag); a later
  cleaning after that time drops the tombstone. So a consumer that started before the tombstone
  was cleaned has at least ``delete.retention.ms`` to see it.
- **Out of scope**: control batches are kept as they are and their records never mapped; aborted
  transactions are not removed; ``log.cleaner.enable``/``log.cleaner.*`` I/O throttling do not
  apply (the janitor's time budget bounds the work instead). The offset map holds at most
  ``max_map_keys`` keys (Kafka's dedupe buffer) and one round covers at most ``max_dirty_batches``
  dirty batches; a larger dirty part is cleaned in several rounds (a capped round always runs,
  whatever the dirty ratio).

Time bounds: planning scans at most ``max_dirty_batches`` index entries plus the shorter of the
clean part and the part after the dirty end (summing sizes, ~0.1 us each); each step
decodes/rebuilds one batch at a time and stops once the janitor's deadline
has passed (one batch is the unit, so a single huge batch can overrun the budget by its own
cost). A cleaning spans as many janitor runs as it needs; retention and appends may happen in
between (positions are offsets, re-validated at every step).
"""

from __future__ import annotations

import logging
import struct
import time
import weakref
from bisect import bisect_left
from dataclasses import dataclass, field

from chronik.broker.core import Broker
from chronik.broker.topics import Partition
from chronik.protocol.records import (
    CorruptRecordError,
    Record,
    RecordBatch,
    SimpleRecord,
    TimestampType,
    build_batch,
    crc32c,
)
from chronik.storage.api import BatchEntry

log = logging.getLogger("chronik.cleaner")

CHECKPOINT_KEY = "cleaner.checkpoint"
LONG_MAX = (1 << 63) - 1
DEFAULT_MAX_MAP_KEYS = 1_000_000
DEFAULT_MAX_DIRTY_BATCHES = 20_000  # bounds planning (index scans) and one round's map
_U64 = struct.Struct(">Q")
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_OFF_CRC, _OFF_ATTRIBUTES, _OFF_LAST_DELTA = 17, 21, 23


@dataclass(eq=False)
class _Cleaning:
    """One cleaning of one partition in progress."""

    dirty_start: int
    dirty_end: int  # exclusive; a batch boundary
    phase: str = "map"  # "map", then "clean"
    pos: int = 0  # next offset to look at in the phase
    offsets: dict[bytes, int] = field(default_factory=dict)  # key -> latest offset in the dirty part
    next_horizon: int | None = None  # earliest delete horizon left in the cleaned part
    started: float = field(default_factory=time.monotonic)


def rebuild(batch: RecordBatch, kept: list[Record], delete_horizon_ms: int | None) -> bytes:
    """``batch`` with only ``kept`` (at their offsets), keeping base and last offset and producer fields."""
    lat = batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    out = build_batch(
        [SimpleRecord(r.key, r.value, r.headers, r.timestamp) for r in kept],
        base_offset=batch.base_offset,
        codec=batch.compression,
        timestamp_type=batch.timestamp_type,
        log_append_time=batch.max_timestamp if lat else -1,
        producer_id=batch.producer_id,
        producer_epoch=batch.producer_epoch,
        base_sequence=batch.base_sequence,
        is_transactional=batch.is_transactional,
        partition_leader_epoch=batch.partition_leader_epoch,
        delete_horizon_ms=delete_horizon_ms,
        offsets=[r.offset for r in kept],
    )
    delta = batch.last_offset - batch.base_offset
    if _I32.unpack_from(out, _OFF_LAST_DELTA)[0] != delta:  # Kafka's overrideLastOffset
        _I32.pack_into(out, _OFF_LAST_DELTA, delta)
        _U32.pack_into(out, _OFF_CRC, crc32c(memoryview(out)[_OFF_ATTRIBUTES:]))
    return bytes(out)


class Compaction:
    """The janitor task that compacts partitions of topics whose cleanup.policy contains compact."""

    def __init__(
        self,
        broker: Broker,
        *,
        max_map_keys: int = DEFAULT_MAX_MAP_KEYS,
        max_dirty_batches: int = DEFAULT_MAX_DIRTY_BATCHES,
    ) -> None:
        self.broker = broker
        self.max_map_keys = max_map_keys
        self.max_dirty_batches = max_dirty_batches
        self._cleanings: weakref.WeakKeyDictionary[Partition, _Cleaning] = weakref.WeakKeyDictionary()
        self._horizons: weakref.WeakKeyDictionary[Partition, int] = weakref.WeakKeyDictionary()
        # counters, for tests and logging
        self.cleanings = 0
        self.batches_rewritten = 0
        self.batches_removed = 0
        self.records_removed = 0

    # ---- the janitor's entry point ----------------------------------------------------------------

    def step(self, partition: Partition, now_ms: int, deadline: float) -> bool:
        if "compact" not in self.broker.config(partition.topic, "cleanup.policy"):
            self._cleanings.pop(partition, None)
            return False
        cleaning = self._cleanings.get(partition)
        if cleaning is None:
            cleaning = self.plan(partition, now_ms)
            if cleaning is None:
                return False
            self._cleanings[partition] = cleaning
        try:
            done = self._work(partition, cleaning, now_ms, deadline)
        except BaseException:
            self._cleanings.pop(partition, None)
            raise
        if not done:
            return True
        del self._cleanings[partition]
        partition.log.put_state(CHECKPOINT_KEY, _U64.pack(cleaning.dirty_end))
        if cleaning.next_horizon is None:
            self._horizons.pop(partition, None)
        else:
            self._horizons[partition] = cleaning.next_horizon
        self.cleanings += 1
        log.info(
            "%s-%d: cleaned up to offset %d in %.1f ms",
            partition.topic.name,
            partition.index,
            cleaning.dirty_end,
            (time.monotonic() - cleaning.started) * 1000,
        )
        return False

    # ---- choosing what to clean -------------------------------------------------------------------

    def checkpoint(self, partition: Partition) -> int:
        raw = partition.log.get_state(CHECKPOINT_KEY)
        return _U64.unpack(raw)[0] if raw else 0

    def plan(self, partition: Partition, now_ms: int) -> _Cleaning | None:
        """A cleaning of ``partition`` if it needs one now (see the module docs), else None."""
        broker, topic, plog = self.broker, partition.topic, partition.log
        entries = plog.entries()
        n = len(entries)
        if n < 2:
            return None
        first_dirty = max(self.checkpoint(partition), plog.log_start_offset)
        i0 = bisect_left(entries, first_dirty, key=lambda e: e.last_offset)  # first batch with dirty offsets
        end = min(n - 1, i0 + self.max_dirty_batches)  # never the last batch; a bounded round
        capped = end < n - 1 and end == i0 + self.max_dirty_batches
        min_lag = broker.config(topic, "min.compaction.lag.ms")
        if min_lag > 0:
            k = i0
            while k < end and entries[k].max_timestamp <= now_ms - min_lag:
                k += 1
            capped = capped and k == end
            end = k
        horizon = self._horizons.get(partition)
        horizon_due = horizon is not None and horizon <= now_ms
        if end <= i0:
            if not horizon_due or i0 == 0:
                return None
            return _Cleaning(first_dirty, first_dirty, phase="clean")  # only tombstones to drop
        dirty_end = entries[end - 1].last_offset + 1
        dirty = sum(entries[k].size for k in range(i0, end))
        # clean bytes without summing the whole index: from whichever side of the dirty part is shorter
        if n - end <= i0:
            clean = plog.size_bytes() - dirty - sum(entries[k].size for k in range(end, n))
        else:
            clean = sum(entries[k].size for k in range(i0))
        ratio = dirty / (clean + dirty) if clean + dirty else 0.0
        max_lag = broker.config(topic, "max.compaction.lag.ms")
        first_ts = entries[i0].max_timestamp
        overdue = max_lag < LONG_MAX and first_ts >= 0 and now_ms - first_ts > max_lag
        if ratio < broker.config(topic, "min.cleanable.dirty.ratio") and not (capped or overdue or horizon_due):
            return None
        return _Cleaning(first_dirty, dirty_end, pos=first_dirty)

    # ---- doing it ---------------------------------------------------------------------------------

    def _work(self, partition: Partition, c: _Cleaning, now_ms: int, deadline: float) -> bool:
        """Advance ``c``; True when it is finished, False when the deadline stopped it."""
        plog = partition.log
        clock = time.perf_counter
        if c.phase == "map":
            while True:
                batches = plog.read(max(c.pos, plog.log_start_offset), 1)
                batch = RecordBatch(batches[0]) if batches else None
                if batch is None or batch.base_offset >= c.dirty_end:
                    c.phase, c.pos = "clean", 0
                    break
                c.pos = batch.last_offset + 1
                if not batch.is_control:
                    try:
                        records = batch.records()
                    except CorruptRecordError:
                        log.exception(
                            "%s-%d: cannot decode batch %d", partition.topic.name, partition.index, batch.base_offset
                        )
                        records = []
                    start = plog.log_start_offset
                    for r in records:
                        if r.key is not None and r.offset >= start:
                            c.offsets[r.key] = r.offset
                    if len(c.offsets) >= self.max_map_keys:  # the map is full: clean up to here this round
                        c.dirty_end = min(c.dirty_end, c.pos)
                if clock() >= deadline:
                    return False
        delete_retention = self.broker.config(partition.topic, "delete.retention.ms")
        while True:
            start = plog.log_start_offset
            batches = plog.read(max(c.pos, start), 1)
            if not batches:
                return True
            batch = RecordBatch(batches[0])
            if batch.base_offset >= c.dirty_end:
                return True
            c.pos = batch.last_offset + 1
            if not batch.is_control:
                self._clean_batch(partition, c, batch, start, now_ms, delete_retention)
            if clock() >= deadline:
                return False

    def _clean_batch(
        self, partition: Partition, c: _Cleaning, batch: RecordBatch, start: int, now_ms: int, delete_retention: int
    ) -> None:
        try:
            records = batch.records()
        except CorruptRecordError:
            log.exception("%s-%d: cannot decode batch %d", partition.topic.name, partition.index, batch.base_offset)
            return
        horizon = batch.delete_horizon_ms
        retain_deletes = horizon is None or now_ms < horizon
        offsets = c.offsets
        kept = []
        for r in records:
            if r.offset < start or r.key is None:
                continue
            latest = offsets.get(r.key)
            if latest is not None and r.offset < latest:
                continue
            if r.value is None and not retain_deletes:
                continue
            kept.append(r)
        tombstones = any(r.value is None for r in kept)
        if tombstones and horizon is None:
            horizon = now_ms + delete_retention  # KIP-534: the first cleaning sets the horizon
        elif not tombstones:
            horizon = None
        if tombstones:
            c.next_horizon = horizon if c.next_horizon is None else min(c.next_horizon, horizon)  # type: ignore[type-var]
        if len(kept) == len(records) and horizon == batch.delete_horizon_ms:
            return
        plog = partition.log
        if kept:
            data = rebuild(batch, kept, horizon)
            entry = BatchEntry(batch.base_offset, batch.last_offset, RecordBatch(data).max_timestamp, len(data))
            plog.replace(batch.base_offset, batch.last_offset, [(data, entry)])
            self.batches_rewritten += 1
        elif batch.last_offset + 1 >= plog.log_end_offset:
            return  # the log's last batch: never removed (it carries the log end offset)
        else:
            plog.replace(batch.base_offset, batch.last_offset, [])
            self.batches_removed += 1
        self.records_removed += len(records) - len(kept)
