"""Conformance driver for aiokafka: ``python aiokafka_driver.py --bootstrap H:P --prefix P --scenarios a,b``.

aiokafka's admin client has no IncrementalAlterConfigs and no ListOffsets call: admin-configs uses the legacy
AlterConfigs, admin-records lists offsets with the consumer's beginning/end_offsets and offsets_for_times.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiokafka
import aiokafka.errors as Errors
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.abc import AbstractTokenProvider
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (
    MECHANISMS,
    T0,
    AuthFailure,
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
    sasl_mechanisms,
    standard_record,
    standard_records,
    to_got,
)
from groups import PARTITIONS, RECORDS, Group, Key, Member, MemberListener, run_rebalance, run_static

CLIENT_ID = "conformance-aiokafka"

#: DescribeConfigs ConfigSource codes (KIP-226).
CONFIG_SOURCES = {
    0: "UNKNOWN",
    1: "DYNAMIC_TOPIC_CONFIG",
    2: "DYNAMIC_BROKER_CONFIG",
    3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
    4: "STATIC_BROKER_CONFIG",
    5: "DEFAULT_CONFIG",
    6: "DYNAMIC_BROKER_LOGGER_CONFIG",
}


def version() -> str:
    """``aiokafka X``."""
    return f"aiokafka {aiokafka.__version__}"


def describe_error(exc: BaseException) -> str:
    """``ErrorClass (code N): message`` for Kafka errors, else class and text."""
    errno = getattr(exc, "errno", None)
    if isinstance(exc, Errors.KafkaError) and errno is not None:
        return f"{type(exc).__name__} (code {errno}): {exc}"
    return f"{type(exc).__name__}: {exc}"


def error_name(code: int) -> str:
    return f"{Errors.for_code(code).__name__} (code {code})"


@asynccontextmanager
async def producer(ctx: Ctx, **conf: Any) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(**{"bootstrap_servers": ctx.bootstrap, "client_id": CLIENT_ID, **ctx.conn, **conf})
    ctx.step("producer start")
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


@asynccontextmanager
async def consumer(ctx: Ctx, reset: str = "earliest") -> AsyncIterator[AIOKafkaConsumer]:
    c = AIOKafkaConsumer(
        **{
            "bootstrap_servers": ctx.bootstrap,
            "client_id": CLIENT_ID,
            "group_id": None,
            "enable_auto_commit": False,
            "auto_offset_reset": reset,
            **ctx.conn,
        }
    )
    ctx.step("consumer start")
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


@asynccontextmanager
async def admin(ctx: Ctx) -> AsyncIterator[AIOKafkaAdminClient]:
    a = AIOKafkaAdminClient(bootstrap_servers=ctx.bootstrap, client_id=CLIENT_ID)
    ctx.step("admin start")
    await a.start()
    try:
        yield a
    finally:
        await a.close()


async def produce(
    ctx: Ctx,
    p: AIOKafkaProducer,
    records: list[tuple[int, Record]],
    partition_of: Callable[[int], int] = lambda i: 0,
    topic: str | None = None,
    pace: Callable[[int], Awaitable[None]] | None = None,
) -> dict[int, Any]:
    """Send records ``(i, record)`` and wait for every RecordMetadata (raises the first send error as a fail).

    ``pace(i)``, if given, is awaited before record ``i`` is sent (to produce at a given rate).
    """
    futures = {}
    for i, r in records:
        if pace is not None:
            await pace(i)
        futures[i] = await p.send(
            topic or ctx.topic,
            key=r.key,
            value=r.value,
            headers=list(r.headers),
            partition=partition_of(i),
            timestamp_ms=r.timestamp,
        )
    ctx.step(f"delivery of {len(records)} records")
    out = {}
    for i, f in futures.items():
        try:
            out[i] = await f
        except Errors.KafkaError as exc:
            fail(f"delivery of record {i}", "success", type(exc).__name__, describe_error(exc))
    return out


async def poll_to(ctx: Ctx, c: AIOKafkaConsumer, tp: TopicPartition, end: int, label: str) -> list[Got]:
    """Fetch from an assigned consumer until its position reaches ``end``."""
    out: list[Got] = []
    ctx.step(f"{label}: records up to offset {end}")
    while await c.position(tp) < end:
        for recs in (await c.getmany(tp, timeout_ms=500)).values():
            out.extend(to_got(r) for r in recs)
    return out


async def read(
    ctx: Ctx, start: int | None, label: str = "read-back", topic: str | None = None, part: int = 0
) -> list[Got]:
    """Read a partition from ``start`` (None: the earliest offset) to its current end."""
    async with consumer(ctx) as c:
        tp = TopicPartition(topic or ctx.topic, part)
        c.assign([tp])
        if start is None:
            await c.seek_to_beginning(tp)
        else:
            c.seek(tp, start)
        end = (await c.end_offsets([tp]))[tp]
        return await poll_to(ctx, c, tp, end, label)


# --- scenarios ---------------------------------------------------------------------------------------------------


async def connect(ctx: Ctx) -> None:
    async with admin(ctx) as a:
        ctx.step("describe_cluster")
        cl = await a.describe_cluster()
        brokers = [(b["node_id"], b["host"], b["port"]) for b in cl["brokers"]]
        ctx.facts.update(cluster_id=cl.get("cluster_id"), controller_id=cl.get("controller_id"), brokers=brokers)
        ctx.check(len(brokers) == 1, "broker count", 1, len(brokers))
        bid, host, port = brokers[0]
        ctx.facts["broker_id"] = bid
        ctx.check((host, port) == (ctx.host, ctx.port), "broker address", f"{ctx.host}:{ctx.port}", f"{host}:{port}")
        ctx.check(bid >= 0, "broker id >= 0", ">= 0", bid)


async def metadata(ctx: Ctx) -> None:
    async with admin(ctx) as a:
        ctx.step("describe_cluster")
        bid = (await a.describe_cluster())["brokers"][0]["node_id"]
        ctx.step("describe_topics")
        (t,) = await a.describe_topics([ctx.topic])
        if t["error_code"]:
            fail("topic metadata error", "none", error_name(t["error_code"]))
        parts = {p["partition"]: p for p in t["partitions"]}
        ctx.check(set(parts) == {0, 1, 2}, "partitions", [0, 1, 2], sorted(parts))
        for n in sorted(parts):
            p = parts[n]
            got = (p["leader"], list(p["replicas"]), list(p["isr"]))
            ctx.check(got == (bid, [bid], [bid]), f"partition {n} leader/replicas/isr", (bid, [bid], [bid]), got)
        ctx.step("list_topics")
        ctx.check(ctx.topic in await a.list_topics(), "topic listing contains the topic", ctx.topic, "absent")


def roundtrip(codec: str) -> Callable[[Ctx], Awaitable[None]]:
    async def run(ctx: Ctx) -> None:
        recs = standard_records(ctx.scenario, 200)
        conf = {"compression_type": None if codec == "none" else codec, "acks": "all", "linger_ms": 10}
        async with producer(ctx, **conf) as p:
            meta = await produce(ctx, p, list(enumerate(recs)))
        check_offsets(meta, list(range(200)), list(range(200)))
        ctx.facts["produced"] = 200
        compare_records(ctx, "read-back", await read(ctx, 0), list(enumerate(recs)))

    return run


async def max_message_bytes(ctx: Ctx) -> None:
    async with producer(ctx, acks="all", enable_idempotence=False) as p:
        ctx.step("delivery of record A")
        try:
            m = await p.send_and_wait(ctx.topic, key=b"a", value=b"a" * 60_000, partition=0)
        except Errors.KafkaError as exc:
            fail("record A", "acknowledged", type(exc).__name__, describe_error(exc))
        ctx.check(m.offset == 0, "record A offset", 0, m.offset)
        ctx.step("delivery of record B")
        try:
            m = await p.send_and_wait(ctx.topic, key=b"b", value=b"b" * 70_000, partition=0)
            fail("record B", "MessageSizeTooLargeError (10)", f"acknowledged at offset {m.offset}")
        except Errors.KafkaError as exc:
            ctx.facts["error"] = type(exc).__name__
            ok = isinstance(exc, Errors.MessageSizeTooLargeError) and getattr(exc, "errno", None) == 10
            ctx.check(ok, "record B error", "MessageSizeTooLargeError (10)", describe_error(exc))
    got = await read(ctx, 0)
    ctx.check(len(got) == 1, "read-back count", 1, len(got))
    ctx.check((got[0].offset, got[0].key, len(got[0].value or b"")) == (0, b"a", 60_000), "read-back", "A", got[0])


def acks(level: str) -> Callable[[Ctx], Awaitable[None]]:
    async def run(ctx: Ctx) -> None:
        recs = standard_records(ctx.scenario, 100)
        conf: dict[str, Any] = {"acks": "all" if level == "all" else int(level)}
        if level != "all":
            conf["enable_idempotence"] = False
        async with producer(ctx, **conf) as p:
            await produce(ctx, p, list(enumerate(recs)))
        compare_records(ctx, "read-back", await read(ctx, 0), list(enumerate(recs)))

    return run


async def _produce_all(ctx: Ctx, recs: list[Record], topic: str | None = None) -> None:
    async with producer(ctx, acks="all") as p:
        await produce(ctx, p, list(enumerate(recs)), topic=topic)


async def consume_earliest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 20)
    await _produce_all(ctx, recs)
    async with consumer(ctx, reset="earliest") as c:
        tp = TopicPartition(ctx.topic, 0)
        c.assign([tp])  # no seek: the position comes from auto_offset_reset
        got = await poll_to(ctx, c, tp, 20, "read-back")
    compare_records(ctx, "read-back", got, list(enumerate(recs)))


async def consume_latest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 11)
    async with producer(ctx, acks="all") as p, consumer(ctx, reset="latest") as c:
        await produce(ctx, p, list(enumerate(recs[:10])))
        tp = TopicPartition(ctx.topic, 0)
        c.assign([tp])
        ctx.step("position")
        pos = await c.position(tp)
        ctx.facts["resolved_position"] = pos
        ctx.check(pos == 10, "resolved position", 10, pos)
        await produce(ctx, p, [(10, recs[10])])
        got: list[Got] = []
        ctx.step("record 10")
        deadline: float | None = None
        while deadline is None or time.monotonic() < deadline:
            for rs in (await c.getmany(tp, timeout_ms=200)).values():
                got.extend(to_got(r) for r in rs)
            if got and deadline is None:
                deadline = time.monotonic() + 1.0
    compare_records(ctx, "read-back", got, [(10, recs[10])])


async def consume_timestamp(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    await _produce_all(ctx, recs)
    async with consumer(ctx) as c:
        tp = TopicPartition(ctx.topic, 0)
        ctx.step("offsets_for_times")
        found = {ts: (await c.offsets_for_times({tp: ts}))[tp] for ts in (T0 + 5000, T0 + 5500, T0 + 60000)}
        check_offsets_for_times(ctx, found)
        c.assign([tp])
        c.seek(tp, 5)
        got = await poll_to(ctx, c, tp, 10, "read-back")
    compare_records(ctx, "read-back", got, [(i, recs[i]) for i in range(5, 10)])


async def idempotent(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 3000)
    conf = {"enable_idempotence": True, "acks": "all", "linger_ms": 5}
    async with producer(ctx, **conf) as p:
        meta = await produce(ctx, p, list(enumerate(recs)), partition_of=lambda i: i % 3)
        if p._txn_manager is not None:
            ctx.facts["producer_id"] = p._txn_manager.producer_id
    # aiokafka's sender keeps at most one produce request in flight per broker (not configurable)
    ctx.facts["max_in_flight"] = 1
    for part in range(3):
        idx = list(range(part, 3000, 3))
        check_offsets(meta, idx, list(range(1000)))
        got = await read(ctx, 0, f"partition {part}", part=part)
        compare_records(ctx, f"partition {part}", got, [(n, recs[i]) for n, i in enumerate(idx)])


async def _wait(ctx: Ctx, what: str, cond: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> bool:
    ctx.step(what)
    deadline = time.monotonic() + min(seconds, ctx.remaining())
    while not await cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def _create(
    ctx: Ctx, a: AIOKafkaAdminClient, name: str, partitions: int, configs: dict[str, str] | None = None
) -> int:
    """CreateTopics; return the topic's error code (the caller decides whether it is expected)."""
    ctx.step(f"create {name}")
    resp = (await a.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])).to_object()
    code = int(resp["topic_errors"][0]["error_code"])
    if code == 0:

        async def listed() -> bool:
            return name in await a.list_topics()

        await _wait(ctx, f"{name} in metadata", listed)
    return code


async def _must_create(ctx: Ctx, a: AIOKafkaAdminClient, name: str, partitions: int, **kw: Any) -> None:
    code = await _create(ctx, a, name, partitions, **kw)
    ctx.check(code == 0, f"create {name}", "no error", error_name(code))


async def _partitions(a: AIOKafkaAdminClient, name: str) -> list[int]:
    (t,) = await a.describe_topics([name])
    return sorted(p["partition"] for p in t["partitions"]) if not t["error_code"] else []


async def admin_topics(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-topics-new"
    async with admin(ctx) as a:
        await _must_create(ctx, a, name, 3, configs={"retention.ms": "3600000"})
        ctx.check(name in await a.list_topics(), "listing after create", name, "absent")
        ctx.step("describe_topics")
        parts = await _partitions(a, name)
        ctx.check(parts == [0, 1, 2], "described partitions", [0, 1, 2], parts)
        code = await _create(ctx, a, name, 3)
        ctx.facts["create_again"] = error_name(code)
        ctx.check(code == 36, "create again", "TopicAlreadyExistsError (code 36)", error_name(code))
        ctx.step("delete_topics")
        resp = (await a.delete_topics([name])).to_object()
        code = resp["topic_error_codes"][0]["error_code"]
        ctx.check(code == 0, "delete", "no error", error_name(code))

        async def gone() -> bool:
            return name not in await a.list_topics()

        ctx.check(await _wait(ctx, "listing without the topic", gone), "listing 10 s after delete", "absent", "listed")


async def _configs(ctx: Ctx, a: AIOKafkaAdminClient, name: str) -> dict[str, dict[str, Any]]:
    ctx.step("describe_configs")
    (resp,) = await a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    (res,) = resp.to_object()["resources"]
    if res["error_code"]:
        fail("describe_configs", "no error", error_name(res["error_code"]), res["error_message"])
    return {e["config_names"]: e for e in res["config_entries"]}


async def admin_configs(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-configs-new"
    async with admin(ctx) as a:
        await _must_create(ctx, a, name, 1)
        try:
            await _admin_configs(ctx, a, name)
        finally:
            await a.delete_topics([name])


async def _admin_configs(ctx: Ctx, a: AIOKafkaAdminClient, name: str) -> None:
    r = (await _configs(ctx, a, name))["retention.ms"]
    src = CONFIG_SOURCES.get(r["config_source"], r["config_source"])
    ctx.facts["initial_retention_ms"] = {"value": r["config_value"], "source": src}
    ctx.check(r["config_value"] == "604800000", "retention.ms", "604800000", r["config_value"])
    ctx.check(src == "DEFAULT_CONFIG", "retention.ms source", "DEFAULT_CONFIG", src)
    ctx.step("alter_configs (legacy)")
    new = {"retention.ms": "3600000", "cleanup.policy": "compact"}
    (resp,) = await a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=new)])
    ctx.facts["alter_api"] = "AlterConfigs (legacy; aiokafka has no IncrementalAlterConfigs)"
    (res,) = resp.to_object()["resources"]
    if res["error_code"]:
        fail("alter_configs", "no error", error_name(res["error_code"]), res["error_message"])

    async def altered() -> bool:
        d = await _configs(ctx, a, name)
        return d["retention.ms"]["config_value"] == "3600000" and d["cleanup.policy"]["config_value"] == "compact"

    await _wait(ctx, "altered configs described", altered, 5.0)
    d = await _configs(ctx, a, name)
    r, cp = d["retention.ms"], d["cleanup.policy"]
    src = CONFIG_SOURCES.get(r["config_source"], r["config_source"])
    ctx.facts["altered_retention_ms"] = {"value": r["config_value"], "source": src}
    ctx.check(r["config_value"] == "3600000", "retention.ms after alter", "3600000", r["config_value"])
    ctx.check(src == "DYNAMIC_TOPIC_CONFIG", "retention.ms source after alter", "DYNAMIC_TOPIC_CONFIG", src)
    ctx.check(cp["config_value"] == "compact", "cleanup.policy after alter", "compact", cp["config_value"])


async def admin_partitions(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-partitions-new"
    async with admin(ctx) as a:
        await _must_create(ctx, a, name, 1)
        try:
            ctx.step("create_partitions to 4")
            await a.create_partitions({name: NewPartitions(4)})

            async def four() -> bool:
                return await _partitions(a, name) == [0, 1, 2, 3]

            await _wait(ctx, "4 partitions in metadata", four)
            parts = await _partitions(a, name)
            ctx.check(parts == [0, 1, 2, 3], "partitions after increase", [0, 1, 2, 3], parts)
            ctx.step("create_partitions to 2")
            try:
                await a.create_partitions({name: NewPartitions(2)})
                fail("decrease to 2 partitions", "InvalidPartitionsError (37)", "success")
            except Errors.KafkaError as exc:
                ctx.facts["decrease_error"] = type(exc).__name__
                ok = isinstance(exc, Errors.InvalidPartitionsError)
                ctx.check(ok, "decrease to 2 partitions", "InvalidPartitionsError (37)", describe_error(exc))
        finally:
            await a.delete_topics([name])


async def admin_records(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    await _produce_all(ctx, recs)
    tp = TopicPartition(ctx.topic, 0)
    async with consumer(ctx) as c, admin(ctx) as a:
        ctx.step("list offsets (consumer beginning/end_offsets, offsets_for_times)")
        by_ts = (await c.offsets_for_times({tp: T0 + 3000}))[tp]
        listed = {
            "earliest": (await c.beginning_offsets([tp]))[tp],
            "latest": (await c.end_offsets([tp]))[tp],
            "T0+3000": None if by_ts is None else by_ts.offset,
        }
        ctx.facts["offsets"] = listed
        ctx.facts["list_offsets_api"] = "consumer (aiokafka admin has no list_offsets)"
        ctx.check(listed == {"earliest": 0, "latest": 10, "T0+3000": 3}, "list offsets", [0, 10, 3], listed)
        ctx.step("delete_records")
        low = (await a.delete_records({tp: RecordsToDelete(4)}))[tp]
        ctx.facts["low_watermark"] = low
        ctx.check(low == 4, "low watermark after delete_records", 4, low)
        earliest = (await c.beginning_offsets([tp]))[tp]
        ctx.check(earliest == 4, "earliest after delete_records", 4, earliest)
    compare_records(ctx, "read-back", await read(ctx, None), [(i, recs[i]) for i in range(4, 10)])


async def restart_produce(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    await _produce_all(ctx, recs, topic=f"{ctx.prefix}.restart")
    ctx.facts["produced"] = len(recs)


async def restart_consume(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    compare_records(ctx, "read-back", await read(ctx, 0, topic=f"{ctx.prefix}.restart"), list(enumerate(recs)))


# --- consumer-group scenarios ------------------------------------------------------------------------------------
# Each group member (and the paced producer) runs its own event loop in its own thread, so that the shared
# scenario code in groups.py drives the three Python clients alike.


def error_name_of(exc: BaseException) -> str:
    """The Kafka error name (``ILLEGAL_GENERATION``) of a broker error, else the exception's class name."""
    if isinstance(exc, Errors.KafkaError) and getattr(exc, "errno", None) is not None and exc.message:
        return str(exc.message)
    return type(exc).__name__


def _group_consumer(ctx: Ctx, **conf: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=ctx.bootstrap,
        client_id=CLIENT_ID,
        group_id=ctx.topic,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **conf,
    )


async def group_offsets(ctx: Ctx) -> None:
    topic = f"{ctx.prefix}.consume-earliest"
    tp = TopicPartition(topic, 0)
    c1 = _group_consumer(ctx)
    ctx.step("consumer start")
    await c1.start()
    try:
        c1.assign([tp])
        ctx.step(f"end offset of {topic}")
        end = (await c1.end_offsets([tp]))[tp]
        if end < 8:
            async with producer(ctx, acks="all") as p:
                await produce(ctx, p, list(enumerate(standard_records("consume-earliest", 20))), topic=topic)
            end += 20
        ctx.facts["end_offset"] = end
        ctx.step(f"commit offset 7 metadata m7 (group {ctx.topic})")
        await c1.commit({tp: (7, "m7")})
    finally:
        ctx.step("close first consumer")
        await c1.stop()
    c2 = _group_consumer(ctx)
    ctx.step("consumer start")
    await c2.start()
    try:
        ctx.step("committed() by a new consumer")
        got = await c2.committed(tp)
        ctx.facts["committed"] = got
        ctx.skip("committed metadata (AIOKafkaConsumer.committed returns the offset only)")
        ctx.check(got == 7, "committed offset", 7, got)
        c2.assign([tp])  # no position: resume at the committed offset
        ctx.step("a record after the committed offset")
        while not (recs := (await c2.getmany(tp, timeout_ms=500)).get(tp)):
            pass
        ctx.facts["resumed_at"] = recs[0].offset
        ctx.check(recs[0].offset == 7, "first offset read after resume", 7, recs[0].offset)
        ctx.check(recs[0].key == b"k7", "key at offset 7", b"k7", recs[0].key)
    finally:
        await c2.stop()


class _Listener(MemberListener, ConsumerRebalanceListener):
    """Reports the rebalance callbacks to the member's log."""


def _member(ctx: Ctx, instance_id: str | None = None) -> Callable[[Member], None]:
    """A group member (eager protocol, the default assignor) running its own event loop."""
    conf: dict[str, Any] = {"session_timeout_ms": 10000, "heartbeat_interval_ms": 500}
    if instance_id is not None:
        conf.update(group_instance_id=instance_id, session_timeout_ms=30000, heartbeat_interval_ms=1000)

    async def run(m: Member) -> None:
        c = _group_consumer(ctx, **conf)
        await c.start()
        try:
            c.subscribe([ctx.topic], listener=_Listener(m))
            while not m.stop.is_set():
                batch = await c.getmany(timeout_ms=100, max_records=500)
                offsets = {}
                for tp, recs in batch.items():
                    m.consumed((r.partition, r.offset) for r in recs)
                    offsets[tp] = recs[-1].offset + 1
                if not offsets:
                    continue
                try:
                    await c.commit(offsets)
                except Errors.KafkaError as exc:
                    m.commit_failed(error_name_of(exc))
                else:
                    m.commit_ok({tp.partition: off for tp, off in offsets.items()})
        finally:
            await c.stop()

    return lambda m: asyncio.run(run(m))


def _paced_producer(ctx: Ctx) -> Callable[[Group], list[Key]]:
    async def produce_all(g: Group) -> list[Key]:
        async def pace(i: int) -> None:
            if (ahead := g.due_in(i)) > 0.002:
                await asyncio.sleep(ahead)

        async with producer(ctx, acks="all", linger_ms=5) as p:
            recs = [(i, standard_record(ctx.scenario, i)) for i in range(RECORDS)]
            meta = await produce(ctx, p, recs, partition_of=lambda i: i % PARTITIONS, pace=pace)
        return [(meta[i].partition, meta[i].offset) for i in range(RECORDS)]

    return lambda g: asyncio.run(produce_all(g))


def group_rebalance(ctx: Ctx) -> None:
    run_rebalance(ctx, _member(ctx), _paced_producer(ctx))


def group_cooperative(ctx: Ctx) -> None:
    raise Unsupported(
        f"{version()} has only the eager rebalance protocol (no cooperative-sticky assignor, no incremental "
        "KIP-429 rebalancing)"
    )


def group_consumer_protocol(ctx: Ctx) -> None:
    raise Unsupported(
        f"{version()} has no KIP-848 consumer protocol (no group_protocol option; it never sends "
        "ConsumerGroupHeartbeat)"
    )


def group_static(ctx: Ctx) -> None:
    async def produce_batch(start: int, stop: int) -> list[Key]:
        async with producer(ctx, acks="all") as p:
            recs = [(i, standard_record(ctx.scenario, i)) for i in range(start, stop)]
            meta = await produce(ctx, p, recs, partition_of=lambda i: i % 4)
        return [(meta[i].partition, meta[i].offset) for i in range(start, stop)]

    # aiokafka sends no LeaveGroup on stop() for a static member (KIP-345), so A is stopped normally.
    run_static(
        ctx,
        lambda instance_id: _member(ctx, instance_id),
        lambda start, stop: asyncio.run(produce_batch(start, stop)),
    )


# --- security (SCENARIOS.md, "Security scenarios") ----------------------------------------------------------------

def secured_conf(
    ctx: Ctx, protocol: str, mechanism: str | None = None, user: str | None = None, password: str | None = None
) -> dict[str, Any]:
    """Client settings for the ``protocol`` listener of the ``--security`` file (the mechanism's user by default)."""
    from aiokafka.helpers import create_ssl_context

    sec = ctx.secured()
    conf: dict[str, Any] = {"security_protocol": protocol}
    if protocol.endswith("SSL"):
        conf["ssl_context"] = create_ssl_context(cafile=sec["ca_file"])  # verifies the chain and the IP SAN
    if mechanism is not None:
        conf.update(kafka_python_sasl(sec, mechanism, FixedToken, user, password))
    return conf


class FixedToken(AbstractTokenProvider):
    """An OAUTHBEARER token provider handing out one token."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token


async def secured_roundtrip(ctx: Ctx, protocol: str, mechanism: str | None, n: int, partition: int, label: str) -> None:
    bootstrap = ctx.bootstrap
    ctx.bootstrap, ctx.conn = ctx.secured()[protocol.lower()], secured_conf(ctx, protocol, mechanism)
    try:
        recs = list(enumerate(standard_records(ctx.scenario, n)))
        async with producer(ctx, acks="all", linger_ms=5) as p:
            meta = await produce(ctx, p, recs, partition_of=lambda i: partition)
        check_offsets(meta, list(range(n)), list(range(n)))
        compare_records(ctx, label, await read(ctx, 0, label, part=partition), recs)
    finally:
        ctx.bootstrap, ctx.conn = bootstrap, {}


async def security_ssl(ctx: Ctx) -> None:
    await secured_roundtrip(ctx, "SSL", None, 20, 0, "read-back")
    ctx.facts["ca_verified"] = True


def security_sasl(protocol: str) -> Callable[[Ctx], Awaitable[None]]:
    async def run(ctx: Ctx) -> None:
        for m, mech in sasl_mechanisms(ctx, MECHANISMS):
            await secured_roundtrip(ctx, protocol, mech, 10, m, f"read-back {mech}")

    return run


async def security_auth_failure(ctx: Ctx) -> None:
    # AIOKafkaClient.bootstrap() logs the broker's SaslAuthenticationFailed and raises a generic KafkaConnectionError
    # ("Unable to bootstrap"): the refusal is observed on one connection (aiokafka.conn.create_conn), which raises it.
    from aiokafka.conn import create_conn

    af = AuthFailure(ctx, MECHANISMS)
    host, port = af.sec["sasl_plaintext"].rsplit(":", 1)
    for mech in af.mechanisms:
        if mech == "OAUTHBEARER":
            # OAuthAuthenticator.step() ends the exchange once the token is sent: the broker's error challenge
            # ({"status":"invalid_token"}) is taken for success and never answered, so no refusal is reported.
            ctx.skip("OAUTHBEARER refusals: aiokafka takes the broker's error challenge for a successful login")
        for what, user, password in () if mech == "OAUTHBEARER" else af.attempts(mech):
            conf = secured_conf(ctx, "SASL_PLAINTEXT", mech, user, password)
            try:
                conn = await create_conn(host, int(port), client_id=CLIENT_ID, **conf)
            except Errors.SaslAuthenticationFailed as exc:
                af.refused[f"{mech} {what}"] = describe_error(exc)
                continue
            except Exception as exc:
                fail(f"{mech} {what}", "SaslAuthenticationFailed (code 58)", describe_error(exc))
            conn.close()
            fail(f"{mech} {what}", "SaslAuthenticationFailed (code 58)", "a successful login")
        c = AIOKafkaConsumer(bootstrap_servers=af.sec["sasl_plaintext"], client_id=CLIENT_ID,
                             **secured_conf(ctx, "SASL_PLAINTEXT", mech))
        await c.start()
        try:
            topics = await c.topics()
        finally:
            await c.stop()
        af.listed(mech, topics)
    af.done()


SCENARIOS: dict[str, Callable[[Ctx], Awaitable[None]] | Callable[[Ctx], None]] = {
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
    "group-rebalance": group_rebalance,
    "group-cooperative": group_cooperative,
    "group-consumer-protocol": group_consumer_protocol,
    "group-static": group_static,
    "security-ssl": security_ssl,
    "security-sasl-plaintext": security_sasl("SASL_PLAINTEXT"),
    "security-sasl-ssl": security_sasl("SASL_SSL"),
    "security-auth-failure": security_auth_failure,
}

if __name__ == "__main__":
    sys.exit(main("aiokafka", version, SCENARIOS, describe_error))
