"""A warehouse filled by the simulator, for the dashboard and report tests (no Kafka needed).

Rows go through the sink's own row functions and ``WarehouseWriter``, as the sink writes them.
Mastery updates and signal changes come from the stream's own processors (mastery with default
parameters, the signals engine with its day ticks) run over the simulated events in batches, as the
stream worker runs them, without Kafka.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from vigie.core.contract.events import (
    AnswerSubmitted,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
)
from vigie.core.settings import VigieSettings
from vigie.producers.simulator import Simulation, SimulationConfig

#: The demo cohort of the tests: small (2 cores shared), yet above k=5 in most groups shown above class level.
END = date(2025, 11, 21)  # a Friday in term time
COHORT = SimulationConfig(
    academies=("lyon", "grenoble", "rennes"),
    schools_per_academy=2,
    classes_per_school=2,
    students_per_class=12,
    days=21,
    end=END,
    levels=("CM1", "6e"),
)
TIME_FROM = datetime(2025, 10, 25, tzinfo=UTC)
TIME_TO = datetime(2025, 11, 23, tzinfo=UTC)


def dashboard_settings(state_dir: Path) -> VigieSettings:
    return VigieSettings(state_dir=state_dir, warehouse={"database": f"d_{uuid.uuid4().hex[:10]}"})


def derived_mastery(events: list, threshold: float) -> list[MasteryUpdated]:
    """The mastery processor (default BKT parameters) over the events, in batches as the stream runs it."""
    from vigie.stream.mastery.params import ParameterBook
    from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

    processor = MasteryProcessor({}, ParameterBook(), threshold=threshold)
    return [
        u
        for start in range(0, len(events), 500)
        for u in decoded_updates(processor.process(events[start : start + 500]))
    ]


def derived_signals(events: list) -> list[SignalChanged]:
    """The signals processor's own engine over the events, in batches with day ticks, as the stream runs it."""
    from vigie.stream.signals.engine import SignalEngine

    engine = SignalEngine({}, partitions=6)
    changes: list[SignalChanged] = []
    for start in range(0, len(events), 500):
        changes += engine.process(events[start : start + 500])
        changes += engine.tick()
    return changes


def fill(client, settings: VigieSettings) -> dict[str, int]:
    from vigie.warehouse.rows import (
        ANSWERS,
        MASTERY_UPDATES_TABLE,
        SESSION_EVENTS,
        SIGNALS_TABLE,
        answer_row,
        mastery_row,
        session_row,
        signal_row,
    )
    from vigie.warehouse.sink import WarehouseWriter

    writer = WarehouseWriter(client, settings.warehouse.database)
    events = list(Simulation(COHORT, settings.privacy).events())
    answers = [e for e in events if isinstance(e, AnswerSubmitted)]
    sessions = {e.event_id: session_row(e) for e in events if isinstance(e, SessionStarted | SessionEnded)}
    mastery, signals = derived_mastery(events, settings.stream.mastery_threshold), derived_signals(events)
    tables = (
        (ANSWERS, {a.event_id: answer_row(a) for a in answers}),
        (SESSION_EVENTS, sessions),
        (MASTERY_UPDATES_TABLE, {m.event_id: mastery_row(m) for m in mastery}),
        (SIGNALS_TABLE, {s.event_id: signal_row(s) for s in signals}),
    )
    for table, rows in tables:
        items = list(rows.items())
        # Batches of 5k: WarehouseWriter looks up up to 50k ids in one IN list, which overflows
        # ClickHouse's max_query_size (256 KiB) beyond ~6.5k UUIDs.
        for start in range(0, len(items), 5000):
            writer.write(table, dict(items[start : start + 5000]))
    return {
        "answers": len(answers),
        "session_events": len(sessions),
        "mastery_updates": len(mastery),
        "signals": len(signals),
    }


def demo_choice(client, database: str) -> dict[str, str]:
    """Academy, school and class of a class with a pupil to follow (what a demo would open first)."""
    academy, school, class_id = client.query(
        f"SELECT academy, school_uai, class_id FROM {database}.signals_current FINAL WHERE status != 'cleared' "
        "ORDER BY academy, school_uai, class_id LIMIT 1"
    ).result_rows[0]
    return {"academy": academy, "school": school, "class": class_id}
