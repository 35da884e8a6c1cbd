"""The account page's verbatims by role, coverage and survey requests, and the accounts' decision makers heard,
over HTTP on a real database (SQLite and PostgreSQL), compared with the JSON API that computes them."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.requests.test_service import CONFIG, NOW, iso
from tests.analyzer.requests.test_service import directory as requests_directory
from tests.analyzer.test_verbatims_api import split_with_comments
from tests.dashboard.test_http import HOSTILE, dashboard, field, sign_in
from tests.factories import ANALYZER_KEY, auth, create_moment, create_stakeholder, create_survey

HOSTILE_COMMENT = f'{HOSTILE} The "renewal" price is <b>steep</b> & rising.'


def row(page: str, opening: str) -> str:
    """The markup of the table row or article whose tag starts with ``opening`` after its name, to its end."""
    match = re.search(rf"<(tr|article) {re.escape(opening)}(?:(?!</\1>).)*</\1>", page, re.S)
    assert match, f"no element with {opening}"
    return match.group(0)


async def test_the_account_page_shows_each_roles_themes_tone_and_latest_quotes_escaped(database_url: str) -> None:
    hostile = create_survey(stakeholder_id="pat", score=10, comment=HOSTILE_COMMENT, occurred_at="2026-05-06T10:00:00Z")
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [*split_with_comments(), hostile])
    async with dashboard(database_url) as client:
        api = (await client.get("/v1/accounts/acme/verbatims", params={"quotes": 3}, headers=auth(ANALYZER_KEY))).json()
        alerts = (await client.get("/v1/alerts", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))).json()
        view = (await client.get("/v1/accounts/acme", headers=auth(ANALYZER_KEY))).json()
        await sign_in(client)
        answer = await client.get("/dashboard/accounts/acme")
        alerts_page = (await client.get("/dashboard/alerts", params={"account_id": "acme"})).text
    assert answer.status_code == 200
    page = answer.text
    assert re.findall(r'<article class="voice" data-role="([^"]+)"', page) == [r["role"] for r in api["roles"]]
    for role in api["roles"]:
        voice = row(page, f'class="voice" data-role="{role["role"]}"')
        assert f'<span data-field="comments">{role["comments"]}</span>' in voice
        assert f'data-field="sentiment">{role["sentiment"]}<' in voice
        shown = re.findall(r'<tr data-theme="([^"]+)"', voice)
        assert shown == [t["theme"] for t in role["themes"]], role["role"]
        for theme in role["themes"]:
            assert field(voice, f'data-theme="{theme["theme"]}"', "count") == str(theme["count"])
            assert field(voice, f'data-theme="{theme["theme"]}"', "tone") == theme["sentiment"]
        quoted = re.findall(r'<blockquote data-field="quote">(.*?)</blockquote>', voice, re.S)
        quotes = [html.unescape(q) for q in quoted]
        assert quotes == [q["text"] for q in role["quotes"]], role["role"]
    it = row(page, 'class="voice" data-role="it"')
    assert "Effort and ease" in it
    assert "Setting up SSO was painful" in it
    # The hostile comment is shown as text: escaped, quotes and all, and never as markup.
    assert "<script" not in page
    assert "<b>steep" not in page
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; The &#34;renewal&#34; price is &lt;b&gt;steep&lt;/b&gt;"
    assert escaped in page
    # The widest gap and the open divergence alert say what each side talks about.
    summary = view["themes_by_side"]["summary"]
    assert summary.startswith("IT: effort")
    gap = re.search(r'<p class="gap-voices" id="gap-themes">(.*?)</p>', page, re.S)
    assert gap
    assert html.unescape(gap.group(1)).endswith(summary)
    split = next(a for a in alerts if a["type"] == "stakeholder_divergence")
    timeline = row(page, f'class="timeline-alert" data-alert="{split["alert_id"]}"')
    assert html.unescape(timeline).count(f"In their words: {split['themes_by_side']['summary']}") == 1
    # So does the alerts page, for the split alerts only.
    listed = row(alerts_page, f'data-alert="{split["alert_id"]}"')
    assert html.unescape(listed).count(f"In their words: {split['themes_by_side']['summary']}") == 1
    assert alerts_page.count('data-field="themes_by_side"') == sum(1 for a in alerts if "themes_by_side" in a)


async def test_an_account_without_comments_or_requests_says_so(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [e for e in split_with_comments() if e["type"] != "survey_response"])
    async with dashboard(database_url) as client:
        await sign_in(client)
        page = (await client.get("/dashboard/accounts/acme")).text
    assert "No comments yet" in page
    assert "No survey requests yet" in page
    assert 'id="gap-themes"' not in page
    assert 'id="decision-makers-heard" class="coverage-gap">0 of 1<' in page, "Pat decides (procurement), unheard"


async def test_the_account_page_shows_coverage_and_requests_as_the_api_reads_them(database_url: str) -> None:
    directory = requests_directory()
    directory[1] = create_stakeholder(
        stakeholder_id="pat", role="procurement", name=HOSTILE, occurred_at=iso(NOW - timedelta(days=60))
    )
    async with sessions_for(database_url) as sessions:
        moment = create_moment(moment="support_close", stakeholder_id="eve", occurred_at=iso(NOW - timedelta(hours=2)))
        await apply_all(sessions, [*directory, moment], requests=CONFIG)
        async with dashboard(database_url) as client:
            made = (
                await client.get("/v1/survey-requests", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))
            ).json()
        eve = next(r for r in made if r["stakeholder_id"] == "eve")
        answer = create_survey(stakeholder_id="eve", metric="csat", score=4, request_id=eve["request_id"])
        answer["occurred_at"] = iso(NOW - timedelta(minutes=30))
        await apply_all(sessions, [answer], requests=CONFIG)
    async with dashboard(database_url) as client:
        coverage = (await client.get("/v1/accounts/acme/coverage", headers=auth(ANALYZER_KEY))).json()
        listed = (
            await client.get("/v1/survey-requests", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))
        ).json()
        await sign_in(client)
        page = (await client.get("/dashboard/accounts/acme")).text
        accounts = (await client.get("/dashboard")).text
    assert {r["status"] for r in listed} == {"pending", "fulfilled"}, "the scenario must have both for this test"
    heard = re.search(r'id="decision-makers-heard"[^>]*>([^<]*)<', page)
    assert heard
    assert heard.group(1) == f"{coverage['decision_makers_heard']} of {len(coverage['decision_makers'])}"
    for person in coverage["decision_makers"]:
        shown = row(page, f'data-stakeholder="{person["stakeholder_id"]}"><td>')
        assert ("badge-heard" in shown) is person["heard"]
        assert ("not to be contacted" in shown) is (not person["contactable"])
    for role in coverage["roles"]:
        line = f'data-role="{role["role"]}"><td><span'
        assert field(page, line, "heard") == f"{role['heard']} of {role['people']}"
        rate = role["requests"]["response_rate"]
        assert field(page, line, "response_rate") == ("\N{EN DASH}" if rate is None else f"{rate * 100:.0f}%")
    assert field(page, 'data-moment="support_close"', "response_rate") == "100%"
    # The requests, newest first as the API lists them, each with its person, reason, moment and status.
    assert re.findall(r'<tr data-request="([^"]+)"', page) == [r["request_id"] for r in listed]
    for request in listed:
        shown = f'data-request="{request["request_id"]}"'
        assert field(page, shown, "status") == request["status"]
        assert field(page, shown, "moment") == "Support close"
        assert field(page, shown, "reason").startswith(request["reason"].replace("_", " ").capitalize())
    assert "<script" not in page
    pat = next(r for r in listed if r["stakeholder_id"] == "pat")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in row(page, f'data-request="{pat["request_id"]}"')
    # The accounts list: decision makers heard of all, as the coverage counts them.
    expected = f"{coverage['decision_makers_heard']}/{len(coverage['decision_makers'])}"
    assert field(accounts, 'data-account="acme"', "deciders") == expected
