"""``feedback`` without services: help, usage errors, no connection, bad files, the configuration check."""

from __future__ import annotations

import argparse
import importlib
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafka.broker import REPO, free_port
from services.cli import output
from services.cli.main import build_parser
from tests.cli.helpers import feedback

KEYS = {"INGEST_API_KEY": "ik", "ANALYZER_API_KEY": "ak"}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every runnable command path, e.g. ``("alerts", "ack")``."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path
        return
    for action in subparsers:
        seen = set()
        for name, child in action.choices.items():
            if id(child) not in seen:  # aliases map to the same parser
                seen.add(id(child))
                yield from leaf_commands(child, (*path, name))


def test_the_console_script_is_the_cli_main() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attribute = scripts["feedback"].partition(":")
    assert getattr(importlib.import_module(module), attribute) is importlib.import_module("services.cli.main").main


def test_help_at_the_top_lists_every_group_and_the_exit_codes(tmp_path: Path) -> None:
    run = feedback("--help", cwd=tmp_path)
    assert run.code == 0, run
    for group in ("accounts", "alerts", "webhooks", "contacts", "config"):
        assert group in run.out
    assert "exit codes" in run.out
    assert "3  cannot connect" in run.out


@pytest.mark.parametrize("path", list(leaf_commands(build_parser())), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*path, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: feedback {' '.join(path)}")
    assert "--json" in out


def test_the_commands_the_operators_need_exist() -> None:
    assert set(leaf_commands(build_parser())) >= {
        ("accounts", "show"),
        ("accounts", "verbatims"),
        ("alerts", "list"),
        ("alerts", "ack"),
        ("alerts", "resolve"),
        ("webhooks", "list"),
        ("webhooks", "create"),
        ("webhooks", "delete"),
        ("webhooks", "rotate-secret"),
        ("contacts", "import"),
        ("config", "check"),
    }


@pytest.mark.parametrize("order", ["divergence", "account_mean", "nps", "risk", "value_at_risk", "account_id"])
def test_accounts_list_takes_every_order_the_api_takes(order: str) -> None:
    assert build_parser().parse_args(["accounts", "list", "--order", order]).order == order


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["nonsense"],
        ["alerts"],
        ["alerts", "ack", "al_1"],  # --by is required
        ["alerts", "list", "--status", "sleeping"],
        ["accounts", "list", "--limit", "many"],
        ["accounts", "list", "--order", "risk_desc"],
    ],
    ids=repr,
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    run = feedback(*args, env=KEYS, cwd=tmp_path)
    assert run.code == 2, run
    assert "usage: feedback" in run.err


def test_a_missing_key_is_a_usage_error_naming_where_to_put_it(tmp_path: Path) -> None:
    run = feedback("alerts", "list", cwd=tmp_path)
    assert run.code == 2, run
    assert "ANALYZER_API_KEY" in run.err
    assert "--analyzer-key" in run.err


def test_options_go_before_or_after_the_command(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    before = feedback("--analyzer-url", url, "alerts", "list", env=KEYS, cwd=tmp_path)
    after = feedback("alerts", "list", "--analyzer-url", url, env=KEYS, cwd=tmp_path)
    assert before.code == after.code == 3, (before, after)
    assert url in before.err
    assert url in after.err


def test_nothing_listening_exits_3_and_names_the_service(tmp_path: Path) -> None:
    port = free_port()
    run = feedback("accounts", "show", "acme", env={**KEYS, "ANALYZER_URL": f"http://127.0.0.1:{port}"}, cwd=tmp_path)
    assert run.code == 3, run
    assert f"cannot connect to analyzer at http://127.0.0.1:{port}" in run.err


def test_errors_are_json_on_stderr_with_json(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = feedback("--json", "alerts", "list", "--analyzer-url", url, env=KEYS, cwd=tmp_path)
    assert run.code == 3, run
    assert run.out == ""
    error = json.loads(run.err)
    assert error["exit_code"] == 3
    assert "cannot connect" in error["error"]


def test_a_bad_contacts_file_exits_5_before_sending_anything(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("account,person_id,role\nacme,p1,ceo\n,p2,it\nacme,p3,finance\n")
    # Nothing listens at the URL: had the command sent anything, it would exit 3.
    url = f"http://127.0.0.1:{free_port()}"
    run = feedback("contacts", "import", str(path), "--ingest-url", url, env=KEYS, cwd=tmp_path)
    assert run.code == 5, run
    assert "line 2: role" in run.err
    assert "line 3: account_id" in run.err
    missing = feedback("contacts", "import", str(tmp_path / "nope.csv"), "--ingest-url", url, env=KEYS, cwd=tmp_path)
    assert missing.code == 5, missing
    assert "cannot read" in missing.err


def test_a_dry_run_validates_and_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("account,person_id,email,role,side\nacme,p1,a@acme.example,it,client\n")
    url = f"http://127.0.0.1:{free_port()}"
    run = feedback("contacts", "import", str(path), "--dry-run", "--ingest-url", url, env=KEYS, cwd=tmp_path)
    assert run.code == 0, run
    assert "1 rows" in run.out
    assert "nothing was published" in run.out


# ---------------------------------------------------------------- config check

VALID = {
    "ENVIRONMENT": "production",
    "INGEST_API_KEYS": "ingest-secret-one,ingest-secret-two",
    "ANALYZER_API_KEYS": "analyzer-secret",
    "DATABASE_URL": "postgresql+asyncpg://feedback:db-password@db.internal:5432/feedback",
    "WEBHOOK_SECRET_ZENDESK": "zendesk-secret",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
    "PERSONAL_DATA_KEY": "cGVyc29uYWwtZGF0YS1rZXktb2YtdGhlLWNsaS10c3Q=",
}


def test_config_check_prints_the_effective_settings_with_every_secret_masked(tmp_path: Path) -> None:
    run = feedback("config", "check", env=VALID, cwd=tmp_path)
    assert run.code == 0, run
    secrets = ("ingest-secret-one", "ingest-secret-two", "analyzer-secret", "db-password", "zendesk-secret")
    for secret in (*secrets, VALID["PERSONAL_DATA_KEY"]):
        assert secret not in run.out + run.err
    assert "ingest: valid" in run.out
    assert "analyzer: valid" in run.out
    assert "postgresql+asyncpg://feedback:***@db.internal:5432/feedback" in run.out
    assert "2 key(s), masked" in run.out
    assert "kafka-1:9092,kafka-2:9092" in run.out


def test_config_check_json_names_values_and_their_sources(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("INGEST_PORT=9100\nLOG_LEVEL=debug\n")
    run = feedback("--json", "config", "check", env={**VALID, "LOG_LEVEL": "warning"}, cwd=tmp_path)
    assert run.code == 0, run
    report = run.json()
    assert report["valid"] is True
    ingest = {row["setting"]: row for row in report["services"]["ingest"]["settings"]}
    assert ingest["INGEST_PORT"]["value"] == "9100"
    assert ingest["INGEST_PORT"]["source"] == ".env"
    assert ingest["LOG_LEVEL"] == {"setting": "LOG_LEVEL", "value": "warning", "source": "environment"}
    assert ingest["INGEST_WORKERS"]["source"] == "default"
    assert ingest["WEBHOOK_SECRET_ZENDESK"]["value"] == "**********"
    assert "DATABASE_URL" not in ingest  # ingest has no database setting
    analyzer = {row["setting"]: row for row in report["services"]["analyzer"]["settings"]}
    assert analyzer["THRESHOLDS__DIVERGENCE_WARNING"]["value"] == "0.4"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"INGEST_PORT": "70000"}, "INGEST_PORT: Input should be less than or equal to 65535"),
        ({"ANALYZER_API_KEYS": "changeme"}, "ANALYZER_API_KEYS holds a development placeholder key"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL: unknown level 'CHATTY'"),
        ({"PERSONAL_DATA_KEY": ""}, "PERSONAL_DATA_KEY is required in production"),
        ({"PERSONAL_DATA_KEY": "changeme"}, "PERSONAL_DATA_KEY: PERSONAL_DATA_KEY must be base64 of exactly 32 bytes"),
        ({"TOPICS__EVENTS": ""}, None),  # valid: an empty name is the operator's choice, checked by Kafka
        ({"THRESHOLDS__DIVERGENCE_WARNING": "lots"}, "THRESHOLDS__DIVERGENCE_WARNING"),
        ({"EVENT_TIME_EARLIEST": "1800-01-01T00:00:00Z"}, "EVENT_TIME_EARLIEST"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_config_check_exits_4_naming_the_variable_a_service_would_refuse(
    override: dict[str, str], expected: str | None, tmp_path: Path
) -> None:
    run = feedback("config", "check", env={**VALID, **override}, cwd=tmp_path)
    if expected is None:
        assert run.code == 0, run
        return
    assert run.code == 4, run
    assert expected in run.out, run
    assert "INVALID" in run.out
    assert "configuration invalid" in run.err
    assert "analyzer-secret" not in run.out + run.err


def test_config_check_warns_of_a_misspelt_variable_and_fails_on_it_when_strict(tmp_path: Path) -> None:
    env = {**VALID, "INGEST_WORKER": "4"}
    lenient = feedback("config", "check", "--service", "ingest", env=env, cwd=tmp_path)
    assert lenient.code == 0, lenient
    assert "INGEST_WORKER is not a setting of either service and is ignored" in lenient.out
    assert "did you mean INGEST_WORKERS?" in lenient.out
    strict = feedback("config", "check", "--service", "ingest", "--strict", env=env, cwd=tmp_path)
    assert strict.code == 4, strict
    assert "analyzer:" not in strict.out  # --service ingest


def test_config_check_reads_the_env_file_named(tmp_path: Path) -> None:
    other = tmp_path / "deploy.env"
    other.write_text("ANALYZER_PORT=0\n")
    run = feedback("config", "check", "--env-file", str(other), env=VALID, cwd=tmp_path)
    assert run.code == 4, run
    assert "ANALYZER_PORT: Input should be greater than or equal to 1" in run.out
    assert str(other) in run.out


def test_a_cell_shows_control_characters_escaped_on_one_line() -> None:
    # A comment is a respondent's own text: a terminal escape in it must not reach the terminal.
    assert output.cell("clunky\x1b[2J admin\n console\x07") == "clunky\\x1b[2J admin console\\x07"
