"""CreatePartitions (API key 37), versions 0-3.

As Kafka's KRaft controller answers (``ControllerApis.createPartitions``,
``ReplicationControlManager.createPartitionsForTopic``), per topic:

- A name given more than once → INVALID_REQUEST "Duplicate topic name." (listed once, first).
- Unknown topic → UNKNOWN_TOPIC_OR_PARTITION (no message).
- ``count`` equal to the current count → INVALID_PARTITIONS "Topic already has N partition(s).";
  fewer → INVALID_PARTITIONS "The topic T currently has N partition(s); C would not be an
  increase."
- Manual ``assignments`` must give one replica list per new partition (else
  INVALID_REPLICA_ASSIGNMENT "Attempted to add ..."); each list must be non-empty, name only
  registered brokers (this node) once each, and have the topic's replication factor (1).
- A request adding more than 10000 partitions in all (Kafka's ``MAX_RECORDS_PER_USER_OP``: one
  PartitionRecord each) → POLICY_VIOLATION "Unable to perform excessively large batch
  operation." for the topic that crosses the limit (guards the broker against huge counts).
- ``validate_only`` checks without adding. New partitions start empty, led by this node at
  epoch 0 (``Broker.add_partitions``).
"""

from __future__ import annotations

from collections import Counter

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, ResourceType
from chronik_protocol.messages.create_partitions_request import CreatePartitionsRequest, CreatePartitionsTopic
from chronik_protocol.messages.create_partitions_response import (
    CreatePartitionsResponse,
    CreatePartitionsTopicResult,
)

API_KEY = 37
MIN_VERSION, MAX_VERSION = 0, 3
MAX_RECORDS_PER_USER_OP = 10000
AUTHORIZATION_FAILED = "Topic authorization failed."


def replica_assignment_error(broker: Broker, replicas: list[int], replication_factor: int | None) -> str | None:
    """Kafka's ``validateManualPartitionAssignment`` for a single-node cluster, or None if valid."""
    if not replicas:
        return "The manual partition assignment includes an empty replica list."
    previous = None
    for broker_id in sorted(replicas):
        if broker_id != broker.node_id:
            return f"The manual partition assignment includes broker {broker_id}, but no such broker is registered."
        if broker_id == previous:
            return f"The manual partition assignment includes the broker {broker_id} more than once."
        previous = broker_id
    if replication_factor is not None and len(replicas) != replication_factor:
        return (
            f"The manual partition assignment includes a partition with {len(replicas)} replica(s), but this is "
            f"not consistent with previous partitions, which have {replication_factor} replica(s)."
        )
    return None


def _check(broker: Broker, t: CreatePartitionsTopic) -> tuple[ErrorCode, str | None]:
    topic = broker.topics.get(t.name)
    if topic is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None
    current = len(topic.partitions)
    if t.count == current:
        return ErrorCode.INVALID_PARTITIONS, f"Topic already has {current} partition(s)."
    if t.count < current:
        return (
            ErrorCode.INVALID_PARTITIONS,
            f"The topic {t.name} currently has {current} partition(s); {t.count} would not be an increase.",
        )
    additional = t.count - current
    if t.assignments is not None:
        if len(t.assignments) != additional:
            return (
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                f"Attempted to add {additional} additional partition(s), but only {len(t.assignments)} "
                "assignment(s) were specified.",
            )
        for a in t.assignments:
            problem = replica_assignment_error(broker, a.broker_ids, 1)
            if problem:
                return ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem
    return ErrorCode.NONE, None


def handle(
    broker: Broker, version: int, req: CreatePartitionsRequest, denied_topics: frozenset[str] = frozenset()
) -> CreatePartitionsResponse:
    """Topics in ``denied_topics`` (no ALTER) → TOPIC_AUTHORIZATION_FAILED (``ControllerApis.createPartitions``)."""
    counts = Counter(t.name for t in req.topics)
    results = [
        CreatePartitionsTopicResult(
            name=name, error_code=ErrorCode.INVALID_REQUEST, error_message="Duplicate topic name."
        )
        for name, n in counts.items()
        if n > 1
    ]
    added = 0
    for t in req.topics:
        if counts[t.name] > 1:
            continue
        if t.name in denied_topics:
            results.append(
                CreatePartitionsTopicResult(
                    name=t.name, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, error_message=AUTHORIZATION_FAILED
                )
            )
            continue
        error, message = _check(broker, t)
        if not error:
            added += t.count - len(broker.topics[t.name].partitions)
            if added > MAX_RECORDS_PER_USER_OP:
                error, message = ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation."
        if not error and not req.validate_only:
            broker.add_partitions(broker.topics[t.name], t.count)
        results.append(CreatePartitionsTopicResult(name=t.name, error_code=error, error_message=message))
    return CreatePartitionsResponse(results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_create_partitions(ctx: RequestContext, body: CreatePartitionsRequest) -> CreatePartitionsResponse:
        blocked = denied(broker.authorizer, ctx, AclOperation.ALTER, ResourceType.TOPIC, (t.name for t in body.topics))
        return handle(broker, ctx.api_version, body, blocked)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_create_partitions))
