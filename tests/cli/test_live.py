"""``feedback`` as a real subprocess against live ingest and analyzer processes, on both databases.

One stack per database back end serves the whole module (starting it is most of the cost); each test
works on its own accounts. The contacts import goes through ingest and Kafka to the analyzer, and the
alert the test acknowledges and resolves is opened by the analyzer from answers posted to ingest.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from tests.cli.helpers import Run, feedback
from tests.dashboard.test_http import sign_in
from tests.e2e.test_pipeline import analyzer_process, service_env
from tests.factories import (
    ANALYZER_KEY,
    INGEST_KEY,
    PERSONAL_DATA_KEY,
    auth,
    create_account,
    create_moment,
    create_stakeholder,
    create_survey,
)
from tests.harness.databases import create_database, database_text
from tests.harness.kafka import count_records, create_topics, read_all, read_opened, unique_topics
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    """Live ingest and analyzer, and the environment that points the CLI at them."""

    ingest: ServiceProcess
    analyzer: ServiceProcess
    env: dict[str, str]
    workdir: Path
    database: str
    bootstrap: str
    topics: Topics

    def run(self, *args: str, **overrides: str) -> Run:
        """``feedback ARGS`` against this stack."""
        return feedback(*args, env={**self.env, **overrides}, cwd=self.workdir)

    async def eventually(self, *args: str, until: Any, what: str) -> Any:
        """Run ``feedback --json ARGS`` until ``until(parsed stdout)``; the last parsed value."""

        async def probe() -> Any:
            run = await asyncio.to_thread(self.run, "--json", *args)
            return run.json() if run.code == 0 else None

        return await wait_for_value(probe, lambda v: v is not None and until(v), what=what, interval_s=0.3)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Both services on their own topics, the analyzer on a fresh database of the back end."""
    tmp = tmp_path_factory.mktemp(f"cli-{request.param}")
    admin = request.getfixturevalue("pg_admin_url") if request.param == "postgres" else None
    database = create_database(request.param, tmp_path=tmp, pg_admin_url=admin)
    topics = unique_topics()
    asyncio.run(create_topics(kafka_bootstrap, topics))
    ingest = ServiceProcess("services.ingest", service_env(kafka_bootstrap, topics), tmp / "ingest.log")
    # No wall-clock sweep: the alerts follow the events' own times only.
    analyzer = analyzer_process(kafka_bootstrap, topics, database, tmp, "cli", ANALYZER_SWEEP_INTERVAL_S="0")
    ingest.start()
    try:
        analyzer.start()
        try:
            env = {
                "INGEST_URL": ingest.url,
                "ANALYZER_URL": analyzer.url,
                "INGEST_API_KEY": INGEST_KEY,
                "ANALYZER_API_KEY": ANALYZER_KEY,
            }
            yield Stack(ingest, analyzer, env, tmp, database, kafka_bootstrap, topics)
        finally:
            analyzer.stop()
    finally:
        ingest.stop()


def account_id() -> str:
    return f"acct-{uuid.uuid4().hex[:8]}"


def contacts_csv(path: Path, account: str, rows: int) -> Path:
    """A CRM export: ``rows`` people, the first a procurement lead and the second in IT."""
    lines = ["Account,Person ID,Email,Role,Side,Name"]
    roles = ["procurement", "it", "finance", "end_user"]
    for n in range(rows):
        lines.append(f"{account},{account}-p{n},p{n}@{account}.example,{roles[n % 4]},client,Person {n}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def post_events(stack: Stack, events: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=stack.ingest.url, headers=auth(INGEST_KEY), timeout=30) as client:
        response = await client.post("/v1/events/batch", json={"events": events})
    assert response.status_code == 202, response.text


async def test_contacts_import_reaches_the_directory_with_progress_on_stderr(stack: Stack) -> None:
    account = account_id()
    path = contacts_csv(stack.workdir / f"{account}.csv", account, 7)
    run = stack.run("contacts", "import", str(path), "--batch-size", "3", "--as-of", "2026-05-01T09:00:00Z")
    assert run.code == 0, run
    assert run.out.strip() == f"published 7 directory events from {path}"
    assert run.err.splitlines() == ["published 3/7 events", "published 6/7 events", "published 7/7 events"]

    view = await stack.eventually(
        "accounts", "show", account, until=lambda v: len(v["stakeholders"]) == 7, what="seven people in the directory"
    )
    people = {p["stakeholder_id"]: p for p in view["stakeholders"]}
    assert people[f"{account}-p0"]["role"] == "procurement"
    assert people[f"{account}-p0"]["aliases"] == [f"p0@{account}.example"]
    assert people[f"{account}-p1"]["name"] == "Person 1"

    # Importing the same export again publishes the same events: nothing is doubled.
    again = stack.run("--json", "-q", "contacts", "import", str(path), "--as-of", "2026-05-01T09:00:00Z")
    assert again.code == 0, again
    assert again.json() == {"file": str(path), "rows": 7, "published": 7, "dry_run": False}
    assert again.err == ""
    table = stack.run("accounts", "show", account)
    assert table.code == 0, table
    assert table.out.count(f"{account}-p") == 7

    # The list's coverage: four decision makers (procurement and finance), none heard yet.
    listed = stack.run("accounts", "list", "--order", "account_id", "--limit", "1000")
    assert listed.code == 0, listed
    header, *lines = listed.out.splitlines()
    assert header.split()[-2:] == ["DECIDERS", "HEARD"]
    [line] = [line for line in lines if line.startswith(account + " ")]
    assert line.split()[-1] == "0/4"


async def test_an_alert_is_listed_acknowledged_and_resolved(stack: Stack) -> None:
    account = account_id()
    path = contacts_csv(stack.workdir / f"{account}.csv", account, 2)
    assert stack.run("-q", "contacts", "import", str(path), "--as-of", "2026-05-01T09:00:00Z").code == 0
    at = "2026-05-01T10:00:00Z"
    await post_events(
        stack,
        [
            create_account(account_id=account, segment="enterprise", renewal_date="2027-02-01", name="Split Corp"),
            create_survey(account_id=account, stakeholder_id=f"{account}-p0", score=10, occurred_at=at),
            create_survey(
                account_id=account,
                stakeholder_id=f"{account}-p1",
                score=2,
                occurred_at=at,
                comment="The integration is clunky \x1b[2J and support never calls back",
            ),
        ],
    )
    alerts = await stack.eventually(
        "alerts",
        "list",
        "--account",
        account,
        "--type",
        "stakeholder_divergence",
        until=lambda v: len(v) == 1,
        what="the divergence alert",
    )
    alert_id = alerts[0]["alert_id"]
    assert alerts[0]["status"] == "open"

    table = stack.run("alerts", "list", "--account", account, "--status", "open")
    assert table.code == 0, table
    assert table.out.splitlines()[0].split()[:4] == ["ALERT", "TYPE", "SEVERITY", "STATUS"]
    assert alert_id in table.out

    shown = stack.run("accounts", "show", account)
    assert shown.code == 0, shown
    assert "Split Corp" in shown.out
    assert "procurement vs it" in shown.out

    said = stack.run("accounts", "verbatims", account)
    assert said.code == 0, said
    assert "it (client): 1 comment, negative" in said.out
    assert "themes: effort 1 (negative), support 1 (negative), communication 1 (negative)" in said.out
    assert "clunky \\x1b[2J and support" in said.out  # the terminal escape is shown, not sent
    assert "\x1b" not in said.out

    acked = stack.run("alerts", "ack", alert_id, "--by", "csm@supplier.example", "--note", "calling IT")
    assert acked.code == 0, acked
    assert f"{alert_id} is now acknowledged (by csm@supplier.example)" in acked.out
    resolved = stack.run("--json", "alerts", "resolve", alert_id, "--by", "csm@supplier.example")
    assert resolved.code == 0, resolved
    assert resolved.json()["status"] == "resolved"

    listed = stack.run("--json", "alerts", "list", "--account", account, "--status", "resolved")
    assert [a["alert_id"] for a in listed.json()] == [alert_id]

    again = stack.run("alerts", "resolve", alert_id, "--by", "csm@supplier.example")
    assert again.code == 1, again
    assert "analyzer answered 409 conflict" in again.err
    assert "already resolved" in again.err


async def test_an_action_plan_is_made_noted_and_done_from_the_command_line(stack: Stack) -> None:
    account = account_id()
    path = contacts_csv(stack.workdir / f"{account}.csv", account, 2)
    assert stack.run("-q", "contacts", "import", str(path), "--as-of", "2026-05-01T09:00:00Z").code == 0
    at = "2026-05-01T10:00:00Z"
    await post_events(
        stack,
        [
            create_account(account_id=account, segment="enterprise", name="Plan Corp"),
            create_survey(account_id=account, stakeholder_id=f"{account}-p0", score=10, occurred_at=at),
            create_survey(account_id=account, stakeholder_id=f"{account}-p1", score=1, occurred_at=at),
        ],
    )
    alerts = await stack.eventually(
        "alerts",
        "list",
        "--account",
        account,
        "--type",
        "stakeholder_divergence",
        until=lambda v: len(v) == 1,
        what="the divergence alert",
    )
    alert_id = alerts[0]["alert_id"]
    made = stack.run(
        "--json", "plans", "create", alert_id, "--owner", "Sam", "--step", "Workshop with IT", "--step", "Fix SSO"
    )
    assert made.code == 0, made
    plan_id = made.json()["plan_id"]
    assert made.json()["steps"] == ["Workshop with IT", "Fix SSO"]
    assert stack.run("plans", "update", plan_id, "--status", "in_progress").code == 0
    noted = stack.run("plans", "note", plan_id, "called the CIO \x1b[2J", "--by", "sam@supplier.example")
    assert noted.code == 0, noted
    assert "sam@supplier.example: called the CIO \\x1b[2J" in noted.out
    assert "\x1b" not in noted.out
    assert "procurement-it gap" in noted.out
    back = stack.run("plans", "update", plan_id, "--status", "planned")
    assert back.code == 1, back
    assert "analyzer answered 409 conflict" in back.err
    assert "cannot go from in_progress to planned" in back.err
    done = stack.run("plans", "update", plan_id, "--status", "done")
    assert done.code == 0, done
    assert "status   done" in done.out
    table = stack.run("plans", "list", "--account", account)
    assert table.code == 0, table
    assert table.out.splitlines()[0].split()[:3] == ["PLAN", "ALERT", "ACCOUNT"]
    assert plan_id in table.out
    shown = stack.run("--json", "plans", "show", plan_id)
    assert shown.json()["status"] == "done"
    assert shown.json()["outcome"]["before"]["low_role"] == "it"


async def test_survey_requests_are_listed_and_the_coverage_shown(stack: Stack) -> None:
    account = account_id()
    now = datetime.now(UTC).replace(microsecond=0)
    await post_events(
        stack,
        [
            create_account(account_id=account, name="Ask Corp", occurred_at="2026-05-01T09:00:00Z"),
            create_stakeholder(account_id=account, stakeholder_id=f"{account}-cfo", role="finance"),
            create_stakeholder(account_id=account, stakeholder_id=f"{account}-opt", role="legal", contactable=False),
            create_moment(account_id=account, moment="qbr", occurred_at=now.isoformat().replace("+00:00", "Z")),
        ],
    )
    rows = await stack.eventually(
        "requests", "list", "--account", account, until=lambda v: len(v) == 1, what="the survey request"
    )
    assert rows[0]["stakeholder_id"] == f"{account}-cfo"
    assert rows[0]["reason"] == "decision_maker_unheard"

    table = stack.run("requests", "list", "--account", account, "--status", "pending")
    assert table.code == 0, table
    assert table.out.splitlines()[0].split()[:3] == ["REQUEST", "ACCOUNT", "STAKEHOLDER"]
    assert rows[0]["request_id"] in table.out

    shown = stack.run("requests", "coverage", account)
    assert shown.code == 0, shown
    assert "0 of 1" in shown.out  # decision makers heard
    assert "qbr" in shown.out
    missing = stack.run("requests", "coverage", "no-such-account")
    assert missing.code == 1, missing
    assert "404" in missing.err


async def test_webhook_subscriptions_are_created_listed_rotated_and_deleted(stack: Stack) -> None:
    url = f"https://crm.example.com/hooks/{uuid.uuid4().hex[:6]}"
    # Filtered to an account no test posts, so the dispatcher never has anything to send.
    created = stack.run(
        "--json", "webhooks", "create", url, "--event", "alert.opened", "--account", "nobody", "--description", "CRM"
    )
    assert created.code == 0, created
    sub = created.json()
    assert sub["secret"].startswith("whsec_")
    assert sub["event_types"] == ["alert.opened"]
    assert sub["account_ids"] == ["nobody"]

    readable = stack.run("webhooks", "create", url + "-2")
    assert readable.code == 0, readable
    assert "secret " in readable.out
    assert "never shows it again" in readable.err
    second_id = next(line.split()[-1] for line in readable.out.splitlines() if line.startswith("id "))

    listed = stack.run("webhooks", "list")
    assert listed.code == 0, listed
    assert sub["id"] in listed.out
    assert second_id in listed.out
    assert sub["secret"] not in listed.out

    shown = stack.run("webhooks", "show", sub["id"])
    assert shown.code == 0, shown
    assert url in shown.out
    assert "active" in shown.out

    rotated = stack.run("--json", "webhooks", "rotate-secret", sub["id"], "--overlap", "60")
    assert rotated.code == 0, rotated
    assert rotated.json()["secret"] != sub["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None

    refused = stack.run("webhooks", "delete", sub["id"])
    assert refused.code == 2, refused
    assert "--yes" in refused.err
    for sub_id in (sub["id"], second_id):
        deleted = stack.run("webhooks", "delete", sub_id, "--yes")
        assert deleted.code == 0, deleted
        assert deleted.out.strip() == f"deleted {sub_id}"
    gone = stack.run("webhooks", "show", sub["id"])
    assert gone.code == 1, gone
    assert "analyzer answered 404 not_found" in gone.err
    assert sub["id"] not in stack.run("webhooks", "list").out


async def test_the_service_refusals_exit_1_with_its_own_words(stack: Stack) -> None:
    forbidden = stack.run("webhooks", "create", "http://169.254.169.254/latest/meta-data")
    assert forbidden.code == 1, forbidden
    assert "analyzer answered 422 validation_error: url: forbidden target" in forbidden.err

    unknown = stack.run("accounts", "show", "no-such-account")
    assert unknown.code == 1, unknown
    assert "analyzer answered 404 not_found: no account 'no-such-account'" in unknown.err

    missing_alert = stack.run("--json", "alerts", "ack", "al_missing", "--by", "me")
    assert missing_alert.code == 1, missing_alert
    assert missing_alert.out == ""
    assert '"status": 404' in missing_alert.err

    wrong_key = stack.run("alerts", "list", ANALYZER_API_KEY="not-the-key")
    assert wrong_key.code == 1, wrong_key
    assert "analyzer answered 401 unauthorized" in wrong_key.err
    assert "check the API key" in wrong_key.err
    assert "not-the-key" not in wrong_key.err


async def test_keys_come_from_the_services_own_settings_when_no_cli_key_is_set(stack: Stack) -> None:
    env = {k: v for k, v in stack.env.items() if not k.endswith("_API_KEY")}
    # The analyzer's own list, as its host's .env holds it: the CLI takes the first key.
    (stack.workdir / ".env").write_text(f"ANALYZER_API_KEYS={ANALYZER_KEY},another-key\n")
    try:
        run = feedback("accounts", "list", "--limit", "1", env=env, cwd=stack.workdir)
    finally:
        (stack.workdir / ".env").unlink()
    assert run.code == 0, run
    assert run.out.splitlines()[0].startswith("ACCOUNT")


async def test_contacts_import_waits_out_the_rate_limit_and_loses_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    # Two events at once, then one a second: every two-event batch after the first must wait its turn.
    env = service_env(kafka_bootstrap, topics, INGEST_RATE_LIMIT_PER_S="1", INGEST_RATE_LIMIT_BURST="2")
    ingest = ServiceProcess("services.ingest", env, tmp_path / "ingest.log")
    ingest.start()
    try:
        path = contacts_csv(tmp_path / "contacts.csv", "acme", 6)
        run = feedback(
            "contacts",
            "import",
            str(path),
            "--batch-size",
            "2",
            env={"INGEST_URL": ingest.url, "INGEST_API_KEY": INGEST_KEY},
            cwd=tmp_path,
        )
    finally:
        ingest.stop()
    assert run.code == 0, run
    assert "published 6 directory events" in run.out
    assert "ingest answered 429; retrying" in run.err
    assert run.err.splitlines()[-1] == "published 6/6 events"
    records = await read_opened(kafka_bootstrap, topics, expect=6, kek=base64.b64decode(PERSONAL_DATA_KEY))
    assert sorted(r["value"]["stakeholder_id"] for r in records) == [f"acme-p{n}" for n in range(6)]


async def test_people_erase_leaves_no_trace_in_the_database_the_api_or_the_dashboard(stack: Stack) -> None:
    account = account_id()
    person, email, name = f"{account}-zq", f"zoe.quist@{account}.example", f"Zoe Quistgaard {account}"
    comment = f"the invoicing portal of {account} is a maze"
    events: list[dict[str, Any]] = [
        create_account(account_id=account, name=account, renewal_date="2026-09-01"),
        create_stakeholder(account_id=account, stakeholder_id=person, role="finance", name=name, aliases=[email]),
        create_stakeholder(account_id=account, stakeholder_id=f"{account}-pat", role="procurement"),
    ]
    for day in range(2, 16, 3):
        at = f"2026-05-{day:02d}T10:00:00Z"
        answer = create_survey(account_id=account, stakeholder_id=person, score=1, comment=comment, occurred_at=at)
        events.append(answer)
        events.append(create_survey(account_id=account, stakeholder_id=f"{account}-pat", score=10, occurred_at=at))
    await post_events(stack, events)
    await stack.eventually(
        "accounts",
        "show",
        account,
        until=lambda v: {p["stakeholder_id"]: p["responses"] for p in v["stakeholders"]}.get(person) == 5,
        what="the person's five answers held",
    )
    traces = [person, email, name, comment]
    assert found_in_database(await database_text(stack.database), traces) == traces

    refused = stack.run("people", "erase", email)  # no terminal to confirm on
    assert refused.code != 0
    assert "--yes" in refused.err
    run = stack.run("people", "erase", email.upper(), "--yes")
    assert run.code == 0, run
    assert f"1 directory entries in {account}, 5 answers" in run.out
    assert re.search(r", [1-9]\d* data keys destroyed", run.out), run.out  # the seals of their records

    assert found_in_database(await database_text(stack.database), traces) == []
    async with httpx.AsyncClient(base_url=stack.analyzer.url, headers=auth(ANALYZER_KEY), timeout=30) as client:
        pages = [
            await client.get(f"/v1/accounts/{account}"),
            await client.get("/v1/accounts", params={"limit": 1000}),
            await client.get("/v1/alerts", params={"account_id": account}),
        ]
    assert [p.status_code for p in pages] == [200, 200, 200]
    view = pages[0].json()
    assert [p["stakeholder_id"] for p in view["stakeholders"]] == [f"{account}-pat"]
    assert found_in_database(" ".join(p.text for p in pages).lower(), traces) == []
    async with httpx.AsyncClient(base_url=stack.analyzer.url, timeout=30) as browser:
        signed_in = await sign_in(browser)
        assert signed_in.status_code == 303, signed_in.text
        html = [(await browser.get(path)).text for path in ("/dashboard", f"/dashboard/accounts/{account}")]
    assert account in html[1]
    assert found_in_database(" ".join(html).lower(), traces) == []

    # The events topic holds the person's records sealed, and their keys are destroyed: a rebuild from the
    # log reads them as anonymous, and its database holds none of their traces.
    records = await count_records(stack.bootstrap, stack.topics.events)
    raw = await read_all(stack.bootstrap, stack.topics.events, expect=records)
    assert found_in_database(json.dumps(raw).lower(), traces) == []
    fresh = await asyncio.to_thread(create_database, "sqlite", tmp_path=stack.workdir, pg_admin_url=None, migrate=False)
    rebuilt = stack.run("rebuild", **service_env(stack.bootstrap, stack.topics, DATABASE_URL=fresh))
    assert rebuilt.code == 0, rebuilt
    text = await database_text(fresh)
    assert account in text
    assert found_in_database(text, traces) == []

    # Again: nothing left to erase, and it says so.
    again = stack.run("--json", "people", "erase", person, "--yes")
    assert again.code == 0, again
    assert again.json()["counts"]["people"] == 0


def found_in_database(text: str, traces: list[str]) -> list[str]:
    return [t for t in traces if t.lower() in text]


async def test_the_portfolio_prints_its_pattern_table_json_and_csv(stack: Stack) -> None:
    segment, other = f"seg-{uuid.uuid4().hex[:6]}", f"=seg-{uuid.uuid4().hex[:6]}"
    accounts = [account_id(), account_id()]
    at = "2026-05-01T10:00:00Z"
    events: list[dict[str, Any]] = []
    for n, account in enumerate(accounts):
        events += [
            create_account(account_id=account, segment=segment if n == 0 else other, annual_value=50_000),
            create_stakeholder(account_id=account, stakeholder_id=f"{account}-p", role="procurement"),
            create_stakeholder(account_id=account, stakeholder_id=f"{account}-i", role="it"),
            create_survey(account_id=account, stakeholder_id=f"{account}-p", score=10, occurred_at=at),
            create_survey(
                account_id=account, stakeholder_id=f"{account}-i", score=2, occurred_at=at, comment="Painful setup."
            ),
        ]
    await post_events(stack, events)
    view = await stack.eventually(
        "portfolio",
        "--segment",
        segment,
        "--segment",
        other,
        until=lambda v: v["accounts"] == 2 and len(v["low_sides"]) == 2,
        what="both accounts in the portfolio",
    )
    assert {(r["segment"], r["role"]) for r in view["low_sides"]} == {(segment, "it"), (other, "it")}

    table = stack.run("portfolio", "--segment", segment)
    assert table.code == 0, table
    assert table.out.splitlines()[0].split()[:4] == ["Segment", "Role", "Accounts", "Position"]
    it_row = next(line for line in table.out.splitlines() if line.startswith(segment) and " it " in line)
    assert "1/1" in it_row  # the low side of its account's only split
    assert f"{segment}: gaps on" in table.out
    assert "low side says effort 1" in table.out

    exported = stack.run("portfolio", "--csv", "--segment", other)
    assert exported.code == 0, exported
    lines = exported.out.splitlines()
    assert lines[0].startswith("section,segment,role,quarter")
    assert any(line.startswith(f"cell,'{other},it,") for line in lines)  # the formula is defused

    refused = stack.run("portfolio", "--quarters", "9")
    assert refused.code == 1, refused
    assert "quarters" in refused.err
    both = stack.run("--json", "portfolio", "--csv")
    assert both.code == 2, both
