"""Test certificates made at test time with ``cryptography``: a CA, a server and client certificates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from chronik_conformance.security import localhost_san, make_cert, pem, pem_key, x509_name


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


def make_certs(directory: Path, server_key_password: bytes | None = None) -> Certs:
    """A CA; a server certificate for 127.0.0.1/localhost; a client certificate (CN=client,OU=eng,O=Chronik)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509_name(O="Chronik", CN="Chronik Test CA")
    ca = make_cert(ca_name, ca_key, ca_name, ca_key, ca=True, days=2)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = make_cert(x509_name(O="Chronik", CN="localhost"), server_key, ca_name, ca_key, san=localhost_san(), days=2)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = make_cert(x509_name(C="US", O="Chronik", OU="eng", CN="client"), client_key, ca_name, ca_key, days=2)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_name = x509_name(CN="Other CA")
    other = make_cert(other_name, other_key, other_name, other_key, ca=True, days=2)
    paths = Certs(
        directory,
        directory / "ca.pem",
        directory / "server.keystore.pem",
        directory / "client.pem",
        directory / "client.key",
        directory / "client.keystore.pem",
        directory / "other-ca.pem",
    )
    paths.ca.write_bytes(pem(ca))
    paths.server_keystore.write_bytes(pem_key(server_key, server_key_password) + pem(server) + pem(ca))
    paths.client_cert.write_bytes(pem(client))
    paths.client_key.write_bytes(pem_key(client_key))
    paths.client_keystore.write_bytes(pem_key(client_key) + pem(client))
    paths.other_ca.write_bytes(pem(other))
    return paths
