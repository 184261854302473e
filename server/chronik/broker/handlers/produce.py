"""Produce (API key 0), versions 0-13 advertised, 3-13 served.

Kafka 4 advertises Produce from v0 (KAFKA-18659: older librdkafka stops compressing
otherwise) but rejects v0-2 (KIP-896) with UNSUPPORTED_VERSION; so do we. Each partition's
batch goes through :func:`chronik.broker.log_append.append_records`. acks=0 gets no response;
acks=1 and acks=-1 (all: the single replica) answer once the batch is appended and — when the
topic flushes every message (``flush.messages``/``log.flush.interval.messages`` = 1) — once a
group commit has made it durable. v13 names topics by id (UNKNOWN_TOPIC_ID).
"""

from __future__ import annotations

from typing import Any

from chronik.broker.core import Broker
from chronik.broker.dispatch import NO_RESPONSE, Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.log_append import append_records
from chronik.protocol.errors import ErrorCode
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


def handle(broker: Broker, version: int, req: ProduceRequest) -> tuple[ProduceResponse | None, bool]:
    """Append every partition's batch; return (response or None for acks=0, needs_sync)."""
    now = broker.now_ms()
    needs_sync = False
    topics = []
    for td in req.topic_data:
        topic = broker.topics_by_id.get(td.topic_id) if version >= 13 else broker.topics.get(td.name)
        parts = []
        for pd in td.partition_data:
            partition = broker.partition(topic, pd.index)
            if version < MIN_SERVED:
                result = PartitionProduceResponse(index=pd.index, error_code=ErrorCode.UNSUPPORTED_VERSION)
            elif partition is None:
                missing = ErrorCode.UNKNOWN_TOPIC_ID if version >= 13 else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                result = PartitionProduceResponse(index=pd.index, error_code=missing)
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
                    log_start_offset=outcome.log_start_offset,
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
        return None, needs_sync
    return ProduceResponse(responses=topics), needs_sync


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    """Produce is advertised from v0 but served from v3 (see the module docstring)."""
    broker, group = env.broker, env.group_commit

    def on_produce(ctx: RequestContext, body: ProduceRequest) -> Any:
        response, needs_sync = handle(broker, ctx.api_version, body)
        if response is None:
            return NO_RESPONSE
        if needs_sync and group is not None:
            return group.wait().addCallback(lambda _: response)
        return response

    dispatcher.register(API_KEY, Handler(MIN_SERVED, MAX_VERSION, on_produce, advertised_min=MIN_VERSION))
