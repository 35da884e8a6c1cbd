"""Topics the services create: the events topic keeps every event (a rebuild replays it)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from tests.harness.kafka import unique_topics
from tests.harness.waiting import wait_for_value


async def configs(bootstrap: str, topic: str) -> dict[str, str]:
    """The topic's configuration (waiting, bounded, until the broker describes a topic just created)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()

    async def describe() -> dict[str, str]:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_, _, _, _, entries)] = response.resources
        return {str(name): str(value) for name, value, *_ in entries}

    try:
        return await wait_for_value(describe, bool, timeout_s=10, what=f"the configuration of {topic}")
    finally:
        await admin.close()


async def retention_ms(bootstrap: str, topic: str) -> str:
    return (await configs(bootstrap, topic))["retention.ms"]


async def test_the_events_topic_is_created_with_unlimited_retention(kafka_bootstrap: str) -> None:
    topics = unique_topics()
    settings = ServiceSettings(environment="test", kafka_bootstrap_servers=kafka_bootstrap, topics=topics)
    await ensure_topics(settings, topics.all())
    assert await retention_ms(kafka_bootstrap, topics.events) == "-1"
    assert await retention_ms(kafka_bootstrap, topics.alerts) != "-1"


async def test_derived_topics_age_out_and_the_keys_topic_is_compacted(kafka_bootstrap: str) -> None:
    """Alerts, positions and dead letters keep KAFKA_DERIVED_RETENTION_S; a shredded data key goes soon."""
    topics = unique_topics()
    settings = ServiceSettings(
        environment="test", kafka_bootstrap_servers=kafka_bootstrap, topics=topics, kafka_derived_retention_s=3600
    )
    await ensure_topics(settings, topics.all())
    for derived in (topics.alerts, topics.positions, topics.dlq):
        assert await retention_ms(kafka_bootstrap, derived) == "3600000", derived
    keys = await configs(kafka_bootstrap, topics.keys)
    assert keys["cleanup.policy"] == "compact"
    assert keys["retention.ms"] == "604800000"  # the broker default: compaction, not age, removes keys
    assert (keys["min.compaction.lag.ms"], keys["segment.ms"], keys["delete.retention.ms"]) == (
        "0",
        "3600000",
        "86400000",
    )
    assert keys["max.compaction.lag.ms"] == "86400000"
    assert float(keys["min.cleanable.dirty.ratio"]) <= 0.01
