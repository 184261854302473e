"""The secured listeners both brokers serve for the ``security-*`` scenarios (SCENARIOS.md, "Security scenarios").

Besides PLAINTEXT (the bootstrap of every other scenario) each broker gets an ``SSL``, a ``SASL_PLAINTEXT`` and a
``SASL_SSL`` listener, configured identically with Kafka's own config names (:meth:`SecuritySetup.broker_props`):
a PEM keystore (unencrypted PKCS#8 key + server certificate for ``127.0.0.1``/``localhost`` + CA) and a PEM
truststore made here with ``cryptography`` (:func:`make_certs`), ``sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,
SCRAM-SHA-512,OAUTHBEARER``, PLAIN users in each SASL listener's JAAS config, SCRAM users created after start with
AlterUserScramCredentials (:meth:`SecuritySetup.create_scram_users`), OAUTHBEARER with Kafka's default (unsecured)
validator, ``OAuthBearerUnsecuredValidatorCallbackHandler``, whose options come from the listener's
``oauthbearer.sasl.jaas.config``: unsecured JWTs (``alg`` ``none``, no signature) with ``sub`` and an unexpired
``exp`` (:func:`unsecured_jwt` makes the valid, expired and signed ones of the ``--security`` file). No client
authentication by certificate, no authorizer. The drivers learn the addresses and users from the JSON file of
:meth:`SecuritySetup.write_file`.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "LISTENERS",
    "MECHANISMS",
    "SecuritySetup",
    "localhost_san",
    "make_cert",
    "make_certs",
    "pem",
    "pem_key",
    "unsecured_jwt",
    "x509_name",
]

#: Listener names (= their security protocols) in the order of the ``--security`` file keys.
LISTENERS = ("SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
SCRAM_ITERATIONS = 8192
#: The OAUTHBEARER JAAS options both brokers get: 1 s of clock skew for ``OAuthBearerUnsecuredValidatorCallbackHandler``
#: and the ``sub`` of the broker's own unsecured token (Kafka logs in on every OAUTHBEARER listener at startup, with
#: ``OAuthBearerUnsecuredLoginCallbackHandler``, and refuses to start without it: "No principal name in JWT claim: sub";
#: Chronik ignores it).
OAUTH_JAAS_OPTIONS = {"unsecuredLoginStringClaim_sub": "broker", "unsecuredValidatorAllowableClockSkewMs": "1000"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsecured_jwt(sub: str, *, exp_in: float, signature: bytes = b"") -> str:
    """An unsecured JWT (RFC 7519 section 6: header ``{"alg":"none"}``, empty signature) for ``sub``, issued now (or
    at ``exp`` when that is past) and expiring ``exp_in`` seconds from now; with ``signature`` the header says HS256
    and the token carries it (what Kafka's unsecured validator refuses: "must not contain a digital signature")."""
    now = int(time.time())
    exp = now + int(exp_in)
    header = {"alg": "HS256", "typ": "JWT"} if signature else {"alg": "none"}
    claims = {"sub": sub, "iat": min(now, exp - 60), "exp": exp}
    parts = [json.dumps(header, separators=(",", ":")).encode(), json.dumps(claims, separators=(",", ":")).encode()]
    return ".".join([*(_b64url(p) for p in parts), _b64url(signature)])


def x509_name(**attrs: str) -> x509.Name:
    """An X.509 name from attributes C, O, OU and CN, in the order given."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


def make_cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    san: list[x509.GeneralName] | None = None,
    days: int = 7,
) -> x509.Certificate:
    """A certificate of ``key`` for ``subject`` signed by ``issuer_key`` (SHA-256), valid from 5 minutes ago for
    ``days``; ``san``: its subject alternative names."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def localhost_san() -> list[x509.GeneralName]:
    """The subject alternative names of a server certificate for ``localhost`` and ``127.0.0.1``."""
    from cryptography import x509

    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    """The key as PKCS#8 PEM (encrypted with ``password`` when given)."""
    from cryptography.hazmat.primitives import serialization

    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def pem(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def make_certs(directory: Path) -> tuple[Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost (EC P-256, valid 7 days).

    Returns ``(ca.pem, server.keystore.pem)``; the keystore holds the unencrypted PKCS#8 key (what Kafka's PEM
    keystores read), the server certificate and the CA."""
    from cryptography.hazmat.primitives.asymmetric import ec

    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509_name(O="Chronik conformance", CN="Chronik conformance CA")
    ca = make_cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = make_cert(x509_name(O="Chronik conformance", CN="localhost"), server_key, ca_name, ca_key,
                       san=localhost_san())
    ca_path, keystore = directory / "ca.pem", directory / "server.keystore.pem"
    ca_path.write_bytes(pem(ca))
    keystore.write_bytes(pem_key(server_key) + pem(server) + pem(ca))
    return ca_path, keystore


@dataclass
class SecuritySetup:
    """Certificates and users shared by both brokers (one per run, in ``directory``)."""

    directory: Path
    plain_user: tuple[str, str] = ("alice", "alice-secret")
    scram_user: tuple[str, str] = ("scram-user", "scram-secret")
    wrong_password: str = "not-the-password"
    unknown_user: str = "nobody"
    oauth_principal: str = "oauth-user"
    ca_file: Path = field(init=False)
    keystore: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca_file, self.keystore = make_certs(self.directory)

    def users(self) -> dict[str, dict[str, str]]:
        """``{mechanism: {"username", "password"}}``; OAUTHBEARER: ``{"username": principal, "token": JWT}`` (an
        unsecured JWT for the principal, valid for a day)."""
        plain = {"username": self.plain_user[0], "password": self.plain_user[1]}
        scram = {"username": self.scram_user[0], "password": self.scram_user[1]}
        oauth = {"username": self.oauth_principal, "token": unsecured_jwt(self.oauth_principal, exp_in=86400)}
        return {"PLAIN": plain, "SCRAM-SHA-256": scram, "SCRAM-SHA-512": dict(scram), "OAUTHBEARER": oauth}

    def broker_props(self) -> dict[str, str]:
        """The properties both brokers get for the SSL/SASL listeners (``listeners`` itself is the broker's)."""
        jaas = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'user_{self.plain_user[0]}="{self.plain_user[1]}";'
        )
        scram_jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        options = "".join(f' {k}="{v}"' for k, v in OAUTH_JAAS_OPTIONS.items())
        oauth_jaas = f"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required{options};"
        props = {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        }
        for listener in ("sasl_plaintext", "sasl_ssl"):
            props[f"listener.name.{listener}.plain.sasl.jaas.config"] = jaas
            for mech in ("scram-sha-256", "scram-sha-512"):  # Kafka wants a JAAS entry per enabled mechanism
                props[f"listener.name.{listener}.{mech}.sasl.jaas.config"] = scram_jaas
            # No server callback handler: Kafka's default for OAUTHBEARER is the unsecured validator (4.4 too).
            props[f"listener.name.{listener}.oauthbearer.sasl.jaas.config"] = oauth_jaas
        return props

    def create_scram_users(self, bootstrap: str, timeout: float = 30.0) -> None:
        """Create the SCRAM user for both SCRAM mechanisms over PLAINTEXT (AlterUserScramCredentials, setup);
        return once DescribeUserScramCredentials lists both."""
        from confluent_kafka.admin import (
            AdminClient,
            ScramCredentialInfo,
            ScramMechanism,
            UserScramCredentialUpsertion,
        )

        admin = AdminClient({"bootstrap.servers": bootstrap})
        user, password = self.scram_user
        # One request per mechanism: KRaft's ScramControlManager refuses two changes of one user in one request
        # ("A user credential cannot be altered twice in the same request", DUPLICATE_RESOURCE), and so does Chronik.
        for mech in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
            upsert = UserScramCredentialUpsertion(user, ScramCredentialInfo(mech, SCRAM_ITERATIONS), password.encode())
            for name, fut in admin.alter_user_scram_credentials([upsert], request_timeout=timeout).items():
                try:
                    fut.result(timeout)
                except Exception as exc:
                    raise RuntimeError(f"creating {mech.name} user {name} on {bootstrap}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while True:
            try:
                desc = admin.describe_user_scram_credentials([user], request_timeout=timeout)[user].result(timeout)
                if len(desc.scram_credential_infos) == 2:
                    return
            except Exception:  # not visible yet
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"SCRAM user {user} not described by {bootstrap} after {timeout:.0f} s")
            time.sleep(0.2)

    def write_file(self, path: Path, addresses: dict[str, str]) -> Path:
        """The ``--security`` JSON file for one broker; ``addresses`` maps listener names to ``host:port``."""
        data = {
            "ssl": addresses["SSL"],
            "sasl_plaintext": addresses["SASL_PLAINTEXT"],
            "sasl_ssl": addresses["SASL_SSL"],
            "ca_file": str(self.ca_file),
            "users": self.users(),
            "wrong_password": self.wrong_password,
            "unknown_user": self.unknown_user,
            "expired_token": unsecured_jwt(self.oauth_principal, exp_in=-3600),
            "bad_token": unsecured_jwt(self.oauth_principal, exp_in=86400, signature=b"not-a-signature"),
        }
        path.write_text(json.dumps(data, indent=1))
        return path
