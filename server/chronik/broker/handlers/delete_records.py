"""DeleteRecords (API key 21), versions 0-2.

Advances a partition's log start offset, as Kafka's ``Partition.deleteRecordsOnLeader`` and
``UnifiedLog.maybeIncrementLogStartOffset`` do:

- ``offset`` -1 means the high watermark; any other negative offset, or one beyond the high
  watermark → OFFSET_OUT_OF_RANGE (low watermark -1).
- An offset at or below the current log start offset changes nothing; the answer is always the
  partition's low watermark (the log start offset) afterwards.
- A topic whose ``cleanup.policy`` does not include ``delete`` → POLICY_VIOLATION.
- Unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION (low watermark -1).

Batches entirely below the new start are removed; fetches below it then get
OFFSET_OUT_OF_RANGE and long-polling fetches on the partition are woken. When anything moved,
the answer waits for ``storage.sync()`` (run in a worker thread, never on the reactor), so an
acknowledged deletion survives a crash; with a single replica there is nothing else to wait for
(Kafka's DelayedDeleteRecords waits for every replica's low watermark).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import threads
from twisted.internet.defer import Deferred

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Partition
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.delete_records_request import DeleteRecordsRequest
from chronik_protocol.messages.delete_records_response import (
    DeleteRecordsPartitionResult,
    DeleteRecordsResponse,
    DeleteRecordsTopicResult,
)

API_KEY = 21
MIN_VERSION, MAX_VERSION = 0, 2
HIGH_WATERMARK = -1  # DeleteRecordsRequest.HIGH_WATERMARK
INVALID_LOW_WATERMARK = -1


def _delete(broker: Broker, partition: Partition, offset: int) -> tuple[ErrorCode, bool]:
    """(error, whether the log start moved) for one partition."""
    if "delete" not in broker.config(partition.topic, "cleanup.policy"):
        return ErrorCode.POLICY_VIOLATION, False
    log = partition.log
    target = log.log_end_offset if offset == HIGH_WATERMARK else offset
    if target < 0 or target > log.log_end_offset:
        return ErrorCode.OFFSET_OUT_OF_RANGE, False
    if target <= log.log_start_offset:
        return ErrorCode.NONE, False
    log.delete_before(target)
    return ErrorCode.NONE, True


def apply(
    broker: Broker, req: DeleteRecordsRequest, denied_topics: frozenset[str] = frozenset()
) -> tuple[DeleteRecordsResponse, list[Partition]]:
    """Delete now; return the response and the partitions whose log start moved. Topics in
    ``denied_topics`` (no DELETE) answer TOPIC_AUTHORIZATION_FAILED before any existence check."""
    moved: list[Partition] = []
    topics = []
    for t in req.topics:
        topic = broker.topics.get(t.name)
        results = []
        for p in t.partitions:
            res = DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=INVALID_LOW_WATERMARK)
            results.append(res)
            if t.name in denied_topics:
                res.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                continue
            partition = broker.partition(topic, p.partition_index)
            if partition is None:
                res.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                continue
            error, changed = _delete(broker, partition, p.offset)
            res.error_code = error
            if error:
                continue
            res.low_watermark = partition.log.log_start_offset
            if changed and partition not in moved:
                moved.append(partition)
        topics.append(DeleteRecordsTopicResult(name=t.name, partitions=results))
    return DeleteRecordsResponse(topics=topics), moved


def handle(
    broker: Broker,
    version: int,
    req: DeleteRecordsRequest,
    *,
    sync: Callable[[], Deferred[Any]],
    denied_topics: frozenset[str] = frozenset(),
) -> DeleteRecordsResponse | Deferred[Any]:
    """Delete, wake fetches, and answer once ``sync()`` (durability) has fired, if anything moved."""
    response, moved = apply(broker, req, denied_topics)
    for partition in moved:
        broker.notify(partition)  # waiting fetches below the new start now get OFFSET_OUT_OF_RANGE
    if not moved:
        return response
    return sync().addCallback(lambda _: response)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def sync() -> Deferred[Any]:
        return threads.deferToThread(broker.storage.sync)  # blocking fsync: off the reactor thread

    def on_delete_records(ctx: RequestContext, body: DeleteRecordsRequest) -> Any:
        blocked = denied(broker.authorizer, ctx, AclOperation.DELETE, ResourceType.TOPIC, (t.name for t in body.topics))
        return handle(broker, ctx.api_version, body, sync=sync, denied_topics=blocked)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_delete_records))
