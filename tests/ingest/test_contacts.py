"""The CRM contacts import: CSV rows become directory events published through ingest."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import pytest

from services.ingest import contacts
from tests.e2e.test_pipeline import service_env
from tests.factories import INGEST_KEY, PERSONAL_DATA_KEY
from tests.harness.kafka import create_topics, read_opened, unique_topics
from tests.harness.processes import ServiceProcess

CSV = """Account,Person ID,Email,Role,Side,Name,Aliases
acme,crm-1,ann@acme.example,Procurement,client,Ann,zendesk:user:1;intercom:contact:a
acme,crm-2,bob@acme.example,it,client,,
acme,sup-1,sue@supplier.example,executive_sponsor,supplier,Sue,
"""


def test_rows_map_to_stakeholder_events_with_the_email_as_alias() -> None:
    events = contacts.to_events(contacts.read_rows(io.StringIO(CSV)), occurred_at="2026-05-01T00:00:00Z")
    assert [e["stakeholder_id"] for e in events] == ["crm-1", "crm-2", "sup-1"]
    assert events[0]["aliases"] == ["ann@acme.example", "zendesk:user:1", "intercom:contact:a"]
    assert events[0]["role"] == "procurement"
    assert events[2]["side"] == "supplier"
    assert "name" not in events[1]


def test_bad_rows_are_all_reported_by_line_and_nothing_is_built() -> None:
    bad = "account,person_id,role\nacme,p1,ceo\n,p2,it\nacme,p3,finance\n"
    with pytest.raises(contacts.ContactsImportError) as info:
        contacts.to_events(contacts.read_rows(io.StringIO(bad)), occurred_at="2026-05-01T00:00:00Z")
    message = str(info.value)
    assert "line 2: role" in message
    assert "line 3: account_id" in message
    assert "line 4" not in message


def test_missing_columns_are_named() -> None:
    with pytest.raises(contacts.ContactsImportError, match="missing column"):
        contacts.read_rows(io.StringIO("email,role\na@b.c,it\n"))


async def test_command_line_publishes_through_a_live_ingest_to_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    ingest = ServiceProcess("services.ingest", service_env(kafka_bootstrap, topics), tmp_path / "ingest.log")
    ingest.start()
    try:
        path = tmp_path / "contacts.csv"
        path.write_text(CSV)
        argv = [str(path), "--url", ingest.url, "--key", INGEST_KEY, "--as-of", "2026-05-01T00:00:00Z"]
        assert await asyncio.to_thread(contacts.main, argv) == 0
    finally:
        ingest.stop()
    kek = base64.b64decode(PERSONAL_DATA_KEY)
    records = await read_opened(kafka_bootstrap, topics, expect=3, kek=kek)
    assert sorted(r["value"]["stakeholder_id"] for r in records) == ["crm-1", "crm-2", "sup-1"]
    assert all(r["value"]["type"] == "stakeholder" for r in records)


def test_command_line_refuses_without_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INGEST_API_KEY", raising=False)
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    with pytest.raises(SystemExit):
        contacts.main([str(path)])
