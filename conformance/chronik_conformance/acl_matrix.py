"""ACL matrix: the same raw requests as a principal without ACLs and as one with ACLs, to Chronik and Kafka.

Both brokers get the same SASL_PLAINTEXT listener (PLAIN users ``admin``, ``alice``, ``carol``, ``bob``),
``authorizer.class.name`` = Kafka's ``StandardAuthorizer`` and ``super.users=User:admin;User:ANONYMOUS``
(ANONYMOUS: the PLAINTEXT listener, which Kafka's own broker-to-controller traffic uses in combined
mode). As ``admin`` the matrix creates the same topics and ACLs on both: ``bob`` may do everything on
the run's ``acl.<tag>.*`` topics, groups and transactional ids, and ALTER, ALTER_CONFIGS and
IDEMPOTENT_WRITE on the cluster; ``carol`` may only DESCRIBE those topics and groups, and WRITE the
``aclx.<tag>.t`` topic nobody else has ACLs for; ``alice`` has no ACL at all. Then every case of
:data:`CASES` (one or more per implemented API, some at two versions) is sent as each principal to both
brokers and the responses are compared with the sweep's :func:`~chronik_conformance.sweep.compare` (its
ignore table included). Only what authorization decides is reported: error codes, authorized-operation
bit fields and items present on one side only (e.g. topics a Metadata answer hides); other differences
are the sweep's business and are only counted in ``detail``.

Results are shaped like the sweep's (``api``, ``api_key``, ``version``, ``status`` same/differs/error,
``differences``, ``detail``) plus ``principal``.

Usage::

    python -m chronik_conformance.acl_matrix [--chronik HOST:PORT --kafka HOST:PORT] [--json out.json]

Without addresses both brokers are started (Kafka 4.4.0 from the Maven Central jars) and stopped.
Given addresses must be the SASL_PLAINTEXT listeners of brokers configured with :func:`broker_props`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chronik.protocol.records import build_batch
from chronik_conformance.sweep import (
    Difference,
    Plan,
    Side,
    SweepError,
    SweepResult,
    _batch,
    _Conn,
    _m,
    _records,
    call_plain,
    compare,
    format_table,
    produce_data,
    run_tag,
)
from chronik_protocol.api_table import APIS

__all__ = [
    "AUTHORIZER",
    "CASES",
    "USERS",
    "AclPlan",
    "SaslConn",
    "broker_props",
    "main",
    "run_acl_matrix",
    "setup_broker",
]

AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
#: PLAIN users of the SASL_PLAINTEXT listener.
USERS: dict[str, str] = {
    "admin": "admin-secret",
    "alice": "alice-secret",
    "bob": "bob-secret",
    "carol": "carol-secret",
}
#: Each case runs as these, in this order (bob, the one whose requests succeed, last).
PRINCIPALS = ("alice", "carol", "bob")
# ACL codes (org.apache.kafka.common.acl/resource): resource TOPIC 2, GROUP 3, CLUSTER 4, TRANSACTIONAL_ID 5;
# pattern LITERAL 3, PREFIXED 4; operation ALL 2, ALTER 7, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12; ALLOW 3.
_TOPIC, _GROUP, _CLUSTER, _TXN = 2, 3, 4, 5
#: A topic id neither broker knows.
UNKNOWN_ID = uuid.UUID("5b0a2d2e-0000-4000-8000-00000000ac10")
_ERROR_FIELDS = frozenset({"error_code", "topic_config_error_code"})


def broker_props() -> dict[str, str]:
    """The ACL and SASL settings both brokers get (besides a ``SASL_PLAINTEXT`` listener)."""
    users = " ".join(f'user_{u}="{p}"' for u, p in USERS.items())
    return {
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};"
        ),
        "authorizer.class.name": AUTHORIZER,
        "super.users": "User:admin;User:ANONYMOUS",
    }


class SaslConn(_Conn):
    """The sweep's blocking connection, authenticated with SASL/PLAIN (SaslHandshake v1, SaslAuthenticate v2)
    whenever it (re)connects."""

    def __init__(self, bootstrap: str, user: str, password: str, timeout: float = 5.0) -> None:
        super().__init__(bootstrap, timeout)
        self.user, self.password = user, password

    def exchange(self, api_key: int, header_version: int, body_version: int, body: Any) -> memoryview:
        if self.sock is None:
            self._login()
        return super().exchange(api_key, header_version, body_version, body)

    def _login(self) -> None:
        for key, version, request in (
            (17, 1, _m("SaslHandshakeRequest", mechanism="PLAIN")),
            (36, 2, _m("SaslAuthenticateRequest", auth_bytes=f"\0{self.user}\0{self.password}".encode())),
        ):
            data = _Conn.exchange(self, key, version, version, request)
            api = APIS[key]
            pos = 4 + (1 if api.response_header_version(version) >= 1 else 0)  # correlation id (+ tagged fields)
            response = api.response_class().decode_from(data, pos, version)[0]
            if response.error_code:
                self.close()
                raise SweepError(f"SASL/PLAIN login of {self.user} failed: error {response.error_code}")


@dataclass
class AclPlan(Plan):
    """The run's resource names (``acl.<tag>.*``: bob's; ``aclx.<tag>.*``: nobody's)."""

    space: str = "acl"

    def n(self, what: str) -> str:
        return self.t(what)

    @property
    def topic(self) -> str:
        return self.n("t")

    @property
    def foreign(self) -> str:
        return f"aclx.{self.tag}.t"

    @property
    def group(self) -> str:
        return self.n("g")


def _acl(resource_type: int, name: str, pattern: int, operation: int, user: str = "bob") -> Any:
    return _m(
        "AclCreation",
        resource_type=resource_type,
        resource_name=name,
        resource_pattern_type=pattern,
        principal=f"User:{user}",
        host="*",
        operation=operation,
        permission_type=3,
    )


def setup_broker(admin: _Conn, bob: _Conn, plan: AclPlan, side: Side) -> None:
    """Create the run's topics, bob's ACLs and the data records; wait until bob's ACLs apply."""
    md = admin.call(3, 12, _m("MetadataRequest", topics=[], allow_auto_topic_creation=False))
    side.node_id = md.brokers[0].node_id if md.brokers else -1
    topics = [(plan.topic, 2), (plan.foreign, 1), (plan.n("del5"), 1), (plan.n("del6"), 1), (plan.n("cp"), 1)]
    req = _m(
        "CreateTopicsRequest",
        timeout_ms=10000,
        topics=[_m("CreatableTopic", name=n, num_partitions=p, replication_factor=1) for n, p in topics],
    )
    for t in admin.call(19, 7, req).topics:
        if t.error_code:
            raise SweepError(f"setup: creating {t.name} failed with error {t.error_code}")
        side.topic_ids[t.name] = t.topic_id
    prefix = f"acl.{plan.tag}."
    acls = [_acl(rt, prefix, 4, 2) for rt in (_TOPIC, _GROUP, _TXN)]
    acls += [_acl(_CLUSTER, "kafka-cluster", 3, op) for op in (7, 11, 12)]
    acls += [_acl(rt, prefix, 4, 8, "carol") for rt in (_TOPIC, _GROUP)]  # DESCRIBE
    acls.append(_acl(_TOPIC, plan.foreign, 3, 4, "carol"))  # WRITE (implies DESCRIBE)
    acls.append(_acl(_TOPIC, plan.n("new"), 4, 5, "carol"))  # CREATE (no DESCRIBE_CONFIGS)
    acls.append(_acl(_GROUP, plan.n("gcfg"), 3, 11, "carol"))  # ALTER_CONFIGS (implies DESCRIBE_CONFIGS)
    for r in admin.call(30, 3, _m("CreateAclsRequest", creations=acls)).results:
        if r.error_code:
            raise SweepError(f"setup: CreateAcls failed with error {r.error_code}: {r.error_message}")
    deadline = time.monotonic() + 20
    names = [_m("MetadataRequestTopic", name=n) for n, _ in topics]
    while True:  # leaders elected and (Kafka) the ACLs propagated to the broker's authorizer
        md = bob.call(3, 12, _m("MetadataRequest", topics=names, allow_auto_topic_creation=False))
        ready = {t.name: t.error_code == 0 and all(p.leader_id >= 0 for p in t.partitions) for t in md.topics}
        if all(ok for n, ok in ready.items() if n != plan.foreign):
            break
        if time.monotonic() > deadline:
            raise SweepError(f"setup: topics or ACLs not ready after 20 s: {ready}")
        time.sleep(0.1)
    while True:  # Kafka creates __consumer_offsets on the first FindCoordinator
        found = admin.call(10, 3, _m("FindCoordinatorRequest", key=plan.n("warm-up")))
        if found.error_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    while True:  # a fresh Kafka answers COORDINATOR_LOAD_IN_PROGRESS until its producer id manager is ready
        error = admin.call(22, 4, _m("InitProducerIdRequest", transactional_id=None, transaction_timeout_ms=60000))
        if error.error_code != 14 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    commit = _m(
        "OffsetCommitRequest",
        group_id=plan.group,
        generation_id_or_member_epoch=-1,
        member_id="",
        topics=[
            _m("OffsetCommitRequestTopic", name=n, partitions=[_m("OffsetCommitRequestPartition", committed_offset=2)])
            for n in (plan.topic, plan.foreign)
        ],
    )
    while True:  # NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS while Kafka loads the group's partition
        errors = [p.error_code for t in admin.call(8, 9, commit).topics for p in t.partitions]
        if not any(errors):
            break
        if set(errors) - {14, 16} or time.monotonic() > deadline:
            raise SweepError(f"setup: committing offsets failed: {errors}")
        time.sleep(0.1)
    produce_data(admin, plan.topic, 0, deadline)


# ---------------------------------------------------------------------------------------------
# Cases: one request per implemented API (some at a second version), sent as alice and as bob
# ---------------------------------------------------------------------------------------------

Build = Callable[[AclPlan, Side, int], Any]


@dataclass(frozen=True)
class Case:
    """One request; ``versions`` are tried where both brokers serve them (``None``: the highest common one)."""

    api_key: int
    label: str
    build: Build
    versions: tuple[int | None, ...] = (None,)
    principals: tuple[str, ...] = PRINCIPALS
    #: compare with the generic ignore rules only (not the API's: e.g. the sweep ignores which topics an
    #: all-topics Metadata lists, which is the point here)
    strict: bool = False


def _produce(topic: str, transactional: bool = False) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        if transactional:
            records = bytes(
                build_batch(_records(1, "x"), producer_id=1, producer_epoch=0, base_sequence=0, is_transactional=True)
            )
        else:
            records = _batch(1, "acl")
        t = _m(
            "TopicProduceData",
            name={"": p.topic, "missing": p.n("missing")}.get(topic, topic),
            partition_data=[_m("PartitionProduceData", index=0, records=records)],
        )
        if v >= 13:
            t.topic_id = s.topic_ids.get(t.name, UNKNOWN_ID)
        tid = p.n("tx") if transactional else None
        return _m("ProduceRequest", transactional_id=tid, acks=-1, timeout_ms=5000, topic_data=[t])

    return build


def _fetch(replica_id: int, missing: bool = False) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        part = _m("FetchRequest.FetchPartition", partition=0, fetch_offset=0, partition_max_bytes=1 << 20)
        t = _m("FetchRequest.FetchTopic", topic=p.n("missing") if missing else p.topic, partitions=[part])
        if v >= 13:
            t.topic_id = s.topic_ids.get(t.topic, UNKNOWN_ID)
        req = _m("FetchRequest", replica_id=replica_id, max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, session_epoch=-1)
        req.topics = [t]
        if v >= 15:
            req.replica_state.replica_id = replica_id
        return req

    return build


def _list_offsets(p: AclPlan, s: Side, v: int) -> Any:
    part = _m("ListOffsetsPartition", partition_index=0, timestamp=-1)
    return _m("ListOffsetsRequest", replica_id=-1, topics=[_m("ListOffsetsTopic", name=p.topic, partitions=[part])])


def _metadata(kind: str) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        ops = {"include_topic_authorized_operations": v >= 8, "include_cluster_authorized_operations": 8 <= v <= 10}
        if kind == "all":
            return _m("MetadataRequest", topics=None if v else [], allow_auto_topic_creation=False, **ops)
        if kind.startswith("by-id"):
            topic = {"by-id-foreign": p.foreign, "by-id-unknown": p.n("missing")}.get(kind, p.topic)
            topics = [_m("MetadataRequestTopic", name=None, topic_id=s.topic_ids.get(topic, UNKNOWN_ID))]
        elif kind == "auto-create":
            topics = [_m("MetadataRequestTopic", name=p.n(f"auto.v{v}"))]
        else:
            # before v4 every Metadata request auto-creates (Kafka later: timing): no unknown topic
            names = (p.topic, p.n("missing"), p.foreign) if v >= 4 else (p.topic, p.foreign)
            topics = [_m("MetadataRequestTopic", name=n) for n in names]
        return _m("MetadataRequest", topics=topics, allow_auto_topic_creation=kind == "auto-create", **ops)

    return build


def _offset_commit(topic: str | None = None) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        name = topic or p.topic
        part = _m("OffsetCommitRequestPartition", partition_index=0, committed_offset=1, committed_metadata="")
        t = _m("OffsetCommitRequestTopic", name=name, partitions=[part])
        if v >= 10:
            t.topic_id = s.topic_ids[name]
        return _m("OffsetCommitRequest", group_id=p.group, generation_id_or_member_epoch=-1, member_id="", topics=[t])

    return build


def _offset_fetch(all_topics: bool) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        if v < 8:
            names = [] if all_topics else [p.topic, p.foreign]
            topics = [_m("OffsetFetchRequestTopic", name=n, partition_indexes=[0, 1]) for n in names] or None
            return _m("OffsetFetchRequest", group_id=p.group, topics=topics)
        topics = None
        if not all_topics:
            topics = []
            for n in (p.topic, p.foreign):
                t = _m("OffsetFetchRequestTopics", name=n, partition_indexes=[0, 1])
                if v >= 10:
                    t.topic_id = s.topic_ids[n]
                topics.append(t)
        group = _m("OffsetFetchRequestGroup", group_id=p.group, member_id=None, member_epoch=-1, topics=topics)
        return _m("OffsetFetchRequest", groups=[group])

    return build


def _find_coordinator(key_type: int) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        key = p.n("tx") if key_type else p.group
        if v >= 4:
            return _m("FindCoordinatorRequest", key_type=key_type, coordinator_keys=[key])
        return _m("FindCoordinatorRequest", key=key, key_type=key_type)

    return build


_UNKNOWN_MEMBER = "acl-unknown-member"


def _join(p: AclPlan, s: Side, v: int) -> Any:
    protocol = _m("JoinGroupRequestProtocol", name="range", metadata=b"")
    return _m(
        "JoinGroupRequest",
        group_id=p.group,
        session_timeout_ms=10000,
        rebalance_timeout_ms=10000,
        member_id="",
        protocol_type="consumer",
        protocols=[protocol],
    )


def _sync(p: AclPlan, s: Side, v: int) -> Any:
    return _m(
        "SyncGroupRequest",
        group_id=p.group,
        generation_id=1,
        member_id=_UNKNOWN_MEMBER,
        protocol_type="consumer",
        protocol_name="range",
        assignments=[],
    )


def _heartbeat(p: AclPlan, s: Side, v: int) -> Any:
    return _m("HeartbeatRequest", group_id=p.group, generation_id=1, member_id=_UNKNOWN_MEMBER)


def _leave(p: AclPlan, s: Side, v: int) -> Any:
    members = [_m("MemberIdentity", member_id=_UNKNOWN_MEMBER)]
    return _m("LeaveGroupRequest", group_id=p.group, member_id=_UNKNOWN_MEMBER, members=members)


def _describe_groups(p: AclPlan, s: Side, v: int) -> Any:
    return _m("DescribeGroupsRequest", groups=[p.group], include_authorized_operations=True)


def _list_groups(p: AclPlan, s: Side, v: int) -> Any:
    return _m("ListGroupsRequest")


def _create_topics(p: AclPlan, s: Side, v: int) -> Any:
    t = _m("CreatableTopic", name=p.n(f"new.v{v}"), num_partitions=1, replication_factor=1)
    return _m("CreateTopicsRequest", topics=[t], timeout_ms=10000, validate_only=True)


def _delete_topics(foreign: bool, unknown: bool = False) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        if v >= 6:
            topic = p.n("missing") if unknown else p.foreign if foreign else p.n("del6")
            state = _m("DeleteTopicState", name=None, topic_id=s.topic_ids.get(topic, UNKNOWN_ID))
            return _m("DeleteTopicsRequest", topics=[state], timeout_ms=10000)
        names = [p.foreign] if foreign else [p.n("del5"), p.n("missing")]
        return _m("DeleteTopicsRequest", topic_names=names, timeout_ms=10000)

    return build


def _delete_records(p: AclPlan, s: Side, v: int) -> Any:
    part = _m("DeleteRecordsPartition", partition_index=0, offset=0)
    return _m(
        "DeleteRecordsRequest", topics=[_m("DeleteRecordsTopic", name=p.topic, partitions=[part])], timeout_ms=5000
    )


def _init_producer_id(transactional: bool) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        tid = p.n("tx") if transactional else None
        return _m("InitProducerIdRequest", transactional_id=tid, transaction_timeout_ms=60000)

    return build


def _offset_for_leader_epoch(p: AclPlan, s: Side, v: int) -> Any:
    part = _m("OffsetForLeaderPartition", partition=0, current_leader_epoch=-1, leader_epoch=0)
    return _m(
        "OffsetForLeaderEpochRequest",
        replica_id=-1,
        topics=[_m("OffsetForLeaderTopic", topic=p.topic, partitions=[part])],
    )


def _resources(p: AclPlan, s: Side) -> list[tuple[int, str]]:
    return [(2, p.topic), (4, str(s.node_id)), (8, str(s.node_id))]


def _describe_configs(group: bool) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        wanted = [(16, p.n("gcfg"))] if group else _resources(p, s)
        resources = [
            _m("DescribeConfigsResource", resource_type=t, resource_name=n, configuration_keys=["retention.ms"])
            for t, n in wanted
        ]
        return _m("DescribeConfigsRequest", resources=resources)

    return build


def _alter_configs(p: AclPlan, s: Side, v: int) -> Any:
    topic = _m(
        "AlterConfigsRequest.AlterConfigsResource",
        resource_type=2,
        resource_name=p.topic,
        configs=[_m("AlterConfigsRequest.AlterableConfig", name="retention.ms", value="3600000")],
    )
    broker = _m("AlterConfigsRequest.AlterConfigsResource", resource_type=4, resource_name=str(s.node_id), configs=[])
    return _m("AlterConfigsRequest", resources=[topic, broker], validate_only=True)


def _incremental_alter_configs(p: AclPlan, s: Side, v: int) -> Any:
    topic = _m(
        "IncrementalAlterConfigsRequest.AlterConfigsResource",
        resource_type=2,
        resource_name=p.topic,
        configs=[
            _m(
                "IncrementalAlterConfigsRequest.AlterableConfig",
                name="retention.ms",
                config_operation=0,
                value="3600000",
            )
        ],
    )
    broker = _m(
        "IncrementalAlterConfigsRequest.AlterConfigsResource", resource_type=4, resource_name=str(s.node_id), configs=[]
    )
    return _m("IncrementalAlterConfigsRequest", resources=[topic, broker], validate_only=True)


def _alter_group_config(p: AclPlan, s: Side, v: int) -> Any:
    config = _m(
        "IncrementalAlterConfigsRequest.AlterableConfig",
        name="consumer.session.timeout.ms",
        config_operation=0,
        value="45000",
    )
    group = _m(
        "IncrementalAlterConfigsRequest.AlterConfigsResource",
        resource_type=16,
        resource_name=p.n("gcfg"),
        configs=[config],
    )
    return _m("IncrementalAlterConfigsRequest", resources=[group], validate_only=True)


def _alter_logger(p: AclPlan, s: Side, v: int) -> Any:
    config = _m("IncrementalAlterConfigsRequest.AlterableConfig", name="root", config_operation=0, value="INFO")
    logger = _m(
        "IncrementalAlterConfigsRequest.AlterConfigsResource",
        resource_type=8,
        resource_name=str(s.node_id),
        configs=[config],
    )
    return _m("IncrementalAlterConfigsRequest", resources=[logger], validate_only=True)


def _describe_log_dirs(p: AclPlan, s: Side, v: int) -> Any:
    return _m("DescribeLogDirsRequest", topics=[_m("DescribableLogDirTopic", topic=p.topic, partitions=[0])])


def _create_partitions(p: AclPlan, s: Side, v: int) -> Any:
    t = _m("CreatePartitionsTopic", name=p.n("cp"), count=2, assignments=None)
    return _m("CreatePartitionsRequest", topics=[t], timeout_ms=10000, validate_only=True)


def _elect_leaders(p: AclPlan, s: Side, v: int) -> Any:
    return _m(
        "ElectLeadersRequest",
        election_type=0,
        topic_partitions=[_m("ElectLeadersRequest.TopicPartitions", topic=p.topic, partitions=[0])],
        timeout_ms=5000,
    )


def _alter_reassignments(p: AclPlan, s: Side, v: int) -> Any:
    part = _m("ReassignablePartition", partition_index=0, replicas=None)
    return _m(
        "AlterPartitionReassignmentsRequest",
        timeout_ms=5000,
        topics=[_m("ReassignableTopic", name=p.topic, partitions=[part])],
    )


def _list_reassignments(p: AclPlan, s: Side, v: int) -> Any:
    return _m("ListPartitionReassignmentsRequest", timeout_ms=5000, topics=None)


def _describe_scram(p: AclPlan, s: Side, v: int) -> Any:
    return _m("DescribeUserScramCredentialsRequest", users=[_m("UserName", name=p.n("nobody"))])


def _alter_scram(p: AclPlan, s: Side, v: int) -> Any:
    deletion = _m("ScramCredentialDeletion", name=p.n("nobody"), mechanism=1)
    return _m("AlterUserScramCredentialsRequest", deletions=[deletion], upsertions=[])


def _describe_quotas(p: AclPlan, s: Side, v: int) -> Any:
    component = _m("ComponentData", entity_type="client-id", match_type=0, match=p.n("client"))
    return _m("DescribeClientQuotasRequest", components=[component], strict=False)


def _alter_quotas(p: AclPlan, s: Side, v: int) -> Any:
    entity = [_m("EntityData", entity_type="client-id", entity_name=p.n("client"))]
    entry = _m("EntryData", entity=entity, ops=[_m("OpData", key="producer_byte_rate", value=1024.0, remove=False)])
    return _m("AlterClientQuotasRequest", entries=[entry], validate_only=True)


def _describe_acls(p: AclPlan, s: Side, v: int) -> Any:
    return _m(
        "DescribeAclsRequest",
        resource_type_filter=2,
        resource_name_filter=p.n("none"),
        pattern_type_filter=3,
        principal_filter=None,
        host_filter=None,
        operation=1,
        permission_type=1,
    )


def _describe_cluster(p: AclPlan, s: Side, v: int) -> Any:
    return _m("DescribeClusterRequest", include_cluster_authorized_operations=True)


def _describe_topic_partitions(p: AclPlan, s: Side, v: int) -> Any:
    topics = [_m("DescribeTopicPartitionsRequest.TopicRequest", name=n) for n in (p.topic, p.n("missing"))]
    return _m("DescribeTopicPartitionsRequest", topics=topics, response_partition_limit=100)


def _consumer_group_heartbeat(topic: str | None) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        return _m(
            "ConsumerGroupHeartbeatRequest",
            group_id=p.n("cg"),
            member_id=str(uuid.uuid4()),
            member_epoch=0,
            rebalance_timeout_ms=10000,
            subscribed_topic_names=[topic or p.topic],
            topic_partitions=[],
        )

    return build


def _consumer_group_describe(consumer: bool) -> Build:
    def build(p: AclPlan, s: Side, v: int) -> Any:
        group = p.n("cg") if consumer else p.group
        return _m("ConsumerGroupDescribeRequest", group_ids=[group], include_authorized_operations=True)

    return build


def _offset_delete(p: AclPlan, s: Side, v: int) -> Any:
    part = _m("OffsetDeleteRequestPartition", partition_index=0)
    return _m(
        "OffsetDeleteRequest",
        group_id=p.group,
        topics=[_m("OffsetDeleteRequestTopic", name=p.topic, partitions=[part])],
    )


def _delete_groups(p: AclPlan, s: Side, v: int) -> Any:
    return _m("DeleteGroupsRequest", groups_names=[p.n("g-none")])


def _foreign(build: Callable[[str | None], Build]) -> Build:
    """The case on the topic nobody has ACLs for (bob is refused too)."""

    def wrapped(p: AclPlan, s: Side, v: int) -> Any:
        return build(p.foreign)(p, s, v)

    return wrapped


#: Run order: readers first, writers next, destructive ones last (alice first: her requests change nothing).
CASES: tuple[Case, ...] = (
    Case(3, "named", _metadata("named"), (None, 10, 1)),
    Case(3, "all", _metadata("all"), (None, 10), principals=("bob",)),
    Case(3, "all-topics", _metadata("all"), (None, 10, 0), principals=("alice", "carol"), strict=True),
    Case(3, "auto-create-denied", _metadata("auto-create"), (None, 3), principals=("alice", "carol")),
    Case(3, "by-id", _metadata("by-id")),
    Case(3, "by-id-foreign", _metadata("by-id-foreign"), principals=("carol", "bob")),
    Case(3, "by-id-unknown", _metadata("by-id-unknown")),
    Case(60, "describe", _describe_cluster),
    Case(75, "named", _describe_topic_partitions),
    Case(2, "latest", _list_offsets),
    Case(1, "from-0", _fetch(-1), (None, 12)),
    Case(1, "follower", _fetch(1), (None, 12)),
    Case(1, "unknown-topic", _fetch(-1, missing=True), (None, 12)),
    Case(23, "epoch-0", _offset_for_leader_epoch),
    Case(32, "topic-broker-logger", _describe_configs(False)),
    Case(32, "group", _describe_configs(True), principals=("alice", "carol")),
    Case(35, "topic", _describe_log_dirs),
    Case(46, "all", _list_reassignments),
    Case(50, "unknown-user", _describe_scram),
    Case(29, "filter", _describe_acls),
    Case(48, "exact", _describe_quotas),
    Case(22, "idempotent", _init_producer_id(False)),
    Case(22, "transactional", _init_producer_id(True), principals=("alice", "carol")),
    Case(0, "write", _produce(""), (None, 12)),
    Case(0, "unknown-topic", _produce("missing"), (None, 12)),
    Case(0, "foreign-topic", _foreign(_produce), principals=("carol", "bob")),
    Case(0, "transactional", _produce("", transactional=True), principals=("alice", "carol")),
    Case(10, "group", _find_coordinator(0), (None, 3)),
    Case(10, "transaction", _find_coordinator(1), (None, 3), principals=("alice", "carol")),
    Case(8, "commit", _offset_commit(), (None, 9)),
    Case(8, "foreign-topic", _foreign(_offset_commit), principals=("carol", "bob")),
    Case(9, "named", _offset_fetch(False), (None, 7, 1)),
    Case(9, "all", _offset_fetch(True), (None, 7)),
    Case(15, "group", _describe_groups, (None, 0)),
    Case(16, "all", _list_groups, principals=("bob",)),
    Case(16, "visible", _list_groups, principals=("alice", "carol"), strict=True),
    Case(11, "join", _join),
    Case(14, "unknown-member", _sync),
    Case(12, "unknown-member", _heartbeat),
    Case(13, "unknown-member", _leave),
    Case(68, "join", _consumer_group_heartbeat(None)),
    Case(68, "foreign-topic", _foreign(_consumer_group_heartbeat), principals=("carol", "bob")),
    Case(69, "group", _consumer_group_describe(False)),
    Case(69, "consumer-group", _consumer_group_describe(True)),
    Case(19, "validate", _create_topics),
    Case(37, "validate", _create_partitions),
    Case(33, "validate", _alter_configs),
    Case(44, "validate", _incremental_alter_configs),
    Case(44, "logger", _alter_logger, principals=("alice", "carol")),
    Case(44, "group", _alter_group_config, principals=("alice", "carol")),
    Case(43, "preferred", _elect_leaders),
    Case(45, "cancel", _alter_reassignments),
    Case(51, "delete-unknown", _alter_scram),
    Case(49, "validate", _alter_quotas),
    Case(47, "committed", _offset_delete),
    Case(42, "unknown", _delete_groups),
    Case(21, "to-0", _delete_records),
    Case(20, "foreign-by-name", _delete_topics(True), (5,), principals=("carol", "bob")),
    Case(20, "foreign-by-id", _delete_topics(True), (6,), principals=("carol", "bob")),
    Case(20, "by-name", _delete_topics(False), (5,)),
    Case(20, "by-id", _delete_topics(False), (6,)),
    Case(20, "unknown-id", _delete_topics(False, unknown=True), (6,)),
)


# ---------------------------------------------------------------------------------------------
# Running and comparing
# ---------------------------------------------------------------------------------------------


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def acl_relevant(d: Difference) -> bool:
    """Error codes, authorized operations, and items present on one side only."""
    leaf = _leaf(d.path)
    return (
        leaf in _ERROR_FIELDS
        or "authorized_operations" in leaf
        or "<missing>" in (d.chronik, d.kafka)
        or "<present>" in (d.chronik, d.kafka)
    )


def _advertised(conn: _Conn) -> dict[int, tuple[int, int]]:
    resp = conn.call(18, 3, _m("ApiVersionsRequest", client_software_name="acl-matrix", client_software_version="1"))
    return {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}


def _versions(case: Case, adv: dict[str, dict[int, tuple[int, int]]]) -> list[int]:
    rc, rk = adv["chronik"].get(case.api_key), adv["kafka"].get(case.api_key)
    if not rc or not rk:
        return []
    lo, hi = max(rc[0], rk[0]), min(rc[1], rk[1])
    out = []
    for v in case.versions:
        v = hi if v is None else v
        if lo <= v <= hi and v not in out:
            out.append(v)
    return out


def run_acl_matrix(chronik_bootstrap: str, kafka_bootstrap: str, tag: str | None = None) -> list[dict[str, Any]]:
    """Run every case as alice and bob against both SASL_PLAINTEXT listeners; one result per (API, version,
    principal), in case order."""
    plan = AclPlan(tag or run_tag())
    where = {"chronik": chronik_bootstrap, "kafka": kafka_bootstrap}
    conns = {(b, u): SaslConn(addr, u, USERS[u]) for b, addr in where.items() for u in USERS}
    sides = {"chronik": Side(), "kafka": Side()}
    try:
        adv = {b: _advertised(conns[(b, "admin")]) for b in where}
        for b in where:
            setup_broker(conns[(b, "admin")], conns[(b, "bob")], plan, sides[b])
        rows: dict[tuple[int, int, str], SweepResult] = {}
        for case in CASES:
            for v in _versions(case, adv):
                for who in case.principals:
                    _run_case(case, v, who, conns, sides, plan, rows)
        return [dict(r.to_dict(), principal=key[2]) for key, r in rows.items()]
    finally:
        for c in conns.values():
            c.close()


def _run_case(
    case: Case,
    version: int,
    who: str,
    conns: dict[tuple[str, str], _Conn],
    sides: dict[str, Side],
    plan: AclPlan,
    rows: dict[tuple[int, int, str], SweepResult],
) -> None:
    name = APIS[case.api_key].name
    row = rows.setdefault(
        (case.api_key, version, who), SweepResult(name, case.api_key, version, "same", detail=f"principal={who}")
    )
    out = {}
    for b in ("chronik", "kafka"):
        out[b] = call_plain(conns[(b, who)], case.api_key, version, case.build(plan, sides[b], version))
    errors = [f"{case.label}: {b}: {e}" for b, (_, e) in out.items() if e]
    if errors:
        row.status = "error"
        row.detail += "; " + "; ".join(errors)
        return
    rules = f"{name} (strict)" if case.strict else name
    diffs = compare(
        rules, out["chronik"][0], out["kafka"][0], case.label, sides["chronik"].node_id, sides["kafka"].node_id
    )
    relevant = [d for d in diffs if acl_relevant(d)]
    row.differences += relevant
    row.detail += f"; {case.label}" + (
        f" ({len(diffs) - len(relevant)} other differences)" if len(diffs) > len(relevant) else ""
    )
    if relevant and row.status == "same":
        row.status = "differs"


# ---------------------------------------------------------------------------------------------
# Brokers and CLI
# ---------------------------------------------------------------------------------------------


@dataclass
class _Started:
    chronik: Any
    kafka: Any
    chronik_sasl: str
    kafka_sasl: str


def start_brokers() -> _Started:
    """Chronik and Kafka 4.4.0 with :func:`broker_props` and a SASL_PLAINTEXT listener each."""
    from chronik_conformance.brokers import ChronikBroker
    from chronik_conformance.kafka_reference import KafkaReference, free_port

    props = broker_props()
    kafka_port, chronik_port = free_port(), free_port()
    kafka = KafkaReference(props=props, extra_listeners={"SASL_PLAINTEXT": kafka_port})
    chronik = ChronikBroker(*(f"{k}={v}" for k, v in props.items()))
    chronik.secure_ports = {"SASL_PLAINTEXT": chronik_port}
    chronik.start()
    try:
        kafka.start()
    except BaseException:
        chronik.stop()
        raise
    return _Started(chronik, kafka, f"127.0.0.1:{chronik_port}", f"127.0.0.1:{kafka_port}")


def iter_table(results: list[dict[str, Any]]) -> Iterator[str]:
    """The sweep's table, one block per principal."""
    for who in PRINCIPALS:
        mine = [r for r in results if r["principal"] == who]
        rows = [
            SweepResult(
                r["api"],
                r["api_key"],
                r["version"],
                r["status"],
                [Difference(**d) for d in r["differences"]],
                r["detail"],
            )
            for r in mine
        ]
        yield f"== as {who} =="
        yield format_table(rows, max_diffs=10**6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chronik_conformance.acl_matrix", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--chronik", help="Chronik's SASL_PLAINTEXT HOST:PORT (default: start one)")
    parser.add_argument("--kafka", help="Kafka's SASL_PLAINTEXT HOST:PORT (default: start one)")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    start = time.monotonic()
    started = None
    if not (args.chronik and args.kafka):
        started = start_brokers()
    try:
        chronik = args.chronik or started.chronik_sasl  # type: ignore[union-attr]
        kafka = args.kafka or started.kafka_sasl  # type: ignore[union-attr]
        results = run_acl_matrix(chronik, kafka)
    finally:
        if started is not None:
            started.kafka.stop()
            started.chronik.stop()
    for line in iter_table(results):
        print(line)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(
        "acl matrix:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())), f"({time.monotonic() - start:.1f} s)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
