"""deploy/prometheus/alerts.yml: a valid Prometheus rule file, checked without Prometheus.

The live half (every metric an expression names is exposed by the running services) is
tests/e2e/test_metrics_exposed.py.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.deploy.alert_rules import REPO, load_rules, metric_names, rule_metric_names, structure_problems


def test_the_rules_file_has_the_structure_of_a_prometheus_rule_file() -> None:
    assert structure_problems(load_rules()) == []


def test_the_rules_cover_what_operations_asks_for() -> None:
    used = set().union(*rule_metric_names(load_rules()).values())
    wanted = {
        "analyzer_consumer_lag",  # consumer lag
        "analyzer_events_dead_lettered",  # DLQ rate
        "analyzer_webhook_attempts_failed",  # webhook failures
        "analyzer_webhook_given_up",  # deliveries given up
        "http_requests_total",  # ingest 503 rate
        "ingest_auth_failures_total",  # failed authentication, 429
        "analyzer_consumer_connected",  # analyzer not ready
        "process_start_time_seconds",  # restarts
    }
    assert wanted <= used, wanted - used


def test_every_runbook_section_a_rule_points_to_exists() -> None:
    headings = set(re.findall(r"^### (.+)$", (REPO / "docs" / "operations.md").read_text(), re.MULTILINE))
    pointed = {
        section
        for group in load_rules()["groups"]
        for rule in group["rules"]
        for section in re.findall(r"docs/operations\.md, '([^']+)'", rule["annotations"]["description"])
    }
    assert pointed, "no rule points to the runbook: the check below would prove nothing"
    assert pointed - headings == set()


def _break(document: Any, how: str) -> Any:
    broken = copy.deepcopy(document)
    rule = broken["groups"][0]["rules"][0]
    if how == "no groups":
        broken = {"rules": []}
    elif how == "duplicate alert":
        broken["groups"][0]["rules"].append(copy.deepcopy(rule))
    elif how == "bad duration":
        rule["for"] = "five minutes"
    elif how == "no severity":
        rule["labels"] = {}
    elif how == "unbalanced":
        rule["expr"] = "sum(rate(x[5m])"
    elif how == "unknown key":
        rule["severity"] = "critical"
    elif how == "no description":
        rule["annotations"] = {"summary": "s"}
    return broken


@pytest.mark.parametrize(
    "how",
    ["no groups", "duplicate alert", "bad duration", "no severity", "unbalanced", "unknown key", "no description"],
)
def test_each_kind_of_broken_file_is_caught(how: str) -> None:
    assert structure_problems(_break(load_rules(), how)) != []


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('up{job="analyzer"} == 0', {"up"}),
        ("sum by (topic) (analyzer_consumer_lag) > 10000", {"analyzer_consumer_lag"}),
        (
            'sum(rate(http_requests_total{service="ingest",status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
            {"http_requests_total"},
        ),
        (
            "changes(process_start_time_seconds[1h]) > 2 and on (job) x_total offset 5m > 1e3",
            {
                "process_start_time_seconds",
                "x_total",
            },
        ),
        ('histogram_quantile(0.99, sum by (le) (rate(d_bucket{route="/v1/events"}[5m]))) > 0.5', {"d_bucket"}),
    ],
)
def test_metric_names_are_read_from_an_expression(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
