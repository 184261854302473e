"""Heartbeat (API key 12), versions 0-4: keeps a classic member's session alive.

As Kafka's ``classicGroupHeartbeat``: empty group id → INVALID_GROUP_ID; unknown group or
member → UNKNOWN_MEMBER_ID; a static member's instance id owned by another member id →
FENCED_INSTANCE_ID (v3+); wrong generation → ILLEGAL_GENERATION; Empty group →
UNKNOWN_MEMBER_ID; PreparingRebalance → REBALANCE_IN_PROGRESS (the member must rejoin).
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.heartbeat_request import HeartbeatRequest
from chronik_protocol.messages.heartbeat_response import HeartbeatResponse

API_KEY = 12
MIN_VERSION, MAX_VERSION = 0, 4


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = coordinator(env)

    def on_heartbeat(ctx: RequestContext, body: HeartbeatRequest) -> HeartbeatResponse:
        if not env.broker.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
            return HeartbeatResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)  # KafkaApis: READ on the group
        error = groups.heartbeat(body.group_id, body.generation_id, body.member_id, body.group_instance_id)
        return HeartbeatResponse(error_code=error)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_heartbeat))
