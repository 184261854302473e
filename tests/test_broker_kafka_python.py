"""kafka-python 3 (pure Python, speaks older non-flexible versions) against ``chronik start``."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from .broker_process import BrokerProcess


def test_kafka_python_admin_produce_consume(tmp_path: Path) -> None:
    with BrokerProcess(tmp_path / "data") as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics([NewTopic("kp", num_partitions=2, replication_factor=1)])
        assert "kp" in admin.list_topics()
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, compression_type="gzip", acks="all")
        futures = [
            producer.send("kp", key=b"k%d" % i, value=b"v%d" % i, partition=i % 2, headers=[("i", b"%d" % i)])
            for i in range(500)
        ]
        offsets = sorted((f.get(10).partition, f.get(10).offset) for f in futures)
        producer.close()
        assert offsets == sorted([(0, o) for o in range(250)] + [(1, o) for o in range(250)])
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000)
        tps = [TopicPartition("kp", 0), TopicPartition("kp", 1)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        got = {(m.key, m.value, tuple(m.headers)) for m in consumer}
        consumer.close()
        assert got == {(b"k%d" % i, b"v%d" % i, (("i", b"%d" % i),)) for i in range(500)}
        admin.delete_topics(["kp"])
        assert "kp" not in admin.list_topics()
        admin.close()
