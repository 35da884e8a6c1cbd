"""Process entry point of the ingest service."""

from __future__ import annotations

import uvicorn

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.logging import configure_logging


def main() -> int:
    """Run ingest on ``INGEST_HOST:INGEST_PORT`` until SIGINT/SIGTERM."""
    settings = IngestSettings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    return 0
