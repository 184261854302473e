"""JoinGroup (API key 11), versions 0-9: join a classic group (see
:mod:`chronik.broker.groups.coordinator` for the rebalance rules).

Validation as Kafka's ``GroupCoordinatorService.joinGroup``: empty group id →
INVALID_GROUP_ID; session timeout outside ``group.min/max.session.timeout.ms`` →
INVALID_SESSION_TIMEOUT. v0 has no rebalance timeout (the session timeout is used); v4+
requires a known member id (KIP-394: MEMBER_ID_REQUIRED with the id to rejoin with); v5+
carries ``group.instance.id`` (KIP-345); v7+ returns the protocol type and a nullable protocol
name; v9 (KIP-814) ``skip_assignment`` for a static leader rejoining a Stable group. The
response is parked until the join phase completes (a Deferred; the reactor never waits).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.join_group_request import JoinGroupRequest
from chronik_protocol.messages.join_group_response import JoinGroupResponse

API_KEY = 11
MIN_VERSION, MAX_VERSION = 0, 9


def client_host(ctx: RequestContext) -> str:
    """Kafka's ``InetAddress.toString()`` of the client: ``/127.0.0.1``."""
    return f"/{ctx.peer[0]}" if ctx.peer else ""


def finish(version: int, response: JoinGroupResponse) -> JoinGroupResponse:
    """Versions before 7 cannot carry a null protocol name (Kafka sends an empty string)."""
    if version < 7 and response.protocol_name is None:
        response.protocol_name = ""
    return response


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = coordinator(env)

    def on_join(ctx: RequestContext, body: JoinGroupRequest) -> Any:
        version = ctx.api_version
        if not env.broker.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
            # KafkaApis: READ on the group, else JoinGroupRequest.getErrorResponse
            return JoinGroupResponse(
                error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, protocol_name=None if version >= 7 else "", members=[]
            )
        done: Deferred[JoinGroupResponse] = Deferred()
        groups.join(body, version, ctx.client_id or "", client_host(ctx), lambda r: done.callback(finish(version, r)))
        return done

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_join))
