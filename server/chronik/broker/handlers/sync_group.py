"""SyncGroup (API key 14), versions 0-5: the leader hands in the assignment, every member gets
its own (parked until the leader's SyncGroup arrives).

As Kafka: v5+ without a protocol type and name → INCONSISTENT_GROUP_PROTOCOL (checked first,
``SyncGroupRequest.areMandatoryProtocolTypeAndNamePresent``); unknown member →
UNKNOWN_MEMBER_ID, a stale generation → ILLEGAL_GENERATION, a group rebalancing →
REBALANCE_IN_PROGRESS; v5+ protocol type and name must match the group's (else
INCONSISTENT_GROUP_PROTOCOL) and are returned. Members the leader left out get an empty
assignment. The group (with every assignment) is persisted before the members are answered;
with ``log.flush.interval.messages=1`` the answer waits for the group commit (fsync).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.sync_group_request import SyncGroupRequest
from chronik_protocol.messages.sync_group_response import SyncGroupResponse

API_KEY = 14
MIN_VERSION, MAX_VERSION = 0, 5
PROTOCOL_FIELDS_FROM = 5


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups, durable = coordinator(env), env.group_commit

    def on_sync(ctx: RequestContext, body: SyncGroupRequest) -> Any:
        if ctx.api_version >= PROTOCOL_FIELDS_FROM and (body.protocol_type is None or body.protocol_name is None):
            return SyncGroupResponse(error_code=ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
        if not env.broker.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
            return SyncGroupResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)  # KafkaApis: READ on the group
        done: Deferred[SyncGroupResponse] = Deferred()

        def respond(response: SyncGroupResponse) -> None:
            if durable is not None and not response.error_code:
                durable.wait().addCallbacks(lambda _: done.callback(response), done.errback)
            else:
                done.callback(response)

        groups.sync(body, respond)
        return done

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_sync))
