"""xAPI adapter: turn xAPI statements (from a platform or an LRS export) into contract events.

Mapping (one statement -> one event):

- verb ``answered`` (ADL IRIs) -> ``AnswerSubmitted``; so are ``completed``, ``passed``, ``failed`` and
  ``attempted`` when their object is a question (``cmi.interaction``). On anything else (a quiz, an
  attempt, a content holding questions) they are never an answer — a quiz's score would otherwise be
  counted on top of its questions: ``completed``/``passed``/``failed`` -> ``SessionEnded(completed)``,
  ``attempted`` -> ``SessionStarted``. ``initialized`` -> ``SessionStarted``; ``terminated`` ->
  ``SessionEnded(completed)``; ``suspended`` -> ``SessionEnded(abandoned)``.
- ``id`` -> ``source_event_id`` (so ``event_id`` is deterministic); ``timestamp`` (else ``stored``) -> time.
- ``actor.account.name`` -> the pupil's RAW id (``mbox``/``mbox_sha1sum``/``openid`` are accepted too),
  pseudonymised with the academy's key before the event exists.
- ``object.id`` -> ``item_id`` (an IRI that does not fit the contract's id alphabet becomes
  ``sha256:<hex>``, stable for the same IRI).
- ``result.success`` -> ``correct``; ``result.score.scaled`` (else ``raw`` within ``min``/``max``) ->
  ``score`` (a negative scaled score counts as 0); missing one of them is derived from the other.
  ``result.duration`` (ISO 8601, e.g. ``PT12.5S``) -> ``response_time_ms``.
- ``context.extensions`` keyed by Vigie's IRIs (``EXT``): academy, school UAI, class (raw id), level,
  skill, session, teacher (raw id), attempt, hints, answers count. ``context.registration`` stands for
  the session and ``context.instructor.account.name`` for the teacher when the extensions are absent.

A statement that cannot be mapped raises ``UnmappableStatementError`` naming the statement's field
and the reason: the caller reports it (the ingest command writes it to the dead-letter topic); no
statement is ever dropped silently. What goes to the dead-letter topic is the statement *redacted*
(``redact``): every agent (actor, instructor, team, authority) and the class/teacher extensions are
replaced by keyed pseudonyms, so raw identifiers never reach Kafka, not even through dead letters.
A line that is not a JSON object cannot be redacted: its bytes are withheld (empty payload); the
dead letter still names the file and the line number to look it up at the source.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from vigie.core.contract.codec import MAX_EVENT_BYTES, dead_letter
from vigie.core.contract.events import DeadLetter
from vigie.core.errors import ConfigurationError, InvalidEventError
from vigie.producers.builder import EventBuilder, Pupil
from vigie.producers.pseudonym import Pseudonymizer
from vigie.producers.sdk import PublishableEvent

log = logging.getLogger(__name__)

ADL = "http://adlnet.gov/expapi/verbs/"
ANSWER_VERBS = frozenset({f"{ADL}answered", f"{ADL}completed", f"{ADL}attempted", f"{ADL}passed", f"{ADL}failed"})
SESSION_VERBS: dict[str, Literal["completed", "abandoned", "timeout"] | None] = {
    f"{ADL}initialized": None,
    f"{ADL}terminated": "completed",
    f"{ADL}suspended": "abandoned",
}
#: What an answer verb means when its object is not a question: a container's start or end.
CONTAINER_VERBS: dict[str, Literal["completed", "abandoned", "timeout"] | None] = {
    f"{ADL}attempted": None,
    f"{ADL}completed": "completed",
    f"{ADL}passed": "completed",
    f"{ADL}failed": "completed",
}
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"

#: Context (and result) extension keys Vigie reads. URNs are IRIs, as xAPI requires.
EXT = {
    name: f"urn:vigie:xapi:{name}"
    for name in (
        "academy",
        "school-uai",
        "class",
        "teacher",
        "level",
        "skill",
        "session",
        "attempt",
        "hints",
        "answers-count",
    )
}
_ITEM_ID = re.compile(r"^[A-Za-z0-9._:/#-]{1,128}$")
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(rf"^P(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")
#: Where each contract field comes from in a statement, to name the statement's field in errors.
_SOURCE_OF = {
    "academy": f"context.extensions[{EXT['academy']}]",
    "school_uai": f"context.extensions[{EXT['school-uai']}]",
    "school_class": f"context.extensions[{EXT['class']}]",
    "class_id": f"context.extensions[{EXT['class']}]",
    "level": f"context.extensions[{EXT['level']}]",
    "skill_code": f"context.extensions[{EXT['skill']}]",
    "session_id": f"context.extensions[{EXT['session']}]",
    "teacher": f"context.extensions[{EXT['teacher']}]",
    "attempt": f"context.extensions[{EXT['attempt']}]",
    "hints_used": f"context.extensions[{EXT['hints']}]",
    "student": "actor",
    "source_event_id": "id",
    "occurred_at": "timestamp",
    "item_id": "object.id",
    "correct": "result.success",
    "score": "result.score",
    "response_time_ms": "result.duration",
}


class UnmappableStatementError(InvalidEventError):
    """An xAPI statement that does not make a contract event; ``field`` is the statement's field."""


def parse_duration_ms(value: Any) -> int:
    """ISO 8601 duration (``PT12.5S``, ``PT1M3S``, ``P1DT2H``) in milliseconds; years and months refused."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise UnmappableStatementError(f"{value!r} is not an ISO 8601 duration like PT12.5S", field="result.duration")
    weeks, days, hours, minutes, seconds = (float(g.replace(",", ".")) if g else 0.0 for g in match.groups())
    total_s = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    return round(total_s * 1000)


def item_id_of(iri: str) -> str:
    """The contract's item id of an activity IRI: itself when it fits, else a stable digest."""
    if _ITEM_ID.match(iri):
        return iri
    return "sha256:" + hashlib.sha256(iri.encode()).hexdigest()[:40]


class XapiMapper:
    """Maps statements of one platform to events; keeps per-session answer counts for session ends."""

    def __init__(self, builder: EventBuilder) -> None:
        self.builder = builder
        self._answers_in_session: Counter[tuple[str, str]] = Counter()

    def map(self, statement: Any) -> PublishableEvent:
        """One statement -> one event, or ``UnmappableStatementError`` with the field and the reason."""
        if not isinstance(statement, dict):
            raise UnmappableStatementError(f"a statement is a JSON object, not {type(statement).__name__}")
        try:
            return self._map(statement)
        except UnmappableStatementError:
            raise
        except InvalidEventError as error:  # from the builder: name the statement's field, not the contract's
            where = _SOURCE_OF.get(error.field or "", error.field)
            raise UnmappableStatementError(error.reason, field=where) from None

    def _map(self, statement: dict[str, Any]) -> PublishableEvent:
        statement_id = _text(statement, "id", "the statement id makes the event id deterministic")
        verb = _get(statement, "verb", "id")
        if not isinstance(verb, str) or (verb not in ANSWER_VERBS and verb not in SESSION_VERBS):
            known = ", ".join(v.removeprefix(ADL) for v in (*sorted(ANSWER_VERBS), *SESSION_VERBS))
            raise UnmappableStatementError(f"verb {verb!r} is not mapped (known ADL verbs: {known})", field="verb.id")
        context: dict[str, Any] = statement["context"] if isinstance(statement.get("context"), dict) else {}
        extensions: dict[str, Any] = context["extensions"] if isinstance(context.get("extensions"), dict) else {}
        pupil = Pupil(
            academy=_ext(extensions, "academy"),
            school_uai=_ext(extensions, "school-uai"),
            student=_actor_id(statement.get("actor")),
            school_class=_ext(extensions, "class"),
            level=_ext(extensions, "level"),
            teacher=extensions.get(EXT["teacher"]) or _get(context, "instructor", "account", "name"),
        )
        session_id = extensions.get(EXT["session"]) or context.get("registration")
        if not session_id:
            raise UnmappableStatementError(
                f"no session: set context.extensions[{EXT['session']}] or context.registration",
                field=f"context.extensions[{EXT['session']}]",
            )
        occurred_at = _time(statement)
        result = statement.get("result") if isinstance(statement.get("result"), dict) else None
        session_key = (str(pupil.student), str(session_id))

        if verb in ANSWER_VERBS and (verb == f"{ADL}answered" or is_question(statement.get("object"))):
            event = self._answer(statement, pupil, statement_id, session_id, occurred_at, result, extensions)
            self._answers_in_session[session_key] += 1
            return event
        outcome = SESSION_VERBS[verb] if verb in SESSION_VERBS else CONTAINER_VERBS[verb]
        if outcome is None:
            return self.builder.session_started(
                pupil, source_event_id=statement_id, session_id=session_id, occurred_at=occurred_at
            )
        result_ext: dict[str, Any] = _get(result, "extensions") if isinstance(_get(result, "extensions"), dict) else {}
        seen = self._answers_in_session.pop(session_key, 0)
        count = result_ext.get(EXT["answers-count"], extensions.get(EXT["answers-count"], seen))
        if isinstance(count, bool) or not isinstance(count, int):
            raise UnmappableStatementError(
                f"expected a whole number of answers, got {count!r}",
                field=f"context.extensions[{EXT['answers-count']}]",
            )
        return self.builder.session_ended(
            pupil,
            source_event_id=statement_id,
            session_id=session_id,
            occurred_at=occurred_at,
            outcome=outcome,
            answers_count=count,
        )

    def _answer(self, statement, pupil, statement_id, session_id, occurred_at, result, extensions):
        if result is None:
            raise UnmappableStatementError("an answer needs a result (success and/or score, duration)", field="result")
        item = _get(statement, "object", "id")
        if not isinstance(item, str) or not item:
            raise UnmappableStatementError("the activity has no id", field="object.id")
        score = _score(result.get("score"))
        success = result.get("success")
        if success is not None and not isinstance(success, bool):
            raise UnmappableStatementError(f"expected true or false, got {success!r}", field="result.success")
        if success is None and score is None:
            raise UnmappableStatementError("an answer needs result.success or result.score", field="result")
        if "duration" not in result:
            raise UnmappableStatementError(
                "an answer needs its response time (ISO 8601, e.g. PT12.5S)", field="result.duration"
            )
        result_ext = result.get("extensions") if isinstance(result.get("extensions"), dict) else {}
        return self.builder.answer(
            pupil,
            source_event_id=statement_id,
            session_id=session_id,
            skill_code=_ext(extensions, "skill"),
            item_id=item_id_of(item),
            correct=success if success is not None else (score is not None and score >= 1.0),
            score=score,
            response_time_ms=parse_duration_ms(result["duration"]),
            attempt=result_ext.get(EXT["attempt"], extensions.get(EXT["attempt"], 1)),
            hints_used=result_ext.get(EXT["hints"], extensions.get(EXT["hints"], 0)),
            occurred_at=occurred_at,
        )


def is_question(activity: Any) -> bool:
    """An activity that is one question (``cmi.interaction``), not a quiz, an attempt or a content."""
    definition = activity.get("definition") if isinstance(activity, dict) else None
    if not isinstance(definition, dict):
        return False
    return definition.get("type") == INTERACTION_TYPE or "interactionType" in definition


def _get(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(statement: dict[str, Any], key: str, why: str) -> str:
    value = statement.get(key)
    if not isinstance(value, str) or not value:
        raise UnmappableStatementError(f"missing: {why}", field=key)
    return value


def _ext(extensions: dict[str, Any], name: str) -> Any:
    value = extensions.get(EXT[name])
    if value is None:
        raise UnmappableStatementError("missing context extension", field=f"context.extensions[{EXT[name]}]")
    return value


def _actor_id(actor: Any) -> str:
    if not isinstance(actor, dict) or actor.get("objectType") == "Group":
        raise UnmappableStatementError("the actor must be one agent (a pupil), not a group", field="actor")
    name = _get(actor, "account", "name")
    for raw in (name, actor.get("mbox"), actor.get("mbox_sha1sum"), actor.get("openid")):
        if isinstance(raw, str) and raw:
            return raw
    raise UnmappableStatementError(
        "the actor has no account.name (nor mbox/openid) to identify the pupil", field="actor.account.name"
    )


def _time(statement: dict[str, Any]) -> datetime:
    value = statement.get("timestamp") or statement.get("stored")
    if not isinstance(value, str):
        raise UnmappableStatementError("missing timestamp (and stored)", field="timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UnmappableStatementError(f"{value!r} is not an ISO 8601 timestamp", field="timestamp") from None
    if parsed.tzinfo is None:
        raise UnmappableStatementError(f"{value!r} has no timezone (xAPI timestamps carry one)", field="timestamp")
    return parsed


def _score(score: Any) -> float | None:
    if score is None:
        return None
    if not isinstance(score, dict):
        raise UnmappableStatementError("expected an object with scaled or raw/min/max", field="result.score")
    scaled = score.get("scaled")
    raw, low, high = score.get("raw"), score.get("min", 0), score.get("max")
    if scaled is None and all(isinstance(n, int | float) and not isinstance(n, bool) for n in (raw, low, high)):
        if high <= low:
            raise UnmappableStatementError("max must be greater than min", field="result.score")
        scaled = (raw - low) / (high - low)
    if scaled is None:
        return None
    if isinstance(scaled, bool) or not isinstance(scaled, int | float) or not -1.0 <= scaled <= 1.0:
        raise UnmappableStatementError(f"expected a number in [-1, 1], got {scaled!r}", field="result.score.scaled")
    return max(0.0, float(scaled))


_AGENT_IDS = ("account", "mbox", "mbox_sha1sum", "openid")


def redact(statement: dict[str, Any], builder: EventBuilder) -> dict[str, Any]:
    """A copy of the statement with every identifier of a person replaced by its keyed pseudonym.

    The academy's key is used when the statement names an academy, the default key otherwise; if no
    acceptable key exists (production without one), identifiers are replaced by ``"redacted"``.
    """
    academy = _get(statement, "context", "extensions", EXT["academy"])
    try:
        keys: Pseudonymizer | None = builder.pseudonymizers.for_academy(academy if isinstance(academy, str) else "")
    except ConfigurationError:
        keys = None

    def pseudonym(kind: str, raw: Any) -> str:
        if keys is None:
            return "redacted"
        return "pseudonym:" + keys.pseudonym(kind, raw if isinstance(raw, str) else json.dumps(raw))  # type: ignore[arg-type]

    def walk(node: Any, kind: str = "student") -> Any:
        if isinstance(node, list):
            return [walk(item, kind) for item in node]
        if not isinstance(node, dict):
            return node
        if any(key in node for key in _AGENT_IDS) or node.get("objectType") in ("Agent", "Group"):
            agent: dict[str, Any] = {"objectType": node.get("objectType", "Agent")}
            name = _get(node, "account", "name")
            raw = name if isinstance(name, str) else next((node[k] for k in _AGENT_IDS if k in node), None)
            if raw is not None:  # the same pseudonym as the pupil's events, to correlate them
                agent["account"] = {"name": pseudonym(kind, raw)}
            if isinstance(node.get("member"), list):
                agent["member"] = walk(node["member"], kind)
            return agent
        return {key: walk(value, "teacher" if key == "instructor" else kind) for key, value in node.items()}

    redacted = walk(statement)
    extensions = _get(redacted, "context", "extensions")
    if isinstance(extensions, dict):
        for name, kind in (("class", "class"), ("teacher", "teacher")):
            if EXT[name] in extensions:
                extensions[EXT[name]] = pseudonym(kind, extensions[EXT[name]])
    return redacted


@dataclass
class IngestReport:
    """What one ingest did: lines read, events mapped, statements rejected and why."""

    lines: int = 0
    mapped: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def ingest_lines(
    lines: Iterable[bytes],
    mapper: XapiMapper,
    *,
    source: str,
    on_event: Callable[[PublishableEvent], None],
    on_rejected: Callable[[DeadLetter], None],
    on_line: Callable[[], None] | None = None,
) -> IngestReport:
    """Map JSON lines of statements; each rejection becomes a dead letter (topic ``xapi:<source>``,
    partition 0, offset = line number) handed to ``on_rejected``. Blank lines are skipped."""
    report = IngestReport()
    for line_no, line in enumerate(lines, start=1):
        if on_line is not None:
            on_line()
        if not line.strip():
            continue
        report.lines += 1
        key = None
        statement: Any = None
        try:
            if len(line) > MAX_EVENT_BYTES:
                raise UnmappableStatementError(f"statement of {len(line)} bytes exceeds {MAX_EVENT_BYTES}")
            try:
                statement = json.loads(line)
            except ValueError as error:
                raise UnmappableStatementError(f"not JSON: {error}") from None
            if isinstance(statement, dict) and isinstance(statement.get("id"), str):
                key = statement["id"].encode("utf-8", "replace")
            event = mapper.map(statement)
        except InvalidEventError as error:
            report.rejected += 1
            report.reasons[error.field or "statement"] += 1
            log.warning("%s line %d rejected: %s", source, line_no, error)
            payload = json.dumps(redact(statement, mapper.builder)).encode() if isinstance(statement, dict) else b""
            on_rejected(
                dead_letter(topic=f"xapi:{source}", partition=0, offset=line_no, key=key, value=payload, error=error)
            )
            continue
        report.mapped += 1
        on_event(event)
    return report
