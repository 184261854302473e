"""InitProducerId (API key 22), versions 0-5.

v6 (KIP-939 two-phase commit) is unstable in Kafka 4.4, which does not advertise it; neither do we.

Idempotent producers (no transactional id) get a producer id never handed out before and
epoch 0. Transactions are not implemented yet: a transactional id →
COORDINATOR_NOT_AVAILABLE (FindCoordinator is not advertised either).
"""

from __future__ import annotations

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.init_producer_id_request import InitProducerIdRequest
from chronik_protocol.messages.init_producer_id_response import InitProducerIdResponse

API_KEY = 22
MIN_VERSION, MAX_VERSION = 0, 5


def handle(broker: Broker, version: int, req: InitProducerIdRequest) -> InitProducerIdResponse:
    if req.transactional_id is not None:
        return InitProducerIdResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE, producer_id=-1, producer_epoch=-1)
    return InitProducerIdResponse(producer_id=broker.next_producer_id(), producer_epoch=0)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker
    dispatcher.register(
        API_KEY, Handler(MIN_VERSION, MAX_VERSION, lambda ctx, body: handle(broker, ctx.api_version, body))
    )
