"""Import a CRM contacts export (CSV) as directory events, through the ingest API.

    python -m services.ingest.contacts contacts.csv --url http://localhost:8000 --key "$INGEST_API_KEY"

Columns (header row, names case-insensitive): ``account`` (or ``account_id``), ``person_id`` (or
``stakeholder_id``), ``email``, ``role``, ``side``; optional ``name``, ``influence``, ``aliases``
(separated by ``;``). The email becomes an alias, so vendor answers that name the person only by
email are attributed to them. Every row is validated first; one bad row publishes nothing and the
report names the line and field. Re-running an import is safe: event ids derive from the content.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic import ValidationError

from shared.events import EVENT_ADAPTER

ALIASES = {
    "account": "account",
    "account_id": "account",
    "person_id": "person",
    "stakeholder_id": "person",
    "email": "email",
    "role": "role",
    "side": "side",
    "name": "name",
    "influence": "influence",
    "aliases": "aliases",
}
BATCH = 500


class ContactsImportError(Exception):
    """The file cannot be imported; the message says where and why."""


def read_rows(stream: TextIO) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for every data row, with the columns renamed to their canonical names."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        raise ContactsImportError("the file is empty")
    columns = {name: ALIASES.get(name.strip().lower().replace(" ", "_")) for name in reader.fieldnames}
    missing = {"account", "person"} - {c for c in columns.values() if c}
    if missing:
        raise ContactsImportError(f"missing column(s): {', '.join(sorted(missing))}")
    rows = []
    for row in reader:
        cleaned: dict[str, str] = {}
        for column, value in row.items():
            canonical = columns.get(column) if column is not None else None
            if canonical is not None:
                cleaned[canonical] = (value or "").strip()
        rows.append((reader.line_num, cleaned))
    return rows


def to_events(rows: Iterable[tuple[int, dict[str, str]]], *, occurred_at: str) -> list[dict[str, Any]]:
    """Stakeholder events for the rows; raises with every invalid line and field listed."""
    events, errors = [], []
    for line, row in rows:
        aliases = [a.strip() for a in row.get("aliases", "").split(";") if a.strip()]
        if row.get("email"):
            aliases.insert(0, row["email"])
        event: dict[str, Any] = {
            "type": "stakeholder",
            "account_id": row.get("account", ""),
            "stakeholder_id": row.get("person", ""),
            "occurred_at": occurred_at,
            "aliases": list(dict.fromkeys(aliases)),
        }
        for field in ("role", "side", "name"):
            if row.get(field):
                event[field] = row[field].lower() if field != "name" else row[field]
        if row.get("influence"):
            event["influence"] = row["influence"]
        try:
            EVENT_ADAPTER.validate_python(event)
        except ValidationError as exc:
            errors += [f"line {line}: {'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
            continue
        events.append(event)
    if errors:
        raise ContactsImportError("nothing was published; fix these rows:\n" + "\n".join(errors))
    return events


def publish(client: httpx.Client, events: Sequence[dict[str, Any]]) -> int:
    """Post the events in batches; return how many ingest accepted."""
    accepted = 0
    for start in range(0, len(events), BATCH):
        response = client.post("/v1/events/batch", json={"events": list(events[start : start + BATCH])})
        if response.status_code != 202:
            raise ContactsImportError(
                f"ingest answered {response.status_code} after {accepted} events: {response.text[:500]}",
            )
        accepted += int(response.json()["accepted"])
    return accepted


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m services.ingest.contacts", description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--url", default=os.environ.get("INGEST_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("INGEST_API_KEY"), help="or INGEST_API_KEY")
    parser.add_argument("--as-of", default=None, help="the export's time (RFC 3339); default now")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("an API key is required (--key or INGEST_API_KEY)")
    occurred_at = args.as_of or datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with args.csv.open(newline="", encoding="utf-8-sig") as stream:
            events = to_events(read_rows(stream), occurred_at=occurred_at)
        with httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {args.key}"}, timeout=60) as client:
            accepted = publish(client, events)
    except (ContactsImportError, OSError, httpx.HTTPError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"published {accepted} directory events from {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
