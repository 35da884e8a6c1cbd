"""The dashboard's session cookie: signed, expiring, bound to a key still accepted, never holding it."""

from __future__ import annotations

import base64
import json

import pytest

from services.analyzer.dashboard.routes import safe_path
from services.analyzer.dashboard.session import SessionCodec, new_token, tokens_match
from services.analyzer.keys import ApiKey, parse_entry

SECRET = b"s" * 32
KEY_ONE, KEY_TWO = parse_entry("one:key-one:read+dashboard", 1), parse_entry("key-two", 2)
KEYS: list[ApiKey] = [KEY_ONE, KEY_TWO]
NOW = 1_800_000_000


def codec(secret: bytes = SECRET, ttl_s: int = 3600) -> SessionCodec:
    return SessionCodec(secret, ttl_s)


def test_a_cookie_it_issued_reads_back_as_the_same_session_until_it_expires() -> None:
    cookie, session = codec().issue(KEY_TWO, now=NOW)
    assert codec().read(cookie, KEYS, now=NOW) == session
    assert session.expires_at == NOW + 3600
    assert codec().read(cookie, KEYS, now=NOW + 3599) == session
    assert codec().read(cookie, KEYS, now=NOW + 3600) is None


def test_a_session_knows_the_id_and_scopes_of_the_key_it_was_opened_with() -> None:
    cookie, _ = codec().issue(KEY_ONE, now=NOW)
    session = codec().read(cookie, KEYS, now=NOW)
    assert session is not None
    assert (session.key_id, session.scopes) == ("one", frozenset({"read", "dashboard"}))


def test_the_cookie_does_not_hold_the_key() -> None:
    cookie, _ = codec().issue(KEY_TWO, now=NOW)
    payload = cookie.split(".")[1]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "key-two" not in cookie
    assert "key-two" not in decoded
    assert set(json.loads(decoded)) == {"kid", "exp", "csrf"}


def test_removing_the_key_from_the_settings_ends_its_sessions() -> None:
    cookie, _ = codec().issue(KEY_TWO, now=NOW)
    assert codec().read(cookie, [KEY_ONE], now=NOW) is None
    assert codec().read(cookie, [], now=NOW) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature changed
        lambda c: c.split(".")[0] + "." + c.split(".")[1][:-2] + "xx." + c.split(".")[2],  # payload changed
        lambda c: "v2" + c[2:],  # another version
        lambda c: c.rsplit(".", 1)[0],  # signature dropped
        lambda c: "",
        lambda c: "v1..",
        lambda c: c + "." * 2000,  # absurdly long
    ],
)
def test_a_tampered_cookie_is_no_session(tamper: object) -> None:
    cookie, _ = codec().issue(KEY_ONE, now=NOW)
    assert callable(tamper)
    assert codec().read(tamper(cookie), KEYS, now=NOW) is None


def test_a_cookie_signed_under_another_secret_is_no_session() -> None:
    cookie, _ = codec(b"t" * 32).issue(KEY_ONE, now=NOW)
    assert codec().read(cookie, KEYS, now=NOW) is None


def test_a_forged_payload_with_a_far_expiry_is_refused() -> None:
    cookie, _ = codec().issue(KEY_ONE, now=NOW)
    version, payload, signature = cookie.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["exp"] = NOW + 10**9
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    assert codec().read(f"{version}.{forged}.{signature}", KEYS, now=NOW) is None


def test_each_session_has_its_own_csrf_token() -> None:
    _, first = codec().issue(KEY_ONE, now=NOW)
    _, second = codec().issue(KEY_ONE, now=NOW)
    assert first.csrf != second.csrf
    assert len(first.csrf) >= 40


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SessionCodec(b"short", 3600)


def test_tokens_match_only_when_both_are_present_and_equal() -> None:
    token = new_token()
    assert tokens_match(token, token)
    assert not tokens_match(token, new_token())
    assert not tokens_match(None, token)
    assert not tokens_match("", "")
    assert not tokens_match(token, None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/dashboard/accounts/acme?bucket=day", "/dashboard/accounts/acme?bucket=day"),
        ("/dashboard", "/dashboard"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("//evil.example/dashboard", "/dashboard"),
        ("/dashboardx", "/dashboard"),
        ("/v1/accounts", "/dashboard"),
        ("/dashboard\\@evil", "/dashboard"),
        ("/dashboard/\r\nSet-Cookie: x", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_redirects_never_leave_the_dashboard(given: str | None, expected: str) -> None:
    assert safe_path(given) == expected
