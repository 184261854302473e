"""API key → handler table, version ranges, and the error response for a failing handler.

A handler is ``fn(ctx, body)`` returning the response message, a ``Deferred`` (or coroutine)
firing with it, or :data:`NO_RESPONSE` (acks=0 Produce). It is registered with the versions it
implements; those ranges are what the connection accepts and what ApiVersions advertises
("advertise exactly what you implement and can encode"), so registration refuses a range the
generated codecs cannot decode and encode.

Kafka behaviours kept here:

- A handler that raises (or whose Deferred fails) produces an error response with
  UNKNOWN_SERVER_ERROR (-1) and a logged traceback, never a dropped connection or a crash
  (``KafkaApis.handle`` → ``handleError`` → ``request.getErrorResponse``).
- Produce is advertised from version 0 even though Kafka 4 rejects versions 0-2 (KIP-896):
  older librdkafka stops compressing otherwise (KAFKA-18659, ``ApiKeys.
  PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION``). The produce handler registers
  ``Handler(3, max, fn, advertised_min=0)``: ApiVersions lists 0..max, the connection accepts
  only 3..max and answers v0-2 as unsupported versions.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from chronik.protocol.connection import Request, error_response
from chronik.protocol.errors import ErrorCode

__all__ = ["NO_RESPONSE", "CloseConnection", "Dispatcher", "Handler", "HandlerFn", "RequestContext"]

log = logging.getLogger("chronik.broker.dispatch")

#: Kafka's principal for an unauthenticated (PLAINTEXT) connection.
ANONYMOUS: Final = "User:ANONYMOUS"


class _NoResponse:
    """Sentinel: the request gets no response at all (Produce with acks=0)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_RESPONSE"


NO_RESPONSE: Final = _NoResponse()


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """No response, and the connection is closed with ``reason`` logged: Kafka's answer to an acks=0 Produce
    that failed, so that the producer notices and refreshes its metadata (``KafkaApis.handleProduceRequest``)."""

    reason: str


@dataclass(slots=True, eq=False)
class RequestContext:
    """A request plus the facts of its connection (Kafka's ``RequestContext``).

    ``peer`` is the client's (host, port); ``connection_id`` follows Kafka's
    ``localHost:localPort-remoteHost:remotePort-index``; ``principal`` is ``User:ANONYMOUS``
    until authentication exists. A handler that throttles the client (a quota, KIP-219) sets
    ``throttle_ms``: the connection is muted that long once the response is sent.
    """

    request: Request
    peer: tuple[str, int] | None
    listener_name: str
    connection_id: str
    principal: str = ANONYMOUS
    throttle_ms: int = 0

    @property
    def api_key(self) -> int:
        return self.request.api_key

    @property
    def api_version(self) -> int:
        return self.request.api_version

    @property
    def correlation_id(self) -> int:
        return self.request.correlation_id

    @property
    def client_id(self) -> str:
        return self.request.client_id

    @property
    def header(self) -> Any:
        return self.request.header


HandlerFn = Callable[[RequestContext, Any], Any]


@dataclass(frozen=True, slots=True)
class Handler:
    """The versions an API's handler implements; ``advertised_min`` lowers only the advertised min."""

    min_version: int
    max_version: int
    fn: HandlerFn
    advertised_min: int | None = None


class Dispatcher:
    """The handler table: ``versions`` for the connection, ``advertised`` for ApiVersions."""

    def __init__(self) -> None:
        self._handlers: dict[int, Handler] = {}

    def register(self, api_key: int, handler: Handler) -> None:
        """Register (or replace) the handler of ``api_key``; the range must be one our codecs speak."""
        from chronik_protocol.api_table import APIS

        spec = APIS.get(api_key)
        if spec is None:
            raise ValueError(f"unknown API key {api_key}")
        lo, hi = handler.min_version, handler.max_version
        if not spec.min_version <= lo <= hi <= spec.max_version:
            raise ValueError(f"{spec.name}: v{lo}-v{hi} is outside the codecs' v{spec.min_version}-v{spec.max_version}")
        adv = handler.advertised_min
        if adv is not None and not spec.min_version <= adv <= lo:
            raise ValueError(f"{spec.name}: advertised min v{adv} must be between v{spec.min_version} and v{lo}")
        self._handlers[api_key] = handler

    def handler(self, api_key: int) -> Handler | None:
        return self._handlers.get(api_key)

    def versions(self, api_key: int) -> tuple[int, int] | None:
        """The (min, max) versions we accept for ``api_key``, ``None`` if not implemented."""
        handler = self._handlers.get(api_key)
        return None if handler is None else (handler.min_version, handler.max_version)

    def advertised(self) -> list[tuple[int, int, int]]:
        """``(api_key, min, max)`` per registered API, by key: the ApiVersions table."""
        rows = []
        for key in sorted(self._handlers):
            h = self._handlers[key]
            rows.append((key, h.min_version if h.advertised_min is None else h.advertised_min, h.max_version))
        return rows

    def dispatch(self, ctx: RequestContext) -> Any:
        """Run the request's handler: a response, :data:`NO_RESPONSE`, or a Deferred that never fails.

        Failures (synchronous or asynchronous) become :func:`error_response` with
        UNKNOWN_SERVER_ERROR, logged with their traceback.
        """
        request = ctx.request
        handler = self._handlers.get(request.api_key)
        try:
            if handler is None:  # the connection only lets registered APIs through
                raise LookupError(f"no handler for API key {request.api_key}")
            result = handler.fn(ctx, request.body)
            if inspect.iscoroutine(result):
                result = Deferred.fromCoroutine(result)
        except Exception:
            log.exception("handler failed: %s", _describe(ctx))
            return error_response(request, ErrorCode.UNKNOWN_SERVER_ERROR)
        if isinstance(result, Deferred):
            return result.addCallback(self._checked, ctx).addErrback(self._failed, ctx)
        return self._checked(result, ctx)

    @staticmethod
    def _checked(result: Any, ctx: RequestContext) -> Any:
        if result is None:
            log.error("handler returned None (NO_RESPONSE means no response): %s", _describe(ctx))
            return error_response(ctx.request, ErrorCode.UNKNOWN_SERVER_ERROR)
        return result

    @staticmethod
    def _failed(failure: Failure, ctx: RequestContext) -> Any:
        log.error(
            "handler failed: %s",
            _describe(ctx),
            exc_info=(failure.type, failure.value, failure.getTracebackObject()),  # type: ignore[arg-type]
        )
        return error_response(ctx.request, ErrorCode.UNKNOWN_SERVER_ERROR)


def _describe(ctx: RequestContext) -> str:
    r = ctx.request
    return (
        f"api key {r.api_key} v{r.api_version}, correlation id {r.correlation_id}, client id {r.client_id!r}, "
        f"connection {ctx.connection_id}"
    )
