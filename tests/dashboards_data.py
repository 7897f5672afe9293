"""A warehouse filled by the simulator, for the dashboard and report tests (no Kafka needed).

Rows go through the sink's own row functions and ``WarehouseWriter``, as the sink writes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigie.contract.events import AnswerSubmitted, SessionEnded, SessionStarted
from vigie.producers.pseudonym import Pseudonymizer
from vigie.producers.simulator import CohortConfig, simulate
from vigie.settings import VigieSettings

#: The demo cohort of the tests: small (2 cores shared), yet above k=5 in every group shown above class level.
END = datetime(2025, 11, 22, tzinfo=UTC)
COHORT = CohortConfig(
    academies=("lyon", "grenoble"),
    schools_per_academy=2,
    classes_per_school=2,
    students_per_class=8,
    days=14,
    answers_per_session=6,
    levels=("CM1", "6e"),
    end=END,
)
TIME_FROM, TIME_TO = END - timedelta(days=21), END + timedelta(days=1)


def dashboard_settings(state_dir: Path) -> VigieSettings:
    return VigieSettings(state_dir=state_dir, warehouse={"database": f"d_{uuid.uuid4().hex[:10]}"})


def fill(client, settings: VigieSettings) -> dict[str, int]:
    from vigie.warehouse.rows import ANSWERS, SESSION_EVENTS, answer_row, session_row
    from vigie.warehouse.sink import WarehouseWriter

    writer = WarehouseWriter(client, settings.warehouse.database)
    answers, sessions = {}, {}
    for event in simulate(COHORT, Pseudonymizer(b"dashboards-test-key")):
        if isinstance(event, AnswerSubmitted):
            answers[event.event_id] = answer_row(event)
        elif isinstance(event, SessionStarted | SessionEnded):
            sessions[event.event_id] = session_row(event)
    writer.write(ANSWERS, answers)
    writer.write(SESSION_EVENTS, sessions)
    return {"answers": len(answers), "session_events": len(sessions)}
