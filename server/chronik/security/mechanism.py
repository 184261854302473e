"""What every SASL mechanism server provides (Kafka's ``javax.security.sasl.SaslServer`` use)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["AuthenticationFailed", "SaslServer"]


class AuthenticationFailed(Exception):
    """The client failed to authenticate (Kafka's ``SaslAuthenticationException``).

    ``client_message`` goes into the SaslAuthenticate response; ``detail`` only into our log
    (Kafka keeps e.g. "unknown user" out of the response: it would reveal which users exist).
    """

    def __init__(self, client_message: str, detail: str | None = None) -> None:
        super().__init__(client_message)
        self.client_message = client_message
        self.detail = detail or client_message


class SaslServer(Protocol):
    """One authentication exchange of one mechanism."""

    mechanism: str

    def evaluate(self, token: bytes) -> bytes:
        """The challenge for the client's ``token``; raises :class:`AuthenticationFailed`."""

    @property
    def complete(self) -> bool:
        """Whether the exchange succeeded (after the last ``evaluate``)."""

    @property
    def principal_name(self) -> str:
        """The authenticated name (the principal is ``User:<name>``); valid once complete."""

    @property
    def credential_expiry_ms(self) -> int | None:
        """When the credential expires (OAUTHBEARER's token ``exp``), bounding the session (KIP-368)."""
