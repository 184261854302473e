"""Create the scenario topics on a broker (setup, not under test) with the Java-compatible AdminClient of librdkafka."""

from __future__ import annotations

import time

from chronik_conformance.scenarios import SCENARIO_TOPICS, topic_name

__all__ = ["create_scenario_topics"]


def create_scenario_topics(bootstrap: str, prefix: str, timeout: float = 30.0) -> list[str]:
    """Create every topic of ``SCENARIO_TOPICS`` under ``prefix``; return their names once all are visible."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = [
        NewTopic(topic_name(prefix, t.scenario), num_partitions=t.partitions, replication_factor=1, config=t.configs)
        for t in SCENARIO_TOPICS
    ]
    for name, fut in admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout).items():
        try:
            fut.result(timeout)
        except Exception as exc:  # KafkaException: keep the topic name in the message
            raise RuntimeError(f"creating {name} on {bootstrap}: {exc}") from exc
    names = [t.topic for t in new]
    deadline = time.monotonic() + timeout
    while True:
        listed = admin.list_topics(timeout=timeout).topics
        missing = [n for n in names if n not in listed]
        if not missing:
            return names
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics not visible on {bootstrap} after {timeout:.0f} s: {missing}")
        time.sleep(0.2)
