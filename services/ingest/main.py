"""Process entry point of the ingest service: one process, or a supervisor of ``INGEST_WORKERS``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final

import uvicorn
from fastapi import FastAPI

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.logging import configure_logging
from shared.settings import settings_or_exit

# The server options of every ingest process, shared with the benchmark's bare endpoint so that the
# two are measured on the same footing. uvloop and httptools are named rather than left to "auto",
# so a missing one is a start-up error instead of a silent fallback to the slower pure-Python parts.
SERVER_OPTIONS: Final[dict[str, Any]] = {
    "loop": "uvloop",
    "http": "httptools",
    "log_config": None,
    "access_log": False,
    # X-Forwarded-For is read by the app (shared/proxies.py), which refuses "*" and groups IPv6.
    "proxy_headers": False,
    "server_header": False,
}


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn calls this in each worker it spawns)."""
    settings = settings_or_exit(IngestSettings)
    configure_logging(settings.log_level)
    return create_app(settings)


def main() -> int:
    """Run ingest on ``INGEST_HOST:INGEST_PORT`` until SIGINT/SIGTERM."""
    settings = settings_or_exit(IngestSettings)
    configure_logging(settings.log_level)
    if settings.ingest_workers == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.ingest_host,
            port=settings.ingest_port,
            **SERVER_OPTIONS,
        )
        return 0
    # Several workers share one listening socket. What must hold across them lives in files every
    # worker maps: the rate-limit table and Prometheus' per-process counters, summed at each scrape.
    # The environment is how spawned workers learn where; it is set before any worker starts.
    state = settings.ingest_state_dir or Path(tempfile.mkdtemp(prefix="ingest-"))
    metrics = state / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)  # counters of an earlier run are not this run's
    metrics.mkdir(parents=True)
    for table in ("rate-limits", "auth-failures"):
        (state / table).unlink(missing_ok=True)
    os.environ["INGEST_STATE_DIR"] = str(state)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    try:
        uvicorn.run(
            "services.ingest.main:worker_app",
            factory=True,
            workers=settings.ingest_workers,
            host=settings.ingest_host,
            port=settings.ingest_port,
            **SERVER_OPTIONS,
        )
    finally:
        if settings.ingest_state_dir is None:
            shutil.rmtree(state, ignore_errors=True)
    return 0
