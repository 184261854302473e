"""Metadata (API key 3), versions 0-13.

- A null topic list (v1+) means every topic, an empty list none; in v0 an empty list means all.
- Unknown topics are created when the request allows it (v4+ ``allow_auto_topic_creation``;
  always before v4) and ``auto.create.topics.enable`` is on, with ``num.partitions``; the new
  topic is answered at once with its partitions (no LEADER_NOT_AVAILABLE round trip). An
  illegal name → INVALID_TOPIC_EXCEPTION; otherwise UNKNOWN_TOPIC_OR_PARTITION.
- v12+ may name topics by id: unknown → UNKNOWN_TOPIC_ID, the id echoed, the name null; in v10-11
  a null name or a non-zero id is INVALID_REQUEST for every topic (Kafka's getErrorResponse).
- One broker (the advertised address of this node), which is also the controller; every
  partition led by it at epoch 0 with itself as the only replica and ISR.
- Authorized operations (v8+) on request, from the authorizer (everything without one); the cluster's
  are 0 without DESCRIBE on it. ACLs: see :func:`handle`.
- A topic named (or, by id, identified) twice is answered once, as Kafka collects them in a set.
"""

from __future__ import annotations

import uuid

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Topic, topic_name_error
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import ZERO_UUID
from chronik.security.acl import CLUSTER_NAME, AclOperation, Authorizer, ResourceType
from chronik.security.acl.authorizer import RequestIdentity
from chronik_protocol.messages.metadata_request import MetadataRequest
from chronik_protocol.messages.metadata_response import (
    MetadataResponse,
    MetadataResponseBroker,
    MetadataResponsePartition,
    MetadataResponseTopic,
)

API_KEY = 3
MIN_VERSION, MAX_VERSION = 0, 13

NO_OPERATIONS = -2147483648  # Integer.MIN_VALUE: "not requested"
# AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
# DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12, CREATE_TOKENS 13, DESCRIBE_TOKENS 14.
TOPIC_OPERATIONS = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))
# Kafka's ``AclEntry.supportedOperations(CLUSTER)``: no token operations (those are on USER resources).
CLUSTER_OPERATIONS = sum(1 << op for op in (5, 7, 8, 9, 10, 11, 12))
_NO_AUTHORIZER = Authorizer.disabled()


def _topic(broker: Broker, topic: Topic, authorized_ops: int) -> MetadataResponseTopic:
    node = broker.node_id
    return MetadataResponseTopic(
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal(),
        partitions=[
            MetadataResponsePartition(
                partition_index=p.index,
                leader_id=node,
                leader_epoch=p.leader_epoch,
                replica_nodes=[node],
                isr_nodes=[node],
                offline_replicas=[],
            )
            for p in topic.partitions
        ],
        topic_authorized_operations=authorized_ops,
    )


def handle(
    broker: Broker,
    version: int,
    req: MetadataRequest,
    *,
    auto_create: bool,
    num_partitions: int,
    address: tuple[str, int] | None = None,
    ctx: RequestIdentity | None = None,
) -> MetadataResponse:
    """Topics the caller (``ctx``; no checks without it) may not DESCRIBE: left out of an all-topics
    answer, else TOPIC_AUTHORIZATION_FAILED (zero id, no partitions); auto-creation needs CREATE on
    the cluster or the topic (``KafkaApis.handleTopicMetadataRequest``)."""
    if 10 <= version < 12 and req.topics and any(t.name is None or t.topic_id != ZERO_UUID for t in req.topics):
        # Kafka's handleTopicMetadataRequest: InvalidRequestException ("Topic name can not be null" /
        # "Topic IDs are not supported"), answered by MetadataRequest.getErrorResponse.
        return MetadataResponse(
            topics=[
                MetadataResponseTopic(error_code=ErrorCode.INVALID_REQUEST, name=t.name or "", topic_id=t.topic_id)
                for t in req.topics
            ]
        )
    auth = broker.authorizer if ctx is not None else _NO_AUTHORIZER
    enforce = auth.enabled
    want_ops = version >= 8 and req.include_topic_authorized_operations

    def ops(name: str) -> int:
        if not want_ops:
            return NO_OPERATIONS
        return auth.authorized_operations(ctx, ResourceType.TOPIC, name) if enforce else TOPIC_OPERATIONS

    def describable(name: str) -> bool:
        return not enforce or auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)

    cluster_create: list[bool] = []

    def creatable(name: str) -> bool:
        """Auto-creation needs CREATE on the cluster or on the topic."""
        if not enforce:
            return True
        if not cluster_create:
            cluster_create.append(
                auth.authorize(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False)
            )
        return cluster_create[0] or auth.authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)

    def unauthorized(name: str | None, topic_id: uuid.UUID = ZERO_UUID) -> MetadataResponseTopic:
        return MetadataResponseTopic(
            error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=name, topic_id=topic_id, partitions=[]
        )

    allow_create = auto_create and (req.allow_auto_topic_creation if version >= 4 else True)
    if req.topics is None or (version == 0 and not req.topics):
        listed = sorted(broker.topics.values(), key=lambda t: t.name)
        if enforce:  # every topic: those the caller may not describe are left out silently
            listed = [
                t
                for t in listed
                if auth.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name, log_denied=False)
            ]
        topics = [_topic(broker, t, ops(t.name)) for t in listed]
    else:
        topics = []
        seen: set[object] = set()
        for wanted in req.topics:
            key = wanted.name if wanted.name is not None or version < 10 else wanted.topic_id
            if key in seen:  # Kafka answers each requested topic once (it collects them in a set)
                continue
            seen.add(key)
            if wanted.name is None and version >= 10:
                found = broker.topics_by_id.get(wanted.topic_id)
                if found is None:
                    topics.append(
                        MetadataResponseTopic(
                            error_code=ErrorCode.UNKNOWN_TOPIC_ID, name=None, topic_id=wanted.topic_id
                        )
                    )
                elif not describable(found.name):  # ids are not secret: the id is echoed, the name is not
                    topics.append(unauthorized(None, found.topic_id))
                else:
                    topics.append(_topic(broker, found, ops(found.name)))
                continue
            name = wanted.name or ""
            if not describable(name):  # before any existence check: existence is not disclosed
                topics.append(unauthorized(name))
                continue
            topic = broker.topics.get(name)
            if topic is None:
                if allow_create and not creatable(name):
                    topics.append(unauthorized(name))
                    continue
                problem = topic_name_error(name)
                if problem is not None:
                    topics.append(
                        MetadataResponseTopic(
                            error_code=ErrorCode.INVALID_TOPIC_EXCEPTION,
                            name=name,
                            topic_id=ZERO_UUID,
                            topic_authorized_operations=ops(name),
                        )
                    )
                    continue
                if not allow_create:
                    topics.append(
                        MetadataResponseTopic(
                            error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            name=name,
                            topic_id=ZERO_UUID,
                            topic_authorized_operations=ops(name),
                        )
                    )
                    continue
                topic = broker.create_topic(name, num_partitions, {})
            topics.append(_topic(broker, topic, ops(name)))
    cluster_ops = NO_OPERATIONS
    if 8 <= version <= 10 and req.include_cluster_authorized_operations:
        if not enforce:
            cluster_ops = CLUSTER_OPERATIONS
        elif auth.authorize_cluster(ctx, AclOperation.DESCRIBE):
            cluster_ops = auth.authorized_operations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
        else:
            cluster_ops = 0
    host, port = address or (broker.host, broker.port)  # the advertised address of the client's listener
    return MetadataResponse(
        brokers=[MetadataResponseBroker(node_id=broker.node_id, host=host, port=port, rack=None)],
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        topics=topics,
        cluster_authorized_operations=cluster_ops,
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_metadata(ctx: RequestContext, body: MetadataRequest) -> MetadataResponse:
        return handle(
            broker,
            ctx.api_version,
            body,
            auto_create=bool(config.get("auto.create.topics.enable")),
            num_partitions=int(config.get("num.partitions")),
            address=broker.address_for(ctx.listener_name),
            ctx=ctx,
        )

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_metadata))
