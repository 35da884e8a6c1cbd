"""The ceiling of ingest's HTTP path: a bare FastAPI endpoint that parses the same JSON and answers 202.

``python -m bench.bare --port N`` serves ``POST /v1/events`` and ``POST /v1/events/batch`` with the
server options of ingest itself (``services.ingest.main.SERVER_OPTIONS``) and nothing else: no
validation, no authentication, no Kafka. What ingest reaches beside it is its share of what the
framework allows on this machine.
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from fastapi import FastAPI, Request, status

from services.ingest.main import SERVER_OPTIONS


def create_app() -> FastAPI:
    """Two routes that decode the body and count its events."""
    app = FastAPI()

    @app.post("/v1/events", status_code=status.HTTP_202_ACCEPTED)
    async def one(request: Request) -> dict[str, object]:
        event = json.loads(await request.body())
        return {"accepted": 1, "event_ids": [str(event.get("event_id"))]}

    @app.post("/v1/events/batch", status_code=status.HTTP_202_ACCEPTED)
    async def batch(request: Request) -> dict[str, object]:
        events = json.loads(await request.body())["events"]
        return {"accepted": len(events), "event_ids": [str(e.get("event_id")) for e in events]}

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the bare endpoint on loopback."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, **SERVER_OPTIONS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
