"""The broker through real clients over TCP: confluent-kafka (librdkafka) and kafka-python.

Every test starts ``chronik start`` as its own process (tests/broker_process.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from .broker_process import BrokerProcess

RECORDS = int(os.environ.get("CHRONIK_TEST_RECORDS", "100000"))
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BASE_TS = 1_700_000_000_000


def record(i: int) -> tuple[bytes | None, bytes, list[tuple[str, bytes]], int]:
    key = None if i % 10 == 0 else b"key-%d" % i
    return key, b"value-%d-" % i + bytes(i % 50), [("h", b"%d" % i), ("n", b"")], BASE_TS + i


def produce(bootstrap: str, topic: str, n: int, codec: str, partitions: int, **extra: object) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5, "batch.num.messages": 2000, **extra}
    )
    failures: list[str] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    for i in range(n):
        key, value, headers, ts = record(i)
        while True:
            try:
                producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=headers,
                    timestamp=ts,
                    partition=i % partitions,
                    on_delivery=report,
                )
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0
    assert failures == []


def consume_all(bootstrap: str, topic: str, n: int, partitions: int, timeout: float = 60) -> list[tuple]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False, "fetch.wait.max.ms": 100}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < n and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=5000, timeout=0.5):
                if m.error():
                    raise KafkaException(m.error())
                out.append((m.partition(), m.offset(), m.key(), m.value(), m.headers() or [], m.timestamp()[1]))
    finally:
        consumer.close()
    return out


def check(records: list[tuple], n: int, partitions: int) -> None:
    assert len(records) == n
    by_partition: dict[int, list[tuple]] = {}
    for r in records:
        by_partition.setdefault(r[0], []).append(r)
    for p, rs in by_partition.items():
        assert [r[1] for r in rs] == list(range(len(rs))), f"partition {p}: offsets not contiguous from 0"
        for j, (_, _, key, value, headers, ts) in enumerate(rs):
            i = j * partitions + p
            assert (key, value, [tuple(h) for h in headers], ts) == (*record(i)[:2], record(i)[2], record(i)[3])


@pytest.fixture
def broker(tmp_path: Path):
    with BrokerProcess(tmp_path / "data") as b:
        yield b


@pytest.mark.parametrize("codec", CODECS)
def test_records_round_trip_with_every_codec(broker: BrokerProcess, codec: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(f"rt-{codec}", 3)])[f"rt-{codec}"].result(10)
    produce(broker.bootstrap, f"rt-{codec}", RECORDS, codec, 3)
    check(consume_all(broker.bootstrap, f"rt-{codec}", RECORDS, 3), RECORDS, 3)


def test_topic_administration(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("adm", 2, config={"retention.ms": "3600000"})])["adm"].result(10)
    with pytest.raises(KafkaException) as exists:
        admin.create_topics([NewTopic("adm", 2)])["adm"].result(10)
    assert exists.value.args[0].name() == "TOPIC_ALREADY_EXISTS"
    with pytest.raises(KafkaException) as bad:
        admin.create_topics([NewTopic("bad", 0)])["bad"].result(10)
    assert bad.value.args[0].name() == "INVALID_PARTITIONS"
    with pytest.raises(KafkaException) as rf:
        admin.create_topics([NewTopic("rf3", 1, 3)])["rf3"].result(10)
    assert rf.value.args[0].name() == "INVALID_REPLICATION_FACTOR"
    with pytest.raises(KafkaException) as cfg:
        admin.create_topics([NewTopic("cfg", 1, config={"cleanup.policy": "sideways"})])["cfg"].result(10)
    assert cfg.value.args[0].name() == "INVALID_CONFIG"
    topics = admin.list_topics(timeout=10).topics
    assert len(topics["adm"].partitions) == 2 and "cfg" not in topics
    admin.delete_topics(["adm"])["adm"].result(10)
    assert "adm" not in admin.list_topics(timeout=10).topics
    with pytest.raises(KafkaException) as gone:
        admin.delete_topics(["adm"])["adm"].result(10)
    assert gone.value.args[0].name() == "UNKNOWN_TOPIC_OR_PART"


def test_data_and_topics_survive_restart(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "data").start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("keep", 2)])["keep"].result(10)
        produce(b.bootstrap, "keep", 5000, "lz4", 2)
        assert b.stop() == 0
        b.start()
        check(consume_all(b.bootstrap, "keep", 5000, 2), 5000, 2)
        produce(b.bootstrap, "keep", 10, "none", 2)  # offsets continue after the restart
        consumer = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "x"})
        low, high = consumer.get_watermark_offsets(TopicPartition("keep", 0), timeout=10)
        consumer.close()
        assert (low, high) == (0, 2505)
    finally:
        if b.proc and b.proc.poll() is None:
            b.stop()


@pytest.mark.parametrize(("topic_codec", "expected"), [("zstd", 4), ("uncompressed", 0), ("producer", 2)])
def test_topic_compression_type_recompresses(broker: BrokerProcess, topic_codec: str, expected: int) -> None:
    """A topic's compression.type other than ``producer`` rebuilds batches with that codec
    (stored and served so); ``producer`` keeps the client's codec (snappy = 2 here)."""
    from chronik.protocol.records import RecordBatch, split_batches

    from .raw_client import fetch_records

    topic = f"cz-{topic_codec}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, config={"compression.type": topic_codec})])[topic].result(10)
    produce(broker.bootstrap, topic, 300, "snappy", 1)
    raw = fetch_records(broker.port, topic, 0, 0)
    batches = split_batches(raw).batches
    assert batches and all(isinstance(b, RecordBatch) and b.compression == expected for b in batches)
    for b in batches:
        b.validate()
    check(consume_all(broker.bootstrap, topic, 300, 1), 300, 1)


def test_create_topics_refuses_excessive_partition_counts(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    with pytest.raises(KafkaException) as big:
        admin.create_topics([NewTopic("huge", 50_000)])["huge"].result(10)
    assert big.value.args[0].name() == "POLICY_VIOLATION"
    assert "huge" not in admin.list_topics(timeout=10).topics


def test_list_offsets_by_time_and_max_timestamp(broker: BrokerProcess) -> None:
    """ListOffsets: earliest/latest (watermarks), by timestamp (offsets_for_times), max timestamp (-3, KIP-734)."""
    from chronik_protocol.messages.list_offsets_request import (
        ListOffsetsPartition,
        ListOffsetsRequest,
        ListOffsetsTopic,
    )

    from .raw_client import call

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("lo", 1)])["lo"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    stamps = [BASE_TS + 10 * i for i in range(100)]
    stamps[40] = BASE_TS + 5000  # the largest timestamp sits in the middle
    for i, ts in enumerate(stamps):
        producer.produce("lo", value=b"%d" % i, partition=0, timestamp=ts)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lo"})
    assert consumer.get_watermark_offsets(TopicPartition("lo", 0), timeout=10) == (0, 100)
    found = consumer.offsets_for_times([TopicPartition("lo", 0, BASE_TS + 555)], timeout=10)
    assert found[0].offset == 40  # first record with timestamp >= BASE_TS + 555 (record 40: BASE_TS+5000)
    found = consumer.offsets_for_times([TopicPartition("lo", 0, BASE_TS + 395)], timeout=10)
    assert found[0].offset == 40
    found = consumer.offsets_for_times([TopicPartition("lo", 0, BASE_TS + 425)], timeout=10)
    assert found[0].offset == 40
    found = consumer.offsets_for_times([TopicPartition("lo", 0, BASE_TS + 10**9)], timeout=10)
    assert found[0].offset == -1  # none that late: the end (librdkafka reports -1)
    consumer.close()
    req = ListOffsetsRequest(
        replica_id=-1,
        topics=[ListOffsetsTopic(name="lo", partitions=[ListOffsetsPartition(partition_index=0, timestamp=-3)])],
    )
    part = call(broker.port, 2, 8, req).topics[0].partitions[0]  # type: ignore[attr-defined]
    assert (part.error_code, part.offset, part.timestamp) == (0, 40, BASE_TS + 5000)
