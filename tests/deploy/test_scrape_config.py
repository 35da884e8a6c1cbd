"""deploy/prometheus/scrape.yml: the scrape jobs the alert rules name, the analyzer's with its read key."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.deploy.alert_rules import REPO, RULES_FILE

SCRAPE_FILE = REPO / "deploy" / "prometheus" / "scrape.yml"


def jobs() -> dict[str, Any]:
    return {job["job_name"]: job for job in yaml.safe_load(SCRAPE_FILE.read_text())["scrape_configs"]}


def test_the_jobs_are_the_ones_the_alert_rules_name() -> None:
    named = set(re.findall(r'job="([a-z]+)"', RULES_FILE.read_text()))
    assert named == set(jobs()) == {"ingest", "analyzer"}


def test_the_analyzer_is_scraped_with_a_bearer_key_from_a_file() -> None:
    analyzer = jobs()["analyzer"]
    assert analyzer["metrics_path"] == "/metrics"
    assert analyzer["authorization"]["type"] == "Bearer"
    assert analyzer["authorization"]["credentials_file"].startswith("/")
    assert "credentials" not in analyzer["authorization"], "a key is never written into the config"
