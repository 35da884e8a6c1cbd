"""Certificates made in the test: a CA, a broker certificate for 127.0.0.1/localhost, a client certificate.

Everything is PEM with elliptic-curve keys (quick to generate); the broker's key is unencrypted
PKCS#8 followed by its certificate, the form Kafka's ``ssl.keystore.type=PEM`` reads.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one test's certificate authority and the certificates it signed."""

    ca_file: Path
    broker_keystore: Path  # the broker's key and certificate, for ssl.keystore.location
    client_cert: Path
    client_key: Path
    stranger_ca_file: Path  # a CA that signed nothing here: trusting it must not reach the broker


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    common_name: str,
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca_key, ca_cert = ca
    key = _key()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        # The broker is reached as 127.0.0.1 (and connects to itself so, between brokers).
        names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_tls_files(folder: Path) -> TlsFiles:
    """Write a CA, a broker keystore, a client certificate and key, and an unrelated CA into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca("feedback test CA")
    broker_key, broker_cert = _leaf("kafka-broker", ca, server=True)
    client_key, client_cert = _leaf("feedback-client", ca, server=False)
    _, stranger = _ca("a stranger's CA")
    pem = serialization.Encoding.PEM
    files = TlsFiles(
        ca_file=folder / "ca.pem",
        broker_keystore=folder / "broker.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        stranger_ca_file=folder / "stranger-ca.pem",
    )
    files.ca_file.write_bytes(ca[1].public_bytes(pem))
    files.broker_keystore.write_bytes(_pem_key(broker_key) + broker_cert.public_bytes(pem))
    files.client_cert.write_bytes(client_cert.public_bytes(pem))
    files.client_key.write_bytes(_pem_key(client_key))
    files.client_key.chmod(0o600)
    files.stranger_ca_file.write_bytes(stranger.public_bytes(pem))
    return files
