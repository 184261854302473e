"""Model-based test of the storage engines: random operation sequences (hypothesis stateful) run
against the memory engine and the RocksDB engine (reopened now and then) and checked against a
deliberately naive model written from the interface's docstrings."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chronik.storage.api import BatchEntry, Storage, TopicMeta
from chronik.storage.memory import MemoryStorage
from chronik.storage.rocks import RocksStorage
from tests.storage_contract import ALL, batch_bytes

TOPIC = uuid.UUID(int=0xAB)


@dataclass
class ModelLog:
    start: int = 0
    batches: list[tuple[BatchEntry, bytes]] = field(default_factory=list)
    state: dict[str, bytes] = field(default_factory=dict)
    end: int = 0

    def read(self, offset: int, max_bytes: int) -> list[bytes]:
        if offset >= self.end:
            return []
        candidates = [(e, d) for e, d in self.batches if e.last_offset >= offset]
        out: list[bytes] = []
        total = 0
        for e, d in candidates:
            if out and total + e.size > max_bytes:
                break
            out.append(d)
            total += e.size
        return out


class StorageMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="chronik-model-"))
        self.stores: dict[str, Storage] = {}
        self.model: list[ModelLog] = []

    @initialize(partitions=st.integers(1, 3))
    def create(self, partitions: int) -> None:
        self.stores = {"memory": MemoryStorage(), "rocks": RocksStorage(self.dir / "rocks")}
        for store in self.stores.values():
            store.create_topic(TopicMeta("t", TOPIC, partitions, {"a": "1"}))
        self.model = [ModelLog() for _ in range(partitions)]

    def teardown(self) -> None:
        for store in self.stores.values():
            store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _p(self, index: int) -> int:
        return index % len(self.model)

    @rule(
        index=st.integers(0, 9),
        specs=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 3000)), min_size=1, max_size=4),
        skew=st.sampled_from([0, 0, 0, 0, 1, -1]),
        skew_at=st.integers(0, 3),
    )
    def append(self, index: int, specs: list[tuple[int, int]], skew: int, skew_at: int) -> None:
        p = self._p(index)
        m = self.model[p]
        batches = []
        base = m.end
        for k, (count, size) in enumerate(specs):
            if k == skew_at % len(specs):
                base += skew
            data = batch_bytes(base, size, seed=p)
            batches.append((data, BatchEntry(base, base + count - 1, base * 3, size)))
            base += count
        valid = skew == 0 and batches[0][1].base_offset == m.end
        for store in self.stores.values():
            log = store.partition(TOPIC, p)
            if valid:
                log.append(batches)
            else:
                with pytest.raises(ValueError):
                    log.append(batches)
        if valid:
            m.batches.extend((e, d) for d, e in batches)
            m.end = batches[-1][1].last_offset + 1

    @rule(index=st.integers(0, 9), delta=st.integers(-3, 60), max_bytes=st.sampled_from([0, 1, 500, 3000, 8000, ALL]))
    def read(self, index: int, delta: int, max_bytes: int) -> None:
        p = self._p(index)
        m = self.model[p]
        offset = m.start + delta
        expected = m.read(offset, max_bytes)
        for name, store in self.stores.items():
            assert [bytes(b) for b in store.partition(TOPIC, p).read(offset, max_bytes)] == expected, name

    @rule(index=st.integers(0, 9), delta=st.integers(-2, 40), from_end=st.booleans())
    def delete_before(self, index: int, delta: int, from_end: bool) -> None:
        p = self._p(index)
        m = self.model[p]
        offset = m.end - delta if from_end else m.start + delta
        for store in self.stores.values():
            log = store.partition(TOPIC, p)
            if offset < 0 or offset > m.end:
                with pytest.raises(ValueError):
                    log.delete_before(offset)
            else:
                log.delete_before(offset)
        if 0 <= offset <= m.end and offset > m.start:
            m.start = offset
            m.batches = [(e, d) for e, d in m.batches if e.last_offset >= offset]

    @rule(index=st.integers(0, 9), key=st.sampled_from(["a", "b"]), value=st.none() | st.binary(max_size=50))
    def put_state(self, index: int, key: str, value: bytes | None) -> None:
        p = self._p(index)
        for store in self.stores.values():
            store.partition(TOPIC, p).put_state(key, value)
        if value is None:
            self.model[p].state.pop(key, None)
        else:
            self.model[p].state[key] = value

    @precondition(lambda self: len(self.model) < 6)
    @rule()
    def add_partition(self) -> None:
        for store in self.stores.values():
            store.update_topic(TopicMeta("t", TOPIC, len(self.model) + 1, {"a": str(len(self.model))}))
        self.model.append(ModelLog())

    @rule(sync=st.booleans())
    def reopen(self, sync: bool) -> None:
        rocks = self.stores["rocks"]
        if sync:
            rocks.sync()
        rocks.close()
        self.stores["rocks"] = RocksStorage(self.dir / "rocks")

    @invariant()
    def agree(self) -> None:
        if not self.model:
            return
        for name, store in self.stores.items():
            (meta,) = store.topics()
            assert meta.partitions == len(self.model), name
            for p, m in enumerate(self.model):
                log = store.partition(TOPIC, p)
                assert (log.log_start_offset, log.log_end_offset) == (m.start, m.end), (name, p)
                assert list(log.entries()) == [e for e, _ in m.batches], (name, p)
                assert log.size_bytes() == sum(e.size for e, _ in m.batches), (name, p)
                assert {k: log.get_state(k) for k in "ab"} == {k: m.state.get(k) for k in "ab"}, (name, p)


StorageMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestStorageModel = StorageMachine.TestCase
