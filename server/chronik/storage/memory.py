"""In-memory storage engine: the contract's semantics with nothing on disk.

For fast tests and ephemeral brokers. Batches are kept as immutable ``bytes`` (a bytearray or
memoryview passed to ``append`` is copied once, since the caller may reuse its buffer) and
``read`` returns those objects without copying. ``sync`` has nothing to do. Not thread-safe
beyond the interface's rule (one thread, plus ``sync`` from anywhere).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from chronik.storage._base import BatchInput, IndexedLog, TopicRegistry
from chronik.storage.api import TopicMeta
from chronik.storage.errors import StorageClosedError


class MemoryPartitionLog(IndexedLog):
    """One partition's log held in Python lists (batches parallel to the index)."""

    __slots__ = ("_data", "_state")

    def __init__(self) -> None:
        super().__init__()
        self._data: list[bytes] = []
        self._state: dict[str, bytes] = {}

    def append(self, batches: Sequence[BatchInput]) -> None:
        """Store the batches (all or none); ValueError unless they continue the log contiguously."""
        if not batches:
            return
        self._check_append(batches)
        self._data.extend(d if type(d) is bytes else bytes(d) for d, _ in batches)
        self._commit_append([e for _, e in batches])

    def read(self, offset: int, max_bytes: int) -> list[bytes | memoryview]:
        """Whole batches from the one containing ``offset``, within ``max_bytes`` but at least one."""
        i, j = self._select(offset, max_bytes)
        return self._data[i:j]  # type: ignore[return-value]  # a new list of the stored bytes

    def delete_before(self, offset: int) -> None:
        """Advance the log start offset (never backwards) and drop batches entirely below it."""
        cut = self._check_delete(offset)
        if cut is None:
            return
        del self._data[:cut]
        self._commit_delete(offset, cut)

    def replace(self, first: int, last: int, batches: Sequence[BatchInput]) -> None:
        """Replace the whole batches spanning ``first``..``last`` with ``batches`` (see the protocol)."""
        i, j = self._check_replace(first, last, batches)
        self._data[i:j] = [d if type(d) is bytes else bytes(d) for d, _ in batches]
        self._commit_replace(i, j, [e for _, e in batches])

    def get_state(self, key: str) -> bytes | None:
        """The partition's state blob ``key``, or None."""
        self._check_alive()
        return self._state.get(key)

    def put_state(self, key: str, value: bytes | None) -> None:
        """Set (None: delete) the partition's state blob ``key``."""
        self._check_alive()
        if not isinstance(key, str):
            raise TypeError("state keys are str")
        if value is None:
            self._state.pop(key, None)
        else:
            self._state[key] = bytes(value)


class MemoryStorage(TopicRegistry[MemoryPartitionLog]):
    """A whole store in memory; everything is lost on ``close`` or process exit."""

    def __init__(self) -> None:
        super().__init__()
        self._meta: dict[str, bytes] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosedError("memory storage is closed")

    def topics(self) -> list[TopicMeta]:
        self._check_open()
        return super().topics()

    def create_topic(self, meta: TopicMeta) -> None:
        """Add a topic with ``meta.partitions`` empty partitions; ValueError if its id or name exists."""
        self._check_open()
        self._check_create(meta)
        self._register(meta, [MemoryPartitionLog() for _ in range(meta.partitions)])

    def update_topic(self, meta: TopicMeta) -> None:
        """Replace configs and grow the partition count (never shrink or rename)."""
        self._check_open()
        old = self._check_update(meta)
        self._reregister(meta, [MemoryPartitionLog() for _ in range(old.partitions, meta.partitions)])

    def delete_topic(self, topic_id: uuid.UUID) -> None:
        """Drop the topic and its partitions; KeyError if unknown."""
        self._check_open()
        self._check_delete_topic(topic_id)
        self._unregister(topic_id)

    def partition(self, topic_id: uuid.UUID, partition: int) -> MemoryPartitionLog:
        self._check_open()
        return super().partition(topic_id, partition)

    def get_meta(self, key: str) -> bytes | None:
        """Cluster metadata value ``key``, or None."""
        self._check_open()
        return self._meta.get(key)

    def put_meta(self, key: str, value: bytes | None) -> None:
        """Set (None: delete) cluster metadata ``key``."""
        self._check_open()
        if not isinstance(key, str):
            raise TypeError("meta keys are str")
        if value is None:
            self._meta.pop(key, None)
        else:
            self._meta[key] = bytes(value)

    def put_meta_batch(self, items: Mapping[str, bytes | None]) -> None:
        """Set (None: delete) several metadata keys at once."""
        self._check_open()
        if not all(isinstance(k, str) for k in items):
            raise TypeError("meta keys are str")
        for key, value in items.items():
            self.put_meta(key, value)

    def meta_items(self, prefix: str) -> list[tuple[str, bytes]]:
        """Metadata entries under ``prefix``, ordered by the keys' UTF-8 bytes."""
        self._check_open()
        found = [(k, v) for k, v in self._meta.items() if k.startswith(prefix)]
        return sorted(found, key=lambda kv: kv[0].encode())

    def sync(self) -> None:
        """Nothing to make durable."""
        self._check_open()

    def close(self) -> None:
        """Discard everything; further use raises StorageClosedError. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for log in self._all_logs():
            log._mark_gone("storage is closed")
        self._topics.clear()
        self._logs.clear()
        self._meta.clear()
