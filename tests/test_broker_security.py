"""TLS and SASL through real clients against ``chronik start`` (issue 6): confluent-kafka (librdkafka)
over SSL (mutual TLS), SASL_PLAINTEXT and SASL_SSL with PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER
(unsecured JWTs on one listener, RS256 against a JWKS file on the other), refusals that leave the
broker serving others, SCRAM credentials managed with AlterUserScramCredentials (and Kafka's
``kafka-configs``), and the Java client over SASL_SSL with SCRAM.

Certificates are made at test time (tests/security_certs.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from .broker_process import BrokerProcess, free_port
from .security_certs import Certs, make_certs

ROOT = Path(__file__).resolve().parent.parent
JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required "
    'user_alice="alice-secret" user_admin="admin-secret";'
)
VALIDATOR = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"


@dataclass
class Env:
    broker: BrokerProcess
    certs: Certs
    ports: dict[str, int]
    jwt_key: Any  # RSA private key whose public half is in the JWKS file

    def bootstrap(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"


def _jwks(path: Path) -> Any:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    path.write_text(json.dumps({"keys": [jwk]}))
    return key


def broker_overrides(tmp: Path, certs: Certs, ports: dict[str, int]) -> list[str]:
    jwks = tmp / "jwks.json"
    return [
        "listeners=" + ",".join(f"{name}://127.0.0.1:{port}" for name, port in ports.items()),
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={certs.server_keystore}",
        "ssl.key.password=server-key-pw",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={certs.ca}",
        "listener.name.ssl.ssl.client.auth=required",
        "listener.name.ssl.ssl.principal.mapping.rules=RULE:^CN=([a-z]+),OU=eng,.*$/$1-eng/U,DEFAULT",
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}",
        f"listener.name.sasl_ssl.plain.sasl.jaas.config={JAAS}",
        f"listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class={VALIDATOR}",
        f"listener.name.sasl_ssl.sasl.oauthbearer.jwks.endpoint.url=file://{jwks}",
        "listener.name.sasl_ssl.sasl.oauthbearer.expected.audience=chronik",
        "listener.name.sasl_ssl.sasl.oauthbearer.expected.issuer=https://issuer.test",
        "connection.failed.authentication.delay.ms=50",
    ]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("security")
    certs = make_certs(tmp / "certs", b"server-key-pw")
    ports = {name: free_port() for name in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")}
    key = _jwks(tmp / "jwks.json")
    broker = BrokerProcess(tmp / "data", *broker_overrides(tmp, certs, ports), port=ports["PLAINTEXT"])
    with broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for mech in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
            for _user, f in admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion("scram-user", ScramCredentialInfo(mech, 4096), b"scram-secret")]
            ).items():
                f.result(10)
        yield Env(broker, certs, ports, key)


def client_config(env: Env, listener: str, mechanism: str | None = None, **extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"bootstrap.servers": env.bootstrap(listener), "security.protocol": listener}
    if listener in ("SSL", "SASL_SSL"):
        conf["ssl.ca.location"] = str(env.certs.ca)
    if listener == "SSL":
        conf["ssl.certificate.location"] = str(env.certs.client_cert)
        conf["ssl.key.location"] = str(env.certs.client_key)
    if mechanism is not None:
        conf["sasl.mechanism"] = mechanism
        if mechanism == "PLAIN":
            conf.update({"sasl.username": "alice", "sasl.password": "alice-secret"})
        elif mechanism.startswith("SCRAM"):
            conf.update({"sasl.username": "scram-user", "sasl.password": "scram-secret"})
        elif listener == "SASL_PLAINTEXT":  # unsecured JWT made by librdkafka
            conf.update(
                {"sasl.oauthbearer.config": "principal=carol scope=kafka", "enable.sasl.oauthbearer.unsecure.jwt": True}
            )
        else:
            conf["oauth_cb"] = lambda _cfg: (signed_token(env), time.time() + 300)
    conf.update(extra)
    return conf


def signed_token(env: Env, **claims: Any) -> str:
    import jwt

    now = int(time.time())
    body = {"sub": "dave", "aud": "chronik", "iss": "https://issuer.test", "iat": now, "exp": now + 300, **claims}
    return str(jwt.encode(body, env.jwt_key, algorithm="RS256", headers={"kid": "k1"}))


def produce_consume(conf: dict[str, Any], n: int = 20) -> None:
    topic = f"sec-{uuid.uuid4().hex[:8]}"
    producer = Producer({**conf, "linger.ms": 1})
    errors: list[Any] = []
    for i in range(n):
        producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, on_delivery=lambda e, _m: e and errors.append(e))
    assert producer.flush(30) == 0
    assert errors == []
    consumer = Consumer({**conf, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < n and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=100, timeout=0.5):
                assert m.error() is None, m.error()
                got.append(m.value())
    finally:
        consumer.close()
    assert got == [b"v%d" % i for i in range(n)]


def auth_error(conf: dict[str, Any], timeout: float = 10) -> KafkaError | None:
    """The first error a client reports (an authentication failure for the refusals below)."""
    seen: list[KafkaError] = []
    admin = AdminClient({**conf, "error_cb": seen.append})
    deadline = time.monotonic() + timeout
    while not seen and time.monotonic() < deadline:
        admin.poll(0.1)
    return seen[0] if seen else None


def wait_for_log(broker: BrokerProcess, text: str, timeout: float = 5) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = broker.log()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the broker log:\n{broker.log()[-3000:]}")


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listener", "mechanism"),
    [
        ("SSL", None),
        ("SASL_PLAINTEXT", "PLAIN"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
        ("SASL_PLAINTEXT", "OAUTHBEARER"),
        ("SASL_SSL", "PLAIN"),
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SASL_SSL", "OAUTHBEARER"),
    ],
)
def test_produce_and_consume_over_each_listener(env: Env, listener: str, mechanism: str | None) -> None:
    produce_consume(client_config(env, listener, mechanism))
    expected = {
        None: "principal User:CLIENT-ENG",  # mTLS: the DN mapped by ssl.principal.mapping.rules
        "PLAIN": "of User:alice",
        "SCRAM-SHA-256": "of User:scram-user",
        "SCRAM-SHA-512": "of User:scram-user",
        "OAUTHBEARER": "of User:carol" if listener == "SASL_PLAINTEXT" else "of User:dave",
    }[mechanism]
    wait_for_log(env.broker, expected)


def test_each_listener_advertises_its_own_address(env: Env) -> None:
    for listener, mechanism in (("PLAINTEXT", None), ("SSL", None), ("SASL_SSL", "PLAIN")):
        conf = client_config(env, listener, mechanism)
        brokers = AdminClient(conf).list_topics(timeout=10).brokers
        assert [(b.host, b.port) for b in brokers.values()] == [("127.0.0.1", env.ports[listener])]


@pytest.mark.parametrize(
    ("listener", "mechanism", "extra", "logged"),
    [
        ("SASL_PLAINTEXT", "PLAIN", {"sasl.password": "wrong"}, "wrong password for user 'alice'"),
        ("SASL_SSL", "PLAIN", {"sasl.username": "mallory"}, "unknown user 'mallory'"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256", {"sasl.password": "wrong"}, "invalid client proof for user 'scram-user'"),
        ("SASL_SSL", "SCRAM-SHA-512", {"sasl.username": "nobody"}, "unknown user 'nobody'"),
    ],
)
def test_bad_credentials_are_refused(
    env: Env, listener: str, mechanism: str, extra: dict[str, Any], logged: str
) -> None:
    error = auth_error(client_config(env, listener, mechanism, **extra))
    assert error is not None and error.code() == KafkaError._AUTHENTICATION, error
    if mechanism.startswith("SCRAM"):  # the response does not say which part was wrong
        assert "invalid credentials with SASL mechanism" in error.str()
    else:
        assert "Invalid username or password" in error.str()
    wait_for_log(env.broker, logged)
    produce_consume(client_config(env, listener, mechanism), n=3)  # others are still served


def test_bad_tokens_are_refused(env: Env) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "eve", "aud": "chronik", "iss": "https://issuer.test", "exp": now + 300},
        other,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    cases = [
        (str(forged), "Signature verification failed"),
        (signed_token(env, exp=now - 120), "Signature has expired"),
        (signed_token(env, aud="someone-else"), "Audience doesn't match"),
    ]
    for token, logged in cases:
        conf = client_config(env, "SASL_SSL", "OAUTHBEARER", oauth_cb=lambda _c, t=token: (t, time.time() + 300))
        error = auth_error(conf)
        assert error is not None and error.code() == KafkaError._AUTHENTICATION, error
        assert "invalid_token" in error.str()
        wait_for_log(env.broker, logged)
    # an expired unsecured JWT on the other listener
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    import base64

    payload = base64.urlsafe_b64encode(json.dumps({"sub": "carol", "exp": now - 60}).encode()).rstrip(b"=").decode()
    conf = client_config(
        env, "SASL_PLAINTEXT", "OAUTHBEARER", oauth_cb=lambda _c: (f"{header}.{payload}.", time.time() + 300)
    )
    conf.pop("sasl.oauthbearer.config")
    conf.pop("enable.sasl.oauthbearer.unsecure.jwt")
    error = auth_error(conf)
    assert error is not None and error.code() == KafkaError._AUTHENTICATION, error
    wait_for_log(env.broker, "after the expiration time")


def test_plaintext_client_on_tls_listener_and_untrusted_certificate(env: Env, tmp_path: Path) -> None:
    assert auth_error({"bootstrap.servers": env.bootstrap("SSL")}, timeout=5) is not None
    wait_for_log(env.broker, "TLS handshake failed (a plaintext client on a TLS listener?)")
    # a client certificate from another CA fails mutual TLS
    other = make_certs(tmp_path / "other")
    conf = client_config(env, "SSL")
    conf.update({"ssl.certificate.location": str(other.client_cert), "ssl.key.location": str(other.client_key)})
    assert auth_error(conf, timeout=5) is not None
    wait_for_log(env.broker, "TLS handshake failed (TLS error)")
    produce_consume(client_config(env, "SSL"), n=3)


def test_requests_before_authentication_close_the_connection(env: Env) -> None:
    from chronik_protocol.messages.metadata_request import MetadataRequest
    from chronik_protocol.messages.sasl_handshake_request import SaslHandshakeRequest

    from .raw_client import call

    with pytest.raises(ConnectionError):
        call(env.ports["SASL_PLAINTEXT"], 3, 12, MetadataRequest(topics=None))
    wait_for_log(env.broker, "Unexpected Kafka request of type METADATA during SASL handshake.")
    # unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list
    response: Any = call(env.ports["SASL_PLAINTEXT"], 17, 1, SaslHandshakeRequest(mechanism="GSSAPI"))
    assert (response.error_code, response.mechanisms) == (
        33,
        ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"],
    )
    # SaslHandshake on a PLAINTEXT listener: ILLEGAL_SASL_STATE (KafkaApis)
    response = call(env.ports["PLAINTEXT"], 17, 1, SaslHandshakeRequest(mechanism="PLAIN"))
    assert response.error_code == 34


# --------------------------------------------------------------------------------------------
# SCRAM credentials: AlterUserScramCredentials, restart, kafka-configs, the Java client


def test_scram_credentials_admin_login_and_restart(tmp_path: Path) -> None:
    port, sasl_port = free_port(), free_port()
    broker = BrokerProcess(
        tmp_path / "data",
        f"listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
        "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
        port=port,
    )
    login = {
        "bootstrap.servers": f"127.0.0.1:{sasl_port}",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "bob",
        "sasl.password": "bob-secret",
    }
    with broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
        for f in admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion("bob", info, b"bob-secret")]
        ).values():
            f.result(10)
        described = admin.describe_user_scram_credentials().result(10)
        assert {u: [(c.mechanism, c.iterations) for c in d.scram_credential_infos] for u, d in described.items()} == {
            "bob": [(ScramMechanism.SCRAM_SHA_512, 8192)]
        }
        too_few = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 1000)
        with pytest.raises(Exception, match="Too few iterations"):
            for f in admin.alter_user_scram_credentials([UserScramCredentialUpsertion("carl", too_few, b"x")]).values():
                f.result(10)
        produce_consume(login, n=5)
    with broker:  # credentials survive a restart
        produce_consume(login, n=5)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for f in admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion("bob", ScramMechanism.SCRAM_SHA_512)]
        ).values():
            f.result(10)
        error = auth_error(login)
        assert error is not None and error.code() == KafkaError._AUTHENTICATION


def _java_ready() -> bool:
    from tests.javacheck.runner import java_available

    try:
        from chronik_conformance.kafka_reference import LIB_DIR
    except ImportError:
        return False
    return java_available() and (any(LIB_DIR.glob("kafka-tools-*.jar")) or shutil.which("mvn") is not None)


@pytest.mark.skipif(not _java_ready(), reason="needs java and the Kafka 4.4.0 jars (or mvn to fetch them)")
def test_kafka_configs_and_java_client_over_sasl_ssl_with_scram(tmp_path: Path) -> None:
    from chronik_conformance.kafka_reference import ensure_kafka_lib, tool_command
    from tests.javacheck.runner import lib_dir

    ensure_kafka_lib()  # kafka-tools (ConfigCommand); the conformance run uses the same jars

    certs = make_certs(tmp_path / "certs")
    port, sasl_ssl = free_port(), free_port()
    broker = BrokerProcess(
        tmp_path / "data",
        f"listeners=PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{sasl_ssl}",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={certs.server_keystore}",
        "sasl.enabled.mechanisms=SCRAM-SHA-256",
        port=port,
    )
    with broker:
        add = tool_command(
            "org.apache.kafka.tools.ConfigCommand",
            "--bootstrap-server",
            broker.bootstrap,
            "--alter",
            "--add-config",
            "SCRAM-SHA-256=[iterations=4096,password=alice-secret]",
            "--entity-type",
            "users",
            "--entity-name",
            "alice",
        )
        proc = subprocess.run(add, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        props = tmp_path / "client.properties"
        props.write_text(
            "security.protocol=SASL_SSL\n"
            "sasl.mechanism=SCRAM-SHA-256\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            'username="alice" password="alice-secret";\n'
            "ssl.truststore.type=PEM\n"
            f"ssl.truststore.location={certs.ca}\n"
        )
        release = "4.4.0"
        if not lib_dir(release).is_dir():
            subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
        proc = subprocess.run(
            [
                "java",
                "-cp",
                f"{lib_dir(release)}/*",
                str(ROOT / "tests/javacheck/ClientScenario.java"),
                f"127.0.0.1:{sasl_ssl}",
                "200",
                str(props),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:] + broker.log()[-3000:]
        assert "OK produced=200 consumed=200" in proc.stdout
        assert "authenticated connection of User:alice" in broker.log()


def test_reauthentication_keeps_the_connection(tmp_path: Path) -> None:
    """KIP-368: with connections.max.reauth.ms the client re-authenticates on the same connection."""
    port, sasl_port = free_port(), free_port()
    broker = BrokerProcess(
        tmp_path / "data",
        f"listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
        "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}",
        "listener.name.sasl_plaintext.plain.connections.max.reauth.ms=1000",
        port=port,
    )
    conf = {
        "bootstrap.servers": f"127.0.0.1:{sasl_port}",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "alice",
        "sasl.password": "alice-secret",
        "linger.ms": 0,
    }
    with broker:
        producer = Producer(conf)
        delivered: list[Any] = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            producer.produce("reauth", b"x", on_delivery=lambda e, _m: delivered.append(e))
            producer.poll(0.1)
        assert producer.flush(10) == 0
        assert delivered and all(e is None for e in delivered)
        log = wait_for_log(broker, "re-authenticated connection of User:alice")
        assert "(session lifetime 1000 ms)" in log
        assert "expired without re-authentication" not in log


def test_sasl_handshake_v0_raw_tokens(env: Env) -> None:
    """KIP-43: after SaslHandshake v0 the SASL tokens are raw size-prefixed frames, not requests."""
    import socket
    import struct

    from chronik_protocol.api_table import APIS
    from chronik_protocol.messages.describe_cluster_request import DescribeClusterRequest
    from chronik_protocol.messages.find_coordinator_request import FindCoordinatorRequest
    from chronik_protocol.messages.metadata_request import MetadataRequest
    from chronik_protocol.messages.request_header import RequestHeader
    from chronik_protocol.messages.response_header import ResponseHeader
    from chronik_protocol.messages.sasl_handshake_request import SaslHandshakeRequest

    def frame(key: int, version: int, body: Any, cid: int) -> bytes:
        out = bytearray()
        RequestHeader(request_api_key=key, request_api_version=version, correlation_id=cid, client_id="v0").encode_into(
            out, APIS[key].request_header_version(version)
        )
        body.encode_into(out, version)
        return struct.pack(">i", len(out)) + out

    def read_frame(s: socket.socket) -> bytes:
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        return s.recv(size, socket.MSG_WAITALL) if size else b""

    def response(s: socket.socket, key: int, version: int) -> Any:
        data = memoryview(read_frame(s))
        _header, pos = ResponseHeader.decode_from(data, 0, APIS[key].response_header_version(version))
        return APIS[key].response_class().decode_from(data, pos, version)[0]

    with socket.create_connection(("127.0.0.1", env.ports["SASL_PLAINTEXT"]), timeout=5) as s:
        s.sendall(frame(17, 0, SaslHandshakeRequest(mechanism="PLAIN"), 1))
        assert response(s, 17, 0).error_code == 0
        token = b"\0alice\0alice-secret"
        s.sendall(struct.pack(">i", len(token)) + token)
        assert read_frame(s) == b""  # PLAIN's (empty) final challenge, raw
        s.sendall(frame(3, 12, MetadataRequest(topics=None), 2))
        assert response(s, 3, 12).brokers[0].port == env.ports["SASL_PLAINTEXT"]
        # DescribeCluster and FindCoordinator also name this listener's address
        s.sendall(frame(60, 1, DescribeClusterRequest(), 3))
        assert [(b.host, b.port) for b in response(s, 60, 1).brokers] == [("127.0.0.1", env.ports["SASL_PLAINTEXT"])]
        s.sendall(frame(10, 4, FindCoordinatorRequest(key_type=0, coordinator_keys=["g"]), 4))
        (coordinator,) = response(s, 10, 4).coordinators
        assert (coordinator.host, coordinator.port) == ("127.0.0.1", env.ports["SASL_PLAINTEXT"])


def test_certificate_files_are_reloaded_without_restart(tmp_path: Path) -> None:
    import os
    import socket
    import ssl

    first = make_certs(tmp_path / "first")
    second = make_certs(tmp_path / "second")
    keystore = tmp_path / "server.pem"
    shutil.copy(first.server_keystore, keystore)
    port, ssl_port = free_port(), free_port()
    broker = BrokerProcess(
        tmp_path / "data",
        f"listeners=PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:{ssl_port}",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={keystore}",
        port=port,
    )

    def served_certificate() -> bytes:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", ssl_port), timeout=5) as sock,
            context.wrap_socket(sock) as tls,
        ):
            cert = tls.getpeercert(binary_form=True)
            assert cert is not None
            return cert

    def pem_der(path: Path) -> bytes:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.load_pem_x509_certificates(path.read_bytes())[0].public_bytes(Encoding.DER)

    with broker:
        assert served_certificate() == pem_der(first.server_keystore)
        tmp = tmp_path / "server.pem.new"
        shutil.copy(second.server_keystore, tmp)
        os.replace(tmp, keystore)
        deadline = time.monotonic() + 10
        while served_certificate() != pem_der(second.server_keystore):
            assert time.monotonic() < deadline, broker.log()[-2000:]
            time.sleep(0.3)
        wait_for_log(broker, "reloaded the TLS key store")
