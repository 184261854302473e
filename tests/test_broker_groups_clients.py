"""Consumer groups through real clients: confluent-kafka (librdkafka) and kafka-python.

Brokers run with ``group.initial.rebalance.delay.ms=0`` so that tests do not wait 3 s per new
group. The group is watched from outside with raw DescribeGroups/OffsetFetch calls: in every
Stable snapshot no partition is assigned to two members, and committed offsets never move back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from chronik_protocol.messages.consumer_protocol_assignment import ConsumerProtocolAssignment
from chronik_protocol.messages.describe_groups_request import DescribeGroupsRequest
from chronik_protocol.messages.offset_fetch_request import OffsetFetchRequest

from .broker_process import BrokerProcess
from .raw_client import call

FAST = ("group.initial.rebalance.delay.ms=0",)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path / "data", *FAST) as b:
        yield b


def create(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


def produce(bootstrap: str, topic: str, n: int, partitions: int, pace: float = 0.0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    for i in range(n):
        producer.produce(topic, b"%d" % i, partition=i % partitions)
        if pace and i % 100 == 99:
            producer.poll(0)
            time.sleep(pace)
    assert producer.flush(30) == 0


def consumer_config(bootstrap: str, group: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
        "fetch.wait.max.ms": 100,
        "enable.auto.commit": False,
        **extra,
    }


class Watcher(threading.Thread):
    """Polls the group from outside: Stable assignments are disjoint, committed offsets only grow."""

    def __init__(self, port: int, group: str) -> None:
        super().__init__(daemon=True)
        self.port, self.group = port, group
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.stable_snapshots = 0
        self.committed: dict[tuple[str, int], int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            self.check_once()
            time.sleep(0.05)

    def check_once(self) -> None:
        g: Any = call(self.port, 15, 5, DescribeGroupsRequest(groups=[self.group])).groups[0]  # type: ignore[attr-defined]
        if g.group_state == "Stable":
            self.stable_snapshots += 1
            owners: dict[tuple[str, int], str] = {}
            for m in g.members:
                if len(m.member_assignment) < 2:
                    continue
                a = ConsumerProtocolAssignment.decode(memoryview(m.member_assignment)[2:], 0)
                for tp in a.assigned_partitions:
                    for p in tp.partitions:
                        if (tp.topic, p) in owners:
                            self.problems.append(f"{tp.topic}-{p} owned by {owners[(tp.topic, p)]} and {m.member_id}")
                        owners[(tp.topic, p)] = m.member_id
        r: Any = call(self.port, 9, 7, OffsetFetchRequest(group_id=self.group, topics=None))
        for t in r.topics:
            for p in t.partitions:
                before = self.committed.get((t.name, p.partition_index), -1)
                if p.committed_offset < before:
                    self.problems.append(f"{t.name}-{p.partition_index} committed {p.committed_offset} after {before}")
                self.committed[(t.name, p.partition_index)] = p.committed_offset


class Member(threading.Thread):
    """A subscribed consumer that commits what it consumed after every batch until told to stop."""

    def __init__(self, config: dict[str, Any], topic: str, seen: set[tuple[int, int]], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.config, self.topic, self.seen, self.lock = config, topic, seen, lock
        self.stop = threading.Event()
        self.assignments: list[list[int]] = []
        self.revocations = 0
        self.errors: list[str] = []
        self.close_leaves = True

    def run(self) -> None:
        consumer = Consumer(self.config)

        def on_assign(_c: Any, parts: list[TopicPartition]) -> None:
            self.assignments.append(sorted(p.partition for p in parts))

        def on_revoke(_c: Any, _parts: list[TopicPartition]) -> None:
            self.revocations += 1

        consumer.subscribe([self.topic], on_assign=on_assign, on_revoke=on_revoke)
        try:
            while not self.stop.is_set():
                msgs = consumer.consume(500, 0.2)
                for m in msgs:
                    if m.error():
                        self.errors.append(str(m.error()))
                        continue
                    with self.lock:
                        self.seen.add((m.partition(), m.offset()))
                if msgs:
                    try:
                        consumer.commit(asynchronous=False)
                    except Exception as exc:  # a commit racing a rebalance is retried by the next batch
                        if "REBALANCE" not in str(exc) and "ILLEGAL_GENERATION" not in str(exc):
                            self.errors.append(f"commit: {exc}")
        finally:
            if self.close_leaves:
                consumer.close()


@pytest.mark.parametrize("assignor", ["range", "cooperative-sticky"])
def test_three_consumers_join_and_leave_while_producing(broker: BrokerProcess, assignor: str) -> None:
    topic, group, partitions, n = "busy", f"busy-{assignor}", 12, 6000
    create(broker.bootstrap, topic, partitions)
    watcher = Watcher(broker.port, group)
    watcher.start()
    seen: set[tuple[int, int]] = set()
    lock = threading.Lock()
    config = consumer_config(broker.bootstrap, group, **{"partition.assignment.strategy": assignor})
    producer = threading.Thread(target=produce, args=(broker.bootstrap, topic, n, partitions, 0.05))
    producer.start()
    members = [Member(config, topic, seen, lock) for _ in range(3)]
    members[0].start()
    time.sleep(0.8)
    members[1].start()
    time.sleep(0.8)
    members[2].start()
    time.sleep(0.8)
    members[0].stop.set()  # the first one leaves (LeaveGroup), the others take over its partitions
    members[0].join(10)
    producer.join(60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if len(seen) >= n:
                break
        time.sleep(0.1)
    for m in members[1:]:
        m.stop.set()
    for m in members[1:]:
        m.join(10)
    watcher.stop.set()
    watcher.join(5)
    watcher.check_once()
    assert len(seen) == n, f"consumed {len(seen)} of {n} distinct records"
    assert watcher.problems == []
    assert watcher.stable_snapshots > 0
    assert sum(watcher.committed.values()) == n  # everything committed by the end
    assert [m.errors for m in members] == [[], [], []]
    rebalances = sum(len(m.assignments) for m in members)
    assert rebalances >= 4, [m.assignments for m in members]
    print(f"{assignor}: produced {n}, consumed {len(seen)} distinct, assign callbacks {rebalances}")


def test_static_member_restart_without_rebalance(broker: BrokerProcess) -> None:
    topic, group = "static", "static-g"
    create(broker.bootstrap, topic, 4)
    produce(broker.bootstrap, topic, 400, 4)
    seen: set[tuple[int, int]] = set()
    lock = threading.Lock()
    cfg = consumer_config(broker.bootstrap, group, **{"session.timeout.ms": 10000})
    a = Member({**cfg, "group.instance.id": "a"}, topic, seen, lock)
    b = Member({**cfg, "group.instance.id": "b"}, topic, seen, lock)
    a.start()
    time.sleep(1)
    b.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        len(a.assignments) >= 2 and b.assignments and len(a.assignments[-1]) == 2
    ):
        time.sleep(0.1)
    assert len(a.assignments[-1]) == 2 and len(b.assignments[-1]) == 2
    a_rounds = len(a.assignments)
    b_partitions = b.assignments[-1]
    b.stop.set()  # a static member's close does not leave the group (KIP-345)
    b.join(10)
    g: Any = call(broker.port, 15, 5, DescribeGroupsRequest(groups=[group])).groups[0]
    assert g.group_state == "Stable" and len(g.members) == 2
    b2 = Member({**cfg, "group.instance.id": "b"}, topic, seen, lock)
    b2.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not b2.assignments:
        time.sleep(0.1)
    time.sleep(1)
    assert b2.assignments == [b_partitions]  # the same partitions, handed back without a rebalance
    assert len(a.assignments) == a_rounds and a.revocations == a_rounds - 1
    g = call(broker.port, 15, 5, DescribeGroupsRequest(groups=[group])).groups[0]
    assert g.group_state == "Stable" and sorted(m.group_instance_id for m in g.members) == ["a", "b"]
    for m in (a, b2):
        m.stop.set()
        m.join(10)
    assert a.errors == [] and b2.errors == []


def test_committed_offsets_survive_broker_kill(tmp_path: Path) -> None:
    topic, group = "durable", "durable-g"
    # sync mode: the OffsetCommit is acknowledged only after the group commit's fsync
    broker = BrokerProcess(
        tmp_path / "data", *FAST, "group.min.session.timeout.ms=1000", "log.flush.interval.messages=1"
    ).start()
    config = consumer_config(broker.bootstrap, group, **{"session.timeout.ms": 1500})
    try:
        create(broker.bootstrap, topic, 3)
        produce(broker.bootstrap, topic, 300, 3)
        c = Consumer(config)
        c.subscribe([topic])
        got = 0
        deadline = time.monotonic() + 20
        while got < 150 and time.monotonic() < deadline:
            got += sum(1 for m in c.consume(150 - got, 0.5) if not m.error())
        c.commit(asynchronous=False)
        committed = {
            tp.partition: max(tp.offset, 0) for tp in c.committed([TopicPartition(topic, p) for p in range(3)])
        }
        assert sum(committed.values()) == got == 150
        broker.kill()  # no shutdown: the commit was acknowledged, so it is in the store's log
        c.close()
        broker.start()  # the group comes back Stable with the old member, whose session then expires
        c = Consumer(config)
        c.subscribe([topic])
        rest: list[tuple[int, int]] = []
        deadline = time.monotonic() + 20
        while len(rest) < 150 and time.monotonic() < deadline:
            rest += [(m.partition(), m.offset()) for m in c.consume(300, 0.5) if not m.error()]
        c.close()
        assert len(rest) == 150
        assert all(offset >= committed[p] for p, offset in rest)  # resumed at the committed offsets
    finally:
        if broker.proc is not None and broker.proc.poll() is None:
            broker.stop()


def test_kafka_python_group_consumer(broker: BrokerProcess) -> None:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTopicPartition

    topic, group = "kp", "kp-g"
    create(broker.bootstrap, topic, 3)
    produce(broker.bootstrap, topic, 90, 3)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10000,
    )
    got = []
    for m in consumer:
        got.append((m.partition, m.offset))
        if len(got) == 90:
            break
    consumer.commit()
    assert consumer.committed(KTopicPartition(topic, 0)) == 30
    consumer.close()
    g: Any = call(broker.port, 15, 5, DescribeGroupsRequest(groups=[group])).groups[0]
    assert g.group_state == "Empty"
    assert sorted(got) == sorted((p, o) for p in range(3) for o in range(30))


def test_live_consumer_keeps_its_generation_across_broker_restart(tmp_path: Path) -> None:
    """The group is reloaded Stable with its members: a consumer that keeps heartbeating continues
    without a rebalance (its assignment callback runs once)."""
    broker = BrokerProcess(tmp_path / "data", *FAST).start()
    try:
        create(broker.bootstrap, "live", 2)
        produce(broker.bootstrap, "live", 100, 2)
        extra = {"enable.auto.commit": True, "session.timeout.ms": 30000, "reconnect.backoff.max.ms": 500}
        c = Consumer(consumer_config(broker.bootstrap, "live-g", **extra))
        assigned: list[int] = []
        c.subscribe(["live"], on_assign=lambda _c, parts: assigned.append(len(parts)))
        got: set[tuple[int, int]] = set()
        deadline = time.monotonic() + 15
        while len(got) < 100 and time.monotonic() < deadline:
            got.update((m.partition(), m.offset()) for m in c.consume(100, 0.2) if not m.error())
        broker.stop()
        broker.start()
        produce(broker.bootstrap, "live", 100, 2)
        deadline = time.monotonic() + 15
        while len(got) < 200 and time.monotonic() < deadline:
            got.update((m.partition(), m.offset()) for m in c.consume(100, 0.2) if not m.error())
        c.close()
        assert len(got) == 200 and assigned == [2]
    finally:
        if broker.proc is not None and broker.proc.poll() is None:
            broker.stop()
