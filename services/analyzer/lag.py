"""Consumer lag per partition: how many records of the events topic this member has not yet processed.

For each partition the member holds, the lag is the log end offset (the offset the next record will
get) minus the group's committed offset, which the consumer commits only after the batch's
transaction (services/analyzer/consumer.py): the same figure as the LAG column of
``kafka-consumer-groups.sh --describe --group analyzer``. A partition the group never committed on
counts from its first record. It is measured by a task of its own, every few seconds, so it keeps
growing while processing is stuck (a database outage, a batch that retries) instead of freezing with
the loop that would otherwise measure it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


async def measure_lag(consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
    """Log end offset minus committed offset (or first offset, with no commit) of each partition."""
    held = sorted(partitions)
    if not held:
        return {}
    ends = await consumer.end_offsets(held)
    starts = await consumer.beginning_offsets(held)
    lag: dict[TopicPartition, int] = {}
    for tp in held:
        committed = await consumer.committed(tp)
        done = starts[tp] if committed is None else max(committed, starts[tp])
        lag[tp] = max(0, ends[tp] - done)
    return lag


class LagMonitor:
    """Keeps ``lag`` up to date for the partitions the running consumer holds (empty when it holds none)."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer | None], *, interval_s: float) -> None:
        self._consumer = consumer
        self._interval_s = interval_s
        self.lag: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        """Measure every ``interval_s`` until cancelled; a failed measurement keeps the last figures."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - a broker hiccup must not stop the monitor
                log.info("consumer lag not measured", extra={"reason": f"{type(exc).__name__}: {exc}"})
            await asyncio.sleep(self._interval_s)

    async def refresh(self) -> None:
        """Measure now."""
        consumer = self._consumer()
        if consumer is None:
            self.lag = {}
            return
        self.lag = await measure_lag(consumer, consumer.assignment())


class LagCollector(Collector):
    """Exposes ``analyzer_consumer_lag{topic, partition}`` from a ``LagMonitor``."""

    def __init__(self, monitor: LagMonitor) -> None:
        self._monitor = monitor

    def collect(self) -> Iterable[Metric]:
        """One sample per held partition."""
        family = GaugeMetricFamily(
            "analyzer_consumer_lag",
            "Records of the partition not yet processed: log end offset minus the group's committed offset",
            labels=["topic", "partition"],
        )
        for tp, lag in sorted(self._monitor.lag.items()):
            family.add_metric([tp.topic, str(tp.partition)], lag)
        yield family
