"""Survey-link tokens (shared/survey_links.py): minted for ids and an expiry, refused with a specific reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from shared import survey_links
from shared.survey_links import LinkTokenError, check, mint, parse_ttl

SECRET = "survey-link-secret-for-unit-tests-0123456789"
NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def test_a_token_is_compact_url_safe_and_verifies_for_its_ids() -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    assert re.fullmatch(r"v1\.\d+\.[A-Za-z0-9_-]{48}", token)
    assert len(token) < 70
    check(SECRET, token, "acme", "cfo-1", NOW)  # no error


@pytest.mark.parametrize(
    ("account_id", "stakeholder_id"),
    [("acme", "ceo-1"), ("globex", "cfo-1"), ("acme", "cfo-1 "), ("Acme", "cfo-1")],
)
def test_a_token_for_other_ids_is_refused_as_such(account_id: str, stakeholder_id: str) -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    with pytest.raises(LinkTokenError, match="made for another account or person"):
        check(SECRET, token, account_id, stakeholder_id, NOW)


def test_ids_that_shift_a_separator_do_not_collide() -> None:
    # "a" + "b:c" and "a:b" + "c" must sign different messages.
    token = mint(SECRET, "a", "b\x1fc", LATER)
    with pytest.raises(LinkTokenError):
        check(SECRET, token, "a\x1fb", "c", NOW)


def test_another_secret_or_an_edited_expiry_is_a_wrong_signature() -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    with pytest.raises(LinkTokenError, match="signature is wrong"):
        check(SECRET + "x", token, "acme", "cfo-1", NOW)
    _, expiry, mac = token.split(".")
    stretched = f"v1.{int(expiry) + 86_400 * 365}.{mac}"
    with pytest.raises(LinkTokenError, match="signature is wrong"):
        check(SECRET, stretched, "acme", "cfo-1", NOW)


def test_a_flipped_signature_character_is_refused() -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(LinkTokenError, match="signature is wrong"):
        check(SECRET, flipped, "acme", "cfo-1", NOW)


def test_an_expired_token_is_refused_with_its_expiry() -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    check(SECRET, token, "acme", "cfo-1", LATER - timedelta(seconds=1))
    with pytest.raises(LinkTokenError, match=r"expired at 2026-05-31T10:00:00\+00:00"):
        check(SECRET, token, "acme", "cfo-1", LATER)


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v2.1.abc", "v1.123.short", "v1.x." + "A" * 48, "v1.1." + "A" * 47 + "=", "v1.1." + "A" * 200],
)
def test_a_malformed_token_is_refused_as_malformed(token: str) -> None:
    with pytest.raises(LinkTokenError, match="not a v1 token"):
        check(SECRET, token, "acme", "cfo-1", NOW)


def test_a_token_without_both_ids_beside_it_is_refused() -> None:
    token = mint(SECRET, "acme", "cfo-1", LATER)
    with pytest.raises(LinkTokenError, match="not both the account id and the stakeholder id"):
        check(SECRET, token, None, "cfo-1", NOW)


def test_a_short_secret_is_refused_for_minting_and_checking() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        mint("short", "acme", "cfo-1", LATER)
    with pytest.raises(ValueError, match="at least 32 characters"):
        check("", mint(SECRET, "acme", "cfo-1", LATER), "acme", "cfo-1", NOW)


def test_minting_needs_both_ids() -> None:
    with pytest.raises(ValueError, match="both an account id and a stakeholder id"):
        mint(SECRET, "acme", " ", LATER)


def test_the_digest_names_a_token_stably_and_differs_between_tokens() -> None:
    one, other = mint(SECRET, "acme", "cfo-1", LATER), mint(SECRET, "acme", "cfo-2", LATER)
    assert survey_links.digest(one) == survey_links.digest(one)
    assert survey_links.digest(one) != survey_links.digest(other)


@pytest.mark.parametrize(
    ("text", "ttl"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_ttls_are_read(text: str, ttl: timedelta) -> None:
    assert parse_ttl(text) == ttl


@pytest.mark.parametrize("text", ["", "30", "d", "-1d", "0d", "367d", "1y", "1.5d"])
def test_bad_ttls_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="ttl"):
        parse_ttl(text)
