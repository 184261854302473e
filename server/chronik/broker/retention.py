"""The log janitor: time- and size-based retention (and, through :mod:`chronik.broker.compaction`,
log compaction), run on the reactor thread in small time-bounded steps.

Kafka's ``UnifiedLog.deleteOldSegments`` is the specification, with whole *batches* where Kafka
has whole segments (a Chronik partition has no segments; a batch is the smallest unit stored):

- only topics whose ``cleanup.policy`` contains ``delete``;
- ``retention.ms`` (< 0: no time limit): the oldest batches whose max timestamp is more than
  ``retention.ms`` before now are deleted, stopping at the first batch that is not expired (as
  Kafka stops at the first segment that is not). A batch without timestamps (max timestamp -1)
  never expires by time, and a batch with a timestamp in the future blocks the ones after it,
  as in Kafka;
- ``retention.bytes`` (< 0: unlimited): the oldest batches are deleted while the log *without*
  them is still at least ``retention.bytes`` (Kafka: ``size - segment.size >= retentionSize``),
  so a partition keeps at least ``retention.bytes`` and less than ``retention.bytes`` + one batch;
- deleting advances the log start offset with :meth:`PartitionLog.delete_before` to the offset
  after the last deleted batch; ListOffsets(earliest) and Fetch's OFFSET_OUT_OF_RANGE follow.

**The last batch.** Kafka deletes the active segment too once it is expired (it rolls an empty
one first), so a partition idle for longer than ``retention.ms`` ends up empty with its log
start offset equal to its log end offset. Chronik does the same: the batch holding the last
offset is deleted when it is expired (or when ``retention.bytes`` is 0). Offsets are never
reused: the log end offset (high watermark) is kept, the next produce continues from it, and
idempotent producer state lives in the partition's state blob, not in the batches.

**Not blocking the reactor.** ``delete_before`` is a RocksDB write on the reactor thread, and
scanning an index is Python work, so the janitor works in steps: at most ``MAX_BATCHES_PER_STEP``
batches per ``delete_before``, and a time budget per run (``budget_ms``, default 5 ms). A run
that runs out of budget remembers where it was and continues in a new reactor turn
(``call_later(0, ...)``), letting requests in between, until every partition has been visited;
the next pass starts at the next ``log.retention.check.interval.ms`` tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chronik.broker.compaction import Compaction
from chronik.broker.core import Broker
from chronik.broker.topics import Partition

log = logging.getLogger("chronik.janitor")

MAX_BATCHES_PER_STEP = 2000  # bounds one delete_before (index scan, index list surgery)
DEFAULT_BUDGET_MS = 5.0


class PartitionTask(Protocol):
    """One kind of per-partition maintenance the janitor runs (retention, compaction)."""

    def step(self, partition: Partition, now_ms: int, deadline: float) -> bool:
        """Do some work on ``partition``; True if more is left for this pass (call again)."""


def retention_cut(
    entries: Any, size: int, now_ms: int, retention_ms: int, retention_bytes: int, max_batches: int
) -> int:
    """How many leading batches of ``entries`` (a partition's index, total ``size`` bytes)
    retention deletes now, at most ``max_batches``."""
    if retention_ms < 0 and retention_bytes < 0:
        return 0
    n = min(len(entries), max_batches)
    i = 0
    while i < n:
        e = entries[i]
        expired = retention_ms >= 0 and e.max_timestamp >= 0 and now_ms - e.max_timestamp > retention_ms
        too_big = retention_bytes >= 0 and size - e.size >= retention_bytes
        if not (expired or too_big):
            break
        size -= e.size
        i += 1
    return i


class Retention:
    """``cleanup.policy=delete``: ``retention.ms`` and ``retention.bytes`` for one partition per step."""

    def __init__(self, broker: Broker, max_batches: int = MAX_BATCHES_PER_STEP) -> None:
        self.broker = broker
        self.max_batches = max_batches
        self.deleted_batches = 0  # counters, for tests and logging
        self.deleted_bytes = 0

    def step(self, partition: Partition, now_ms: int, deadline: float) -> bool:
        broker, topic = self.broker, partition.topic
        if "delete" not in broker.config(topic, "cleanup.policy"):
            return False
        retention_ms = broker.config(topic, "retention.ms")
        retention_bytes = broker.config(topic, "retention.bytes")
        plog = partition.log
        entries = plog.entries()
        cut = retention_cut(entries, plog.size_bytes(), now_ms, retention_ms, retention_bytes, self.max_batches)
        if not cut:
            return False
        freed = sum(e.size for e in entries[:cut])
        new_start = entries[cut - 1].last_offset + 1
        plog.delete_before(new_start)
        self.deleted_batches += cut
        self.deleted_bytes += freed
        log.info(
            "%s-%d: retention deleted %d batches (%d bytes), log start now %d",
            topic.name,
            partition.index,
            cut,
            freed,
            new_start,
        )
        broker.notify(partition)
        return cut == self.max_batches


@dataclass
class TickStats:
    """Cost of the janitor's runs on the reactor thread (milliseconds)."""

    runs: int = 0
    passes: int = 0
    last_ms: float = 0.0
    max_ms: float = 0.0
    total_ms: float = 0.0
    durations: list[float] = field(default_factory=list)  # the last 1000 runs

    def add(self, ms: float) -> None:
        self.runs += 1
        self.last_ms = ms
        self.max_ms = max(self.max_ms, ms)
        self.total_ms += ms
        self.durations.append(ms)
        if len(self.durations) > 1000:
            del self.durations[:500]


class Janitor:
    """Visits every partition once per pass and runs its tasks there, within a time budget per run.

    ``tick()`` is what the broker's ``task.LoopingCall`` calls every
    ``log.retention.check.interval.ms``: it starts a pass (or continues an unfinished one). A run
    that exceeds ``budget_ms`` stops between steps and, with ``call_later``, schedules its own
    continuation in the next reactor turn. Errors on one partition are logged and skipped.
    """

    def __init__(
        self,
        broker: Broker,
        tasks: list[PartitionTask] | None = None,
        *,
        budget_ms: float = DEFAULT_BUDGET_MS,
        call_later: Callable[[float, Callable[[], None]], Any] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.broker = broker
        self.tasks: list[PartitionTask] = tasks if tasks is not None else default_tasks(broker)
        self.budget_s = budget_ms / 1000
        self.call_later = call_later
        self.clock = clock
        self.stats = TickStats()
        self._queue: list[Partition] = []  # partitions left in the current pass
        self._task_index = 0  # the task of _queue[0] to run next
        self._pending: Any = None  # the scheduled continuation
        self._stopped = False

    @property
    def in_pass(self) -> bool:
        return bool(self._queue)

    def tick(self) -> None:
        """Start a pass over all partitions unless one is still running, then run for one budget."""
        if not self._queue:
            self._queue = [p for t in list(self.broker.topics.values()) for p in t.partitions]
            self._task_index = 0
        self.run()

    def run(self) -> bool:
        """Work until the pass is done or the budget is spent; True when the pass is done."""
        self._pending = None
        if self._stopped:
            return True
        start = self.clock()
        deadline = start + self.budget_s
        now_ms = self.broker.now_ms()
        queue, tasks = self._queue, self.tasks
        try:
            while queue:
                partition = queue[0]
                if self.broker.topics_by_id.get(partition.topic.topic_id) is not partition.topic:
                    queue.pop(0)  # deleted topic
                    self._task_index = 0
                    continue
                task = tasks[self._task_index] if self._task_index < len(tasks) else None
                more = False
                if task is not None:
                    try:
                        more = task.step(partition, now_ms, deadline)
                    except Exception:
                        log.exception(
                            "janitor: %s on %s-%d failed", type(task).__name__, partition.topic.name, partition.index
                        )
                        more = False
                if not more:
                    self._task_index += 1
                    if self._task_index >= len(tasks):
                        queue.pop(0)
                        self._task_index = 0
                if self.clock() >= deadline:
                    break
        finally:
            self.stats.add((self.clock() - start) * 1000)
        if queue:
            if self.call_later is not None and not self._stopped:
                self._pending = self.call_later(0, self.run)
            return False
        self.stats.passes += 1
        return True

    def run_pass(self) -> int:
        """Run a whole pass synchronously (tests): returns the number of runs it took."""
        self.tick()
        runs = 1
        while self._queue:
            self.run()
            runs += 1
        return runs

    def stop(self) -> None:
        """Cancel a scheduled continuation; further runs do nothing."""
        self._stopped = True
        pending, self._pending = self._pending, None
        if pending is not None and pending.active():
            pending.cancel()


def default_tasks(broker: Broker) -> list[PartitionTask]:
    """Retention, then compaction (on the part retention kept)."""
    return [Retention(broker), Compaction(broker)]


def start_janitor(broker: Broker, interval_ms: int, reactor: Any) -> tuple[Janitor, Any]:
    """A janitor run by a LoopingCall every ``interval_ms`` on ``reactor``; returns (janitor, loop)."""
    from twisted.internet import task

    janitor = Janitor(broker, call_later=reactor.callLater)
    loop = task.LoopingCall(janitor.tick)
    loop.clock = reactor
    loop.start(interval_ms / 1000, now=False)
    return janitor, loop


def stop_janitor(janitor: Janitor, loop: Any) -> None:
    if loop.running:
        loop.stop()
    janitor.stop()
