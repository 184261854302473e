"""ConsumerGroupDescribe (API key 69), versions 0-1: KIP-848 groups with their epochs, members,
current and target assignments.

A group that does not exist → GROUP_ID_NOT_FOUND "Group <id> not found."; a classic group →
GROUP_ID_NOT_FOUND "Group <id> is not a consumer group." (the admin client then falls back to
DescribeGroups). States: Empty, Assigning, Reconciling, Stable. v1 adds the member type
(1: consumer protocol). Authorized operations and ACLs (DESCRIBE on each group) as DescribeGroups.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.groups import consumer_groups
from chronik.broker.groups.consumer import ConsumerGroups, Parts
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.describe_groups import GROUP_OPERATIONS, NOT_REQUESTED
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.consumer_group_describe_request import ConsumerGroupDescribeRequest
from chronik_protocol.messages.consumer_group_describe_response import (
    Assignment,
    ConsumerGroupDescribeResponse,
    DescribedGroup,
    Member,
    TopicPartitions,
)

API_KEY = 69
MIN_VERSION, MAX_VERSION = 0, 1
CONSUMER_MEMBER_TYPE = 1


def _assignment(groups: ConsumerGroups, parts: Parts) -> Assignment:
    topics = groups.topics()
    return Assignment(
        topic_partitions=[
            TopicPartitions(topic_id=topics[t][0], topic_name=t, partitions=sorted(ps))
            for t, ps in sorted(parts.items())
            if ps and t in topics
        ]
    )


def describe(groups: ConsumerGroups, group_id: str, ops: int) -> DescribedGroup:
    group = groups.groups.get(group_id)
    if group is None:
        message = (
            f"Group {group_id} is not a consumer group."
            if group_id in groups.classic.groups
            else f"Group {group_id} not found."
        )
        return DescribedGroup(
            error_code=ErrorCode.GROUP_ID_NOT_FOUND, error_message=message, group_id=group_id, authorized_operations=ops
        )
    members = [
        Member(
            member_id=m.member_id,
            instance_id=m.instance_id,
            rack_id=m.rack_id,
            member_epoch=m.epoch,
            client_id=m.client_id,
            client_host=m.client_host,
            subscribed_topic_names=list(m.subscribed_names),
            subscribed_topic_regex=m.regex,
            assignment=_assignment(groups, m.assigned),
            target_assignment=_assignment(groups, group.target.get(m.member_id, {})),
            member_type=CONSUMER_MEMBER_TYPE,
        )
        for m in group.members.values()
    ]
    return DescribedGroup(
        group_id=group_id,
        group_state=group.state(),
        group_epoch=group.epoch,
        assignment_epoch=group.assignment_epoch,
        assignor_name=group.assignor,
        members=members,
        authorized_operations=ops,
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    groups = consumer_groups(env)

    def on_describe(ctx: RequestContext, body: ConsumerGroupDescribeRequest) -> ConsumerGroupDescribeResponse:
        ops = GROUP_OPERATIONS if body.include_authorized_operations else NOT_REQUESTED
        auth = env.broker.authorizer
        if not auth.enabled:
            return ConsumerGroupDescribeResponse(groups=[describe(groups, g, ops) for g in body.group_ids])
        # KafkaApis: DESCRIBE on each group (refused ones first); the operations of found groups
        allowed = [g for g in body.group_ids if auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g)]
        out = [
            DescribedGroup(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=g)
            for g in body.group_ids
            if g not in allowed
        ]
        for g in allowed:
            d = describe(groups, g, NOT_REQUESTED)
            if body.include_authorized_operations and not d.error_code:
                d.authorized_operations = auth.authorized_operations(ctx, ResourceType.GROUP, g)
            out.append(d)
        return ConsumerGroupDescribeResponse(groups=out)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
