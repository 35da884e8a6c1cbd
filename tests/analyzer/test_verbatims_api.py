"""``GET /v1/accounts/{account_id}/verbatims`` and ``themes_by_side`` over a real database."""

from __future__ import annotations

from typing import Any

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import api
from tests.analyzer.test_erasure import COMMENT, erase, story
from tests.factories import ANALYZER_KEY, auth, create_account, create_stakeholder, create_survey

IT_SAYS = (
    "Setting up SSO was painful and the integration still needs manual workarounds.",
    "Our ticket about the broken sync has been open for weeks; support never calls back.",
    "The admin console is clunky.",
)
PROCUREMENT_SAYS = ("The renewal discount was fair and the pricing is clear.",)


def split_with_comments(account_id: str = "acme") -> list[dict[str, Any]]:
    """Procurement content and talking price, IT unhappy and talking effort and support."""
    events = [
        create_account(account_id=account_id, segment="enterprise"),
        create_stakeholder(account_id=account_id, stakeholder_id="pat", role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id="ivy", role="it"),
        create_stakeholder(account_id=account_id, stakeholder_id="sam", role="it"),
    ]
    for day, text in enumerate(IT_SAYS, start=1):
        events.append(
            create_survey(
                account_id=account_id,
                stakeholder_id="ivy" if day != 2 else "sam",
                score=1,
                comment=text,
                occurred_at=f"2026-05-{day:02d}T10:00:00Z",
            )
        )
    for day, text in enumerate(PROCUREMENT_SAYS, start=1):
        events.append(
            create_survey(
                account_id=account_id,
                stakeholder_id="pat",
                score=10,
                comment=text,
                occurred_at=f"2026-05-0{day}T11:00:00Z",
            )
        )
    # An answer without a comment and one replaced by a later version count only once, as their current text.
    events.append(
        create_survey(account_id=account_id, stakeholder_id="pat", score=9, occurred_at="2026-05-04T10:00:00Z")
    )
    return events


async def test_each_role_gets_its_themes_tone_and_latest_quotes(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_with_comments())
    async with api(database_url) as client:
        body = (await client.get("/v1/accounts/acme/verbatims")).json()
        two = (await client.get("/v1/accounts/acme/verbatims", params={"quotes": 2})).json()
    assert body["comments"] == 4
    roles = {r["role"]: r for r in body["roles"]}
    assert set(roles) == {"it", "procurement"}
    it = roles["it"]
    assert it["comments"] == 3
    assert it["sentiment"] == "negative"
    counts = {t["theme"]: t["count"] for t in it["themes"]}
    assert counts == {"effort": 2, "support": 1, "reliability": 1, "communication": 1}
    assert it["themes"][0]["theme"] == "effort"  # most named first
    assert [q["text"] for q in it["quotes"]] == list(reversed(IT_SAYS))  # newest first
    assert it["quotes"][1]["stakeholder_id"] == "sam"
    procurement = roles["procurement"]
    assert procurement["sentiment"] == "positive"
    assert [t["theme"] for t in procurement["themes"]] == ["price"]
    assert [len(r["quotes"]) for r in two["roles"]] == [2, 1]


async def test_quotes_out_of_bounds_and_unknown_accounts_are_refused_clearly(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_with_comments())
    async with api(database_url) as client:
        too_many = await client.get("/v1/accounts/acme/verbatims", params={"quotes": 51})
        negative = await client.get("/v1/accounts/acme/verbatims", params={"quotes": -1})
        unknown = await client.get("/v1/accounts/nope/verbatims")
        anonymous = await client.get("/v1/accounts/acme/verbatims", headers=auth("wrong"))
        counts_only = await client.get("/v1/accounts/acme/verbatims", params={"quotes": 0})
    assert too_many.status_code == negative.status_code == 422
    assert "quotes" in too_many.text
    assert unknown.status_code == 404
    assert anonymous.status_code == 401
    assert all(r["quotes"] == [] for r in counts_only.json()["roles"])
    assert ANALYZER_KEY  # the api() client authenticates with it


async def test_the_divergence_alert_and_the_account_say_what_each_side_talks_about(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_with_comments())
    async with api(database_url) as client:
        alerts = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()
        view = (await client.get("/v1/accounts/acme")).json()
    assert len(alerts) == 1
    sides = alerts[0]["themes_by_side"]
    assert sides["low"]["role"] == "it"
    assert sides["high"]["role"] == "procurement"
    assert sides["summary"] == "IT: effort 2, support 1, reliability 1, negative; Procurement: price 1, positive"
    assert view["themes_by_side"] == sides


async def test_an_account_without_comments_has_no_roles_and_no_side_themes(database_url: str) -> None:
    events = [e for e in split_with_comments() if e["type"] != "survey_response"]
    events += [
        create_survey(stakeholder_id="pat", score=10, comment="   "),
        create_survey(stakeholder_id="ivy", score=0),
    ]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
    async with api(database_url) as client:
        body = (await client.get("/v1/accounts/acme/verbatims")).json()
        alerts = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()
    assert body == {"account_id": "acme", "comments": 0, "roles": []}
    assert alerts[0]["themes_by_side"]["summary"] == "IT: no comments; Procurement: no comments"


async def test_an_erased_persons_comments_leave_the_verbatims(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, story())
        async with api(database_url) as client:
            before = (await client.get("/v1/accounts/acme/verbatims")).json()
        await erase(sessions, "zq-771")
    async with api(database_url) as client:
        after = (await client.get("/v1/accounts/acme/verbatims")).json()
    assert [q["text"] for r in before["roles"] for q in r["quotes"]][:1] == [COMMENT]
    assert after == {"account_id": "acme", "comments": 0, "roles": []}
