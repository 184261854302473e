"""SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, KIP-84) with the ``scramp`` library.

Two rounds: client-first → server-first (salt, iterations, nonce); client-final (proof) →
server-final (server signature). The proof is verified against the stored credential
(``chronik.security.credentials``); an unknown user or a wrong proof fails with Kafka's generic
message (``SaslServerAuthenticator``: "Authentication failed during authentication due to
invalid credentials with SASL mechanism ..."), so the response does not reveal which users
exist. An authorization id (``a=``) other than the user name is refused, as in Kafka.
Client-first extensions (``tokenauth=true``, delegation tokens) are not supported.
"""

from __future__ import annotations

from collections.abc import Callable

import scramp

from chronik.security.credentials import ScramCredential
from chronik.security.mechanism import AuthenticationFailed

__all__ = ["ScramServer"]


def generic_failure(mechanism: str) -> str:
    """Kafka's response text for a SaslException (never the cause)."""
    return f"Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}"


class _UnknownUser(Exception):
    pass


class ScramServer:
    """One SCRAM exchange for ``mechanism`` (``SCRAM-SHA-256`` or ``SCRAM-SHA-512``)."""

    credential_expiry_ms = None

    def __init__(self, mechanism: str, lookup: Callable[[str, str], ScramCredential | None]) -> None:
        self.mechanism = mechanism
        self._lookup = lookup
        self._server = scramp.ScramMechanism(mechanism).make_server(self._auth_info)
        self._round = 0
        self._user = ""
        self._unknown_user = False
        self.complete = False
        self.principal_name = ""

    def _auth_info(self, username: str) -> tuple[bytes, bytes, bytes, int]:
        self._user = username
        credential = self._lookup(username, self.mechanism)
        if credential is None:
            self._unknown_user = True
            raise _UnknownUser(username)
        return credential.salt, credential.stored_key, credential.server_key, credential.iterations

    def evaluate(self, token: bytes) -> bytes:
        try:
            message = token.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AuthenticationFailed(generic_failure(self.mechanism), "SCRAM message is not UTF-8") from e
        if self._round == 0:
            self._round = 1
            try:
                self._server.set_client_first(message)
            except (_UnknownUser, scramp.ScramException) as e:  # scramp wraps auth_fn's exception
                if self._unknown_user:
                    raise AuthenticationFailed(generic_failure(self.mechanism), f"unknown user {self._user!r}") from e
                raise AuthenticationFailed(generic_failure(self.mechanism), f"invalid client-first: {e}") from e
            authzid = _authzid(message)
            if authzid and authzid != self._user:
                raise AuthenticationFailed(
                    "Authentication failed: Client requested an authorization id that is different from username"
                )
            return str(self._server.get_server_first()).encode()
        if self._round == 1:
            self._round = 2
            try:
                self._server.set_client_final(message)
                final = str(self._server.get_server_final())
            except scramp.ScramException as e:
                raise AuthenticationFailed(
                    generic_failure(self.mechanism), f"invalid client proof for user {self._user!r}: {e}"
                ) from e
            self.principal_name = self._user
            self.complete = True
            return final.encode()
        raise AuthenticationFailed(generic_failure(self.mechanism), "SCRAM message after the exchange completed")


def _authzid(client_first: str) -> str:
    """The ``a=`` authorization id of the GS2 header (scramp does not keep it)."""
    parts = client_first.split(",")
    if len(parts) >= 2 and parts[1].startswith("a="):
        return parts[1][2:].replace("=2C", ",").replace("=3D", "=")
    return ""
