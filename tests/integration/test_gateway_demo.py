"""The gateway's demo step: statements posted over HTTP land in the warehouse exactly as it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.core.topics import ensure_topics
from vigie.producers.gateway.demo import post_demo_statements
from vigie.warehouse.sink import Sink

pytestmark = pytest.mark.integration


def test_the_demo_statements_reach_the_warehouse_once(settings, warehouse, tmp_path: Path) -> None:
    ensure_topics(settings.kafka)
    outcome = post_demo_statements(settings.model_copy(update={"state_dir": tmp_path}))
    assert outcome.retried_same_ids and outcome.posted == outcome.accepted == 16
    assert outcome.expected == {"answers": 8, "session_events": 6, "raw_statements": 2}

    goal = sum(outcome.expected.values())
    Sink(settings, warehouse).run(until=lambda s: s.inserted_total >= goal, idle_timeout_s=30)
    db = settings.warehouse.database
    for table, ids in outcome.expected_ids.items():
        stored = warehouse.query(f"SELECT event_id FROM {db}.{table}").result_rows
        assert sorted(r[0] for r in stored) == sorted(ids), table
    skills = warehouse.query(f"SELECT skill_code, count() FROM {db}.answers GROUP BY 1 ORDER BY 1").result_rows
    assert skills == [("C3-MA-NOM-03", 2), ("C3-MA-NOM-05", 6)]
