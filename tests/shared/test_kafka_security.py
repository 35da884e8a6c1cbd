"""The Kafka security settings: combinations refused at start with a clear sentence, and the options
every client is built with (shared/kafka_security.py). No broker here; tests/e2e/test_kafka_sasl_ssl.py
connects for real."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from shared.kafka_security import client_options
from shared.settings import ServiceSettings
from tests.harness.tls import TlsFiles, make_tls_files

PASSWORD = "kafka-pw-never-printed-7c1e"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(_env_file=None, kafka_bootstrap_servers="kafka:9093", **values)


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return str(caught.value)


def sasl_ssl(tls: TlsFiles, **values: Any) -> dict[str, Any]:
    return {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "ingest",
        "kafka_sasl_password": PASSWORD,
        "kafka_ssl_cafile": tls.ca_file,
        **values,
    }


def test_plaintext_by_default_with_nothing_else() -> None:
    assert client_options(settings()) == {"bootstrap_servers": "kafka:9093", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_verifies_the_broker_and_sends_the_credentials(tls: TlsFiles) -> None:
    options = client_options(settings(**sasl_ssl(tls, kafka_sasl_mechanism="PLAIN")))
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "kafka:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "ingest",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "feedback test CA"),),)]


def test_scram_sha_512_is_the_default_mechanism_and_names_are_case_insensitive(tls: TlsFiles) -> None:
    options = client_options(settings(**sasl_ssl(tls, kafka_security_protocol="sasl_ssl")))
    assert (options["security_protocol"], options["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert client_options(settings(**sasl_ssl(tls, kafka_sasl_mechanism="scram-sha-256")))["sasl_mechanism"] == (
        "SCRAM-SHA-256"
    )


def test_ssl_without_a_ca_file_trusts_the_system_store() -> None:
    context = client_options(settings(kafka_security_protocol="SSL"))["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_mutual_tls_loads_the_client_certificate(tls: TlsFiles) -> None:
    values = {"kafka_ssl_certfile": tls.client_cert, "kafka_ssl_keyfile": tls.client_key}
    assert isinstance(client_options(settings(**sasl_ssl(tls, **values)))["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"kafka_security_protocol": "TLS"}, "'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512'"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "ingest"},
            "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_password": PASSWORD},
            "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "ingest", "kafka_sasl_password": ""},
            "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_sasl_username": "ingest", "kafka_sasl_password": PASSWORD},
            "are set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not authenticate with SASL",
        ),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                "kafka_sasl_username": "ingest",
                "kafka_sasl_password": PASSWORD,
            },
            "KAFKA_SASL_MECHANISM=PLAIN over SASL_PLAINTEXT sends the password in clear text",
        ),
        ({"kafka_ssl_cafile": "/etc/hostname"}, "KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/nowhere/ca.pem"},
            "KAFKA_SSL_CAFILE=/nowhere/ca.pem: no such file",
        ),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/"},
            "KAFKA_SSL_CAFILE=/: not a regular file",
        ),
    ],
)
def test_bad_combinations_are_refused_with_a_sentence_naming_the_variables(
    values: dict[str, Any], expected: str
) -> None:
    message = refusal(**values)
    assert expected in message
    assert PASSWORD not in message


def test_a_ca_file_that_is_no_certificate_is_refused_at_start(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    message = refusal(kafka_security_protocol="SSL", kafka_ssl_cafile=junk)
    assert f"KAFKA_SSL_CAFILE={junk} holds no usable PEM certificate" in message


def test_a_key_without_its_certificate_or_a_key_that_does_not_match_is_refused(tls: TlsFiles) -> None:
    assert "KAFKA_SSL_KEYFILE is set without KAFKA_SSL_CERTFILE" in refusal(
        **sasl_ssl(tls, kafka_ssl_keyfile=tls.client_key)
    )
    # The broker's keystore starts with the broker's key, which is not the client certificate's.
    mismatch = refusal(**sasl_ssl(tls, kafka_ssl_certfile=tls.client_cert, kafka_ssl_keyfile=tls.broker_keystore))
    assert f"the client certificate KAFKA_SSL_CERTFILE={tls.client_cert} cannot be loaded" in mismatch


def test_an_encrypted_key_needs_its_password_and_never_prompts(tls: TlsFiles, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(tls.client_key.read_bytes(), password=None)
    encrypted = tmp_path / "client-encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    values = {"kafka_ssl_certfile": tls.client_cert, "kafka_ssl_keyfile": encrypted}
    # Without a password OpenSSL would ask on the terminal and hang the service; it must fail instead.
    assert "wrong or missing KAFKA_SSL_KEY_PASSWORD" in refusal(**sasl_ssl(tls, **values))
    wrong = refusal(**sasl_ssl(tls, **values, kafka_ssl_key_password="not-it"))
    assert "wrong or missing KAFKA_SSL_KEY_PASSWORD" in wrong
    assert PASSWORD not in wrong
    assert client_options(settings(**sasl_ssl(tls, **values, kafka_ssl_key_password=PASSWORD)))["ssl_context"]


def test_plain_in_clear_text_is_allowed_outside_production_and_scram_everywhere() -> None:
    credentials = {"kafka_sasl_username": "ingest", "kafka_sasl_password": PASSWORD}
    plain = {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN", **credentials}
    assert client_options(settings(**plain, environment="development"))["sasl_mechanism"] == "PLAIN"
    scram = {"kafka_security_protocol": "SASL_PLAINTEXT", **credentials}
    assert client_options(settings(**scram))["sasl_mechanism"] == "SCRAM-SHA-512"


def test_no_refusal_echoes_the_password_or_the_other_values(tls: TlsFiles) -> None:
    # pydantic prints the input with a model-level error, abridged in the middle: a short password given
    # last is what it would show. The settings hide the input.
    short = "Zq7kpw"
    message = refusal(kafka_security_protocol="SASL_SSL", kafka_sasl_username="", kafka_sasl_password=short)
    assert "needs KAFKA_SASL_USERNAME" in message
    assert short not in message
    assert PASSWORD not in repr(settings(**sasl_ssl(tls)))
