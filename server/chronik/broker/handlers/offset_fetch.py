"""OffsetFetch (API key 9), versions 0-10.

v0-7 ask for one group; v8+ (KIP-709) for several groups, each answered in ``groups`` — even
a single one. A null topic list (v2+) means every offset the group has. A partition without a
committed offset — or a group that does not exist — answers offset -1, leader epoch -1, empty
metadata and no error (as Kafka 4.4.0; the group id is not validated). v5+ return the committed
leader epoch; v9+ may name a KIP-848 member (its epoch is checked: STALE_MEMBER_EPOCH,
UNKNOWN_MEMBER_ID); v10 names topics by id (an unknown id → UNKNOWN_TOPIC_ID). There are no
transactions, so ``require_stable`` (v7+) never finds pending offsets.
"""

from __future__ import annotations

import uuid
from typing import Any

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import ZERO_UUID
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.offset_fetch_request import OffsetFetchRequest
from chronik_protocol.messages.offset_fetch_response import (
    OffsetFetchResponse,
    OffsetFetchResponseGroup,
    OffsetFetchResponsePartition,
    OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
)

API_KEY = 9
MIN_VERSION, MAX_VERSION = 0, 10
GROUPS_FROM, TOPIC_IDS_FROM = 8, 10

#: (name, topic id, partitions or None for all, error for every partition)
Wanted = tuple[str, uuid.UUID, list[int] | None, int]


def fetch_group(
    broker: Broker, groups: GroupCoordinator, group_id: str, wanted: list[Wanted] | None
) -> list[tuple[str, uuid.UUID, list[tuple[int, int, int, str, int]]]]:
    """``[(topic, id, [(partition, offset, epoch, metadata, error)])]`` for one group."""
    out = []
    if wanted is None:
        by_topic: dict[str, list[tuple[int, int, int, str, int]]] = {}
        for (topic, partition), o in groups.offsets.all(group_id).items():
            by_topic.setdefault(topic, []).append((partition, o.offset, o.leader_epoch, o.metadata, 0))
        for topic, rows in by_topic.items():
            t = broker.topics.get(topic)
            out.append((topic, t.topic_id if t else ZERO_UUID, rows))
        return out
    for name, topic_id, partitions, error in wanted:
        rows = []
        for p in partitions or []:
            o = None if error else groups.offsets.get(group_id, name, p)
            if o is None:
                rows.append((p, -1, -1, "", error))
            else:
                rows.append((p, o.offset, o.leader_epoch, o.metadata, 0))
        out.append((name, topic_id, rows))
    return out


def _resolve(broker: Broker, version: int, topics: list[Any] | None) -> list[Wanted] | None:
    if topics is None:
        return None
    wanted: list[Wanted] = []
    for t in topics:
        if version >= TOPIC_IDS_FROM:
            topic = broker.topics_by_id.get(t.topic_id)
            name = topic.name if topic else t.name
            error = ErrorCode.NONE if topic else ErrorCode.UNKNOWN_TOPIC_ID
            wanted.append((name, t.topic_id, list(t.partition_indexes), error))
        else:
            wanted.append((t.name, ZERO_UUID, list(t.partition_indexes), ErrorCode.NONE))
    return wanted


def handle(broker: Broker, groups: GroupCoordinator, version: int, req: OffsetFetchRequest) -> OffsetFetchResponse:
    if version < GROUPS_FROM:
        topics = None if version >= 2 and req.topics is None else (req.topics or [])
        rows = fetch_group(broker, groups, req.group_id, _resolve(broker, version, topics))
        return OffsetFetchResponse(
            topics=[
                OffsetFetchResponseTopic(
                    name=name, partitions=[OffsetFetchResponsePartition(p, o, e, m, err) for p, o, e, m, err in parts]
                )
                for name, _, parts in rows
            ]
        )
    results = []
    for g in req.groups:
        error = groups.validate_offset_fetch(g.group_id, g.member_id, g.member_epoch) if version >= 9 else 0
        if error:
            results.append(OffsetFetchResponseGroup(group_id=g.group_id, topics=[], error_code=error))
            continue
        rows = fetch_group(broker, groups, g.group_id, _resolve(broker, version, g.topics))
        results.append(
            OffsetFetchResponseGroup(
                group_id=g.group_id,
                topics=[
                    OffsetFetchResponseTopics(
                        name="" if version >= TOPIC_IDS_FROM else name,
                        topic_id=tid,
                        partitions=[OffsetFetchResponsePartitions(p, o, e, m, err) for p, o, e, m, err in parts],
                    )
                    for name, tid, parts in rows
                ],
            )
        )
    return OffsetFetchResponse(groups=results)


def _authorize_topics(broker: Broker, ctx: RequestContext, all_topics: bool, topics: list[Any]) -> list[Any]:
    """DESCRIBE on each topic: an all-topics answer drops the others silently; requested ones fail
    with TOPIC_AUTHORIZATION_FAILED (``KafkaApis.fetchOffsetsForGroup``/``fetchAllOffsetsForGroup``)."""
    auth, kept = broker.authorizer, []
    for t in topics:
        topic = broker.topics_by_id.get(t.topic_id) if ctx.api_version >= TOPIC_IDS_FROM else None
        name = topic.name if topic is not None else t.name
        if ctx.api_version >= TOPIC_IDS_FROM and topic is None:
            kept.append(t)  # UNKNOWN_TOPIC_ID stays
        elif all_topics:
            if auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name, log_denied=False):
                kept.append(t)
        else:
            if not auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name):
                for p in t.partitions:
                    p.committed_offset, p.committed_leader_epoch, p.metadata = -1, -1, ""
                    p.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            kept.append(t)
    return kept


def _authorize(broker: Broker, ctx: RequestContext, req: OffsetFetchRequest, response: OffsetFetchResponse) -> None:
    """DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED for it (``OffsetFetchResponse.groupError``:
    v0-1 per requested partition, v2+ the group's error without topics); then the topics' checks."""
    auth, version = broker.authorizer, ctx.api_version
    if version < GROUPS_FROM:
        if not auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, req.group_id):
            failed = ErrorCode.GROUP_AUTHORIZATION_FAILED
            if version >= 2:
                response.error_code, response.topics = failed, []
            else:
                response.topics = [
                    OffsetFetchResponseTopic(
                        name=t.name,
                        partitions=[
                            OffsetFetchResponsePartition(partition_index=p, committed_offset=-1, error_code=failed)
                            for p in t.partition_indexes
                        ],
                    )
                    for t in req.topics or []
                ]
        elif not response.error_code:
            response.topics = _authorize_topics(broker, ctx, req.topics is None, response.topics)
        return
    for g, out in zip(req.groups, response.groups, strict=True):
        if not auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.group_id):
            out.error_code, out.topics = ErrorCode.GROUP_AUTHORIZATION_FAILED, []
        elif not out.error_code:
            out.topics = _authorize_topics(broker, ctx, g.topics is None, out.topics)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, groups = env.broker, coordinator(env)

    def on_fetch(ctx: RequestContext, body: OffsetFetchRequest) -> OffsetFetchResponse:
        response = handle(broker, groups, ctx.api_version, body)
        if broker.authorizer.enabled:
            _authorize(broker, ctx, body, response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_fetch))
