"""The account -> partition mapping the sweep uses matches the producer's own partitioner."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from services.analyzer.consumer import partition_of


def test_partition_of_matches_the_default_partitioner() -> None:
    partitioner = DefaultPartitioner()
    for count in (1, 3, 6, 12):
        for number in range(500):
            key = f"acct-{number:05d}"
            assert partition_of(key, count) == partitioner(key.encode(), list(range(count)), [])
