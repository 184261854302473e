"""Committed offsets of every group (Kafka's ``OffsetMetadataManager``), kept in memory and
written through :class:`chronik.broker.groups.persistence.GroupStore`.

A commit replaces the partition's offset (offsets may move backwards: Kafka does not check);
retention follows ``OffsetExpirationConditionImpl``: an offset with an explicit expiry
(OffsetCommit v2-v4 ``retention_time_ms``) expires then, else ``offsets.retention.minutes``
after the group's base timestamp (when an Empty group became Empty, else the commit time) —
never while a Stable consumer group subscribes to the topic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chronik.broker.groups.persistence import CommittedOffset, GroupStore

TopicPartition = tuple[str, int]


class OffsetStore:
    """group id → (topic, partition) → committed offset."""

    def __init__(self, store: GroupStore, loaded: dict[str, dict[TopicPartition, CommittedOffset]]) -> None:
        self._store = store
        self._offsets = loaded

    def group_ids(self) -> list[str]:
        return list(self._offsets)

    def has_offsets(self, group_id: str) -> bool:
        return bool(self._offsets.get(group_id))

    def get(self, group_id: str, topic: str, partition: int) -> CommittedOffset | None:
        return self._offsets.get(group_id, {}).get((topic, partition))

    def all(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        """The group's offsets, sorted by topic and partition."""
        return dict(sorted(self._offsets.get(group_id, {}).items()))

    def commit(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        """Store the offsets (one atomic write), then make them visible."""
        if not offsets:
            return
        self._store.write(offsets={(group_id, t, p): o for (t, p), o in offsets.items()})
        self._offsets.setdefault(group_id, {}).update(offsets)

    def delete(self, group_id: str, partitions: Iterable[TopicPartition]) -> None:
        mine = self._offsets.get(group_id, {})
        gone = [tp for tp in partitions if tp in mine]
        if not gone:
            return
        self._store.write(offsets={(group_id, t, p): None for t, p in gone})
        for tp in gone:
            del mine[tp]
        if not mine:
            self._offsets.pop(group_id, None)

    def delete_group_changes(self, group_id: str) -> dict[tuple[str, str, int], CommittedOffset | None]:
        """Forget the group's offsets; return the deletions for the caller's atomic write."""
        mine = self._offsets.pop(group_id, {})
        return {(group_id, t, p): None for t, p in mine}

    def delete_topic(self, topic: str) -> None:
        for gid in list(self._offsets):
            self.delete(gid, [tp for tp in self._offsets[gid] if tp[0] == topic])

    def expire(
        self,
        group_id: str,
        now_ms: int,
        retention_ms: int,
        base: Callable[[CommittedOffset], int],
        subscribed: Callable[[str], bool],
    ) -> int:
        """Delete the group's expired offsets; return how many."""
        gone = []
        for (topic, partition), o in self._offsets.get(group_id, {}).items():
            if subscribed(topic):
                continue
            if o.expire_ms is not None:
                if now_ms >= o.expire_ms:
                    gone.append((topic, partition))
            elif now_ms - base(o) >= retention_ms:
                gone.append((topic, partition))
        self.delete(group_id, gone)
        return len(gone)
