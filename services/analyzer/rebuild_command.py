"""The rebuild as a command: migrate the fresh database, replay the topic with progress on stderr."""

from __future__ import annotations

import asyncio
import sys

from services.analyzer.migrate import upgrade
from services.analyzer.rebuild import DEFAULT_BATCH_RECORDS, Progress, RebuildError, rebuild
from services.analyzer.settings import AnalyzerSettings


def time_left(seconds: float | None) -> str:
    """An estimate of the time left, as people read it: ``~45 s left``, ``~3 min 20 s left``, ``~1 h 05 min left``.

    Coarser as it grows (to 5 s under ten minutes, to the minute above), since it is only an estimate.
    """
    if seconds is None:
        return "estimating the time left"
    if seconds <= 0:
        return "done"
    if seconds < 60:
        return f"~{max(1, round(seconds))} s left"
    if seconds < 600:
        whole = 5 * round(seconds / 5)
        minutes, rest = divmod(whole, 60)
        return f"~{minutes} min {rest} s left" if rest else f"~{minutes} min left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"~{minutes} min left"
    hours, rest = divmod(minutes, 60)
    return f"~{hours} h {rest:02d} min left"


def progress_line(progress: Progress) -> str:
    """The progress line: records done of the total, share, rate (recent, once known) and the time left."""
    share = 100.0 * progress.applied / progress.total if progress.total else 100.0
    rate = progress.recent_rate or progress.rate
    return (
        f"rebuild: {progress.applied:,}/{progress.total:,} records ({share:5.1f} %), {rate:,.0f}/s, "
        f"{time_left(progress.left_s)}"
    )


def _show(progress: Progress) -> None:
    # Padded, so a shorter line fully covers the one it overwrites.
    print(f"\r{progress_line(progress):<96}", end="", file=sys.stderr, flush=True)


def run_rebuild(
    settings: AnalyzerSettings,
    *,
    allow_partial: bool = False,
    quiet: bool = False,
    batch_records: int | None = None,
) -> int:
    """Rebuild ``settings.database_url`` from the events topic, ``batch_records`` records per transaction
    (``DEFAULT_BATCH_RECORDS`` when None); 0 when done, 1 when refused or failed."""
    batch_records = batch_records or DEFAULT_BATCH_RECORDS
    upgrade(settings.database_url)
    try:
        report = asyncio.run(
            rebuild(
                settings,
                allow_partial=allow_partial,
                batch_records=batch_records,
                on_progress=None if quiet else _show,
            )
        )
    except RebuildError as exc:
        print(f"rebuild refused: {exc}", file=sys.stderr)
        return 1
    if not quiet:
        print(file=sys.stderr)
    outcomes = ", ".join(f"{n:,} {name}" for name, n in sorted(report.outcomes.items())) or "nothing to apply"
    rate = report.records / report.elapsed_s if report.elapsed_s > 0 else 0.0
    print(
        f"rebuilt from {report.records:,} records on {report.partitions} partitions in {report.elapsed_s:.1f} s "
        f"({rate:,.0f}/s, batches of {batch_records:,}): {outcomes}",
        file=sys.stderr,
    )
    return 0
