from __future__ import annotations

import pytest
from kafka import KafkaAdminClient

from vigie.core.topics import ALL_TOPICS, SKILL_PARAMETERS, ensure_topics

pytestmark = pytest.mark.integration


def test_topics_are_created_once_with_their_declared_settings(settings) -> None:
    created = ensure_topics(settings.kafka)
    assert sorted(created) == sorted(spec.name(settings.kafka.topic_prefix) for spec in ALL_TOPICS)
    assert ensure_topics(settings.kafka) == []  # idempotent

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    try:
        described = {t["name"]: t for t in admin.describe_topics(created)}
        for spec in ALL_TOPICS:
            partitions = len(described[spec.name(settings.kafka.topic_prefix)]["partitions"])
            assert partitions == (settings.kafka.partitions if spec.pupil_keyed else 1)
        from kafka.admin import ConfigResource, ConfigResourceType

        params = SKILL_PARAMETERS.name(settings.kafka.topic_prefix)
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, params)])
        assert configs["topic"][params]["cleanup.policy"]["value"] == "compact"
    finally:
        admin.close()


def test_the_session_broker_answers_metadata(kafka_bootstrap) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=5000)
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()
