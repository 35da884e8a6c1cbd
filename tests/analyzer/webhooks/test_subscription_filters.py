"""The account and segment filters of a subscription are bounded: 422 naming the field and the limit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analyzer.webhooks.test_webhook_api import EVENTS, api

URL = "https://crm.example.com/hook"


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        ({"account_ids": [f"a{n}" for n in range(1001)]}, "account_ids", "List should have at most 1000 items"),
        ({"segments": [f"s{n}" for n in range(101)]}, "segments", "List should have at most 100 items"),
        ({"account_ids": ["x" * 129]}, "account_ids.0", "String should have at most 128 characters"),
        ({"segments": [""]}, "segments.0", "String should have at least 1 character"),
        ({"segments": ["x" * 65]}, "segments.0", "String should have at most 64 characters"),
    ],
)
async def test_a_filter_over_its_bound_is_refused_naming_the_field_and_the_limit(
    sqlite_url: str, filters: dict[str, Any], field: str, message: str
) -> None:
    async with api(sqlite_url) as client:
        answer = await client.post("/v1/subscriptions", json={"url": URL, "event_types": EVENTS, **filters})
        assert answer.status_code == 422
        [error] = answer.json()["detail"]
        assert error["field"] == field
        assert error["message"].startswith(message), error
        assert (await client.get("/v1/subscriptions")).json() == []


async def test_filters_at_their_bounds_are_accepted(sqlite_url: str) -> None:
    filters = {"account_ids": [f"a{n}" for n in range(1000)], "segments": [f"s{n}" for n in range(100)]}
    async with api(sqlite_url) as client:
        answer = await client.post("/v1/subscriptions", json={"url": URL, "event_types": EVENTS, **filters})
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["account_ids"]) == 1000
