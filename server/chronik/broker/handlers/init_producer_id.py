"""InitProducerId (API key 22), versions 0-5.

v6 (KIP-939 two-phase commit) is unstable in Kafka 4.4, which does not advertise it; neither do we.

Idempotent producers (no transactional id) get a producer id never handed out before and
epoch 0. Transactions are not implemented yet: a transactional id →
COORDINATOR_NOT_AVAILABLE (FindCoordinator is not advertised either). ACLs: see
:func:`authorization_error`.
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import CLUSTER_NAME, AclOperation, Authorizer, ResourceType
from chronik_protocol.messages.init_producer_id_request import InitProducerIdRequest
from chronik_protocol.messages.init_producer_id_response import InitProducerIdResponse

API_KEY = 22
MIN_VERSION, MAX_VERSION = 0, 5


def handle(broker: Broker, version: int, req: InitProducerIdRequest) -> InitProducerIdResponse:
    if req.transactional_id is not None:
        return InitProducerIdResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE, producer_id=-1, producer_epoch=-1)
    return InitProducerIdResponse(producer_id=broker.next_producer_id(), producer_epoch=0)


def authorization_error(auth: Authorizer, ctx: RequestContext, req: InitProducerIdRequest) -> ErrorCode | None:
    """``KafkaApis.handleInitProducerIdRequest``: a transactional id needs WRITE on it; an idempotent
    producer IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679)."""
    if not auth.enabled:
        return None
    if req.transactional_id is not None:
        if not auth.authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactional_id):
            return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    elif not auth.authorize(
        ctx, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False
    ) and not auth.authorize_by_resource_type(ctx, AclOperation.WRITE, ResourceType.TOPIC):
        return ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    return None


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_init(ctx: RequestContext, body: InitProducerIdRequest) -> InitProducerIdResponse:
        error = authorization_error(broker.authorizer, ctx, body)
        if error is not None:
            return InitProducerIdResponse(error_code=error, producer_id=-1, producer_epoch=-1)
        return handle(broker, ctx.api_version, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_init))
