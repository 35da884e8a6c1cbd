"""The embedded broker's command lines."""

from __future__ import annotations

from pathlib import Path

from deploy.kafka import broker


def test_cluster_ids_are_22_url_safe_characters() -> None:
    ids = {broker._kafka_uuid() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(
        len(i) == 22 and set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids
    )
    # About 1 in 32 starts with "-": the format command must pass it as --cluster-id=<id>.
    assert any(i.startswith("-") for i in ids)


def test_install_hint_names_the_packages() -> None:
    hint = broker.install_hint(["java", "mvn"])
    assert "openjdk-17-jre-headless maven" in hint
    assert Path(broker.HERE / "pom.xml").exists()
