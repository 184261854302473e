"""OffsetDelete (API key 47), version 0: delete a group's committed offsets of some partitions.

As Kafka: empty group id → INVALID_GROUP_ID, unknown group → GROUP_ID_NOT_FOUND (top level);
a non-empty group not using the consumer protocol → NON_EMPTY_GROUP. Per partition: unknown
topic or partition → UNKNOWN_TOPIC_OR_PARTITION; a topic the (non-empty) consumer group
subscribes to → GROUP_SUBSCRIBED_TO_TOPIC; else its offset (if any) is deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.classic import CONSUMER_PROTOCOL_TYPE, GroupState
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.offset_delete_request import OffsetDeleteRequest
from chronik_protocol.messages.offset_delete_response import (
    OffsetDeleteResponse,
    OffsetDeleteResponsePartition,
    OffsetDeleteResponseTopic,
)

API_KEY = 47
MIN_VERSION, MAX_VERSION = 0, 0


def handle(broker: Broker, groups: GroupCoordinator, req: OffsetDeleteRequest) -> tuple[OffsetDeleteResponse, bool]:
    if not req.group_id:
        return OffsetDeleteResponse(error_code=ErrorCode.INVALID_GROUP_ID), False
    subscribed = None
    for ext in groups.extensions:
        if ext.owns(req.group_id):
            subscribed = ext.subscribed_checker(req.group_id)
    if subscribed is None:
        group = groups.groups.get(req.group_id)
        if group is None or group.is_state(GroupState.DEAD):
            return OffsetDeleteResponse(error_code=ErrorCode.GROUP_ID_NOT_FOUND), False
        if not group.is_state(GroupState.EMPTY) and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return OffsetDeleteResponse(error_code=ErrorCode.NON_EMPTY_GROUP), False
        subscribed = group.is_subscribed_to if not group.is_state(GroupState.EMPTY) else (lambda _t: False)
    gone = []
    topics = []
    for t in req.topics:
        topic = broker.topics.get(t.name)
        results = []
        for p in t.partitions:
            res = OffsetDeleteResponsePartition(partition_index=p.partition_index)
            if broker.partition(topic, p.partition_index) is None:
                res.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif subscribed(t.name):
                res.error_code = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC
            else:
                gone.append((t.name, p.partition_index))
            results.append(res)
        topics.append(OffsetDeleteResponseTopic(name=t.name, partitions=results))
    groups.offsets.delete(req.group_id, gone)
    return OffsetDeleteResponse(topics=topics), bool(gone)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, groups, durable = env.broker, coordinator(env), env.group_commit

    def on_delete(ctx: RequestContext, body: OffsetDeleteRequest) -> Any:
        auth, refused = broker.authorizer, []
        if auth.enabled:  # KafkaApis: DELETE on the group, READ on each topic (refused topics answered first)
            if not auth.authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, body.group_id):
                return OffsetDeleteResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
            blocked = denied(auth, ctx, AclOperation.READ, ResourceType.TOPIC, (t.name for t in body.topics))
            if blocked:
                refused = [t for t in body.topics if t.name in blocked]
                body = copy.copy(body)
                body.topics = [t for t in body.topics if t.name not in blocked]
        response, written = handle(broker, groups, body)
        if refused and not response.error_code:
            response.topics[:0] = [
                OffsetDeleteResponseTopic(
                    name=t.name,
                    partitions=[
                        OffsetDeleteResponsePartition(
                            partition_index=p.partition_index, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED
                        )
                        for p in t.partitions
                    ],
                )
                for t in refused
            ]
        if written and durable is not None:
            return durable.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_delete))
