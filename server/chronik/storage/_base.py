"""Engine-independent bookkeeping shared by the storage engines.

``IndexedLog`` keeps one partition's batch index in memory (the ``BatchEntry`` list plus a
parallel list of base offsets for bisect), the log start/end offsets and the stored size, and
implements the contract's validation and offset arithmetic; engines add persistence.
``TopicRegistry`` does the same for topic metadata. Keeping these rules in one place is what
makes the engines agree on the contract's edge cases.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar, overload

from chronik.storage.api import BatchEntry, TopicMeta
from chronik.storage.errors import StorageClosedError

BatchInput = tuple[bytes | bytearray | memoryview, BatchEntry]


class EntriesView(Sequence[BatchEntry]):
    """Read-only live view of a partition's index (reflects later appends and deletions)."""

    __slots__ = ("_items",)

    def __init__(self, items: list[BatchEntry]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> BatchEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[BatchEntry]: ...

    def __getitem__(self, index: int | slice) -> BatchEntry | list[BatchEntry]:
        return self._items[index]

    def __iter__(self) -> Iterator[BatchEntry]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntriesView):
            return self._items == other._items
        if isinstance(other, list | tuple):
            return self._items == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EntriesView({self._items!r})"


def byte_length(data: bytes | bytearray | memoryview) -> int:
    """Length in bytes of a batch buffer (``nbytes`` for memoryviews of any format)."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


class IndexedLog:
    """The in-memory index and offsets of one partition log; engines subclass it for storage."""

    __slots__ = ("_bases", "_entries", "_gone", "_log_end", "_log_start", "_size")

    def __init__(self, entries: list[BatchEntry] | None = None, log_start: int = 0) -> None:
        self._entries: list[BatchEntry] = entries if entries is not None else []
        self._bases: list[int] = [e.base_offset for e in self._entries]
        self._log_start = log_start
        self._log_end = max(log_start, self._entries[-1].last_offset + 1 if self._entries else 0)
        self._size = sum(e.size for e in self._entries)
        self._gone: str | None = None  # why the log may no longer be used (closed store, deleted topic)

    # ---- the read-only part of the PartitionLog protocol ---------------------------------------

    @property
    def log_start_offset(self) -> int:
        """First offset that may be read (advanced by delete_before)."""
        return self._log_start

    @property
    def log_end_offset(self) -> int:
        """Next offset to assign: last stored offset + 1, or the log start offset if that is higher."""
        return self._log_end

    def entries(self) -> Sequence[BatchEntry]:
        """Live read-only view of the stored batches' index, in offset order."""
        return EntriesView(self._entries)

    def size_bytes(self) -> int:
        """Sum of the stored batches' sizes."""
        return self._size

    # ---- helpers for engines ---------------------------------------------------------------------

    def _check_alive(self) -> None:
        if self._gone is not None:
            raise StorageClosedError(self._gone)

    def _mark_gone(self, reason: str) -> None:
        self._gone = reason

    def _check_append(self, batches: Sequence[BatchInput]) -> None:
        """Raise ValueError unless ``batches`` continue the log contiguously with consistent entries."""
        self._check_alive()
        expected = self._log_end
        for data, entry in batches:
            if not isinstance(entry, BatchEntry):
                raise TypeError(f"expected a BatchEntry, got {type(entry).__name__}")
            if entry.base_offset != expected:
                raise ValueError(f"batch base offset {entry.base_offset} is not the log end offset {expected}")
            if entry.last_offset < entry.base_offset:
                raise ValueError(f"batch last offset {entry.last_offset} is below its base offset {entry.base_offset}")
            if entry.size != byte_length(data):
                raise ValueError(f"BatchEntry.size {entry.size} differs from the batch's {byte_length(data)} bytes")
            expected = entry.last_offset + 1

    def _commit_append(self, entries: Sequence[BatchEntry]) -> None:
        """Add already-stored batches to the index."""
        self._entries.extend(entries)
        self._bases.extend(e.base_offset for e in entries)
        self._size += sum(e.size for e in entries)
        self._log_end = entries[-1].last_offset + 1

    def _select(self, offset: int, max_bytes: int) -> tuple[int, int]:
        """Index range [i, j) of the batches a read(offset, max_bytes) returns."""
        self._check_alive()
        entries = self._entries
        n = len(entries)
        if offset >= self._log_end or not n:
            return 0, 0
        i = bisect_right(self._bases, offset) - 1
        if i < 0:
            i = 0  # before the first stored batch: start with it
        elif entries[i].last_offset < offset:
            i += 1
            if i >= n:
                return 0, 0
        total = entries[i].size
        j = i + 1
        while j < n:
            total += entries[j].size
            if total > max_bytes:
                break
            j += 1
        return i, j

    def _check_delete(self, offset: int) -> int | None:
        """Validate delete_before(offset); the number of leading batches it removes, or None for a no-op."""
        self._check_alive()
        if offset < 0:
            raise ValueError(f"log start offset {offset} is negative")
        if offset > self._log_end:
            raise ValueError(f"log start offset {offset} is beyond the log end offset {self._log_end}")
        if offset <= self._log_start:
            return None
        cut = bisect_right(self._bases, offset) - 1  # batch containing (or last before) offset
        if cut >= 0 and self._entries[cut].last_offset < offset:
            cut += 1
        return max(cut, 0)

    def _check_replace(self, first: int, last: int, batches: Sequence[BatchInput]) -> tuple[int, int]:
        """Validate replace(first, last, batches); the index range [i, j) of the batches it replaces."""
        self._check_alive()
        i = bisect_right(self._bases, first) - 1
        if i < 0 or self._bases[i] != first:
            raise ValueError(f"no stored batch starts at offset {first}")
        j = bisect_right(self._bases, last) - 1
        if j < i or self._entries[j].last_offset != last:
            raise ValueError(f"no stored batch from offset {first} on ends at offset {last}")
        expected = first
        for data, entry in batches:
            if not isinstance(entry, BatchEntry):
                raise TypeError(f"expected a BatchEntry, got {type(entry).__name__}")
            if entry.base_offset < expected:
                raise ValueError(f"replacement batch at offset {entry.base_offset} overlaps offset {expected - 1}")
            if entry.last_offset < entry.base_offset:
                raise ValueError(f"batch last offset {entry.last_offset} is below its base offset {entry.base_offset}")
            if entry.size != byte_length(data):
                raise ValueError(f"BatchEntry.size {entry.size} differs from the batch's {byte_length(data)} bytes")
            expected = entry.last_offset + 1
        if expected > last + 1:
            raise ValueError(f"replacement batches end at offset {expected - 1}, beyond {last}")
        if j == len(self._entries) - 1 and expected != last + 1:
            raise ValueError(f"replacing the last batch must keep its last offset {last}")
        return i, j + 1

    def _commit_replace(self, i: int, j: int, entries: Sequence[BatchEntry]) -> None:
        self._size += sum(e.size for e in entries) - sum(e.size for e in self._entries[i:j])
        self._entries[i:j] = entries
        self._bases[i:j] = [e.base_offset for e in entries]

    def _commit_delete(self, offset: int, cut: int) -> None:
        if cut:
            self._size -= sum(e.size for e in self._entries[:cut])
            del self._entries[:cut]
            del self._bases[:cut]
        self._log_start = offset
        self._log_end = max(self._log_end, offset)


def copy_meta(meta: TopicMeta) -> TopicMeta:
    """A copy of ``meta`` that shares no mutable state with it."""
    return TopicMeta(meta.name, meta.topic_id, meta.partitions, dict(meta.configs))


def validate_meta(meta: TopicMeta) -> None:
    """Raise TypeError/ValueError unless ``meta`` is a well-formed TopicMeta."""
    if not isinstance(meta, TopicMeta):
        raise TypeError(f"expected a TopicMeta, got {type(meta).__name__}")
    if not isinstance(meta.name, str) or not meta.name:
        raise ValueError("topic name must be a non-empty string")
    if not isinstance(meta.topic_id, uuid.UUID):
        raise TypeError("topic_id must be a uuid.UUID")
    if isinstance(meta.partitions, bool) or not isinstance(meta.partitions, int) or meta.partitions < 1:
        raise ValueError(f"partition count must be a positive int, got {meta.partitions!r}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.configs.items()):
        raise TypeError("topic configs must map str to str")


LogT = TypeVar("LogT", bound=IndexedLog)


class TopicRegistry(Generic[LogT]):
    """Topic metadata and partition-log objects in memory, with the contract's checks.

    Engines call ``_register``/``_reregister``/``_unregister`` after persisting a change, so a
    failed write leaves memory untouched.
    """

    def __init__(self) -> None:
        self._topics: dict[uuid.UUID, TopicMeta] = {}
        self._logs: dict[uuid.UUID, list[LogT]] = {}

    def topics(self) -> list[TopicMeta]:
        """Copies of all topics' metadata, sorted by name."""
        return sorted((copy_meta(m) for m in self._topics.values()), key=lambda m: m.name)

    def partition(self, topic_id: uuid.UUID, partition: int) -> LogT:
        """The partition's log (the same object on every call); KeyError if unknown."""
        logs = self._logs.get(topic_id)
        if logs is None:
            raise KeyError(f"unknown topic id {topic_id}")
        if isinstance(partition, bool) or not isinstance(partition, int) or not 0 <= partition < len(logs):
            raise KeyError(f"topic {topic_id} has no partition {partition!r} (it has {len(logs)})")
        return logs[partition]

    def _check_create(self, meta: TopicMeta) -> None:
        validate_meta(meta)
        if meta.topic_id in self._topics:
            raise ValueError(f"topic id {meta.topic_id} already exists")
        if any(m.name == meta.name for m in self._topics.values()):
            raise ValueError(f"topic {meta.name!r} already exists")

    def _check_update(self, meta: TopicMeta) -> TopicMeta:
        validate_meta(meta)
        old = self._topics.get(meta.topic_id)
        if old is None:
            raise KeyError(f"unknown topic id {meta.topic_id}")
        if meta.name != old.name:
            raise ValueError(f"topic {old.name!r} cannot be renamed to {meta.name!r}")
        if meta.partitions < old.partitions:
            raise ValueError(f"topic {old.name!r} has {old.partitions} partitions; cannot shrink to {meta.partitions}")
        return old

    def _check_delete_topic(self, topic_id: uuid.UUID) -> TopicMeta:
        meta = self._topics.get(topic_id)
        if meta is None:
            raise KeyError(f"unknown topic id {topic_id}")
        return meta

    def _register(self, meta: TopicMeta, logs: list[LogT]) -> None:
        self._topics[meta.topic_id] = copy_meta(meta)
        self._logs[meta.topic_id] = logs

    def _reregister(self, meta: TopicMeta, new_logs: list[LogT]) -> None:
        self._topics[meta.topic_id] = copy_meta(meta)
        self._logs[meta.topic_id].extend(new_logs)

    def _unregister(self, topic_id: uuid.UUID) -> None:
        del self._topics[topic_id]
        for log in self._logs.pop(topic_id):
            log._mark_gone(f"topic {topic_id} was deleted")

    def _all_logs(self) -> Iterator[LogT]:
        for logs in self._logs.values():
            yield from logs
