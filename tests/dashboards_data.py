"""A warehouse filled by the simulator, for the dashboard and report tests (no Kafka needed).

Rows go through the sink's own row functions and ``WarehouseWriter``, as the sink writes them.
The stream's outputs are derived here from the simulated answers with deliberately simple rules
(a fixed-step mastery update, a falling-success signal), standing in for the mastery and signal
processors: the dashboards only need realistic shapes, not calibrated estimates.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from datetime import UTC, date, datetime
from pathlib import Path

from vigie.contract.events import (
    EVENT_ID_NAMESPACE,
    AnswerSubmitted,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SignalReason,
)
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.settings import VigieSettings

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
MASTERED_AT = 0.8


def dashboard_settings(state_dir: Path) -> VigieSettings:
    return VigieSettings(state_dir=state_dir, warehouse={"database": f"d_{uuid.uuid4().hex[:10]}"})


def _id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, "dashboards-test\x1f" + "\x1f".join(map(str, parts)))


def derived_events(answers: list[AnswerSubmitted]) -> tuple[list[MasteryUpdated], list[SignalChanged]]:
    """Mastery after each answer (fixed steps) and falling-success signals (last 8 answers < 60 %)."""
    p: dict[tuple[str, str], float] = defaultdict(lambda: 0.3)
    attempts: dict[tuple[str, str], int] = defaultdict(int)
    recent: dict[str, deque[bool]] = defaultdict(lambda: deque(maxlen=8))
    open_signal: dict[str, tuple[uuid.UUID, datetime]] = {}
    mastery, signals = [], []
    for a in sorted(answers, key=lambda e: (e.student_id, e.occurred_at)):
        key = (a.student_id, a.skill_code)
        before = p[key]
        after = before + (1 - before) * 0.2 if a.correct else before * 0.8
        p[key], attempts[key] = after, attempts[key] + 1
        pupil = dict(academy=a.academy, school_uai=a.school_uai, class_id=a.class_id, student_id=a.student_id,
                     level=a.level)  # fmt: skip
        mastery.append(MasteryUpdated(
            event_id=_id("mastery", a.event_id), answer_event_id=a.event_id, occurred_at=a.occurred_at,
            subject=a.subject, skill_code=a.skill_code, correct=a.correct, p_before=round(before, 4),
            p_after=round(after, 4), attempts=attempts[key], mastered=after >= MASTERED_AT, **pupil,
        ))  # fmt: skip
        window = recent[a.student_id]
        window.append(a.correct)
        if len(window) < window.maxlen:
            continue
        rate = sum(window) / len(window)
        if rate < 0.6 and a.student_id not in open_signal:
            signal_id = _id("signal", a.student_id, a.occurred_at)
            open_signal[a.student_id] = (signal_id, a.occurred_at)
            reason = SignalReason(code="success_rate_last_8", value=rate, threshold=0.6,
                                  text=f"Réussite de {rate:.0%} sur les 8 dernières réponses (seuil 60 %)")  # fmt: skip
            signals.append(SignalChanged(
                event_id=_id("raised", signal_id), signal_id=signal_id, status="raised",
                signal_type="falling_success", severity="high" if rate < 0.3 else "medium", reasons=(reason,),
                occurred_at=a.occurred_at, first_seen_at=a.occurred_at, **pupil,
            ))  # fmt: skip
        elif rate >= 0.9 and a.student_id in open_signal:
            signal_id, first_seen = open_signal.pop(a.student_id)
            signals.append(SignalChanged(
                event_id=_id("cleared", signal_id), signal_id=signal_id, status="cleared",
                signal_type="falling_success", severity=None, reasons=(), occurred_at=a.occurred_at,
                first_seen_at=first_seen, cleared_at=a.occurred_at, **pupil,
            ))  # fmt: skip
    return mastery, signals


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
    answers, sessions = [], {}
    for event in Simulation(COHORT, settings.privacy).events():
        if isinstance(event, AnswerSubmitted):
            answers.append(event)
        elif isinstance(event, SessionStarted | SessionEnded):
            sessions[event.event_id] = session_row(event)
    mastery, signals = derived_events(answers)
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
    return {"answers": len(answers), "session_events": len(sessions), "mastery_updates": len(mastery),
            "signals": len(signals)}  # fmt: skip


def demo_choice(client, database: str) -> dict[str, str]:
    """Academy, school and class of a class with a pupil to follow (what a demo would open first)."""
    academy, school, class_id = client.query(
        f"SELECT academy, school_uai, class_id FROM {database}.signals_current FINAL WHERE status != 'cleared' "
        "ORDER BY academy, school_uai, class_id LIMIT 1"
    ).result_rows[0]
    return {"academy": academy, "school": school, "class": class_id}
