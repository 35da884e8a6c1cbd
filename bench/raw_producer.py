"""The ceiling of ingest's Kafka path: aiokafka alone sending the records ingest would send.

``python -m bench.raw_producer --bootstrap H:P --topic T`` builds the producer exactly as ingest does
(``shared.kafka.build_producer``: acks=all, idempotent, same linger), encodes the events of
``bench.stream.sample_events`` as ingest encodes them (same key and headers; the values unsealed, so the
ceiling leaves out the cost of sealing personal data), and runs
``--concurrency`` tasks that each send ``--batch`` records and wait for all their acks, like that many
clients posting batches. It prints one JSON line: events, seconds, events/s, CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from datetime import UTC, datetime

from bench.stream import sample_events
from services.ingest.service import SCHEMA_HEADER
from services.ingest.settings import IngestSettings
from shared.events import EVENT_ADAPTER, assign_event_id, encode_event, event_key
from shared.kafka import build_producer


def records(bodies: list[dict[str, object]]) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """(key, value, headers) of each event, as ``services.ingest.service.EventPublisher`` makes them."""
    received = datetime.now(UTC).isoformat().encode()
    out = []
    for body in bodies:
        event = EVENT_ADAPTER.validate_python(body)
        assign_event_id(event)
        headers = [SCHEMA_HEADER, ("received_at", received), ("source", b"api")]
        out.append((event_key(event).encode(), encode_event(event), headers))
    return out


async def run(bootstrap: str, topic: str, *, seconds: float, concurrency: int, batch: int) -> dict[str, float]:
    """Send batches from ``concurrency`` tasks for ``seconds``; count acknowledged records."""
    settings = IngestSettings(kafka_bootstrap_servers=bootstrap, environment="development")
    producer = build_producer(settings, client_id="bench-raw")
    await producer.start()
    prepared = records(sample_events(batch * 10))
    sent = 0
    try:
        deadline = time.monotonic() + seconds

        async def client(offset: int) -> None:
            nonlocal sent
            index = offset
            while time.monotonic() < deadline:
                futures = []
                for _ in range(batch):
                    key, value, headers = prepared[index % len(prepared)]
                    index += 1
                    futures.append(await producer.send(topic, value=value, key=key, headers=headers))
                await asyncio.gather(*futures)
                sent += batch

        cpu_before = _cpu_s()
        started = time.monotonic()
        await asyncio.gather(*(client(i * batch) for i in range(concurrency)))
        elapsed = time.monotonic() - started
        cpu = _cpu_s() - cpu_before
    finally:
        await producer.stop()
    return {"events": sent, "seconds": elapsed, "events_per_s": sent / elapsed, "cpu_s": cpu}


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run the raw producer leg and print its figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.raw_producer")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    result = asyncio.run(
        run(args.bootstrap, args.topic, seconds=args.seconds, concurrency=args.concurrency, batch=args.batch)
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
