"""ListPartitionReassignments (API key 46), version 0.

No reassignment is ever in progress on a single node (AlterPartitionReassignments to this node
completes at once), so the answer always lists no topics, with no error, whether ``topics`` is
null (everything) or names topics and partitions — Kafka's ``ReplicationControlManager.
listPartitionReassignments`` also skips unknown topics and partitions without an error.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik_protocol.messages.list_partition_reassignments_request import ListPartitionReassignmentsRequest
from chronik_protocol.messages.list_partition_reassignments_response import ListPartitionReassignmentsResponse

API_KEY = 46
MIN_VERSION, MAX_VERSION = 0, 0


def handle(version: int, req: ListPartitionReassignmentsRequest) -> ListPartitionReassignmentsResponse:
    return ListPartitionReassignmentsResponse(error_code=ErrorCode.NONE, error_message=None, topics=[])


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_list(ctx: RequestContext, body: ListPartitionReassignmentsRequest) -> ListPartitionReassignmentsResponse:
        if not broker.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):  # ControllerApis: DESCRIBE cluster
            return ListPartitionReassignmentsResponse(
                error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, error_message="Cluster authorization failed."
            )
        return handle(ctx.api_version, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_list))
