"""FindCoordinator (API key 10), versions 0-6.

This single node coordinates every group: key type GROUP (0) → this broker. Transactions are
not implemented, so TRANSACTION (1) keys get COORDINATOR_NOT_AVAILABLE (node -1), which
clients retry. SHARE (2) is rejected with INVALID_REQUEST as Kafka 4.4 does while share groups
are disabled, and so is any unknown key type. v0-3 ask for one key and answer at the top level
(``error_message`` "NONE" on success, as Kafka's ``Errors.message()``); v4+ (KIP-699) batch
``coordinator_keys`` and answer one ``Coordinator`` per key — even for a single key — with an
empty message except for an unknown key type (all checked against Kafka 4.4.0).
"""

from __future__ import annotations

from typing import Any

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, Authorizer, ResourceType
from chronik_protocol.messages.find_coordinator_request import FindCoordinatorRequest
from chronik_protocol.messages.find_coordinator_response import Coordinator, FindCoordinatorResponse

API_KEY = 10
MIN_VERSION, MAX_VERSION = 0, 6
GROUP, TRANSACTION, SHARE = 0, 1, 2
BATCHED_FROM = 4
INVALID_REQUEST_MESSAGE = (
    "This most likely occurs because of a request being malformed by the client library or the message was sent "
    "to an incompatible broker. See the broker logs for more details."
)


def lookup(broker: Broker, key: str, key_type: int, version: int) -> Coordinator:
    """The coordinator of one key (node -1 with an error when there is none)."""
    batched = version >= BATCHED_FROM
    if key_type == GROUP:
        message = "" if batched else "NONE"
        return Coordinator(key=key, node_id=broker.node_id, host=broker.host, port=broker.port, error_message=message)
    if key_type == TRANSACTION:
        error, message = ErrorCode.COORDINATOR_NOT_AVAILABLE, "" if batched else "The coordinator is not available."
    else:
        error = ErrorCode.INVALID_REQUEST
        message = "" if batched and key_type == SHARE else INVALID_REQUEST_MESSAGE
    return Coordinator(key=key, node_id=-1, host="", port=-1, error_code=error, error_message=message)


def handle(broker: Broker, version: int, req: FindCoordinatorRequest) -> FindCoordinatorResponse:
    if version >= BATCHED_FROM:
        return FindCoordinatorResponse(
            coordinators=[lookup(broker, k, req.key_type, version) for k in req.coordinator_keys]
        )
    c = lookup(broker, req.key, req.key_type if version >= 1 else GROUP, version)
    return FindCoordinatorResponse(
        error_code=c.error_code, error_message=c.error_message, node_id=c.node_id, host=c.host, port=c.port
    )


#: key type → (ACL resource type, error when the caller may not DESCRIBE the key)
_ACL: dict[int, tuple[ResourceType, ErrorCode, str]] = {
    GROUP: (ResourceType.GROUP, ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed."),
    TRANSACTION: (
        ResourceType.TRANSACTIONAL_ID,
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        "Transactional Id authorization failed.",
    ),
}


def _authorize(auth: Authorizer, ctx: RequestContext, req: FindCoordinatorRequest, response: Any) -> None:
    """``KafkaApis.getCoordinator``: DESCRIBE on the group / transactional id, else that key fails with no node."""
    version = ctx.api_version
    key_type = req.key_type if version >= 1 else GROUP
    acl = _ACL.get(key_type)
    if acl is None:
        return
    rtype, error, message = acl
    for c in response.coordinators if version >= BATCHED_FROM else [response]:
        key = c.key if version >= BATCHED_FROM else req.key
        if not auth.authorize(ctx, AclOperation.DESCRIBE, rtype, key):
            c.error_code, c.node_id, c.host, c.port = error, -1, "", -1
            c.error_message = "" if version >= BATCHED_FROM else message


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_find(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
        response = handle(broker, ctx.api_version, body)
        if broker.authorizer.enabled:
            _authorize(broker.authorizer, ctx, body, response)
        host, port = broker.address_for(ctx.listener_name)  # the advertised address of the client's listener
        for c in response.coordinators if ctx.api_version >= BATCHED_FROM else [response]:
            if c.node_id == broker.node_id:
                c.host, c.port = host, port
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_find))
