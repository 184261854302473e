"""The storage contract suite: what every engine behind ``chronik.storage.api`` must do.

Reusable: a test module subclasses :class:`StorageContract` (every engine) or
:class:`PersistentStorageContract` (engines that survive close/reopen) and provides an
``engine`` fixture returning an :class:`EngineFactory`; see ``tests/test_storage_contract.py``.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chronik.storage.api import BatchEntry, PartitionLog, Storage, TopicMeta
from chronik.storage.errors import StorageClosedError

ALL = 1 << 62  # max_bytes that never limits a read


class EngineFactory:
    """Opens stores of one engine for a test; ``reopen`` closes a store and opens the same one again."""

    def __init__(self, open_store: Callable[[], Storage], *, persistent: bool) -> None:
        self._open_store = open_store
        self.persistent = persistent
        self._opened: list[Storage] = []

    def open(self) -> Storage:
        store = self._open_store()
        self._opened.append(store)
        return store

    def reopen(self, store: Storage) -> Storage:
        assert self.persistent, "reopen needs a persistent engine"
        store.close()
        return self.open()

    def close_all(self) -> None:
        for store in self._opened:
            store.close()
        self._opened.clear()


def batch_bytes(base: int, size: int, seed: int = 0) -> bytes:
    """Deterministic, distinct content for the batch at ``base`` (any size ≥ 0)."""
    head = f"{seed}:{base}:".encode()
    return (head + random.Random(f"{seed}/{base}").randbytes(max(size - len(head), 0)))[:size]


def batch(base: int, count: int = 1, size: int = 100, *, ts: int = -1, seed: int = 0) -> tuple[bytes, BatchEntry]:
    """A stored-batch stand-in: ``count`` records from ``base``, ``size`` bytes."""
    return batch_bytes(base, size, seed), BatchEntry(base, base + count - 1, ts, size)


def fill(log: PartitionLog, n: int, count: int = 10, size: int = 100, *, seed: int = 0) -> list[bytes]:
    """Append ``n`` batches of ``count`` records (one append call each); return their bytes."""
    out = []
    for _ in range(n):
        data, entry = batch(log.log_end_offset, count, size, seed=seed)
        log.append([(data, entry)])
        out.append(data)
    return out


def new_topic(
    store: Storage,
    name: str = "t",
    partitions: int = 1,
    configs: dict[str, str] | None = None,
    topic_id: uuid.UUID | None = None,
) -> TopicMeta:
    meta = TopicMeta(name, topic_id or uuid.uuid4(), partitions, dict(configs or {}))
    store.create_topic(meta)
    return meta


def as_bytes(batches: list[bytes | memoryview]) -> list[bytes]:
    return [bytes(b) for b in batches]


def snapshot(store: Storage, state_keys: tuple[str, ...] = (), meta_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything observable through the interface (for the given state and meta keys)."""
    snap: dict[str, Any] = {
        "topics": [(m.name, m.topic_id, m.partitions, m.configs) for m in store.topics()],
        "meta": {k: store.get_meta(k) for k in meta_keys},
    }
    for m in store.topics():
        for p in range(m.partitions):
            log = store.partition(m.topic_id, p)
            snap[f"{m.name}-{p}"] = (
                log.log_start_offset,
                log.log_end_offset,
                list(log.entries()),
                log.size_bytes(),
                as_bytes(log.read(0, ALL)),
                {k: log.get_state(k) for k in state_keys},
            )
    return snap


class StorageContract:
    """The contract every engine passes. Subclasses provide an ``engine`` fixture (EngineFactory)."""

    @pytest.fixture
    def store(self, engine: EngineFactory) -> Iterator[Storage]:
        yield engine.open()
        engine.close_all()

    @pytest.fixture
    def log(self, store: Storage) -> PartitionLog:
        return store.partition(new_topic(store, "log", 1).topic_id, 0)

    # ---- topics ------------------------------------------------------------------------------------

    def test_new_store_is_empty(self, store: Storage) -> None:
        assert store.topics() == []
        assert store.get_meta("cluster.id") is None

    def test_create_and_list_topics(self, store: Storage) -> None:
        b = new_topic(store, "b", 3, {"cleanup.policy": "compact"})
        a = new_topic(store, "a", 1)
        c = new_topic(store, "c", 2, {"retention.ms": "1000", "segment.bytes": "1024"})
        assert store.topics() == [a, b, c]  # sorted by name, equal field by field

    def test_topics_are_copies(self, store: Storage) -> None:
        meta = new_topic(store, "a", 1, {"x": "1"})
        meta.configs["x"] = "2"
        meta.partitions = 7
        listed = store.topics()[0]
        assert (listed.partitions, listed.configs) == (1, {"x": "1"})
        listed.configs["y"] = "3"
        assert store.topics()[0].configs == {"x": "1"}

    def test_create_rejects_duplicate_id_or_name(self, store: Storage) -> None:
        meta = new_topic(store, "a", 1)
        with pytest.raises(ValueError):
            store.create_topic(TopicMeta("other", meta.topic_id, 1))
        with pytest.raises(ValueError):
            store.create_topic(TopicMeta("a", uuid.uuid4(), 1))
        assert [m.name for m in store.topics()] == ["a"]

    def test_create_rejects_bad_partition_count(self, store: Storage) -> None:
        for bad in (0, -1):
            with pytest.raises(ValueError):
                store.create_topic(TopicMeta("a", uuid.uuid4(), bad))
        assert store.topics() == []

    def test_new_partitions_are_empty(self, store: Storage) -> None:
        meta = new_topic(store, "a", 4)
        for p in range(4):
            log = store.partition(meta.topic_id, p)
            assert (log.log_start_offset, log.log_end_offset, log.size_bytes()) == (0, 0, 0)
            assert list(log.entries()) == []
            assert log.read(0, ALL) == []

    def test_partition_lookup(self, store: Storage) -> None:
        meta = new_topic(store, "a", 2)
        assert store.partition(meta.topic_id, 1) is store.partition(meta.topic_id, 1)
        assert store.partition(meta.topic_id, 0) is not store.partition(meta.topic_id, 1)
        for bad in (2, -1):
            with pytest.raises(KeyError):
                store.partition(meta.topic_id, bad)
        with pytest.raises(KeyError):
            store.partition(uuid.uuid4(), 0)

    def test_update_configs(self, store: Storage) -> None:
        meta = new_topic(store, "a", 2, {"x": "1", "y": "2"})
        store.update_topic(TopicMeta("a", meta.topic_id, 2, {"y": "3", "z": "4"}))
        assert store.topics()[0].configs == {"y": "3", "z": "4"}

    def test_update_grows_partitions(self, store: Storage) -> None:
        meta = new_topic(store, "a", 2)
        old = store.partition(meta.topic_id, 1)
        data = fill(old, 3)
        store.update_topic(TopicMeta("a", meta.topic_id, 5, {}))
        assert store.topics()[0].partitions == 5
        assert store.partition(meta.topic_id, 1) is old
        assert as_bytes(old.read(0, ALL)) == data
        for p in (2, 3, 4):
            new = store.partition(meta.topic_id, p)
            assert (new.log_end_offset, list(new.entries()), new.read(0, ALL)) == (0, [], [])
        fill(store.partition(meta.topic_id, 4), 1)
        assert store.partition(meta.topic_id, 4).log_end_offset == 10

    def test_update_rejects_shrink_rename_unknown(self, store: Storage) -> None:
        meta = new_topic(store, "a", 3, {"x": "1"})
        with pytest.raises(ValueError):
            store.update_topic(TopicMeta("a", meta.topic_id, 2, {}))
        with pytest.raises(ValueError):
            store.update_topic(TopicMeta("b", meta.topic_id, 3, {}))
        with pytest.raises(KeyError):
            store.update_topic(TopicMeta("z", uuid.uuid4(), 1, {}))
        assert store.topics() == [meta]

    def test_delete_topic(self, store: Storage) -> None:
        a = new_topic(store, "a", 2)
        b = new_topic(store, "b", 2)
        a_log = store.partition(a.topic_id, 1)
        fill(a_log, 3)
        a_log.put_state("producers", b"state")
        b_data = fill(store.partition(b.topic_id, 0), 3)
        store.delete_topic(a.topic_id)
        assert store.topics() == [b]
        with pytest.raises(KeyError):
            store.partition(a.topic_id, 0)
        with pytest.raises(KeyError):
            store.delete_topic(a.topic_id)
        with pytest.raises(StorageClosedError):
            a_log.append([batch(a_log.log_end_offset)])
        assert as_bytes(store.partition(b.topic_id, 0).read(0, ALL)) == b_data
        # the name is free again, and the new topic starts empty
        a2 = new_topic(store, "a", 2)
        log = store.partition(a2.topic_id, 1)
        assert (log.log_end_offset, log.read(0, ALL), log.get_state("producers")) == (0, [], None)

    def test_recreate_with_same_id_after_delete_is_empty(self, store: Storage) -> None:
        meta = new_topic(store, "a", 1)
        log = store.partition(meta.topic_id, 0)
        fill(log, 5)
        log.delete_before(20)
        log.put_state("k", b"v")
        store.delete_topic(meta.topic_id)
        store.create_topic(TopicMeta("a", meta.topic_id, 1))
        log = store.partition(meta.topic_id, 0)
        assert (log.log_start_offset, log.log_end_offset, log.size_bytes()) == (0, 0, 0)
        assert (list(log.entries()), log.read(0, ALL), log.get_state("k")) == ([], [], None)

    # ---- append ------------------------------------------------------------------------------------

    def test_append_advances_log_end(self, log: PartitionLog) -> None:
        b0, b1, b2 = batch(0, 1, 50), batch(1, 10, 70, ts=1234), batch(11, 5, 30)
        log.append([b0])
        assert log.log_end_offset == 1
        log.append([b1, b2])
        assert log.log_end_offset == 16
        assert list(log.entries()) == [b0[1], b1[1], b2[1]]
        assert log.size_bytes() == 150
        assert log.log_start_offset == 0

    def test_append_must_be_contiguous(self, log: PartitionLog) -> None:
        with pytest.raises(ValueError):
            log.append([batch(1)])  # an empty log starts at 0
        log.append([batch(0, 10)])
        for base in (9, 11, 0, 5):
            with pytest.raises(ValueError):
                log.append([batch(base)])
        assert log.log_end_offset == 10
        assert len(log.entries()) == 1

    def test_multi_batch_append_is_atomic(self, log: PartitionLog) -> None:
        fill(log, 1)
        before = (list(log.entries()), log.log_end_offset, log.size_bytes(), as_bytes(log.read(0, ALL)))
        bad_sequences = [
            [batch(10, 5), batch(15, 5), batch(21, 5)],  # gap in the middle
            [batch(10, 5), batch(14, 5)],  # overlap
            [batch(10, 5), (b"x" * 99, BatchEntry(15, 15, -1, 100))],  # size mismatch
            [batch(10, 5), (b"x", BatchEntry(15, 14, -1, 1))],  # last < base
        ]
        for bad in bad_sequences:
            with pytest.raises(ValueError):
                log.append(bad)
            assert (list(log.entries()), log.log_end_offset, log.size_bytes(), as_bytes(log.read(0, ALL))) == before
            assert log.read(10, ALL) == []
        log.append([batch(10, 5), batch(15, 5)])
        assert log.log_end_offset == 20

    def test_append_empty_is_a_no_op(self, log: PartitionLog) -> None:
        log.append([])
        assert (log.log_end_offset, list(log.entries())) == (0, [])

    def test_append_copies_mutable_buffers(self, log: PartitionLog) -> None:
        buf = bytearray(batch_bytes(0, 64))
        view_source = bytearray(batch_bytes(1, 32))
        log.append([(buf, BatchEntry(0, 0, -1, 64)), (memoryview(view_source), BatchEntry(1, 1, -1, 32))])
        expected = [bytes(buf), bytes(view_source)]
        buf[:] = bytes(64)
        view_source[:] = bytes(32)
        assert as_bytes(log.read(0, ALL)) == expected

    def test_zero_length_batch_is_stored(self, log: PartitionLog) -> None:
        log.append([(b"", BatchEntry(0, 0, -1, 0)), batch(1)])
        assert as_bytes(log.read(0, ALL)) == [b"", batch(1)[0]]

    # ---- read --------------------------------------------------------------------------------------

    def test_read_returns_exact_bytes(self, log: PartitionLog) -> None:
        data = fill(log, 20, count=3, size=777)
        assert as_bytes(log.read(0, ALL)) == data

    def test_read_starts_with_batch_containing_offset(self, log: PartitionLog) -> None:
        data = fill(log, 5, count=10)  # offsets 0-9, 10-19, ..., 40-49
        for offset in (10, 11, 15, 19):
            assert as_bytes(log.read(offset, ALL)) == data[1:]
        assert as_bytes(log.read(49, ALL)) == data[4:]
        assert as_bytes(log.read(0, ALL)) == data
        assert as_bytes(log.read(-5, ALL)) == data  # before the log: from the first batch

    def test_read_max_bytes(self, log: PartitionLog) -> None:
        data = fill(log, 5, count=1, size=100)
        assert as_bytes(log.read(0, 250)) == data[:2]
        assert as_bytes(log.read(0, 300)) == data[:3]  # exactly max_bytes fits
        assert as_bytes(log.read(0, 299)) == data[:2]
        assert as_bytes(log.read(3, 1000)) == data[3:]

    def test_read_returns_at_least_one_batch(self, log: PartitionLog) -> None:
        data = fill(log, 3, count=4, size=5000)
        for max_bytes in (0, 1, 4999):
            assert as_bytes(log.read(5, max_bytes)) == [data[1]]
        assert as_bytes(log.read(5, 5000)) == [data[1]]
        assert as_bytes(log.read(5, 10_000)) == data[1:]

    def test_read_past_the_end_is_empty(self, log: PartitionLog) -> None:
        assert log.read(0, ALL) == []
        fill(log, 2, count=10)
        assert log.read(20, ALL) == []
        assert log.read(1000, ALL) == []

    def test_read_many_small_batches(self, log: PartitionLog) -> None:
        batches = [batch(i, 1, 1 + i % 300) for i in range(2000)]
        log.append(batches)
        assert as_bytes(log.read(0, ALL)) == [d for d, _ in batches]
        got = log.read(500, 1 << 16)
        assert sum(len(b) for b in got) <= 1 << 16
        assert as_bytes(got) == [d for d, _ in batches[500 : 500 + len(got)]]
        assert sum(e.size for _, e in batches[500 : 501 + len(got)]) > 1 << 16

    def test_read_after_delete_before(self, log: PartitionLog) -> None:
        data = fill(log, 4, count=10)
        log.delete_before(25)  # batch 20-29 straddles the new log start and stays
        assert as_bytes(log.read(0, ALL)) == data[2:]
        assert as_bytes(log.read(25, ALL)) == data[2:]
        assert as_bytes(log.read(30, ALL)) == data[3:]

    # ---- delete_before -------------------------------------------------------------------------------

    def test_delete_before_removes_batches_entirely_below(self, log: PartitionLog) -> None:
        data = fill(log, 3, count=10, size=100)  # 0-9, 10-19, 20-29
        log.delete_before(15)
        assert (log.log_start_offset, log.log_end_offset, log.size_bytes()) == (15, 30, 200)
        assert [e.base_offset for e in log.entries()] == [10, 20]
        log.delete_before(20)  # batch boundary: 10-19 goes
        assert (log.log_start_offset, log.size_bytes()) == (20, 100)
        assert [e.base_offset for e in log.entries()] == [20]
        assert as_bytes(log.read(0, ALL)) == data[2:]

    def test_delete_before_never_moves_backwards(self, log: PartitionLog) -> None:
        fill(log, 3, count=10)
        log.delete_before(15)
        before = (log.log_start_offset, list(log.entries()), log.size_bytes())
        log.delete_before(5)
        log.delete_before(15)
        log.delete_before(0)
        assert (log.log_start_offset, list(log.entries()), log.size_bytes()) == before

    def test_delete_before_rejects_beyond_end_and_negative(self, log: PartitionLog) -> None:
        fill(log, 2, count=10)
        with pytest.raises(ValueError):
            log.delete_before(21)
        with pytest.raises(ValueError):
            log.delete_before(-1)
        assert (log.log_start_offset, len(log.entries())) == (0, 2)

    def test_delete_before_everything(self, log: PartitionLog) -> None:
        fill(log, 3, count=10)
        log.delete_before(30)
        assert (log.log_start_offset, log.log_end_offset, log.size_bytes()) == (30, 30, 0)
        assert (list(log.entries()), log.read(0, ALL), log.read(30, ALL)) == ([], [], [])
        with pytest.raises(ValueError):
            log.append([batch(0)])
        data = fill(log, 1, count=10)
        assert (log.log_start_offset, log.log_end_offset) == (30, 40)
        assert as_bytes(log.read(0, ALL)) == data

    def test_delete_before_on_empty_log(self, log: PartitionLog) -> None:
        log.delete_before(0)
        with pytest.raises(ValueError):
            log.delete_before(1)
        assert (log.log_start_offset, log.log_end_offset) == (0, 0)

    def test_delete_before_then_entries_and_size(self, log: PartitionLog) -> None:
        sizes = [10, 20, 30, 40, 50]
        for s in sizes:
            log.append([batch(log.log_end_offset, 2, s)])
        log.delete_before(6)  # removes batches 0-1, 2-3, 4-5
        assert log.size_bytes() == 90
        assert [e.size for e in log.entries()] == [40, 50]

    # ---- replace (compaction) ------------------------------------------------------------------------

    def test_replace_rewrites_whole_batches(self, log: PartitionLog) -> None:
        data = fill(log, 5, count=10, size=100)  # 0-9, 10-19, 20-29, 30-39, 40-49
        a, b = batch(12, 8, 40, ts=7, seed=1), batch(25, 5, 30, seed=1)  # 12-19, 25-29
        log.replace(10, 29, [a, b])
        assert [(e.base_offset, e.last_offset) for e in log.entries()] == [
            (0, 9),
            (12, 19),
            (25, 29),
            (30, 39),
            (40, 49),
        ]
        assert log.entries()[1] == a[1]
        assert (log.log_start_offset, log.log_end_offset, log.size_bytes()) == (0, 50, 370)
        assert as_bytes(log.read(0, ALL)) == [data[0], a[0], b[0], data[3], data[4]]
        for offset in (10, 11, 12, 19):
            assert as_bytes(log.read(offset, 1)) == [a[0]]
        for offset in (20, 24, 25, 29):
            assert as_bytes(log.read(offset, 1)) == [b[0]]
        log.replace(25, 39, [])  # a gap 20-39
        assert as_bytes(log.read(20, ALL)) == [data[4]]
        assert log.size_bytes() == 240
        log.append([batch(50)])
        assert log.log_end_offset == 51
        log.delete_before(30)  # inside the gap: the batches below go
        assert [e.base_offset for e in log.entries()] == [40, 50]
        assert (log.log_start_offset, log.size_bytes()) == (30, 200)

    def test_replace_the_last_batch_keeps_the_log_end(self, log: PartitionLog) -> None:
        fill(log, 2, count=10, size=100)
        before = (list(log.entries()), as_bytes(log.read(0, ALL)), log.size_bytes())
        for bad in ([], [batch(10, 5)], [batch(15, 4)]):
            with pytest.raises(ValueError):
                log.replace(10, 19, bad)
            with pytest.raises(ValueError):
                log.replace(0, 19, bad)
        assert (list(log.entries()), as_bytes(log.read(0, ALL)), log.size_bytes()) == before
        last = batch(15, 5, 10, seed=2)
        log.replace(0, 19, [last])
        assert (list(log.entries()), log.log_end_offset, log.size_bytes()) == ([last[1]], 20, 10)

    def test_replace_rejects_bad_ranges_and_batches(self, log: PartitionLog) -> None:
        fill(log, 4, count=10, size=100)
        d, _ = batch(10, 10, 50)
        bad_calls = [
            (11, 19, []),  # not a batch's base
            (10, 18, []),  # not a batch's last offset
            (20, 19, []),  # last before first
            (10, 29, [batch(9, 2, 50)]),  # below first
            (10, 29, [batch(28, 3, 50)]),  # beyond last
            (10, 29, [batch(10, 5, 50), batch(14, 5, 50)]),  # overlapping
            (10, 29, [batch(20, 5, 50), batch(10, 5, 50)]),  # out of order
            (10, 19, [(d, BatchEntry(10, 19, -1, 49))]),  # size mismatch
            (10, 19, [(d, BatchEntry(12, 11, -1, 50))]),  # last below base
            (50, 59, []),  # past the end
        ]
        before = (list(log.entries()), as_bytes(log.read(0, ALL)), log.size_bytes(), log.log_end_offset)
        for first, last, batches in bad_calls:
            with pytest.raises(ValueError):
                log.replace(first, last, batches)
            assert (list(log.entries()), as_bytes(log.read(0, ALL)), log.size_bytes(), log.log_end_offset) == before
        log.replace(10, 19, [(bytearray(d), BatchEntry(10, 19, 5, 50))])  # a mutable buffer is copied
        assert as_bytes(log.read(10, 1)) == [d]

    def test_replace_after_delete_before(self, log: PartitionLog) -> None:
        fill(log, 3, count=10, size=100)
        log.delete_before(15)  # the straddling batch 10-19 may still be replaced
        new = batch(17, 3, 20, seed=3)
        log.replace(10, 19, [new])
        assert (log.log_start_offset, [e.base_offset for e in log.entries()]) == (15, [17, 20])
        assert as_bytes(log.read(15, 1)) == [new[0]]
        with pytest.raises(ValueError):
            log.replace(0, 9, [])  # deleted

    # ---- state, meta -------------------------------------------------------------------------------

    def test_partition_state(self, store: Storage) -> None:
        meta = new_topic(store, "a", 2)
        p0, p1 = store.partition(meta.topic_id, 0), store.partition(meta.topic_id, 1)
        assert p0.get_state("producers") is None
        p0.put_state("producers", b"v1")
        p0.put_state("other", bytearray(b"o"))
        assert (p0.get_state("producers"), p0.get_state("other"), p1.get_state("producers")) == (b"v1", b"o", None)
        p0.put_state("producers", b"v2")
        assert p0.get_state("producers") == b"v2"
        p0.put_state("producers", None)
        p0.put_state("missing", None)
        assert (p0.get_state("producers"), p0.get_state("other")) == (None, b"o")
        p1.put_state("ünïcode/kéy", b"\x00" * 1000)
        assert p1.get_state("ünïcode/kéy") == b"\x00" * 1000
        assert p0.get_state("ünïcode/kéy") is None

    def test_state_survives_appends_and_delete_before(self, log: PartitionLog) -> None:
        log.put_state("k", b"v")
        fill(log, 3)
        log.delete_before(30)
        assert log.get_state("k") == b"v"

    def test_meta(self, store: Storage) -> None:
        store.put_meta("cluster.id", b"abc")
        store.put_meta("producer.id.next", bytearray(b"1000"))
        assert (store.get_meta("cluster.id"), store.get_meta("producer.id.next")) == (b"abc", b"1000")
        store.put_meta("cluster.id", b"def")
        store.put_meta("producer.id.next", None)
        assert (store.get_meta("cluster.id"), store.get_meta("producer.id.next")) == (b"def", None)
        new_topic(store, "cluster.id", 1)
        assert store.get_meta("cluster.id") == b"def"

    def test_meta_batch_and_prefix_scan(self, store: Storage) -> None:
        store.put_meta("g.b", b"old")
        store.put_meta_batch({"g.a": b"1", "g.b": None, "g.\u00e9": bytearray(b"3"), "h": b"4", "g.c": b"2"})
        assert store.get_meta("g.b") is None
        assert store.meta_items("g.") == [("g.a", b"1"), ("g.c", b"2"), ("g.\u00e9", b"3")]
        assert store.meta_items("") == [("g.a", b"1"), ("g.c", b"2"), ("g.\u00e9", b"3"), ("h", b"4")]
        assert store.meta_items("x") == []
        store.put_meta_batch({})
        with pytest.raises(TypeError):
            store.put_meta_batch({b"k": b"v"})  # type: ignore[dict-item]

    # ---- isolation ---------------------------------------------------------------------------------

    def test_many_topics_and_partitions_are_isolated(self, store: Storage) -> None:
        # adjacent ids, including ones at the 0xff boundary, and partitions across a byte boundary
        ids = [
            uuid.UUID(int=1),
            uuid.UUID(int=2),
            uuid.UUID(int=(1 << 128) - 1),
            uuid.UUID(int=(1 << 128) - 2),
            uuid.UUID(int=0x00FF << 112),
            uuid.UUID(int=0x0100 << 112),
        ]
        metas = [new_topic(store, f"t{i}", 300 if i < 2 else 3, topic_id=tid) for i, tid in enumerate(ids)]
        expected: dict[tuple[int, int], tuple[list[bytes], int, int]] = {}  # data, log start, log end
        for ti, meta in enumerate(metas):
            for p in (0, 1, 255, 256, 299) if meta.partitions == 300 else (0, 1, 2):
                log = store.partition(meta.topic_id, p)
                data = fill(log, 1 + (ti + p) % 3, count=2, size=50, seed=ti * 1000 + p)
                expected[ti, p] = (data, 0, 2 * len(data))
                log.put_state("s", f"{ti}/{p}".encode())

        def check(live: set[int]) -> None:
            for (ti, p), (data, start, end) in expected.items():
                if ti in live:
                    log = store.partition(metas[ti].topic_id, p)
                    assert as_bytes(log.read(0, ALL)) == data, (ti, p)
                    assert (log.log_start_offset, log.log_end_offset) == (start, end), (ti, p)
                    assert log.get_state("s") == f"{ti}/{p}".encode()
            for ti in live & {0, 1}:  # partitions never written stay empty
                assert store.partition(metas[ti].topic_id, 100).read(0, ALL) == []

        check(set(range(len(metas))))
        store.partition(metas[0].topic_id, 255).delete_before(2)
        data, _, end = expected[0, 255]
        expected[0, 255] = (data[1:], 2, end)
        check(set(range(len(metas))))
        store.delete_topic(metas[2].topic_id)  # the all-0xff id
        store.delete_topic(metas[4].topic_id)  # 00ff... next to 0100...
        check({0, 1, 3, 5})
        assert [m.name for m in store.topics()] == ["t0", "t1", "t3", "t5"]

    # ---- threads, close ------------------------------------------------------------------------------

    def test_sync_from_another_thread_while_appending(self, store: Storage) -> None:
        log = store.partition(new_topic(store, "a", 1).topic_id, 0)
        stop = threading.Event()
        errors: list[BaseException] = []
        syncs = 0

        def committer() -> None:
            nonlocal syncs
            try:
                while not stop.is_set():
                    store.sync()
                    syncs += 1
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=committer)
        thread.start()
        try:
            data = fill(log, 300, count=3, size=2000)
        finally:
            stop.set()
            thread.join()
        assert not errors
        assert syncs > 0
        store.sync()
        assert as_bytes(log.read(0, ALL)) == data

    def test_close_is_idempotent_and_final(self, engine: EngineFactory) -> None:
        store = engine.open()
        log = store.partition(new_topic(store, "a", 1).topic_id, 0)
        fill(log, 1)
        store.close()
        store.close()
        for call in (
            store.topics,
            lambda: store.get_meta("x"),
            store.sync,
            lambda: log.read(0, ALL),
            lambda: log.append([batch(10)]),
            lambda: store.partition(uuid.uuid4(), 0),
        ):
            with pytest.raises(StorageClosedError):
                call()


class PersistentStorageContract(StorageContract):
    """The contract plus durability across close/reopen, for engines that store on disk."""

    def test_reopen_preserves_everything(self, engine: EngineFactory) -> None:
        store = engine.open()
        a = new_topic(store, "a", 3, {"retention.ms": "60000"})
        b = new_topic(store, "b", 1)
        gone = new_topic(store, "gone", 2)
        fill(store.partition(gone.topic_id, 0), 3)
        store.partition(gone.topic_id, 1).put_state("k", b"gone")
        store.update_topic(TopicMeta("a", a.topic_id, 5, {"retention.ms": "1000", "x": "y"}))
        p0, p1, p2, p4 = (store.partition(a.topic_id, p) for p in (0, 1, 2, 4))
        fill(p0, 10, count=7, size=333)
        p0.append([batch(70, 1, 0), batch(71, 2, 10_000, ts=99)])
        p0.delete_before(25)  # straddling batch kept
        fill(p1, 4)
        p1.delete_before(40)  # everything deleted: log start = log end with no batches
        fill(p2, 3, count=1, size=1 << 20)  # large batches
        fill(p4, 1)
        p0.put_state("producers", b"\x01\x02")
        p4.put_state("producers", b"p4")
        p4.put_state("tmp", b"x")
        p4.put_state("tmp", None)
        fill(store.partition(b.topic_id, 0), 2, seed=7)
        store.put_meta("cluster.id", b"cid")
        store.put_meta("deleted", b"x")
        store.put_meta("deleted", None)
        store.put_meta_batch({"group.x": b"1", "group.y": b"2", "deleted": None})
        store.delete_topic(gone.topic_id)
        keys = dict(state_keys=("producers", "tmp", "k"), meta_keys=("cluster.id", "deleted"))
        before = snapshot(store, **keys)

        store = engine.reopen(store)
        assert snapshot(store, **keys) == before
        assert store.meta_items("group.") == [("group.x", b"1"), ("group.y", b"2")]
        assert [m.name for m in store.topics()] == ["a", "b"]
        # the reopened logs continue where they were
        p0 = store.partition(a.topic_id, 0)
        p1 = store.partition(a.topic_id, 1)
        assert (p0.log_start_offset, p0.log_end_offset, p1.log_start_offset, p1.log_end_offset) == (25, 73, 40, 40)
        fill(p0, 1)
        fill(p1, 1)
        p0.delete_before(30)
        after = snapshot(store, **keys)
        store = engine.reopen(store)
        assert snapshot(store, **keys) == after

    def test_reopen_after_replace(self, engine: EngineFactory) -> None:
        store = engine.open()
        meta = new_topic(store, "a", 2)
        p0, p1 = store.partition(meta.topic_id, 0), store.partition(meta.topic_id, 1)
        fill(p0, 6, count=10, size=100)
        p0.replace(10, 39, [batch(15, 3, 20, seed=1), batch(35, 5, 30, seed=1)])  # gaps 10-14, 18-34
        p0.replace(50, 59, [batch(59, 1, 10, seed=1)])  # the last batch, shortened to its last offset
        fill(p1, 2)
        p1.replace(0, 9, [])
        before = snapshot(store)
        store = engine.reopen(store)
        assert snapshot(store) == before
        p0, p1 = store.partition(meta.topic_id, 0), store.partition(meta.topic_id, 1)
        assert (p0.log_end_offset, p1.log_start_offset, p1.log_end_offset) == (60, 0, 20)
        fill(p0, 1)
        p0.delete_before(20)
        after = snapshot(store)
        assert snapshot(engine.reopen(store)) == after

    def test_reopen_after_rejected_append(self, engine: EngineFactory) -> None:
        store = engine.open()
        meta = new_topic(store, "a", 1)
        log = store.partition(meta.topic_id, 0)
        data = fill(log, 2)
        with pytest.raises(ValueError):
            log.append([batch(20), batch(22)])
        store = engine.reopen(store)
        log = store.partition(meta.topic_id, 0)
        assert as_bytes(log.read(0, ALL)) == data
        assert log.log_end_offset == 20

    def test_reopen_empty_store(self, engine: EngineFactory) -> None:
        store = engine.reopen(engine.open())
        assert store.topics() == []

    def test_reopen_many_partitions(self, engine: EngineFactory) -> None:
        store = engine.open()
        metas = [new_topic(store, f"t{i}", 50) for i in range(4)]
        for i, meta in enumerate(metas):
            for p in range(0, 50, 7):
                fill(store.partition(meta.topic_id, p), 1 + p % 4, count=3, size=64, seed=i)
        before = snapshot(store)
        store = engine.reopen(store)
        assert snapshot(store) == before
