"""Protocol sweep: the same raw requests to Chronik and Kafka, responses compared field by field.

For every API either broker advertises and every version of it, each request case of that API
(built by :data:`BUILDERS` against sweep-owned ``sweep.<tag>.*`` topics, including a few error
paths) is sent to both brokers with the generated codecs, and the decoded responses are compared.
Values that legitimately differ are left out by :data:`IGNORED_FIELDS` (one table, a reason per
row); node ids are compared as "this broker" rather than as numbers (:data:`NODE_ID_FIELDS`).

Usage::

    python -m chronik_conformance.sweep --chronik 127.0.0.1:9092 --kafka 127.0.0.1:9093 [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import re
import socket
import struct
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chronik.protocol.records import SimpleRecord, build_batch, build_legacy_message_set, split_batches
from chronik_protocol.api_table import APIS, MESSAGES, message_class
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader

__all__ = [
    "IGNORED_FIELDS",
    "NODE_ID_FIELDS",
    "Difference",
    "SweepResult",
    "compare",
    "main",
    "run_sweep",
    "to_plain",
]

# ---------------------------------------------------------------------------------------------
# Comparison rules
# ---------------------------------------------------------------------------------------------

#: (API name or "*", field path pattern, reason). A path looks like
#: ``<case>.topics[name=t].partitions[0].error_code`` (the request case's label first, then fields, list
#: items by key or position). In a pattern ``*`` matches anything and ``[]`` any one item; a suffix
#: ``<presence>`` matches only "item present on one side only".
IGNORED_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("*", "*.throttle_time_ms", "quota throttling is broker state, not protocol behaviour"),
    ("*", "*.error_message", "free-form text; the error code is compared"),
    ("*", "*.cluster_id", "random per cluster"),
    ("*", "*.topic_id", "random UUID per topic"),
    ("*", "*.host", "listener address"),
    ("*", "*.port", "listener address"),
    ("ApiVersions", "*.api_keys", "advertised ranges are compared as the sweep's kafka-only/chronik-only statuses"),
    ("ApiVersions", "*.supported_features", "intentional: Chronik lists no features (handlers/api_versions.py)"),
    ("ApiVersions", "*.finalized_features", "intentional: Chronik lists no features (handlers/api_versions.py)"),
    ("ApiVersions", "*.finalized_features_epoch", "KRaft metadata offset on Kafka, -1 on Chronik"),
    ("Fetch", "*.session_id", "random session id"),
    ("Fetch", "*.records.batches[].partition_leader_epoch", "leader epoch stamped by the broker"),
    ("InitProducerId", "*.producer_id", "allocation depends on each broker's history"),
    ("JoinGroup", "*.member_id", "random member id (UUID)"),
    ("ConsumerGroupHeartbeat", "*.member_id", "random member id (UUID)"),
    ("DescribeLogDirs", "*.log_dir", "filesystem path"),
    ("DescribeLogDirs", "*.total_bytes", "disk capacity of the machine"),
    ("DescribeLogDirs", "*.usable_bytes", "free disk space"),
    (
        "Metadata",
        "auto-create.topics[]*",
        "timing: Kafka creates auto-created topics asynchronously (UNKNOWN_TOPIC_OR_PARTITION first), Chronik at once",
    ),
    ("Metadata", "all.topics[]<presence>", "all-topics listing: other clients' topics differ; common ones compared"),
    ("ListGroups", "*.groups[]<presence>", "other clients' groups differ; common ones compared"),
    ("ListPartitionReassignments", "all.topics[]<presence>", "other clients' reassignments; common ones compared"),
    (
        "*",
        "*.configs[name=min.insync.replicas].config_source",
        "environment: Kafka's `storage format` writes a cluster default min.insync.replicas=1 (source 3)",
    ),
    (
        "*",
        "*.configs[name=min.insync.replicas].synonyms*",
        "environment: Kafka's `storage format` writes a cluster default min.insync.replicas=1 (source 3)",
    ),
    (
        "DescribeConfigs",
        "*.configs[name=num.partitions].*",
        "environment: kafka_reference sets num.partitions=1 in server.properties (source 4)",
    ),
    (
        "DescribeConfigs",
        "broker-logger.*.configs[name=root].value",
        "environment: each process's own logging setup (Kafka's log4j root level, Chronik's log level)",
    ),
)

#: Fields holding broker ids: each side's own id is replaced by ``"<self>"`` before comparing.
NODE_ID_FIELDS: frozenset[str] = frozenset(
    {
        "node_id",
        "broker_id",
        "controller_id",
        "leader_id",
        "leader",
        "replica_nodes",
        "isr_nodes",
        "offline_replicas",
        "replicas",
        "adding_replicas",
        "removing_replicas",
        "eligible_leader_replicas",
        "last_known_elr",
        "broker_ids",
    }
)

#: Fields naming list items, tried in order, so that lists are compared by key, not by position.
_KEY_FIELDS = (
    "name",
    "topic",
    "topic_name",
    "resource_name",
    "group_id",
    "partition_index",
    "partition",
    "index",
    "api_key",
)


@dataclass
class Difference:
    """One differing field: its path, and each broker's value (``"<missing>"`` when absent)."""

    path: str
    chronik: Any
    kafka: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "chronik": self.chronik, "kafka": self.kafka}


@dataclass
class SweepResult:
    """The outcome for one (API, version)."""

    api: str
    api_key: int
    version: int
    status: str  # same | differs | kafka-only | chronik-only | error
    differences: list[Difference] = field(default_factory=list)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "api_key": self.api_key,
            "version": self.version,
            "status": self.status,
            "differences": [d.to_dict() for d in self.differences],
            "detail": self.detail,
        }


def _summarize_records(data: bytes) -> dict[str, Any]:
    """Stored batches as comparable facts (the bytes differ by CRC/leader epoch, the content must not)."""
    split = split_batches(data)
    batches = []
    for b in split.batches:
        entry: dict[str, Any] = {"base_offset": b.base_offset, "magic": b.magic, "size": b.size}
        if b.magic == 2:
            entry.update(
                partition_leader_epoch=b.partition_leader_epoch,  # type: ignore[union-attr]
                last_offset_delta=b.last_offset_delta,  # type: ignore[union-attr]
                attributes=b.attributes,
                producer_id=b.producer_id,  # type: ignore[union-attr]
                base_timestamp=b.base_timestamp,  # type: ignore[union-attr]
                max_timestamp=b.max_timestamp,  # type: ignore[union-attr]
                records=[
                    [r.offset, r.timestamp, r.key.hex() if r.key else None]
                    for r in b.records()  # type: ignore[union-attr]
                ],
            )
        batches.append(entry)
    return {"batches": batches, "truncated_bytes": split.truncated_bytes}


def to_plain(obj: Any) -> Any:
    """A generated message as nested dicts/lists/scalars (UUIDs as strings, record bytes summarized)."""
    if type(obj).__module__.startswith("chronik_protocol.messages") and hasattr(obj, "__slots__"):
        out = {}
        for name in obj.__slots__:
            if name == "unknown_tagged_fields" and not getattr(obj, name):
                continue
            value = getattr(obj, name)
            if name == "records" and isinstance(value, (bytes, bytearray, memoryview)):
                try:
                    out[name] = _summarize_records(bytes(value))
                except Exception as exc:
                    out[name] = f"<undecodable records: {exc}>"
                continue
            out[name] = to_plain(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    return obj


@functools.cache
def _pattern(glob: str) -> re.Pattern[str]:
    """``*`` matches anything, ``[]`` any one list position or key, everything else is literal."""
    parts = re.split(r"(\*|\[\])", glob)
    table = {"*": ".*", "[]": r"\[[^\]]*\]"}
    return re.compile("".join(table.get(x, re.escape(x)) for x in parts))


def _ignored(api: str, path: str) -> bool:
    return any(a in ("*", api) and _pattern(pat).fullmatch(path) for a, pat, _ in IGNORED_FIELDS)


def _node(value: Any, self_id: int | None) -> Any:
    if self_id is None:
        return value
    if isinstance(value, list):
        return ["<self>" if v == self_id else v for v in value]
    return "<self>" if value == self_id else value


def _list_key(c: list[Any], k: list[Any]) -> str | None:
    """The first of :data:`_KEY_FIELDS` that every item has, unique within each side's list."""
    if not all(isinstance(i, dict) for i in c + k):
        return None
    for key in _KEY_FIELDS:
        for items in (c, k):
            values = [repr(i.get(key)) for i in items if i.get(key) is not None]
            if len(values) != len(items) or len(set(values)) != len(values):
                break
        else:
            return key
    return None


def compare(
    api: str,
    chronik: Any,
    kafka: Any,
    path: str = "",
    chronik_node: int | None = None,
    kafka_node: int | None = None,
) -> list[Difference]:
    """The differences between two plain responses (see :func:`to_plain`) of ``api``."""
    out: list[Difference] = []
    _diff(api, chronik, kafka, path, chronik_node, kafka_node, out)
    return out


def _diff(api: str, c: Any, k: Any, path: str, cn: int | None, kn: int | None, out: list[Difference]) -> None:
    if path and _ignored(api, path):
        return
    if isinstance(c, dict) and isinstance(k, dict):
        for name in list(c) + [n for n in k if n not in c]:
            sub = f"{path}.{name}" if path else name
            if name not in c or name not in k:
                if not _ignored(api, sub):
                    out.append(Difference(sub, c.get(name, "<missing>"), k.get(name, "<missing>")))
                continue
            _diff(api, c[name], k[name], sub, cn, kn, out)
        return
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(c, list) and isinstance(k, list) and not (leaf in NODE_ID_FIELDS and not _has_dicts(c, k)):
        key = _list_key(c, k) if c and k else None
        if key is not None:
            cmap = {repr(i[key]): i for i in c}
            kmap = {repr(i[key]): i for i in k}
            for kv in list(cmap) + [x for x in kmap if x not in cmap]:
                sub = f"{path}[{key}={kv.strip(chr(39))}]"
                if kv not in cmap or kv not in kmap:
                    if not _ignored(api, sub + "<presence>"):
                        out.append(
                            Difference(
                                sub,
                                "<present>" if kv in cmap else "<missing>",
                                "<present>" if kv in kmap else "<missing>",
                            )
                        )
                    continue
                _diff(api, cmap[kv], kmap[kv], sub, cn, kn, out)
            return
        for i in range(max(len(c), len(k))):
            sub = f"{path}[{i}]"
            if i >= len(c) or i >= len(k):
                if not _ignored(api, sub + "<presence>"):
                    out.append(
                        Difference(sub, c[i] if i < len(c) else "<missing>", k[i] if i < len(k) else "<missing>")
                    )
                continue
            _diff(api, c[i], k[i], sub, cn, kn, out)
        return
    if leaf in NODE_ID_FIELDS:
        c, k = _node(c, cn), _node(k, kn)
    if c != k:
        out.append(Difference(path, c, k))


def _has_dicts(c: list[Any], k: list[Any]) -> bool:
    return any(isinstance(i, dict) for i in c + k)


# ---------------------------------------------------------------------------------------------
# Wire
# ---------------------------------------------------------------------------------------------


class SweepError(Exception):
    """No usable response: connection closed, timeout, undecodable bytes."""


class _Conn:
    """One blocking connection to a broker; reconnects after a failure."""

    def __init__(self, bootstrap: str, timeout: float = 5.0) -> None:
        host, _, port = bootstrap.rpartition(":")
        self.addr = (host, int(port))
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.correlation = 0

    def call(self, api_key: int, version: int, body: Any) -> Any:
        """Send ``body`` at ``version``; return the decoded response body."""
        api = APIS[api_key]
        data = self.exchange(api_key, version, version, body)
        try:
            header, pos = ResponseHeader.decode_from(data, 0, api.response_header_version(version))
            if header.correlation_id != self.correlation:
                raise SweepError(f"correlation id {header.correlation_id} != {self.correlation}")
            return api.response_class().decode_from(data, pos, version)[0]
        except SweepError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise SweepError(f"undecodable response ({len(data)} bytes): {exc}") from exc

    def exchange(self, api_key: int, header_version: int, body_version: int, body: Any) -> memoryview:
        """Send a request whose header says ``header_version`` and whose body is encoded at
        ``body_version``; return the raw response frame."""
        api = APIS[api_key]
        self.correlation += 1
        frame = bytearray()
        RequestHeader(
            request_api_key=api_key,
            request_api_version=header_version,
            correlation_id=self.correlation,
            client_id="sweep",
        ).encode_into(frame, api.request_header_version(body_version))
        body.encode_into(frame, body_version)
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.addr, timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(struct.pack(">i", len(frame)) + frame)
            size = struct.unpack(">i", self._recv(4))[0]
            return memoryview(self._recv(size))
        except (OSError, ConnectionError) as exc:
            self.close()
            raise SweepError(f"{type(exc).__name__}: {exc}") from exc

    def _recv(self, n: int) -> bytes:
        assert self.sock is not None
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("connection closed by broker")
            out += chunk
        return bytes(out)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# ---------------------------------------------------------------------------------------------
# Request builders
# ---------------------------------------------------------------------------------------------

#: Record timestamps start 10 minutes ago: recent enough that no retention (7 days) deletes them.
T0 = int(time.time()) * 1000 - 600_000
DATA_RECORDS = 5


def _m(cls_name: str, /, **kw: Any) -> Any:
    """An instance of a message class, or of a nested struct named ``Message.Struct`` (or just ``Struct``)."""
    if "." in cls_name:
        msg, _, struct_name = cls_name.partition(".")
        return getattr(importlib.import_module(MESSAGES[msg]), struct_name)(**kw)
    if cls_name in MESSAGES:
        return message_class(cls_name)(**kw)
    return _request_structs()[cls_name](**kw)


@functools.cache
def _request_structs() -> dict[str, Any]:
    """Nested struct name → class, over every request spec (names used by two requests are left out)."""
    found: dict[str, list[Any]] = {}
    for api in APIS.values():
        module = importlib.import_module(MESSAGES[api.request])
        for name in getattr(module, "__all__", ()):
            found.setdefault(name, []).append(getattr(module, name))
    return {n: cls[0] for n, cls in found.items() if len(cls) == 1}


def _records(n: int, tag: str) -> list[SimpleRecord]:
    return [SimpleRecord(f"k{i}".encode(), f"{tag}{i}".encode(), (), T0 + i * 1000) for i in range(n)]


def _batch(n: int = DATA_RECORDS, tag: str = "r", **kw: Any) -> bytes:
    return bytes(build_batch(_records(n, tag), **kw))


@dataclass
class Side:
    """One broker's facts the builders need: its node id and topic ids."""

    node_id: int = -1
    topic_ids: dict[str, uuid.UUID] = field(default_factory=dict)


def run_tag() -> str:
    """A tag that makes a run's resource names unique."""
    return format(int(time.time() * 1000) % 0xFFFFFFFF, "x")


@dataclass
class Plan:
    """Sweep-owned topic names (unique per run): ``<space>.<tag>.*``."""

    tag: str
    space: str = "sweep"

    def t(self, what: str) -> str:
        return f"{self.space}.{self.tag}.{what}"

    @property
    def data(self) -> str:
        return self.t("data")

    @property
    def missing(self) -> str:
        return self.t("missing")


Cases = list[tuple[str, Any]]
Builder = Callable[[Plan, Side, int], Cases]

_RANDOM_ID = uuid.UUID("5b0a2d2e-0000-4000-8000-00000000c0de")


def _produce(p: Plan, s: Side, v: int) -> Cases:
    bad = bytearray(_batch(1))
    bad[-1] ^= 0xFF  # breaks the CRC

    def req(topic: str, part: int, records: bytes, acks: int = -1) -> Any:
        t = _m("TopicProduceData", name=topic, partition_data=[_m("PartitionProduceData", index=part, records=records)])
        if v >= 13:
            t.topic_id = s.topic_ids.get(topic, _RANDOM_ID)
        return _m("ProduceRequest", acks=acks, timeout_ms=5000, topic_data=[t])

    legacy = bytes(build_legacy_message_set(_records(1, "l"), magic=1))
    return [
        ("ok", req(p.data, 1, _batch(2, f"p{v}-"))),
        ("unknown-topic", req(p.missing, 0, _batch(1))),
        ("bad-partition", req(p.data, 99, _batch(1))),
        ("corrupt-crc", req(p.data, 2, bytes(bad))),
        ("empty-records", req(p.data, 2, b"")),
        ("legacy-magic-1", req(p.data, 2, legacy)),
        ("idempotent-new", req(p.data, 2, _batch(1, producer_id=424200 + v, producer_epoch=0, base_sequence=0))),
        ("idempotent-gap", req(p.data, 2, _batch(1, producer_id=424300 + v, producer_epoch=0, base_sequence=7))),
        ("acks-invalid", req(p.data, 2, _batch(1), acks=2)),
    ]


def _fetch(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, offset: int, epoch: int = -1, max_bytes: int = 1 << 20) -> Any:
        fp = _m(
            "FetchRequest.FetchPartition",
            partition=part,
            fetch_offset=offset,
            partition_max_bytes=max_bytes,
            current_leader_epoch=epoch,
        )
        ft = _m("FetchRequest.FetchTopic", topic=topic, partitions=[fp])
        if v >= 13:
            ft.topic_id = s.topic_ids.get(topic, _RANDOM_ID)
        return _m(
            "FetchRequest",
            replica_id=-1,
            max_wait_ms=0,
            min_bytes=0,
            max_bytes=1 << 20,
            session_id=0,
            session_epoch=-1,
            topics=[ft],
        )

    cases = [
        ("from-0", req(p.data, 0, 0)),
        ("from-3", req(p.data, 0, 3)),
        ("at-end", req(p.data, 0, DATA_RECORDS)),
        ("out-of-range", req(p.data, 0, 99)),
        ("bad-partition", req(p.data, 99, 0)),
        ("unknown-topic", req(p.missing, 0, 0)),
        ("tiny-partition-max-bytes", req(p.data, 0, 0, max_bytes=10)),
    ]
    if v >= 4:
        committed = req(p.data, 0, 0)
        committed.isolation_level = 1
        cases.append(("read-committed", committed))
    if v >= 9:
        cases.append(("future-leader-epoch", req(p.data, 0, 0, epoch=5)))
    return cases


def _list_offsets(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, ts: int, epoch: int = -1, copies: int = 1) -> Any:
        lp = [
            _m(
                "ListOffsetsPartition",
                partition_index=part,
                timestamp=ts,
                max_num_offsets=1,
                current_leader_epoch=epoch,
            )
            for _ in range(copies)
        ]
        return _m("ListOffsetsRequest", replica_id=-1, topics=[_m("ListOffsetsTopic", name=topic, partitions=lp)])

    cases = [
        ("earliest", req(p.data, 0, -2)),
        ("latest", req(p.data, 0, -1)),
        ("by-time", req(p.data, 0, T0 + 2000)),
        ("by-time-between", req(p.data, 0, T0 + 2500)),
        ("by-time-after", req(p.data, 0, T0 + 60000)),
        ("bad-partition", req(p.data, 99, -1)),
        ("unknown-topic", req(p.missing, 0, -1)),
        ("duplicate-partition", req(p.data, 0, -1, copies=2)),
    ]
    if v >= 4:
        cases.append(("future-leader-epoch", req(p.data, 0, -1, epoch=5)))
    if v >= 7:
        cases.append(("max-timestamp", req(p.data, 0, -3)))
    if v >= 8:
        cases.append(("earliest-local", req(p.data, 0, -4)))
    if v >= 9:
        cases.append(("latest-tiered", req(p.data, 0, -5)))
    if v >= 11:
        cases.append(("earliest-pending-upload", req(p.data, 0, -6)))
    return cases


def _metadata(p: Plan, s: Side, v: int) -> Cases:
    def req(names: list[str] | None) -> Any:
        topics = None if names is None else [_m("MetadataRequestTopic", name=n) for n in names]
        return _m("MetadataRequest", topics=topics, allow_auto_topic_creation=False)

    # v0-3 always auto-create: a fresh name per version keeps p.missing missing for the other APIs
    cases = [
        ("named", req([p.data])),
        ("unknown-topic", req([p.missing])) if v >= 4 else ("auto-create", req([p.t(f"auto.v{v}")])),
        ("all", req(None if v >= 1 else [])),
        ("duplicate-names", req([p.data, p.data])),
    ]
    if v >= 1:
        cases.append(("empty-list", req([])))
    if v >= 8:
        r = req([p.data])
        r.include_topic_authorized_operations = True
        r.include_cluster_authorized_operations = v <= 10
        cases.append(("authorized-ops", r))
    if v >= 12:
        by_id = req([])
        by_id.topics = [_m("MetadataRequestTopic", name=None, topic_id=s.topic_ids.get(p.data, _RANDOM_ID))]
        cases.append(("by-topic-id", by_id))
    return cases


def _create_topics(p: Plan, s: Side, v: int) -> Cases:
    def req(topics: list[Any], validate_only: bool = False) -> Any:
        return _m("CreateTopicsRequest", topics=topics, timeout_ms=5000, validate_only=validate_only)

    def topic(name: str, parts: int = 2, rf: int = 1, configs: dict[str, str] | None = None) -> Any:
        cfg = [_m("CreatableTopicConfig", name=k, value=val) for k, val in (configs or {}).items()]
        return _m("CreatableTopic", name=name, num_partitions=parts, replication_factor=rf, configs=cfg)

    def assigned(name: str, replicas: list[list[int]], parts: int = -1, first: int = 0) -> Any:
        a = [_m("CreatableReplicaAssignment", partition_index=first + i, broker_ids=r) for i, r in enumerate(replicas)]
        return _m("CreatableTopic", name=name, num_partitions=parts, replication_factor=-1, assignments=a)

    me = s.node_id
    cases = [
        ("create", req([topic(p.t(f"ct.v{v}"), configs={"retention.ms": "3600000"})])),
        ("exists", req([topic(p.data)])),
        ("zero-partitions", req([topic(p.t(f"ct0.v{v}"), parts=0)])),
        ("rf-too-big", req([topic(p.t(f"ctrf.v{v}"), rf=3)])),
        ("bad-config", req([topic(p.t(f"ctbad.v{v}"), configs={"no.such.config": "1"})])),
        ("bad-config-value", req([topic(p.t(f"ctval.v{v}"), configs={"retention.ms": "abc"})])),
        ("bad-max-message-bytes", req([topic(p.t(f"ctmmb.v{v}"), configs={"max.message.bytes": "-5"})])),
        ("bad-name", req([topic(f"sweep.{p.tag}.bad/name.v{v}")])),
        ("empty-name", req([topic("")])),
        ("collides", req([topic(f"sweep_{p.tag}_data")])),
        ("duplicate-in-request", req([topic(p.t(f"ctdup.v{v}")), topic(p.t(f"ctdup.v{v}"))])),
        ("assignments", req([assigned(p.t(f"cta.v{v}"), [[me], [me]])])),
        ("assignments-unknown-broker", req([assigned(p.t(f"ctau.v{v}"), [[12345]])])),
        ("assignments-with-count", req([assigned(p.t(f"ctac.v{v}"), [[me]], parts=1)])),
        ("assignments-gap", req([assigned(p.t(f"ctag.v{v}"), [[me]], first=1)])),
    ]
    if v >= 1:
        cases.append(("validate-only", req([topic(p.t(f"ctvo.v{v}"))], validate_only=True)))
    if v >= 4:
        cases.append(("defaults", req([topic(p.t(f"ctdef.v{v}"), parts=-1, rf=-1)])))
    return cases


def _delete_topics(p: Plan, s: Side, v: int) -> Cases:
    def by_state(*states: tuple[str | None, uuid.UUID]) -> Any:
        topics = [_m("DeleteTopicState", name=n, topic_id=i) for n, i in states]
        return _m("DeleteTopicsRequest", topics=topics, timeout_ms=5000)

    name, missing, zero = p.t(f"dt.v{v}"), p.missing, uuid.UUID(int=0)
    if v >= 6:
        return [
            ("by-name", by_state((name, zero))),
            ("unknown-topic", by_state((missing, zero))),
            ("by-id", by_state((None, s.topic_ids.get(p.t(f"dtid.v{v}"), _RANDOM_ID)))),
            ("unknown-id", by_state((None, _RANDOM_ID))),
            ("name-and-id", by_state((p.data, s.topic_ids.get(p.data, _RANDOM_ID)))),
        ]
    return [
        ("by-name", _m("DeleteTopicsRequest", topic_names=[name], timeout_ms=5000)),
        ("unknown-topic", _m("DeleteTopicsRequest", topic_names=[missing], timeout_ms=5000)),
        ("duplicate-names", _m("DeleteTopicsRequest", topic_names=[missing, missing], timeout_ms=5000)),
    ]


def _delete_records(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, offset: int) -> Any:
        dp = _m("DeleteRecordsPartition", partition_index=part, offset=offset)
        topics = [_m("DeleteRecordsTopic", name=topic, partitions=[dp])]
        return _m("DeleteRecordsRequest", topics=topics, timeout_ms=5000)

    dr = p.t("dr")
    return [
        ("to-2", req(dr, 0, 2)),
        ("to-high-watermark", req(dr, 1, -1)),
        ("beyond-end", req(dr, 0, 99)),
        ("negative", req(dr, 0, -5)),
        ("bad-partition", req(dr, 99, 0)),
        ("unknown-topic", req(p.missing, 0, 0)),
    ]


def _init_producer_id(p: Plan, s: Side, v: int) -> Cases:
    cases = [("idempotent", _m("InitProducerIdRequest", transactional_id=None, transaction_timeout_ms=60000))]
    if v >= 3:
        bump = _m(
            "InitProducerIdRequest",
            transactional_id=None,
            transaction_timeout_ms=60000,
            producer_id=123456,
            producer_epoch=0,
        )
        cases.append(("unknown-pid-bump", bump))
    return cases


def _offset_for_leader_epoch(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, epoch: int, current: int = -1) -> Any:
        op = _m("OffsetForLeaderPartition", partition=part, current_leader_epoch=current, leader_epoch=epoch)
        topics = [_m("OffsetForLeaderTopic", topic=topic, partitions=[op])]
        return _m("OffsetForLeaderEpochRequest", replica_id=-1, topics=topics)

    return [
        ("epoch-0", req(p.data, 0, 0)),
        ("epoch-future", req(p.data, 0, 7)),
        ("current-epoch-future", req(p.data, 0, 0, current=5)),
        ("current-epoch-0", req(p.data, 0, 0, current=0)),
        ("bad-partition", req(p.data, 99, 0)),
        ("unknown-topic", req(p.missing, 0, 0)),
    ]


def _describe_configs(p: Plan, s: Side, v: int) -> Cases:
    def req(rtype: int, name: str, keys: list[str] | None, docs: bool = False) -> Any:
        r = _m("DescribeConfigsResource", resource_type=rtype, resource_name=name, configuration_keys=keys)
        return _m("DescribeConfigsRequest", resources=[r], include_synonyms=v >= 1, include_documentation=docs)

    keys = ["cleanup.policy", "retention.ms", "max.message.bytes", "segment.bytes", "min.insync.replicas"]
    cases = [
        ("topic-keys", req(2, p.data, keys)),
        ("topic-altered", req(2, p.t("cfg"), keys)),
        ("topic-all", req(2, p.data, None)),
        ("broker-keys", req(4, str(s.node_id), ["num.partitions", "log.retention.hours", "message.max.bytes"])),
        ("unknown-topic", req(2, p.missing, None)),
        ("unknown-key", req(2, p.data, ["no.such.config"])),
        ("bad-broker", req(4, "not-a-number", None)),
        ("other-broker", req(4, "12345", ["num.partitions"])),
        ("default-broker", req(4, "", ["message.max.bytes"])),
        ("unknown-resource-type", req(99, "x", None)),
        ("broker-logger", req(8, str(s.node_id), ["root"])),
    ]
    if v >= 3:
        cases.append(("topic-documentation", req(2, p.data, keys, docs=True)))
    return cases


def _alter_configs(p: Plan, s: Side, v: int) -> Cases:
    def req(name: str, cfg: dict[str, str | None], validate_only: bool = False, rtype: int = 2) -> Any:
        configs = [_m("AlterConfigsRequest.AlterableConfig", name=k, value=val) for k, val in cfg.items()]
        r = _m("AlterConfigsRequest.AlterConfigsResource", resource_type=rtype, resource_name=name, configs=configs)
        return _m("AlterConfigsRequest", resources=[r], validate_only=validate_only)

    cfg, me = p.t("cfg"), str(s.node_id)
    return [
        ("set", req(cfg, {"retention.ms": "7200000"})),
        ("validate-only", req(cfg, {"retention.ms": "1"}, validate_only=True)),
        ("unknown-config", req(cfg, {"no.such.config": "1"})),
        ("bad-value", req(cfg, {"retention.ms": "abc"})),
        ("unknown-topic", req(p.missing, {"retention.ms": "1"})),
        ("null-value", req(cfg, {"retention.ms": None})),
        ("unknown-resource-type", req("x", {"a": "1"}, rtype=99)),
        ("broker-validate-only", req(me, {"log.cleaner.threads": "2"}, validate_only=True, rtype=4)),
        ("broker-static-only", req(me, {"num.network.threads": "x"}, validate_only=True, rtype=4)),
    ]


def _incremental_alter_configs(p: Plan, s: Side, v: int) -> Cases:
    def req(name: str, ops: list[tuple[str, int, str | None]], validate_only: bool = False, rtype: int = 2) -> Any:
        configs = [
            _m("IncrementalAlterConfigsRequest.AlterableConfig", name=k, config_operation=op, value=val)
            for k, op, val in ops
        ]
        r = _m(
            "IncrementalAlterConfigsRequest.AlterConfigsResource",
            resource_type=rtype,
            resource_name=name,
            configs=configs,
        )
        return _m("IncrementalAlterConfigsRequest", resources=[r], validate_only=validate_only)

    cfg, me = p.t("cfg"), str(s.node_id)
    return [
        ("set", req(cfg, [("retention.ms", 0, "3600000")])),
        ("delete", req(cfg, [("segment.ms", 1, None)])),
        ("append", req(cfg, [("cleanup.policy", 2, "compact")])),
        ("subtract", req(cfg, [("cleanup.policy", 3, "compact")])),
        ("append-non-list", req(cfg, [("retention.ms", 2, "5")])),
        ("bad-op", req(cfg, [("retention.ms", 9, "5")])),
        ("unknown-config", req(cfg, [("no.such.config", 0, "1")])),
        ("bad-value", req(cfg, [("retention.ms", 0, "abc")])),
        ("validate-only", req(cfg, [("retention.ms", 0, "1")], validate_only=True)),
        ("unknown-topic", req(p.missing, [("retention.ms", 0, "1")])),
        ("duplicate-key", req(cfg, [("retention.ms", 0, "1"), ("retention.ms", 0, "2")])),
        ("delete-unknown", req(cfg, [("no.such.config", 1, None)])),
        ("unknown-resource-type", req("x", [("a", 0, "1")], rtype=99)),
        ("broker-validate-only", req(me, [("log.cleaner.threads", 0, "2")], validate_only=True, rtype=4)),
        ("broker-static-only", req(me, [("num.network.threads", 0, "5")], validate_only=True, rtype=4)),
    ]


def _describe_log_dirs(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, parts: list[int]) -> Any:
        return _m("DescribeLogDirsRequest", topics=[_m("DescribableLogDirTopic", topic=topic, partitions=parts)])

    return [
        ("data", req(p.data, [0, 1])),
        ("unknown-topic", req(p.missing, [0])),
        ("bad-partition", req(p.data, [99])),
    ]


def _create_partitions(p: Plan, s: Side, v: int) -> Cases:
    def req(name: str, count: int, validate_only: bool = False, assign: list[list[int]] | None = None) -> Any:
        assignments = None if assign is None else [_m("CreatePartitionsAssignment", broker_ids=a) for a in assign]
        t = _m("CreatePartitionsTopic", name=name, count=count, assignments=assignments)
        return _m("CreatePartitionsRequest", topics=[t], timeout_ms=5000, validate_only=validate_only)

    cp = p.t(f"cp.v{v}")
    twice = [_m("CreatePartitionsTopic", name=cp, count=9), _m("CreatePartitionsTopic", name=cp, count=9)]
    return [
        ("grow", req(cp, 3)),
        ("validate-only", req(cp, 5, validate_only=True)),
        ("same-count", req(cp, 3)),
        ("shrink", req(cp, 1)),
        ("assigned", req(cp, 4, assign=[[s.node_id]])),
        ("assignment-count-mismatch", req(cp, 6, assign=[[s.node_id]])),
        ("assignment-unknown-broker", req(cp, 5, assign=[[12345]])),
        ("unknown-topic", req(p.missing, 4)),
        ("duplicate", _m("CreatePartitionsRequest", topics=twice, timeout_ms=5000)),
    ]


def _elect_leaders(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, parts: list[int], election: int = 0) -> Any:
        tp = _m("ElectLeadersRequest.TopicPartitions", topic=topic, partitions=parts)
        return _m("ElectLeadersRequest", election_type=election, topic_partitions=[tp], timeout_ms=5000)

    cases = [
        ("preferred", req(p.data, [0])),
        ("unknown-topic", req(p.missing, [0])),
        ("bad-partition", req(p.data, [99])),
    ]
    if v >= 1:
        cases.append(("unclean", req(p.data, [0], election=1)))
    return cases


def _alter_partition_reassignments(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, replicas: list[int] | None) -> Any:
        rp = _m("ReassignablePartition", partition_index=part, replicas=replicas)
        return _m(
            "AlterPartitionReassignmentsRequest",
            timeout_ms=5000,
            topics=[_m("ReassignableTopic", name=topic, partitions=[rp])],
        )

    return [
        ("same-replicas", req(p.data, 0, [s.node_id])),
        ("cancel-none", req(p.data, 0, None)),
        ("unknown-broker", req(p.data, 0, [12345])),
        ("empty-replicas", req(p.data, 0, [])),
        ("bad-partition", req(p.data, 99, [s.node_id])),
        ("unknown-topic", req(p.missing, 0, [s.node_id])),
    ]


def _list_partition_reassignments(p: Plan, s: Side, v: int) -> Cases:
    topic = _m("ListPartitionReassignmentsTopics", name=p.data, partition_indexes=[0, 99])
    return [
        ("all", _m("ListPartitionReassignmentsRequest", timeout_ms=5000, topics=None)),
        ("named", _m("ListPartitionReassignmentsRequest", timeout_ms=5000, topics=[topic])),
    ]


def _describe_cluster(p: Plan, s: Side, v: int) -> Cases:
    cases = [
        ("plain", _m("DescribeClusterRequest")),
        ("authorized-ops", _m("DescribeClusterRequest", include_cluster_authorized_operations=True)),
    ]
    if v >= 1:
        cases.append(("controllers-endpoint", _m("DescribeClusterRequest", endpoint_type=2)))
        cases.append(("bad-endpoint-type", _m("DescribeClusterRequest", endpoint_type=7)))
    if v >= 2:
        cases.append(("fenced", _m("DescribeClusterRequest", include_fenced_brokers=True)))
    return cases


def _describe_topic_partitions(p: Plan, s: Side, v: int) -> Cases:
    def req(names: list[str], limit: int = 2000, cursor: Any = None) -> Any:
        return _m(
            "DescribeTopicPartitionsRequest",
            topics=[_m("DescribeTopicPartitionsRequest.TopicRequest", name=n) for n in names],
            response_partition_limit=limit,
            cursor=cursor,
        )

    return [
        ("named", req([p.data])),
        ("unknown-topic", req([p.missing])),
        ("limit-2", req([p.data], limit=2)),
        ("cursor", req([p.data], cursor=_m("Cursor", topic_name=p.data, partition_index=1))),
    ]


def _api_versions(p: Plan, s: Side, v: int) -> Cases:
    cases = [("plain", _m("ApiVersionsRequest", client_software_name="sweep", client_software_version="1.0"))]
    if v >= 3:
        cases.append(
            ("bad-software-name", _m("ApiVersionsRequest", client_software_name="-bad-", client_software_version="1.0"))
        )
    return cases


# Consumer-group APIs: a simple-consumer group ``sweep.<tag>.g.v<N>`` per version for commits, and
# error paths (unknown groups and members) that answer at once on both brokers.


def _group(p: Plan, v: int) -> str:
    return p.t(f"g.v{v}")


def _find_coordinator(p: Plan, s: Side, v: int) -> Cases:
    def req(key: str, key_type: int = 0) -> Any:
        if v >= 4:
            return _m("FindCoordinatorRequest", key_type=key_type, coordinator_keys=[key])
        return _m("FindCoordinatorRequest", key=key, key_type=key_type)

    cases = [("group", req(_group(p, v)))]
    if v >= 1:
        cases.append(("bad-key-type", req(_group(p, v), key_type=7)))
    return cases


def _offset_commit(p: Plan, s: Side, v: int) -> Cases:
    def req(topic: str, part: int, offset: int, group: str | None = None, generation: int = -1) -> Any:
        cp = _m("OffsetCommitRequestPartition", partition_index=part, committed_offset=offset, committed_metadata="m")
        t = _m("OffsetCommitRequestTopic", name=topic, partitions=[cp])
        if v >= 10:
            t.topic_id = s.topic_ids.get(topic, _RANDOM_ID)
        return _m(
            "OffsetCommitRequest",
            group_id=group or _group(p, v),
            generation_id_or_member_epoch=generation,
            member_id="",
            topics=[t],
        )

    return [
        ("simple-commit", req(p.data, 0, 3)),
        ("unknown-topic", req(p.missing, 0, 1)),
        ("bad-partition", req(p.data, 99, 1)),
        ("stale-generation", req(p.data, 0, 1, group=p.t(f"g-none.v{v}"), generation=5)),
    ]


def _offset_fetch(p: Plan, s: Side, v: int) -> Cases:
    def topics(named: bool) -> list[Any] | None:
        if not named:
            return None
        if v >= 8:
            t = _m("OffsetFetchRequestTopics", name=p.data, partition_indexes=[0, 1])
            if v >= 10:
                t.topic_id = s.topic_ids.get(p.data, _RANDOM_ID)
            return [t]
        return [_m("OffsetFetchRequestTopic", name=p.data, partition_indexes=[0, 1])]

    def req(group: str, named: bool = True) -> Any:
        if v >= 8:
            g = _m("OffsetFetchRequestGroup", group_id=group, topics=topics(named))
            return _m("OffsetFetchRequest", groups=[g])
        return _m("OffsetFetchRequest", group_id=group, topics=topics(named))

    cases = [("committed", req(_group(p, v))), ("unknown-group", req(p.t(f"g-none.v{v}")))]
    if v >= 2:
        cases.append(("all-topics", req(_group(p, v), named=False)))
    return cases


def _describe_groups(p: Plan, s: Side, v: int) -> Cases:
    return [("groups", _m("DescribeGroupsRequest", groups=[_group(p, v), p.t("g-none")]))]


def _list_groups(p: Plan, s: Side, v: int) -> Cases:
    cases = [("all", _m("ListGroupsRequest"))]
    if v >= 4:
        cases.append(("dead-filter", _m("ListGroupsRequest", states_filter=["Dead"])))
    return cases


def _join_group(p: Plan, s: Side, v: int) -> Cases:
    def req(group: str, session_ms: int) -> Any:
        protocols = [_m("JoinGroupRequestProtocol", name="range", metadata=b"")]
        return _m(
            "JoinGroupRequest",
            group_id=group,
            session_timeout_ms=session_ms,
            rebalance_timeout_ms=10000,
            member_id="",
            protocol_type="consumer",
            protocols=protocols,
        )

    cases = [("bad-session-timeout", req(p.t(f"j.v{v}"), 1))]
    if v >= 4:
        cases.append(("member-id-required", req(p.t(f"j.v{v}"), 10000)))
    return cases


def _heartbeat(p: Plan, s: Side, v: int) -> Cases:
    return [("unknown-member", _m("HeartbeatRequest", group_id=p.t("g-none"), generation_id=1, member_id="m"))]


def _sync_group(p: Plan, s: Side, v: int) -> Cases:
    return [("unknown-member", _m("SyncGroupRequest", group_id=p.t("g-none"), generation_id=1, member_id="m"))]


def _leave_group(p: Plan, s: Side, v: int) -> Cases:
    if v >= 3:
        members = [_m("MemberIdentity", member_id="m")]
        return [("unknown-member", _m("LeaveGroupRequest", group_id=p.t("g-none"), members=members))]
    return [("unknown-member", _m("LeaveGroupRequest", group_id=p.t("g-none"), member_id="m"))]


def _offset_delete(p: Plan, s: Side, v: int) -> Cases:
    def req(group: str, topic: str) -> Any:
        part = _m("OffsetDeleteRequestPartition", partition_index=0)
        return _m(
            "OffsetDeleteRequest",
            group_id=group,
            topics=[_m("OffsetDeleteRequestTopic", name=topic, partitions=[part])],
        )

    return [
        ("committed", req(_group(p, 0), p.data)),
        ("unknown-group", req(p.t("g-none"), p.data)),
        ("unknown-topic", req(_group(p, 1), p.missing)),
    ]


def _delete_groups(p: Plan, s: Side, v: int) -> Cases:
    return [("groups", _m("DeleteGroupsRequest", groups_names=[_group(p, 10 + v), p.t("g-none")]))]


def _consumer_group_heartbeat(p: Plan, s: Side, v: int) -> Cases:
    def req(epoch: int, member: str, topics: list[str] | None) -> Any:
        return _m(
            "ConsumerGroupHeartbeatRequest",
            group_id=p.t(f"cg.v{v}"),
            member_id=member,
            member_epoch=epoch,
            rebalance_timeout_ms=10000,
            subscribed_topic_names=topics,
        )

    return [
        ("join-without-subscription", req(0, str(_RANDOM_ID), None)),
        ("unknown-member", req(5, str(_RANDOM_ID), [p.data])),
    ]


def _consumer_group_describe(p: Plan, s: Side, v: int) -> Cases:
    return [("unknown-group", _m("ConsumerGroupDescribeRequest", group_ids=[p.t("g-none")]))]


def _acl_filter(cls: str, **kw: Any) -> Any:
    """A filter matching any topic ACL unless narrowed (resource type 2 TOPIC, pattern ANY 1, op/permission ANY 1)."""
    base = {
        "resource_type_filter": 2,
        "resource_name_filter": None,
        "pattern_type_filter": 1,
        "principal_filter": None,
        "host_filter": None,
        "operation": 1,
        "permission_type": 1,
    }
    return _m(cls, **{**base, **kw})


def _describe_acls(p: Plan, s: Side, v: int) -> Cases:
    return [
        ("any-topic", _acl_filter("DescribeAclsRequest")),
        ("match-name", _acl_filter("DescribeAclsRequest", resource_name_filter=p.data, pattern_type_filter=2)),
        ("unknown-resource-type", _acl_filter("DescribeAclsRequest", resource_type_filter=0)),
    ]


def _create_acls(p: Plan, s: Side, v: int) -> Cases:
    def creation(**kw: Any) -> Any:
        base = {
            "resource_type": 2,
            "resource_name": p.data,
            "resource_pattern_type": 3,
            "principal": "User:s",
            "host": "*",
            "operation": 3,
            "permission_type": 3,
        }
        return _m("AclCreation", **{**base, **kw})

    return [
        ("read-topic", _m("CreateAclsRequest", creations=[creation()])),
        ("bad-principal", _m("CreateAclsRequest", creations=[creation(principal="sweep")])),
        ("match-pattern", _m("CreateAclsRequest", creations=[creation(resource_pattern_type=2)])),
    ]


def _delete_acls(p: Plan, s: Side, v: int) -> Cases:
    return [
        ("principal", _m("DeleteAclsRequest", filters=[_acl_filter("DeleteAclsFilter", principal_filter="User:s")])),
        ("none", _m("DeleteAclsRequest", filters=[])),
    ]


def _scram_user(p: Plan, v: int) -> str:
    return p.t(f"scram-v{v}")


def _alter_user_scram_credentials(p: Plan, s: Side, v: int) -> Cases:
    def upsert(name: str, mechanism: int = 1, iterations: int = 8192) -> Any:
        return _m(
            "ScramCredentialUpsertion",
            name=name,
            mechanism=mechanism,
            iterations=iterations,
            salt=b"sweep-salt-0123456789",
            salted_password=bytes(range(32)),
        )

    user = _scram_user(p, v)
    return [
        ("upsert", _m("AlterUserScramCredentialsRequest", deletions=[], upsertions=[upsert(user)])),
        ("few-iterations", _m("AlterUserScramCredentialsRequest", deletions=[], upsertions=[upsert(user, 1, 100)])),
        ("bad-mechanism", _m("AlterUserScramCredentialsRequest", deletions=[], upsertions=[upsert(user, 0)])),
        (
            "delete-missing",
            _m(
                "AlterUserScramCredentialsRequest",
                deletions=[_m("ScramCredentialDeletion", name=p.t("nobody"), mechanism=1)],
                upsertions=[],
            ),
        ),
    ]


def _describe_user_scram_credentials(p: Plan, s: Side, v: int) -> Cases:
    users = [_m("UserName", name=_scram_user(p, 0))]
    return [
        ("known", _m("DescribeUserScramCredentialsRequest", users=users)),
        ("unknown", _m("DescribeUserScramCredentialsRequest", users=[_m("UserName", name=p.t("nobody"))])),
        ("duplicate", _m("DescribeUserScramCredentialsRequest", users=users + users)),
    ]


def _quota_entity(p: Plan, v: int) -> list[Any]:
    return [_m("EntityData", entity_type="client-id", entity_name=p.t(f"quota-v{v}"))]


def _alter_client_quotas(p: Plan, s: Side, v: int) -> Cases:
    def entry(key: str, value: float, remove: bool = False) -> Any:
        op = _m("OpData", key=key, value=value, remove=remove)
        return _m("EntryData", entity=_quota_entity(p, v), ops=[op])

    return [
        ("set", _m("AlterClientQuotasRequest", entries=[entry("producer_byte_rate", 1048576.0)], validate_only=False)),
        ("validate", _m("AlterClientQuotasRequest", entries=[entry("consumer_byte_rate", 1.0)], validate_only=True)),
        ("unknown-key", _m("AlterClientQuotasRequest", entries=[entry("sweep_rate", 1.0)], validate_only=False)),
    ]


def _describe_client_quotas(p: Plan, s: Side, v: int) -> Cases:
    def comp(match_type: int, match: str | None) -> Any:
        return _m("ComponentData", entity_type="client-id", match_type=match_type, match=match)

    return [
        ("exact", _m("DescribeClientQuotasRequest", components=[comp(0, p.t("quota-v0"))], strict=False)),
        ("missing", _m("DescribeClientQuotasRequest", components=[comp(0, p.t("nobody"))], strict=True)),
    ]


#: API key → request builder. APIs without one get the default request of their class.
BUILDERS: dict[int, Builder] = {
    0: _produce,
    1: _fetch,
    2: _list_offsets,
    3: _metadata,
    18: _api_versions,
    19: _create_topics,
    20: _delete_topics,
    21: _delete_records,
    22: _init_producer_id,
    23: _offset_for_leader_epoch,
    32: _describe_configs,
    33: _alter_configs,
    35: _describe_log_dirs,
    37: _create_partitions,
    43: _elect_leaders,
    44: _incremental_alter_configs,
    45: _alter_partition_reassignments,
    46: _list_partition_reassignments,
    60: _describe_cluster,
    75: _describe_topic_partitions,
    8: _offset_commit,
    9: _offset_fetch,
    10: _find_coordinator,
    11: _join_group,
    12: _heartbeat,
    13: _leave_group,
    14: _sync_group,
    15: _describe_groups,
    16: _list_groups,
    42: _delete_groups,
    47: _offset_delete,
    68: _consumer_group_heartbeat,
    69: _consumer_group_describe,
    29: _describe_acls,
    30: _create_acls,
    31: _delete_acls,
    50: _describe_user_scram_credentials,
    51: _alter_user_scram_credentials,
    48: _describe_client_quotas,
    49: _alter_client_quotas,
}

#: Run order: readers first, then writers, destructive ones last (both brokers see the same history).
_ORDER = [18, 3, 60, 75, 2, 1, 23, 35, 32, 46, 22, 0, 21, 19, 37, 33, 44, 45, 43]
_ORDER += [10, 8, 9, 15, 16, 11, 12, 14, 13, 47, 42, 68, 69, 29, 30, 31, 51, 50, 49, 48, 20]


# ---------------------------------------------------------------------------------------------
# Sweep
# ---------------------------------------------------------------------------------------------


def _advertised(conn: _Conn) -> dict[int, tuple[int, int]]:
    resp = conn.call(18, 3, _m("ApiVersionsRequest", client_software_name="sweep", client_software_version="1.0"))
    return {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}


def _setup(conn: _Conn, plan: Plan, side: Side, versions: dict[int, list[int]]) -> None:
    """Create the sweep topics and produce the data records (same requests on both brokers)."""
    md = conn.call(3, 12, _m("MetadataRequest", topics=[], allow_auto_topic_creation=False))
    side.node_id = md.brokers[0].node_id if md.brokers else -1
    topics = [(plan.data, 3), (plan.t("dr"), 2), (plan.t("cfg"), 1)]
    topics += [(plan.t(f"dt.v{v}"), 1) for v in versions.get(20, [])]
    topics += [(plan.t(f"dtid.v{v}"), 1) for v in versions.get(20, []) if v >= 6]
    topics += [(plan.t(f"cp.v{v}"), 1) for v in versions.get(37, [])]
    req = _m(
        "CreateTopicsRequest",
        timeout_ms=10000,
        topics=[_m("CreatableTopic", name=n, num_partitions=parts, replication_factor=1) for n, parts in topics],
    )
    resp = conn.call(19, 7, req)
    for t in resp.topics:
        if t.error_code:
            raise SweepError(f"setup: creating {t.name} failed with error {t.error_code}")
        side.topic_ids[t.name] = t.topic_id
    names = [n for n, _ in topics]
    deadline = time.monotonic() + 15
    while True:  # Kafka's broker learns new topics from the controller a moment later
        md = conn.call(
            3,
            12,
            _m(
                "MetadataRequest",
                topics=[_m("MetadataRequestTopic", name=n) for n in names],
                allow_auto_topic_creation=False,
            ),
        )
        if all(t.error_code == 0 and all(pp.leader_id >= 0 for pp in t.partitions) for t in md.topics):
            break
        if time.monotonic() > deadline:
            raise SweepError("setup: sweep topics have no leader after 15 s")
        time.sleep(0.05)
    while True:  # a fresh Kafka answers COORDINATOR_LOAD_IN_PROGRESS until its producer id manager is ready
        error = conn.call(22, 4, _m("InitProducerIdRequest", transactional_id=None, transaction_timeout_ms=60000))
        if error.error_code != 14 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    while 10 in versions:  # Kafka creates __consumer_offsets on the first FindCoordinator
        found = conn.call(10, 3, _m("FindCoordinatorRequest", key=plan.t("warm-up")))
        if found.error_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for topic, part in ((plan.data, 0), (plan.t("dr"), 0), (plan.t("dr"), 1)):
        produce_data(conn, topic, part, deadline)


def produce_data(conn: _Conn, topic: str, part: int, deadline: float) -> None:
    """Produce a batch of DATA_RECORDS records to topic[part], retrying NOT_LEADER_OR_FOLLOWER until ``deadline``."""
    pd = [_m("PartitionProduceData", index=part, records=_batch())]
    while True:  # NOT_LEADER_OR_FOLLOWER until Kafka's partition is ready
        resp = conn.call(
            0,
            9,
            _m(
                "ProduceRequest",
                acks=-1,
                timeout_ms=5000,
                topic_data=[_m("TopicProduceData", name=topic, partition_data=pd)],
            ),
        )
        error = resp.responses[0].partition_responses[0].error_code
        if error == 0:
            break
        if error != 6 or time.monotonic() > deadline:
            raise SweepError(f"setup: producing to {topic} failed with error {error}")
        time.sleep(0.05)


def call_plain(conn: _Conn, api_key: int, version: int, body: Any) -> tuple[Any, str]:
    """Send one request: its response as plain data and "", or None and what went wrong."""
    try:
        return to_plain(conn.call(api_key, version, body)), ""
    except SweepError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"request not encodable: {type(exc).__name__}: {exc}"


def _default_cases(api_key: int) -> Callable[[Plan, Side, int], Cases]:
    return lambda p, s, v: [("default", APIS[api_key].request_class()())]


def run_sweep(chronik_bootstrap: str, kafka_bootstrap: str, tag: str | None = None) -> list[SweepResult]:
    """Sweep every (API, version) either broker advertises; one result each, by api key and version."""
    plan = Plan(tag or run_tag())
    conns = {"chronik": _Conn(chronik_bootstrap), "kafka": _Conn(kafka_bootstrap)}
    sides = {"chronik": Side(), "kafka": Side()}
    try:
        adv = {name: _advertised(c) for name, c in conns.items()}
        keys = sorted(
            set(adv["chronik"]) | set(adv["kafka"]),
            key=lambda k: (k not in _ORDER, _ORDER.index(k) if k in _ORDER else k),
        )
        both: dict[int, list[int]] = {}
        for k in keys:
            rc, rk = adv["chronik"].get(k), adv["kafka"].get(k)
            if rc and rk:
                both[k] = [v for v in range(max(rc[0], rk[0]), min(rc[1], rk[1]) + 1)]
        for name, c in conns.items():
            _setup(c, plan, sides[name], both)
        results: list[SweepResult] = []
        for k in keys:
            results.extend(_sweep_api(k, adv, conns, sides, plan))
        return sorted(results, key=lambda r: (r.api_key, r.version))
    finally:
        for c in conns.values():
            c.close()


def _sweep_api(
    api_key: int,
    adv: dict[str, dict[int, tuple[int, int]]],
    conns: dict[str, _Conn],
    sides: dict[str, Side],
    plan: Plan,
) -> Iterator[SweepResult]:
    name = APIS[api_key].name if api_key in APIS else f"api{api_key}"
    rc, rk = adv["chronik"].get(api_key), adv["kafka"].get(api_key)
    lo = min(r[0] for r in (rc, rk) if r)
    hi = max(r[1] for r in (rc, rk) if r)
    builder = BUILDERS.get(api_key) or _default_cases(api_key)
    for v in range(lo, hi + 1):
        in_c = rc is not None and rc[0] <= v <= rc[1]
        in_k = rk is not None and rk[0] <= v <= rk[1]
        if not (in_c and in_k):
            if in_c or in_k:
                yield SweepResult(name, api_key, v, "chronik-only" if in_c else "kafka-only")
            continue
        if api_key not in APIS:
            yield SweepResult(name, api_key, v, "error", detail="no codec for this api key")
            continue
        cases_c = builder(plan, sides["chronik"], v)
        cases_k = builder(plan, sides["kafka"], v)
        diffs: list[Difference] = []
        errors: list[str] = []
        for (label, body_c), (_, body_k) in zip(cases_c, cases_k, strict=True):
            resp_c, err_c = call_plain(conns["chronik"], api_key, v, body_c)
            resp_k, err_k = call_plain(conns["kafka"], api_key, v, body_k)
            if err_c or err_k:
                errors += [f"{label}: {who}: {e}" for who, e in (("chronik", err_c), ("kafka", err_k)) if e]
                continue
            diffs += compare(name, resp_c, resp_k, label, sides["chronik"].node_id, sides["kafka"].node_id)
        status = "error" if errors else "differs" if diffs else "same"
        yield SweepResult(name, api_key, v, status, diffs, "; ".join(errors))
    if rc and rk and api_key in APIS:
        yield _probe_unsupported(api_key, name, min(rc[1], rk[1]), hi + 1, conns, plan, sides)


def _probe_outcome(conn: _Conn, api_key: int, version: int, body_version: int, body: Any) -> dict[str, Any]:
    """What a broker does with a version it does not advertise: closes, or answers (ApiVersions: v0)."""
    try:
        data = conn.exchange(api_key, version, body_version, body)
    except SweepError:
        return {"outcome": "connection closed"}
    if api_key != 18:
        return {"outcome": "response"}
    _, pos = ResponseHeader.decode_from(data, 0, 0)
    response = APIS[18].response_class().decode_from(data, pos, 0)[0]
    return {"outcome": "response", "error_code": response.error_code, "has_api_keys": bool(response.api_keys)}


def _probe_unsupported(
    api_key: int,
    name: str,
    body_version: int,
    version: int,
    conns: dict[str, _Conn],
    plan: Plan,
    sides: dict[str, Side],
) -> SweepResult:
    """One row for a version above both brokers' maximum (the body is the highest common version's)."""
    builder = BUILDERS.get(api_key) or _default_cases(api_key)
    out = {
        who: _probe_outcome(conns[who], api_key, version, body_version, builder(plan, sides[who], body_version)[0][1])
        for who in ("chronik", "kafka")
    }
    diffs = compare(name, out["chronik"], out["kafka"], "unsupported-version")
    return SweepResult(
        name, api_key, version, "differs" if diffs else "same", diffs, "probe: version above both maxima"
    )


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(results: list[SweepResult], max_diffs: int = 6) -> str:
    """A compact table: consecutive versions of an API with the same status and nothing to show share
    a line (``4-12``); differing fields are indented below their version."""
    lines = [f"{'api':<30} {'key':>3} {'versions':>8}  status"]
    i = 0
    while i < len(results):
        r, j = results[i], i
        if not r.differences and not r.detail:
            while (
                j + 1 < len(results)
                and (results[j + 1].api_key, results[j + 1].status) == (r.api_key, r.status)
                and results[j + 1].version == results[j].version + 1
                and not results[j + 1].differences
                and not results[j + 1].detail
            ):
                j += 1
        versions = str(r.version) if j == i else f"{r.version}-{results[j].version}"
        detail = f"  {r.detail[:150]}" if r.detail else ""
        lines.append(f"{r.api:<30} {r.api_key:>3} {versions:>8}  {r.status}{detail}")
        for d in r.differences[:max_diffs]:
            lines.append(f"      {d.path}: chronik={_short(d.chronik)} kafka={_short(d.kafka)}")
        if len(r.differences) > max_diffs:
            lines.append(f"      ... {len(r.differences) - max_diffs} more")
        i = j + 1
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append("totals (api, version) pairs: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chronik_conformance.sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--chronik", required=True, help="Chronik HOST:PORT")
    parser.add_argument("--kafka", required=True, help="Kafka HOST:PORT")
    parser.add_argument("--json", help="write the results as JSON to this file")
    parser.add_argument("--all-diffs", action="store_true", help="print every difference, not the first few")
    args = parser.parse_args(argv)
    start = time.monotonic()
    results = run_sweep(args.chronik, args.kafka)
    print(format_table(results, max_diffs=10**6 if args.all_diffs else 6))
    print(f"sweep took {time.monotonic() - start:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.to_dict() for r in results], f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
