"""ANALYZER_API_KEYS entries: scoped keys with ids, plain (deprecated) keys with every scope."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.analyzer.keys import SCOPES, entry_secret, find_key, parse_entry, parse_keys
from services.analyzer.settings import AnalyzerSettings


def settings(keys: str) -> AnalyzerSettings:
    return AnalyzerSettings(_env_file=None, environment="test", analyzer_api_keys=keys)  # type: ignore[arg-type]


def test_a_scoped_entry_has_its_id_secret_and_only_its_scopes() -> None:
    key = parse_entry("crm:s3cret-value:read+alerts:write", 1)
    assert (key.id, key.secret.get_secret_value(), key.scopes, key.legacy) == (
        "crm",
        "s3cret-value",
        frozenset({"read", "alerts:write"}),
        False,
    )
    assert key.allows("alerts:write")
    assert not key.allows("subscriptions:admin")


def test_plain_secrets_keep_working_with_every_scope_and_a_positional_id() -> None:
    keys = settings("first-secret, second-secret").analyzer_api_keys
    assert [(k.id, k.scopes, k.legacy) for k in keys] == [
        ("key-1", frozenset(SCOPES), True),
        ("key-2", frozenset(SCOPES), True),
    ]


def test_scoped_and_plain_entries_mix() -> None:
    keys = settings("ops:ops-secret:dashboard+read,plain-secret").analyzer_api_keys
    assert [k.id for k in keys] == ["ops", "key-2"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("ops:ops-secret:read+admin", "unknown scope(s) admin"),
        ("ops:ops-secret:", "names no scope"),
        ("ops::read", "empty secret"),
        ("-bad id:ops-secret:read", "key id must be"),
        ("ops:one-secret:read,ops:two-secret:read", "key id(s) ops appear more than once"),
    ],
)
def test_a_malformed_entry_is_refused_with_a_message_that_never_shows_the_secret(entries: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(entries)
    assert message in str(caught.value)
    for secret in ("ops-secret", "one-secret", "two-secret"):
        assert secret not in str(caught.value)


def test_a_plain_secret_may_hold_one_colon() -> None:
    keys = parse_keys(["user:password"])
    assert isinstance(keys, list)
    assert keys[0].legacy
    assert keys[0].secret.get_secret_value() == "user:password"


def test_find_key_returns_the_matching_key_and_none_for_a_stranger() -> None:
    keys = settings("a:alpha-secret:read,b:beta-secret:dashboard").analyzer_api_keys
    found = find_key("beta-secret", keys)
    assert found is not None
    assert found.id == "b"
    assert find_key("gamma", keys) is None
    assert find_key("beta-secre", keys) is None
    assert find_key("beta-secret", []) is None


def test_the_dump_masks_every_secret_and_keeps_ids_and_scopes() -> None:
    dumped = settings("ops:ops-secret:read+dashboard,plain-secret").model_dump(mode="json")["analyzer_api_keys"]
    every = "+".join(SCOPES)
    assert dumped == ["ops:**********:read+dashboard", f"key-2:**********:{every}"]


def test_the_cli_takes_the_secret_of_an_entry() -> None:
    assert entry_secret("ops:ops-secret:read+alerts:write") == "ops-secret"
    assert entry_secret("plain-secret") == "plain-secret"
