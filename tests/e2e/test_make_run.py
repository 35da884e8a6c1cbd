"""``make run`` as a supervisor: when make itself is killed, everything it started stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deploy.kafka.broker import REPO, free_port, port_open
from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.e2e


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_killing_make_stops_the_supervisor_and_the_services(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    ingest_port, analyzer_port = free_port(), free_port()
    env = {
        **os.environ,
        **service_env(kafka_bootstrap, topics),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "INGEST_PORT": str(ingest_port),
        "ANALYZER_PORT": str(analyzer_port),
    }
    # A shell standing in for make: it stays the parent of the supervisor, as make does.
    make = subprocess.Popen(
        ["/bin/sh", "-c", f"{sys.executable} -m deploy.local.run; exit $?"],
        env=env,
        cwd=REPO,
        stdout=(tmp_path / "run.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    started: list[int] = []
    try:

        async def both_ready() -> bool:
            async with httpx.AsyncClient(timeout=1) as client:
                try:
                    for port in (ingest_port, analyzer_port):
                        if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code != 200:
                            return False
                except httpx.HTTPError:
                    return False
            return True

        await wait_until(both_ready, timeout_s=90, what="make run's services to be ready")
        [supervisor] = children_of(make.pid)
        services = children_of(supervisor)
        started.extend([supervisor, *services])
        assert len(services) == 2

        make.send_signal(signal.SIGTERM)
        make.wait(10)

        async def all_stopped() -> bool:
            return not any(alive(pid) for pid in (supervisor, *services))

        await wait_until(all_stopped, timeout_s=40, what="the supervisor and services to stop")
        assert not port_open("127.0.0.1", ingest_port)
        assert not port_open("127.0.0.1", analyzer_port)
    finally:
        if make.poll() is None:
            make.kill()
        for pid in started:  # whatever outlived a failed run
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
