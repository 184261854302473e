"""An acknowledged write survives ``kill -9`` of the broker in sync mode
(``log.flush.interval.messages=1``: acks wait for a group commit)."""

from __future__ import annotations

import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from .broker_process import BrokerProcess


def test_acknowledged_records_survive_kill_9(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "data", "log.flush.interval.messages=1").start()
    acked: dict[tuple[int, int], bytes] = {}
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("durable", 2)])["durable"].result(10)
        producer = Producer(
            {
                "bootstrap.servers": broker.bootstrap,
                "acks": "all",
                "linger.ms": 1,
                "message.timeout.ms": 5000,
                "retries": 0,
            }
        )

        def on_delivery(err: object, msg: object) -> None:
            if err is None:
                acked[(msg.partition(), msg.offset())] = msg.value()  # type: ignore[attr-defined]

        i = 0
        deadline = time.monotonic() + 30
        while len(acked) < 3000 and time.monotonic() < deadline:
            producer.produce("durable", value=b"record-%d" % i, partition=i % 2, on_delivery=on_delivery)
            producer.poll(0)
            i += 1
        broker.kill()  # mid-stream: requests in flight, nothing flushed on purpose
        producer.flush(10)
    finally:
        if broker.proc and broker.proc.poll() is None:
            broker.kill()
    assert len(acked) >= 3000
    snapshot = dict(acked)

    broker.start()
    try:
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "d", "enable.auto.commit": False})
        consumer.assign([TopicPartition("durable", p, 0) for p in range(2)])
        found: dict[tuple[int, int], bytes] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(k in found for k in snapshot):
            for m in consumer.consume(5000, timeout=0.5):
                assert not m.error(), m.error()
                found[(m.partition(), m.offset())] = m.value()
        consumer.close()
    finally:
        broker.stop()
    missing = [k for k in snapshot if k not in found]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    assert all(found[k] == v for k, v in snapshot.items())
