"""What every benchmark writes beside its figures: the machine, and its table in docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from deploy.kafka.broker import REPO

RESULTS = REPO / "docs" / "benchmarks"
DOC = REPO / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version()}


def write_table(name: str, table: str) -> None:
    """Replace the text between ``<!-- {name}-table:begin -->`` and its end marker in docs/benchmarks.md."""
    begin, end = f"<!-- {name}-table:begin -->", f"<!-- {name}-table:end -->"
    text = DOC.read_text()
    start, stop = text.index(begin) + len(begin), text.index(end)
    DOC.write_text(text[:start] + "\n" + table + "\n" + text[stop:])


def publish(name: str, label: str, record: dict[str, Any], table: str) -> Path:
    """Write ``record`` to ``docs/benchmarks/{name}-{label}.json``, print ``table``, and with the
    default label ``current`` put the table into docs/benchmarks.md; return the JSON's path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}-{label}.json"
    out.write_text(json.dumps({"label": label, "machine": machine(), **record}, indent=2) + "\n")
    print("\n" + table)
    if label == "current":
        write_table(name, table)
    print(f"\nwritten {out.relative_to(REPO)}")
    return out
