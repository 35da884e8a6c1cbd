"""The rebuild as a command: migrate the fresh database, replay the topic with progress on stderr."""

from __future__ import annotations

import asyncio
import sys

from services.analyzer.migrate import upgrade
from services.analyzer.rebuild import Progress, RebuildError, rebuild
from services.analyzer.settings import AnalyzerSettings


def _show(progress: Progress) -> None:
    share = 100.0 * progress.applied / progress.total if progress.total else 100.0
    print(
        f"\rrebuild: {progress.applied:,}/{progress.total:,} records ({share:5.1f} %), {progress.rate:,.0f}/s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def run_rebuild(settings: AnalyzerSettings, *, allow_partial: bool = False, quiet: bool = False) -> int:
    """Rebuild ``settings.database_url`` from the events topic; 0 when done, 1 when refused or failed."""
    upgrade(settings.database_url)
    try:
        report = asyncio.run(rebuild(settings, allow_partial=allow_partial, on_progress=None if quiet else _show))
    except RebuildError as exc:
        print(f"rebuild refused: {exc}", file=sys.stderr)
        return 1
    if not quiet:
        print(file=sys.stderr)
    outcomes = ", ".join(f"{n:,} {name}" for name, n in sorted(report.outcomes.items())) or "nothing to apply"
    print(
        f"rebuilt from {report.records:,} records on {report.partitions} partitions in {report.elapsed_s:.1f} s: "
        f"{outcomes}",
        file=sys.stderr,
    )
    return 0
