"""How fast ingest accepts events, each figure beside its ceiling measured in the same run.

``python -m bench.ingest`` (part of ``make bench``) starts a Kafka broker, ingest (``python -m
services.ingest``, the rate limit raised) and the bare endpoint of ``bench/bare.py`` with the same
server options, then alternates legs so that machine noise hits both sides of each ratio:

- single events: ``POST /v1/events`` with one survey answer per request, ingest vs the bare endpoint;
- batches: ``POST /v1/events/batch`` with 100 answers per request, ingest vs the bare endpoint, and
  aiokafka alone (``bench/raw_producer.py``) sending the same records with the same durability;
- single events at about half of ingest's best rate, for the latency a client sees under load.

The load comes from wrk (Debian's package; one thread, ``--connections`` connections); each leg
records wrk's own CPU share, so a saturated load generator shows. Results go to
``docs/benchmarks/ingest-<label>.json`` and, with the default label, the table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.report import machine, publish
from bench.stream import sample_events
from deploy.kafka.broker import REPO, KafkaBroker, free_port, start_broker
from tests.harness.processes import ServiceProcess

API_KEY = "bench-ingest-key"
BATCH = 100


@dataclass
class Leg:
    """One wrk (or raw producer) run against one target."""

    name: str
    target: str
    round: int
    requests_per_s: float
    events_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    load_cpu_pct: float
    server_cpu_pct: float


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(path: str, *, batch: bool, delay_ms: float | None = None) -> str:
    """A wrk Lua script posting distinct events (single) or a cycle of 100-event batches."""
    head = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {API_KEY}"',
        "local counter = 0",
    ]
    if batch:
        bodies = [json.dumps({"events": sample_events(BATCH)}, separators=(",", ":")) for _ in range(20)]
        head.append("local bodies = {" + ",".join(_lua_string(b) for b in bodies) + "}")
        body = "bodies[counter % #bodies + 1]"
    else:
        template = json.dumps(sample_events(1)[0], separators=(",", ":"))
        before, after = template.split('"bench-', 1)
        after = after.split('"', 1)[1]
        head.append(f"local before = {_lua_string(before + chr(34) + 'bench-')}")
        head.append(f"local after = {_lua_string(chr(34) + after)}")
        head.append(f'local run = "{uuid.uuid4().hex[:8]}-"')
        body = "before .. run .. counter .. after"
    head.append(
        f'request = function()\n  counter = counter + 1\n  return wrk.format(nil, "{path}", nil, {body})\nend',
    )
    if delay_ms is not None:
        head.append(f"delay = function() return {delay_ms:.3f} end")
    return "\n".join(head) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its descendants (workers), from /proc."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue  # it exited meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending.extend(int(child) for child in children)
    return total


def run_wrk(url: str, script: str, *, seconds: float, connections: int, server_pid: int, workdir: Path) -> Leg:
    """Run wrk once: its figures, its CPU share and the server's (name, target and round left blank)."""
    script_path = workdir / f"leg-{uuid.uuid4().hex[:6]}.lua"
    script_path.write_text(script)
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    process = subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "-s", str(script_path), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    script_path.with_suffix(".out").write_text(output)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Leg(
        name="",
        target="",
        round=0,
        requests_per_s=float(rps.group(1)),
        events_per_s=0.0,
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=errors,
        load_cpu_pct=100 * (usage.ru_utime + usage.ru_stime) / elapsed,
        server_cpu_pct=100 * (cpu_seconds(server_pid) - server_before) / elapsed,
    )


def start_bare(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the bare endpoint; its process and base URL once it answers."""
    port = free_port()
    log = (workdir / "bare.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", "--port", str(port)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bare endpoint did not start")


def ingest_env(bootstrap: str, topic: str, workers: int) -> dict[str, str]:
    """Ingest publishing to ``topic``, the rate limit out of the way, quiet logs."""
    return {
        "ENVIRONMENT": "test",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPICS__EVENTS": topic,
        "INGEST_API_KEYS": API_KEY,
        "INGEST_RATE_LIMIT_PER_S": "10000000",
        "INGEST_RATE_LIMIT_BURST": "10000000",
        "INGEST_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
    }


def raw_producer(bootstrap: str, topic: str, *, seconds: float, connections: int) -> dict[str, float]:
    """Run ``bench/raw_producer.py`` as its own process; its figures."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.raw_producer",
            "--bootstrap",
            bootstrap,
            "--topic",
            topic,
            "--seconds",
            str(seconds),
            "--concurrency",
            str(connections),
            "--batch",
            str(BATCH),
        ],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the raw producer failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(legs: list[Leg]) -> dict[str, dict[str, float]]:
    """Per (name, target): the median of its rounds."""
    out: dict[str, dict[str, float]] = {}
    for key in sorted({(leg.name, leg.target) for leg in legs}):
        chosen = [leg for leg in legs if (leg.name, leg.target) == key]
        out[f"{key[0]}/{key[1]}"] = {
            field: round(statistics.median(getattr(leg, field) for leg in chosen), 2)
            for field in ("requests_per_s", "events_per_s", "p50_ms", "p99_ms", "load_cpu_pct", "server_cpu_pct")
        } | {"errors": sum(leg.errors for leg in chosen), "rounds": len(chosen)}
    return out


def render(summary: dict[str, dict[str, float]], host: dict[str, Any], args: argparse.Namespace) -> str:
    """The Markdown table: each ingest figure beside its same-run ceiling."""

    def get(key: str, field: str) -> float:
        return summary.get(key, {}).get(field, 0.0)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "-"

    single, bare1 = "single/ingest", "single/bare"
    batch, bare_b, raw = "batch/ingest", "batch/bare", "batch/raw-producer"
    half = "single-half-rate/ingest"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {host['cpu']}, {host['cores']} cores, {host['memory_gib']} GiB, "
        f"Python {host['python']}; {args.workers} ingest worker(s); wrk 1 thread, {args.connections} connections, "
        f"{args.seconds:.0f} s legs alternated, {args.rounds} rounds (medians); Kafka acks=all, idempotent.",
        "",
        "| path | ingest | same-run ceiling | ratio |",
        "| --- | --- | --- | --- |",
        f"| `POST /v1/events`, one event | {get(single, 'requests_per_s'):,.0f} req/s, p50 "
        f"{get(single, 'p50_ms'):.1f} ms, p99 {get(single, 'p99_ms'):.1f} ms | bare endpoint "
        f"{get(bare1, 'requests_per_s'):,.0f} req/s, p99 {get(bare1, 'p99_ms'):.1f} ms | "
        f"{ratio(get(single, 'requests_per_s'), get(bare1, 'requests_per_s'))} |",
        f"| `POST /v1/events`, at about half that rate | {get(half, 'requests_per_s'):,.0f} req/s, p50 "
        f"{get(half, 'p50_ms'):.1f} ms, p99 {get(half, 'p99_ms'):.1f} ms | | |",
        f"| `POST /v1/events/batch`, {BATCH} events | {get(batch, 'events_per_s'):,.0f} events/s, p99 "
        f"{get(batch, 'p99_ms'):.0f} ms | bare endpoint {get(bare_b, 'events_per_s'):,.0f} events/s | "
        f"{ratio(get(batch, 'events_per_s'), get(bare_b, 'events_per_s'))} |",
        f"| | | aiokafka alone, same records: {get(raw, 'events_per_s'):,.0f} events/s | "
        f"{ratio(get(batch, 'events_per_s'), get(raw, 'events_per_s'))} |",
        "",
        f"wrk's CPU share: at most {max(v['load_cpu_pct'] for k, v in summary.items() if k != raw):.0f} % of a core; "
        f"ingest's own CPU: {get(single, 'server_cpu_pct'):.0f} % (single), {get(batch, 'server_cpu_pct'):.0f} % "
        "(batch) of a core, summed over its workers.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the ingest benchmark; print the table; write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--label", default="current")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: install it (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker: KafkaBroker = start_broker()
    topic = f"bench.ingest.{uuid.uuid4().hex[:8]}"
    env = ingest_env(broker.bootstrap, topic, args.workers)
    ingest = ServiceProcess("services.ingest", env, workdir / "ingest.log")
    bare: subprocess.Popen[bytes] | None = None
    legs: list[Leg] = []
    try:
        ingest.start(timeout_s=60)
        bare, bare_url = start_bare(workdir)
        assert ingest.process is not None
        targets = {"ingest": (ingest.url, ingest.process.pid), "bare": (bare_url, bare.pid)}
        wrk = partial(run_wrk, seconds=args.seconds, connections=args.connections, workdir=workdir)
        for round_ in range(1, args.rounds + 1):
            for name, path, events in (("single", "/v1/events", 1), ("batch", "/v1/events/batch", BATCH)):
                for target in ("bare", "ingest"):
                    url, pid = targets[target]
                    leg = wrk(url, wrk_script(path, batch=events > 1), server_pid=pid)
                    rate = leg.requests_per_s * events
                    legs.append(replace(leg, name=name, target=target, round=round_, events_per_s=rate))
                    print(legs[-1], flush=True)
            raw = raw_producer(broker.bootstrap, topic, seconds=args.seconds, connections=args.connections)
            legs.append(
                Leg(
                    "batch",
                    "raw-producer",
                    round_,
                    requests_per_s=raw["events_per_s"] / BATCH,
                    events_per_s=raw["events_per_s"],
                    p50_ms=0.0,
                    p99_ms=0.0,
                    errors=0,
                    load_cpu_pct=100 * raw["cpu_s"] / raw["seconds"],
                    server_cpu_pct=0.0,
                ),
            )
            print(legs[-1], flush=True)
        best = max(leg.requests_per_s for leg in legs if (leg.name, leg.target) == ("single", "ingest"))
        delay_ms = 1000 * args.connections / (best / 2)
        url, pid = targets["ingest"]
        script = wrk_script("/v1/events", batch=False, delay_ms=delay_ms)
        leg = wrk(url, script, server_pid=pid)
        legs.append(replace(leg, name="single-half-rate", target="ingest", round=1, events_per_s=leg.requests_per_s))
        print(legs[-1], flush=True)
    finally:
        ingest.stop()
        if bare is not None:
            bare.terminate()
            bare.wait(10)
        broker.stop()
    failed = [leg for leg in legs if leg.errors > 0.005 * leg.requests_per_s * args.seconds]
    if failed:
        # A leg whose requests failed measured something else than accepting events.
        print(f"legs with errors: {failed}; see the logs in {workdir}", file=sys.stderr)
        return 1
    summary = summarise(legs)
    record = {"args": vars(args), "summary": summary, "legs": [asdict(leg) for leg in legs]}
    publish("ingest", args.label, record, render(summary, machine(), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
