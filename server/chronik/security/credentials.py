"""SCRAM credentials (KIP-554): salted, never the password, persisted in the storage's metadata.

A credential is what Kafka's ``ScramCredential`` holds: salt, StoredKey = H(HMAC(SaltedPassword,
"Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key") and the iteration count (RFC 5802).
AlterUserScramCredentials sends the salt and SaltedPassword (the client ran PBKDF2); the broker
derives and keeps only the two keys, like Kafka's ``UserScramCredentialRecord``. Every change is
written to the metadata key :data:`META_KEY` (one JSON document) and synced, so credentials
survive a restart; the broker reads them back on start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "MAX_ITERATIONS",
    "MECHANISM_NAMES",
    "MECHANISM_TYPES",
    "MIN_ITERATIONS",
    "CredentialStore",
    "ScramCredential",
    "store_for",
]

#: Kafka's ``ScramMechanism`` type codes (the ``mechanism`` int8 of the SCRAM admin APIs).
MECHANISM_NAMES: Final = {1: "SCRAM-SHA-256", 2: "SCRAM-SHA-512"}
MECHANISM_TYPES: Final = {name: code for code, name in MECHANISM_NAMES.items()}
_HASHES: Final = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
#: ``ScramMechanism.minIterations()`` / ``maxIterations()``.
MIN_ITERATIONS: Final = 4096
MAX_ITERATIONS: Final = 16384
META_KEY: Final = "security.scram.credentials"


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """One user's credential for one mechanism."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    @classmethod
    def from_salted_password(
        cls, mechanism: str, salt: bytes, salted_password: bytes, iterations: int
    ) -> ScramCredential:
        """Derive StoredKey and ServerKey as ``ScramFormatter`` does."""
        digest = _HASHES[mechanism]
        client_key = hmac.new(salted_password, b"Client Key", digest).digest()
        server_key = hmac.new(salted_password, b"Server Key", digest).digest()
        return cls(salt, digest(client_key).digest(), server_key, iterations)

    @classmethod
    def from_password(
        cls, mechanism: str, password: str, iterations: int = MIN_ITERATIONS, salt: bytes | None = None
    ) -> ScramCredential:
        """A credential for ``password`` (tests and tools; the broker never sees passwords)."""
        import os

        salt = os.urandom(32) if salt is None else salt
        name = _HASHES[mechanism]().name
        salted = hashlib.pbkdf2_hmac(name, password.encode(), salt, iterations)
        return cls.from_salted_password(mechanism, salt, salted, iterations)

    def to_json(self) -> dict[str, Any]:
        b64 = base64.b64encode
        return {
            "salt": b64(self.salt).decode(),
            "stored_key": b64(self.stored_key).decode(),
            "server_key": b64(self.server_key).decode(),
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScramCredential:
        b = base64.b64decode
        return cls(b(d["salt"]), b(d["stored_key"]), b(d["server_key"]), int(d["iterations"]))


class CredentialStore:
    """Users' SCRAM credentials, by user then mechanism name, over a ``Storage``."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self._users: dict[str, dict[str, ScramCredential]] = {}
        raw = storage.get_meta(META_KEY)
        if raw:
            doc = json.loads(raw)
            for user, mechs in doc.get("users", {}).items():
                self._users[user] = {m: ScramCredential.from_json(c) for m, c in mechs.items()}

    def get(self, user: str, mechanism: str) -> ScramCredential | None:
        """The credential of ``user`` for ``mechanism`` (e.g. ``SCRAM-SHA-256``), if any."""
        return self._users.get(user, {}).get(mechanism)

    def users(self) -> list[str]:
        """Every user with at least one credential."""
        return list(self._users)

    def mechanisms(self, user: str) -> dict[str, ScramCredential]:
        """``user``'s credentials by mechanism name (empty if none)."""
        return dict(self._users.get(user, {}))

    def apply(
        self,
        upsertions: list[tuple[str, str, ScramCredential]],
        deletions: list[tuple[str, str]],
    ) -> None:
        """Apply (user, mechanism, credential) upsertions and (user, mechanism) deletions, durably."""
        if not upsertions and not deletions:
            return
        for user, mechanism in deletions:
            mechs = self._users.get(user)
            if mechs is not None:
                mechs.pop(mechanism, None)
                if not mechs:
                    del self._users[user]
        for user, mechanism, credential in upsertions:
            self._users.setdefault(user, {})[mechanism] = credential
        doc = {"users": {u: {m: c.to_json() for m, c in mechs.items()} for u, mechs in self._users.items()}}
        self._storage.put_meta(META_KEY, json.dumps(doc, sort_keys=True).encode())
        self._storage.sync()


_STORES: dict[int, tuple[Any, CredentialStore]] = {}
_LOCK = threading.Lock()


def store_for(storage: Any) -> CredentialStore:
    """The one :class:`CredentialStore` of ``storage`` (shared by the SASL layer and the admin handlers)."""
    with _LOCK:
        entry = _STORES.get(id(storage))
        if entry is None or entry[0] is not storage:
            entry = (storage, CredentialStore(storage))
            _STORES[id(storage)] = entry
        return entry[1]


def _java_string_hash(s: str) -> int:
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h


def java_hashmap_order(keys: list[str], max_size: int | None = None) -> list[str]:
    """``keys`` (distinct, in insertion order) in the iteration order of a ``java.util.HashMap``.

    Kafka answers the SCRAM admin APIs by iterating HashMaps, so their result order is the
    table's: bucket ``(h ^ h >>> 16) & (capacity - 1)`` of ``String.hashCode``, then insertion
    order within a bucket; the capacity starts at 16 and doubles past 0.75 full (``max_size`` is
    the largest size the map reached, when entries were removed since).
    """
    size = max(len(keys), max_size or 0)
    capacity = 16
    while size > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = _java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    return [k for _i, k in sorted(enumerate(keys), key=lambda ik: (bucket(ik[1]), ik[0]))]
