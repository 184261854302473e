"""Produce (API key 0), versions 0-13 advertised, 3-13 served.

Kafka 4 advertises Produce from v0 (KAFKA-18659: older librdkafka stops compressing
otherwise) but rejects v0-2 (KIP-896) with UNSUPPORTED_VERSION; so do we. Each partition's
batch goes through :func:`chronik.broker.log_append.append_records`. acks=0 gets no response, or,
when any partition failed, a closed connection (so the producer refreshes its metadata); acks=1
and acks=-1 (all: the single replica) answer once the batch is appended and — when the topic
flushes every message (``flush.messages``/``log.flush.interval.messages`` = 1) — once a group
commit has made it durable. v13 names topics by id (UNKNOWN_TOPIC_ID; a known id with an
unknown partition is UNKNOWN_TOPIC_OR_PARTITION). Acks other than -1/0/1 get INVALID_REQUIRED_ACKS
for every existing partition (``ReplicaManager.appendRecords``). Failed partitions answer base
offset -1; CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE (Kafka's
``UNKNOWN_LOG_APPEND_INFO``) and the request-level INVALID_RECORD checks also log start offset -1,
other append errors the partition's log start offset.

Quotas (KIP-13, KIP-219): with a ``producer_byte_rate`` quota in force, the request's size is
recorded for the client's (user, client-id) after the append; over the quota the response (sent
at once) carries ``throttle_time_ms`` and the connection is muted that long (acks=0 too, though
it gets no response), as Kafka's ``handleProduceRequest`` does.
"""

from __future__ import annotations

from typing import Any

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import NO_RESPONSE, CloseConnection, Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.log_append import append_records
from chronik.protocol.errors import ErrorCode
from chronik.quotas import user_of
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.produce_request import ProduceRequest
from chronik_protocol.messages.produce_response import (
    BatchIndexAndErrorMessage,
    PartitionProduceResponse,
    ProduceResponse,
    TopicProduceResponse,
)

API_KEY = 0
MIN_VERSION, MAX_VERSION = 0, 13
MIN_SERVED = 3

#: Errors Kafka answers with ``LogAppendInfo.UNKNOWN_LOG_APPEND_INFO`` (log start offset -1); the
#: others (INVALID_RECORD, INVALID_TIMESTAMP, sequence and epoch errors) carry the partition's.
_NO_LOG_START = frozenset({ErrorCode.CORRUPT_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE})


def _no_log_start(error: int, message: str | None) -> bool:
    """Whether Kafka answers log start offset -1: the errors above, and the request-level checks of
    ``ProduceRequest.validateRecords`` (no batch, not exactly one batch, magic < 2), whose
    INVALID_RECORD messages from :func:`append_records` all start with "Produce request"."""
    if error in _NO_LOG_START:
        return True
    return error == ErrorCode.INVALID_RECORD and (message or "").startswith("Produce request")


def _has_transactional_records(req: ProduceRequest) -> bool:
    """``RequestUtils.hasTransactionalRecords``: some partition's first batch (magic 2) is transactional."""
    for td in req.topic_data:
        for pd in td.partition_data:
            records = pd.records
            if records is not None and len(records) > 22 and records[16] == 2 and records[22] & 0x10:
                return True
    return False


def _all_failed(req: ProduceRequest, error: int) -> ProduceResponse:
    """``ProduceRequest.getErrorResponse``: every partition fails with ``error`` (offsets -1)."""
    return ProduceResponse(
        responses=[
            TopicProduceResponse(
                name=td.name,
                topic_id=td.topic_id,
                partition_responses=[
                    PartitionProduceResponse(index=pd.index, error_code=error, base_offset=-1)
                    for pd in td.partition_data
                ],
            )
            for td in req.topic_data
        ]
    )


def _denied_topics(broker: Broker, ctx: RequestContext, version: int, req: ProduceRequest) -> frozenset[str]:
    """Kafka's WRITE on each topic (by name; v13 ids resolved first, unknown ids are not checked)."""
    if version >= 13:
        names = [t.name if (t := broker.topics_by_id.get(td.topic_id)) else None for td in req.topic_data]
    else:
        names = [td.name for td in req.topic_data]
    return denied(broker.authorizer, ctx, AclOperation.WRITE, ResourceType.TOPIC, names)


def handle(
    broker: Broker, version: int, req: ProduceRequest, denied_topics: frozenset[str] = frozenset()
) -> tuple[ProduceResponse | CloseConnection | None, bool]:
    """Append every partition's batch; return (response, needs_sync). For acks=0 the response is None, or
    :class:`CloseConnection` when a partition failed.

    ``denied_topics`` (no WRITE) answer TOPIC_AUTHORIZATION_FAILED before any existence check,
    after an unknown v13 topic id (UNKNOWN_TOPIC_ID), as ``KafkaApis.handleProduceRequest``."""
    now = broker.now_ms()
    needs_sync = False
    topics = []
    for td in req.topic_data:
        topic = broker.topics_by_id.get(td.topic_id) if version >= 13 else broker.topics.get(td.name)
        blocked = bool(denied_topics) and (topic.name if topic else td.name if version < 13 else None) in denied_topics
        parts = []
        for pd in td.partition_data:
            partition = broker.partition(topic, pd.index)
            if version < MIN_SERVED:
                result = PartitionProduceResponse(index=pd.index, error_code=ErrorCode.UNSUPPORTED_VERSION)
            elif blocked:
                result = PartitionProduceResponse(
                    index=pd.index, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, base_offset=-1
                )
            elif partition is None:
                missing = (
                    ErrorCode.UNKNOWN_TOPIC_ID
                    if topic is None and version >= 13
                    else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                )
                result = PartitionProduceResponse(index=pd.index, error_code=missing, base_offset=-1)
            elif req.acks not in (-1, 0, 1):
                result = PartitionProduceResponse(
                    index=pd.index, error_code=ErrorCode.INVALID_REQUIRED_ACKS, base_offset=-1
                )
            else:
                assert topic is not None
                outcome = append_records(
                    partition,
                    pd.records,
                    max_message_bytes=int(broker.config(topic, "max.message.bytes")),
                    log_append_time=broker.config(topic, "message.timestamp.type") == "LogAppendTime",
                    compacted="compact" in str(broker.config(topic, "cleanup.policy")),
                    now_ms=now,
                    compression=str(broker.config(topic, "compression.type")),
                )
                result = PartitionProduceResponse(
                    index=pd.index,
                    error_code=outcome.error,
                    base_offset=outcome.base_offset,
                    log_append_time_ms=outcome.log_append_time,
                    log_start_offset=-1 if _no_log_start(outcome.error, outcome.message) else outcome.log_start_offset,
                    error_message=outcome.message,
                    record_errors=[BatchIndexAndErrorMessage(i, m) for i, m in outcome.record_errors or ()],
                )
                if outcome.error == ErrorCode.NONE and outcome.base_offset >= 0:
                    if int(broker.config(topic, "flush.messages")) <= 1:
                        needs_sync = True
                    broker.notify(partition)
            parts.append(result)
        topics.append(TopicProduceResponse(name=td.name, topic_id=td.topic_id, partition_responses=parts))
    if req.acks == 0:
        return _acks_zero_outcome(topics), needs_sync
    return ProduceResponse(responses=topics), needs_sync


def _acks_zero_outcome(topics: list[TopicProduceResponse]) -> CloseConnection | None:
    """acks=0: nothing to send, unless a partition failed — then Kafka closes the connection."""
    failed = [
        f"{t.name or t.topic_id}-{p.index}: {ErrorCode(p.error_code).name}"
        for t in topics
        for p in t.partition_responses
        if p.error_code
    ]
    if not failed:
        return None
    shown = ", ".join(failed[:8]) + (f" and {len(failed) - 8} more" if len(failed) > 8 else "")
    return CloseConnection(f"error in an acks=0 produce, closing so the producer refreshes metadata ({shown})")


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    """Produce is advertised from v0 but served from v3 (see the module docstring)."""
    broker, group = env.broker, env.group_commit

    def on_produce(ctx: RequestContext, body: ProduceRequest) -> Any:
        denied_topics: frozenset[str] = frozenset()
        if broker.authorizer.enabled:  # transactional batches: WRITE on the transactional id, else all fail
            tid = body.transactional_id
            if _has_transactional_records(body) and (
                tid is None
                or not broker.authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, tid)
            ):
                failed = _all_failed(body, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
                return _acks_zero_outcome(failed.responses) if body.acks == 0 else failed
            denied_topics = _denied_topics(broker, ctx, ctx.api_version, body)
        response, needs_sync = handle(broker, ctx.api_version, body, denied_topics)
        quota = broker.quotas.produce
        if quota.enabled:  # KIP-219: answer at once with the throttle time, then mute
            throttle = quota.record(user_of(ctx.principal), ctx.client_id, ctx.request.size, broker.now_ms())
            if throttle > 0:
                ctx.throttle_ms = throttle
                if isinstance(response, ProduceResponse):
                    response.throttle_time_ms = throttle
        if response is None:
            return NO_RESPONSE
        if isinstance(response, CloseConnection):
            return response
        if needs_sync and group is not None:
            return group.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_SERVED, MAX_VERSION, on_produce, advertised_min=MIN_VERSION))
