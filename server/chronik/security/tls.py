"""The TLS server side of SSL and SASL_SSL listeners (Kafka's ``SslFactory``/``DefaultSslEngineFactory``).

Configuration, per listener with fallback to the broker-wide keys (Kafka's names):

- Key store: ``ssl.keystore.type=PEM`` with ``ssl.keystore.location`` (one file holding the
  PKCS#8 private key and the certificate chain) or ``ssl.keystore.key`` +
  ``ssl.keystore.certificate.chain`` (the PEM text itself); an encrypted key needs
  ``ssl.key.password`` (a PEM key store has no store password: Kafka refuses
  ``ssl.keystore.password`` with PEM). ``ssl.keystore.type=PKCS12`` with ``ssl.keystore.location``
  and ``ssl.keystore.password``. JKS is not supported.
- Trust store (the CAs client certificates are checked against): ``ssl.truststore.type=PEM`` with
  ``ssl.truststore.location`` or ``ssl.truststore.certificates``, or PKCS12.
- ``ssl.client.auth``: ``none`` (no certificate asked), ``requested`` (asked, optional; one that
  is sent must verify), ``required`` (mutual TLS: the handshake fails without a valid one).
- ``ssl.enabled.protocols``: TLSv1.2 and/or TLSv1.3 (older versions are refused at startup).
- ``ssl.cipher.suites``: OpenSSL names for TLS 1.2 suites.

Certificate files are reloaded without a restart: every new connection looks (at most once a
second, a ``stat`` per file) whether a key store or trust store file changed, and if so builds a
new context for the connections that follow; a file that does not load keeps the previous
context and logs an error. (Kafka reloads key stores through a dynamic AlterConfigs of the
``ssl.keystore.*`` keys; a changed file with the same name is the common case both cover.)
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from zope.interface import implementer

__all__ = ["TlsConfigError", "TlsServerContext", "TlsSettings"]

log = logging.getLogger("chronik.security.tls")

_PROTOCOLS = {"TLSv1.2": SSL.TLS1_2_VERSION, "TLSv1.3": SSL.TLS1_3_VERSION}
_KEY_BLOCK = re.compile(
    rb"-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S
)
RELOAD_CHECK_INTERVAL_S = 1.0


class TlsConfigError(ValueError):
    """The TLS configuration of a listener cannot be used (the message says why)."""


def _secret(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


@dataclass(frozen=True)
class TlsSettings:
    """The ``ssl.*`` values of one listener."""

    listener: str
    keystore_type: str = "JKS"
    keystore_location: str | None = None
    keystore_password: str | None = None
    key_password: str | None = None
    keystore_key: str | None = None
    keystore_certificate_chain: str | None = None
    truststore_type: str = "JKS"
    truststore_location: str | None = None
    truststore_password: str | None = None
    truststore_certificates: str | None = None
    client_auth: str = "none"
    enabled_protocols: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")
    cipher_suites: tuple[str, ...] = ()
    principal_mapping_rules: str = "DEFAULT"

    @classmethod
    def from_config(cls, config: Any, listener: str) -> TlsSettings:
        """The listener's settings from a ``BrokerConfig`` (``listener.name.<l>.ssl.*`` first)."""

        def get(name: str) -> Any:
            return config.listener_value(listener, name)

        return cls(
            listener=listener,
            keystore_type=str(get("ssl.keystore.type") or "JKS"),
            keystore_location=get("ssl.keystore.location"),
            keystore_password=_secret(get("ssl.keystore.password")),
            key_password=_secret(get("ssl.key.password")),
            keystore_key=_secret(get("ssl.keystore.key")),
            keystore_certificate_chain=_secret(get("ssl.keystore.certificate.chain")),
            truststore_type=str(get("ssl.truststore.type") or "JKS"),
            truststore_location=get("ssl.truststore.location"),
            truststore_password=_secret(get("ssl.truststore.password")),
            truststore_certificates=_secret(get("ssl.truststore.certificates")),
            client_auth=str(get("ssl.client.auth") or "none").lower(),
            enabled_protocols=tuple(get("ssl.enabled.protocols") or ()),
            cipher_suites=tuple(get("ssl.cipher.suites") or ()),
            principal_mapping_rules=str(get("ssl.principal.mapping.rules") or "DEFAULT"),
        )

    def files(self) -> list[str]:
        """The files the context is built from (watched for changes)."""
        return [f for f in (self.keystore_location, self.truststore_location) if f]


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise TlsConfigError(f"cannot read {what} {path}: {e.strerror or e}") from e


def _load_pem_key(data: bytes, password: str | None, what: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    m = _KEY_BLOCK.search(data)
    if m is None:
        raise TlsConfigError(f"{what} has no private key")
    try:
        return load_pem_private_key(m.group(0), password.encode() if password else None)
    except (ValueError, TypeError) as e:
        raise TlsConfigError(f"cannot load the private key of {what}: {e} (ssl.key.password?)") from e


def _load_pem_certs(data: bytes, what: str) -> list[Any]:
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError as e:
        raise TlsConfigError(f"{what} has no valid PEM certificate: {e}") from e


def _load_pkcs12(data: bytes, password: str | None, what: str) -> tuple[Any, Any, list[Any]]:
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as e:
        raise TlsConfigError(f"cannot load the PKCS12 {what}: {e} (password?)") from e
    return key, cert, list(extra)


def load_keystore(s: TlsSettings) -> tuple[Any, list[Any]]:
    """(private key, certificate chain) as ``cryptography`` objects."""
    kind = s.keystore_type.upper()
    if kind == "PEM":
        if s.keystore_password:
            raise TlsConfigError("SSL key store password cannot be specified with PEM format, only key password may be")
        if s.keystore_location:
            if s.keystore_key or s.keystore_certificate_chain:
                raise TlsConfigError("set ssl.keystore.location or ssl.keystore.key/certificate.chain, not both")
            data = _read(s.keystore_location, "ssl.keystore.location")
            what = f"key store {s.keystore_location}"
            return _load_pem_key(data, s.key_password, what), _load_pem_certs(data, what)
        if s.keystore_key and s.keystore_certificate_chain:
            return (
                _load_pem_key(s.keystore_key.encode(), s.key_password, "ssl.keystore.key"),
                _load_pem_certs(s.keystore_certificate_chain.encode(), "ssl.keystore.certificate.chain"),
            )
        raise TlsConfigError(
            "SSL key store is not specified: set ssl.keystore.location (or ssl.keystore.key and "
            "ssl.keystore.certificate.chain)"
        )
    if kind == "PKCS12":
        if not s.keystore_location:
            raise TlsConfigError("SSL key store is not specified: set ssl.keystore.location")
        key, cert, extra = _load_pkcs12(
            _read(s.keystore_location, "ssl.keystore.location"), s.keystore_password, "key store"
        )
        if key is None or cert is None:
            raise TlsConfigError(f"the PKCS12 key store {s.keystore_location} has no private key and certificate")
        return key, [cert, *extra]
    raise TlsConfigError(f"ssl.keystore.type={s.keystore_type} is not supported: use PEM or PKCS12")


def load_truststore(s: TlsSettings) -> list[Any]:
    """The trusted CA certificates (empty when no trust store is configured)."""
    kind = s.truststore_type.upper()
    if not s.truststore_location and not s.truststore_certificates:
        return []
    if kind == "PEM":
        if s.truststore_password:
            raise TlsConfigError("SSL trust store password cannot be specified for PEM format.")
        if s.truststore_location:
            data = _read(s.truststore_location, "ssl.truststore.location")
            return _load_pem_certs(data, f"trust store {s.truststore_location}")
        assert s.truststore_certificates is not None
        return _load_pem_certs(s.truststore_certificates.encode(), "ssl.truststore.certificates")
    if kind == "PKCS12" and s.truststore_location:
        _key, cert, extra = _load_pkcs12(
            _read(s.truststore_location, "ssl.truststore.location"), s.truststore_password, "trust store"
        )
        return [c for c in (cert, *extra) if c is not None]
    raise TlsConfigError(f"ssl.truststore.type={s.truststore_type} is not supported: use PEM or PKCS12")


def build_context(s: TlsSettings) -> SSL.Context:
    """A pyOpenSSL server context for these settings; :class:`TlsConfigError` if unusable."""
    protocols = [p for p in s.enabled_protocols]
    unknown = [p for p in protocols if p not in _PROTOCOLS]
    if unknown or not protocols:
        raise TlsConfigError(f"ssl.enabled.protocols={','.join(protocols)}: only TLSv1.2 and TLSv1.3 are supported")
    if s.client_auth not in ("none", "requested", "required"):
        raise TlsConfigError(f"ssl.client.auth={s.client_auth} is not one of none, requested, required")
    key, chain = load_keystore(s)
    cas = load_truststore(s)
    if s.client_auth != "none" and not cas:
        raise TlsConfigError(f"ssl.client.auth={s.client_auth} needs a trust store (ssl.truststore.location)")
    versions = sorted(_PROTOCOLS[p] for p in protocols)
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_min_proto_version(versions[0])
    ctx.set_max_proto_version(versions[-1])
    ctx.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE)
    try:
        ctx.use_certificate(chain[0])
        for extra in chain[1:]:
            ctx.add_extra_chain_cert(extra)
        ctx.use_privatekey(key)
        ctx.check_privatekey()
    except SSL.Error as e:
        raise TlsConfigError(f"the private key does not match the certificate: {e}") from e
    if s.cipher_suites:
        try:
            ctx.set_cipher_list(":".join(s.cipher_suites).encode())
        except SSL.Error as e:
            raise TlsConfigError(f"ssl.cipher.suites={','.join(s.cipher_suites)}: {e}") from e
    store = ctx.get_cert_store()
    assert store is not None
    for ca in cas:
        store.add_cert(crypto.X509.from_cryptography(ca))
    if cas and s.truststore_type.upper() == "PEM" and s.truststore_location:
        ctx.load_client_ca(s.truststore_location.encode())  # the CA names a certificate request lists
    mode = {
        "none": SSL.VERIFY_NONE,
        "requested": SSL.VERIFY_PEER,
        "required": SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT,
    }[s.client_auth]
    ctx.set_verify(mode, None)
    ctx.set_session_id(b"chronik-" + s.listener.encode()[:24])
    return ctx


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@implementer(IOpenSSLServerConnectionCreator)
class TlsServerContext:
    """Creates the TLS side of each accepted connection; rebuilds its context when files change."""

    def __init__(self, settings: TlsSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._stamps = {f: _stamp(f) for f in settings.files()}
        self._context = build_context(settings)
        self._checked = clock()
        self.reloads = 0

    def context(self) -> SSL.Context:
        """The current context, rebuilt first if a certificate file changed (checked ≤ once a second)."""
        now = self._clock()
        if now - self._checked >= RELOAD_CHECK_INTERVAL_S:
            self._checked = now
            self.maybe_reload()
        return self._context

    def maybe_reload(self) -> bool:
        """Rebuild the context if a watched file changed; whether it did."""
        stamps = {f: _stamp(f) for f in self.settings.files()}
        if stamps == self._stamps:
            return False
        self._stamps = stamps
        try:
            self._context = build_context(self.settings)
        except (TlsConfigError, SSL.Error) as e:
            log.error(
                "listener %s: certificate files changed but cannot be loaded (keeping the previous ones): %s",
                self.settings.listener,
                e,
            )
            return False
        self.reloads += 1
        log.info("listener %s: reloaded the TLS key store / trust store", self.settings.listener)
        return True

    def serverConnectionForTLS(self, protocol: Any) -> SSL.Connection:
        return SSL.Connection(self.context(), None)
