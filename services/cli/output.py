"""Printing results: JSON for scripts, aligned tables and field lists for people, notes on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Column = tuple[str, Callable[[Mapping[str, Any]], Any]]
MISSING = "-"


def emit_json(value: Any) -> None:
    """The value as indented JSON on stdout."""
    print(json.dumps(value, indent=2, sort_keys=False, default=str))


def note(message: str) -> None:
    """A message for the operator on stderr (progress, warnings), never mixed into the result."""
    print(message, file=sys.stderr, flush=True)


def cell(value: Any) -> str:
    """One value as table text: ``-`` for none, signed two decimals for floats, lists joined."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:+.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or MISSING
    # One line, whatever the value holds, and no control character (a terminal escape in a comment
    # or a name must not reach the terminal): each is shown escaped, ESC as the text \x1b.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in " ".join(str(value).split()))


def field(name: str, key: str | None = None) -> Column:
    """A column showing ``row[key]`` (``key`` defaults to ``name`` lower-cased, spaces as underscores)."""
    key = key or name.lower().replace(" ", "_")
    return name, lambda row: row.get(key)


def table_lines(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], *, empty: str = "(none)") -> list[str]:
    """Rows as the lines of a table with a header, columns padded to their widest cell."""
    body = [[cell(get(row)) for _, get in columns] for row in rows]
    if not body:
        return [empty]
    header = [name for name, _ in columns]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(columns))]
    return [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *body]
    ]


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], *, empty: str = "(none)") -> None:
    """Rows as a table with a header, columns padded to their widest cell, on stdout."""
    for line in table_lines(rows, columns, empty=empty):
        print(line)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """``name  value`` lines, names aligned."""
    width = max((len(name) for name, _ in pairs), default=0)
    for name, value in pairs:
        print(f"{name.ljust(width)}  {value if isinstance(value, str) else cell(value)}")
