"""A kept (pseudonymised) statement -> one contract event, by the platform's configuration, or the
reason it cannot be one yet. Pure: the roster and session counts come in as functions.

- the verb's role (``Platform.role_of``): ``answered`` is an answer; ``completed``/``passed``/``failed``
  on a container (quiz attempt, H5P content) ends a session and is never an answer, so a quiz-level
  score is not counted on top of its questions (on a question it makes no event: it repeats the
  question's ``answered``); ``attempted``/``initialized`` start a session;
- the pupil: the roster entry whose pseudonym matches the actor's under one of the platform's keys;
- the skill: the first matching rule in ``RULE_ORDER`` (the activity's IRI, its H5P content id, the
  Moodle ``cmid`` of the activity or its parents, a parent/grouping IRI, the longest IRI prefix);
- the session: ``context.registration``, else the Moodle attempt among the context activities, else
  the container (parent, else the activity) of this pupil on that UTC day;
- the time: ``timestamp`` (the gateway sets it to ``stored`` when the platform sent none).

Ids: ``event_id`` = UUIDv5(platform, statement id) as for every platform event, so a replayed or
retried statement is the same event downstream.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from vigie.core.contract.codec import explain
from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted, make_event_id
from vigie.producers.gateway.config import RULE_ORDER, Platform, RosterEntry, SkillRule
from vigie.producers.gateway.ids import parse_time
from vigie.producers.sdk import PublishableEvent
from vigie.producers.xapi import is_question, item_id_of

H5P_CONTENT_ID = "http://h5p.org/x-api/h5p-local-content-id"
ATTEMPT_TYPE = "http://adlnet.gov/expapi/activities/attempt"
_CMID = (re.compile(r"[?&]cmid=(\d+)"), re.compile(r"/mod/[a-z0-9_]+/view\.php\?(?:.*&)?id=(\d+)"))
_DURATION = re.compile(
    r"^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$"
)
MAX_RESPONSE_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Mapped:
    event: PublishableEvent
    session_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Unmapped:
    """Valid, kept, but no event (yet): ``code`` is one of unknown_actor, unmapped_activity, no_event,
    incomplete, contract; ``reason`` says what to configure."""

    code: str
    reason: str


class StatementMapper:
    """Maps one platform's kept statements with its rules; ``roster`` and ``answers_in_session`` are lookups."""

    def __init__(
        self,
        platform: Platform,
        rules: list[SkillRule],
        roster: Callable[[dict[str, str]], RosterEntry | None],
        answers_in_session: Callable[[str], int],
    ) -> None:
        self.platform = platform
        self._exact: dict[tuple[str, str], SkillRule] = {(r.match, r.value): r for r in rules if r.match != "prefix"}
        self._prefixes = sorted((r for r in rules if r.match == "prefix"), key=lambda r: -len(r.value))
        self._roster = roster
        self._answers_in_session = answers_in_session

    def map(self, kept: dict[str, Any], actor_keys: dict[str, str]) -> Mapped | Unmapped:
        verb = kept["verb"]["id"]
        role = self.platform.role_of(verb)
        if role == "none":
            return Unmapped(
                "no_event",
                f"verb {verb} is neither an answer nor a session start/end for Vigie "
                "(set its role with `vigie platforms verb`)",
            )
        if role == "session_end" and is_question(kept.get("object")):
            return Unmapped(
                "no_event",
                f"verb {verb} on a question repeats its answer; only `answered` counts (some tools send both)",
            )
        if not actor_keys:
            return Unmapped("unknown_actor", "the actor is a group or has no identifier, not one pupil")
        pupil = self._roster(actor_keys)
        if pupil is None:
            return Unmapped(
                "unknown_actor",
                f"the actor is not in platform {self.platform.slug}'s roster (import it with `vigie platforms roster`)",
            )
        session_id = session_of(kept, pupil.student_id)
        common = {
            "event_id": make_event_id(self.platform.slug, kept["id"]),
            "source_event_id": kept["id"],
            "occurred_at": parse_time(kept["timestamp"]),
            "platform": self.platform.slug,
            "academy": pupil.academy,
            "school_uai": pupil.school_uai,
            "class_id": pupil.class_id,
            "student_id": pupil.student_id,
            "level": pupil.level,
            "session_id": session_id,
        }
        try:
            if role == "answer":
                return self._answer(kept, common)
            if role == "session_start":
                return Mapped(SessionStarted.model_validate(common), session_id, "session_start")
            outcome = "completed" if role == "session_end" else "abandoned"
            ended = SessionEnded.model_validate(
                {**common, "outcome": outcome, "answers_count": self._answers_in_session(session_id)}
            )
            return Mapped(ended, session_id, "session_end")
        except ValidationError as error:
            problem = explain(error)
            return Unmapped("contract", f"not a valid Vigie event: {problem}")

    def _answer(self, kept: dict[str, Any], common: dict[str, Any]) -> Mapped | Unmapped:
        target = kept["object"]
        if target.get("objectType", "Activity") != "Activity":
            return Unmapped("incomplete", f"an answer is to an activity, not a {target.get('objectType')}")
        result = kept.get("result") or {}
        score = _score(result.get("score"))
        success = result.get("success")
        if success is None and score is None:
            return Unmapped("incomplete", "an answer needs result.success or result.score")
        rule = self.rule_for(kept)
        if rule is None:
            return Unmapped(
                "unmapped_activity",
                f"no skill rule matches activity {target['id']} (nor its H5P content, "
                "Moodle cmid or parents): add one with `vigie platforms rule`",
            )
        correct = success if success is not None else score is not None and score >= 1.0
        answer = AnswerSubmitted.model_validate(
            {
                **common,
                "subject": rule.subject,
                "skill_code": rule.skill_code,
                "item_id": item_id_of(target["id"]),
                "correct": correct,
                "score": score if score is not None else (1.0 if correct else 0.0),
                "response_time_ms": _response_ms(result.get("duration"), self.platform.default_response_time_ms),
            }
        )
        return Mapped(answer, common["session_id"], "answer")

    def rule_for(self, kept: dict[str, Any]) -> SkillRule | None:
        target = kept["object"]
        activity = target.get("id", "")
        parents = _context_ids(kept, "parent") + _context_ids(kept, "grouping")
        candidates: dict[str, list[str]] = {
            "activity": [activity],
            "h5p-content": [
                str(v) for v in [_get(target, "definition", "extensions", H5P_CONTENT_ID)] if v is not None
            ],
            "moodle-cmid": [m for iri in (activity, *parents) for m in _cmids(iri)],
            "parent": parents,
        }
        for match in RULE_ORDER:
            if match == "prefix":
                return next((r for r in self._prefixes if activity.startswith(r.value)), None)
            for value in candidates[match]:
                rule = self._exact.get((match, value))
                if rule is not None:
                    return rule
        return None


def session_of(kept: dict[str, Any], student_id: str) -> str:
    """The session of a statement (see the module's docstring); fits the contract's id alphabet."""
    registration = _get(kept, "context", "registration")
    if isinstance(registration, str):
        return registration
    for kind in ("parent", "grouping", "other"):
        for activity in _context_activities(kept, kind):
            if _get(activity, "definition", "type") == ATTEMPT_TYPE:
                return "s:" + hashlib.sha256(activity["id"].encode()).hexdigest()[:40]
    if _get(kept, "object", "definition", "type") == ATTEMPT_TYPE:
        return "s:" + hashlib.sha256(kept["object"]["id"].encode()).hexdigest()[:40]
    parents = _context_ids(kept, "parent")
    container = parents[0] if parents else str(_get(kept, "object", "id"))
    day = parse_time(kept["timestamp"]).date().isoformat()
    return "s:" + hashlib.sha256(f"{container}\x1f{student_id}\x1f{day}".encode()).hexdigest()[:40]


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _context_activities(kept: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    value = _get(kept, "context", "contextActivities", kind)
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [a for a in items if isinstance(a, dict) and isinstance(a.get("id"), str)]


def _context_ids(kept: dict[str, Any], kind: str) -> list[str]:
    return [a["id"] for a in _context_activities(kept, kind)]


def _cmids(iri: str) -> list[str]:
    return [m.group(1) for pattern in _CMID for m in [pattern.search(iri)] if m]


def _score(score: Any) -> float | None:
    """scaled, else raw within min/max; a negative scaled score counts as 0 (the contract's [0, 1])."""
    if not isinstance(score, dict):
        return None
    scaled = score.get("scaled")
    raw, low, high = score.get("raw"), score.get("min", 0), score.get("max")
    if scaled is None and raw is not None and high is not None and high > low:
        scaled = (raw - low) / (high - low)
    return None if scaled is None else min(1.0, max(0.0, float(scaled)))


def _response_ms(duration: Any, default_ms: int) -> int:
    """result.duration in ms (years and months are not a response time: the default then), at most 1 h."""
    match = _DURATION.match(duration) if isinstance(duration, str) else None
    if match is None:
        return default_ms
    weeks, days, hours, minutes, seconds = (float(g.replace(",", ".")) if g else 0.0 for g in match.groups())
    total_ms = round(((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000)
    return min(total_ms, MAX_RESPONSE_MS)
