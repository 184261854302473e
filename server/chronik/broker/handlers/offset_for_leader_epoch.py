"""OffsetForLeaderEpoch (API key 23), versions 0-4.

Every partition has had one leader epoch, its current one (0), starting at the log start
offset; answers follow Kafka's ``LeaderEpochFileCache.endOffsetFor`` over that single entry:

- requested epoch = the current epoch → (current epoch, log end offset = high watermark);
- requested epoch -1 (undefined) or above the current one → leader epoch -1, end offset -1,
  no error (what Kafka answers for an epoch it does not know);
- requested epoch below the current one (only possible for negative epochs other than -1
  while the epoch stays 0) → (requested epoch, start offset of the first epoch).

``current_leader_epoch`` (v2+) fences like Fetch: newer than ours → UNKNOWN_LEADER_EPOCH, older
(≥ 0) → FENCED_LEADER_EPOCH. Unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION. The
``replica_id`` (v3+) is not consulted: consumers and debugging tools get the same answer.
"""

from __future__ import annotations

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Partition
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import CLUSTER_NAME, AclOperation, ResourceType
from chronik_protocol.messages.offset_for_leader_epoch_request import OffsetForLeaderEpochRequest
from chronik_protocol.messages.offset_for_leader_epoch_response import (
    EpochEndOffset,
    OffsetForLeaderEpochResponse,
    OffsetForLeaderTopicResult,
)

API_KEY = 23
MIN_VERSION, MAX_VERSION = 0, 4
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


def end_offset_for(partition: Partition, requested: int) -> tuple[int, int]:
    """(leader epoch, end offset) for ``requested`` epoch on ``partition``."""
    current = partition.leader_epoch
    if requested == UNDEFINED_EPOCH or requested > current:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
    if requested == current:
        return current, partition.log.log_end_offset
    return requested, partition.log.log_start_offset


def handle(
    broker: Broker, version: int, req: OffsetForLeaderEpochRequest, denied_topics: frozenset[str] = frozenset()
) -> OffsetForLeaderEpochResponse:
    """Topics in ``denied_topics`` answer TOPIC_AUTHORIZATION_FAILED per partition, after the others."""
    topics = []
    unauthorized = []
    for t in req.topics:
        if t.topic in denied_topics:
            failed = [
                EpochEndOffset(partition=p.partition, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                for p in t.partitions
            ]
            unauthorized.append(OffsetForLeaderTopicResult(topic=t.topic, partitions=failed))
            continue
        topic = broker.topics.get(t.topic)
        results = []
        for p in t.partitions:
            res = EpochEndOffset(partition=p.partition, leader_epoch=UNDEFINED_EPOCH, end_offset=UNDEFINED_EPOCH_OFFSET)
            results.append(res)
            partition = broker.partition(topic, p.partition)
            if partition is None:
                res.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif p.current_leader_epoch > partition.leader_epoch:
                res.error_code = ErrorCode.UNKNOWN_LEADER_EPOCH
            elif 0 <= p.current_leader_epoch < partition.leader_epoch:
                res.error_code = ErrorCode.FENCED_LEADER_EPOCH
            else:
                res.leader_epoch, res.end_offset = end_offset_for(partition, p.leader_epoch)
        topics.append(OffsetForLeaderTopicResult(topic=t.topic, partitions=results))
    return OffsetForLeaderEpochResponse(topics=topics + unauthorized)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_offset_for_leader_epoch(
        ctx: RequestContext, body: OffsetForLeaderEpochRequest
    ) -> OffsetForLeaderEpochResponse:
        auth, blocked = broker.authorizer, frozenset[str]()
        # CLUSTER_ACTION (followers) covers every topic; consumers (KIP-320) need DESCRIBE on each
        if auth.enabled and not auth.authorize(
            ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False
        ):
            blocked = denied(auth, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t.topic for t in body.topics))
        return handle(broker, ctx.api_version, body, blocked)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_offset_for_leader_epoch))
