"""SaslHandshake (API key 17), versions 0-1 (KIP-43, KIP-152).

On a SASL listener the handshake before authentication (and a re-authentication handshake,
KIP-368) is answered by the connection's SASL state (``chronik.security.sasl``) and never reaches
this handler. What does reach it is what Kafka's ``KafkaApis.handleSaslHandshakeRequest``
answers: a handshake on a PLAINTEXT or SSL listener, or on an authenticated SASL connection
that cannot re-authenticate (its session has no lifetime, or it re-authenticated less than a
second ago) → ILLEGAL_SASL_STATE with no mechanisms.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.sasl_handshake_request import SaslHandshakeRequest
from chronik_protocol.messages.sasl_handshake_response import SaslHandshakeResponse

API_KEY = 17
MIN_VERSION, MAX_VERSION = 0, 1


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    def on_sasl_handshake(ctx: RequestContext, body: SaslHandshakeRequest) -> SaslHandshakeResponse:
        return SaslHandshakeResponse(error_code=ErrorCode.ILLEGAL_SASL_STATE, mechanisms=[])

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_sasl_handshake))
