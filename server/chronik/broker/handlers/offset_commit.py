"""OffsetCommit (API key 8), versions 0-10.

As Kafka (``KafkaApis.handleOffsetCommitRequest``, ``OffsetMetadataManager.commitOffset``):
partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION (v10 names topics by id:
UNKNOWN_TOPIC_ID) before anything else; then the group decides for every other partition (an empty group id is a
group like any other, as in Kafka 4.4.0): generation -1 without a member commits to an Empty (or new)
group, which is how assign()-only consumers and admin tools commit; otherwise the member must
exist (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID v7+), the generation match (ILLEGAL_GENERATION)
and the group not be awaiting its assignment (REBALANCE_IN_PROGRESS). Metadata longer than
``offset.metadata.max.bytes`` → OFFSET_METADATA_TOO_LARGE. v1 may set the commit timestamp,
v2-4 a retention time (the offset then expires at commit time + retention), v6+ the leader
epoch. A request's offsets are written atomically and acknowledged once durable under the
flush policy (``log.flush.interval.messages=1``: after the group commit's fsync).
"""

from __future__ import annotations

from typing import Any

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.groups.persistence import CommittedOffset
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.connection import error_response
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.offset_commit_request import OffsetCommitRequest
from chronik_protocol.messages.offset_commit_response import (
    OffsetCommitResponse,
    OffsetCommitResponsePartition,
    OffsetCommitResponseTopic,
)

API_KEY = 8
MIN_VERSION, MAX_VERSION = 0, 10
TOPIC_IDS_FROM = 10


def handle(
    broker: Broker,
    groups: GroupCoordinator,
    version: int,
    req: OffsetCommitRequest,
    denied_topics: frozenset[str] = frozenset(),
) -> tuple[Any, bool]:
    """(response, whether anything was written); ``denied_topics`` (no READ) → TOPIC_AUTHORIZATION_FAILED."""
    now = broker.now_ms()
    by_id = version >= TOPIC_IDS_FROM
    known: list[tuple[OffsetCommitResponsePartition, str, Any]] = []
    topics = []
    for t in req.topics:
        topic = broker.topics_by_id.get(t.topic_id) if by_id else broker.topics.get(t.name)
        results = []
        blocked = bool(denied_topics) and (topic.name if topic else None if by_id else t.name) in denied_topics
        for p in t.partitions:
            res = OffsetCommitResponsePartition(partition_index=p.partition_index)
            results.append(res)
            if blocked:
                res.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            elif broker.partition(topic, p.partition_index) is None:
                # v10: only an unknown topic id is UNKNOWN_TOPIC_ID; a known topic's missing partition is not
                unknown_id = by_id and topic is None
                res.error_code = ErrorCode.UNKNOWN_TOPIC_ID if unknown_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            else:
                assert topic is not None
                known.append((res, topic.name, p))
        topics.append(OffsetCommitResponseTopic(name=t.name, topic_id=t.topic_id, partitions=results))
    response = OffsetCommitResponse(topics=topics)
    if not known:
        return response, False
    error = groups.validate_offset_commit(
        req.group_id, req.generation_id_or_member_epoch, req.member_id, req.group_instance_id, version
    )
    if callable(error):  # a KIP-848 member committing with an older epoch: checked per partition
        per_partition = error
        for res, name, p in known:
            res.error_code = per_partition(name, p.partition_index)
        known = [k for k in known if not k[0].error_code]
    elif error:
        for res, _, _ in known:
            res.error_code = error
        return response, False
    expire = now + req.retention_time_ms if 2 <= version <= 4 and req.retention_time_ms != -1 else None
    limit = groups.config.offset_metadata_max_bytes
    offsets = {}
    for res, name, p in known:
        metadata = p.committed_metadata or ""
        if len(metadata.encode()) > limit:
            res.error_code = ErrorCode.OFFSET_METADATA_TOO_LARGE
            continue
        commit_ms = p.commit_timestamp if version == 1 and p.commit_timestamp != -1 else now
        epoch = p.committed_leader_epoch if version >= 6 else -1
        offsets[(name, p.partition_index)] = CommittedOffset(p.committed_offset, epoch, metadata, commit_ms, expire)
    groups.offsets.commit(req.group_id, offsets)
    return response, bool(offsets)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, groups, durable = env.broker, coordinator(env), env.group_commit

    def on_commit(ctx: RequestContext, body: OffsetCommitRequest) -> Any:
        auth, blocked = broker.authorizer, frozenset[str]()
        if auth.enabled:  # KafkaApis: READ on the group (else every partition fails), READ on each topic
            if not auth.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
                return error_response(ctx.request, ErrorCode.GROUP_AUTHORIZATION_FAILED)
            by_id = ctx.api_version >= TOPIC_IDS_FROM
            names = [
                (t2.name if (t2 := broker.topics_by_id.get(t.topic_id)) else None) if by_id else t.name
                for t in body.topics
            ]
            blocked = denied(auth, ctx, AclOperation.READ, ResourceType.TOPIC, names)
        response, written = handle(broker, groups, ctx.api_version, body, blocked)
        if written and durable is not None:
            return durable.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_commit))
