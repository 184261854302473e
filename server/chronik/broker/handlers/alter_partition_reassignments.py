"""AlterPartitionReassignments (API key 45), versions 0-1.

As Kafka's KRaft controller answers (``ReplicationControlManager.alterPartitionReassignments``)
on a single-node cluster, per partition:

- Unknown topic → UNKNOWN_TOPIC_OR_PARTITION "Unable to find a topic named T."; unknown
  partition → UNKNOWN_TOPIC_OR_PARTITION "Unable to find partition T:P.".
- ``replicas`` null (cancel) → NO_REASSIGNMENT_IN_PROGRESS "No partition reassignment is in
  progress." (none ever is).
- Target replicas are checked like a manual assignment (``validateManualPartitionAssignment``):
  empty → INVALID_REPLICA_ASSIGNMENT "... includes an empty replica list."; a broker other than
  this node → INVALID_REPLICA_ASSIGNMENT "... includes broker B, but no such broker is
  registered."; this node twice → INVALID_REPLICA_ASSIGNMENT "... more than once.".
- ``[this node]`` is the current assignment: success, nothing changes, nothing is in progress.

v1 echoes ``allow_replication_factor_change`` (a valid target always keeps the factor 1).
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.create_partitions import replica_assignment_error
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik.security.acl.requests import cluster_denied_message
from chronik_protocol.messages.alter_partition_reassignments_request import AlterPartitionReassignmentsRequest
from chronik_protocol.messages.alter_partition_reassignments_response import (
    AlterPartitionReassignmentsResponse,
    ReassignablePartitionResponse,
    ReassignableTopicResponse,
)

API_KEY = 45
MIN_VERSION, MAX_VERSION = 0, 1


def _alter(broker: Broker, topic_name: str, index: int, replicas: list[int] | None) -> tuple[ErrorCode, str | None]:
    topic = broker.topics.get(topic_name)
    if topic is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find a topic named {topic_name}."
    if broker.partition(topic, index) is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find partition {topic_name}:{index}."
    if replicas is None:
        return ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "No partition reassignment is in progress."
    problem = replica_assignment_error(broker, replicas, None)
    if problem:
        return ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem
    return ErrorCode.NONE, None


def handle(
    broker: Broker, version: int, req: AlterPartitionReassignmentsRequest
) -> AlterPartitionReassignmentsResponse:
    responses = []
    for t in req.topics:
        partitions = []
        for p in t.partitions:
            error, message = _alter(broker, t.name, p.partition_index, p.replicas)
            partitions.append(
                ReassignablePartitionResponse(
                    partition_index=p.partition_index, error_code=error, error_message=message
                )
            )
        responses.append(ReassignableTopicResponse(name=t.name, partitions=partitions))
    return AlterPartitionReassignmentsResponse(
        allow_replication_factor_change=req.allow_replication_factor_change if version >= 1 else True,
        error_code=ErrorCode.NONE,
        error_message=None,
        responses=responses,
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_alter(ctx: RequestContext, body: AlterPartitionReassignmentsRequest) -> AlterPartitionReassignmentsResponse:
        if not broker.authorizer.authorize_cluster(ctx, AclOperation.ALTER):  # ControllerApis: ALTER on the cluster
            # AlterPartitionReassignmentsRequest.getErrorResponse: the error at the top and on every partition
            code, message = ErrorCode.CLUSTER_AUTHORIZATION_FAILED, cluster_denied_message(ctx, AclOperation.ALTER)
            return AlterPartitionReassignmentsResponse(
                error_code=code,
                error_message=message,
                responses=[
                    ReassignableTopicResponse(
                        name=t.name,
                        partitions=[
                            ReassignablePartitionResponse(
                                partition_index=p.partition_index, error_code=code, error_message=message
                            )
                            for p in t.partitions
                        ],
                    )
                    for t in body.topics
                ],
            )
        return handle(broker, ctx.api_version, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_alter))
