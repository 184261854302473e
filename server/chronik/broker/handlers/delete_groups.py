"""DeleteGroups (API key 42), versions 0-3: delete groups with their committed offsets.

As Kafka 4.4.0: a group that does not exist (an empty id too) → GROUP_ID_NOT_FOUND; a group
with members (any state but Empty) → NON_EMPTY_GROUP; else the group and every offset it
committed are deleted (durably, under the flush policy, before the answer).
"""

from __future__ import annotations

from typing import Any

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.delete_groups_request import DeleteGroupsRequest
from chronik_protocol.messages.delete_groups_response import DeletableGroupResult, DeleteGroupsResponse

API_KEY = 42
MIN_VERSION, MAX_VERSION = 0, 3


def delete(groups: GroupCoordinator, group_id: str) -> int:
    for ext in groups.extensions:
        if ext.owns(group_id):
            return int(ext.delete_group(group_id))
    error = groups.delete_group(group_id)
    return ErrorCode.GROUP_ID_NOT_FOUND if error == ErrorCode.INVALID_GROUP_ID else error


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups, durable = coordinator(env), env.group_commit

    def on_delete(ctx: RequestContext, body: DeleteGroupsRequest) -> Any:
        auth = env.broker.authorizer  # KafkaApis: DELETE on each group, the refused ones answered first
        refused = [g for g in body.groups_names if not auth.authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, g)]
        results = [DeletableGroupResult(group_id=g, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED) for g in refused]
        results += [
            DeletableGroupResult(group_id=g, error_code=delete(groups, g))
            for g in body.groups_names
            if g not in refused
        ]
        response = DeleteGroupsResponse(results=results)
        if durable is not None and any(r.error_code == 0 for r in results):
            return durable.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_delete))
