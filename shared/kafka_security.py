"""How every Kafka client of the product connects: security protocol, TLS trust and SASL credentials.

``client_options(settings)`` is the one place that turns the ``KAFKA_*`` settings into the keyword
arguments of an aiokafka producer, consumer or admin client; every client the product builds is
created as ``AIOKafka...(**client_options(settings), ...)`` (docs/security.md, "Kafka: TLS and SASL").
``security_errors`` checks a combination of settings before anything connects, so a mistake stops the
service at start with a sentence naming the variable instead of a connection that fails later.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import SecretStr

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECURITY_PROTOCOLS: tuple[str, ...] = get_args(SecurityProtocol)
SASL_MECHANISMS: tuple[str, ...] = get_args(SaslMechanism)


class KafkaSecurityError(ValueError):
    """The TLS material named by the settings cannot be loaded."""


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """The security part of the Kafka settings (``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*``, ``KAFKA_SSL_*``)."""

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    key_password: SecretStr | None = None

    @property
    def uses_tls(self) -> bool:
        """The connection is encrypted and the broker's certificate verified."""
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        """The client authenticates with a user name and password."""
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def files(self) -> dict[str, Path]:
        """The TLS files that are set, by the variable that names them."""
        named = {
            "KAFKA_SSL_CAFILE": self.cafile,
            "KAFKA_SSL_CERTFILE": self.certfile,
            "KAFKA_SSL_KEYFILE": self.keyfile,
        }
        return {variable: path for variable, path in named.items() if path is not None}


def security_errors(security: KafkaSecurity, environment: str) -> list[str]:
    """Every problem with this combination of settings, each a sentence naming the variables; empty if none."""
    protocol = f"KAFKA_SECURITY_PROTOCOL={security.protocol}"
    problems: list[str] = []
    has_password = security.sasl_password is not None and security.sasl_password.get_secret_value() != ""
    if security.uses_sasl and not (security.sasl_username and has_password):
        problems.append(f"{protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    if not security.uses_sasl and (security.sasl_username or has_password):
        problems.append(
            f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but {protocol} does not authenticate with SASL; "
            "use SASL_SSL (or SASL_PLAINTEXT), or remove them",
        )
    if security.protocol == "SASL_PLAINTEXT" and security.sasl_mechanism == "PLAIN" and environment == "production":
        problems.append(
            "KAFKA_SASL_MECHANISM=PLAIN over SASL_PLAINTEXT sends the password in clear text; "
            "use KAFKA_SECURITY_PROTOCOL=SASL_SSL (refused when ENVIRONMENT=production)",
        )
    files = security.files()
    if not security.uses_tls:
        problems += [f"{variable} is set but {protocol} does not use TLS; use SSL or SASL_SSL" for variable in files]
        if security.key_password is not None:
            problems.append(f"KAFKA_SSL_KEY_PASSWORD is set but {protocol} does not use TLS")
        return problems
    if security.keyfile is not None and security.certfile is None:
        problems.append("KAFKA_SSL_KEYFILE is set without KAFKA_SSL_CERTFILE (the client certificate it belongs to)")
    if security.key_password is not None and security.certfile is None:
        problems.append("KAFKA_SSL_KEY_PASSWORD is set without KAFKA_SSL_CERTFILE")
    unreadable = [f"{variable}={path}: {reason}" for variable, path in files.items() if (reason := _unreadable(path))]
    problems += unreadable
    if not problems:
        try:
            ssl_context(security)
        except KafkaSecurityError as exc:
            problems.append(str(exc))
    return problems


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot serve as a TLS file, or None if it is a readable file."""
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext:
    """A client TLS context: the broker's certificate verified against the CA file (else the system's
    trusted CAs), its host name checked, TLS 1.2 or newer, and the client certificate if one is set."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=security.cafile)
    except (ssl.SSLError, OSError) as exc:
        raise KafkaSecurityError(f"KAFKA_SSL_CAFILE={security.cafile} holds no usable PEM certificate: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if security.certfile is not None:
        key_password = security.key_password.get_secret_value() if security.key_password else ""
        try:
            # A password is always given: without one OpenSSL would prompt on the terminal for an
            # encrypted key and hang the service; an empty one makes it fail instead.
            context.load_cert_chain(security.certfile, security.keyfile, password=lambda: key_password)
        except (ssl.SSLError, OSError) as exc:
            raise KafkaSecurityError(
                f"the client certificate KAFKA_SSL_CERTFILE={security.certfile} cannot be loaded with "
                f"KAFKA_SSL_KEYFILE={security.keyfile} (not a PEM certificate and matching key, or a wrong or "
                f"missing KAFKA_SSL_KEY_PASSWORD): {exc.__class__.__name__}",
            ) from exc
    return context


def security_options(security: KafkaSecurity) -> dict[str, Any]:
    """The aiokafka keyword arguments for the security settings (the password in clear: never log them)."""
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.uses_tls:
        options["ssl_context"] = ssl_context(security)
    if security.uses_sasl:
        assert security.sasl_password is not None  # security_errors refused settings without one
        options["sasl_mechanism"] = security.sasl_mechanism
        # aiokafka takes the SCRAM credentials under the same names as PLAIN's.
        options["sasl_plain_username"] = security.sasl_username
        options["sasl_plain_password"] = security.sasl_password.get_secret_value()
    return options


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """Where and how to connect: the keyword arguments every aiokafka client of the product is built with.

    Use as ``AIOKafkaConsumer(**client_options(settings), group_id=...)``. The result holds the SASL
    password in clear text, so it must never be logged.
    """
    return {"bootstrap_servers": settings.kafka_bootstrap_servers, **security_options(settings.kafka_security)}


def describe(security: KafkaSecurity) -> str:
    """The connection's security in words for logs and errors, without the password."""
    if not security.uses_sasl:
        return security.protocol
    return f"{security.protocol}, {security.sasl_mechanism} as {security.sasl_username!r}"
