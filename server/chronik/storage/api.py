"""The storage interface every engine implements (RocksDB now; others later).

Storage is synchronous and knows nothing of Twisted or the Kafka wire protocol beyond record
batches as opaque bytes plus the index facts the broker extracted from their headers. Every
engine must pass the contract suite in ``tests/storage_contract.py``.

Threading: all methods are called from the broker's reactor thread, except :meth:`Storage.sync`,
which the group committer calls from a worker thread while the reactor keeps appending and
reading. ``sync`` makes durable everything appended before it was called.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """Index facts of one stored batch, taken from its header by the broker."""

    base_offset: int
    last_offset: int
    max_timestamp: int  # -1 when the batch has no timestamps
    size: int  # bytes of the stored batch


@dataclass(slots=True)
class TopicMeta:
    """A topic: its id, partition count, and the topic configs set explicitly on it."""

    name: str
    topic_id: uuid.UUID
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


class PartitionLog(Protocol):
    """One partition's log: whole batches, keyed by base offset, in offset order.

    Appended batches are contiguous; after :meth:`replace` (compaction) there may be gaps between
    stored batches, never overlaps."""

    @property
    def log_start_offset(self) -> int:
        """First offset that may be read (advanced by DeleteRecords and retention)."""

    @property
    def log_end_offset(self) -> int:
        """Next offset to assign (the high watermark on a single node)."""

    def append(self, batches: Sequence[tuple[bytes | bytearray | memoryview, BatchEntry]]) -> None:
        """Store batches atomically (all or none). Each entry's base_offset must equal the log
        end offset at that point (contiguous); afterwards log_end_offset = last_offset + 1."""

    def read(self, offset: int, max_bytes: int) -> list[bytes | memoryview]:
        """Whole batches starting with the one containing ``offset`` (or the first after it),
        adding batches while the total stays within ``max_bytes`` — but always at least one
        batch if any exists at or after ``offset`` (KIP-74). Empty past the end."""

    def entries(self) -> Sequence[BatchEntry]:
        """The index of stored batches in offset order (read-only view)."""

    def delete_before(self, offset: int) -> None:
        """Advance the log start offset to ``offset`` (≤ log_end_offset), durably; batches
        entirely below it are removed. Never moves it backwards."""

    def replace(
        self, first: int, last: int, batches: Sequence[tuple[bytes | bytearray | memoryview, BatchEntry]]
    ) -> None:
        """Replace the stored batches spanning offsets ``first``..``last`` with ``batches``, atomically
        (log compaction rewrites batches in place this way).

        ``first`` must be the base offset of a stored batch and ``last`` the last offset of the same
        or a later stored batch, so whole batches are replaced. The new batches must lie within
        ``first``..``last``, in increasing offset order without overlapping; there may be fewer of
        them (or none), leaving gaps in the log's offsets (reads skip them: ``read`` starts with the
        first batch after a missing offset). If the range includes the log's last batch, the new
        batches must keep its last offset (non-empty, the last ending at ``last``), so that the
        log end offset stays derivable from the index. The log start and end offsets never change;
        ``size_bytes`` and ``entries`` reflect the new batches. ValueError, with nothing changed,
        on any violation."""

    def size_bytes(self) -> int:
        """Bytes of stored batches (for DescribeLogDirs and retention.bytes)."""

    def get_state(self, key: str) -> bytes | None:
        """Per-partition state blob (e.g. idempotent producer state), or None."""

    def put_state(self, key: str, value: bytes | None) -> None:
        """Store (None: delete) a per-partition state blob; durable with the next append/sync."""


class Storage(Protocol):
    """A broker's whole store: topic metadata, partition logs, cluster metadata."""

    def topics(self) -> list[TopicMeta]: ...

    def create_topic(self, meta: TopicMeta) -> None:
        """Persist a new topic and create its empty partitions."""

    def update_topic(self, meta: TopicMeta) -> None:
        """Persist changed configs or a larger partition count (new partitions start empty)."""

    def delete_topic(self, topic_id: uuid.UUID) -> None:
        """Remove the topic and all its partition data."""

    def partition(self, topic_id: uuid.UUID, partition: int) -> PartitionLog: ...

    def get_meta(self, key: str) -> bytes | None:
        """Cluster-level metadata (cluster id, coordinator state, ...)."""

    def put_meta(self, key: str, value: bytes | None) -> None: ...

    def put_meta_batch(self, items: Mapping[str, bytes | None]) -> None:
        """Set (None: delete) several metadata keys atomically: after a crash all or none of them
        are applied (committed offsets of one OffsetCommit, a group and its offsets)."""

    def meta_items(self, prefix: str) -> list[tuple[str, bytes]]:
        """Every metadata ``(key, value)`` whose key starts with ``prefix``, in key order (by the
        keys' UTF-8 bytes): how the group coordinator reloads its groups and offsets."""

    def sync(self) -> None:
        """Make everything written so far durable (fsync). Thread-safe; releases the GIL."""

    def close(self) -> None: ...
