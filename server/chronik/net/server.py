"""Twisted adapter: moves bytes between a TCP connection and a sans-I/O ``Connection``.

Per connection (``KafkaServerProtocol``):

- ``connectionMade``: TCP_NODELAY on (Kafka's ``Acceptor.accept`` does ``setTcpNoDelay(true)``;
  without it delayed ACKs stall request/response loops), and the protocol registers itself as
  the transport's streaming producer so a client that stops reading stops our reading too.
- ``dataReceived`` → ``Connection.receive_data``; each request goes to the ``Dispatcher``; the
  bytes ``Connection.respond`` releases (in request order) go to ``transport.write`` as they are,
  several batched into one ``writeSequence`` when they complete within the same read.
- Backpressure: Kafka reads one request per connection at a time (``selector.mute``). We allow
  pipelining up to ``max_outstanding_requests`` / ``max_outstanding_bytes`` of unanswered
  requests, then stop reading (``transport.pauseProducing``) until they drain. The limits are
  checked after each read, so one read full of small requests may overshoot them.
- Quotas (KIP-219, Kafka 2.0+): a handler that throttles a client sets ``ctx.throttle_ms``; the
  response goes out at once carrying it in ``throttle_time_ms``, and the connection is muted for
  that long, as Kafka's ``ThrottledChannel`` does: nothing more is read, and requests already read
  behind the throttled one (pipelined in the same read) wait until the mute ends, as they would
  have waited unread in Kafka, which reads one request at a time. With ``request_percentage``
  quotas the handler's synchronous time is recorded per (user, client-id)
  (``ClientRequestQuotaManager``) and its throttle time, capped at one quota window, merged in
  likewise (not for acks=0 Produce).
- Idle connections are closed after ``connections.max.idle.ms`` without a read or a write
  (Kafka's ``Selector`` idle expiry); a connection waiting on one of our responses is not idle.
- Every connection we close is logged on ``chronik.net`` with the peer address and the reason.

Security (``chronik.security``), per listener:

- SSL / SASL_SSL: :func:`listen` wraps the factory in Twisted's ``TLSMemoryBIOFactory`` with the
  listener's :class:`~chronik.security.tls.TlsServerContext`. On an SSL listener the principal is
  ``User:<mapped DN>`` of a client certificate (``ssl.principal.mapping.rules``), else
  ``User:ANONYMOUS``. A failed handshake (a plaintext client on a TLS port, an untrusted client
  certificate) closes the connection with a log line.
- SASL_PLAINTEXT / SASL_SSL: every request first goes through the connection's
  :class:`~chronik.security.sasl.SaslAuthenticator` (the SASL handshake, raw v0 tokens, the
  gate before authentication, KIP-368 session expiry and re-authentication); the principal is
  the authenticated ``User:<name>``. A failed authentication is logged with the client address;
  reading stops, and after ``connection.failed.authentication.delay.ms`` the failure response
  (if any) is sent and the connection closed (Kafka's ``DelayedResponseAuthenticationException``:
  failing clients cannot retry in a tight loop).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IHandshakeListener, IListeningPort, IReactorTCP, IReactorTime
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from zope.interface import implementer

from chronik.broker.dispatch import ANONYMOUS, NO_RESPONSE, CloseConnection, Dispatcher, RequestContext
from chronik.protocol.connection import (
    DEFAULT_MAX_REQUEST_SIZE,
    Close,
    Connection,
    DataToSend,
    RawFrame,
    Request,
    RequestReceived,
    error_response,
    frame_raw,
)
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import EncodeError

__all__ = ["KafkaServerFactory", "KafkaServerProtocol", "listen"]

log = logging.getLogger("chronik.net")

#: Kafka's ``connections.max.idle.ms`` default (10 minutes).
DEFAULT_CONNECTIONS_MAX_IDLE_MS: Final = 600_000
#: Unanswered requests per connection before we stop reading from it.
DEFAULT_MAX_OUTSTANDING_REQUESTS: Final = 100
#: Frame bytes of unanswered requests per connection before we stop reading from it.
DEFAULT_MAX_OUTSTANDING_BYTES: Final = 256 * 1024 * 1024


@implementer(IHandshakeListener)
class KafkaServerProtocol(Protocol):
    """One client connection: a ``Connection`` plus Twisted plumbing (see the module docstring)."""

    factory: KafkaServerFactory

    def __init__(self, factory: KafkaServerFactory, index: int) -> None:
        self.factory = factory
        self.index = index
        self.conn = Connection(
            factory.max_request_size,
            factory.dispatcher.versions,
            api_versions_table=factory.dispatcher.advertised,
            close_on_unsupported_version=factory.close_on_unsupported_version,
        )
        self.peer: tuple[str, int] | None = None
        self.connection_id = ""
        self.closing = False
        self._read_paused = False  # we paused the transport's reading (outstanding requests)
        self._write_paused = False  # the transport paused us (its write buffer is full)
        self._batch: list[bytes] | None = None
        self._idle_call: IDelayedCall | None = None
        self._last_activity = 0.0
        self.principal = ANONYMOUS
        self.sasl: Any = None  # chronik.security.sasl.SaslAuthenticator on SASL listeners
        self._tls_done = False
        self._auth_failed = False
        self._throttle_call: IDelayedCall | None = None  # muted for a quota until it fires
        self._throttled_until = 0.0
        self._held: list[Request] | None = None  # requests read while muted, dispatched when it ends

    # -- Protocol ---------------------------------------------------------------------------

    def connectionMade(self) -> None:
        transport: Any = self.transport
        set_nodelay = getattr(transport, "setTcpNoDelay", None)
        if set_nodelay is not None:
            set_nodelay(True)
        peer, host = transport.getPeer(), transport.getHost()
        self.peer = (getattr(peer, "host", str(peer)), getattr(peer, "port", 0))
        self.connection_id = (
            f"{getattr(host, 'host', host)}:{getattr(host, 'port', 0)}-{self.peer[0]}:{self.peer[1]}-{self.index}"
        )
        transport.registerProducer(self, True)
        if self.factory.sasl is not None:
            from chronik.security.sasl import SaslAuthenticator

            now_ms = self.factory.reactor.seconds
            self.sasl = SaslAuthenticator(
                self.factory.sasl, f"{self.peer[0]}:{self.peer[1]}", lambda: int(now_ms() * 1000)
            )
            self.conn.max_request_size = min(self.factory.max_request_size, self.factory.sasl.max_receive_size)
        self.factory.connections.add(self)
        self._last_activity = self.factory.reactor.seconds()
        self._schedule_idle_check(self.factory.idle_timeout)

    def dataReceived(self, data: bytes) -> None:
        if self.closing or self._auth_failed:
            return
        self._last_activity = self.factory.reactor.seconds()
        self._batch = batch = []
        sasl = self.sasl
        try:
            for event in self.conn.receive_data(data):
                if type(event) is RequestReceived:
                    if sasl is None:
                        self._dispatch(event.request)
                    elif not self._sasl_request(event.request, batch):
                        return
                elif type(event) is RawFrame:
                    if not self._sasl_outcome(sasl.on_raw_token(event.data), None, batch):
                        return
                elif type(event) is DataToSend:
                    batch.append(event.data)
                elif type(event) is Close:
                    self._flush(batch)
                    self.close(event.reason, level=logging.WARNING)
                    return
        finally:
            self._batch = None
        self._flush(batch)
        self._update_reading()

    def handshakeCompleted(self) -> None:
        """TLS handshake done (``IHandshakeListener``): on an SSL listener, the client certificate's principal."""
        self._tls_done = True
        if self.factory.sasl is not None or self.factory.principal_mapper is None:
            return
        cert = self.transport.getPeerCertificate()  # type: ignore[union-attr]
        if cert is None:
            return
        from chronik.security.principal import NoMatchingRule, certificate_dn, user_principal

        dn = certificate_dn(cert.to_cryptography())
        try:
            self.principal = user_principal(self.factory.principal_mapper.name(dn))
        except NoMatchingRule as e:
            self._fail_authentication(f"TLS client certificate: {e}")
            return
        log.info(
            "TLS connection %s from %s: client certificate %s, principal %s",
            self.connection_id,
            self._peer_text(),
            dn,
            self.principal,
        )

    def connectionLost(self, reason: Failure | None = None) -> None:
        if (
            self.factory.tls
            and not self._tls_done
            and reason is not None
            and type(reason.value).__module__.startswith("OpenSSL")
        ):
            log.warning(
                "closing connection %s from %s: TLS handshake failed (%s): %s",
                self.connection_id,
                self._peer_text(),
                "a plaintext client on a TLS listener?"
                if "wrong version number" in str(reason.value) or "http request" in str(reason.value)
                else "TLS error",
                reason.value,
            )
        self.closing = True
        self.conn.closed = True
        self.factory.connections.discard(self)
        if self._idle_call is not None and self._idle_call.active():
            self._idle_call.cancel()
        self._idle_call = None
        if self._throttle_call is not None and self._throttle_call.active():
            self._throttle_call.cancel()
        self._throttle_call = None

    # -- SASL -------------------------------------------------------------------------------

    def _sasl_request(self, request: Request, batch: list[bytes]) -> bool:
        """Let the SASL state decide about ``request``; False once the connection is failing."""
        outcome = self.sasl.on_request(request.api_key, request.api_version, request.body)
        if outcome.passthrough:
            self._dispatch(request)
            return True
        return self._sasl_outcome(outcome, request, batch)

    def _sasl_outcome(self, outcome: Any, request: Request | None, batch: list[bytes]) -> bool:
        conn = self.conn
        if request is not None and (outcome.response is not None or outcome.error_code is not None):
            response = outcome.response
            if response is None:
                response = error_response(request, outcome.error_code)
            data = conn.respond(request, response)
            if data:
                batch.append(data)
        if outcome.token is not None:
            batch.append(frame_raw(outcome.token))
        if outcome.raw_mode is not None:
            conn.raw_frames = outcome.raw_mode
        if outcome.authenticated:
            self.principal = self.sasl.principal
            conn.max_request_size = self.factory.max_request_size
        if outcome.failure is not None:
            # Kafka's DelayedResponseAuthenticationException: the failure response goes out after the delay
            pending = list(batch)
            batch.clear()
            self._fail_authentication(outcome.failure, pending)
            return False
        return True

    def _fail_authentication(self, reason: str, pending: list[bytes] | None = None) -> None:
        """Kafka (``Selector.maybeDelayCloseOnAuthenticationFailure``): log, stop reading, and after
        ``connection.failed.authentication.delay.ms`` send the failure response (``pending``) and close."""
        if self._auth_failed or self.closing:
            return
        self._auth_failed = True
        self.conn.closed = True
        log.warning(
            "authentication failed for connection %s from %s on listener %s: %s",
            self.connection_id,
            self._peer_text(),
            self.factory.listener_name,
            reason,
        )
        if not self._read_paused:
            self._read_paused = True
            self.transport.pauseProducing()  # type: ignore[union-attr]
        delay = self.factory.failed_auth_delay_s
        if delay > 0:
            self.factory.reactor.callLater(delay, self._close_after_failure, pending or [])
        else:
            self._close_after_failure(pending or [])

    def _close_after_failure(self, pending: list[bytes]) -> None:
        if self.closing:
            return
        self._flush(pending)
        self.close("failed authentication")

    def _peer_text(self) -> str:
        return f"{self.peer[0]}:{self.peer[1]}" if self.peer else "?"

    # -- requests and responses -------------------------------------------------------------

    def _dispatch(self, request: Request) -> None:
        if self.closing:  # e.g. an earlier acks=0 produce failed: Kafka reads nothing more
            return
        if self._held is not None:  # muted for a quota (KIP-219): Kafka would not have read it yet
            self._held.append(request)
            return
        ctx = RequestContext(request, self.peer, self.factory.listener_name, self.connection_id, self.principal)
        quotas = self.factory.quotas
        if quotas is None or not quotas.request.enabled:
            result = self.factory.dispatcher.dispatch(ctx)
        else:
            start = time.perf_counter()
            result = self.factory.dispatcher.dispatch(ctx)
            if result is not NO_RESPONSE:  # Kafka: no request quota for acks=0 Produce
                self._record_request_time(ctx, time.perf_counter() - start)
        if isinstance(result, Deferred):
            result.addCallback(self._complete, request, ctx).addErrback(self._internal_error, request)
        else:
            try:
                self._complete(result, request, ctx)
            except Exception:
                self._internal_error(Failure(), request)

    def _record_request_time(self, ctx: RequestContext, seconds: float) -> None:
        """``ClientRequestQuotaManager``: handler time as a percentage of one thread, per (user, client-id)."""
        from chronik.quotas import user_of

        now_ms = int(self.factory.reactor.seconds() * 1000)
        throttle = self.factory.quotas.request.record(user_of(ctx.principal), ctx.client_id, seconds * 100.0, now_ms)
        if throttle > ctx.throttle_ms:
            ctx.throttle_ms = throttle

    def _complete(self, result: Any, request: Request, ctx: RequestContext | None = None) -> None:
        if self.closing:
            return
        conn = self.conn
        throttle = 0 if ctx is None else ctx.throttle_ms
        if throttle > 0 and getattr(result, "throttle_time_ms", throttle) < throttle:
            result.throttle_time_ms = throttle
        if isinstance(result, CloseConnection):  # acks=0 produce that failed: flush what is ready, then close
            data = conn.no_response(request)
            batch = self._batch if self._batch is not None else []
            if data:
                batch.append(data)
            self._flush(batch)
            self.close(result.reason)
            return
        if result is NO_RESPONSE:
            data = conn.no_response(request)
        else:
            try:
                data = conn.respond(request, result)
            except (EncodeError, ValueError, AttributeError):
                log.exception(
                    "cannot send the response to correlation id %d (api key %d v%d) from %s",
                    request.correlation_id,
                    request.api_key,
                    request.api_version,
                    self.connection_id,
                )
                data = conn.respond(request, error_response(request, ErrorCode.UNKNOWN_SERVER_ERROR))
        if data:
            if self._batch is not None:
                self._batch.append(data)
            else:
                self._last_activity = self.factory.reactor.seconds()
                self.transport.write(data)  # type: ignore[union-attr]
        if throttle > 0:
            self._throttle(throttle)
        elif self._batch is None:
            self._update_reading()

    def _throttle(self, ms: int) -> None:
        """Mute the connection for ``ms`` (Kafka's ``ThrottledChannel``); a later, longer throttle extends it."""
        reactor = self.factory.reactor
        until = reactor.seconds() + ms / 1000.0
        call = self._throttle_call
        if call is not None and call.active():
            if until <= self._throttled_until:
                return
            call.reset(ms / 1000.0)
        else:
            self._throttle_call = reactor.callLater(ms / 1000.0, self._end_throttle)
        self._throttled_until = until
        if self._held is None:
            self._held = []
        self._update_reading()

    def _end_throttle(self) -> None:
        """Unmute: dispatch the requests read meanwhile, one by one, until one throttles again."""
        self._throttle_call = None
        held, self._held = self._held or [], None
        while held and not self.closing:
            if self._held is not None:  # throttled again: the rest keeps waiting
                self._held[:0] = held
                break
            self._dispatch(held.pop(0))
        self._update_reading()

    def _internal_error(self, failure: Failure, request: Request) -> None:
        log.error(
            "internal error answering correlation id %d from %s",
            request.correlation_id,
            self.connection_id,
            exc_info=(failure.type, failure.value, failure.getTracebackObject()),  # type: ignore[arg-type]
        )
        self.close("internal error while answering a request", level=logging.ERROR)

    def _flush(self, batch: list[bytes]) -> None:
        if not batch:
            return
        self._last_activity = self.factory.reactor.seconds()
        if len(batch) == 1:
            self.transport.write(batch[0])  # type: ignore[union-attr]
        else:
            self.transport.writeSequence(batch)  # type: ignore[union-attr]
        batch.clear()

    # -- backpressure ----------------------------------------------------------------------

    def _update_reading(self) -> None:
        """Pause reading while too much is unanswered or the client is not reading; else resume."""
        if self.closing or self._auth_failed:
            return
        conn, factory = self.conn, self.factory
        busy = (self._write_paused or self._throttle_call is not None) or (
            conn.outstanding >= factory.max_outstanding_requests
            or conn.outstanding_bytes >= factory.max_outstanding_bytes
        )
        if busy and not self._read_paused:
            self._read_paused = True
            self.transport.pauseProducing()  # type: ignore[union-attr]
        elif not busy and self._read_paused:
            self._read_paused = False
            self.transport.resumeProducing()  # type: ignore[union-attr]

    # IPushProducer: the transport tells us when its write buffer is full / drained.
    def pauseProducing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resumeProducing(self) -> None:
        self._write_paused = False
        self._update_reading()

    def stopProducing(self) -> None:
        self.closing = True

    # -- idle timeout and closing -----------------------------------------------------------

    def _schedule_idle_check(self, delay: float) -> None:
        if self.factory.idle_timeout > 0:
            self._idle_call = self.factory.reactor.callLater(delay, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_call = None
        if self.closing:
            return
        timeout = self.factory.idle_timeout
        if self.conn.outstanding:  # the client waits on us: not idle
            self._last_activity = self.factory.reactor.seconds()
        idle = self.factory.reactor.seconds() - self._last_activity
        if idle >= timeout:
            self.close(f"idle for {idle * 1000:.0f} ms (connections.max.idle.ms={timeout * 1000:.0f})")
        else:
            self._schedule_idle_check(timeout - idle)

    def close(self, reason: str, level: int = logging.INFO) -> None:
        """Close the connection (pending writes are flushed first) and log why."""
        if self.closing:
            return
        self.closing = True
        self.conn.closed = True
        peer = f"{self.peer[0]}:{self.peer[1]}" if self.peer else "?"
        log.log(level, "closing connection %s from %s: %s", self.connection_id, peer, reason)
        if self._idle_call is not None and self._idle_call.active():
            self._idle_call.cancel()
        self._idle_call = None
        if self._throttle_call is not None and self._throttle_call.active():
            self._throttle_call.cancel()
        self._throttle_call = None
        self.transport.loseConnection()  # type: ignore[union-attr]


class KafkaServerFactory(Factory):
    """Builds a ``KafkaServerProtocol`` per connection; holds the dispatcher and the limits."""

    protocol = KafkaServerProtocol  # type: ignore[assignment]

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        reactor: IReactorTime | None = None,
        listener_name: str = "PLAINTEXT",
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        connections_max_idle_ms: int = DEFAULT_CONNECTIONS_MAX_IDLE_MS,
        max_outstanding_requests: int = DEFAULT_MAX_OUTSTANDING_REQUESTS,
        max_outstanding_bytes: int = DEFAULT_MAX_OUTSTANDING_BYTES,
        close_on_unsupported_version: bool = False,
        tls: bool = False,
        sasl: Any = None,
        principal_mapper: Any = None,
        failed_auth_delay_ms: int = 100,
        quotas: Any = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor  # type: ignore[assignment]
        self.dispatcher = dispatcher
        self.reactor: Any = reactor
        self.listener_name = listener_name
        self.max_request_size = max_request_size
        self.idle_timeout = connections_max_idle_ms / 1000.0
        self.max_outstanding_requests = max_outstanding_requests
        self.max_outstanding_bytes = max_outstanding_bytes
        self.close_on_unsupported_version = close_on_unsupported_version
        #: whether connections are TLS (SSL, SASL_SSL listeners)
        self.tls = tls
        #: chronik.security.sasl.SaslListener on SASL_PLAINTEXT / SASL_SSL listeners
        self.sasl = sasl
        #: chronik.security.principal.SslPrincipalMapper on SSL listeners
        self.principal_mapper = principal_mapper
        self.failed_auth_delay_s = failed_auth_delay_ms / 1000.0
        #: chronik.quotas.ClientQuotas: request_percentage quotas are recorded here; None: no quotas
        self.quotas = quotas
        self.connections: set[KafkaServerProtocol] = set()
        self._next_index = 0

    def outstanding_requests(self) -> int:
        """Unanswered requests over all open connections (what a graceful shutdown waits for)."""
        return sum(p.conn.outstanding for p in self.connections)

    def close_all(self, reason: str) -> None:
        """Close every open connection (pending writes are flushed), logging ``reason``."""
        for proto in list(self.connections):
            proto.close(reason)

    def buildProtocol(self, addr: Any) -> KafkaServerProtocol:
        index = self._next_index
        self._next_index = 0 if index == 2**31 - 1 else index + 1  # as Kafka's connection index
        return KafkaServerProtocol(self, index)


def listen(reactor: IReactorTCP, factory: KafkaServerFactory, host: str, port: int, tls: Any = None) -> IListeningPort:
    """Listen on ``host:port`` (port 0: any free port; read it from ``getHost().port``).

    ``tls`` (an ``IOpenSSLServerConnectionCreator``, e.g. ``chronik.security.tls.TlsServerContext``)
    makes it a TLS listener.
    """
    if tls is None:
        return reactor.listenTCP(port, factory, interface=host)
    from twisted.protocols.tls import TLSMemoryBIOFactory

    return reactor.listenTCP(port, TLSMemoryBIOFactory(tls, False, factory), interface=host)
