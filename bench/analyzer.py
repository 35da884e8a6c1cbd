"""How fast the analyzer applies a backlog: events/s from start to caught up, on SQLite and PostgreSQL.

``python -m bench.analyzer`` (or ``make bench``) starts a Kafka broker and, for PostgreSQL, a private
cluster; fills a topic with the seeded stream of ``bench/stream.py``; then, per database, starts the
analyzer as its own process on a fresh database and measures the time from its first applied event
to the last, sampling its RSS every half second. A second measurement puts one account's long
history in first (100 answers, then 10,000) and times the next answers of that account, which is
the per-event cost a long history adds. Results go to ``bench/results/analyzer.json`` and a table
on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench import stream
from bench.report import machine, publish
from deploy.kafka.broker import KafkaBroker, start_broker
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
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, max_batch_size=262_144
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, json.dumps(e, separators=(",", ":")).encode(), key=e["account_id"].encode())
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


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


def drain(analyzer: ServiceProcess, expected: int, *, timeout_s: float) -> tuple[float, list[float]]:
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
        time.sleep(0.5)


def analyzer_env(bootstrap: str, topic: str, url: str) -> dict[str, str]:
    """An analyzer on its own group and database, reading ``topic``, quiet otherwise."""
    return {
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


def measure(name: str, backend: str, env: dict[str, str], expected: int, workdir: Path, timeout_s: float) -> Run:
    """Start an analyzer on ``env`` and time it through ``expected`` events."""
    analyzer = ServiceProcess("services.analyzer", env, workdir / f"{name}-{backend}.log")
    analyzer.start(timeout_s=120)
    try:
        seconds, samples = drain(analyzer, expected, timeout_s=timeout_s)
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


def history_cost(bootstrap: str, backend: str, url: str, held: int, extra: int, workdir: Path, timeout_s: float) -> Run:
    """Per-event cost of ``extra`` answers to an account already holding ``held`` answers."""
    account = f"long-{held}-{uuid.uuid4().hex[:6]}"
    events = stream.history(account, held + extra)
    body, tail = events[: len(events) - extra], events[len(events) - extra :]
    topic = f"bench.history.{uuid.uuid4().hex[:8]}"
    asyncio.run(fill(bootstrap, topic, body))
    env = analyzer_env(bootstrap, topic, url)
    analyzer = ServiceProcess("services.analyzer", env, workdir / f"history-{held}-{backend}.log")
    analyzer.start(timeout_s=120)
    try:
        drain(analyzer, len(body), timeout_s=timeout_s)
        asyncio.run(fill_more(bootstrap, topic, tail))
        started = time.monotonic()
        assert analyzer.process is not None
        samples = []
        while processed(analyzer) < len(events):
            samples.append(rss_mib(analyzer.process.pid))
            if time.monotonic() - started > timeout_s:
                raise TimeoutError("the history tail did not drain")
            time.sleep(0.05)
        seconds = time.monotonic() - started
    finally:
        analyzer.stop()
    return Run(
        name=f"history-{held}",
        backend=backend,
        events=extra,
        seconds=round(seconds, 2),
        events_per_s=round(extra / seconds, 1),
        peak_rss_mib=round(max(samples or [0.0]), 1),
        rss_start_mib=0.0,
        rss_end_mib=0.0,
    )


async def fill_more(bootstrap: str, topic: str, events: list[dict[str, Any]]) -> None:
    """Append ``events`` to an existing topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for e in events:
            await producer.send(topic, json.dumps(e).encode(), key=e["account_id"].encode())
        await producer.flush()
    finally:
        await producer.stop()


def render(runs: list[Run], host: dict[str, Any], args: argparse.Namespace) -> str:
    """The Markdown table of a run, with the machine and the stream it measured."""
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {host['cpu']}, {host['cores']} cores, "
        f"{host['memory_gib']} GiB, Python {host['python']}; stream of {args.events:,} events over "
        f"{args.accounts:,} accounts; history tail {args.history_tail} answers.",
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


def main(argv: list[str] | None = None) -> int:
    """Run the analyzer benchmark; print the table; write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.analyzer")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--history", default="100,10000", help="answers held before the timed tail")
    parser.add_argument("--history-tail", type=int, default=500)
    parser.add_argument("--timeout-s", type=float, default=3600)
    parser.add_argument("--label", default="current")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    broker: KafkaBroker = start_broker()
    cluster: PostgresCluster | None = None
    runs: list[Run] = []
    try:
        backends = [b for b in args.backends.split(",") if b]
        if "postgres" in backends:
            cluster = start_cluster()
        events = stream.stream(events=args.events, accounts=args.accounts)
        topic = f"bench.events.{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        asyncio.run(fill(broker.bootstrap, topic, events))
        print(f"topic filled with {len(events)} events in {time.monotonic() - started:.1f}s", flush=True)
        for backend in backends:
            url = create_database(backend, tmp_path=workdir, pg_admin_url=cluster.url if cluster else None)
            run = measure(
                "backlog", backend, analyzer_env(broker.bootstrap, topic, url), len(events), workdir, args.timeout_s
            )
            print(run, flush=True)
            runs.append(run)
            for held in [int(h) for h in args.history.split(",") if h]:
                url = create_database(backend, tmp_path=workdir, pg_admin_url=cluster.url if cluster else None)
                run = history_cost(broker.bootstrap, backend, url, held, args.history_tail, workdir, args.timeout_s)
                print(run, flush=True)
                runs.append(run)
    finally:
        broker.stop()
        if cluster is not None:
            cluster.stop()
    record = {"stream": {"events": args.events, "accounts": args.accounts}, "runs": [asdict(r) for r in runs]}
    publish("analyzer", args.label, record, render(runs, machine(), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
