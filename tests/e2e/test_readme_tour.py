"""The README's five-minute tour, run as written against live services: the README stays true.

The commands between ``<!-- tour:start -->`` and ``<!-- tour:end -->`` run in bash (only the ports
change), with the README's webhook receiver listening; the receiver must print exactly the lines the
README shows.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.kafka.broker import REPO, free_port
from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.e2e
README = REPO / "README.md"
DEV_KEYS = {"INGEST_API_KEYS": "dev-ingest-key", "ANALYZER_API_KEYS": "dev-analyzer-key"}


def tour_commands() -> str:
    text = README.read_text()
    block = text.split("<!-- tour:start -->", 1)[1].split("<!-- tour:end -->", 1)[0]
    return block.split("```sh", 1)[1].rsplit("```", 1)[0]


def promised_lines() -> set[str]:
    text = README.read_text()
    after = text.split("<!-- tour:end -->", 1)[1]
    block = after.split("```\n", 2)[1]
    return {line for line in block.splitlines() if line.strip()}


async def test_the_readme_tour_delivers_the_alerts_it_shows(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    env = service_env(
        kafka_bootstrap,
        topics,
        **DEV_KEYS,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'tour.db'}",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
    )
    ingest = ServiceProcess("services.ingest", env, tmp_path / "ingest.log")
    analyzer = ServiceProcess("services.analyzer", env, tmp_path / "analyzer.log")
    receiver_port = free_port()
    printed = tmp_path / "receiver.out"
    receiver = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.webhook_receiver", "--port", str(receiver_port)],
        cwd=REPO,
        stdout=printed.open("wb"),
        stderr=subprocess.STDOUT,
    )
    ingest.start()
    analyzer.start()
    try:
        commands = (
            tour_commands()
            .replace("localhost:8000", ingest.url.removeprefix("http://"))
            .replace("localhost:8001", analyzer.url.removeprefix("http://"))
            .replace("127.0.0.1:9000", f"127.0.0.1:{receiver_port}")
        )
        done = await asyncio.to_thread(
            subprocess.run, ["bash", "-euo", "pipefail", "-c", commands], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert '"accepted": 5' in done.stdout, done.stdout

        wanted = promised_lines()
        assert wanted, "the README shows what the receiver prints"

        def lines() -> set[str]:
            return {re.sub(r"\s+$", "", line) for line in printed.read_text().splitlines()[1:] if line.strip()}

        async def all_printed() -> bool:
            return lines() >= {re.sub(r"\s+$", "", w) for w in wanted}

        await wait_until(all_printed, timeout_s=30, what="the README's alerts at the receiver")
        assert lines() == {re.sub(r"\s+$", "", w) for w in wanted}, "nothing more than the README shows"
    finally:
        analyzer.stop()
        ingest.stop()
        receiver.terminate()
        receiver.wait(timeout=10)
