"""Test certificates made at test time with ``cryptography``: a CA, a server and client certificates."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certs:
    """PEM files: ``ca`` (certificate), ``server_keystore``/``client_keystore`` (key + chain), and
    the client's separate ``client_cert``/``client_key`` (what librdkafka wants)."""

    dir: Path
    ca: Path
    server_keystore: Path
    client_cert: Path
    client_key: Path
    client_keystore: Path
    other_ca: Path


def _name(**attrs: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


def _cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    san: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_certs(directory: Path, server_key_password: bytes | None = None) -> Certs:
    """A CA; a server certificate for 127.0.0.1/localhost; a client certificate (CN=client,OU=eng,O=Chronik)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(O="Chronik", CN="Chronik Test CA")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert(
        _name(O="Chronik", CN="localhost"),
        server_key,
        ca_name,
        ca_key,
        san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert(_name(C="US", O="Chronik", OU="eng", CN="client"), client_key, ca_name, ca_key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_name = _name(CN="Other CA")
    other = _cert(other_name, other_key, other_name, other_key, ca=True)
    paths = Certs(
        directory,
        directory / "ca.pem",
        directory / "server.keystore.pem",
        directory / "client.pem",
        directory / "client.key",
        directory / "client.keystore.pem",
        directory / "other-ca.pem",
    )
    paths.ca.write_bytes(_pem(ca))
    paths.server_keystore.write_bytes(_pem_key(server_key, server_key_password) + _pem(server) + _pem(ca))
    paths.client_cert.write_bytes(_pem(client))
    paths.client_key.write_bytes(_pem_key(client_key))
    paths.client_keystore.write_bytes(_pem_key(client_key) + _pem(client))
    paths.other_ca.write_bytes(_pem(other))
    return paths
