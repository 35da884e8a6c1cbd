"""Ingest with several worker processes: one rate limit and one set of metrics across them."""

from __future__ import annotations

import json
import re
import struct
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.factories import INGEST_KEY, auth, create_survey
from tests.harness.processes import ServiceProcess

pytestmark = pytest.mark.e2e

BURST = 20


def posts_by_worker(metrics_dir: Path) -> Counter[str]:
    """How many ``POST /v1/events`` each worker process answered, read from its own counter file."""
    served: Counter[str] = Counter()
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        try:
            values = list(MmapedDict.read_all_values_from_file(str(path)))  # type: ignore[no-untyped-call]
        except struct.error:
            continue  # a worker is creating the file right now: it has answered nothing yet
        for key, value, _, _ in values:
            name, _, labels, _ = json.loads(key)
            if name == "http_requests" and labels.get("route") == "/v1/events" and labels.get("method") == "POST":
                served[pid] += int(value)
    return served


def test_workers_share_one_rate_limit_and_one_metrics_view(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env = service_env(
        kafka_bootstrap,
        topics,
        INGEST_WORKERS="2",
        INGEST_STATE_DIR=str(state),
        INGEST_RATE_LIMIT_PER_S="0.001",  # no refill worth a token during the test
        INGEST_RATE_LIMIT_BURST=str(BURST),
    )
    ingest = ServiceProcess("services.ingest", env, tmp_path / "ingest.log")
    ingest.start()
    try:
        statuses: list[int] = []
        # A new connection per request, so the kernel hands requests to either worker; go on until
        # both have answered posts (bounded), so a per-worker limit would have shown.
        while len(posts_by_worker(state / "metrics")) < 2 or len(statuses) < 3 * BURST:
            assert len(statuses) < 400, f"one worker answered every request: {posts_by_worker(state / 'metrics')}"
            with httpx.Client(base_url=ingest.url, headers=auth(INGEST_KEY), timeout=10) as client:
                response = client.post("/v1/events", json=create_survey(stakeholder_id=f"p{len(statuses)}"))
            statuses.append(response.status_code)
        assert statuses.count(202) == BURST
        assert statuses.count(429) == len(statuses) - BURST

        scrape = httpx.get(f"{ingest.url}/metrics", timeout=10).text
        counted = {
            status: float(value)
            for status, value in re.findall(
                r'http_requests_total\{method="POST",route="/v1/events",service="ingest",status="(\d+)"\} (\S+)', scrape
            )
        }
        assert counted == {"202": BURST, "429": len(statuses) - BURST}
    finally:
        ingest.stop()
    assert ingest.process is not None
    assert ingest.process.returncode == 0, ingest.log_tail()
