"""Codec benchmark: Chronik's generated codecs against kafka-python 3 and kio.

Measures decode and encode of message *bodies* (no request/response header, no size frame)
with four implementations of the Kafka protocol:

* ``ours``          Chronik's straight-line codec (``chronik_protocol.messages.<spec>``:
                    ``Cls.decode(data, version)`` / ``msg.encode(version)``);
* ``construct``     Chronik's declarative Construct codec (``construct_codec(name)[version]``:
                    ``.parse(data)`` / ``.build(msg)``);
* ``kafka-python``  kafka-python 3.x's JSON-schema protocol classes (``kafka.protocol.*``:
                    ``Cls.decode(data, version=v)`` / ``msg.encode(version=v)``; they compile
                    a codec per version at first use);
* ``kio``           Aiven's kio (``kio.schema.<api>.v<N>`` dataclasses; ``entity_reader``,
                    native, / ``entity_writer``, pure Python, writing to an ``io.BytesIO``).

Messages (records are opaque ~1 KiB blobs everywhere; nothing parses record batches):

* ProduceRequest, 1 topic x 1 and x 100 partitions, at v9 (flexible) and v7 (non-flexible);
* FetchResponse, 4 topics x 25 partitions, every 10th partition with 2 aborted
  transactions (the others an empty list, as for read_committed), at v12 and at the newest
  version every library supports;
* MetadataResponse, 3 brokers, 10 topics x 100 partitions, 3 replicas / 3 ISR, at v12;
* ApiVersionsResponse, 80 API keys plus supported/finalized features, at v3.

Before timing anything, every case is built with the same content in each library and the
encodings are compared byte for byte against ours; a mismatch is printed (offset, lengths,
hex windows) and the run stops with an AssertionError (``--keep-going`` benchmarks anyway,
flagging the affected rows). Each library must also decode our bytes back to the value it
was built from.

Timing is ``timeit``-style: the loop count is scaled so one measurement takes about
``--target`` seconds (default 0.25), the best of ``--repeat`` measurements (default 3) is
kept, and the garbage collector is off while timing (as ``timeit`` does). Decoders get
``bytes`` (what a socket read gives; kio's native reader refuses writable buffers). Note
that our decoders return ``records`` as zero-copy ``memoryview`` slices of the input, while
kafka-python and kio copy them into ``bytes``.

The table gives ops/s per implementation, ``vs-kp`` = ours / kafka-python (information
only: kafka-python is the pure-Python peer, kio decodes in a native extension), and
``ratio`` = ours / the faster of kafka-python and kio, with PASS (ratio >= 2.0) or BELOW;
BELOW does not change the exit status. When a library lacks the benchmarked version of a
message, the nearest version it has is timed instead and a note says so.

Usage (from the repository root)::

    .venv/bin/python bench/codec_bench.py             # full run, about a minute
    .venv/bin/python bench/codec_bench.py --quick     # smoke run, a few seconds
    .venv/bin/python bench/codec_bench.py --only Fetch --target 0.5 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import importlib.util
import inspect
import io
import math
import platform
import random
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import construct
import kafka
import kio
from kafka.protocol.consumer.fetch import FetchResponse as KpFetchResponse
from kafka.protocol.metadata.api_versions import ApiVersionsResponse as KpApiVersionsResponse
from kafka.protocol.metadata.metadata import MetadataResponse as KpMetadataResponse
from kafka.protocol.producer.produce import ProduceRequest as KpProduceRequest
from kio.schema.errors import ErrorCode as KioErrorCode
from kio.serial import entity_reader, entity_writer

from chronik_protocol.api_table import APIS, construct_codec
from chronik_protocol.messages import api_versions_response as ours_av
from chronik_protocol.messages import fetch_response as ours_fetch
from chronik_protocol.messages import metadata_response as ours_md
from chronik_protocol.messages import produce_request as ours_produce

IMPLS = ("ours", "construct", "kafka-python", "kio")
TARGET_RATIO = 2.0
RECORDS_SIZE = 1024

# --------------------------------------------------------------------------------------------
# Content shared by every library's builder.


def records_blob(seed: int) -> bytes:
    """An opaque ~1 KiB records payload, different per partition."""
    return random.Random(seed).randbytes(RECORDS_SIZE)


def stable_uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"chronik-bench/{name}")


def ms(value: int) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=value)


def kio_module(api: str, version: int, kind: str) -> Any | None:
    name = f"kio.schema.{api}.v{version}.{kind}"
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def kio_versions(api: str) -> list[int]:
    return [v for v in range(64) if importlib.util.find_spec(f"kio.schema.{api}.v{v}") is not None]


def nearest(version: int, available: list[int]) -> int:
    return min(available, key=lambda v: (abs(v - version), -v))


# ---- ProduceRequest ------------------------------------------------------------------------


@dataclass
class ProduceSpec:
    acks: int = -1
    timeout_ms: int = 30_000
    transactional_id: str | None = None
    topics: list[tuple[str, list[tuple[int, bytes]]]] = field(default_factory=list)


def produce_spec(partitions: int) -> ProduceSpec:
    return ProduceSpec(topics=[("bench-produce", [(p, records_blob(p)) for p in range(partitions)])])


def produce_ours(s: ProduceSpec, v: int) -> Any:
    m = ours_produce
    return m.ProduceRequest(
        transactional_id=s.transactional_id,
        acks=s.acks,
        timeout_ms=s.timeout_ms,
        topic_data=[
            m.TopicProduceData(
                name=name if v < 13 else "",
                topic_id=stable_uuid(name) if v >= 13 else m._ZERO_UUID,
                partition_data=[m.PartitionProduceData(index=i, records=r) for i, r in parts],
            )
            for name, parts in s.topics
        ],
    )


def produce_kp(s: ProduceSpec, v: int) -> Any:
    T = KpProduceRequest.TopicProduceData
    P = T.PartitionProduceData
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 13 else {"name": name}
        topics.append(T(partition_data=[P(index=i, records=r) for i, r in parts], **kw))
    return KpProduceRequest(
        transactional_id=s.transactional_id, acks=s.acks, timeout_ms=s.timeout_ms, topic_data=topics
    )


def produce_kio(s: ProduceSpec, v: int) -> Any:
    mod = kio_module("produce", v, "request")
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 13 else {"name": name}
        topics.append(
            mod.TopicProduceData(
                partition_data=tuple(mod.PartitionProduceData(index=i, records=r) for i, r in parts), **kw
            )
        )
    return mod.ProduceRequest(
        transactional_id=s.transactional_id, acks=s.acks, timeout=ms(s.timeout_ms), topic_data=tuple(topics)
    )


# ---- FetchResponse -------------------------------------------------------------------------


@dataclass
class FetchPartition:
    index: int
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    aborted: list[tuple[int, int]]
    records: bytes


@dataclass
class FetchSpec:
    throttle_time_ms: int = 0
    error_code: int = 0
    session_id: int = 424242
    topics: list[tuple[str, list[FetchPartition]]] = field(default_factory=list)


def fetch_spec(topics: int, partitions_per_topic: int) -> FetchSpec:
    out = FetchSpec()
    seed = 0
    for t in range(topics):
        parts = []
        for p in range(partitions_per_topic):
            hw = 1_000_000 + 7919 * seed
            aborted = [(5_000 + seed, hw - 900), (5_001 + seed, hw - 300)] if seed % 10 == 0 else []
            parts.append(FetchPartition(p, hw, hw - 10, 1_000 * t, aborted, records_blob(10_000 + seed)))
            seed += 1
        out.topics.append((f"bench-fetch-{t}", parts))
    return out


def fetch_ours(s: FetchSpec, v: int) -> Any:
    m = ours_fetch
    return m.FetchResponse(
        throttle_time_ms=s.throttle_time_ms,
        error_code=s.error_code,
        session_id=s.session_id,
        responses=[
            m.FetchableTopicResponse(
                topic=name if v < 13 else "",
                topic_id=stable_uuid(name) if v >= 13 else m._ZERO_UUID,
                partitions=[
                    m.PartitionData(
                        partition_index=p.index,
                        error_code=0,
                        high_watermark=p.high_watermark,
                        last_stable_offset=p.last_stable_offset,
                        log_start_offset=p.log_start_offset,
                        aborted_transactions=[
                            m.AbortedTransaction(producer_id=pid, first_offset=off) for pid, off in p.aborted
                        ],
                        preferred_read_replica=-1,
                        records=p.records,
                    )
                    for p in parts
                ],
            )
            for name, parts in s.topics
        ],
    )


def fetch_kp(s: FetchSpec, v: int) -> Any:
    T = KpFetchResponse.FetchableTopicResponse
    P = T.PartitionData
    A = P.AbortedTransaction
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 13 else {"topic": name}
        plist = [
            P(
                partition_index=p.index,
                error_code=0,
                high_watermark=p.high_watermark,
                last_stable_offset=p.last_stable_offset,
                log_start_offset=p.log_start_offset,
                aborted_transactions=[A(producer_id=pid, first_offset=off) for pid, off in p.aborted],
                preferred_read_replica=-1,
                records=p.records,
            )
            for p in parts
        ]
        topics.append(T(partitions=plist, **kw))
    kw = {"node_endpoints": []} if v >= 16 else {}
    return KpFetchResponse(
        throttle_time_ms=s.throttle_time_ms,
        error_code=s.error_code,
        session_id=s.session_id,
        responses=topics,
        **kw,
    )


def fetch_kio(s: FetchSpec, v: int) -> Any:
    mod = kio_module("fetch", v, "response")
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 13 else {"topic": name}
        plist = tuple(
            mod.PartitionData(
                partition_index=p.index,
                error_code=KioErrorCode.none,
                high_watermark=p.high_watermark,
                last_stable_offset=p.last_stable_offset,
                log_start_offset=p.log_start_offset,
                aborted_transactions=tuple(
                    mod.AbortedTransaction(producer_id=pid, first_offset=off) for pid, off in p.aborted
                ),
                preferred_read_replica=-1,
                records=p.records,
            )
            for p in parts
        )
        topics.append(mod.FetchableTopicResponse(partitions=plist, **kw))
    return mod.FetchResponse(
        throttle_time=ms(s.throttle_time_ms),
        error_code=KioErrorCode(s.error_code),
        session_id=s.session_id,
        responses=tuple(topics),
    )


# ---- MetadataResponse ----------------------------------------------------------------------

UNKNOWN_OPERATIONS = -2147483648  # INT32_MIN: "authorized operations not requested"


@dataclass
class MetadataSpec:
    throttle_time_ms: int = 0
    cluster_id: str = "chronik-bench-cluster-0001"
    controller_id: int = 1
    brokers: list[tuple[int, str, int, str | None]] = field(default_factory=list)
    # topic name -> [(partition, leader, leader_epoch, replicas, isr)]
    topics: list[tuple[str, list[tuple[int, int, int, list[int], list[int]]]]] = field(default_factory=list)


def metadata_spec(topics: int, partitions_per_topic: int, brokers: int = 3) -> MetadataSpec:
    s = MetadataSpec()
    s.brokers = [(b, f"broker-{b}.chronik.example.internal", 9092, f"rack-{b}") for b in range(1, brokers + 1)]
    for t in range(topics):
        parts = []
        for p in range(partitions_per_topic):
            leader = (t + p) % brokers + 1
            replicas = [(leader - 1 + k) % brokers + 1 for k in range(3)]
            parts.append((p, leader, 7 + p % 5, replicas, list(replicas)))
        s.topics.append((f"bench-metadata-{t}", parts))
    return s


def metadata_ours(s: MetadataSpec, v: int) -> Any:
    m = ours_md
    return m.MetadataResponse(
        throttle_time_ms=s.throttle_time_ms,
        brokers=[m.MetadataResponseBroker(node_id=n, host=h, port=port, rack=r) for n, h, port, r in s.brokers],
        cluster_id=s.cluster_id,
        controller_id=s.controller_id,
        topics=[
            m.MetadataResponseTopic(
                error_code=0,
                name=name,
                topic_id=stable_uuid(name) if v >= 10 else m._ZERO_UUID,
                is_internal=False,
                partitions=[
                    m.MetadataResponsePartition(
                        error_code=0,
                        partition_index=p,
                        leader_id=leader,
                        leader_epoch=epoch,
                        replica_nodes=list(replicas),
                        isr_nodes=list(isr),
                        offline_replicas=[],
                    )
                    for p, leader, epoch, replicas, isr in parts
                ],
                topic_authorized_operations=UNKNOWN_OPERATIONS,
            )
            for name, parts in s.topics
        ],
    )


def metadata_kp(s: MetadataSpec, v: int) -> Any:
    M = KpMetadataResponse
    B = M.MetadataResponseBroker
    T = M.MetadataResponseTopic
    P = T.MetadataResponsePartition
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 10 else {}
        topics.append(
            T(
                error_code=0,
                name=name,
                is_internal=False,
                partitions=[
                    P(
                        error_code=0,
                        partition_index=p,
                        leader_id=leader,
                        leader_epoch=epoch,
                        replica_nodes=list(replicas),
                        isr_nodes=list(isr),
                        offline_replicas=[],
                    )
                    for p, leader, epoch, replicas, isr in parts
                ],
                authorized_operations=None,  # kafka-python's bitfield for INT32_MIN
                **kw,
            )
        )
    return M(
        throttle_time_ms=s.throttle_time_ms,
        brokers=[B(node_id=n, host=h, port=port, rack=r) for n, h, port, r in s.brokers],
        cluster_id=s.cluster_id,
        controller_id=s.controller_id,
        topics=topics,
    )


def metadata_kio(s: MetadataSpec, v: int) -> Any:
    mod = kio_module("metadata", v, "response")
    topics = []
    for name, parts in s.topics:
        kw: dict[str, Any] = {"topic_id": stable_uuid(name)} if v >= 10 else {}
        topics.append(
            mod.MetadataResponseTopic(
                error_code=KioErrorCode.none,
                name=name,
                is_internal=False,
                partitions=tuple(
                    mod.MetadataResponsePartition(
                        error_code=KioErrorCode.none,
                        partition_index=p,
                        leader_id=leader,
                        leader_epoch=epoch,
                        replica_nodes=tuple(replicas),
                        isr_nodes=tuple(isr),
                        offline_replicas=(),
                    )
                    for p, leader, epoch, replicas, isr in parts
                ),
                topic_authorized_operations=UNKNOWN_OPERATIONS,
                **kw,
            )
        )
    return mod.MetadataResponse(
        throttle_time=ms(s.throttle_time_ms),
        brokers=tuple(mod.MetadataResponseBroker(node_id=n, host=h, port=port, rack=r) for n, h, port, r in s.brokers),
        cluster_id=s.cluster_id,
        controller_id=s.controller_id,
        topics=tuple(topics),
    )


# ---- ApiVersionsResponse -------------------------------------------------------------------


@dataclass
class ApiVersionsSpec:
    api_keys: list[tuple[int, int, int]]
    supported_features: list[tuple[str, int, int]]
    finalized_features_epoch: int
    finalized_features: list[tuple[str, int, int]]  # name, max_version_level, min_version_level


def api_versions_spec(keys: int) -> ApiVersionsSpec:
    api_keys = [(k, max(a.min_version, 0), max(a.max_version, 0)) for k, a in sorted(APIS.items())][:keys]
    return ApiVersionsSpec(
        api_keys=api_keys,
        supported_features=[
            ("kraft.version", 0, 1),
            ("metadata.version", 7, 27),
            ("transaction.version", 0, 2),
        ],
        finalized_features_epoch=987_654,
        finalized_features=[("kraft.version", 1, 1), ("metadata.version", 27, 27)],
    )


def api_versions_ours(s: ApiVersionsSpec, v: int) -> Any:
    m = ours_av
    return m.ApiVersionsResponse(
        error_code=0,
        api_keys=[m.ApiVersion(api_key=k, min_version=lo, max_version=hi) for k, lo, hi in s.api_keys],
        throttle_time_ms=0,
        supported_features=[
            m.SupportedFeatureKey(name=n, min_version=lo, max_version=hi) for n, lo, hi in s.supported_features
        ],
        finalized_features_epoch=s.finalized_features_epoch,
        finalized_features=[
            m.FinalizedFeatureKey(name=n, max_version_level=hi, min_version_level=lo)
            for n, hi, lo in s.finalized_features
        ],
    )


def api_versions_kp(s: ApiVersionsSpec, v: int) -> Any:
    R = KpApiVersionsResponse
    return R(
        error_code=0,
        api_keys=[R.ApiVersion(api_key=k, min_version=lo, max_version=hi) for k, lo, hi in s.api_keys],
        throttle_time_ms=0,
        supported_features=[
            R.SupportedFeatureKey(name=n, min_version=lo, max_version=hi) for n, lo, hi in s.supported_features
        ],
        finalized_features_epoch=s.finalized_features_epoch,
        finalized_features=[
            R.FinalizedFeatureKey(name=n, max_version_level=hi, min_version_level=lo)
            for n, hi, lo in s.finalized_features
        ],
        zk_migration_ready=False,
    )


def api_versions_kio(s: ApiVersionsSpec, v: int) -> Any:
    mod = kio_module("api_versions", v, "response")
    return mod.ApiVersionsResponse(
        error_code=KioErrorCode.none,
        api_keys=tuple(mod.ApiVersion(api_key=k, min_version=lo, max_version=hi) for k, lo, hi in s.api_keys),
        throttle_time=ms(0),
        supported_features=tuple(
            mod.SupportedFeatureKey(name=n, min_version=lo, max_version=hi) for n, lo, hi in s.supported_features
        ),
        finalized_features_epoch=s.finalized_features_epoch,
        finalized_features=tuple(
            mod.FinalizedFeatureKey(name=n, max_version_level=hi, min_version_level=lo)
            for n, hi, lo in s.finalized_features
        ),
    )


# --------------------------------------------------------------------------------------------
# Cases: one message at one version, with an encoder and a decoder per implementation.


@dataclass
class Impl:
    version: int
    encode: Callable[[], Any]
    decode: Callable[[bytes], Any]
    value: Any  # what this library built; decoding our bytes must give it back


@dataclass
class Case:
    label: str
    message: str
    version: int
    impls: dict[str, Impl]
    notes: list[str] = field(default_factory=list)
    mismatch: set[str] = field(default_factory=set)


@dataclass
class MessageKind:
    message: str  # Chronik spec name
    ours_cls: Any
    kp_cls: Any
    kio_api: str
    kio_kind: str  # "request" | "response"
    build_ours: Callable[[Any, int], Any]
    build_kp: Callable[[Any, int], Any]
    build_kio: Callable[[Any, int], Any]


PRODUCE = MessageKind(
    "ProduceRequest", ours_produce.ProduceRequest, KpProduceRequest, "produce", "request",
    produce_ours, produce_kp, produce_kio,
)  # fmt: skip
FETCH = MessageKind(
    "FetchResponse", ours_fetch.FetchResponse, KpFetchResponse, "fetch", "response",
    fetch_ours, fetch_kp, fetch_kio,
)  # fmt: skip
METADATA = MessageKind(
    "MetadataResponse", ours_md.MetadataResponse, KpMetadataResponse, "metadata", "response",
    metadata_ours, metadata_kp, metadata_kio,
)  # fmt: skip
API_VERSIONS = MessageKind(
    "ApiVersionsResponse", ours_av.ApiVersionsResponse, KpApiVersionsResponse, "api_versions", "response",
    api_versions_ours, api_versions_kp, api_versions_kio,
)  # fmt: skip


def kp_versions(cls: Any) -> list[int]:
    lo, hi = cls.valid_versions
    return list(range(lo, hi + 1))


def newest_common(kind: MessageKind) -> int:
    return min(max(kind.ours_cls.VERSIONS), max(kp_versions(kind.kp_cls)), max(kio_versions(kind.kio_api)))


def make_case(kind: MessageKind, label: str, spec: Any, version: int) -> Case:
    notes: list[str] = []
    ours_cls = kind.ours_cls
    ours_msg = kind.build_ours(spec, version)
    con = construct_codec(kind.message)[version]

    def ours_encode() -> Any:
        return ours_msg.encode(version)

    def ours_decode(data: bytes) -> Any:
        return ours_cls.decode(data, version)

    impls = {
        "ours": Impl(version, ours_encode, ours_decode, ours_msg),
        "construct": Impl(version, lambda: con.build(ours_msg), con.parse, ours_msg),
    }

    kv = version
    if version not in kp_versions(kind.kp_cls):
        kv = nearest(version, kp_versions(kind.kp_cls))
        notes.append(f"kafka-python lacks {kind.message} v{version}: timed at v{kv} (bytes not compared)")
    kp_msg = kind.build_kp(spec, kv)
    kp_cls = kind.kp_cls
    impls["kafka-python"] = Impl(
        kv, lambda: kp_msg.encode(version=kv), lambda data: kp_cls.decode(data, version=kv), kp_msg
    )

    iv = version
    if kio_module(kind.kio_api, version, kind.kio_kind) is None:
        iv = nearest(version, kio_versions(kind.kio_api))
        notes.append(f"kio lacks {kind.message} v{version}: timed at v{iv} (bytes not compared)")
    kio_msg = kind.build_kio(spec, iv)
    kio_cls = type(kio_msg)
    writer = entity_writer(kio_cls)
    reader = entity_reader(kio_cls)

    def kio_encode() -> bytes:
        buf = io.BytesIO()
        writer(buf, kio_msg)
        return buf.getvalue()

    def kio_decode(data: bytes) -> Any:
        return reader(data, 0)[0]

    impls["kio"] = Impl(iv, kio_encode, kio_decode, kio_msg)
    return Case(f"{label} v{version}", kind.message, version, impls, notes)


def build_cases() -> list[Case]:
    cases = []
    for version in (9, 7):
        for n in (1, 100):
            cases.append(make_case(PRODUCE, f"Produce {n}p", produce_spec(n), version))
    fetch = fetch_spec(4, 25)
    for version in sorted({12, newest_common(FETCH)}):
        cases.append(make_case(FETCH, "Fetch 100p", fetch, version))
    cases.append(make_case(METADATA, "Metadata 1000p", metadata_spec(10, 100), 12))
    api_versions = api_versions_spec(80)
    cases.append(make_case(API_VERSIONS, f"ApiVersions {len(api_versions.api_keys)} keys", api_versions, 3))
    return cases


# --------------------------------------------------------------------------------------------
# Verification.


def hex_window(data: bytes, at: int, radius: int = 24) -> str:
    lo, hi = max(0, at - radius), min(len(data), at + radius)
    return f"[{lo:#06x}..{hi:#06x}) {data[lo:hi].hex(' ')}"


def describe_mismatch(case: Case, impl: str, ours: bytes, theirs: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    lines = [
        f"BYTE MISMATCH  {case.label}: ours vs {impl}",
        f"  lengths: ours={len(ours)} {impl}={len(theirs)}; first difference at offset {at} ({at:#x})",
        f"  ours    {hex_window(ours, at)}",
        f"  {impl:<7} {hex_window(theirs, at)}",
    ]
    if len(ours) <= 512 and len(theirs) <= 512:
        lines += [f"  ours full:    {ours.hex()}", f"  {impl} full: {theirs.hex()}"]
    return "\n".join(lines)


def verify(case: Case) -> list[str]:
    problems = []
    ours = bytes(case.impls["ours"].encode())
    for name, impl in case.impls.items():
        if name == "ours":
            continue
        theirs = bytes(impl.encode())
        if impl.version == case.version and theirs != ours:
            problems.append(describe_mismatch(case, name, ours, theirs))
            case.mismatch.add(name)
    for name, impl in case.impls.items():
        if impl.version != case.version:
            continue
        try:
            decoded = impl.decode(ours)
            ok = decoded == impl.value
            why = "decodes our bytes to a different value"
        except Exception as exc:  # report, keep checking the others
            ok, why = False, f"cannot decode our bytes: {type(exc).__name__}: {exc}"
        if not ok:
            problems.append(f"DECODE MISMATCH  {case.label}: {name} {why}")
            case.mismatch.add(name)
    return problems


# --------------------------------------------------------------------------------------------
# Timing.


def measure(fn: Callable[[], Any], target: float, repeat: int) -> float:
    """Best seconds per call: loops scaled so one measurement takes about ``target`` s."""
    timer = timeit.Timer(fn)
    number, elapsed = 1, timer.timeit(1)
    while elapsed < target * 0.8:
        number = max(number + 1, math.ceil(number * target / max(elapsed, 1e-9)))
        elapsed = timer.timeit(number)
    best = elapsed / number
    for _ in range(repeat - 1):
        best = min(best, timer.timeit(number) / number)
    return best


def fmt_rate(ops: float) -> str:
    if ops >= 1e6:
        return f"{ops / 1e6:.2f}M"
    if ops >= 1e4:
        return f"{ops / 1e3:.1f}k"
    if ops >= 1e3:
        return f"{ops / 1e3:.2f}k"
    return f"{ops:.1f}"


def print_versions() -> None:
    print(f"Python        {platform.python_version()} ({platform.python_implementation()}, {sys.platform})")
    print(f"kafka-python  {kafka.__version__}")
    print(f"kio           {kio.__version__}")
    print(f"construct     {construct.__version__}")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: short measurements, one repeat")
    ap.add_argument("--target", type=float, default=None, help="seconds per measurement (default 0.25)")
    ap.add_argument("--repeat", type=int, default=None, help="measurements per cell, best kept (default 3)")
    ap.add_argument("--only", default="", help="run only cases whose label contains this text")
    ap.add_argument("--keep-going", action="store_true", help="benchmark even if encodings differ")
    args = ap.parse_args(argv)
    target = args.target if args.target is not None else (0.02 if args.quick else 0.25)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)

    print_versions()
    started = time.perf_counter()
    cases = [c for c in build_cases() if args.only.lower() in c.label.lower()]

    problems = []
    for case in cases:
        problems += verify(case)
    if problems:
        print("\n\n".join(problems), "\n")
        if not args.keep_going:
            raise AssertionError(
                f"{len(problems)} encoding/decoding mismatch(es); see above (--keep-going to time anyway)"
            )
    else:
        print(
            f"verified: all {len(IMPLS)} implementations encode each of the {len(cases)} cases to "
            "identical bytes, and each decodes those bytes back to the value it built\n"
        )
    for case in cases:
        for note in case.notes:
            print(f"note: {case.label}: {note}")

    header = (
        f"{'message':<24} {'op':<6} " + " ".join(f"{n:>12}" for n in IMPLS) + f" {'vs-kp':>6} {'ratio':>7}  verdict"
    )
    print(f"ops/s (best of {repeat}, ~{target:g} s per measurement); ratio = ours / max(kafka-python, kio),")
    print("vs-kp = ours / kafka-python alone (information only)")
    for what, fn in (("decode", entity_reader), ("encode", entity_writer)):
        kind = "native extension" if inspect.isbuiltin(fn) else "pure Python"
        kind += f" ({fn.__module__}.{fn.__name__})"
        print(f"kio {what}: {kind}")
    print()
    print(header)
    print("-" * len(header))
    below = 0
    gc.collect()
    for case in cases:
        data = bytes(case.impls["ours"].encode())
        for op in ("decode", "encode"):
            rates = {}
            for name, impl in case.impls.items():
                fn: Callable[[], Any]
                if op == "encode":
                    fn = impl.encode
                else:
                    payload = data if impl.version == case.version else bytes(impl.encode())
                    fn = lambda d=impl.decode, p=payload: d(p)  # noqa: E731
                rates[name] = 1.0 / measure(fn, target, repeat)
            rival = max(rates["kafka-python"], rates["kio"])
            ratio = rates["ours"] / rival
            verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW"
            below += verdict == "BELOW"
            flags = f"  (mismatch: {', '.join(sorted(case.mismatch))})" if case.mismatch else ""
            cells = " ".join(f"{fmt_rate(rates[n]):>12}" for n in IMPLS)
            vs_kp = rates["ours"] / rates["kafka-python"]
            print(
                f"{case.label:<24} {op:<6} {cells} {vs_kp:>5.2f}x {ratio:>6.2f}x  {verdict}{flags}",
                flush=True,
            )
    print("-" * len(header))
    rows = 2 * len(cases)
    elapsed = time.perf_counter() - started
    print(f"{rows - below}/{rows} rows at ratio >= {TARGET_RATIO:g}; total {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
