"""The SASL side of one connection, sans-I/O (Kafka's ``SaslServerAuthenticator``, KIP-43/152/368).

Before authentication (Kafka's states ``HANDSHAKE_OR_VERSIONS_REQUEST`` → ``HANDSHAKE_REQUEST`` →
``AUTHENTICATE`` → ``COMPLETE``):

- one ApiVersions request is let through (answered by the broker as usual), then SaslHandshake;
  any other request (a second ApiVersions, SaslAuthenticate before the handshake, Metadata, ...)
  fails the authentication and the connection is closed without a response, as Kafka's
  ``IllegalSaslStateException`` ("Unexpected Kafka request of type X during SASL handshake.");
  after the handshake (v1) a request other than SaslAuthenticate gets its error response with
  ILLEGAL_SASL_STATE ("... during SASL authentication.") before the close;
- SaslHandshake with a mechanism not in ``sasl.enabled.mechanisms`` is answered with
  UNSUPPORTED_SASL_MECHANISM and the enabled list, then the connection is closed;
- SaslHandshake v0 (KIP-43): the tokens that follow are raw size-prefixed SASL tokens without a
  Kafka header (:meth:`SaslAuthenticator.on_raw_token`); v1 (KIP-152): they come in SaslAuthenticate
  requests, and a failure is answered with SASL_AUTHENTICATION_FAILED and a message before the
  close;
- requests are limited to ``sasl.server.max.receive.size`` bytes until authenticated.

Re-authentication (KIP-368): SaslAuthenticate v1+ answers ``session_lifetime_ms`` =
``connections.max.reauth.ms`` (per listener and mechanism), bounded by the credential's expiry
(OAUTHBEARER's token ``exp``). A request other than SaslHandshake arriving after the session
expired closes the connection. When the session has a lifetime, a SaslHandshake on the
authenticated connection starts a re-authentication (at most one a second, as Kafka's
``KafkaChannel.maybeBeginServerReauthentication``; otherwise the handshake reaches the broker,
which answers ILLEGAL_SASL_STATE). It must keep the mechanism (else the next token fails the
connection) and the principal; meanwhile other requests are refused as above.

Every decision is an :class:`Outcome` for the network adapter (``chronik.net.server``): let the
request through, answer it (then maybe switch to raw tokens, or fail), or fail. On a failure the
adapter sends the failure response (if any) after ``connection.failed.authentication.delay.ms``
and closes. The authenticated principal is ``User:<name>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from chronik.protocol.errors import ErrorCode
from chronik.security.mechanism import AuthenticationFailed, SaslServer
from chronik.security.principal import user_principal

__all__ = ["Outcome", "SaslAuthenticator", "SaslListener"]

log = logging.getLogger("chronik.security.sasl")

API_VERSIONS: Final = 18
SASL_HANDSHAKE: Final = 17
SASL_AUTHENTICATE: Final = 36
MIN_REAUTH_INTERVAL_MS: Final = 1000

# States (Kafka's SaslState)
HANDSHAKE_OR_VERSIONS = "HANDSHAKE_OR_VERSIONS_REQUEST"
HANDSHAKE = "HANDSHAKE_REQUEST"
AUTHENTICATE = "AUTHENTICATE"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
REAUTH_AUTHENTICATE = "REAUTH_AUTHENTICATE"
REAUTH_BAD_MECHANISM = "REAUTH_BAD_MECHANISM"


def _api_name(api_key: int) -> str:
    """Kafka's ``ApiKeys`` enum name (``METADATA``, ``SASL_HANDSHAKE``) for log lines."""
    from chronik_protocol.api_table import APIS

    spec = APIS.get(api_key)
    if spec is None:
        return f"api key {api_key}"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", spec.name).upper()


@dataclass(frozen=True)
class SaslListener:
    """What a SASL listener offers: mechanisms (in config order) and how to start each one."""

    listener: str
    mechanisms: tuple[str, ...]
    factories: Mapping[str, Callable[[], SaslServer]]
    reauth_ms: Mapping[str, int] = field(default_factory=dict)
    max_receive_size: int = 524288


@dataclass(slots=True)
class Outcome:
    """What the adapter does with a request (or raw token).

    ``passthrough``: dispatch the request as usual. Otherwise answer with ``response`` (a message
    for the request, or raw ``token`` bytes in v0 mode) if given, or with the request's error
    response carrying ``error_code``; then ``raw_mode`` switches framing (True: raw tokens follow;
    False: Kafka requests again), and ``failure`` (a log reason) fails the authentication: the
    answer goes out after the delay, and the connection is closed.
    """

    passthrough: bool = False
    response: Any = None
    error_code: int | None = None
    token: bytes | None = None
    raw_mode: bool | None = None
    failure: str | None = None
    authenticated: bool = False


class SaslAuthenticator:
    """The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener."""

    def __init__(self, listener: SaslListener, peer: str, now_ms: Callable[[], int]) -> None:
        self.listener = listener
        self.peer = peer
        self._now_ms = now_ms
        self.state = HANDSHAKE_OR_VERSIONS
        self.mechanism: str | None = None
        self.principal: str | None = None
        self._server: SaslServer | None = None
        self._raw = False
        self._reauth_started_ms: int | None = None
        self.session_expiry_ms: int | None = None
        self._bad_mechanism_message = ""

    # -- gate -------------------------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        """Whether requests other than SASL ones go to the broker (COMPLETE, not re-authenticating)."""
        return self.state == COMPLETE

    @property
    def authenticating(self) -> bool:
        """Whether the connection is in a (re-)authentication exchange."""
        return self.state not in (COMPLETE, FAILED)

    def on_request(self, api_key: int, api_version: int, body: Any) -> Outcome:
        """Decide about a Kafka request read on this connection."""
        state = self.state
        if state == FAILED:
            return Outcome(failure="request after a failed authentication")
        if state == COMPLETE:
            if api_key == SASL_HANDSHAKE and self._may_reauthenticate():
                return self._handshake(api_version, body, reauth=True)
            if self.session_expiry_ms is not None and self._now_ms() > self.session_expiry_ms:
                self.state = FAILED
                return Outcome(failure=f"session of {self.principal} expired without re-authentication (KIP-368)")
            return Outcome(passthrough=True)
        if state == HANDSHAKE_OR_VERSIONS and api_key == API_VERSIONS:
            self.state = HANDSHAKE
            return Outcome(passthrough=True)
        if state in (HANDSHAKE_OR_VERSIONS, HANDSHAKE):
            if api_key != SASL_HANDSHAKE:
                return self._illegal(api_key, "SASL handshake")
            return self._handshake(api_version, body, reauth=False)
        if state in (AUTHENTICATE, REAUTH_AUTHENTICATE, REAUTH_BAD_MECHANISM):
            if state == REAUTH_BAD_MECHANISM:  # Kafka fails on the next token, without a response
                self.state = FAILED
                return Outcome(failure=self._bad_mechanism_message)
            if api_key != SASL_AUTHENTICATE:
                outcome = self._illegal(api_key, "SASL authentication")
                outcome.error_code = ErrorCode.ILLEGAL_SASL_STATE
                return outcome
            return self._authenticate(body.auth_bytes, api_version)
        return self._illegal(api_key, "SASL authentication")  # pragma: no cover - every state is handled

    def _may_reauthenticate(self) -> bool:
        """KIP-368: only a session with a lifetime re-authenticates, and at most once a second."""
        if self.session_expiry_ms is None:
            return False
        now = self._now_ms()
        if self._reauth_started_ms is not None and now - self._reauth_started_ms < MIN_REAUTH_INTERVAL_MS:
            return False
        self._reauth_started_ms = now
        return True

    def on_raw_token(self, token: bytes) -> Outcome:
        """A raw SASL token (after SaslHandshake v0)."""
        if self.state == REAUTH_BAD_MECHANISM:
            self.state = FAILED
            return Outcome(failure=self._bad_mechanism_message)
        if self.state not in (AUTHENTICATE, REAUTH_AUTHENTICATE) or not self._raw:
            self.state = FAILED
            return Outcome(failure="unexpected raw SASL token")
        return self._authenticate(token, None)

    # -- steps ------------------------------------------------------------------------------

    def _illegal(self, api_key: int, during: str) -> Outcome:
        self.state = FAILED
        name = _api_name(api_key)
        return Outcome(failure=f"Unexpected Kafka request of type {name} during {during}.")

    def _handshake(self, version: int, body: Any, *, reauth: bool) -> Outcome:
        from chronik_protocol.messages.sasl_handshake_response import SaslHandshakeResponse

        mechanism = body.mechanism
        enabled = list(self.listener.mechanisms)
        if mechanism not in self.listener.factories:
            self.state = FAILED
            return Outcome(
                response=SaslHandshakeResponse(error_code=ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms=enabled),
                failure=f"Unsupported SASL mechanism {mechanism}",
            )
        if reauth:
            if mechanism != self.mechanism:
                self._bad_mechanism_message = (
                    f"SASL mechanism '{mechanism}' requested by client is not supported for re-authentication of "
                    f"mechanism '{self.mechanism}'"
                )
                self.state = REAUTH_BAD_MECHANISM
            else:
                self.state = REAUTH_AUTHENTICATE
        else:
            self.mechanism = mechanism
            self.state = AUTHENTICATE
        self._server = self.listener.factories[mechanism]()
        self._raw = version == 0
        return Outcome(
            response=SaslHandshakeResponse(error_code=ErrorCode.NONE, mechanisms=enabled),
            raw_mode=True if self._raw else None,
        )

    def _authenticate(self, token: bytes, version: int | None) -> Outcome:
        from chronik_protocol.messages.sasl_authenticate_response import SaslAuthenticateResponse

        reauth = self.state == REAUTH_AUTHENTICATE
        what = "re-authentication" if reauth else "authentication"
        server = self._server
        assert server is not None
        try:
            challenge = server.evaluate(token)
            if server.complete and reauth:
                new_principal = user_principal(server.principal_name)
                if new_principal != self.principal:
                    raise AuthenticationFailed(
                        f"Cannot change principals during re-authentication from {self.principal}: {new_principal}"
                    )
        except Exception as e:  # a mechanism's bug fails the authentication, never the connection handling
            if not isinstance(e, AuthenticationFailed):
                log.exception("SASL %s failed unexpectedly (%s)", server.mechanism, self.peer)
                e = AuthenticationFailed(
                    f"Authentication failed during {what} due to invalid credentials with SASL mechanism "
                    f"{server.mechanism}",
                    f"{type(e).__name__}: {e}",
                )
            self.state = FAILED
            reason = f"failed {what} with SASL mechanism {server.mechanism}: {e.detail}"
            if version is None:  # v0: a raw token cannot carry an error
                return Outcome(failure=reason)
            return Outcome(
                response=SaslAuthenticateResponse(
                    error_code=ErrorCode.SASL_AUTHENTICATION_FAILED, error_message=e.client_message
                ),
                failure=reason,
            )
        if not server.complete:
            if version is None:
                return Outcome(token=challenge)
            return Outcome(response=SaslAuthenticateResponse(error_code=ErrorCode.NONE, auth_bytes=challenge))
        # complete
        lifetime = self._session_lifetime_ms(server)
        self.principal = user_principal(server.principal_name)
        self.state = COMPLETE
        log.info(
            "%s %s of %s from %s with %s%s",
            "re-authenticated" if reauth else "authenticated",
            "connection",
            self.principal,
            self.peer,
            server.mechanism,
            f" (session lifetime {lifetime} ms)" if lifetime else "",
        )
        if version is None:
            self._raw = False
            return Outcome(token=challenge, raw_mode=False, authenticated=True)
        return Outcome(
            response=SaslAuthenticateResponse(
                error_code=ErrorCode.NONE, auth_bytes=challenge, session_lifetime_ms=lifetime if version >= 1 else 0
            ),
            authenticated=True,
        )

    def _session_lifetime_ms(self, server: SaslServer) -> int:
        """Kafka's ``ReauthInfo.calcCompletionTimesAndReturnSessionLifetimeMs``; sets the expiry."""
        now = self._now_ms()
        max_reauth = int(self.listener.reauth_ms.get(server.mechanism, 0) or 0)
        expiry = server.credential_expiry_ms
        if expiry is None and max_reauth <= 0:
            self.session_expiry_ms = None
            return 0
        if expiry is None:
            lifetime = max(0, max_reauth)
        elif max_reauth <= 0:
            lifetime = max(0, expiry - now)
        else:
            lifetime = max(0, min(expiry - now, max_reauth))
        self.session_expiry_ms = now + lifetime
        return lifetime
