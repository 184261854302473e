"""Conformance driver for kafka-python: ``python kafka_python_driver.py --bootstrap H:P --prefix P --scenarios a,b``.

kafka-python's snappy codec needs ``python-snappy`` (pinned in the ``conformance`` extra).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka
import kafka.errors as Errors
from common import (
    MECHANISMS,
    T0,
    Ctx,
    Got,
    Record,
    Unsupported,
    check_offsets,
    check_offsets_for_times,
    compare_records,
    fail,
    kafka_python_sasl,
    main,
    security_scenarios,
    standard_record,
    standard_records,
    to_got,
)
from groups import PARTITIONS, RECORDS, Group, Key, Member, MemberListener, run_rebalance, run_static
from kafka import (
    ConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
    OffsetAndMetadata,
    TopicPartition,
)
from kafka.admin import ConfigResource, ConfigResourceType, OffsetSpec
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.net.sasl.oauth import AbstractTokenProvider


def version() -> str:
    """``kafka-python X``."""
    return f"kafka-python {kafka.__version__}"


def describe_error(exc: BaseException) -> str:
    """``ErrorClass (NAME, code N): message`` for Kafka errors, else class and text."""
    errno = getattr(exc, "errno", None)
    if isinstance(exc, Errors.KafkaError) and errno is not None:
        return f"{type(exc).__name__} ({getattr(exc, 'message', '')}, code {errno}): {exc}"
    return f"{type(exc).__name__}: {exc}"


def new_producer(ctx: Ctx, **conf: Any) -> KafkaProducer:
    return KafkaProducer(
        **{"bootstrap_servers": ctx.bootstrap, "client_id": "conformance-kafka-python", **ctx.conn, **conf}
    )


def new_consumer(ctx: Ctx, reset: str = "earliest") -> KafkaConsumer:
    return KafkaConsumer(
        **{
            "bootstrap_servers": ctx.bootstrap,
            "client_id": "conformance-kafka-python",
            "group_id": None,
            "enable_auto_commit": False,
            "auto_offset_reset": reset,
            **ctx.conn,
        }
    )


def new_admin(ctx: Ctx) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=ctx.bootstrap, client_id="conformance-kafka-python")


def produce(
    ctx: Ctx,
    producer: KafkaProducer,
    records: list[tuple[int, Record]],
    partition_of: Callable[[int], int] = lambda i: 0,
    topic: str | None = None,
    pace: Callable[[int], None] | None = None,
) -> dict[int, Any]:
    """Send records ``(i, record)``, flush, return each record's RecordMetadata (raises the first send error).

    ``pace(i)``, if given, is called before record ``i`` is sent (to produce at a given rate).
    """
    futures = {}
    for i, r in records:
        if pace is not None:
            pace(i)
        futures[i] = producer.send(
            topic or ctx.topic,
            key=r.key,
            value=r.value,
            headers=list(r.headers),
            partition=partition_of(i),
            timestamp_ms=r.timestamp,
        )
    ctx.step(f"delivery of {len(records)} records")
    producer.flush(ctx.remaining())
    out = {}
    for i, f in futures.items():
        try:
            out[i] = f.get(ctx.remaining())
        except Errors.KafkaError as exc:
            fail(f"delivery of record {i}", "success", type(exc).__name__, describe_error(exc))
    return out


def poll_to(ctx: Ctx, c: KafkaConsumer, tp: TopicPartition, end: int, label: str) -> list[Got]:
    """Poll an assigned consumer until its position reaches ``end``."""
    out: list[Got] = []
    ctx.step(f"{label}: records up to offset {end}")
    while c.position(tp, timeout_ms=ctx.remaining() * 1000) < end:
        for recs in c.poll(timeout_ms=int(ctx.remaining(1.0) * 1000)).values():
            out.extend(to_got(r) for r in recs)
    return out


def read(ctx: Ctx, start: int | None, label: str = "read-back", topic: str | None = None, part: int = 0) -> list[Got]:
    """Read a partition from ``start`` (None: the earliest offset) to its current end."""
    c = new_consumer(ctx)
    try:
        tp = TopicPartition(topic or ctx.topic, part)
        c.assign([tp])
        if start is None:
            c.seek_to_beginning(tp)
        else:
            c.seek(tp, start)
        end = c.end_offsets([tp])[tp]
        return poll_to(ctx, c, tp, end, label)
    finally:
        c.close()


# --- scenarios ---------------------------------------------------------------------------------------------------


def connect(ctx: Ctx) -> None:
    a = new_admin(ctx)
    try:
        ctx.step("describe_cluster")
        cl = a.describe_cluster()
        brokers = [(b["broker_id"], b["host"], b["port"]) for b in cl["brokers"]]
        ctx.facts.update(cluster_id=cl.get("cluster_id"), controller_id=cl.get("controller_id"), brokers=brokers)
        # kafka-python infers the broker's release from its ApiVersions response
        ctx.facts["inferred_broker_version"] = ".".join(map(str, a._manager.broker_version))
        ctx.check(len(brokers) == 1, "broker count", 1, len(brokers))
        bid, host, port = brokers[0]
        ctx.facts["broker_id"] = bid
        ctx.check((host, port) == (ctx.host, ctx.port), "broker address", f"{ctx.host}:{ctx.port}", f"{host}:{port}")
        ctx.check(bid >= 0, "broker id >= 0", ">= 0", bid)
    finally:
        a.close()


def metadata(ctx: Ctx) -> None:
    a = new_admin(ctx)
    try:
        ctx.step("describe_cluster")
        bid = a.describe_cluster()["brokers"][0]["broker_id"]
        ctx.step("describe_topics")
        (t,) = a.describe_topics([ctx.topic])
        if t["error_code"]:
            err = Errors.for_code(t["error_code"])
            fail("topic metadata error", "none", err.__name__, f"code {t['error_code']}")
        parts = {p["partition_index"]: p for p in t["partitions"]}
        ctx.check(set(parts) == {0, 1, 2}, "partitions", [0, 1, 2], sorted(parts))
        for n in sorted(parts):
            p = parts[n]
            got = (p["leader_id"], list(p["replica_nodes"]), list(p["isr_nodes"]))
            ctx.check(got == (bid, [bid], [bid]), f"partition {n} leader/replicas/isr", (bid, [bid], [bid]), got)
        ctx.step("list_topics")
        ctx.check(ctx.topic in a.list_topics(), "topic listing contains the topic", ctx.topic, "absent")
    finally:
        a.close()


def roundtrip(codec: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        p = new_producer(ctx, compression_type=None if codec == "none" else codec, acks="all", linger_ms=10)
        try:
            recs = standard_records(ctx.scenario, 200)
            meta = produce(ctx, p, list(enumerate(recs)))
            check_offsets(meta, list(range(200)), list(range(200)))
            ctx.facts["produced"] = 200
        finally:
            p.close()
        compare_records(ctx, "read-back", read(ctx, 0), list(enumerate(recs)))

    return run


def max_message_bytes(ctx: Ctx) -> None:
    p = new_producer(ctx, acks="all", enable_idempotence=False)
    try:
        ctx.step("delivery of record A")
        try:
            m = p.send(ctx.topic, key=b"a", value=b"a" * 60_000, partition=0).get(ctx.remaining())
        except Errors.KafkaError as exc:
            fail("record A", "acknowledged", type(exc).__name__, describe_error(exc))
        ctx.check(m.offset == 0, "record A offset", 0, m.offset)
        ctx.step("delivery of record B")
        try:
            m = p.send(ctx.topic, key=b"b", value=b"b" * 70_000, partition=0).get(ctx.remaining())
            fail("record B", "MessageSizeTooLargeError (10)", f"acknowledged at offset {m.offset}")
        except Errors.KafkaError as exc:
            ctx.facts["error"] = type(exc).__name__
            ok = isinstance(exc, Errors.MessageSizeTooLargeError) and getattr(exc, "errno", None) == 10
            ctx.check(ok, "record B error", "MessageSizeTooLargeError (10)", describe_error(exc))
    finally:
        p.close()
    got = read(ctx, 0)
    ctx.check(len(got) == 1, "read-back count", 1, len(got))
    ctx.check((got[0].offset, got[0].key, len(got[0].value or b"")) == (0, b"a", 60_000), "read-back", "A", got[0])


def acks(level: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        conf: dict[str, Any] = {"acks": "all" if level == "all" else int(level)}
        if level != "all":
            conf["enable_idempotence"] = False
        p = new_producer(ctx, **conf)
        try:
            recs = standard_records(ctx.scenario, 100)
            produce(ctx, p, list(enumerate(recs)))
        finally:
            p.close()
        compare_records(ctx, "read-back", read(ctx, 0), list(enumerate(recs)))

    return run


def _produce_closed(ctx: Ctx, recs: list[Record], topic: str | None = None) -> None:
    p = new_producer(ctx, acks="all")
    try:
        produce(ctx, p, list(enumerate(recs)), topic=topic)
    finally:
        p.close()


def consume_earliest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 20)
    _produce_closed(ctx, recs)
    c = new_consumer(ctx, reset="earliest")
    try:
        tp = TopicPartition(ctx.topic, 0)
        c.assign([tp])  # no seek: the position comes from auto_offset_reset
        got = poll_to(ctx, c, tp, 20, "read-back")
    finally:
        c.close()
    compare_records(ctx, "read-back", got, list(enumerate(recs)))


def consume_latest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 11)
    p = new_producer(ctx, acks="all")
    c = new_consumer(ctx, reset="latest")
    try:
        produce(ctx, p, list(enumerate(recs[:10])))
        tp = TopicPartition(ctx.topic, 0)
        c.assign([tp])
        ctx.step("position")
        pos = c.position(tp, timeout_ms=ctx.remaining() * 1000)
        ctx.facts["resolved_position"] = pos
        ctx.check(pos == 10, "resolved position", 10, pos)
        produce(ctx, p, [(10, recs[10])])
        got: list[Got] = []
        ctx.step("record 10")
        deadline: float | None = None
        while deadline is None or time.monotonic() < deadline:
            for rs in c.poll(timeout_ms=200).values():
                got.extend(to_got(r) for r in rs)
            if got and deadline is None:
                deadline = time.monotonic() + 1.0
        compare_records(ctx, "read-back", got, [(10, recs[10])])
    finally:
        c.close()
        p.close()


def consume_timestamp(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    _produce_closed(ctx, recs)
    c = new_consumer(ctx)
    try:
        tp = TopicPartition(ctx.topic, 0)
        found: dict[int, Any] = {}
        ctx.step("offsets_for_times")
        for ts in (T0 + 5000, T0 + 5500, T0 + 60000):
            found[ts] = c.offsets_for_times({tp: ts}, timeout_ms=ctx.remaining() * 1000)[tp]
        check_offsets_for_times(ctx, found)
        c.assign([tp])
        c.seek(tp, 5)
        got = poll_to(ctx, c, tp, 10, "read-back")
    finally:
        c.close()
    compare_records(ctx, "read-back", got, [(i, recs[i]) for i in range(5, 10)])


def idempotent(ctx: Ctx) -> None:
    p = new_producer(ctx, enable_idempotence=True, acks="all", max_in_flight_requests_per_connection=5, linger_ms=5)
    recs = standard_records(ctx.scenario, 3000)
    try:
        meta = produce(ctx, p, list(enumerate(recs)), partition_of=lambda i: i % 3)
        tm = p._transaction_manager
        if tm is not None:
            ctx.facts["producer_id"] = tm.producer_id_and_epoch.producer_id
    finally:
        p.close()
    for part in range(3):
        idx = list(range(part, 3000, 3))
        check_offsets(meta, idx, list(range(1000)))
        got = read(ctx, 0, f"partition {part}", part=part)
        compare_records(ctx, f"partition {part}", got, [(n, recs[i]) for n, i in enumerate(idx)])


def _wait(ctx: Ctx, what: str, cond: Callable[[], bool], seconds: float = 10.0) -> bool:
    ctx.step(what)
    deadline = time.monotonic() + min(seconds, ctx.remaining())
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _create(ctx: Ctx, a: KafkaAdminClient, name: str, partitions: int, configs: dict[str, str] | None = None) -> None:
    ctx.step(f"create {name}")
    a.create_topics({name: {"num_partitions": partitions, "replication_factor": 1, "configs": configs or {}}})
    _wait(ctx, f"{name} in metadata", lambda: name in a.list_topics())


def _partitions(a: KafkaAdminClient, name: str) -> list[int]:
    (t,) = a.describe_topics([name])
    return sorted(p["partition_index"] for p in t["partitions"]) if not t["error_code"] else []


def _expect_error(ctx: Ctx, what: str, fn: Callable[[], Any], err: type[Errors.KafkaError]) -> str:
    expected = f"{err.__name__} ({err.errno})"  # type: ignore[attr-defined]
    try:
        fn()
    except Errors.KafkaError as exc:
        ctx.check(isinstance(exc, err), what, expected, describe_error(exc))
        return type(exc).__name__
    fail(what, expected, "success")
    return ""


def admin_topics(ctx: Ctx) -> None:
    a = new_admin(ctx)
    name = f"{ctx.prefix}.admin-topics-new"
    try:
        _create(ctx, a, name, 3, {"retention.ms": "3600000"})
        ctx.check(name in a.list_topics(), "listing after create", name, "absent")
        ctx.step("describe_topics")
        ctx.check(_partitions(a, name) == [0, 1, 2], "described partitions", [0, 1, 2], _partitions(a, name))
        ctx.step("create again")
        spec = {name: {"num_partitions": 3, "replication_factor": 1}}
        ctx.facts["create_again"] = _expect_error(
            ctx, "create again", lambda: a.create_topics(spec), Errors.TopicAlreadyExistsError
        )
        ctx.step("delete_topics")
        a.delete_topics([name])
        gone = _wait(ctx, "listing without the topic", lambda: name not in a.list_topics())
        ctx.check(gone, "listing 10 s after delete", "topic absent", "still listed")
    finally:
        a.close()


def _configs(ctx: Ctx, a: KafkaAdminClient, name: str) -> dict[str, dict[str, Any]]:
    ctx.step("describe_configs")
    res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)], config_filter="all")
    return res["topic"][name]  # type: ignore[no-any-return]


def admin_configs(ctx: Ctx) -> None:
    a = new_admin(ctx)
    name = f"{ctx.prefix}.admin-configs-new"
    try:
        _create(ctx, a, name, 1)
        try:
            r = _configs(ctx, a, name)["retention.ms"]
            ctx.facts["initial_retention_ms"] = {"value": r["value"], "source": r["config_source"]}
            ctx.check(r["value"] == "604800000", "retention.ms", "604800000", r["value"])
            src = r["config_source"]
            ctx.check(src == "DEFAULT_CONFIG", "retention.ms source", "DEFAULT_CONFIG", src)
            ctx.step("alter_configs (incremental)")
            new = {"retention.ms": "3600000", "cleanup.policy": "compact"}
            res = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=new)], incremental=True)
            ctx.facts["alter_api"] = "IncrementalAlterConfigs"
            outcome = res["topic"][name]
            ctx.check(outcome == "OK", "alter_configs result", "OK", outcome)

            def altered() -> bool:
                d = _configs(ctx, a, name)
                return d["retention.ms"]["value"] == "3600000" and d["cleanup.policy"]["value"] == "compact"

            _wait(ctx, "altered configs described", altered, 5.0)
            d = _configs(ctx, a, name)
            r, cp = d["retention.ms"], d["cleanup.policy"]
            ctx.facts["altered_retention_ms"] = {"value": r["value"], "source": r["config_source"]}
            ctx.check(r["value"] == "3600000", "retention.ms after alter", "3600000", r["value"])
            src = r["config_source"]
            ctx.check(src == "DYNAMIC_TOPIC_CONFIG", "retention.ms source after alter", "DYNAMIC_TOPIC_CONFIG", src)
            ctx.check(cp["value"] == "compact", "cleanup.policy after alter", "compact", cp["value"])
        finally:
            a.delete_topics([name], raise_errors=False)
    finally:
        a.close()


def admin_partitions(ctx: Ctx) -> None:
    a = new_admin(ctx)
    name = f"{ctx.prefix}.admin-partitions-new"
    try:
        _create(ctx, a, name, 1)
        try:
            ctx.step("create_partitions to 4")
            a.create_partitions({name: 4})
            _wait(ctx, "4 partitions in metadata", lambda: _partitions(a, name) == [0, 1, 2, 3])
            parts = _partitions(a, name)
            ctx.check(parts == [0, 1, 2, 3], "partitions after increase", [0, 1, 2, 3], parts)
            ctx.step("create_partitions to 2")
            ctx.facts["decrease_error"] = _expect_error(
                ctx, "decrease to 2 partitions", lambda: a.create_partitions({name: 2}), Errors.InvalidPartitionsError
            )
        finally:
            a.delete_topics([name], raise_errors=False)
    finally:
        a.close()


def admin_records(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    _produce_closed(ctx, recs)
    a = new_admin(ctx)
    tp = TopicPartition(ctx.topic, 0)
    try:

        def offset(spec: Any) -> int:
            ctx.step("list_partition_offsets")
            return int(a.list_partition_offsets({tp: spec})[tp].offset)

        listed = {
            "earliest": offset(OffsetSpec.EARLIEST),
            "latest": offset(OffsetSpec.LATEST),
            "T0+3000": offset(T0 + 3000),
        }
        ctx.facts["offsets"] = listed
        ctx.check(listed == {"earliest": 0, "latest": 10, "T0+3000": 3}, "list offsets", [0, 10, 3], listed)
        ctx.step("delete_records")
        low = a.delete_records({tp: 4})[tp]["low_watermark"]
        ctx.facts["low_watermark"] = low
        ctx.check(low == 4, "low watermark after delete_records", 4, low)
        earliest = offset(OffsetSpec.EARLIEST)
        ctx.check(earliest == 4, "earliest after delete_records", 4, earliest)
    finally:
        a.close()
    compare_records(ctx, "read-back", read(ctx, None), [(i, recs[i]) for i in range(4, 10)])


def restart_produce(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    _produce_closed(ctx, recs, topic=f"{ctx.prefix}.restart")
    ctx.facts["produced"] = len(recs)


def restart_consume(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    compare_records(ctx, "read-back", read(ctx, 0, topic=f"{ctx.prefix}.restart"), list(enumerate(recs)))


# --- consumer-group scenarios ------------------------------------------------------------------------------------


def error_name(exc: BaseException) -> str:
    """The Kafka error name (``ILLEGAL_GENERATION``) of a broker error, else the exception's class name."""
    if isinstance(exc, Errors.BrokerResponseError) and getattr(exc, "message", None):
        return str(exc.message)
    return type(exc).__name__


def group_consumer(ctx: Ctx, **conf: Any) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=ctx.bootstrap,
        client_id="conformance-kafka-python",
        group_id=ctx.topic,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **conf,
    )


def group_offsets(ctx: Ctx) -> None:
    topic = f"{ctx.prefix}.consume-earliest"
    tp = TopicPartition(topic, 0)
    c1 = group_consumer(ctx)
    try:
        c1.assign([tp])
        ctx.step(f"end offset of {topic}")
        end = c1.end_offsets([tp])[tp]
        if end < 8:
            recs = standard_records("consume-earliest", 20)
            produce(ctx, new_producer(ctx, acks="all"), list(enumerate(recs)), topic=topic)
            end += 20
        ctx.facts["end_offset"] = end
        ctx.step(f"commit offset 7 metadata m7 (group {ctx.topic})")
        c1.commit({tp: OffsetAndMetadata(7, "m7", -1)}, timeout_ms=int(ctx.remaining(20) * 1000))
    finally:
        ctx.step("close first consumer")
        c1.close(autocommit=False)
    c2 = group_consumer(ctx)
    try:
        ctx.step("committed() by a new consumer")
        got = c2.committed(tp, metadata=True, timeout_ms=int(ctx.remaining(20) * 1000))
        ctx.facts["committed"] = None if got is None else f"{got.offset} {got.metadata}"
        ctx.check(got is not None, "committed offset", "7 m7", None)
        ctx.check(got.offset == 7, "committed offset", 7, got.offset)
        ctx.check(got.metadata == "m7", "committed metadata", "m7", got.metadata)
        c2.assign([tp])  # no position: resume at the committed offset
        ctx.step("a record after the committed offset")
        while not (recs := c2.poll(timeout_ms=int(ctx.remaining(1.0) * 1000)).get(tp)):
            pass
        ctx.facts["resumed_at"] = recs[0].offset
        ctx.check(recs[0].offset == 7, "first offset read after resume", 7, recs[0].offset)
        ctx.check(recs[0].key == b"k7", "key at offset 7", b"k7", recs[0].key)
    finally:
        c2.close(autocommit=False)


class _Listener(MemberListener, ConsumerRebalanceListener):
    """Reports the rebalance callbacks to the member's log."""

    def on_partitions_lost(self, lost: list[TopicPartition]) -> None:
        self.m.released("lost", (tp.partition for tp in lost))


def _member(ctx: Ctx, mode: str, instance_id: str | None = None) -> Callable[[Member], None]:
    """A group member's consumer loop; ``mode`` is ``eager`` or ``cooperative``."""
    conf: dict[str, Any] = {"session_timeout_ms": 10000, "heartbeat_interval_ms": 500}
    if mode == "cooperative":
        conf["partition_assignment_strategy"] = (CooperativeStickyAssignor,)
    if instance_id is not None:
        conf.update(group_instance_id=instance_id, session_timeout_ms=30000, heartbeat_interval_ms=1000)

    def run(m: Member) -> None:
        c = group_consumer(ctx, **conf)
        try:
            # Know the topic's partitions before the first JoinGroup: kafka-python 3.0.12 otherwise joins with no
            # metadata, assigns nothing, and rejoins when the metadata arrives; if the poll that started that rejoin
            # times out before the SyncGroup response, the completed join is never applied (need_rejoin() is False
            # again) and the leader stays unassigned without heartbeats until it closes.
            c.partitions_for_topic(ctx.topic)
            c.subscribe([ctx.topic], listener=_Listener(m))
            while not m.stop.is_set():
                batch = c.poll(timeout_ms=100, max_records=500)
                offsets = {}
                for tp, recs in batch.items():
                    m.consumed((r.partition, r.offset) for r in recs)
                    offsets[tp] = OffsetAndMetadata(recs[-1].offset + 1, "", -1)
                if not offsets:
                    continue
                try:
                    c.commit(offsets)
                except Errors.KafkaError as exc:
                    m.commit_failed(error_name(exc))
                else:
                    m.commit_ok({tp.partition: om.offset for tp, om in offsets.items()})
        finally:
            c.close(autocommit=False)

    return run


def _paced_producer(ctx: Ctx) -> Callable[[Group], list[Key]]:
    def run(g: Group) -> list[Key]:
        p = new_producer(ctx, acks="all", linger_ms=5)
        try:
            recs = [(i, standard_record(ctx.scenario, i)) for i in range(RECORDS)]
            meta = produce(ctx, p, recs, partition_of=lambda i: i % PARTITIONS, pace=g.wait_due)
            return [(meta[i].partition, meta[i].offset) for i in range(RECORDS)]
        finally:
            p.close()

    return run


def group_rebalance(mode: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        run_rebalance(ctx, _member(ctx, mode), _paced_producer(ctx), cooperative=mode == "cooperative")

    run.__name__ = f"group_{mode}"
    return run


def group_consumer_protocol(ctx: Ctx) -> None:
    raise Unsupported(
        f"{version()} has no KIP-848 consumer protocol (no group_protocol option; its coordinator speaks only "
        "JoinGroup/SyncGroup/Heartbeat, never ConsumerGroupHeartbeat)"
    )


def group_static(ctx: Ctx) -> None:
    p = new_producer(ctx, acks="all")

    def batch(start: int, stop: int) -> list[Key]:
        recs = [(i, standard_record(ctx.scenario, i)) for i in range(start, stop)]
        meta = produce(ctx, p, recs, partition_of=lambda i: i % 4)
        return [(meta[i].partition, meta[i].offset) for i in range(start, stop)]

    try:
        # kafka-python sends no LeaveGroup on close for a static member (KIP-345), so A is closed normally.
        run_static(ctx, lambda instance_id: _member(ctx, "eager", instance_id), batch)
    finally:
        p.close()


# --- security (SCENARIOS.md, "Security scenarios") ----------------------------------------------------------------

def secured_conf(ctx: Ctx, protocol: str, mechanism: str | None = None) -> dict[str, Any]:
    """Client settings for the ``protocol`` listener of the ``--security`` file, as the mechanism's user."""
    sec = ctx.secured()
    conf: dict[str, Any] = {"bootstrap_servers": sec[protocol.lower()], "security_protocol": protocol}
    if protocol.endswith("SSL"):
        conf.update(ssl_cafile=sec["ca_file"], ssl_check_hostname=True)  # chain and IP SAN verified
    if mechanism is not None:
        conf.update(kafka_python_sasl(sec, mechanism, FixedToken))
    return conf


class FixedToken(AbstractTokenProvider):
    """An OAUTHBEARER token provider handing out one token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token


def secured_roundtrip(ctx: Ctx, protocol: str, mechanism: str | None, n: int, partition: int, label: str) -> None:
    ctx.conn = secured_conf(ctx, protocol, mechanism)
    try:
        recs = list(enumerate(standard_records(ctx.scenario, n)))
        p = new_producer(ctx, acks="all", linger_ms=5)
        try:
            meta = produce(ctx, p, recs, partition_of=lambda i: partition)
            check_offsets(meta, list(range(n)), list(range(n)))
        finally:
            p.close()
        compare_records(ctx, label, read(ctx, 0, label, part=partition), recs)
    finally:
        ctx.conn = {}


def security_auth_failure(ctx: Ctx) -> None:
    # Measured with kafka-python 3.0: a refused login during bootstrap surfaces only as KafkaTimeoutError("Unable to
    # bootstrap from ...") after the 30 s bootstrap timeout; SaslAuthenticationFailedError stays inside the client.
    raise Unsupported(
        "kafka-python does not report a refused SASL login to the application during bootstrap"
        " (KafkaTimeoutError 'Unable to bootstrap' after 30 s, no SaslAuthenticationFailedError)"
    )


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
    "admin-configs": admin_configs,
    "admin-partitions": admin_partitions,
    "admin-records": admin_records,
    "restart-produce": restart_produce,
    "restart-consume": restart_consume,
    "group-offsets": group_offsets,
    "group-rebalance": group_rebalance("eager"),
    "group-cooperative": group_rebalance("cooperative"),
    "group-consumer-protocol": group_consumer_protocol,
    "group-static": group_static,
    **security_scenarios(secured_roundtrip, MECHANISMS),
    "security-auth-failure": security_auth_failure,
}

if __name__ == "__main__":
    sys.exit(main("kafka-python", version, SCENARIOS, describe_error))
