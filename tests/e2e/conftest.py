"""Fixtures of the end-to-end tests: a live ingest process on the test's own topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.harness.processes import ServiceProcess


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    """Ingest as a live process (test_vendors overrides it to add vendor secrets)."""
    process = ServiceProcess("services.ingest", service_env(kafka_bootstrap, topics), tmp_path / "ingest.log")
    process.start()
    yield process
    process.stop()
