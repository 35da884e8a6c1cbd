"""The alerting rules name only metrics the running services expose, and the lag metric is live.

deploy/prometheus/alerts.yml cannot drift from the code: both services are started, scraped, and
every metric name in a rule's expression must be among the series their scrapes can hold. Every
metric they expose must be in the metrics table of docs/operations.md.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.settings import Topics
from tests.deploy.alert_rules import REPO, SCRAPE_SERIES, exposed_names, load_rules, rule_metric_names
from tests.e2e.test_pipeline import analyzer_process, applied, post_batch
from tests.factories import create_survey
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e


def scrape(service: ServiceProcess) -> list[tuple[str, str, list[tuple[dict[str, str], float]]]]:
    """Each metric family of the service's /metrics: name, type, and its samples (labels, value)."""
    text = httpx.get(f"{service.url}/metrics", timeout=10).text
    return [
        (family.name, family.type, [(sample.labels, sample.value) for sample in family.samples])
        for family in text_string_to_metric_families(text)
    ]


async def lag_samples(analyzer: ServiceProcess) -> dict[str, float]:
    """``analyzer_consumer_lag`` by partition."""
    return {
        labels["partition"]: value
        for name, _, samples in scrape(analyzer)
        if name == "analyzer_consumer_lag"
        for labels, value in samples
    }


async def test_every_metric_in_the_alerting_rules_is_exposed(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, sqlite_url: str, tmp_path: Path
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, sqlite_url, tmp_path, "metrics", ANALYZER_LAG_INTERVAL_S="0.2")
    analyzer.start()
    try:
        events = [create_survey(event_id=f"m{n}", account_id=f"acct-{n}") for n in range(12)]
        assert (await post_batch(ingest, events)).status_code == 202
        await wait_for_value(lambda: applied(analyzer), lambda n: n == len(events), what="the events applied")
        # The consumer holds every partition of the events topic and has processed all of it.
        lag = await wait_for_value(
            lambda: lag_samples(analyzer),
            lambda by_partition: len(by_partition) == 6 and sum(by_partition.values()) == 0,
            what="a lag of 0 on each of the six partitions",
        )
        assert set(lag) == {str(p) for p in range(6)}

        families = [(name, kind) for service in (ingest, analyzer) for name, kind, _ in scrape(service)]
    finally:
        analyzer.stop()
    exposed = exposed_names(families) | SCRAPE_SERIES
    missing = {
        alert: sorted(names - exposed) for alert, names in rule_metric_names(load_rules()).items() if names - exposed
    }
    assert missing == {}, f"rules naming metrics no service exposes: {missing}"
    runbook = (REPO / "docs" / "operations.md").read_text()
    # prometheus_client adds a `<name>_created` gauge beside each counter and histogram: not ours to list.
    undocumented = {
        name
        for name, kind in families
        if f"`{name}`" not in runbook
        and not (kind == "counter" and f"`{name}_total`" in runbook)
        and not name.endswith("_created")
    }
    assert undocumented == set(), f"metrics missing from docs/operations.md: {sorted(undocumented)}"
