"""LeaveGroup (API key 13), versions 0-5.

v0-2 name one member; v3+ (KIP-345) a batch of members, by member id or — with an empty
member id — by ``group.instance.id`` (administrative removal of static members). Per member:
unknown → UNKNOWN_MEMBER_ID, instance id held by another member id → FENCED_INSTANCE_ID.
Removing members rebalances the group. Unknown group: v3+ answer each member with
UNKNOWN_MEMBER_ID, v0-2 at the top level (as Kafka 4.4.0 does); empty group id →
INVALID_GROUP_ID. v0-2's top-level error is the first member's error.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.leave_group_request import LeaveGroupRequest
from chronik_protocol.messages.leave_group_response import LeaveGroupResponse, MemberResponse

API_KEY = 13
MIN_VERSION, MAX_VERSION = 0, 5
BATCHED_FROM = 3


def handle(groups: GroupCoordinator, version: int, req: LeaveGroupRequest) -> LeaveGroupResponse:
    if version >= BATCHED_FROM:
        wanted = [(m.member_id, m.group_instance_id) for m in req.members]
    else:
        wanted = [(req.member_id, None)]
    top, errors = groups.leave(req.group_id, wanted)
    if top == ErrorCode.UNKNOWN_MEMBER_ID and version >= BATCHED_FROM:
        top, errors = ErrorCode.NONE, [ErrorCode.UNKNOWN_MEMBER_ID] * len(wanted)
    if version < BATCHED_FROM:
        return LeaveGroupResponse(error_code=top or next((e for e in errors if e), ErrorCode.NONE))
    members = [] if top else [MemberResponse(mid, iid, e) for (mid, iid), e in zip(wanted, errors, strict=True)]
    return LeaveGroupResponse(error_code=top, members=members)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = coordinator(env)

    def on_leave(ctx: RequestContext, body: LeaveGroupRequest) -> LeaveGroupResponse:
        if not env.broker.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, body.group_id):
            return LeaveGroupResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)  # KafkaApis: READ on the group
        return handle(groups, ctx.api_version, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_leave))
