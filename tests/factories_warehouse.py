"""Factories of the stream's output events (mastery, signals, parameters, dead letters) for warehouse tests."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import timedelta
from typing import Any

from tests.factories import BASE_TIME, PSEUDONYMS, answer, student
from vigie.core.contract.codec import encode
from vigie.core.contract.events import (
    EVENT_ID_NAMESPACE,
    DeadLetter,
    MasteryUpdated,
    SignalChanged,
    SignalReason,
    SkillParameters,
    StatementKept,
)

_counter = itertools.count(1)


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"test-{kind}-{n}")


def _pupil(**overrides: Any) -> dict[str, Any]:
    base = {
        "academy": "lyon",
        "school_uai": "0691234A",
        "class_id": PSEUDONYMS.school_class("classe-1"),
        "student_id": PSEUDONYMS.student("eleve-1"),
        "level": "CM1",
    }
    base.update(overrides)
    return base


def mastery_updated(**overrides: Any) -> MasteryUpdated:
    n = next(_counter)
    fields = {
        "event_id": _id("mastery", n),
        "answer_event_id": _id("answer", n),
        "occurred_at": BASE_TIME + timedelta(seconds=n),
        "subject": "mathematiques",
        "skill_code": "C3-MA-NOM-01",
        "correct": True,
        "p_before": 0.3,
        "p_after": 0.4,
        "attempts": n,
        "mastered": False,
        "params_version": 1,
    }
    fields.update(_pupil(**{k: overrides.pop(k) for k in list(overrides) if k in _PUPIL_FIELDS}))
    fields.update(overrides)
    return MasteryUpdated(**fields)


def chained(events: list[Any]) -> list[Any]:
    """The events with each MasteryUpdated carrying the estimate it replaces, as the stream fills it: per
    pupil and skill in ``attempts`` order, ``previous_p_after``/``previous_mastered`` of the update before
    (left as they are where already set, and None for the first). Other events pass unchanged, in order."""
    previous: dict[uuid.UUID, MasteryUpdated] = {}
    chains: dict[tuple[str, str, str], list[MasteryUpdated]] = {}
    for e in events:
        if isinstance(e, MasteryUpdated):
            chains.setdefault((e.academy, e.student_id, e.skill_code), []).append(e)
    for chain in chains.values():
        ordered = sorted(chain, key=lambda e: e.attempts)
        for before, after in itertools.pairwise(ordered):
            previous[after.event_id] = before
    out = []
    for e in events:
        if isinstance(e, MasteryUpdated) and e.previous_p_after is None and e.event_id in previous:
            before = previous[e.event_id]
            e = e.model_copy(update={"previous_p_after": before.p_after, "previous_mastered": before.mastered})
        out.append(e)
    return out


def signal_changed(**overrides: Any) -> SignalChanged:
    n = next(_counter)
    at = overrides.pop("occurred_at", BASE_TIME + timedelta(seconds=n))
    fields = {
        "event_id": _id("signal", n),
        "signal_id": _id("episode", n),
        "status": "raised",
        "signal_type": "inactivity",
        "severity": "high",
        "occurred_at": at,
        "first_seen_at": at,
        "reasons": (SignalReason(code="days_inactive", text="Aucune activité depuis 12 jours", value=12, threshold=7),),
    }
    fields.update(_pupil(**{k: overrides.pop(k) for k in list(overrides) if k in _PUPIL_FIELDS}))
    fields.update(overrides)
    return SignalChanged(**fields)


def skill_parameters(**overrides: Any) -> SkillParameters:
    fields = {
        "skill_code": "C3-MA-NOM-01",
        "p_init": 0.2,
        "p_learn": 0.1,
        "p_guess": 0.2,
        "p_slip": 0.1,
        "n_answers": 1000,
        "params_version": 1,
        "fitted_at": BASE_TIME,
    }
    fields.update(overrides)
    return SkillParameters(**fields)


def dead_letter(**overrides: Any) -> DeadLetter:
    n = next(_counter)
    payload = overrides.pop("payload", encode(answer()))
    fields = {
        "event_id": _id("dlq", n),
        "source_topic": "vigie.learning-events.v1",
        "partition": 0,
        "offset": n,
        "reason": "score: too large",
        "error_type": "InvalidEventError",
        "key": None,
        "payload_b64": base64.b64encode(payload).decode(),
        "received_at": BASE_TIME,
    }
    fields.update(overrides)
    return DeadLetter(**fields)


def statement_kept(**overrides: Any) -> StatementKept:
    """A valid statement the gateway kept without an event (an H5P answer to an unmapped content)."""
    n = next(_counter)
    fields = {
        "event_id": _id("kept", n),
        "statement_id": _id("statement", n),
        "platform": "h5p-ecole",
        "academy": "lyon",
        "student_id": student(0),
        "status": "unmapped",
        "reason_code": "unmapped_activity",
        "reason": "no skill rule matches activity https://h5p.ecole-exemple.fr/h5p/embed/77",
        "verb": "http://adlnet.gov/expapi/verbs/answered",
        "object_id": "https://h5p.ecole-exemple.fr/h5p/embed/77",
        "statement": '{"actor": {"account": {"homePage": "urn:vigie:pseudonym", "name": "' + student(0) + '"}}}',
        "stored": BASE_TIME,
        "recorded_at": BASE_TIME,
    }
    fields.update(overrides)
    return StatementKept(**fields)


_PUPIL_FIELDS = {"academy", "school_uai", "class_id", "student_id", "level"}
