"""Conformance driver for confluent-kafka (librdkafka): ``python confluent_driver.py --bootstrap H:P --prefix P
--scenarios a,b``.

librdkafka's consumer needs a ``group.id`` to be constructed; the driver sets one but never joins or commits:
partitions are assigned at explicit (or logical beginning/end) offsets.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import confluent_kafka as ck
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (
    MECHANISMS,
    T0,
    AuthFailure,
    CheckFailed,
    Ctx,
    Got,
    Record,
    compare_records,
    fail,
    main,
    security_scenarios,
    standard_record,
    standard_records,
)
from groups import PARTITIONS, RECORDS, Group, Key, Member, run_rebalance, run_static

_LOG = logging.getLogger("librdkafka")


def version() -> str:
    """``confluent-kafka X (librdkafka Y)``."""
    from importlib.metadata import version as dist_version

    return f"confluent-kafka {dist_version('confluent-kafka')} (librdkafka {ck.libversion()[0]})"


def describe_error(exc: BaseException) -> str:
    """``NAME (code N): message`` for librdkafka errors, else the exception's class and text."""
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
    if isinstance(err, KafkaError):
        return kerr(err)
    return f"{type(exc).__name__}: {exc}"


def kerr(err: KafkaError) -> str:
    """One-line rendering of a KafkaError with its name and code."""
    return f"{err.name()} (code {err.code()}): {err.str()}"


def _base(ctx: Ctx, **extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"bootstrap.servers": ctx.bootstrap, "logger": _LOG, "client.id": "conformance-confluent"}
    conf.update(ctx.conn)
    conf.update(extra)
    return conf


def admin(ctx: Ctx) -> AdminClient:
    return AdminClient(_base(ctx))


class Deliveries:
    """Collects delivery reports by record index."""

    def __init__(self) -> None:
        self.reports: dict[int, tuple[KafkaError | None, int, int]] = {}

    def cb(self, i: int) -> Callable[[KafkaError | None, Any], None]:
        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            self.reports[i] = (err, msg.partition(), msg.offset())

        return on_delivery


def produce(
    ctx: Ctx,
    producer: Producer,
    records: list[tuple[int, Record]],
    partition_of: Callable[[int], int] = lambda i: 0,
    topic: str | None = None,
    pace: Callable[[int], None] | None = None,
) -> Deliveries:
    """Produce records ``(i, record)`` to ``topic`` (default ``T(s)``) and wait for every delivery report.

    ``pace(i)``, if given, is called before record ``i`` is sent (to produce at a given rate).
    """
    d = Deliveries()
    for i, r in records:
        if pace is not None:
            pace(i)
        producer.produce(
            topic or ctx.topic,
            value=r.value,
            key=r.key,
            headers=list(r.headers),
            timestamp=r.timestamp,
            partition=partition_of(i),
            on_delivery=d.cb(i),
        )
        producer.poll(0)
    ctx.step(f"delivery of {len(records)} records")
    left = producer.flush(ctx.remaining())
    if left:
        raise CheckFailed(f"timeout: {ctx.awaiting} ({left} still queued)")
    for i, _ in records:
        err = d.reports[i][0]
        if err is not None:
            fail(f"delivery of record {i}", "success", err.name(), kerr(err))
    return d


def check_offsets(ctx: Ctx, d: Deliveries, indices: list[int], expected: list[int]) -> None:
    got = [d.reports[i][2] for i in indices]
    first_bad = next((n for n, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e), None)
    if first_bad is not None:
        fail(f"delivery offset of record {indices[first_bad]}", expected[first_bad], got[first_bad])


def consumer(ctx: Ctx, reset: str = "earliest") -> Consumer:
    return Consumer(
        _base(
            ctx,
            **{
                "group.id": f"{ctx.prefix}.{ctx.scenario}.unused",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": reset,
            },
        )
    )


def to_got(m: Any) -> Got:
    ts_type, ts = m.timestamp()
    return Got(
        offset=m.offset(),
        key=m.key(),
        value=m.value(),
        headers=tuple(m.headers() or ()),
        timestamp=ts,
        create_time=ts_type == ck.TIMESTAMP_CREATE_TIME,
    )


def read_to_end(ctx: Ctx, c: Consumer, label: str) -> tuple[list[Got], int]:
    """Poll an assigned consumer until partition EOF; return the records and the EOF offset."""
    out: list[Got] = []
    ctx.step(f"{label}: records until end of partition")
    while True:
        m = c.poll(ctx.remaining(1.0))
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                return out, m.offset()
            raise KafkaException(m.error())
        out.append(to_got(m))


def read(ctx: Ctx, start: int, label: str = "read-back", topic: str | None = None, partition: int = 0) -> list[Got]:
    """Read a partition from ``start`` (an offset or a logical offset) to its end."""
    c = consumer(ctx)
    try:
        c.assign([TopicPartition(topic or ctx.topic, partition, start)])
        return read_to_end(ctx, c, label)[0]
    finally:
        c.close()


def new_producer(ctx: Ctx, **extra: Any) -> Producer:
    return Producer(_base(ctx, **extra))


# --- scenarios ---------------------------------------------------------------------------------------------------


def connect(ctx: Ctx) -> None:
    ctx.step("metadata")
    md = admin(ctx).list_topics(timeout=ctx.remaining(20))
    brokers = [(b.id, b.host, b.port) for b in md.brokers.values()]
    ctx.facts.update(cluster_id=md.cluster_id, controller_id=md.controller_id, brokers=brokers)
    ctx.check(len(brokers) == 1, "broker count", 1, len(brokers))
    bid, host, port = brokers[0]
    ctx.facts["broker_id"] = bid
    ctx.check((host, port) == (ctx.host, ctx.port), "broker address", f"{ctx.host}:{ctx.port}", f"{host}:{port}")
    ctx.check(bid >= 0, "broker id >= 0", ">= 0", bid)


def metadata(ctx: Ctx) -> None:
    a = admin(ctx)
    ctx.step("metadata of the cluster")
    md = a.list_topics(timeout=ctx.remaining(20))
    bid = next(iter(md.brokers))
    ctx.step("metadata of the topic")
    tmd = a.list_topics(topic=ctx.topic, timeout=ctx.remaining(20)).topics[ctx.topic]
    if tmd.error is not None:
        fail("topic metadata error", "none", tmd.error.name(), kerr(tmd.error))
    parts = tmd.partitions
    ctx.check(set(parts) == {0, 1, 2}, "partitions", [0, 1, 2], sorted(parts))
    for p in sorted(parts):
        pm = parts[p]
        got = (pm.leader, list(pm.replicas), list(pm.isrs))
        ctx.check(got == (bid, [bid], [bid]), f"partition {p} leader/replicas/isr", (bid, [bid], [bid]), got)
    ctx.check(ctx.topic in md.topics, "topic listing contains the topic", ctx.topic, "absent")


def roundtrip(codec: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        p = new_producer(ctx, **{"compression.type": codec, "acks": "all", "linger.ms": 10})
        recs = standard_records(ctx.scenario, 200)
        d = produce(ctx, p, list(enumerate(recs)))
        check_offsets(ctx, d, list(range(200)), list(range(200)))
        ctx.facts["produced"] = 200
        compare_records(ctx, "read-back", read(ctx, 0), list(enumerate(recs)))

    run.__name__ = f"roundtrip_{codec}"
    return run


def max_message_bytes(ctx: Ctx) -> None:
    p = new_producer(ctx, **{"acks": "all", "compression.type": "none", "enable.idempotence": False})
    a = Record(b"a", b"a" * 60_000, (), 0)
    b = Record(b"b", b"b" * 70_000, (), 0)
    d = Deliveries()
    ctx.step("delivery of record A")
    p.produce(ctx.topic, key=a.key, value=a.value, partition=0, on_delivery=d.cb(0))
    ctx.check(p.flush(ctx.remaining()) == 0, "delivery of A", "delivered", "still queued")
    err, _, off = d.reports[0]
    if err is not None:
        fail("record A", "acknowledged", err.name(), kerr(err))
    ctx.check(off == 0, "record A offset", 0, off)
    ctx.step("delivery of record B")
    p.produce(ctx.topic, key=b.key, value=b.value, partition=0, on_delivery=d.cb(1))
    ctx.check(p.flush(ctx.remaining()) == 0, "delivery of B", "failed", "still queued")
    err = d.reports[1][0]
    ctx.facts["error"] = err.name() if err else None
    if err is None:
        fail("record B", "MSG_SIZE_TOO_LARGE (code 10)", f"acknowledged at offset {d.reports[1][2]}")
    ctx.check(err.code() == KafkaError.MSG_SIZE_TOO_LARGE, "record B error", "MSG_SIZE_TOO_LARGE (10)", kerr(err))
    got = read(ctx, 0)
    ctx.check(len(got) == 1, "read-back count", 1, len(got))
    ctx.check((got[0].offset, got[0].key, got[0].value) == (0, a.key, a.value), "read-back record", "A at 0", got[0])


def acks(level: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        conf: dict[str, Any] = {"acks": level, "compression.type": "none"}
        if level != "all":
            conf["enable.idempotence"] = False
        p = new_producer(ctx, **conf)
        recs = standard_records(ctx.scenario, 100)
        produce(ctx, p, list(enumerate(recs)))
        compare_records(ctx, "read-back", read(ctx, 0), list(enumerate(recs)))

    run.__name__ = f"acks_{level}"
    return run


def consume_earliest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 20)
    produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)))
    # No group offsets are fetched: the logical offset BEGINNING is resolved like auto.offset.reset=earliest.
    ctx.facts["start"] = "OFFSET_BEGINNING with auto.offset.reset=earliest"
    compare_records(ctx, "read-back", read(ctx, ck.OFFSET_BEGINNING), list(enumerate(recs)))


def consume_latest(ctx: Ctx) -> None:
    p = new_producer(ctx, acks="all")
    recs = standard_records(ctx.scenario, 11)
    produce(ctx, p, list(enumerate(recs[:10])))
    c = consumer(ctx, reset="latest")
    try:
        c.assign([TopicPartition(ctx.topic, 0, ck.OFFSET_END)])
        early, pos = read_to_end(ctx, c, "position at end")
        ctx.facts["resolved_position"] = pos
        ctx.check(not early and pos == 10, "resolved position", 10, f"{pos} after {len(early)} records")
        produce(ctx, p, [(10, recs[10])])
        got: list[Got] = []
        ctx.step("record 10")
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
                continue
            if m.error():
                raise KafkaException(m.error())
            got.append(to_got(m))
            deadline = deadline or time.monotonic() + 1.0
        compare_records(ctx, "read-back", got, [(10, recs[10])])
    finally:
        c.close()


def consume_timestamp(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)))
    c = consumer(ctx)
    try:
        ctx.step("offsets_for_times")
        found = {}
        for ts in (T0 + 5000, T0 + 5500, T0 + 60000):
            res = c.offsets_for_times([TopicPartition(ctx.topic, 0, ts)], timeout=ctx.remaining(20))[0]
            if res.error is not None:
                fail(f"offsets_for_times({ts})", "no error", res.error.name(), kerr(res.error))
            found[ts] = res.offset
        ctx.facts["offsets_for_times"] = {str(k - T0): v for k, v in found.items()}
        ctx.check(found[T0 + 5000] == 5, "offset for T0+5000", 5, found[T0 + 5000])
        ctx.check(found[T0 + 5500] == 6, "offset for T0+5500", 6, found[T0 + 5500])
        ctx.check(found[T0 + 60000] == ck.OFFSET_END, "offset for T0+60000", "-1 (none)", found[T0 + 60000])
        ctx.facts["none_reported_as"] = found[T0 + 60000]
        c.assign([TopicPartition(ctx.topic, 0, found[T0 + 5000])])
        got = read_to_end(ctx, c, "read-back")[0]
    finally:
        c.close()
    compare_records(ctx, "read-back", got, [(i, recs[i]) for i in range(5, 10)])


def idempotent(ctx: Ctx) -> None:
    p = new_producer(
        ctx, **{"enable.idempotence": True, "acks": "all", "max.in.flight.requests.per.connection": 5, "linger.ms": 5}
    )
    recs = standard_records(ctx.scenario, 3000)
    d = produce(ctx, p, list(enumerate(recs)), partition_of=lambda i: i % 3)
    for part in range(3):
        idx = list(range(part, 3000, 3))
        check_offsets(ctx, d, idx, list(range(1000)))
        got = read(ctx, 0, f"partition {part}", partition=part)
        compare_records(ctx, f"partition {part}", got, [(n, recs[i]) for n, i in enumerate(idx)])
    ctx.skip("producer_id (not exposed by confluent-kafka)")


def _wait(ctx: Ctx, what: str, cond: Callable[[], bool], seconds: float = 10.0) -> bool:
    ctx.step(what)
    deadline = time.monotonic() + min(seconds, ctx.remaining())
    while True:
        if cond():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def _create(ctx: Ctx, a: AdminClient, name: str, partitions: int, config: dict[str, str] | None = None) -> None:
    ctx.step(f"create {name}")
    fut = a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})])[name]
    fut.result(ctx.remaining(30))
    _wait(ctx, f"{name} in metadata", lambda: name in a.list_topics(timeout=5).topics)


def _partitions(a: AdminClient, name: str) -> list[int]:
    t = a.list_topics(topic=name, timeout=5).topics.get(name)
    return sorted(t.partitions) if t is not None and t.error is None else []


def _expect_error(ctx: Ctx, what: str, fn: Callable[[], Any], code: int, name: str) -> str:
    try:
        fn()
    except KafkaException as exc:
        err = exc.args[0]
        ctx.check(err.code() == code, what, f"{name} ({code})", kerr(err))
        return str(err.name())
    fail(what, f"{name} ({code})", "success")
    return ""


def admin_topics(ctx: Ctx) -> None:
    a = admin(ctx)
    name = f"{ctx.prefix}.admin-topics-new"
    _create(ctx, a, name, 3, {"retention.ms": "3600000"})
    ctx.check(name in a.list_topics(timeout=10).topics, "listing after create", name, "absent")
    ctx.step("describe")
    desc = a.describe_topics(ck.TopicCollection([name]))[name].result(ctx.remaining(20))
    ctx.check(len(desc.partitions) == 3, "described partitions", 3, len(desc.partitions))
    ctx.step("create again")
    ctx.facts["create_again"] = _expect_error(
        ctx,
        "create again",
        lambda: a.create_topics([NewTopic(name, 3, 1)])[name].result(ctx.remaining(20)),
        KafkaError.TOPIC_ALREADY_EXISTS,
        "TOPIC_ALREADY_EXISTS",
    )
    ctx.step("delete")
    a.delete_topics([name])[name].result(ctx.remaining(20))
    gone = _wait(ctx, "listing without the topic", lambda: name not in a.list_topics(timeout=5).topics)
    ctx.check(gone, "listing 10 s after delete", "topic absent", "still listed")


def _describe(ctx: Ctx, a: AdminClient, name: str) -> dict[str, ConfigEntry]:
    ctx.step("describe configs")
    res = ConfigResource(ResourceType.TOPIC, name)
    return a.describe_configs([res])[res].result(ctx.remaining(20))  # type: ignore[no-any-return]


def on_new_topic(what: str, fn: Callable[[Ctx, AdminClient, str], None]) -> Callable[[Ctx], None]:
    """The scenario that runs ``fn`` on a new one-partition topic ``PREFIX.<what>``, deleted after."""

    def run(ctx: Ctx) -> None:
        a = admin(ctx)
        name = f"{ctx.prefix}.{what}"
        _create(ctx, a, name, 1)
        try:
            fn(ctx, a, name)
        finally:
            a.delete_topics([name])

    return run


def _admin_configs(ctx: Ctx, a: AdminClient, name: str) -> None:
    e = _describe(ctx, a, name)["retention.ms"]
    src = ConfigSource(e.source).name
    ctx.facts["initial_retention_ms"] = {"value": e.value, "source": src, "is_default": e.is_default}
    ctx.check(e.value == "604800000", "retention.ms", "604800000", e.value)
    ctx.check(src == "DEFAULT_CONFIG", "retention.ms source", "DEFAULT_CONFIG", src)
    ctx.check(e.is_default, "retention.ms is_default", True, e.is_default)
    ctx.step("incremental_alter_configs")
    ops = [
        ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET),
    ]
    res = ConfigResource(ResourceType.TOPIC, name, incremental_configs=ops)
    a.incremental_alter_configs([res])[res].result(ctx.remaining(20))
    ctx.facts["alter_api"] = "IncrementalAlterConfigs"

    def altered() -> bool:
        d = _describe(ctx, a, name)
        return d["retention.ms"].value == "3600000" and d["cleanup.policy"].value == "compact"

    _wait(ctx, "altered configs described", altered, 5.0)
    d = _describe(ctx, a, name)
    r, cp = d["retention.ms"], d["cleanup.policy"]
    ctx.check(r.value == "3600000", "retention.ms after alter", "3600000", r.value)
    src = ConfigSource(r.source).name
    ctx.facts["altered_retention_ms"] = {"value": r.value, "source": src}
    ctx.check(src == "DYNAMIC_TOPIC_CONFIG", "retention.ms source after alter", "DYNAMIC_TOPIC_CONFIG", src)
    ctx.check(cp.value == "compact", "cleanup.policy after alter", "compact", cp.value)


def _admin_partitions(ctx: Ctx, a: AdminClient, name: str) -> None:
    ctx.step("create_partitions to 4")
    a.create_partitions([NewPartitions(name, 4)])[name].result(ctx.remaining(20))
    _wait(ctx, "4 partitions in metadata", lambda: _partitions(a, name) == [0, 1, 2, 3])
    ctx.check(_partitions(a, name) == [0, 1, 2, 3], "partitions after increase", [0, 1, 2, 3], _partitions(a, name))
    ctx.step("create_partitions to 2")
    ctx.facts["decrease_error"] = _expect_error(
        ctx,
        "decrease to 2 partitions",
        lambda: a.create_partitions([NewPartitions(name, 2)])[name].result(ctx.remaining(20)),
        KafkaError.INVALID_PARTITIONS,
        "INVALID_PARTITIONS",
    )


def admin_records(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)))
    a = admin(ctx)
    tp = TopicPartition(ctx.topic, 0)

    def offset(spec: OffsetSpec) -> int:
        ctx.step("list_offsets")
        return int(a.list_offsets({tp: spec})[tp].result(ctx.remaining(20)).offset)

    listed = {
        "earliest": offset(OffsetSpec.earliest()),
        "latest": offset(OffsetSpec.latest()),
        "T0+3000": offset(OffsetSpec.for_timestamp(T0 + 3000)),
    }
    ctx.facts["offsets"] = listed
    ctx.check(listed == {"earliest": 0, "latest": 10, "T0+3000": 3}, "list offsets", {0, 10, 3}, listed)
    ctx.step("delete_records")
    deleted = a.delete_records([TopicPartition(ctx.topic, 0, 4)])
    low = next(iter(deleted.values())).result(ctx.remaining(20)).low_watermark
    ctx.facts["low_watermark"] = low
    ctx.check(low == 4, "low watermark after delete_records", 4, low)
    earliest = offset(OffsetSpec.earliest())
    ctx.check(earliest == 4, "earliest after delete_records", 4, earliest)
    compare_records(ctx, "read-back", read(ctx, ck.OFFSET_BEGINNING), [(i, recs[i]) for i in range(4, 10)])


def restart_produce(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)), topic=f"{ctx.prefix}.restart")
    ctx.facts["produced"] = len(recs)


def restart_consume(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    compare_records(ctx, "read-back", read(ctx, 0, topic=f"{ctx.prefix}.restart"), list(enumerate(recs)))


# --- consumer-group scenarios ------------------------------------------------------------------------------------


def group_offsets(ctx: Ctx) -> None:
    topic = f"{ctx.prefix}.consume-earliest"
    conf = _base(
        ctx,
        **{
            "group.id": ctx.topic,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        },
    )
    c1 = Consumer(conf)
    try:
        c1.assign([TopicPartition(topic, 0)])
        ctx.step(f"watermarks of {topic}")
        end = c1.get_watermark_offsets(TopicPartition(topic, 0), timeout=ctx.remaining(20))[1]
        if end < 8:
            recs = standard_records("consume-earliest", 20)
            produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)), topic=topic)
            end += 20
        ctx.facts["end_offset"] = end
        ctx.step(f"commit offset 7 metadata m7 (group {ctx.topic})")
        res = c1.commit(offsets=[TopicPartition(topic, 0, 7, "m7")], asynchronous=False)
        if res and res[0].error is not None:
            fail("commit offset 7", "success", res[0].error.name(), kerr(res[0].error))
    finally:
        ctx.step("close first consumer")
        c1.close()
    c2 = Consumer(conf)
    try:
        ctx.step("committed() by a new consumer")
        got = c2.committed([TopicPartition(topic, 0)], timeout=ctx.remaining(20))[0]
        ctx.facts["committed"] = f"{got.offset} {got.metadata}"
        if got.error is not None:
            fail("committed offset", "7 m7", got.error.name(), kerr(got.error))
        ctx.check(got.offset == 7, "committed offset", 7, got.offset)
        ctx.check(got.metadata == "m7", "committed metadata", "m7", got.metadata)
        c2.assign([TopicPartition(topic, 0)])  # no offset: resume at the committed one
        ctx.step("a record after the committed offset")
        while (m := c2.poll(ctx.remaining(1.0))) is None:
            pass
        if m.error():
            raise KafkaException(m.error())
        ctx.facts["resumed_at"] = m.offset()
        ctx.check(m.offset() == 7, "first offset read after resume", 7, m.offset())
        ctx.check(m.key() == b"k7", "key at offset 7", b"k7", m.key())
    finally:
        c2.close()


#: Consumer errors that end a member (the others are counted in ``facts.consumer_errors``).
_FATAL_CONSUMER_ERRORS = frozenset({KafkaError._UNSUPPORTED_FEATURE, KafkaError.UNSUPPORTED_VERSION})


def _member(ctx: Ctx, mode: str, instance_id: str | None = None) -> Callable[[Member], None]:
    """A group member's consumer loop; ``mode`` is ``eager``, ``cooperative`` or ``consumer`` (KIP-848)."""
    conf: dict[str, Any] = {
        "group.id": ctx.topic,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    }
    if mode == "consumer":
        conf["group.protocol"] = "consumer"  # session, heartbeat and assignor are the broker's
    else:
        conf.update({"session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        if mode == "cooperative":
            conf["partition.assignment.strategy"] = "cooperative-sticky"
    if instance_id is not None:
        conf.update({"group.instance.id": instance_id, "session.timeout.ms": 30000, "heartbeat.interval.ms": 1000})
    incremental = mode != "eager"

    def run(m: Member) -> None:
        c = Consumer(_base(ctx, **conf, **{"client.id": f"conformance-confluent-{m.name}"}))

        def on_assign(c: Consumer, parts: list[TopicPartition]) -> None:
            m.assigned(tp.partition for tp in parts)
            if incremental:
                c.incremental_assign(parts)
            else:
                c.assign(parts)

        def release(kind: str) -> Callable[[Consumer, list[TopicPartition]], None]:
            def cb(c: Consumer, parts: list[TopicPartition]) -> None:
                if incremental:
                    c.incremental_unassign(parts)
                else:
                    c.unassign()
                m.released(kind, (tp.partition for tp in parts))

            return cb

        try:
            c.subscribe([ctx.topic], on_assign=on_assign, on_revoke=release("revoked"), on_lost=release("lost"))
            while not m.stop.is_set():
                offsets: dict[int, int] = {}
                for msg in c.consume(500, 0.1):
                    err = msg.error()
                    if err is None:
                        offsets[msg.partition()] = msg.offset() + 1
                        m.consumed([(msg.partition(), msg.offset())])
                    elif err.fatal() or err.code() in _FATAL_CONSUMER_ERRORS:
                        raise KafkaException(err)
                    else:
                        m.error(err.name())
                if offsets:
                    _commit(c, m, ctx.topic, offsets)
        finally:
            c.close()

    return run


def _commit(c: Consumer, m: Member, topic: str, offsets: dict[int, int]) -> None:
    """Commit ``{partition: offset}`` synchronously; record what succeeded and what failed."""
    try:
        res = c.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    except KafkaException as exc:
        err = exc.args[0]
        m.commit_failed(err.name() if isinstance(err, KafkaError) else type(exc).__name__)
        return
    done = {tp.partition: tp.offset for tp in res or () if tp.error is None}
    for tp in res or ():
        if tp.error is not None:
            m.commit_failed(tp.error.name())
    if done:
        m.commit_ok(done)


def _paced_producer(ctx: Ctx) -> Callable[[Group], list[Key]]:
    def run(g: Group) -> list[Key]:
        p = new_producer(ctx, acks="all", **{"linger.ms": 5})
        recs = [(i, standard_record(ctx.scenario, i)) for i in range(RECORDS)]
        d = produce(ctx, p, recs, partition_of=lambda i: i % PARTITIONS, pace=g.wait_due)
        return [d.reports[i][1:] for i in range(RECORDS)]

    return run


def group_rebalance(mode: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        run_rebalance(ctx, _member(ctx, mode), _paced_producer(ctx), cooperative=mode == "cooperative")

    run.__name__ = f"group_{mode}"
    return run


def group_static(ctx: Ctx) -> None:
    p = new_producer(ctx, acks="all")

    def batch(start: int, stop: int) -> list[Key]:
        recs = [(i, standard_record(ctx.scenario, i)) for i in range(start, stop)]
        d = produce(ctx, p, recs, partition_of=lambda i: i % 4)
        return [d.reports[i][1:] for i in range(start, stop)]

    # librdkafka sends no LeaveGroup on close for a static member (KIP-345), so A is closed normally.
    run_static(ctx, lambda instance_id: _member(ctx, "eager", instance_id), batch)


# --- security (SCENARIOS.md, "Security scenarios") ----------------------------------------------------------------

def secured_conf(ctx: Ctx, protocol: str, mechanism: str | None = None, user: str | None = None,
                 password: str | None = None) -> dict[str, Any]:
    """Client settings for the ``protocol`` listener of the ``--security`` file (the mechanism's user by default).

    OAUTHBEARER: librdkafka's own unsecured JWT for the user (``sasl.oauthbearer.config``), or with ``password``
    that token as is (``oauth_cb``; its client-side lifetime is in the future even for an expired token, as
    librdkafka refuses to hand on a token it knows to be expired)."""
    sec = ctx.secured()
    conf: dict[str, Any] = {"bootstrap.servers": sec[protocol.lower()], "security.protocol": protocol}
    if protocol.endswith("SSL"):
        # Verify the server's certificate chain against the CA and its name (IP SAN) against the address.
        conf.update({"ssl.ca.location": sec["ca_file"], "enable.ssl.certificate.verification": True,
                     "ssl.endpoint.identification.algorithm": "https"})
    if mechanism == "OAUTHBEARER":
        conf["sasl.mechanism"] = mechanism
        if password is None:
            principal = user or sec["users"][mechanism]["username"]
            conf.update({"enable.sasl.oauthbearer.unsecure.jwt": True,
                         "sasl.oauthbearer.config": f"principal={principal}"})
        else:
            conf["oauth_cb"] = lambda _config, token=password: (token, time.time() + 300)
    elif mechanism is not None:
        u = sec["users"][mechanism]
        conf.update({"sasl.mechanism": mechanism, "sasl.username": user or u["username"],
                     "sasl.password": password if password is not None else u["password"]})
    return conf


def secured_roundtrip(ctx: Ctx, protocol: str, mechanism: str | None, n: int, partition: int, label: str) -> None:
    """Produce standard records 0..n-1 to ``partition`` of T(s) over the secured listener and read them back."""
    ctx.conn = secured_conf(ctx, protocol, mechanism)
    try:
        recs = [(i, standard_record(ctx.scenario, i)) for i in range(n)]
        p = new_producer(ctx, acks="all", **{"linger.ms": 5, "message.timeout.ms": 15000})
        d = produce(ctx, p, recs, partition_of=lambda i: partition)
        check_offsets(ctx, d, list(range(n)), list(range(n)))
        got = read(ctx, 0, label, partition=partition)
        compare_records(ctx, label, got, recs)
    finally:
        ctx.conn = {}


def login_error(conf: dict[str, Any], seconds: float) -> list[KafkaError]:
    """The errors a client reports while it tries to log in (until an authentication error or ``seconds``)."""
    seen: list[KafkaError] = []
    a = AdminClient({**conf, "logger": _LOG, "error_cb": seen.append})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(e.code() == KafkaError._AUTHENTICATION for e in seen):
        a.poll(0.1)
    return seen


def security_auth_failure(ctx: Ctx) -> None:
    af = AuthFailure(ctx, MECHANISMS)
    for mech in af.mechanisms:
        for what, user, password in af.attempts(mech):
            seen = login_error(secured_conf(ctx, "SASL_PLAINTEXT", mech, user, password), ctx.remaining(10))
            auth = [e for e in seen if e.code() == KafkaError._AUTHENTICATION]
            if not auth:
                fail(f"{mech} {what}", "_AUTHENTICATION", [kerr(e) for e in seen] or "no error in 10 s")
            msg = re.sub(r" \(after \d+ms in state \w+\)", "", auth[0].str()).split("SASL authentication error: ")[-1]
            af.refused[f"{mech} {what}"] = f"{auth[0].name()}: {msg}"
        md = AdminClient({**secured_conf(ctx, "SASL_PLAINTEXT", mech), "logger": _LOG}).list_topics(
            timeout=ctx.remaining(10)
        )
        af.listed(mech, md.topics)
    af.done()
    ctx.skip("SASL_AUTHENTICATION_FAILED (58): librdkafka reports _AUTHENTICATION (-169) with the broker's message")


SCENARIOS: dict[str, Callable[[Ctx], None]] = {
    "connect": connect,
    "metadata": metadata,
    **{f"roundtrip-{c}": roundtrip(c) for c in ("none", "gzip", "snappy", "lz4", "zstd")},
    "max-message-bytes": max_message_bytes,
    **{f"acks-{n}": acks(n) for n in ("0", "1", "all")},
    "consume-earliest": consume_earliest,
    "consume-latest": consume_latest,
    "consume-timestamp": consume_timestamp,
    "idempotent": idempotent,
    "admin-topics": admin_topics,
    "admin-configs": on_new_topic("admin-configs-new", _admin_configs),
    "admin-partitions": on_new_topic("admin-partitions-new", _admin_partitions),
    "admin-records": admin_records,
    "restart-produce": restart_produce,
    "restart-consume": restart_consume,
    "group-offsets": group_offsets,
    "group-rebalance": group_rebalance("eager"),
    "group-cooperative": group_rebalance("cooperative"),
    "group-consumer-protocol": group_rebalance("consumer"),
    "group-static": group_static,
    **security_scenarios(secured_roundtrip, MECHANISMS),
    "security-auth-failure": security_auth_failure,
}

if __name__ == "__main__":
    sys.exit(main("confluent-kafka", version, SCENARIOS, describe_error))
