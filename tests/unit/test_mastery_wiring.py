"""The faust wiring of mastery, without a broker: the table's serializers and partitioner."""

from __future__ import annotations

import pytest

from vigie.core.settings import VigieSettings
from vigie.stream.mastery.agents import TABLE_NAME, FeedingMasteryProcessor

pytestmark = pytest.mark.unit


def test_the_app_registers_a_copartitioned_raw_keyed_mastery_table(tmp_path) -> None:
    from vigie.stream.topology import create_app

    settings = VigieSettings(state_dir=tmp_path, kafka={"partitions": 5})
    stream_app = create_app(settings)
    table = stream_app.app.tables[TABLE_NAME]
    assert table.use_partitioner and table.partitions == 5
    changelog = table.changelog_topic
    assert (changelog.key_serializer, changelog.value_serializer) == ("raw", "raw")
    assert changelog.get_topic_name().endswith("-mastery-changelog")
    processors = [p for p in stream_app.processors if isinstance(p, FeedingMasteryProcessor)]
    assert len(processors) == 1 and processors[0].threshold == settings.stream.mastery_threshold
