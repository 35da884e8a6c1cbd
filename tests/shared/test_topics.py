"""Topics the services create: the events topic keeps every event (a rebuild replays it)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from tests.harness.kafka import unique_topics


async def retention_ms(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_, _, _, _, entries)] = response.resources
        return str(next(value for name, value, *_ in entries if name == "retention.ms"))
    finally:
        await admin.close()


async def test_the_events_topic_is_created_with_unlimited_retention(kafka_bootstrap: str) -> None:
    topics = unique_topics()
    settings = ServiceSettings(environment="test", kafka_bootstrap_servers=kafka_bootstrap, topics=topics)
    await ensure_topics(settings, topics.all())
    assert await retention_ms(kafka_bootstrap, topics.events) == "-1"
    assert await retention_ms(kafka_bootstrap, topics.alerts) != "-1"
