"""Kafka over TLS with SASL, against a real broker whose client listeners are SASL_SSL and mutual-TLS SSL.

One broker for the module (tests/harness/tls.py makes its CA and certificates; deploy/kafka/broker.py
its listeners; SCRAM users are created when its storage is formatted). The services work over it end to
end, a wrong password is refused with a sentence that says so and no secret in any log, and a client
that does not speak TLS, does not trust the broker's CA, or lacks a client certificate where one is
required does not get in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.kafka.broker import KafkaBroker, SecureListeners, free_port, start_broker
from services.analyzer.rebuild import RebuildError, rebuild
from services.analyzer.settings import AnalyzerSettings
from shared.kafka import DurablePublisher, PublishFailed, Record, connection_problem
from shared.settings import ServiceSettings, Topics
from tests.e2e.test_pipeline import applied, service_env
from tests.factories import INGEST_KEY, auth, create_survey
from tests.harness.databases import create_database
from tests.harness.kafka import create_topics, read_all, unique_topics
from tests.harness.processes import ServiceProcess
from tests.harness.tls import TlsFiles, make_tls_files
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e

# Distinctive, so that finding one in a log cannot be a coincidence.
SCRAM_USER, SCRAM_PASSWORD = "analyzer-svc", "scram-pw-5b8e1d0c"
PLAIN_USER, PLAIN_PASSWORD = "ingest-svc", "plain-pw-93af27e4"
WRONG_PASSWORD = "wrong-pw-d41c6a77"
SECRETS = (SCRAM_PASSWORD, PLAIN_PASSWORD, WRONG_PASSWORD)


class SecureBroker:
    """The module's broker and the files a client needs to reach it."""

    def __init__(self, broker: KafkaBroker, tls: TlsFiles) -> None:
        self.broker, self.tls = broker, tls
        assert broker.security is not None
        assert broker.security.mtls_port is not None
        self.mtls_bootstrap = f"127.0.0.1:{broker.security.mtls_port}"

    def env(self, mechanism: str, user: str, password: str) -> dict[str, str]:
        """The variables of a service that connects over SASL_SSL."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": mechanism,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": password,
            "KAFKA_SSL_CAFILE": str(self.tls.ca_file),
        }

    def settings(self, mechanism: str = "SCRAM-SHA-512", password: str | None = None, **values: Any) -> ServiceSettings:
        """Settings of an in-process client over SASL_SSL (PLAIN as the PLAIN user, else the SCRAM user)."""
        user, right = (PLAIN_USER, PLAIN_PASSWORD) if mechanism == "PLAIN" else (SCRAM_USER, SCRAM_PASSWORD)
        password = right if password is None else password
        values = {
            "environment": "test",
            "kafka_bootstrap_servers": self.broker.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": user,
            "kafka_sasl_password": password,
            "kafka_ssl_cafile": self.tls.ca_file,
            "kafka_request_timeout_s": 5,
            **values,
        }
        return ServiceSettings(_env_file=None, **values)


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    tls = make_tls_files(tmp_path_factory.mktemp("tls"))
    listeners = SecureListeners(
        ca_file=tls.ca_file,
        keystore_file=tls.broker_keystore,
        plain_users={PLAIN_USER: PLAIN_PASSWORD},
        scram_users={SCRAM_USER: SCRAM_PASSWORD},
        mtls_port=free_port(),
    )
    broker = start_broker(data_dir=tmp_path_factory.mktemp("kafka-sasl-ssl"), security=listeners)
    try:
        yield SecureBroker(broker, tls)
    finally:
        broker.stop()


@pytest.fixture
async def secure_topics(secure: SecureBroker) -> Topics:
    topics = unique_topics()
    await create_topics(secure.settings(), topics, partitions=2)
    return topics


async def fresh_sqlite(folder: Path) -> str:
    """A migrated SQLite database in ``folder`` (migrating runs its own event loop, hence the thread)."""
    folder.mkdir(parents=True, exist_ok=True)
    return await asyncio.to_thread(create_database, "sqlite", tmp_path=folder, pg_admin_url=None)


async def test_ingest_and_analyzer_work_over_sasl_ssl_and_the_rebuild_reads_it_back(
    secure: SecureBroker, secure_topics: Topics, tmp_path: Path
) -> None:
    # Ingest authenticates with PLAIN, the analyzer with SCRAM-SHA-512; both at DEBUG, to see what leaks.
    common = {**service_env("unused", secure_topics), "LOG_LEVEL": "DEBUG", "KAFKA_CREATE_TOPICS": "false"}
    ingest = ServiceProcess(
        "services.ingest",
        {**common, **secure.env("PLAIN", PLAIN_USER, PLAIN_PASSWORD)},
        tmp_path / "ingest.log",
    )
    database = await fresh_sqlite(tmp_path / "live")
    analyzer = ServiceProcess(
        "services.analyzer",
        {**common, **secure.env("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD), "DATABASE_URL": database},
        tmp_path / "analyzer.log",
    )
    ingest.start()  # ready only once Kafka answered: the connection over SASL_SSL works
    analyzer.start()
    try:
        async with httpx.AsyncClient(base_url=ingest.url, headers=auth(INGEST_KEY), timeout=30) as client:
            response = await client.post("/v1/events", json=create_survey(event_id="tls-1", score=9))
        assert response.status_code == 202, response.text
        await wait_for_value(lambda: applied(analyzer), lambda n: n == 1, what="the event applied by the analyzer")
    finally:
        ingest.stop()
        analyzer.stop()
    records = await read_all(secure.settings(), secure_topics.events, expect=1)
    assert [r["value"]["event_id"] for r in records] == ["tls-1"]
    # The rebuild's own consumer connects the same way.
    fresh = await fresh_sqlite(tmp_path / "rebuild")
    rebuild_settings = AnalyzerSettings(
        _env_file=None,
        **secure.settings().model_dump(exclude={"topics"}),
        topics=secure_topics,
        database_url=fresh,
    )
    report = await rebuild(rebuild_settings)
    assert report.records == 1
    for process in (ingest, analyzer):
        log = process.log_path.read_text(errors="replace")
        assert not [s for s in SECRETS if s in log], f"a Kafka password is in {process.module}'s log"


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_each_mechanism_publishes_and_reads_back(
    secure: SecureBroker, secure_topics: Topics, mechanism: str
) -> None:
    settings = secure.settings(mechanism)
    publisher = DurablePublisher(settings, client_id="test")
    try:
        await publisher.publish([Record(secure_topics.dlq, "k", b'{"n": 1}')], timeout_s=20)
    finally:
        await publisher.close()
    assert [r["value"] for r in await read_all(settings, secure_topics.dlq, expect=1)] == [{"n": 1}]


async def test_a_wrong_password_is_refused_with_a_clear_error_and_no_secret_in_the_logs(
    secure: SecureBroker, secure_topics: Topics, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = secure.settings(password=WRONG_PASSWORD)
    publisher = DurablePublisher(wrong, client_id="test")
    with pytest.raises(PublishFailed) as refused:
        await publisher.publish([Record(secure_topics.dlq, "k", b"{}")], timeout_s=10)
    assert not await publisher.probe(timeout_s=5)
    await publisher.close()
    expected = f"the broker at {secure.broker.bootstrap} (SASL_SSL, SCRAM-SHA-512 as '{SCRAM_USER}') refused"
    assert expected in str(refused.value)
    assert "SaslAuthenticationFailed" in str(refused.value)
    # The rebuild says the same, rather than aiokafka's "Unable to bootstrap".
    database = await fresh_sqlite(tmp_path)
    rebuild_settings = AnalyzerSettings(
        _env_file=None, **wrong.model_dump(exclude={"topics"}), topics=secure_topics, database_url=database
    )
    with pytest.raises(RebuildError, match="refused the credentials"):
        await rebuild(rebuild_settings)
    assert WRONG_PASSWORD not in caplog.text
    assert WRONG_PASSWORD not in str(refused.value)


async def test_a_client_without_tls_or_trust_does_not_get_in(secure: SecureBroker) -> None:
    credentials: dict[str, Any] = {"kafka_sasl_username": SCRAM_USER, "kafka_sasl_password": SCRAM_PASSWORD}
    plaintext = ServiceSettings(_env_file=None, kafka_bootstrap_servers=secure.broker.bootstrap)
    sasl_plaintext = ServiceSettings(
        _env_file=None,
        kafka_bootstrap_servers=secure.broker.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        **credentials,
    )
    for settings in (plaintext, sasl_plaintext):
        problem = await connection_problem(settings, timeout_s=5)
        assert problem is not None
        assert f"the broker at {secure.broker.bootstrap} ({settings.kafka_security_protocol}" in problem
        publisher = DurablePublisher(settings, client_id="test")
        assert not await publisher.probe(timeout_s=5), f"{settings.kafka_security_protocol} got in"
        await publisher.close()
    # TLS, but trusting another CA: the broker's certificate is refused before any password is sent.
    stranger = secure.settings(kafka_ssl_cafile=secure.tls.stranger_ca_file)
    problem = await connection_problem(stranger, timeout_s=5)
    assert problem is not None
    assert "is not trusted (KAFKA_SSL_CAFILE" in problem
    assert "unable to get local issuer certificate" in problem
    # And the right settings do get in, so the refusals above are the broker's doing.
    assert await connection_problem(secure.settings(), timeout_s=5) is None


async def test_mutual_tls_needs_the_client_certificate(secure: SecureBroker, secure_topics: Topics) -> None:
    tls = secure.tls
    base: dict[str, Any] = {"kafka_bootstrap_servers": secure.mtls_bootstrap, "kafka_security_protocol": "SSL"}
    with_cert = ServiceSettings(
        _env_file=None,
        **base,
        kafka_ssl_cafile=tls.ca_file,
        kafka_ssl_certfile=tls.client_cert,
        kafka_ssl_keyfile=tls.client_key,
    )
    publisher = DurablePublisher(with_cert, client_id="test")
    try:
        await publisher.publish([Record(secure_topics.alerts, "k", b'{"m": 1}')], timeout_s=20)
    finally:
        await publisher.close()
    assert [r["value"] for r in await read_all(with_cert, secure_topics.alerts, expect=1)] == [{"m": 1}]
    without_cert = ServiceSettings(_env_file=None, **base, kafka_ssl_cafile=tls.ca_file)
    assert await connection_problem(without_cert, timeout_s=5) is not None
    publisher = DurablePublisher(without_cert, client_id="test")
    assert not await publisher.probe(timeout_s=5)
    await publisher.close()
