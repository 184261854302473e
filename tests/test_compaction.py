"""Log compaction (cleanup.policy=compact) through the janitor: memory and RocksDB engines with a
fake clock, and one test through a real broker process with confluent-kafka."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from chronik.broker.compaction import CHECKPOINT_KEY, Compaction, rebuild
from chronik.broker.core import Broker
from chronik.broker.retention import Janitor, Retention
from chronik.config import BrokerConfig, effective_topic_configs
from chronik.protocol.records import Codec, RecordBatch, SimpleRecord, TimestampType, build_batch
from chronik.storage.api import BatchEntry, Storage
from chronik.storage.memory import MemoryStorage
from chronik.storage.rocks import RocksStorage

NOW = 1_700_000_000_000
COMPACT = {"cleanup.policy": "compact"}


class Clock:
    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def make_broker(clock: Clock, storage: Storage | None = None) -> Broker:
    config = BrokerConfig.defaults()
    return Broker(
        storage if storage is not None else MemoryStorage(),
        lambda overrides: effective_topic_configs(overrides, config),
        node_id=0,
        host="127.0.0.1",
        port=9092,
        cluster_id="test-cluster",
        now_ms=clock,
    )


def produce(broker: Broker, topic: str, records: list[tuple[bytes | None, bytes | None]], ts: int, **kw: object) -> int:
    plog = broker.topics[topic].partitions[0].log
    base = plog.log_end_offset
    data = bytes(build_batch([SimpleRecord(k, v, timestamp=ts) for k, v in records], base_offset=base, **kw))
    view = RecordBatch(data)
    plog.append([(data, BatchEntry(base, view.last_offset, view.max_timestamp, len(data)))])
    return base


def contents(broker: Broker, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    plog = broker.topics[topic].partitions[0].log
    out = []
    for raw in plog.read(plog.log_start_offset, 1 << 40):
        batch = RecordBatch(raw)
        batch.validate()  # CRC and structure of rewritten batches
        out += [(r.offset, r.key, r.value) for r in batch.records()]
    return out


def janitor(broker: Broker, **kw: object) -> tuple[Janitor, Compaction]:
    compaction = Compaction(broker)
    return Janitor(broker, [Retention(broker), compaction], **kw), compaction  # type: ignore[arg-type]


def test_keeps_latest_value_per_key_at_original_offsets() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, {**COMPACT, "min.cleanable.dirty.ratio": "0.01"})
    for kv in [(b"k1", b"a"), (b"k2", b"a"), (b"k1", b"b"), (b"k3", b"a"), (b"k2", None), (b"k1", b"c"), (b"k4", b"x")]:
        produce(broker, "c", [kv], clock.ms)
    jan, compaction = janitor(broker)
    jan.run_pass()
    plog = broker.topics["c"].partitions[0].log
    # the last batch (k4) is never cleaned; the tombstone for k2 stays until delete.retention.ms passed
    assert contents(broker, "c") == [(3, b"k3", b"a"), (4, b"k2", None), (5, b"k1", b"c"), (6, b"k4", b"x")]
    assert (plog.log_start_offset, plog.log_end_offset) == (0, 7)
    assert [e.base_offset for e in plog.entries()] == [3, 4, 5, 6]
    assert plog.get_state(CHECKPOINT_KEY) == (6).to_bytes(8, "big")
    assert RecordBatch(plog.read(4, 1)[0]).delete_horizon_ms == NOW + 24 * 3600 * 1000  # KIP-534 horizon
    assert compaction.cleanings == 1
    # nothing dirty: a second pass changes nothing
    before = list(plog.entries())
    jan.run_pass()
    assert list(plog.entries()) == before and compaction.cleanings == 1
    # new data supersedes k3 and k4 (k4's batch was the active one and is now cleanable)
    produce(broker, "c", [(b"k3", b"z"), (b"k4", b"z")], clock.ms)
    produce(broker, "c", [(b"k5", b"active")], clock.ms)
    jan.run_pass()
    assert contents(broker, "c") == [
        (4, b"k2", None),
        (5, b"k1", b"c"),
        (7, b"k3", b"z"),
        (8, b"k4", b"z"),
        (9, b"k5", b"active"),
    ]


def test_tombstones_go_after_delete_retention_ms() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, {**COMPACT, "delete.retention.ms": "1000"})
    produce(broker, "c", [(b"k1", b"a"), (b"k2", b"a")], clock.ms)
    produce(broker, "c", [(b"k1", None)], clock.ms)
    produce(broker, "c", [(b"k9", b"active")], clock.ms)
    jan, _ = janitor(broker)
    jan.run_pass()
    assert contents(broker, "c") == [(1, b"k2", b"a"), (2, b"k1", None), (3, b"k9", b"active")]
    clock.ms += 999
    jan.run_pass()
    assert (2, b"k1", None) in contents(broker, "c")
    clock.ms += 2  # past the horizon: a cleaning runs although nothing new is dirty
    jan.run_pass()
    assert contents(broker, "c") == [(1, b"k2", b"a"), (3, b"k9", b"active")]


def test_min_compaction_lag_and_dirty_ratio() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, {**COMPACT, "min.compaction.lag.ms": "1000"})
    produce(broker, "c", [(b"k", b"old")], clock.ms - 5000)
    produce(broker, "c", [(b"k", b"mid")], clock.ms - 5000)
    produce(broker, "c", [(b"k", b"recent")], clock.ms - 10)
    produce(broker, "c", [(b"k", b"last")], clock.ms - 10)
    jan, _ = janitor(broker)
    jan.run_pass()  # only the two old batches are cleanable: "old" goes, "mid" is the latest among them
    assert contents(broker, "c") == [(1, b"k", b"mid"), (2, b"k", b"recent"), (3, b"k", b"last")]
    clock.ms += 2000
    jan.run_pass()
    assert contents(broker, "c") == [(2, b"k", b"recent"), (3, b"k", b"last")]

    broker.create_topic("r", 1, {**COMPACT, "min.cleanable.dirty.ratio": "0.9"})
    for i in range(10):
        produce(broker, "r", [(b"k%d" % i, b"v")], clock.ms)
    jan.run_pass()  # first cleaning: everything dirty (ratio 1)
    produce(broker, "r", [(b"k0", b"w")], clock.ms)
    produce(broker, "r", [(b"k1", b"w")], clock.ms)
    jan.run_pass()  # dirty ratio ~ 2/11 < 0.9: not cleaned
    assert [k for _, k, _ in contents(broker, "r")].count(b"k0") == 2


def test_rewritten_batches_keep_their_header_fields() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, COMPACT)
    recs = [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"c", b"1"), (b"b", b"2")]
    produce(broker, "c", recs, clock.ms, codec=Codec.GZIP, producer_id=7, producer_epoch=3, base_sequence=100)
    produce(broker, "c", [(b"z", b"1")], clock.ms, codec=Codec.ZSTD)
    janitor(broker)[0].run_pass()
    plog = broker.topics["c"].partitions[0].log
    batch = RecordBatch(plog.read(0, 1)[0])
    batch.validate()
    assert (batch.base_offset, batch.last_offset, batch.record_count) == (0, 4, 3)  # lastOffsetDelta kept
    assert (batch.compression, batch.producer_id, batch.producer_epoch, batch.base_sequence) == (Codec.GZIP, 7, 3, 100)
    assert [(r.offset, r.key, r.value, r.sequence) for r in batch.records()] == [
        (2, b"a", b"2", 102),
        (3, b"c", b"1", 103),
        (4, b"b", b"2", 104),
    ]
    assert plog.entries()[0] == BatchEntry(0, 4, clock.ms, len(batch.buffer))


def test_rebuild_log_append_time() -> None:
    data = build_batch(
        [SimpleRecord(b"a", b"1", timestamp=5), SimpleRecord(b"b", b"1", timestamp=6)],
        base_offset=10,
        timestamp_type=TimestampType.LOG_APPEND_TIME,
        log_append_time=NOW,
    )
    batch = RecordBatch(bytes(data))
    out = RecordBatch(rebuild(batch, batch.records()[1:], None))
    out.validate()
    assert (out.timestamp_type, out.max_timestamp, out.base_offset, out.last_offset) == (
        TimestampType.LOG_APPEND_TIME,
        NOW,
        10,
        11,
    )
    assert [(r.offset, r.key, r.timestamp) for r in out.records()] == [(11, b"b", NOW)]


def test_compaction_is_incremental_and_time_bounded() -> None:
    """One batch per janitor run (a fake clock that always says the budget is spent) gives the
    same result as one long run, with appends and retention in between."""
    results = []
    for one_batch_per_run in (False, True):
        clock = Clock()
        broker = make_broker(clock)
        broker.create_topic("c", 1, {**COMPACT, "cleanup.policy": "compact,delete", "retention.ms": "100000"})
        for i in range(60):
            produce(broker, "c", [(b"k%d" % (i % 7), b"v%d" % i), (b"k%d" % (i % 5), b"w%d" % i)], clock.ms + i)
        ticks = iter(range(10**6))
        kw = {"clock": lambda ticks=ticks: float(next(ticks)), "budget_ms": 0.5} if one_batch_per_run else {}
        jan, compaction = janitor(broker, **kw)
        runs = jan.run_pass()
        results.append(contents(broker, "c"))
        if one_batch_per_run:
            assert runs > 100  # 59 batches mapped and 59 cleaned, a run each
        assert compaction.cleanings == 1
    assert results[0] == results[1]
    latest = {}
    for o, k, v in results[0]:
        latest[k] = (o, v)
    assert len(results[0]) <= 7 + 2  # one per key (7 keys) plus the active batch's two records


def test_compaction_interleaved_with_appends_and_retention() -> None:
    clock = Clock()
    broker = make_broker(clock)
    configs = {"cleanup.policy": "compact,delete", "retention.ms": "1000", "min.cleanable.dirty.ratio": "0.01"}
    broker.create_topic("c", 1, configs)
    for i in range(20):
        produce(broker, "c", [(b"k%d" % (i % 3), b"v%d" % i)], clock.ms + 100 * i)
    fake = iter(range(10**6))
    jan, _ = janitor(broker, clock=lambda: float(next(fake)), budget_ms=0.5)
    jan.tick()  # starts mapping
    for _ in range(5):
        jan.run()
    produce(broker, "c", [(b"k0", b"new")], clock.ms + 5000)
    clock.ms += 1500  # the first 5 batches expire, deleted while the cleaning is under way
    partition = broker.topics["c"].partitions[0]
    assert Retention(broker).step(partition, clock.ms, float("inf")) is False
    plog = partition.log
    assert plog.log_start_offset == 5
    while jan.in_pass:
        jan.run()
    jan.run_pass()
    assert plog.log_start_offset == 5
    got = contents(broker, "c")
    assert got[-1] == (20, b"k0", b"new")
    keys = [k for _, k, _ in got[:-1]]
    assert len(keys) == len(set(keys))  # one record per key below the active batch


def test_compaction_on_rocks_survives_reopen(tmp_path: Path) -> None:
    clock = Clock()
    broker = make_broker(clock, RocksStorage(tmp_path / "db"))
    broker.create_topic("c", 1, COMPACT)
    for i in range(30):
        produce(broker, "c", [(b"k%d" % (i % 4), b"v%d" % i)], clock.ms)
    janitor(broker)[0].run_pass()
    before = contents(broker, "c")
    assert [o for o, _, _ in before] == [25, 26, 27, 28, 29]  # 25 is superseded only by the active batch
    broker.storage.close()
    broker = make_broker(clock, RocksStorage(tmp_path / "db"))
    assert contents(broker, "c") == before
    plog = broker.topics["c"].partitions[0].log
    assert (plog.log_end_offset, plog.get_state(CHECKPOINT_KEY)) == (30, (29).to_bytes(8, "big"))
    produce(broker, "c", [(b"k0", b"again")], clock.ms)
    assert contents(broker, "c")[-1] == (30, b"k0", b"again")
    broker.storage.close()


def test_compaction_tick_cost(capsys: pytest.CaptureFixture[str]) -> None:
    """Measure: 20 partitions x 500 batches of 10 records (gzip), cleaned within 5 ms runs."""
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 20, COMPACT)
    for p in broker.topics["c"].partitions:
        for i in range(500):
            recs = [
                SimpleRecord(b"key-%d" % ((i * 10 + j) % 300), b"value-%d" % i, timestamp=clock.ms) for j in range(10)
            ]
            base = p.log.log_end_offset
            data = bytes(build_batch(recs, base_offset=base, codec=Codec.GZIP))
            p.log.append([(data, BatchEntry(base, base + 9, clock.ms, len(data)))])
    jan, compaction = janitor(broker)
    t0 = time.perf_counter()
    runs = jan.run_pass()
    wall = (time.perf_counter() - t0) * 1000
    with capsys.disabled():
        print(
            f"\ncompaction: {runs} runs, max {jan.stats.max_ms:.2f} ms, total {jan.stats.total_ms:.0f} ms "
            f"(wall {wall:.0f} ms), {compaction.batches_rewritten} rewritten, {compaction.batches_removed} removed"
        )
    assert compaction.cleanings == 20
    assert statistics.median(jan.stats.durations) < 25  # a 5 ms budget plus one batch (noisy machines)
    for p in broker.topics["c"].partitions:
        keys = [r.key for raw in p.log.read(0, 1 << 40) for r in RecordBatch(raw).records()]
        assert len(keys) <= 300 + 10


# ---- through a real broker process ------------------------------------------------------------------


def test_process_compacted_topic_reads_back_latest_values(tmp_path: Path) -> None:
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, NewTopic

    from tests.broker_process import BrokerProcess

    with BrokerProcess(tmp_path / "data", "log.retention.check.interval.ms=200") as proc:
        bootstrap = proc.bootstrap
        admin = AdminClient({"bootstrap.servers": bootstrap})
        configs = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "500"}
        for fut in admin.create_topics([NewTopic("cmp", 1, 1, config=configs)]).values():
            fut.result(15)
        producer = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        expected: dict[bytes, bytes | None] = {}
        for round_ in range(5):
            for k in range(10):
                key, value = b"key-%d" % k, b"value-%d-%d" % (k, round_)
                if round_ == 4 and k == 3:
                    value = None  # a tombstone
                producer.produce("cmp", key=key, value=value, partition=0)
                expected[key] = value
            assert producer.flush(15) == 0
        producer.produce("cmp", key=b"last", value=b"active", partition=0)  # the active batch
        assert producer.flush(15) == 0

        def read_all() -> list[tuple[int, bytes, bytes | None]]:
            consumer = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "c", "enable.auto.commit": False})
            consumer.assign([ck.TopicPartition("cmp", 0, ck.OFFSET_BEGINNING)])
            out: list[tuple[int, bytes, bytes | None]] = []
            deadline = time.monotonic() + 10
            try:
                while time.monotonic() < deadline and (not out or out[-1][0] < 50):
                    for m in consumer.consume(num_messages=1000, timeout=0.3):
                        assert m.error() is None, m.error()
                        out.append((m.offset(), m.key(), m.value()))
                return out
            finally:
                consumer.close()

        deadline = time.monotonic() + 20
        while True:
            got = read_all()
            if len(got) == 10 or time.monotonic() > deadline:  # 9 keys + the active record, tombstone gone
                break
            time.sleep(0.3)
        latest = {k: v for k, v in expected.items() if v is not None}
        assert {k: v for _, k, v in got[:-1]} == latest
        assert got[-1] == (50, b"last", b"active")
        assert [o for o, _, _ in got[:-1]] == sorted(40 + k for k in range(10) if k != 3)


def test_large_dirty_part_is_cleaned_in_bounded_rounds() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.create_topic("c", 1, COMPACT)
    for i in range(40):
        produce(broker, "c", [(b"k%d" % (i % 3), b"v%d" % i)], clock.ms)
    compaction = Compaction(broker, max_dirty_batches=10)
    jan = Janitor(broker, [compaction])
    plog = broker.topics["c"].partitions[0].log
    checkpoints = []
    for _ in range(6):
        jan.run_pass()
        checkpoints.append(int.from_bytes(plog.get_state(CHECKPOINT_KEY) or bytes(8), "big"))
    assert checkpoints[:4] == [10, 20, 30, 39]  # capped rounds run whatever the dirty ratio
    assert compaction.cleanings == 4
    assert contents(broker, "c") == [(36, b"k0", b"v36"), (37, b"k1", b"v37"), (38, b"k2", b"v38"), (39, b"k0", b"v39")]
