"""ListOffsets (API key 2), versions 0-11.

Timestamps: -1 latest (the high watermark; with read_committed the last stable offset, equal
here as there are no transactions), -2 earliest (log start offset), -3 the record with the
largest timestamp (KIP-734), -4 earliest local (= earliest: no tiered storage), -5 latest
tiered and -6 earliest pending upload (KIP-1023; none without tiered storage: offset -1); a
timestamp ≥ 0 → the first record whose timestamp is at least it (the first batch whose max
timestamp reaches it is decoded), or offset -1 / timestamp -1 when there is none. v0 answers
``old_style_offsets``. Leader epoch (v4+) is the partition's, or -1 when no offset is found.
A partition named twice in one request gets one INVALID_REQUEST answer (Kafka's
``ListOffsetsRequest.duplicatePartitions``).
"""

from __future__ import annotations

from collections import Counter

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Partition
from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import RecordBatch
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.list_offsets_request import ListOffsetsRequest
from chronik_protocol.messages.list_offsets_response import (
    ListOffsetsPartitionResponse,
    ListOffsetsResponse,
    ListOffsetsTopicResponse,
)

API_KEY = 2
MIN_VERSION, MAX_VERSION = 0, 11
LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED, EARLIEST_PENDING_UPLOAD = -1, -2, -3, -4, -5, -6


def _first_record_at(partition: Partition, base_offset: int, timestamp: int, exact: bool) -> tuple[int, int] | None:
    """(offset, timestamp) of the first record of the batch at ``base_offset`` with a timestamp
    ≥ ``timestamp`` (== when ``exact``)."""
    log = partition.log
    batches = log.read(base_offset, 1)
    if not batches:
        return None
    for record in RecordBatch(batches[0]).records():
        if record.offset < log.log_start_offset:
            continue
        if record.timestamp == timestamp if exact else record.timestamp >= timestamp:
            return record.offset, record.timestamp
    return None


def lookup(partition: Partition, timestamp: int) -> tuple[int, int]:
    """(offset, timestamp) answering a ListOffsets query on one partition."""
    log = partition.log
    if timestamp == LATEST:
        return log.log_end_offset, -1
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        return log.log_start_offset, -1
    if timestamp in (LATEST_TIERED, EARLIEST_PENDING_UPLOAD):
        return -1, -1
    entries = [e for e in log.entries() if e.last_offset >= log.log_start_offset]
    if timestamp == MAX_TIMESTAMP:
        best = None
        for e in entries:
            if best is None or e.max_timestamp > best.max_timestamp:
                best = e
        if best is None or best.max_timestamp < 0:
            return -1, -1
        found = _first_record_at(partition, best.base_offset, best.max_timestamp, exact=True)
        return found if found else (best.last_offset, best.max_timestamp)
    for e in entries:
        if e.max_timestamp >= timestamp:
            found = _first_record_at(partition, e.base_offset, timestamp, exact=False)
            if found:
                return found
    return -1, -1


def handle(
    broker: Broker, version: int, req: ListOffsetsRequest, denied_topics: frozenset[str] = frozenset()
) -> ListOffsetsResponse:
    """Topics in ``denied_topics`` (no DESCRIBE) answer TOPIC_AUTHORIZATION_FAILED for every partition,
    after the others (``KafkaApis.handleListOffsetRequest``)."""
    counts = Counter((lt.name, lp.partition_index) for lt in req.topics for lp in lt.partitions)
    answered: set[tuple[str, int]] = set()
    topics = []
    unauthorized = []
    for lt in req.topics:
        if lt.name in denied_topics:
            failed = [
                ListOffsetsPartitionResponse(
                    partition_index=lp.partition_index, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED
                )
                for lp in lt.partitions
            ]
            unauthorized.append(ListOffsetsTopicResponse(name=lt.name, partitions=failed))
            continue
        topic = broker.topics.get(lt.name)
        results = []
        for lp in lt.partitions:
            key = (lt.name, lp.partition_index)
            if key in answered:
                continue
            answered.add(key)
            partition = broker.partition(topic, lp.partition_index)
            res = ListOffsetsPartitionResponse(partition_index=lp.partition_index)
            results.append(res)
            if counts[key] > 1:
                res.error_code = ErrorCode.INVALID_REQUEST
                continue
            if partition is None:
                res.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                continue
            if lp.current_leader_epoch > partition.leader_epoch:
                res.error_code = ErrorCode.UNKNOWN_LEADER_EPOCH
                continue
            if 0 <= lp.current_leader_epoch < partition.leader_epoch:
                res.error_code = ErrorCode.FENCED_LEADER_EPOCH
                continue
            offset, ts = lookup(partition, lp.timestamp)
            if version == 0:
                res.old_style_offsets = [offset] if offset >= 0 and lp.max_num_offsets > 0 else []
            res.offset, res.timestamp = offset, ts
            res.leader_epoch = partition.leader_epoch if offset >= 0 else -1
        topics.append(ListOffsetsTopicResponse(name=lt.name, partitions=results))
    return ListOffsetsResponse(topics=topics + unauthorized)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_list_offsets(ctx: RequestContext, body: ListOffsetsRequest) -> ListOffsetsResponse:
        names = (t.name for t in body.topics)
        blocked = denied(broker.authorizer, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, names)
        return handle(broker, ctx.api_version, body, blocked)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_list_offsets))
