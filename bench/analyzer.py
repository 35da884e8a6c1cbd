"""How fast the analyzer applies a backlog: events/s from start to caught up, on SQLite and PostgreSQL.

``python -m bench.analyzer`` (or ``make bench``) starts a Kafka broker and, for PostgreSQL, a private
cluster; fills a topic with the seeded stream of ``bench/stream.py``; then, per database, starts the
analyzer as its own process on a fresh database and measures the time from its first applied event
to the last, sampling its RSS every half second. Results go to ``docs/benchmarks/analyzer-<label>.json``
and a table on stdout (with the default label ``current``, also into docs/benchmarks.md).

The history cost: one analyzer process on a fresh database; an account of eight people gets its
history (100 answers, then 10,000) through Kafka; once those are applied and the analyzer is idle
(its outbox relay has nothing left to publish and nothing was processed for a second), 500 more
answers of that account are sent in one go from a producer already connected, and timed from the
first send to the last answer applied, read from the live process's ``/metrics``. The 500 answers
are the same whatever the history (``stream.history_tail``: the same people and scores over the 30
days after the history's year), because the analyzer evaluates the rules once per account and day
with events: a tail that was "the last 500 of the history", as before, spanned about 300 days after
100 answers but 17 after 10,000, and so compared two different workloads. Each history size is timed
``--history-repeats`` times (a new account each time, same process) and the median reported; a
single sub-second tail on a shared machine varied by a factor of three.

``--compare REV`` measures before and after instead: a temporary git worktree of REV (removed at the
end), and per database and round (``--rounds``, alternating which goes first) the analyzer of REV and
the one of this tree drain the same topic, each from its own checkout on a fresh database that it
migrates itself, in its own consumer group; min / median / max events/s and peak RSS per side go to
``analyzer-compare.json`` (or ``--label``) and stdout, never to the published table.
``--batch-records N`` runs the analyzers with ``ANALYZER_MAX_BATCH_RECORDS=N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from bench import stream
from bench.report import machine, publish
from deploy.kafka.broker import REPO, KafkaBroker, start_broker
from services.analyzer.db.engine import create_engine
from services.analyzer.settings import AnalyzerSettings
from tests.harness.databases import create_database
from tests.harness.postgres import PostgresCluster, start_cluster
from tests.harness.processes import ServiceProcess


@dataclass
class Run:
    """One measurement."""

    name: str
    backend: str
    events: int
    seconds: float
    events_per_s: float
    peak_rss_mib: float
    rss_start_mib: float
    rss_end_mib: float
    repeats_s: list[float] | None = None


async def fill(
    bootstrap: str,
    topic: str,
    events: list[dict[str, Any]],
    *,
    partitions: int = 6,
    configs: dict[str, str] | None = None,
) -> None:
    """Create ``topic`` (with the topic ``configs`` given) and write ``events`` to it keyed by account (acks=all)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=configs or {})])
    finally:
        await admin.close()
    await fill_more(bootstrap, topic, events)


def processed(analyzer: ServiceProcess) -> int:
    """Events the analyzer has applied, skipped or dead-lettered so far (its /metrics)."""
    text = httpx.get(f"{analyzer.url}/metrics", timeout=10).text
    total = 0
    for name in ("applied", "duplicates", "dead_lettered"):
        match = re.search(rf"^analyzer_events_{name} (\S+)$", text, re.MULTILINE)
        total += int(float(match.group(1))) if match else 0
    return total


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def drain(
    analyzer: ServiceProcess, expected: int, *, timeout_s: float, poll_s: float = 0.5
) -> tuple[float, list[float]]:
    """Wait until ``expected`` events are processed; seconds from the first one, RSS samples."""
    assert analyzer.process is not None
    samples: list[float] = []
    first: float | None = None
    deadline = time.monotonic() + timeout_s
    while True:
        done = processed(analyzer)
        now = time.monotonic()
        samples.append(rss_mib(analyzer.process.pid))
        if first is None and done > 0:
            first = now
        if done >= expected:
            return now - (first or now), samples
        if now > deadline:
            raise TimeoutError(f"only {done} of {expected} events processed in {timeout_s:.0f}s")
        time.sleep(poll_s)


def analyzer_env(bootstrap: str, topic: str, url: str, *, batch_records: int | None = None) -> dict[str, str]:
    """An analyzer on its own group and database, reading ``topic``, quiet otherwise; ``batch_records``
    sets its consumer batch (``ANALYZER_MAX_BATCH_RECORDS``, else the setting's default)."""
    env = {
        "ENVIRONMENT": "test",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPICS__EVENTS": topic,
        "TOPICS__ALERTS": f"{topic}.alerts",
        "TOPICS__POSITIONS": f"{topic}.positions",
        "TOPICS__DLQ": f"{topic}.dlq",
        "TOPICS__ERASURES": f"{topic}.erasures",
        "DATABASE_URL": url,
        "ANALYZER_GROUP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "ANALYZER_API_KEYS": "bench-key",
        "ANALYZER_SWEEP_INTERVAL_S": "0",
        "EVENT_TIME_MAX_FUTURE_S": str(366 * 86_400),
        "LOG_LEVEL": "WARNING",
    }
    if batch_records is not None:
        env["ANALYZER_MAX_BATCH_RECORDS"] = str(batch_records)
    return env


def measure(
    name: str,
    backend: str,
    env: dict[str, str],
    expected: int,
    workdir: Path,
    timeout_s: float,
    *,
    tree: Path | None = None,
    log_name: str | None = None,
    poll_s: float = 0.5,
) -> Run:
    """Start an analyzer on ``env`` (from the checkout ``tree``, else this one) and time it through
    ``expected`` events."""
    log = workdir / f"{log_name or name}-{backend}.log"
    analyzer = ServiceProcess("services.analyzer", env, log, tree=tree)
    analyzer.start(timeout_s=120)
    try:
        seconds, samples = drain(analyzer, expected, timeout_s=timeout_s, poll_s=poll_s)
    finally:
        analyzer.stop()
    return Run(
        name=name,
        backend=backend,
        events=expected,
        seconds=round(seconds, 2),
        events_per_s=round(expected / seconds, 1) if seconds else 0.0,
        peak_rss_mib=round(max(samples), 1),
        rss_start_mib=round(samples[min(2, len(samples) - 1)], 1),
        rss_end_mib=round(samples[-1], 1),
    )


def history_cost(
    bootstrap: str,
    backend: str,
    url: str,
    held: int,
    extra: int,
    workdir: Path,
    timeout_s: float,
    *,
    batch_records: int | None = None,
    repeats: int = 3,
    tree: Path | None = None,
) -> Run:
    """Per-event cost of ``extra`` answers to an account already holding ``held`` answers.

    One analyzer process on a fresh database; ``repeats`` times, a new account gets its ``held``
    answers through Kafka, the benchmark waits until they are applied and the analyzer is idle (its
    outbox published, nothing processed for a second), then sends the ``extra`` answers in one go
    from a producer already connected and times them from the first send to the last one applied.
    The median of the repeats is the figure; each repeat's seconds are kept in the record.
    """
    topic = f"bench.history.{uuid.uuid4().hex[:8]}"
    asyncio.run(fill(bootstrap, topic, []))
    env = analyzer_env(bootstrap, topic, url, batch_records=batch_records)
    analyzer = ServiceProcess("services.analyzer", env, workdir / f"history-{held}-{backend}.log", tree=tree)
    analyzer.start(timeout_s=120)
    assert analyzer.process is not None
    durations: list[float] = []
    samples: list[float] = []
    expected = 0
    try:
        for number in range(repeats):
            account = f"long-{held}-{number}-{uuid.uuid4().hex[:6]}"
            body, tail = stream.history(account, held), stream.history_tail(account, extra)
            asyncio.run(fill_more(bootstrap, topic, body))
            expected += len(body)
            drain(analyzer, expected, timeout_s=timeout_s, poll_s=0.2)
            left, waited = settle(analyzer, url, timeout_s=timeout_s)
            print(
                f"  history-{held} #{number + 1}: {left} outbox rows unpublished when the body was applied; "
                f"idle after {waited:.1f}s",
                flush=True,
            )
            started = asyncio.run(send_at_once(bootstrap, topic, tail))
            expected += len(tail)
            while processed(analyzer) < expected:
                samples.append(rss_mib(analyzer.process.pid))
                if time.monotonic() - started > timeout_s:
                    raise TimeoutError("the history tail did not drain")
                time.sleep(0.02)
            durations.append(time.monotonic() - started)
    finally:
        analyzer.stop()
    seconds = statistics.median(durations)
    return Run(
        name=f"history-{held}",
        backend=backend,
        events=extra,
        seconds=round(seconds, 3),
        events_per_s=round(extra / seconds, 1),
        peak_rss_mib=round(max(samples or [0.0]), 1),
        rss_start_mib=0.0,
        rss_end_mib=0.0,
        repeats_s=[round(d, 3) for d in durations],
    )


async def unpublished(url: str) -> int:
    """Rows of the analyzer's outbox not yet published to Kafka."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
            return int(result.scalar_one())
    finally:
        await engine.dispose()


def settle(analyzer: ServiceProcess, url: str, *, timeout_s: float, quiet_s: float = 1.0) -> tuple[int, float]:
    """Wait until the analyzer is idle: no outbox row left to publish and no event processed for
    ``quiet_s``. The unpublished rows found first, and the seconds waited."""
    started = time.monotonic()
    first = asyncio.run(unpublished(url))
    left = first
    while True:
        if left == 0:
            before = processed(analyzer)
            time.sleep(quiet_s)
            left = asyncio.run(unpublished(url))
            if left == 0 and processed(analyzer) == before:
                return first, time.monotonic() - started
        else:
            time.sleep(0.1)
            left = asyncio.run(unpublished(url))
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"the analyzer's outbox still holds {left} unpublished rows")


async def fill_more(bootstrap: str, topic: str, events: list[dict[str, Any]]) -> None:
    """Append ``events`` to an existing topic (acks=all), batched like ``fill``."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, max_batch_size=262_144
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, encode(e), key=e["account_id"].encode()) for e in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def send_at_once(bootstrap: str, topic: str, events: list[dict[str, Any]]) -> float:
    """Send ``events`` (encoded beforehand) from a producer already connected and holding the topic's
    metadata; the ``time.monotonic()`` of the first send, once all are acknowledged."""
    records = [(encode(e), e["account_id"].encode()) for e in events]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, max_batch_size=262_144
    )
    await producer.start()
    try:
        await producer.partitions_for(topic)
        started = time.monotonic()
        futures = [await producer.send(topic, value, key=key) for value, key in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return started


def encode(event: dict[str, Any]) -> bytes:
    """An event as the topic holds it."""
    return json.dumps(event, separators=(",", ":")).encode()


def render(runs: list[Run], host: dict[str, Any], args: argparse.Namespace) -> str:
    """The Markdown table of a run, with the machine and the stream it measured."""
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {host['cpu']}, {host['cores']} cores, "
        f"{host['memory_gib']} GiB, Python {host['python']}; stream of {args.events:,} events over "
        f"{args.accounts:,} accounts; {batch_text(args)}; history tail {args.history_tail} answers.",
        "",
        "| run | database | events | seconds | events/s | peak RSS MiB | RSS start → end MiB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        rss = f"{r.rss_start_mib} → {r.rss_end_mib}" if r.rss_start_mib else "-"
        lines.append(
            f"| {r.name} | {r.backend} | {r.events:,} | {r.seconds} | {r.events_per_s:,} | {r.peak_rss_mib} | {rss} |"
        )
    return "\n".join(lines)


def batch_text(args: argparse.Namespace) -> str:
    """The consumer batch the analyzers ran with, for a table's heading."""
    if args.batch_records is None:
        default = AnalyzerSettings.model_fields["analyzer_max_batch_records"].default
        return f"consumer batch of up to {default:,} records (the default)"
    return f"consumer batch of up to {args.batch_records:,} records"


def git(*args: str, cwd: Path = REPO) -> str:
    """Run git in ``cwd``; its stdout, stripped."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def worktree(rev: str) -> Iterator[tuple[Path, str]]:
    """A temporary, detached git worktree of ``rev`` and its commit id; removed on the way out, even on failure."""
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    parent = Path(tempfile.mkdtemp(prefix="bench-rev-"))
    path = parent / "tree"
    git("worktree", "add", "--detach", str(path), commit)
    try:
        yield path, commit
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO, check=False, capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=REPO, check=False, capture_output=True)


def compare(
    args: argparse.Namespace,
    broker: KafkaBroker,
    cluster: PostgresCluster | None,
    topic: str,
    expected: int,
    backends: list[str],
    workdir: Path,
) -> dict[str, Any]:
    """Drain ``topic`` with the analyzer of ``args.compare`` (before) and of this tree (after), alternately.

    Per database and round, each side starts on a fresh, empty database in its own consumer group
    and migrates it with its own migrations (the analyzer's start command does), so each side runs
    its own schema; which side goes first alternates from round to round, so that a slow spell of
    the machine hits both.
    """
    runs: list[dict[str, Any]] = []
    with worktree(args.compare) as (tree, commit):
        sides: list[tuple[str, Path | None]] = [("before", tree), ("after", None)]
        print(f"before: {args.compare} = {commit[:12]} in {tree}", flush=True)
        for backend in backends:
            for number in range(args.rounds):
                for side, checkout in sides if number % 2 == 0 else sides[::-1]:
                    url = create_database(
                        backend, tmp_path=workdir, pg_admin_url=cluster.url if cluster else None, migrate=False
                    )
                    env = analyzer_env(broker.bootstrap, topic, url, batch_records=args.batch_records)
                    run = measure(
                        side,
                        backend,
                        env,
                        expected,
                        workdir,
                        args.timeout_s,
                        tree=checkout,
                        log_name=f"{side}-{number}",
                        poll_s=0.2,
                    )
                    print(f"round {number + 1}/{args.rounds}: {run}", flush=True)
                    runs.append({"round": number + 1, **asdict(run)})
    head = git("rev-parse", "HEAD")
    summary = []
    for backend in backends:
        for side in ("before", "after"):
            mine = [r for r in runs if r["backend"] == backend and r["name"] == side]
            rates = [r["events_per_s"] for r in mine]
            summary.append(
                {
                    "backend": backend,
                    "side": side,
                    "events_per_s": {
                        "min": min(rates),
                        "median": round(statistics.median(rates), 1),
                        "max": max(rates),
                    },
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
                },
            )
    return {
        "method": (
            "one broker, one topic; per database and round the analyzer of the before revision and of the "
            "after tree drain it on a fresh database in their own consumer group, alternating which goes "
            "first; events/s from first to last processed event (read from /metrics every 0.2 s)"
        ),
        "before": {"rev": args.compare, "commit": commit},
        "after": {"commit": head, "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no"))},
        "stream": {"events": args.events, "accounts": args.accounts},
        "rounds": args.rounds,
        "batch_records": args.batch_records,
        "summary": summary,
        "runs": runs,
    }


def render_compare(record: dict[str, Any], host: dict[str, Any], args: argparse.Namespace) -> str:
    """The Markdown table of a before/after run."""
    before, after = record["before"], record["after"]
    dirty = " with uncommitted changes" if after["uncommitted_changes"] else ""
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {host['cpu']}, {host['cores']} cores, "
        f"{host['memory_gib']} GiB, Python {host['python']}; stream of {args.events:,} events over "
        f"{args.accounts:,} accounts; {batch_text(args)}; {args.rounds} round(s), alternated. "
        f"Before: `{before['rev']}` ({before['commit'][:12]}); after: the tree at {after['commit'][:12]}{dirty}.",
        "",
        "| database | side | events/s min / median / max | peak RSS MiB |",
        "| --- | --- | --- | --- |",
    ]
    for row in record["summary"]:
        rate = row["events_per_s"]
        lines.append(
            f"| {row['backend']} | {row['side']} | {rate['min']:,} / {rate['median']:,} / {rate['max']:,} "
            f"| {row['peak_rss_mib']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the analyzer benchmark; print the table; write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.analyzer")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--history", default="100,10000", help="answers held before the timed tail")
    parser.add_argument("--history-tail", type=int, default=500)
    parser.add_argument("--history-repeats", type=int, default=3, help="tails timed per history size (median)")
    parser.add_argument("--timeout-s", type=float, default=3600)
    parser.add_argument(
        "--batch-records", type=int, default=None, help="the analyzer's ANALYZER_MAX_BATCH_RECORDS (1 to 10,000)"
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="before/after: drain the same topic with the analyzer of git revision REV and of this tree",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a --compare run")
    parser.add_argument("--label", default=None, help="the JSON's name: analyzer-LABEL.json (current, or compare)")
    args = parser.parse_args(argv)
    if args.batch_records is not None and not 1 <= args.batch_records <= 10_000:
        parser.error("--batch-records must be between 1 and 10,000")
    if args.compare and args.label == "current":
        parser.error("a --compare run does not replace the published table: give it another --label")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.label = args.label or ("compare" if args.compare else "current")
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    broker: KafkaBroker = start_broker()
    cluster: PostgresCluster | None = None
    runs: list[Run] = []
    compared: dict[str, Any] = {}
    try:
        backends = [b for b in args.backends.split(",") if b]
        if "postgres" in backends:
            cluster = start_cluster()
        events = stream.stream(events=args.events, accounts=args.accounts)
        topic = f"bench.events.{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        asyncio.run(fill(broker.bootstrap, topic, events))
        print(f"topic filled with {len(events)} events in {time.monotonic() - started:.1f}s", flush=True)
        if args.compare:
            compared = compare(args, broker, cluster, topic, len(events), backends, workdir)
        else:
            for backend in backends:
                url = create_database(backend, tmp_path=workdir, pg_admin_url=cluster.url if cluster else None)
                env = analyzer_env(broker.bootstrap, topic, url, batch_records=args.batch_records)
                run = measure("backlog", backend, env, len(events), workdir, args.timeout_s)
                print(run, flush=True)
                runs.append(run)
                for held in [int(h) for h in args.history.split(",") if h]:
                    url = create_database(backend, tmp_path=workdir, pg_admin_url=cluster.url if cluster else None)
                    run = history_cost(
                        broker.bootstrap,
                        backend,
                        url,
                        held,
                        args.history_tail,
                        workdir,
                        args.timeout_s,
                        batch_records=args.batch_records,
                        repeats=args.history_repeats,
                    )
                    print(run, flush=True)
                    runs.append(run)
    finally:
        broker.stop()
        if cluster is not None:
            cluster.stop()
    if args.compare:
        publish("analyzer", args.label, compared, render_compare(compared, machine(), args))
        return 0
    record = {
        "stream": {"events": args.events, "accounts": args.accounts},
        "batch_records": args.batch_records,
        "runs": [asdict(r) for r in runs],
    }
    publish("analyzer", args.label, record, render(runs, machine(), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
