"""Process entry point of the analyzer: ``python -m services.analyzer [serve|migrate]``."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from services.analyzer.app import create_app
from services.analyzer.migrate import upgrade
from services.analyzer.settings import AnalyzerSettings
from shared.logging import configure_logging

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """``serve`` (default): migrate, then consume and serve the API. ``migrate``: migrate only."""
    parser = argparse.ArgumentParser(prog="python -m services.analyzer")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    args = parser.parse_args(argv)
    settings = AnalyzerSettings()
    configure_logging(settings.log_level)
    if args.command == "migrate" or settings.analyzer_run_migrations:
        upgrade(settings.database_url)
        log.info("database migrated")
        if args.command == "migrate":
            return 0
    uvicorn.run(
        create_app(settings),
        host=settings.analyzer_host,
        port=settings.analyzer_port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
    return 0
