"""SASL/OAUTHBEARER (RFC 7628, KIP-255; JWKS validation KIP-768).

The client's initial response is ``n,[a=<authzid>],\\x01auth=Bearer <token>\\x01[key=value\\x01]*\\x01``
(``OAuthBearerClientInitialResponse``). Two validators, as Kafka picks them:

- Unsecured JWTs (``OAuthBearerUnsecuredValidatorCallbackHandler``, the default; development
  only): header ``alg`` must be ``none`` and the signature empty; the principal claim
  (``unsecuredValidatorPrincipalClaimName``, default ``sub``) must be a string; ``exp`` is
  required and must not be past (``unsecuredValidatorAllowableClockSkewMs``); ``iat``, if
  present, not in the future and before ``exp``; ``unsecuredValidatorRequiredScope`` must be in
  the scope claim (``unsecuredValidatorScopeClaimName``, default ``scope``). Options come from the
  listener's ``oauthbearer.sasl.jaas.config``.
- Signed JWTs (``OAuthBearerValidatorCallbackHandler``, chosen with
  ``listener.name.<l>.oauthbearer.sasl.server.callback.handler.class``): RS*/ES*/PS* signatures
  checked against the keys of ``sasl.oauthbearer.jwks.endpoint.url`` (a ``file://`` URL here,
  re-read when the file changes), ``exp`` and the subject claim (``sasl.oauthbearer.sub.claim.name``)
  required, ``sasl.oauthbearer.expected.audience``/``issuer`` checked when set, with
  ``sasl.oauthbearer.clock.skew.seconds`` of leeway (PyJWT).

A rejected token is answered, as in Kafka, with a JSON error challenge
(``{"status":"invalid_token"}``); the client acknowledges with ``\\x01`` and the authentication
then fails with that JSON as the message. A malformed client message (e.g. Sarama's literal
backslash-x-0-1 instead of ``\\x01``) is a ``SaslException`` in Kafka's ``OAuthBearerClientInitialResponse``,
answered with the generic "Authentication failed during authentication due to invalid credentials
with SASL mechanism OAUTHBEARER" (the reason only logged). The token's ``exp`` bounds the session (KIP-368).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from chronik.security.mechanism import AuthenticationFailed
from chronik.security.scram import generic_failure

__all__ = ["JwksValidator", "OAuthBearerServer", "Token", "TokenInvalid", "UnsecuredValidator"]

_CLIENT_RESPONSE = re.compile(r"n,(?:a=([^,]*))?,((?:\x01[^\x01]*)*)\x01\x01\Z", re.S)
_AUTH = re.compile(r"(\w+) +([-_.a-zA-Z0-9]+)\Z")


@dataclass(frozen=True)
class Token:
    """A validated token: principal name, expiry (ms) and scope."""

    principal_name: str
    lifetime_ms: int
    scope: frozenset[str]


class TokenInvalid(Exception):
    """A token failed validation; ``status``/``scope`` form the RFC 7628 error challenge."""

    def __init__(self, reason: str, status: str = "invalid_token", scope: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.scope = scope


def _b64url_json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise TokenInvalid(f"invalid JWT {what}: {e}") from e
    if not isinstance(value, dict):
        raise TokenInvalid(f"the JWT {what} is not a JSON object")
    return value


def _scope_of(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    value = claims.get(claim)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise TokenInvalid(f"the scope claim {claim!r} is neither a string nor a list of strings")


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid(f"the {name!r} claim is not a number")
    return float(value)


class UnsecuredValidator:
    """``OAuthBearerUnsecuredValidatorCallbackHandler`` (alg ``none``); for development only."""

    def __init__(self, options: Mapping[str, str], now_ms: Callable[[], int] | None = None) -> None:
        self.principal_claim = options.get("unsecuredValidatorPrincipalClaimName") or "sub"
        self.scope_claim = options.get("unsecuredValidatorScopeClaimName") or "scope"
        self.required_scope = frozenset((options.get("unsecuredValidatorRequiredScope") or "").split())
        self.skew_ms = int(options.get("unsecuredValidatorAllowableClockSkewMs") or 0)
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))

    def validate(self, token: str) -> Token:
        parts = token.split(".")
        if len(parts) != 3 or parts[2] != "":
            raise TokenInvalid(
                "Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded "
                "values and an empty signature"
            )
        header = _b64url_json(parts[0], "header")
        if header.get("alg") != "none":
            raise TokenInvalid(f"unsecured JWS must have alg 'none', not {header.get('alg')!r}")
        claims = _b64url_json(parts[1], "payload")
        now = self._now_ms()
        principal = claims.get(self.principal_claim)
        if not isinstance(principal, str) or not principal.strip():
            raise TokenInvalid(f"the required claim {self.principal_claim!r} is missing or not a string")
        exp = _number(claims, "exp")
        if exp is None:
            raise TokenInvalid("the required claim 'exp' is missing")
        exp_ms = int(exp * 1000)
        if now > exp_ms + self.skew_ms:
            raise TokenInvalid(
                f"The indicated time ({now} ms) is more than the allowable clock skew "
                f"({self.skew_ms} ms) after the expiration time ({exp_ms} ms)"
            )
        iat = _number(claims, "iat")
        if iat is not None:
            if iat * 1000 > now + self.skew_ms:
                raise TokenInvalid("The Issued At value is after the current time plus the allowable clock skew")
            if exp_ms <= iat * 1000:
                raise TokenInvalid("The expiration time is not after the Issued At time")
        scope = _scope_of(claims, self.scope_claim)
        missing = self.required_scope - scope
        if missing:
            raise TokenInvalid(
                f"The provided scope lacks {sorted(missing)}",
                "insufficient_scope",
                " ".join(sorted(self.required_scope)),
            )
        return Token(principal, exp_ms, scope)


class JwksValidator:
    """``OAuthBearerValidatorCallbackHandler`` over a ``file://`` JWKS (PyJWT)."""

    ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")

    def __init__(
        self,
        jwks_url: str,
        *,
        audience: list[str] | None = None,
        issuer: str | None = None,
        sub_claim: str = "sub",
        scope_claim: str = "scope",
        clock_skew_s: int = 30,
    ) -> None:
        parsed = urlparse(jwks_url)
        if parsed.scheme != "file":
            raise ValueError(f"sasl.oauthbearer.jwks.endpoint.url={jwks_url}: only file:// URLs are supported")
        self.path = unquote(parsed.path)
        self.audience = audience or None
        self.issuer = issuer
        self.sub_claim = sub_claim
        self.scope_claim = scope_claim
        self.clock_skew_s = clock_skew_s
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str | None, Any] = {}

    def _load(self) -> dict[str | None, Any]:
        import jwt

        try:
            st = os.stat(self.path)
        except OSError as e:
            raise TokenInvalid(f"cannot read the JWKS {self.path}: {e.strerror}") from e
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
            try:
                keyset = jwt.PyJWKSet.from_json(text)
            except (jwt.PyJWKSetError, ValueError) as e:
                raise TokenInvalid(f"the JWKS {self.path} cannot be loaded: {e}") from e
            self._keys = {k.key_id: k for k in keyset.keys}
            self._stamp = stamp
        return self._keys

    def validate(self, token: str) -> Token:
        import jwt

        keys = self._load()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise TokenInvalid(f"malformed JWT: {e}") from e
        kid = header.get("kid")
        key = keys.get(kid)
        if key is None and kid is None and len(keys) == 1:
            key = next(iter(keys.values()))
        if key is None:
            raise TokenInvalid(f"no JWKS key matches the token's kid {kid!r}")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(self.ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.clock_skew_s,
                options={"require": ["exp", self.sub_claim], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as e:
            raise TokenInvalid(f"JWT validation failed: {e}") from e
        principal = claims.get(self.sub_claim)
        if not isinstance(principal, str) or not principal:
            raise TokenInvalid(f"the claim {self.sub_claim!r} is not a non-empty string")
        return Token(principal, int(float(claims["exp"]) * 1000), _scope_of(claims, self.scope_claim))


class OAuthBearerServer:
    """One OAUTHBEARER exchange (``OAuthBearerSaslServer``)."""

    mechanism = "OAUTHBEARER"

    def __init__(self, validator: UnsecuredValidator | JwksValidator) -> None:
        self._validator = validator
        self._error: str | None = None
        self.complete = False
        self.principal_name = ""
        self.credential_expiry_ms: int | None = None
        self.token: Token | None = None
        self.rejection = ""  # why the last token was rejected (for the log)
        # Kafka's response to a SaslException (a malformed message): the reason stays in the log.
        self._generic = generic_failure(self.mechanism)

    def evaluate(self, token: bytes) -> bytes:
        if token == b"\x01" and self._error is not None:
            raise AuthenticationFailed(self._error, f"token rejected: {self.rejection}")
        self._error = None
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AuthenticationFailed(self._generic, "Invalid OAUTHBEARER client first message: not UTF-8") from e
        m = _CLIENT_RESPONSE.match(text)
        if m is None:
            raise AuthenticationFailed(self._generic, f"Invalid OAUTHBEARER client first message: {text[:64]!r}")
        authzid = m.group(1) or ""
        pairs: dict[str, str] = {}
        for kv in m.group(2).split("\x01")[1:]:
            key, sep, value = kv.partition("=")
            if not sep:
                raise AuthenticationFailed(
                    self._generic, "Invalid OAUTHBEARER client first message: malformed key-value pair"
                )
            pairs[key] = value
        auth = _AUTH.match(pairs.get("auth", ""))
        if auth is None or auth.group(1).lower() != "bearer":
            raise AuthenticationFailed(self._generic, "Invalid OAUTHBEARER client first message: no Bearer token")
        try:
            validated = self._validator.validate(auth.group(2))
        except TokenInvalid as e:
            error: dict[str, str] = {"status": e.status}
            if e.scope is not None:
                error["scope"] = e.scope
            self._error = json.dumps(error, separators=(",", ":"))
            self.rejection = str(e)
            return self._error.encode()
        if authzid and authzid != validated.principal_name:
            raise AuthenticationFailed(
                f"Authentication failed: Client requested an authorization id ({authzid}) that is different from "
                f"the token's principal name ({validated.principal_name})"
            )
        self.token = validated
        self.principal_name = validated.principal_name
        self.credential_expiry_ms = validated.lifetime_ms
        self.complete = True
        return b""
