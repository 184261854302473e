"""DescribeCluster (API key 60), versions 0-2.

As a Kafka KRaft broker answers (``KafkaApis.handleDescribeCluster`` →
``AuthHelper.computeDescribeClusterResponse``): the cluster id, this node as the only broker
(its advertised host and port, no rack, never fenced) and as the controller id (a KRaft broker
names an alive broker there, since clients cannot reach the controllers through it).

- ``endpoint_type`` (v1+): 1 (brokers) is answered; 2 (controllers) → MISMATCHED_ENDPOINT_TYPE,
  any other value → UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST in v0, which cannot carry it).
- Cluster authorized operations on request: the caller's (every one without an authorizer; 0
  without DESCRIBE on the cluster), else Integer.MIN_VALUE.
- ``include_fenced_brokers`` (v2) changes nothing: this node is never fenced.
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.metadata import CLUSTER_OPERATIONS, NO_OPERATIONS
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import CLUSTER_NAME, AclOperation, ResourceType
from chronik.security.acl.authorizer import RequestIdentity
from chronik_protocol.messages.describe_cluster_request import DescribeClusterRequest
from chronik_protocol.messages.describe_cluster_response import DescribeClusterBroker, DescribeClusterResponse

API_KEY = 60
MIN_VERSION, MAX_VERSION = 0, 2
BROKER_ENDPOINT, CONTROLLER_ENDPOINT = 1, 2
_ENDPOINT_NAMES = {BROKER_ENDPOINT: "BROKER", CONTROLLER_ENDPOINT: "CONTROLLER"}


def handle(
    broker: Broker,
    version: int,
    req: DescribeClusterRequest,
    address: tuple[str, int] | None = None,
    ctx: RequestIdentity | None = None,
) -> DescribeClusterResponse:
    wanted = req.endpoint_type if version >= 1 else BROKER_ENDPOINT
    if wanted not in _ENDPOINT_NAMES:
        return DescribeClusterResponse(
            error_code=ErrorCode.INVALID_REQUEST if version == 0 else ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
            error_message=f"Unsupported endpoint type {wanted}",
        )
    if wanted != BROKER_ENDPOINT:
        return DescribeClusterResponse(
            error_code=ErrorCode.INVALID_REQUEST if version == 0 else ErrorCode.MISMATCHED_ENDPOINT_TYPE,
            error_message=(
                f"The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type "
                f"{_ENDPOINT_NAMES[wanted]}"
            ),
        )
    cluster_ops = NO_OPERATIONS
    if req.include_cluster_authorized_operations:  # 0 without DESCRIBE on the cluster (KafkaApis)
        auth = broker.authorizer if ctx is not None else None
        if auth is None or not auth.enabled:
            cluster_ops = CLUSTER_OPERATIONS
        elif auth.authorize_cluster(ctx, AclOperation.DESCRIBE):
            cluster_ops = auth.authorized_operations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
        else:
            cluster_ops = 0
    host, port = address or (broker.host, broker.port)  # the advertised address of the client's listener
    return DescribeClusterResponse(
        endpoint_type=BROKER_ENDPOINT,
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        brokers=[DescribeClusterBroker(broker_id=broker.node_id, host=host, port=port, rack=None, is_fenced=False)],
        cluster_authorized_operations=cluster_ops,
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_describe_cluster(ctx: RequestContext, body: DescribeClusterRequest) -> DescribeClusterResponse:
        return handle(broker, ctx.api_version, body, broker.address_for(ctx.listener_name), ctx)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe_cluster))
