"""The analyzer's batch path alone: the seeded stream applied in process, no Kafka, for profiling.

``python -m bench.batch_path --events 20000 --accounts 1000 --backend sqlite`` migrates a fresh
database (SQLite file, or PostgreSQL in a private cluster), then applies ``bench/stream.py``'s stream
through ``EventProcessor.process_batch`` in consumer-sized batches (``--batch-records``, the
analyzer's default when omitted), one transaction each, exactly as the consumer does after a poll.
It prints the events per second of wall-clock time and of the process's CPU time (the second is the
steadier on a shared machine). With ``--digest FILE`` it writes every account's model document and
alert row, wall-clock times masked, so that two trees' results can be compared byte for byte (a
speed-up must not change what the analyzer computes). ``--profile FILE`` writes a cProfile of the
applying. The live figures, Kafka included, are ``bench/analyzer.py``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import stream
from services.analyzer.app import model_config, request_config
from services.analyzer.db.engine import create_engine, create_sessionmaker, pin_for_unit_of_work
from services.analyzer.processing import SCHEMA, EventProcessor, RecordMeta
from services.analyzer.settings import AnalyzerSettings
from tests.harness.databases import create_database
from tests.harness.postgres import PostgresCluster, start_cluster

# Wall-clock times (created_at, resolved at) differ from run to run; event times do not.
_WALL_CLOCK = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00")


async def apply(
    sessions: async_sessionmaker[AsyncSession], processor: EventProcessor, raws: list[bytes], batch: int
) -> None:
    """Apply ``raws`` in batches of ``batch``, one transaction each, as the consumer does."""
    for start in range(0, len(raws), batch):
        chunk = raws[start : start + batch]
        metas = [RecordMeta("bench.events", 0, start + i, b"bench", SCHEMA, 0) for i in range(len(chunk))]
        async with sessions() as session, session.begin():
            pin_for_unit_of_work(session)
            await processor.process_batch(session, list(zip(chunk, metas, strict=True)))
            await session.flush()


async def digest(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every model row and alert row as text, JSON parsed and today's wall-clock times masked."""
    lines: list[str] = []
    async with sessions() as session:
        for query in (
            "SELECT account_id, document, as_of, account_mean, divergence, nps, risk FROM account_models "
            "ORDER BY account_id",
            "SELECT alert_id, account_id, severity, status, active, record, seq, announced, notified FROM alerts "
            "ORDER BY alert_id",
        ):
            for row in (await session.execute(text(query))).all():
                values = [json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row]
                lines.append(repr(tuple(values)))
    today = time.strftime("%Y-%m-%d")
    return [_WALL_CLOCK.sub(lambda m: "NOW" if m.group(0).startswith(today) else m.group(0), line) for line in lines]


async def run(args: argparse.Namespace, url: str) -> tuple[dict[str, Any], list[str]]:
    """Apply the stream to ``url``: the figures, and the digest when asked (the profile is written)."""
    settings = AnalyzerSettings(environment="test", database_url=url, event_time_max_future_s=366 * 86_400)
    processor = EventProcessor(
        settings.topics,
        model_config(settings),
        time_policy=settings.time_policy,
        requests=request_config(settings),
        dedup_window=timedelta(seconds=settings.analyzer_dedup_window_s),
    )
    batch = args.batch_records or settings.analyzer_max_batch_records
    events = stream.stream(events=args.events, accounts=args.accounts)
    raws = [json.dumps(e, separators=(",", ":")).encode() for e in events]
    engine = create_engine(url, writer=True)
    sessions = create_sessionmaker(engine)
    profiler = cProfile.Profile() if args.profile else None
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        await apply(sessions, processor, raws, batch)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        state = await digest(sessions) if args.digest else []
    finally:
        await engine.dispose()
    return {
        "backend": args.backend,
        "events": len(raws),
        "batch_records": batch,
        "seconds": round(wall, 2),
        "events_per_s": round(len(raws) / wall, 1),
        "events_per_cpu_s": round(len(raws) / cpu, 1),
    }, state


def main(argv: list[str] | None = None) -> int:
    """Apply the stream once and print its figures as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.batch_path")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--batch-records", type=int, default=None, help="default: the analyzer's own default")
    parser.add_argument("--digest", help="write the resulting state here, to compare two trees")
    parser.add_argument("--profile", help="write a cProfile of the applying here")
    args = parser.parse_args(argv)
    cluster: PostgresCluster | None = start_cluster() if args.backend == "postgres" else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
            url = create_database(args.backend, tmp_path=Path(tmp), pg_admin_url=cluster.url if cluster else None)
            figures, state = asyncio.run(run(args, url))
    finally:
        if cluster is not None:
            cluster.stop()
    if args.digest:
        Path(args.digest).write_text("\n".join(state) + "\n")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
