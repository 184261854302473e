"""chronik.security without sockets: principal mapping, JAAS, the SASL state machine with each
mechanism (scramp as the SCRAM client), OAUTHBEARER validators, the SCRAM admin handlers, TLS
contexts and their reload, and listener-prefixed configuration."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import scramp

from chronik.broker.handlers import alter_user_scram_credentials as alter
from chronik.broker.handlers import describe_user_scram_credentials as describe
from chronik.config import BrokerConfig, ConfigError
from chronik.protocol.errors import ErrorCode
from chronik.security.credentials import META_KEY, CredentialStore, ScramCredential
from chronik.security.jaas import JaasError, parse_jaas_config
from chronik.security.listeners import SecurityConfigError, sasl_listener
from chronik.security.mechanism import AuthenticationFailed
from chronik.security.oauthbearer import JwksValidator, OAuthBearerServer, TokenInvalid, UnsecuredValidator
from chronik.security.principal import NoMatchingRule, SslPrincipalMapper
from chronik.security.sasl import SaslAuthenticator, SaslListener
from chronik.security.tls import TlsConfigError, TlsServerContext, TlsSettings, build_context
from chronik.storage.memory import MemoryStorage
from chronik_protocol.messages.alter_user_scram_credentials_request import (
    AlterUserScramCredentialsRequest,
    ScramCredentialDeletion,
    ScramCredentialUpsertion,
)
from chronik_protocol.messages.describe_user_scram_credentials_request import (
    DescribeUserScramCredentialsRequest,
    UserName,
)
from chronik_protocol.messages.sasl_authenticate_request import SaslAuthenticateRequest
from chronik_protocol.messages.sasl_handshake_request import SaslHandshakeRequest

from .security_certs import make_certs

# --------------------------------------------------------------------------------------------
# ssl.principal.mapping.rules (cases from Kafka's SslPrincipalMapperTest)


def test_principal_mapping_rules() -> None:
    rules = SslPrincipalMapper(
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,"
        "DEFAULT"
    )
    assert rules.name("CN=Duke,OU=ServiceUsers,O=Org,C=US") == "Duke"
    assert rules.name("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US") == "duke@sme"
    assert rules.name("cn=duke,ou=xyz") == "DUKE"
    assert rules.name("OU=JavaSoft,O=Sun Microsystems,C=US") == "OU=JavaSoft,O=Sun Microsystems,C=US"
    assert SslPrincipalMapper("DEFAULT").name("CN=a,O=b") == "CN=a,O=b"
    assert SslPrincipalMapper("RULE:^CN=(.*)$/$1 and $2/").name("CN=x") == "x and $2"  # $2 past the groups: literal
    with pytest.raises(NoMatchingRule, match="No rules apply to O=x"):
        SslPrincipalMapper("RULE:^CN=(.*)$/$1/").name("O=x")
    for bad in ("RULE:x/y/,bad", "DEFAULT,RULE:^(.*$/$1/", "RULE:a/b/Q"):
        with pytest.raises(ValueError, match="Invalid rule"):
            SslPrincipalMapper(bad)


def test_jaas_config_parsing() -> None:
    modules = parse_jaas_config(
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
        'password="a\\"b" user_alice=alice-secret;'
    )
    assert [(m.name, m.flag, m.options) for m in modules] == [
        (
            "org.apache.kafka.common.security.plain.PlainLoginModule",
            "required",
            {"username": "admin", "password": 'a"b', "user_alice": "alice-secret"},
        )
    ]
    for bad in ("x.Y required a=b", "x.Y a=b;", "x.Y required a=;", ""):
        with pytest.raises(JaasError):
            parse_jaas_config(bad)


# --------------------------------------------------------------------------------------------
# The SASL state machine


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


def make_listener(store: CredentialStore, reauth_ms: int = 0) -> SaslListener:
    config = BrokerConfig.from_values(
        {
            "listeners": "SASL_PLAINTEXT://:9092",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
                'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
            ),
            "connections.max.reauth.ms": str(reauth_ms),
        }
    )
    return sasl_listener(config, "SASL_PLAINTEXT", store)


@pytest.fixture
def store() -> CredentialStore:
    s = CredentialStore(MemoryStorage())
    s.apply([("bob", "SCRAM-SHA-256", ScramCredential.from_password("SCRAM-SHA-256", "bob-secret", 4096))], [])
    return s


def handshake(auth: SaslAuthenticator, mechanism: str, version: int = 1) -> Any:
    assert auth.on_request(18, 3, None).passthrough  # ApiVersions first
    return auth.on_request(17, version, SaslHandshakeRequest(mechanism=mechanism))


def authenticate(auth: SaslAuthenticator, token: bytes, version: int = 2) -> Any:
    return auth.on_request(36, version, SaslAuthenticateRequest(auth_bytes=token))


def test_plain_v1_and_the_gate(store: CredentialStore) -> None:
    auth = SaslAuthenticator(make_listener(store), "1.2.3.4:5", Clock())
    out = handshake(auth, "PLAIN")
    assert out.response.error_code == 0 and out.response.mechanisms[0] == "PLAIN" and out.raw_mode is None
    out = authenticate(auth, b"\0alice\0alice-secret")
    assert out.authenticated and out.response.error_code == 0 and out.response.session_lifetime_ms == 0
    assert auth.principal == "User:alice" and auth.authenticated
    assert auth.on_request(3, 12, None).passthrough
    # without a session lifetime a second handshake goes to the broker (ILLEGAL_SASL_STATE there)
    assert auth.on_request(17, 1, SaslHandshakeRequest(mechanism="PLAIN")).passthrough
    # after the handshake, anything but SaslAuthenticate gets ILLEGAL_SASL_STATE and the close
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    handshake(auth, "PLAIN")
    out = auth.on_request(3, 12, None)
    assert out.error_code == ErrorCode.ILLEGAL_SASL_STATE and "during SASL authentication" in out.failure


def test_wrong_password_unknown_mechanism_and_out_of_order(store: CredentialStore) -> None:
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    handshake(auth, "PLAIN")
    out = authenticate(auth, b"\0alice\0nope")
    assert out.response.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
    assert out.response.error_message == "Authentication failed: Invalid username or password"
    assert "wrong password" in out.failure
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    out = handshake(auth, "GSSAPI")
    assert out.response.error_code == ErrorCode.UNSUPPORTED_SASL_MECHANISM
    assert out.response.mechanisms == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
    assert out.failure == "Unsupported SASL mechanism GSSAPI"
    for first in ((3, 12), (36, 2)):  # Metadata, SaslAuthenticate before the handshake
        auth = SaslAuthenticator(make_listener(store), "peer", Clock())
        out = auth.on_request(*first, SaslAuthenticateRequest())
        assert out.failure is not None and "during SASL handshake" in out.failure and out.response is None
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    assert auth.on_request(18, 3, None).passthrough
    assert auth.on_request(18, 3, None).failure is not None  # only one ApiVersions


def test_plain_v0_raw_tokens(store: CredentialStore) -> None:
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    out = handshake(auth, "PLAIN", version=0)
    assert out.raw_mode is True
    assert auth.on_request(36, 1, SaslAuthenticateRequest()).failure is not None
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    handshake(auth, "PLAIN", version=0)
    out = auth.on_raw_token(b"\0alice\0alice-secret")
    assert out.token == b"" and out.raw_mode is False and out.authenticated
    auth = SaslAuthenticator(make_listener(store), "peer", Clock())
    handshake(auth, "PLAIN", version=0)
    out = auth.on_raw_token(b"\0alice\0bad")
    assert out.failure is not None and out.token is None and out.response is None


@pytest.mark.parametrize(("password", "ok"), [("bob-secret", True), ("wrong", False)])
def test_scram_exchange(store: CredentialStore, password: str, ok: bool) -> None:
    auth = SaslAuthenticator(make_listener(store, reauth_ms=60_000), "peer", Clock())
    handshake(auth, "SCRAM-SHA-256")
    client = scramp.ScramClient(["SCRAM-SHA-256"], "bob", password)
    out = authenticate(auth, client.get_client_first().encode())
    assert out.response.error_code == 0
    client.set_server_first(out.response.auth_bytes.decode())
    out = authenticate(auth, client.get_client_final().encode())
    if ok:
        assert out.authenticated and out.response.session_lifetime_ms == 60_000
        client.set_server_final(out.response.auth_bytes.decode())  # verifies the server signature
        assert auth.principal == "User:bob"
    else:
        assert out.response.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert out.response.error_message == (
            "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
        )


def test_scram_unknown_user_and_wrong_mechanism(store: CredentialStore) -> None:
    for mechanism, user in (("SCRAM-SHA-256", "nobody"), ("SCRAM-SHA-512", "bob")):
        auth = SaslAuthenticator(make_listener(store), "peer", Clock())
        handshake(auth, mechanism)
        out = authenticate(auth, scramp.ScramClient([mechanism], user, "x").get_client_first().encode())
        assert out.response.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert f"unknown user '{user}'" in out.failure


def test_session_expiry_and_reauthentication(store: CredentialStore) -> None:
    clock = Clock()
    auth = SaslAuthenticator(make_listener(store, reauth_ms=1000), "peer", clock)
    handshake(auth, "PLAIN")
    out = authenticate(auth, b"\0alice\0alice-secret", version=1)
    assert out.response.session_lifetime_ms == 1000
    clock.ms += 900
    assert auth.on_request(3, 12, None).passthrough
    out = auth.on_request(17, 0, SaslHandshakeRequest(mechanism="PLAIN"))  # re-authenticate in time
    assert out.response.error_code == 0 and not auth.authenticated
    assert auth.on_request(3, 12, None).error_code == ErrorCode.ILLEGAL_SASL_STATE  # nothing else meanwhile
    auth = SaslAuthenticator(make_listener(store, reauth_ms=1000), "peer", clock)
    handshake(auth, "PLAIN")
    authenticate(auth, b"\0alice\0alice-secret", version=1)
    clock.ms += 900
    auth.on_request(17, 1, SaslHandshakeRequest(mechanism="PLAIN"))
    out = authenticate(auth, b"\0alice\0alice-secret", version=1)
    assert out.authenticated
    assert auth.on_request(17, 1, SaslHandshakeRequest(mechanism="PLAIN")).passthrough  # < 1 s since the last
    clock.ms += 1500
    out = auth.on_request(3, 12, None)
    assert out.failure is not None and "expired" in out.failure
    # re-authenticating as someone else, or with another mechanism, fails
    for mechanism, token in (("PLAIN", b"\0alice\0alice-secret"), ("SCRAM-SHA-256", b"n,,n=bob,r=x")):
        listener = SaslListener("L", ("PLAIN", "SCRAM-SHA-256"), make_listener(store).factories, {"PLAIN": 5000})
        auth = SaslAuthenticator(listener, "peer", clock)
        handshake(auth, "PLAIN")
        authenticate(auth, b"\0alice\0alice-secret", version=1)
        auth.principal = "User:someone-else" if mechanism == "PLAIN" else auth.principal
        auth.on_request(17, 1, SaslHandshakeRequest(mechanism=mechanism))
        out = authenticate(auth, token, version=1)
        if mechanism == "PLAIN":
            assert out.response.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
            assert "Cannot change principals" in out.response.error_message
        else:  # another mechanism: the next token fails the connection, without a response (as Kafka)
            assert out.response is None and "not supported for re-authentication" in out.failure


# --------------------------------------------------------------------------------------------
# OAUTHBEARER


def unsecured(claims: dict[str, Any], alg: str = "none") -> str:
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': alg})}.{b64(claims)}."


def test_unsecured_validator() -> None:
    now = int(time.time())
    v = UnsecuredValidator({"unsecuredValidatorRequiredScope": "kafka"})
    token = v.validate(unsecured({"sub": "carol", "exp": now + 60, "iat": now, "scope": "kafka other"}))
    assert token.principal_name == "carol" and token.lifetime_ms == (now + 60) * 1000
    cases = [
        (unsecured({"sub": "carol", "exp": now + 60, "scope": "kafka"}, alg="HS256"), "alg 'none'"),
        (unsecured({"exp": now + 60, "scope": "kafka"}), "'sub'"),
        (unsecured({"sub": "c", "scope": "kafka"}), "'exp' is missing"),
        (unsecured({"sub": "c", "exp": now - 10, "scope": "kafka"}), "after the expiration time"),
        (unsecured({"sub": "c", "exp": now + 60}), "scope lacks"),
    ]
    for text, message in cases:
        with pytest.raises(TokenInvalid, match=message):
            v.validate(text)


def test_oauthbearer_exchange_and_error_challenge() -> None:
    now = int(time.time())
    server = OAuthBearerServer(UnsecuredValidator({}))
    good = unsecured({"sub": "carol", "exp": now + 60})
    assert server.evaluate(f"n,,\x01auth=Bearer {good}\x01\x01".encode()) == b""
    assert server.complete and server.principal_name == "carol" and server.credential_expiry_ms == (now + 60) * 1000
    server = OAuthBearerServer(UnsecuredValidator({}))
    bad = unsecured({"sub": "carol", "exp": now - 60})
    assert server.evaluate(f"n,,\x01auth=Bearer {bad}\x01\x01".encode()) == b'{"status":"invalid_token"}'
    with pytest.raises(Exception, match="invalid_token"):
        server.evaluate(b"\x01")
    server = OAuthBearerServer(UnsecuredValidator({}))
    with pytest.raises(Exception, match="authorization id"):
        server.evaluate(f"n,a=mallory,\x01auth=Bearer {good}\x01\x01".encode())


def test_oauthbearer_malformed_message_gets_kafkas_generic_failure() -> None:
    # Kafka: OAuthBearerClientInitialResponse throws a SaslException, which SaslServerAuthenticator answers with the
    # generic text (Sarama answers an error challenge with a literal backslash-x-0-1, not the byte 0x01).
    now = int(time.time())
    generic = "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER"
    for first, second in (
        (None, b"\\x01"),
        (None, b"\x01"),  # ^A without an error challenge before it
        (None, b"n,,\x01auth=Basic abc\x01\x01"),
        (None, b"n,,\x01novalue\x01auth=Bearer a.b.\x01\x01"),
        (unsecured({"sub": "carol", "exp": now - 60}), b"\\x01"),
    ):
        server = OAuthBearerServer(UnsecuredValidator({}))
        if first is not None:
            assert server.evaluate(f"n,,\x01auth=Bearer {first}\x01\x01".encode()) == b'{"status":"invalid_token"}'
        with pytest.raises(AuthenticationFailed) as info:
            server.evaluate(second)
        assert info.value.client_message == generic
        assert "Invalid OAUTHBEARER client first message" in info.value.detail


def test_jwks_validator(tmp_path: Path) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "e1"
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    v = JwksValidator(f"file://{path}", audience=["chronik"], issuer="iss")
    now = int(time.time())
    claims = {"sub": "dave", "aud": "chronik", "iss": "iss", "exp": now + 60, "scope": "a b"}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "e1"})
    assert v.validate(token).principal_name == "dave"
    other = ec.generate_private_key(ec.SECP256R1())
    for bad, message in (
        (jwt.encode(claims, other, algorithm="ES256", headers={"kid": "e1"}), "Signature verification failed"),
        (jwt.encode({**claims, "iss": "x"}, key, algorithm="ES256", headers={"kid": "e1"}), "issuer"),
        (jwt.encode(claims, key, algorithm="ES256", headers={"kid": "zz"}), "no JWKS key"),
        (unsecured(claims), "JWT"),
    ):
        with pytest.raises(TokenInvalid, match=message):
            v.validate(bad)
    with pytest.raises(ValueError, match="file://"):
        JwksValidator("https://idp/jwks")


# --------------------------------------------------------------------------------------------
# SCRAM credentials and their admin APIs


def upsert(name: str, mechanism: int = 1, iterations: int = 4096) -> ScramCredentialUpsertion:
    return ScramCredentialUpsertion(
        name=name, mechanism=mechanism, iterations=iterations, salt=b"salt", salted_password=b"s" * 32
    )


def test_alter_and_describe_user_scram_credentials() -> None:
    storage = MemoryStorage()
    store = CredentialStore(storage)
    req = AlterUserScramCredentialsRequest(
        deletions=[ScramCredentialDeletion(name="ghost", mechanism=1)],
        upsertions=[
            upsert("alice"),
            upsert("alice", 2),
            upsert("bob", 2, 8192),
            upsert("carl", 3),
            upsert("", 1),
            upsert("dan", 1, 4095),
            upsert("erin", 1, 16385),
        ],
    )
    response = alter.handle(store, req)
    # the order Kafka 4.4's HashMaps give (checked against the reference broker)
    assert [r.user for r in response.results] == ["bob", "", "dan", "ghost", "carl", "alice", "erin"]
    results = {r.user: (r.error_code, r.error_message) for r in response.results}
    assert results == {
        "bob": (0, None),
        "ghost": (ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"),
        "alice": (ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request"),
        "carl": (ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"),
        "": (ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"),
        "dan": (ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations"),
        "erin": (ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations"),
    }
    assert store.users() == ["bob"]
    stored = storage.get_meta(META_KEY)
    assert stored is not None and b"s" * 32 not in stored and b"c3Nzc3Nz" not in stored  # no salted password
    assert CredentialStore(storage).get("bob", "SCRAM-SHA-512") == store.get("bob", "SCRAM-SHA-512")  # persisted

    rsp = describe.handle(store, DescribeUserScramCredentialsRequest(users=None))
    assert [(r.user, r.error_code, [(c.mechanism, c.iterations) for c in r.credential_infos]) for r in rsp.results] == [
        ("bob", 0, [(2, 8192)])
    ]
    rsp = describe.handle(
        store, DescribeUserScramCredentialsRequest(users=[UserName("bob"), UserName("zed"), UserName("bob")])
    )
    assert [(r.user, r.error_code, r.error_message) for r in rsp.results] == [
        ("bob", ErrorCode.DUPLICATE_RESOURCE, describe.DUPLICATE_USER + "bob"),
        ("zed", ErrorCode.RESOURCE_NOT_FOUND, describe.NO_SUCH_USER + "zed"),
    ]
    rsp = alter.handle(store, AlterUserScramCredentialsRequest(deletions=[ScramCredentialDeletion("bob", 2)]))
    assert [(r.user, r.error_code) for r in rsp.results] == [("bob", 0)] and store.users() == []


# --------------------------------------------------------------------------------------------
# TLS contexts


def test_tls_context_settings_and_reload(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "a", b"pw")
    settings = TlsSettings(
        "SSL",
        keystore_type="PEM",
        keystore_location=str(certs.server_keystore),
        key_password="pw",
        truststore_type="PEM",
        truststore_location=str(certs.ca),
        client_auth="required",
    )
    build_context(settings)
    pem = certs.server_keystore.read_text()
    key_text = pem[: pem.index("-----BEGIN CERTIFICATE-----")]
    inline = TlsSettings(
        "SSL",
        keystore_type="PEM",
        keystore_key=key_text,
        keystore_certificate_chain=pem[len(key_text) :],
        key_password="pw",
    )
    build_context(inline)  # ssl.keystore.key + ssl.keystore.certificate.chain
    for change, message in (
        ({"key_password": "nope"}, "private key"),
        ({"keystore_type": "JKS"}, "JKS is not supported"),
        ({"keystore_password": "x"}, "password cannot be specified with PEM"),
        ({"enabled_protocols": ("TLSv1.1",)}, "only TLSv1.2 and TLSv1.3"),
        ({"truststore_location": None}, "needs a trust store"),
        ({"keystore_location": str(tmp_path / "missing.pem")}, "cannot read"),
    ):
        with pytest.raises(TlsConfigError, match=message):
            build_context(TlsSettings(**{**settings.__dict__, **change}))

    now = [0.0]
    ctx = TlsServerContext(settings, clock=lambda: now[0])
    first = ctx.context()
    new = make_certs(tmp_path / "b", b"pw")
    os.replace(new.server_keystore, certs.server_keystore)
    assert ctx.context() is first  # checked at most once a second
    now[0] = 2.0
    assert ctx.context() is not first and ctx.reloads == 1
    certs.server_keystore.write_text("garbage")  # a broken file keeps the previous context
    now[0] = 4.0
    current = ctx.context()
    assert ctx.reloads == 1 and current is not first


# --------------------------------------------------------------------------------------------
# Configuration


def test_listener_prefixed_security_configs() -> None:
    config = BrokerConfig.from_values(
        {
            "listeners": "PLAINTEXT://:9092,INTERNAL://:9093",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL",
            "ssl.client.auth": "requested",
            "listener.name.INTERNAL.ssl.client.auth": "required",
            "sasl.enabled.mechanisms": "PLAIN",
            "listener.name.internal.sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.internal.scram-sha-512.connections.max.reauth.ms": "5000",
            "listener.name.internal.plain.sasl.jaas.config": "x.Y required;",
        }
    )
    assert config.listener_value("INTERNAL", "ssl.client.auth") == "required"
    assert config.listener_value("PLAINTEXT", "ssl.client.auth") == "requested"
    assert config.listener_value("internal", "sasl.enabled.mechanisms") == ["SCRAM-SHA-512"]
    assert config.listener_value("INTERNAL", "connections.max.reauth.ms", "SCRAM-SHA-512") == 5000
    assert config.listener_value("INTERNAL", "connections.max.reauth.ms", "PLAIN") == 0
    assert config.listener_value("INTERNAL", "sasl.jaas.config", "PLAIN").value == "x.Y required;"
    assert [e.security_protocol for e in config.listeners] == ["PLAINTEXT", "SASL_SSL"]
    with pytest.raises(ConfigError, match=r"listener\.name\.internal\.ssl\.client\.auth"):
        BrokerConfig.from_values({"listener.name.internal.ssl.client.auth": "maybe"})
    with pytest.raises(SecurityConfigError, match="GSSAPI"):
        sasl_listener(BrokerConfig.from_values({}), "SASL_PLAINTEXT", CredentialStore(MemoryStorage()))
    with pytest.raises(SecurityConfigError, match="PLAIN needs"):
        sasl_listener(
            BrokerConfig.from_values({"sasl.enabled.mechanisms": "PLAIN"}),
            "SASL_PLAINTEXT",
            CredentialStore(MemoryStorage()),
        )


def test_pkcs12_key_store(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    certs = make_certs(tmp_path)
    data = certs.server_keystore.read_bytes()
    key = serialization.load_pem_private_key(data, None)
    chain = x509.load_pem_x509_certificates(data)
    p12 = tmp_path / "server.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"server",
            key,
            chain[0],
            chain[1:],
            serialization.BestAvailableEncryption(b"store-pw"),  # type: ignore[arg-type]
        )
    )
    settings = TlsSettings("SSL", keystore_type="PKCS12", keystore_location=str(p12), keystore_password="store-pw")
    build_context(settings)
    with pytest.raises(TlsConfigError, match="PKCS12"):
        build_context(TlsSettings(**{**settings.__dict__, "keystore_password": "wrong"}))


# --------------------------------------------------------------------------------------------
# The network adapter with a SASL listener (no sockets)


def test_adapter_sasl_principal_and_delayed_failure(store: CredentialStore) -> None:
    from chronik.broker.dispatch import Handler
    from chronik.broker.handlers import sasl_authenticate, sasl_handshake
    from chronik_protocol.messages.metadata_request import MetadataRequest
    from chronik_protocol.messages.metadata_response import MetadataResponse
    from chronik_protocol.messages.sasl_authenticate_response import SaslAuthenticateResponse

    from .test_net import Harness, frame

    def harness() -> tuple[Harness, list[str]]:
        h = Harness(sasl=make_listener(store), failed_auth_delay_ms=100)
        seen: list[str] = []
        h.dispatcher.register(3, Handler(0, 12, lambda ctx, body: seen.append(ctx.principal) or MetadataResponse()))
        sasl_handshake.register(h.dispatcher, None)  # type: ignore[arg-type]
        sasl_authenticate.register(h.dispatcher, None)  # type: ignore[arg-type]
        return h, seen

    h, seen = harness()
    assert [c for c, _ in h.send(frame(17, 1, 1, SaslHandshakeRequest(mechanism="PLAIN")))] == [1]
    ((_c, body),) = h.send(frame(36, 2, 2, SaslAuthenticateRequest(auth_bytes=b"\0alice\0alice-secret")))
    assert SaslAuthenticateResponse.decode(body[1:], 2)  # after the header tags.error_code == 0
    h.send(frame(3, 12, 3, MetadataRequest(topics=None)))
    assert seen == ["User:alice"]

    h, seen = harness()
    h.send(frame(17, 1, 1, SaslHandshakeRequest(mechanism="PLAIN")))
    assert h.send(frame(36, 2, 2, SaslAuthenticateRequest(auth_bytes=b"\0alice\0wrong"))) == []
    assert not h.transport.disconnecting
    h.clock.advance(0.1)  # connection.failed.authentication.delay.ms: then the response, then the close
    ((_c, body),) = h.take()
    assert SaslAuthenticateResponse.decode(
        body[1:], 2
    )  # after the header tags.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
    assert h.transport.disconnecting

    h, seen = harness()
    assert h.send(frame(3, 12, 1, MetadataRequest(topics=None))) == []  # before authentication: no answer, closed
    h.clock.advance(0.1)
    assert h.transport.disconnecting and seen == []


def test_sasl_ssl_client_auth_needs_the_listener_prefix(tmp_path: Path) -> None:
    """KIP-684: the broker-wide ssl.client.auth does not apply to SASL_SSL listeners."""
    from chronik.security.listeners import tls_context

    certs = make_certs(tmp_path)
    base = {
        "listeners": "SASL_SSL://:9094",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certs.server_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(certs.ca),
        "ssl.client.auth": "required",
    }
    assert tls_context(BrokerConfig.from_values(base), "SASL_SSL", sasl=True).settings.client_auth == "none"
    prefixed = BrokerConfig.from_values({**base, "listener.name.sasl_ssl.ssl.client.auth": "requested"})
    assert tls_context(prefixed, "SASL_SSL", sasl=True).settings.client_auth == "requested"
    assert tls_context(BrokerConfig.from_values(base), "SASL_SSL").settings.client_auth == "required"
