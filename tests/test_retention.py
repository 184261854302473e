"""Retention (cleanup.policy=delete): retention.ms / retention.bytes through the janitor.

Unit tests use the memory engine, a fake clock and hand-built batches; the last tests run a real
broker process with confluent-kafka.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from chronik.broker.core import Broker
from chronik.broker.handlers.list_offsets import EARLIEST, lookup
from chronik.broker.retention import Janitor, Retention, retention_cut
from chronik.config import BrokerConfig, effective_topic_configs
from chronik.protocol.records import RecordBatch, SimpleRecord, build_batch
from chronik.storage.api import BatchEntry
from chronik.storage.memory import MemoryStorage

NOW = 1_700_000_000_000


class Clock:
    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def make_broker(clock: Clock, **broker_values: str) -> Broker:
    config = BrokerConfig.from_values(broker_values)
    return Broker(
        MemoryStorage(),
        lambda overrides: effective_topic_configs(overrides, config),
        node_id=0,
        host="127.0.0.1",
        port=9092,
        cluster_id="test-cluster",
        now_ms=clock,
    )


def produce(broker: Broker, topic: str, records: list[SimpleRecord], partition: int = 0) -> int:
    """Append one batch with ``records`` (as the produce path stores it); return its base offset."""
    plog = broker.topics[topic].partitions[partition].log
    base = plog.log_end_offset
    data = bytes(build_batch(records, base_offset=base))
    view = RecordBatch(data)
    plog.append([(data, BatchEntry(base, view.last_offset, view.max_timestamp, len(data)))])
    return base


def values(broker: Broker, topic: str, partition: int = 0) -> list[tuple[int, bytes | None, bytes | None]]:
    plog = broker.topics[topic].partitions[partition].log
    out = []
    for raw in plog.read(plog.log_start_offset, 1 << 40):
        out += [(r.offset, r.key, r.value) for r in RecordBatch(raw).records() if r.offset >= plog.log_start_offset]
    return out


def test_retention_cut_rules() -> None:
    es = [BatchEntry(i * 10, i * 10 + 9, NOW - 1000 * (5 - i), 100) for i in range(5)]  # ts NOW-5000 .. NOW-1000
    assert retention_cut(es, 500, NOW, -1, -1, 99) == 0
    assert retention_cut(es, 500, NOW, 2500, -1, 99) == 3  # strictly older than now - 2500
    assert retention_cut(es, 500, NOW, 3000, -1, 99) == 2  # exactly 3000 old: kept (Kafka: now - ts > ms)
    assert retention_cut(es, 500, NOW, 0, -1, 99) == 5  # everything, the last batch included
    assert retention_cut(es, 500, NOW, 0, -1, 2) == 2  # bounded per step
    assert retention_cut(es, 500, NOW, -1, 250, 99) == 2  # keeps >= 250 bytes: 300 left
    assert retention_cut(es, 500, NOW, -1, 300, 99) == 2
    assert retention_cut(es, 500, NOW, -1, 301, 99) == 1
    assert retention_cut(es, 500, NOW, -1, 0, 99) == 5
    assert retention_cut(es, 500, NOW, 10**9, 200, 99) == 3  # either rule
    no_ts = [BatchEntry(0, 0, -1, 100), *es]  # a batch without timestamps never expires by time...
    assert retention_cut(no_ts, 600, NOW, 0, -1, 99) == 0  # ...and blocks the ones after it
    future = [BatchEntry(0, 0, NOW + 10_000, 100), *es]
    assert retention_cut(future, 600, NOW, 0, -1, 99) == 0


def test_retention_ms_deletes_old_batches() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("t", 2, {"retention.ms": "1000"})
    for i in range(5):
        produce(
            broker,
            "t",
            [SimpleRecord(b"k", b"v%d" % i, timestamp=clock.ms), SimpleRecord(None, b"x", timestamp=clock.ms)],
        )
        clock.ms += 400
    # batch timestamps: NOW, +400, +800, +1200, +1600; now = NOW + 2000
    janitor = Janitor(broker)
    janitor.run_pass()
    p0, p1 = broker.topics["t"].partitions
    assert p0.log.log_start_offset == 6  # batches at NOW, +400, +800 are more than 1000 ms old
    assert lookup(p0, EARLIEST) == (6, -1)
    assert [o for o, _, _ in values(broker, "t")] == [6, 7, 8, 9]
    assert (p1.log.log_start_offset, p1.log.log_end_offset) == (0, 0)
    clock.ms += 10_000  # everything expired: the partition empties, offsets continue
    janitor.run_pass()
    assert (p0.log.log_start_offset, p0.log.log_end_offset, p0.log.size_bytes()) == (10, 10, 0)
    produce(broker, "t", [SimpleRecord(b"k", b"new", timestamp=clock.ms)])
    janitor.run_pass()
    assert values(broker, "t") == [(10, b"k", b"new")]


def test_retention_bytes_keeps_at_least_the_limit() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("t", 1, {"retention.bytes": "1000"})
    for _ in range(20):
        produce(broker, "t", [SimpleRecord(b"k", bytes(100), timestamp=clock.ms)])
    plog = broker.topics["t"].partitions[0].log
    size = plog.entries()[0].size
    Janitor(broker).run_pass()
    assert plog.size_bytes() >= 1000 > plog.size_bytes() - size
    assert plog.log_start_offset == 20 - plog.size_bytes() // size


def test_retention_needs_the_delete_policy() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, {"retention.ms": "1", "cleanup.policy": "compact"})
    broker.create_topic("dc", 1, {"retention.ms": "1", "cleanup.policy": "delete,compact"})
    broker.create_topic("none", 1, {"retention.ms": "1", "cleanup.policy": ""})
    for name in ("c", "dc", "none"):
        produce(broker, name, [SimpleRecord(b"k", b"v", timestamp=clock.ms)])
    clock.ms += 10
    Janitor(broker, [Retention(broker)]).run_pass()
    starts = {name: broker.topics[name].partitions[0].log.log_start_offset for name in ("c", "dc", "none")}
    assert starts == {"c": 0, "dc": 1, "none": 0}


def test_broker_default_retention_applies() -> None:
    clock = Clock()
    broker = make_broker(clock, **{"log.retention.ms": "50"})
    broker.create_topic("t", 1, {})
    produce(broker, "t", [SimpleRecord(b"k", b"v", timestamp=clock.ms)])
    clock.ms += 51
    Janitor(broker).run_pass()
    assert broker.topics["t"].partitions[0].log.log_start_offset == 1


def test_janitor_is_time_bounded_and_resumes() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("t", 4, {"retention.ms": "1000"})
    for p in range(4):
        for _ in range(30):
            produce(broker, "t", [SimpleRecord(b"k", b"v", timestamp=clock.ms)], partition=p)
    clock.ms += 5000
    fake = iter(range(10**6))  # every clock reading advances by one "second": one step per run
    janitor = Janitor(broker, [Retention(broker, max_batches=10)], budget_ms=0.5, clock=lambda: float(next(fake)))
    runs = janitor.run_pass()
    assert runs == 4 * 4  # 3 steps of 10 batches per partition, then one that finds nothing more
    assert all(p.log.log_start_offset == 30 for p in broker.topics["t"].partitions)


def test_janitor_schedules_its_continuation() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("t", 3, {"retention.ms": "10"})
    for p in range(3):
        produce(broker, "t", [SimpleRecord(b"k", b"v", timestamp=clock.ms)], partition=p)
    clock.ms += 100
    scheduled = []

    class Call:
        def active(self) -> bool:
            return True

        def cancel(self) -> None:
            scheduled.clear()

    def call_later(delay: float, fn: object) -> Call:
        scheduled.append(fn)
        return Call()

    fake = iter(range(10**6))
    janitor = Janitor(
        broker, [Retention(broker)], budget_ms=0.5, call_later=call_later, clock=lambda: float(next(fake))
    )
    janitor.tick()
    assert len(scheduled) == 1 and janitor.in_pass
    scheduled.pop()()
    assert len(scheduled) == 1
    janitor.stop()
    assert not scheduled


def test_janitor_survives_deleted_topics_and_errors() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("a", 1, {"retention.ms": "10"})
    broker.create_topic("b", 1, {"retention.ms": "10"})
    produce(broker, "a", [SimpleRecord(b"k", b"v", timestamp=clock.ms)])
    produce(broker, "b", [SimpleRecord(b"k", b"v", timestamp=clock.ms)])
    clock.ms += 100

    class Boom:
        def step(self, partition: object, now_ms: int, deadline: float) -> bool:
            raise RuntimeError("boom")

    janitor = Janitor(broker, [Boom(), Retention(broker)])
    janitor.tick()
    broker.delete_topic(broker.topics["a"])  # mid-pass (the pass already finished here; start another)
    assert broker.topics["b"].partitions[0].log.log_start_offset == 1
    produce(broker, "b", [SimpleRecord(b"k", b"v", timestamp=clock.ms)])
    clock.ms += 100
    janitor.run_pass()
    assert broker.topics["b"].partitions[0].log.log_start_offset == 2


def test_janitor_tick_cost_with_many_batches(capsys: pytest.CaptureFixture[str]) -> None:
    """Measure: 100 partitions x 2000 expired batches on the memory engine."""
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("t", 100, {"retention.ms": "1000"})
    data = bytes(build_batch([SimpleRecord(b"k", b"v", timestamp=clock.ms)]))
    for p in broker.topics["t"].partitions:
        p.log.append([(data, BatchEntry(i, i, clock.ms, len(data))) for i in range(2000)])
    clock.ms += 5000
    janitor = Janitor(broker)
    janitor.run_pass()
    assert all(p.log.log_start_offset == 2000 for p in broker.topics["t"].partitions)
    with capsys.disabled():
        print(
            f"\nmemory engine: {janitor.stats.runs} runs, max {janitor.stats.max_ms:.2f} ms, "
            f"total {janitor.stats.total_ms:.1f} ms"
        )
    assert statistics.median(janitor.stats.durations) < 25  # a 5 ms budget plus one step (noisy machines)


# ---- through a real broker process ------------------------------------------------------------------

ck = pytest.importorskip("confluent_kafka")


def _wait(cond: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def broker_proc(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.broker_process import BrokerProcess

    with BrokerProcess(tmp_path / "data", "log.retention.check.interval.ms=200") as proc:
        yield proc


def _create(bootstrap: str, name: str, configs: dict[str, str]) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(name, 1, 1, config=configs)]).values():
        fut.result(15)


def _produce_each(bootstrap: str, topic: str, items: list[tuple[bytes, bytes | None, int | None]]) -> None:
    """One batch per record (flush after each)."""
    producer = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for key, value, ts in items:
        if ts is None:
            producer.produce(topic, key=key, value=value, partition=0)
        else:
            producer.produce(topic, key=key, value=value, partition=0, timestamp=ts)
        assert producer.flush(15) == 0


def _watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "wm"})
    try:
        return consumer.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=10, cached=False)
    finally:
        consumer.close()


def _consume_from_earliest(bootstrap: str, topic: str, n: int, timeout: float = 20) -> list[tuple[int, bytes, bytes]]:
    consumer = ck.Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "r", "enable.auto.commit": False, "fetch.wait.max.ms": 100}
    )
    consumer.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    out: list[tuple[int, bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < n and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=1000, timeout=0.5):
                assert m.error() is None, m.error()
                out.append((m.offset(), m.key(), m.value()))
        return out
    finally:
        consumer.close()


def test_process_retention_ms(broker_proc) -> None:  # type: ignore[no-untyped-def]
    bootstrap = broker_proc.bootstrap
    _create(bootstrap, "rms", {"retention.ms": "1000"})
    _produce_each(bootstrap, "rms", [(b"old%d" % i, b"v", None) for i in range(10)])
    assert _watermarks(bootstrap, "rms") == (0, 10)
    _wait(lambda: _watermarks(bootstrap, "rms") == (10, 10))  # all expired: the partition is empty
    # new records stamped 20 s ahead so that they outlive the test's reads
    future = int(time.time() * 1000) + 20_000
    _produce_each(bootstrap, "rms", [(b"new%d" % i, b"v", future) for i in range(5)])
    assert _watermarks(bootstrap, "rms") == (10, 15)
    got = _consume_from_earliest(bootstrap, "rms", 5)
    assert [(o, k) for o, k, _ in got] == [(10 + i, b"new%d" % i) for i in range(5)]


def test_process_retention_bytes(broker_proc) -> None:  # type: ignore[no-untyped-def]
    bootstrap = broker_proc.bootstrap
    _create(bootstrap, "rbytes", {"retention.bytes": "2000"})
    now = int(time.time() * 1000)
    items = [(b"k%02d" % i, bytes(100), now) for i in range(50)]
    size = len(build_batch([SimpleRecord(b"k00", bytes(100), timestamp=now)]))
    keep = -(-2000 // size)  # ceil: the log keeps at least retention.bytes
    _produce_each(bootstrap, "rbytes", items)
    _wait(lambda: _watermarks(bootstrap, "rbytes") == (50 - keep, 50))
    got = _consume_from_earliest(bootstrap, "rbytes", keep)
    assert [o for o, _, _ in got] == list(range(50 - keep, 50))
