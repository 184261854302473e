"""DescribeTopicPartitions (API key 75), version 0.

As Kafka 4's ``DescribeTopicPartitionsRequestHandler`` and ``KRaftMetadataCache.
describeTopicResponse`` answer (the Java Admin client 4.x uses it for ``describeTopics``):

- An empty topic list means every topic; otherwise the named ones (each once). Only names at or
  after the cursor's topic are considered, in name order.
- A cursor whose partition index is negative, or naming a topic missing from a non-empty topic
  list → INVALID_REQUEST for the whole request (each named topic answered with it, no
  partitions). When describing every topic the cursor's topic may have gone: paging goes on
  from the next name.
- At most ``max(min(max.request.partition.size.limit, response_partition_limit), 1)``
  partitions are returned, starting at the cursor's partition for the cursor's topic. When a
  topic does not fit, its partitions up to the limit are returned and ``next_cursor`` names the
  topic and its next partition; when the limit is used up exactly and topics remain,
  ``next_cursor`` names the next topic at partition 0. Otherwise ``next_cursor`` is null.
- Named topics that do not exist → UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an
  illegal name), zero topic id, no partitions; they do not count against the limit.
- Every partition is led by this node at its leader epoch, which is the only replica and ISR;
  eligible leader replicas and last known ELR are empty, no offline replicas.
- Topic authorized operations: the caller's (every one without an authorizer), always (the request has no
  flag for it).
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.metadata import TOPIC_OPERATIONS
from chronik.broker.topics import Topic, topic_name_error
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import ZERO_UUID
from chronik.security.acl import AclOperation, ResourceType
from chronik.security.acl.authorizer import RequestIdentity
from chronik_protocol.messages.describe_topic_partitions_request import DescribeTopicPartitionsRequest
from chronik_protocol.messages.describe_topic_partitions_response import (
    Cursor,
    DescribeTopicPartitionsResponse,
    DescribeTopicPartitionsResponsePartition,
    DescribeTopicPartitionsResponseTopic,
)

API_KEY = 75
MIN_VERSION, MAX_VERSION = 0, 0
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


def _invalid(req: DescribeTopicPartitionsRequest) -> DescribeTopicPartitionsResponse:
    """``DescribeTopicPartitionsRequest.getErrorResponse`` for an InvalidRequestException."""
    return DescribeTopicPartitionsResponse(
        topics=[
            DescribeTopicPartitionsResponseTopic(
                error_code=ErrorCode.INVALID_REQUEST, name=t.name, topic_id=ZERO_UUID, is_internal=False, partitions=[]
            )
            for t in req.topics
        ]
    )


def _partitions(broker: Broker, topic: Topic, start: int, count: int) -> list[DescribeTopicPartitionsResponsePartition]:
    node = broker.node_id
    return [
        DescribeTopicPartitionsResponsePartition(
            partition_index=p.index,
            leader_id=node,
            leader_epoch=p.leader_epoch,
            replica_nodes=[node],
            isr_nodes=[node],
            eligible_leader_replicas=[],
            last_known_elr=[],
            offline_replicas=[],
        )
        for p in topic.partitions[start : start + count]
    ]


def handle(
    broker: Broker,
    version: int,
    req: DescribeTopicPartitionsRequest,
    *,
    max_partitions: int,
    ctx: RequestIdentity | None = None,
) -> DescribeTopicPartitionsResponse:
    """Topics the caller (``ctx``) may not DESCRIBE are skipped (all topics) or answered
    TOPIC_AUTHORIZATION_FAILED after the others (named), as ``DescribeTopicPartitionsRequestHandler``."""
    auth = broker.authorizer if ctx is not None else None
    enforce = auth is not None and auth.enabled
    refused: list[DescribeTopicPartitionsResponseTopic] = []

    def ops(name: str) -> int:
        return auth.authorized_operations(ctx, ResourceType.TOPIC, name) if enforce else TOPIC_OPERATIONS

    fetch_all = not req.topics
    cursor = req.cursor
    cursor_name = cursor.topic_name if cursor is not None else ""
    candidates = broker.topics.keys() if fetch_all else {t.name for t in req.topics}
    names = sorted(n for n in candidates if n >= cursor_name)
    if cursor is not None and (cursor.partition_index < 0 or (not fetch_all and cursor.topic_name not in names)):
        return _invalid(req)
    remaining = max(min(max_partitions, req.response_partition_limit), 1)
    response = DescribeTopicPartitionsResponse(topics=[], next_cursor=None)
    for name in names:
        if enforce and not auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name):
            if not fetch_all:
                refused.append(
                    DescribeTopicPartitionsResponseTopic(
                        error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                        name=name,
                        topic_id=ZERO_UUID,
                        is_internal=False,
                        partitions=[],
                    )
                )
            continue
        if remaining == 0:
            response.next_cursor = Cursor(topic_name=name, partition_index=0)
            break
        topic = broker.topics.get(name)
        if topic is None:
            if not fetch_all:
                response.topics.append(
                    DescribeTopicPartitionsResponseTopic(
                        error_code=ErrorCode.INVALID_TOPIC_EXCEPTION
                        if topic_name_error(name)
                        else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                        name=name,
                        topic_id=ZERO_UUID,
                        is_internal=name in INTERNAL_TOPICS,
                        partitions=[],
                        topic_authorized_operations=ops(name),
                    )
                )
            continue
        start = cursor.partition_index if cursor is not None and name == cursor_name else 0
        upper = min(len(topic.partitions), start + remaining)
        partitions = _partitions(broker, topic, start, max(upper - start, 0))
        response.topics.append(
            DescribeTopicPartitionsResponseTopic(
                name=name,
                topic_id=topic.topic_id,
                is_internal=topic.is_internal(),
                partitions=partitions,
                topic_authorized_operations=ops(name),
            )
        )
        if upper < len(topic.partitions):
            response.next_cursor = Cursor(topic_name=name, partition_index=upper)
            break
        remaining -= len(partitions)
    response.topics.extend(refused)
    return response


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_describe(ctx: RequestContext, body: DescribeTopicPartitionsRequest) -> DescribeTopicPartitionsResponse:
        return handle(
            broker, ctx.api_version, body, max_partitions=int(config.get("max.request.partition.size.limit")), ctx=ctx
        )

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
