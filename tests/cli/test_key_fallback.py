"""The CLI's fallback key: the secret of the first ANALYZER_API_KEYS entry, scoped or plain."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from services.cli.context import Context


@pytest.mark.parametrize(
    ("listed", "sent"),
    [
        ("ops:ops-secret:read+alerts:write,other:other-secret:read", "ops-secret"),
        ("plain-secret,ops:ops-secret:read", "plain-secret"),
    ],
)
def test_the_analyzer_key_is_the_secret_of_the_first_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: str, sent: str
) -> None:
    monkeypatch.delenv("ANALYZER_API_KEY", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(f"ANALYZER_API_KEYS={listed}\nINGEST_API_KEYS=a:b:c\n")
    monkeypatch.delenv("ANALYZER_API_KEYS", raising=False)
    monkeypatch.delenv("INGEST_API_KEYS", raising=False)
    monkeypatch.delenv("INGEST_API_KEY", raising=False)
    context = Context(argparse.Namespace(env_file=str(env_file), analyzer_key=None, ingest_key=None))
    assert context.key("analyzer") == sent
    assert context.key("ingest") == "a:b:c"  # ingest keys have no scopes: passed through whole
