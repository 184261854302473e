"""ElectLeaders (API key 43), versions 0-2.

As Kafka's KRaft controller answers (``ReplicationControlManager.electLeaders``) for one node:
every partition already has its preferred (and only) replica as leader, so both election types
(v1+ ``election_type`` 0 preferred, 1 unclean; v0 is preferred) change nothing:

- Named partitions → ELECTION_NOT_NEEDED "Leader election not needed for topic partition."; an
  unknown topic → UNKNOWN_TOPIC_OR_PARTITION "No such topic as T", an unknown partition of a
  known topic → UNKNOWN_TOPIC_OR_PARTITION "No such partition as T-P".
- ``topic_partitions`` null means every partition: each topic is listed (by name) with no
  partition results, since Kafka leaves out partitions whose election was not needed.
- Any other election type fails the whole request with INVALID_REQUEST "Unknown election type
  N" at the top (v1+) and for every named partition. (Kafka's controller fails there with an
  IllegalArgumentException from ``ElectionType.valueOf``, which clients see as
  UNKNOWN_SERVER_ERROR; Chronik keeps that code for its own faults.)
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik.security.acl.requests import cluster_denied_message
from chronik_protocol.messages.elect_leaders_request import ElectLeadersRequest
from chronik_protocol.messages.elect_leaders_response import (
    ElectLeadersResponse,
    PartitionResult,
    ReplicaElectionResult,
)

API_KEY = 43
MIN_VERSION, MAX_VERSION = 0, 2
PREFERRED, UNCLEAN = 0, 1
NOT_NEEDED_MESSAGE = "Leader election not needed for topic partition."


def _elect(broker: Broker, topic_name: str, partition_id: int) -> tuple[ErrorCode, str | None]:
    topic = broker.topics.get(topic_name)
    if topic is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such topic as {topic_name}"
    if broker.partition(topic, partition_id) is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {topic_name}-{partition_id}"
    return ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED_MESSAGE


def handle(broker: Broker, version: int, req: ElectLeadersRequest) -> ElectLeadersResponse:
    election_type = req.election_type if version >= 1 else PREFERRED
    if election_type not in (PREFERRED, UNCLEAN):
        message = f"Unknown election type {election_type}"
        return ElectLeadersResponse(
            error_code=ErrorCode.INVALID_REQUEST,
            replica_election_results=[
                ReplicaElectionResult(
                    topic=t.topic,
                    partition_result=[
                        PartitionResult(partition_id=p, error_code=ErrorCode.INVALID_REQUEST, error_message=message)
                        for p in t.partitions
                    ],
                )
                for t in req.topic_partitions or []
            ],
        )
    results = []
    if req.topic_partitions is None:
        for name in sorted(broker.topics):
            results.append(ReplicaElectionResult(topic=name, partition_result=[]))
    else:
        for t in req.topic_partitions:
            partition_results = []
            for p in t.partitions:
                error, message = _elect(broker, t.topic, p)
                partition_results.append(PartitionResult(partition_id=p, error_code=error, error_message=message))
            results.append(ReplicaElectionResult(topic=t.topic, partition_result=partition_results))
    return ElectLeadersResponse(error_code=ErrorCode.NONE, replica_election_results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_elect_leaders(ctx: RequestContext, body: ElectLeadersRequest) -> ElectLeadersResponse:
        if not broker.authorizer.authorize_cluster(ctx, AclOperation.ALTER):  # ControllerApis: ALTER on the cluster
            # ElectLeadersRequest.getErrorResponse: the error at the top and on every requested partition
            code, message = ErrorCode.CLUSTER_AUTHORIZATION_FAILED, cluster_denied_message(ctx, AclOperation.ALTER)
            return ElectLeadersResponse(
                error_code=code,
                replica_election_results=[
                    ReplicaElectionResult(
                        topic=t.topic,
                        partition_result=[
                            PartitionResult(partition_id=p, error_code=code, error_message=message)
                            for p in t.partitions
                        ],
                    )
                    for t in body.topic_partitions or []
                ],
            )
        return handle(broker, ctx.api_version, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_elect_leaders))
