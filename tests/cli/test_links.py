"""``feedback links make``: a token ingest verifies for exactly the ids given, or a clear usage error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.survey_links import LinkTokenError, check
from tests.cli.helpers import feedback

SECRET = "cli-test-survey-link-secret-0123456789"


def test_links_make_mints_a_token_ingest_verifies_for_the_ids(tmp_path: Path) -> None:
    env = {"SURVEY_LINK_SECRET": SECRET}
    run = feedback(
        "--json", "links", "make", "--account", "acme", "--person", "cfo-1", "--ttl", "2d", env=env, cwd=tmp_path
    )
    assert run.code == 0, run
    minted = run.json()
    expires_at = datetime.fromisoformat(minted["expires_at"])
    assert timedelta(days=2) - timedelta(minutes=1) < expires_at - datetime.now(UTC) <= timedelta(days=2)
    check(SECRET, minted["token"], "acme", "cfo-1", datetime.now(UTC))
    with pytest.raises(LinkTokenError):
        check(SECRET, minted["token"], "acme", "ceo-2", datetime.now(UTC))
    assert SECRET not in run.out + run.err


def test_links_make_reads_the_secret_from_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"SURVEY_LINK_SECRET={SECRET}\n")
    run = feedback("links", "make", "--account", "acme", "--person", "cfo-1", cwd=tmp_path)
    assert run.code == 0, run
    assert run.out.startswith("token")


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({}, [], "SURVEY_LINK_SECRET is not set"),
        ({"SURVEY_LINK_SECRET": "short"}, [], "at least 32 characters"),
        ({"SURVEY_LINK_SECRET": SECRET}, ["--ttl", "forever"], "is not a number followed by m, h, d or w"),
        ({"SURVEY_LINK_SECRET": SECRET}, ["--ttl", "400d"], "at most 366 days"),
    ],
    ids=["no-secret", "short-secret", "bad-ttl", "long-ttl"],
)
def test_links_make_refuses_with_exit_2_and_a_reason(
    env: dict[str, str], args: list[str], message: str, tmp_path: Path
) -> None:
    run = feedback("links", "make", "--account", "acme", "--person", "cfo-1", *args, env=env, cwd=tmp_path)
    assert run.code == 2, run
    assert message in run.err
