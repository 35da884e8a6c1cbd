"""Process entry point of the analyzer: ``python -m services.analyzer [serve|migrate|wait-for-schema|rebuild]``."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from services.analyzer.app import create_app
from services.analyzer.migrate import upgrade, wait_until_current
from services.analyzer.settings import AnalyzerSettings
from shared.logging import configure_logging
from shared.settings import settings_or_exit

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """``serve`` (default): migrate, then consume and serve the API. ``migrate``: migrate only.
    ``rebuild``: migrate, then replay the events topic into the (fresh) database (docs/operations.md).

    ``wait-for-schema``: exit 0 once another step has migrated the database to head, 1 after
    ``--timeout`` seconds (a Kubernetes init container of replicas that do not migrate themselves).
    """
    parser = argparse.ArgumentParser(prog="python -m services.analyzer")
    parser.add_argument(
        "command", nargs="?", choices=["serve", "migrate", "wait-for-schema", "rebuild"], default="serve"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="wait-for-schema: seconds before giving up")
    parser.add_argument(
        "--allow-partial", action="store_true", help="rebuild: accept a topic whose retention deleted events"
    )
    parser.add_argument(
        "--batch-records", type=int, default=None, metavar="N", help="rebuild: records per transaction (default 5,000)"
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit(AnalyzerSettings)
    configure_logging(settings.log_level)
    if args.command == "rebuild":
        from services.analyzer.rebuild_command import run_rebuild

        if args.batch_records is not None and args.batch_records < 1:
            parser.error("--batch-records must be at least 1")
        return run_rebuild(settings, allow_partial=args.allow_partial, batch_records=args.batch_records)
    if args.command == "wait-for-schema":
        if wait_until_current(settings.database_url, timeout_s=args.timeout):
            log.info("database schema at head")
            return 0
        log.error("database schema not at head", extra={"timeout_s": args.timeout})
        return 1
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
        proxy_headers=False,  # X-Forwarded-For is read by the app (shared/proxies.py)
    )
    return 0
