"""API-key checks."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shared.auth import bearer_token, require_api_key
from shared.errors import Unauthorized

KEYS = [SecretStr("alpha"), SecretStr("beta")]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        (None, None),
        ("abc", None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_any_configured_key_is_accepted() -> None:
    assert require_api_key("Bearer beta", KEYS) == "beta"


@pytest.mark.parametrize("header", ["Bearer gamma", "Bearer alph", "Bearer alphaa", None, "Bearer "])
def test_wrong_or_missing_key_is_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        require_api_key(header, KEYS)


def test_no_configured_keys_refuses_everyone() -> None:
    with pytest.raises(Unauthorized):
        require_api_key("Bearer anything", [])
