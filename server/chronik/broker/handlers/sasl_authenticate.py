"""SaslAuthenticate (API key 36), versions 0-2 (KIP-152; v1 session lifetime, KIP-368).

During authentication the connection's SASL state (``chronik.security.sasl``) answers these
requests itself. One that reaches this handler came after authentication (or on a listener
without SASL): Kafka's ``KafkaApis.handleSaslAuthenticateRequest`` answers ILLEGAL_SASL_STATE,
"SaslAuthenticate request received after successful authentication".
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.sasl_authenticate_request import SaslAuthenticateRequest
from chronik_protocol.messages.sasl_authenticate_response import SaslAuthenticateResponse

API_KEY = 36
MIN_VERSION, MAX_VERSION = 0, 2


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    def on_sasl_authenticate(ctx: RequestContext, body: SaslAuthenticateRequest) -> SaslAuthenticateResponse:
        return SaslAuthenticateResponse(
            error_code=ErrorCode.ILLEGAL_SASL_STATE,
            error_message="SaslAuthenticate request received after successful authentication",
        )

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_sasl_authenticate))
