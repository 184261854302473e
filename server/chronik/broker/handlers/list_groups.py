"""ListGroups (API key 16), versions 0-5: every group this coordinator has.

v4+ (KIP-518) filter by state and return it; v5+ (KIP-848) filter by type ("classic",
"consumer") and return it. Both filters are case-insensitive, as Kafka's; an empty filter
matches everything. A classic group's protocol type is what its members use ("consumer",
"connect", ...; empty for a group that only commits offsets).
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import coordinator
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.broker.handlers import HandlerEnv
from chronik.security.acl import CLUSTER_NAME, AclOperation, ResourceType
from chronik_protocol.messages.list_groups_request import ListGroupsRequest
from chronik_protocol.messages.list_groups_response import ListedGroup, ListGroupsResponse

API_KEY = 16
MIN_VERSION, MAX_VERSION = 0, 5


def listing(groups: GroupCoordinator) -> list[tuple[str, str, str, str]]:
    """``(group id, protocol type, state, type)`` of every group."""
    rows = []
    for gid, g in groups.groups.items():
        if g.state.value != "Dead":
            rows.append((gid, g.protocol_type or "", g.state.value, "classic"))
    for ext in groups.extensions:
        rows.extend(ext.listing())
    return sorted(rows)


def handle(groups: GroupCoordinator, version: int, req: ListGroupsRequest) -> ListGroupsResponse:
    states = {s.lower() for s in req.states_filter} if version >= 4 else set()
    types = {t.lower() for t in req.types_filter} if version >= 5 else set()
    listed = []
    for gid, protocol_type, state, kind in listing(groups):
        if (states and state.lower() not in states) or (types and kind not in types):
            continue
        listed.append(ListedGroup(group_id=gid, protocol_type=protocol_type, group_state=state, group_type=kind))
    return ListGroupsResponse(groups=listed)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = coordinator(env)

    def on_list(ctx: RequestContext, body: ListGroupsRequest) -> ListGroupsResponse:
        response = handle(groups, ctx.api_version, body)
        auth = env.broker.authorizer
        if auth.enabled and not auth.authorize(
            ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False
        ):  # KafkaApis: DESCRIBE on the cluster lists every group, else those the caller may DESCRIBE
            response.groups = [
                g
                for g in response.groups
                if auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.group_id, log_denied=False)
            ]
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_list))
