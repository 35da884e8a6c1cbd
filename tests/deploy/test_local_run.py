"""``make run`` starts its own broker, uses a named one, and never adopts a stranger's."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from deploy.kafka.broker import free_port
from deploy.local.run import choose_broker, fill_defaults
from services.analyzer.settings import AnalyzerSettings
from services.ingest.settings import IngestSettings


@pytest.fixture
def listening() -> Iterator[str]:
    """``host:port`` of a socket that accepts connections, standing in for a process make run did not start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_starts_the_embedded_broker_on_a_free_port() -> None:
    embedded = f"127.0.0.1:{free_port()}"
    assert choose_broker("", embedded) == (embedded, True)


def test_refuses_to_adopt_what_it_did_not_start(listening: str) -> None:
    with pytest.raises(RuntimeError, match=f"KAFKA_BOOTSTRAP_SERVERS={listening} to use it"):
        choose_broker("", listening)


def test_uses_the_broker_it_is_told_to_use(listening: str) -> None:
    assert choose_broker(listening, "127.0.0.1:9092") == (listening, False)
    assert choose_broker("kafka-1:9092,kafka-2:9092", listening) == ("kafka-1:9092,kafka-2:9092", False)


def test_development_defaults_listen_on_this_machine_only() -> None:
    # Issue 23, item 5: make run fills in published keys and allows private webhook targets.
    env: dict[str, str] = {}
    fill_defaults(env, {})
    assert env["INGEST_HOST"] == env["ANALYZER_HOST"] == "127.0.0.1"
    assert IngestSettings.model_fields["ingest_host"].default == "127.0.0.1"
    assert AnalyzerSettings.model_fields["analyzer_host"].default == "127.0.0.1"
