"""ConsumerGroupHeartbeat (API key 68), versions 0-1: the KIP-848 consumer protocol.

Joining (epoch 0), heartbeating and leaving (epoch -1, static -2) in one API; the coordinator
computes the assignment (see :mod:`chronik.broker.groups.consumer`). v1 (KIP-1082): the
client generates its member id. Errors carry Kafka's messages (INVALID_REQUEST for malformed
requests, UNSUPPORTED_ASSIGNOR, FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, ...). Assignments
name topics by id. With ``log.flush.interval.messages=1`` an answer that changed the group waits
for the group commit (fsync).
"""

from __future__ import annotations

from typing import Any

from chronik.broker.authz import denied
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import consumer_groups
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.join_group import client_host
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.consumer_group_heartbeat_request import ConsumerGroupHeartbeatRequest
from chronik_protocol.messages.consumer_group_heartbeat_response import ConsumerGroupHeartbeatResponse

API_KEY = 68
MIN_VERSION, MAX_VERSION = 0, 1


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups, durable = consumer_groups(env), env.group_commit

    def on_heartbeat(ctx: RequestContext, body: ConsumerGroupHeartbeatRequest) -> Any:
        auth = env.broker.authorizer
        if auth.enabled:  # KafkaApis: READ on the group, DESCRIBE on every subscribed topic
            if not auth.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
                return ConsumerGroupHeartbeatResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
            if body.subscribed_topic_names and denied(
                auth, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, body.subscribed_topic_names
            ):
                return ConsumerGroupHeartbeatResponse(error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
        groups.dirty = False
        response: ConsumerGroupHeartbeatResponse = groups.heartbeat(
            body, ctx.api_version, ctx.client_id or "", client_host(ctx)
        )
        if groups.dirty and durable is not None:
            return durable.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_heartbeat))
