"""Build a listener's security from the broker config (Kafka's ``ChannelBuilders``/``SaslChannelBuilder``).

- SSL / SASL_SSL: a :class:`~chronik.security.tls.TlsServerContext` from the listener's ``ssl.*``.
- SASL_PLAINTEXT / SASL_SSL: a :class:`~chronik.security.sasl.SaslListener` from
  ``sasl.enabled.mechanisms`` (per listener, falling back to the broker-wide value) and, per
  mechanism, ``listener.name.<l>.<mechanism>.sasl.jaas.config`` (PLAIN's ``user_<name>``
  options, OAUTHBEARER's unsecured-validator options), the SCRAM credential store, and
  ``connections.max.reauth.ms``. PLAIN without a JAAS config is a startup error (as Kafka's
  "Could not find a 'KafkaServer' or 'sasl_plaintext.KafkaServer' entry in the JAAS
  configuration"); GSSAPI is not supported.
"""

from __future__ import annotations

from typing import Any

from chronik.security.credentials import CredentialStore
from chronik.security.jaas import JaasError, LoginModule, parse_jaas_config
from chronik.security.oauthbearer import JwksValidator, OAuthBearerServer, UnsecuredValidator
from chronik.security.plain import PlainServer, plain_users
from chronik.security.sasl import SaslListener
from chronik.security.scram import ScramServer
from chronik.security.tls import TlsServerContext, TlsSettings

__all__ = ["SUPPORTED_MECHANISMS", "SecurityConfigError", "sasl_listener", "tls_context"]

SUPPORTED_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
_VALIDATOR_HANDLER = "OAuthBearerValidatorCallbackHandler"


class SecurityConfigError(ValueError):
    """A listener's security configuration cannot be used."""


def tls_context(config: Any, listener: str, sasl: bool = False) -> TlsServerContext:
    """The TLS context of an SSL or SASL_SSL listener.

    On a SASL_SSL listener client certificates are asked for only when
    ``listener.name.<listener>.ssl.client.auth`` is set: Kafka ignores the broker-wide
    ``ssl.client.auth`` there (the SASL exchange authenticates the client).
    """
    from dataclasses import replace

    from chronik.security.tls import TlsConfigError

    try:
        settings = TlsSettings.from_config(config, listener)
        if sasl and f"listener.name.{listener.lower()}.ssl.client.auth" not in config.listener_overrides():
            settings = replace(settings, client_auth="none")
        return TlsServerContext(settings)
    except TlsConfigError as e:
        raise SecurityConfigError(f"listener {listener}: {e}") from e


def _jaas(config: Any, listener: str, mechanism: str) -> list[LoginModule]:
    value = config.listener_value(listener, "sasl.jaas.config", mechanism)
    if value is None:
        return []
    try:
        return parse_jaas_config(str(getattr(value, "value", value)))
    except JaasError as e:
        raise SecurityConfigError(f"listener.name.{listener.lower()}.{mechanism.lower()}.sasl.jaas.config: {e}") from e


def sasl_listener(config: Any, listener: str, credentials: CredentialStore) -> SaslListener:
    """The SASL mechanisms of a SASL_PLAINTEXT or SASL_SSL listener."""
    mechanisms = [m.strip().upper() for m in (config.listener_value(listener, "sasl.enabled.mechanisms") or [])]
    mechanisms = [m for m in mechanisms if m]
    if not mechanisms:
        raise SecurityConfigError(f"listener {listener}: sasl.enabled.mechanisms is empty")
    unsupported = [m for m in mechanisms if m not in SUPPORTED_MECHANISMS]
    if unsupported:
        raise SecurityConfigError(
            f"listener {listener}: SASL mechanism(s) {', '.join(unsupported)} not supported (sasl.enabled.mechanisms;"
            f" supported: {', '.join(SUPPORTED_MECHANISMS)})"
        )
    factories: dict[str, Any] = {}
    reauth: dict[str, int] = {}
    for mech in mechanisms:
        reauth[mech] = int(config.listener_value(listener, "connections.max.reauth.ms", mech) or 0)
        if mech == "PLAIN":
            modules = _jaas(config, listener, mech)
            if not modules:
                raise SecurityConfigError(
                    f"listener {listener}: PLAIN needs listener.name.{listener.lower()}.plain.sasl.jaas.config "
                    '(org.apache.kafka.common.security.plain.PlainLoginModule required user_<name>="<password>";)'
                )
            users = plain_users(modules)
            factories[mech] = lambda users=users: PlainServer(users)
        elif mech.startswith("SCRAM-"):
            factories[mech] = lambda mech=mech: ScramServer(mech, credentials.get)
        else:  # OAUTHBEARER
            handler = config.listener_value(listener, "sasl.server.callback.handler.class", mech) or ""
            validator: Any
            if str(handler).endswith(_VALIDATOR_HANDLER):
                url = config.listener_value(listener, "sasl.oauthbearer.jwks.endpoint.url", mech)
                if not url:
                    raise SecurityConfigError(
                        f"listener {listener}: {_VALIDATOR_HANDLER} needs sasl.oauthbearer.jwks.endpoint.url"
                    )
                try:
                    validator = JwksValidator(
                        str(url),
                        audience=config.listener_value(listener, "sasl.oauthbearer.expected.audience", mech),
                        issuer=config.listener_value(listener, "sasl.oauthbearer.expected.issuer", mech),
                        sub_claim=config.listener_value(listener, "sasl.oauthbearer.sub.claim.name", mech) or "sub",
                        scope_claim=config.listener_value(listener, "sasl.oauthbearer.scope.claim.name", mech)
                        or "scope",
                        clock_skew_s=int(config.listener_value(listener, "sasl.oauthbearer.clock.skew.seconds", mech)),
                    )
                except ValueError as e:
                    raise SecurityConfigError(f"listener {listener}: {e}") from e
            else:
                options: dict[str, str] = {}
                for module in _jaas(config, listener, mech):
                    options.update(module.options)
                validator = UnsecuredValidator(options)
            factories[mech] = lambda validator=validator: OAuthBearerServer(validator)
    return SaslListener(
        listener,
        tuple(mechanisms),
        factories,
        reauth,
        int(config.listener_value(listener, "sasl.server.max.receive.size") or 524288),
    )
