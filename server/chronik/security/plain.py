"""SASL/PLAIN (RFC 4616) with users from the JAAS config (Kafka's ``PlainSaslServer``).

The client sends ``authzid NUL authcid NUL passwd`` once. Users come from the listener's
``PlainLoginModule`` options ``user_<name>="<password>"`` (Kafka's
``PlainServerCallbackHandler``); passwords are compared in constant time. Errors are Kafka's.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from chronik.security.jaas import LoginModule
from chronik.security.mechanism import AuthenticationFailed

__all__ = ["PlainServer", "plain_users"]

PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"


def plain_users(modules: list[LoginModule]) -> dict[str, str]:
    """``user_<name>`` options of the JAAS login modules: {name: password}."""
    users: dict[str, str] = {}
    for module in modules:
        for key, value in module.options.items():
            if key.startswith("user_"):
                users[key[len("user_") :]] = value
    return users


class PlainServer:
    """One PLAIN exchange."""

    mechanism = "PLAIN"
    credential_expiry_ms = None

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = users
        self.complete = False
        self.principal_name = ""

    def evaluate(self, token: bytes) -> bytes:
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AuthenticationFailed("Invalid SASL/PLAIN response: not UTF-8") from e
        tokens = text.split("\0")
        if len(tokens) != 3:
            raise AuthenticationFailed(f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(tokens)}")
        authzid, username, password = tokens
        if not username:
            raise AuthenticationFailed("Authentication failed: username not specified")
        if not password:
            raise AuthenticationFailed("Authentication failed: password not specified")
        expected = self._users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise AuthenticationFailed(
                "Authentication failed: Invalid username or password",
                f"PLAIN: {'unknown user' if expected is None else 'wrong password for user'} {username!r}",
            )
        if authzid and authzid != username:
            raise AuthenticationFailed(
                "Authentication failed: Client requested an authorization id that is different from username"
            )
        self.principal_name = username
        self.complete = True
        return b""
