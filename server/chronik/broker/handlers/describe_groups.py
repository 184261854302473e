"""DescribeGroups (API key 15), versions 0-6: classic groups' state, protocol and members.

As Kafka 4.4.0: a Stable group lists each member with its metadata for the selected protocol
and its assignment (``protocol_data`` is the protocol name); in other states members come
without metadata or assignment and the protocol is empty. A group that does not exist (or is
a KIP-848 consumer group) is "Dead": no error before v6, GROUP_ID_NOT_FOUND with a message in
v6 (KIP-1043). v3+ may ask for the authorized operations: READ, DELETE, DESCRIBE,
DESCRIBE_CONFIGS, ALTER_CONFIGS (no authorizer: everything a group supports). With an authorizer
(``KafkaApis.handleDescribeGroupsRequest``): DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED
with state "" (listed first); the operations are the caller's, for groups answered without error.
"""

from __future__ import annotations

import copy

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.classic import GroupState
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.describe_groups_request import DescribeGroupsRequest
from chronik_protocol.messages.describe_groups_response import (
    DescribedGroup,
    DescribedGroupMember,
    DescribeGroupsResponse,
)

API_KEY = 15
MIN_VERSION, MAX_VERSION = 0, 6
NOT_REQUESTED = -2147483648  # Integer.MIN_VALUE
GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)  # 3400, as Kafka answers


def describe(groups: GroupCoordinator, version: int, group_id: str, ops: int) -> DescribedGroup:
    group = groups.groups.get(group_id)
    other_type = any(ext.owns(group_id) for ext in groups.extensions)
    if group is None or other_type:
        error = ErrorCode.GROUP_ID_NOT_FOUND if version >= 6 else ErrorCode.NONE
        what = "is not a classic group" if other_type else "not found"
        message = f"Group {group_id} {what}." if version >= 6 else None
        return DescribedGroup(
            error_code=error, error_message=message, group_id=group_id, group_state="Dead", authorized_operations=ops
        )
    stable = group.is_state(GroupState.STABLE)
    members = [
        DescribedGroupMember(
            member_id=m.member_id,
            group_instance_id=m.group_instance_id,
            client_id=m.client_id,
            client_host=m.client_host,
            member_metadata=m.metadata(group.protocol_name) if stable else b"",
            member_assignment=m.assignment if stable else b"",
        )
        for m in group.members.values()
    ]
    return DescribedGroup(
        group_id=group_id,
        group_state=group.state.value,
        protocol_type=group.protocol_type or "",
        protocol_data=(group.protocol_name or "") if stable else "",
        members=members,
        authorized_operations=ops,
    )


def handle(groups: GroupCoordinator, version: int, req: DescribeGroupsRequest) -> DescribeGroupsResponse:
    ops = GROUP_OPERATIONS if version >= 3 and req.include_authorized_operations else NOT_REQUESTED
    return DescribeGroupsResponse(groups=[describe(groups, version, g, ops) for g in req.groups])


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = coordinator(env)

    def on_describe(ctx: RequestContext, body: DescribeGroupsRequest) -> DescribeGroupsResponse:
        auth = env.broker.authorizer
        if not auth.enabled:
            return handle(groups, ctx.api_version, body)
        # KafkaApis: DESCRIBE on each group (refused ones first, state ""); the operations of found groups
        allowed = [g for g in body.groups if auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g)]
        refused = [
            DescribedGroup(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=g, members=[])
            for g in body.groups
            if g not in allowed
        ]
        subset = copy.copy(body)
        subset.groups = allowed
        response = handle(groups, ctx.api_version, subset)
        for d in response.groups:
            if d.authorized_operations != NOT_REQUESTED:
                ok = not d.error_code
                d.authorized_operations = (
                    auth.authorized_operations(ctx, ResourceType.GROUP, d.group_id) if ok else NOT_REQUESTED
                )
        response.groups[:0] = refused
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
