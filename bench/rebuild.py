"""How fast ``feedback rebuild`` replays the events topic into a fresh database, per batch size.

``python -m bench.rebuild`` (or ``make bench BENCH=rebuild``) starts a Kafka broker and, for
PostgreSQL, a private cluster; fills an events topic of unlimited retention (a rebuild refuses
anything else) with the seeded stream of ``bench/stream.py``; then, per database and batch size,
runs the rebuild as a user does (``python -m services.cli rebuild --batch-records N``, its own
process, on a fresh database it migrates) and reads back the applying time it reports, the wall
time of the whole command and its peak RSS. Runs of different batch sizes alternate, so the noise
of this shared machine hits each alike. ``--profile DIR`` records each run with py-spy (raw
stacks, 100 Hz) into DIR. Results go to ``docs/benchmarks/rebuild-<label>.json`` and, with the
label ``current``, the table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import stream
from bench.analyzer import analyzer_env, fill
from bench.report import machine, publish
from deploy.kafka.broker import REPO, KafkaBroker, start_broker
from shared.kafka import KEEP_FOREVER
from tests.harness.databases import create_database
from tests.harness.postgres import PostgresCluster, start_cluster

# The rebuild's last line: "rebuilt from 100,000 records on 6 partitions in 42.0 s (2,381/s, batches of 5,000): ..."
DONE = re.compile(r"rebuilt from ([\d,]+) records on (\d+) partitions in ([\d.]+) s \([^)]*\): (.*)")
MILLION = 1_000_000


@dataclass
class Run:
    """One rebuild."""

    backend: str
    batch_records: int
    events: int
    seconds: float  # applying, as the rebuild reports it (from its first batch to its last)
    events_per_s: float
    wall_s: float  # the whole command: start-up, migrations, connecting, applying
    peak_rss_mib: float
    million_min: float  # minutes a million events would take at this rate (an extrapolation)
    outcomes: str


def peak_rss_mib(pid: int) -> float:
    """The peak resident set size of a live process so far (VmHWM), MiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def python_pid(process: subprocess.Popen[bytes], profiled: bool) -> int:
    """The rebuild's own process: under py-spy, the child py-spy started."""
    if not profiled:
        return process.pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.1)
    return process.pid


def rebuild_once(
    backend: str, env: dict[str, str], batch_records: int, workdir: Path, timeout_s: float, profile: Path | None
) -> Run:
    """``feedback rebuild --batch-records N`` into the fresh database ``env`` names; what it took."""
    command = [sys.executable, "-m", "services.cli", "rebuild", "--batch-records", str(batch_records)]
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        out = profile / f"rebuild-{backend}-{batch_records}.txt"
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "-r", "100", "-f", "raw", "-o", str(out)]
        command += ["--", sys.executable, "-m", "services.cli", "rebuild", "--batch-records", str(batch_records)]
    log = workdir / f"rebuild-{backend}-{batch_records}-{uuid.uuid4().hex[:4]}.log"
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=REPO, stdout=output, stderr=output)
        pid = python_pid(process, profile is not None)
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, peak_rss_mib(pid))
            if time.monotonic() - started > timeout_s:
                process.kill()
                raise TimeoutError(f"the rebuild took more than {timeout_s:.0f} s (see {log})")
            time.sleep(0.5)
    wall = time.monotonic() - started
    text = log.read_text(errors="replace")
    found = DONE.search(text)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"the rebuild failed (exit {process.returncode}):\n{text[-3000:]}")
    records, seconds = int(found.group(1).replace(",", "")), float(found.group(3))
    rate = records / seconds if seconds else 0.0
    return Run(
        backend=backend,
        batch_records=batch_records,
        events=records,
        seconds=round(seconds, 2),
        events_per_s=round(rate, 1),
        wall_s=round(wall, 2),
        peak_rss_mib=round(peak, 1),
        million_min=round(MILLION / rate / 60, 1) if rate else 0.0,
        outcomes=found.group(4).strip(),
    )


def render(runs: list[Run], host: dict[str, Any], args: argparse.Namespace) -> str:
    """The Markdown table of a run, with the machine and the stream it measured."""
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {host['cpu']}, {host['cores']} cores, "
        f"{host['memory_gib']} GiB, Python {host['python']}; stream of {args.events:,} events over "
        f"{args.accounts:,} accounts, 6 partitions; {args.rounds} round(s), each batch size in turn.",
        "",
        "| database | batch records | events | applying s | events/s | 1M events at this rate, min | "
        "command s | peak RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        lines.append(
            f"| {r.backend} | {r.batch_records:,} | {r.events:,} | {r.seconds} | {r.events_per_s:,} | "
            f"{r.million_min} | {r.wall_s} | {r.peak_rss_mib} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the rebuild benchmark; print the table; write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--batch-records", default="500,5000", help="batch sizes to compare, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="times each batch size runs, alternating")
    parser.add_argument("--timeout-s", type=float, default=3600)
    parser.add_argument("--profile", type=Path, default=None, help="record each run with py-spy into this folder")
    parser.add_argument("--label", default="current")
    args = parser.parse_args(argv)
    sizes = [int(b) for b in args.batch_records.split(",") if b]
    backends = [b for b in args.backends.split(",") if b]
    workdir = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    broker: KafkaBroker = start_broker()
    cluster: PostgresCluster | None = None
    runs: list[Run] = []
    try:
        if "postgres" in backends:
            cluster = start_cluster()
        events = stream.stream(events=args.events, accounts=args.accounts)
        topic = f"bench.events.{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        asyncio.run(fill(broker.bootstrap, topic, events, configs=KEEP_FOREVER))
        print(f"topic filled with {len(events):,} events in {time.monotonic() - started:.1f}s", flush=True)
        for backend in backends:
            for _ in range(args.rounds):
                for size in sizes:
                    admin = cluster.url if cluster else None
                    url = create_database(backend, tmp_path=workdir, pg_admin_url=admin, migrate=False)
                    env = analyzer_env(broker.bootstrap, topic, url)
                    run = rebuild_once(backend, env, size, workdir, args.timeout_s, args.profile)
                    print(run, flush=True)
                    runs.append(run)
    finally:
        broker.stop()
        if cluster is not None:
            cluster.stop()
    record = {
        "stream": {"events": args.events, "accounts": args.accounts},
        "batch_records": sizes,
        "rounds": args.rounds,
        "runs": [asdict(r) for r in runs],
    }
    publish("rebuild", args.label, record, render(runs, machine(), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
