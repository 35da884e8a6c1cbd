"""``feedback contacts import``: a CRM contacts export (CSV) into the stakeholder directory.

The product's directory is fed by ``stakeholder`` events; this command turns each CSV row into one
(with the reading and validation of ``services.ingest.contacts``) and posts them to ingest's
``/v1/events/batch`` in batches. Every row is checked before anything is sent, so a bad file
publishes nothing. Ingest derives each event's id from its content, so re-running an import after a
failure half-way publishes no duplicate: the analyzer applies each event once.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.cli import output
from services.cli.client import ApiClient, service_error
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import InvalidInput, ServiceError

NAME = "contacts"
HELP = "import a CRM contacts export (CSV) into the stakeholder directory (ingest)"
RETRIED = {429, 503}  # rate limited, or Kafka unavailable: both say when to come back
MAX_WAIT_S = 60.0


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``contacts import``."""
    group = add_group(commands, NAME, HELP)
    cmd = add_command(
        group,
        "import",
        import_contacts,
        common,
        help="publish one stakeholder event per CSV row through ingest",
        description=(
            "Publish one stakeholder event per CSV row through ingest.\n\n"
            "Columns (header row, any case): account (or account_id), person_id (or stakeholder_id),\n"
            "email, role, side; optional name, influence, aliases (separated by ';'). The e-mail becomes\n"
            "an alias. Every row is validated first: one bad row publishes nothing. Re-running is safe."
        ),
    )
    cmd.add_argument("csv", type=Path, metavar="FILE.csv")
    cmd.add_argument("--as-of", help="the export's time, RFC 3339 (default: now)")
    cmd.add_argument("--batch-size", type=int, default=500, help="events per request (default 500, ingest's limit)")
    cmd.add_argument("--retries", type=int, default=5, help="attempts per batch on 429/503, honouring Retry-After")
    cmd.add_argument("--dry-run", action="store_true", help="validate the file and send nothing")


def import_contacts(ctx: Context) -> int:
    """Read and validate every row, then publish in batches with progress on stderr."""
    a = ctx.args
    if a.batch_size < 1 or a.retries < 1:
        raise InvalidInput("--batch-size and --retries must be at least 1")
    events = load(a.csv, as_of=a.as_of or datetime.now(UTC).isoformat(timespec="seconds"))
    published = 0
    if not a.dry_run:
        client = ctx.client("ingest")
        for start in range(0, len(events), a.batch_size):
            batch = events[start : start + a.batch_size]
            try:
                published += post_batch(client, batch, attempts=a.retries, quiet=ctx.quiet)
            except ServiceError as exc:
                exc.message += f"; {published} of {len(events)} events were published (re-running the import is safe)"
                exc.details["published"] = published
                raise
            if not ctx.quiet:
                output.note(f"published {published}/{len(events)} events")
    result = {"file": str(a.csv), "rows": len(events), "published": published, "dry_run": a.dry_run}
    if ctx.json:
        output.emit_json(result)
    elif a.dry_run:
        print(f"{len(events)} rows of {a.csv} are valid; nothing was published (--dry-run)")
    else:
        print(f"published {published} directory events from {a.csv}")
    return 0


def load(path: Path, *, as_of: str) -> list[dict[str, Any]]:
    """The file's rows as validated stakeholder events; ``InvalidInput`` naming every bad line."""
    # Imported here: the event schemas are needed by this command only, and cost every command time.
    from services.ingest.contacts import ContactsImportError, read_rows, to_events

    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            return to_events(read_rows(stream), occurred_at=as_of)
    except ContactsImportError as exc:
        raise InvalidInput(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def post_batch(client: ApiClient, batch: list[dict[str, Any]], *, attempts: int, quiet: bool) -> int:
    """Post one batch; on 429 or 503 wait as the answer says and try again, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        response = client.send("POST", "/v1/events/batch", json={"events": batch})
        if response.status_code == 202:
            return int(response.json()["accepted"])
        if response.status_code not in RETRIED or attempt == attempts:
            raise service_error(client.name, response)
        wait = _retry_after(response.headers.get("retry-after"))
        if not quiet:
            status = response.status_code
            output.note(f"ingest answered {status}; retrying in {wait:.0f}s (attempt {attempt}/{attempts})")
        time.sleep(wait)  # the service's own back-off instruction, not a stand-in for synchronisation
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(header: str | None) -> float:
    try:
        return min(max(float(header or 1), 0.0), MAX_WAIT_S)
    except ValueError:
        return 1.0
