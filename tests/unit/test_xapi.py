"""xAPI statements shaped like real LRS exports -> contract events, and every unmappable case reported."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.codec import encode
from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted, make_event_id
from vigie.producers.xapi import (
    EXT,
    UnmappableStatementError,
    XapiMapper,
    ingest_lines,
    parse_duration_ms,
    redact,
)

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "xapi" / "statements.jsonl"


def _statements() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_bytes().splitlines()[:17]]


def _ingest(lines: list[bytes]):
    events, letters = [], []
    report = ingest_lines(
        lines,
        XapiMapper(factories.builder()),
        source="statements.jsonl",
        on_event=events.append,
        on_rejected=letters.append,
    )
    return report, events, letters


def test_the_fixture_maps_to_sessions_and_answers() -> None:
    report, events, _letters = _ingest(FIXTURE.read_bytes().splitlines())
    assert (report.lines, report.mapped, report.rejected) == (18, 9, 9)
    kinds = [e.kind for e in events]
    assert kinds == [
        "session_started",
        "answer",
        "answer",
        "answer",
        "answer",
        "session_ended",
        "session_started",
        "answer",
        "session_ended",
    ]
    first = events[1]
    assert isinstance(first, AnswerSubmitted)
    assert first.event_id == make_event_id("mathix", "6a1b2c3d-0000-4000-8000-000000000002")
    assert (first.correct, first.score, first.response_time_ms) == (True, 1.0, 12_500)
    assert first.item_id == "https://mathix.example.org/activites/fractions/q-17"
    assert first.occurred_at.isoformat() == "2025-11-17T08:01:12.345000+00:00"
    assert first.session_id == "sess-7f3a" and first.skill_code == "C3-MA-NOM-01" and first.subject == "mathematiques"
    assert (
        first.teacher_id
        == factories.builder()
        .answer(
            factories.pupil(student="ent-48213", school_class="ENT-CM1-B-2025", teacher="prof-2291"),
            source_event_id="x",
            session_id="s",
            skill_code="C3-MA-NOM-01",
            item_id="q",
            correct=True,
            response_time_ms=1,
        )
        .teacher_id
    )


def test_scores_durations_hints_and_attempts_are_read_from_result_and_extensions() -> None:
    _report, events, _letters = _ingest(FIXTURE.read_bytes().splitlines())
    raw_score, success_only, scaled_only = events[2], events[3], events[4]
    assert (raw_score.correct, raw_score.score, raw_score.response_time_ms) == (False, 0.4, 63_000)
    assert (raw_score.hints_used, raw_score.attempt) == (1, 2)
    assert (success_only.correct, success_only.score) == (True, 1.0)
    assert (scaled_only.correct, scaled_only.score) == (False, 0.5)
    assert scaled_only.item_id.startswith("sha256:"), "an IRI with a query string becomes a stable digest"
    french = events[7]
    assert (french.subject, french.skill_code, french.session_id) == ("francais", "C3-FR-ORT-04", "sess-91bc")


def test_session_events_carry_the_outcome_and_the_answers_seen() -> None:
    _report, events, _letters = _ingest(FIXTURE.read_bytes().splitlines())
    assert isinstance(events[0], SessionStarted) and events[0].session_id == "sess-7f3a"
    terminated, suspended = events[5], events[8]
    assert isinstance(terminated, SessionEnded) and (terminated.outcome, terminated.answers_count) == ("completed", 4)
    assert isinstance(suspended, SessionEnded) and (suspended.outcome, suspended.answers_count) == ("abandoned", 1)
    assert events[6].student_id != events[0].student_id


def test_every_rejected_line_becomes_a_dead_letter_with_its_reason_and_line_number() -> None:
    lines = FIXTURE.read_bytes().splitlines()
    _report, _events, letters = _ingest(lines)
    by_line = {letter.offset: letter for letter in letters}
    assert sorted(by_line) == list(range(10, 19))
    expected = {
        10: "verb.id: verb 'http://adlnet.gov/expapi/verbs/experienced' is not mapped",
        11: f"context.extensions[{EXT['skill']}]: missing",
        12: f"context.extensions[{EXT['skill']}]: unknown skill code 'C3-MA-XYZ-99'",
        13: f"context.extensions[{EXT['academy']}]: unknown academy 'atlantis'",
        14: "result: an answer needs a result",
        15: "result.duration: '12 seconds' is not an ISO 8601 duration",
        16: "timestamp: Value error, event time 2099-01-01T10:00:00+00:00 is in the future",
        17: "actor: the actor must be one agent",
        18: "not JSON",
    }
    for line_no, words in expected.items():
        letter = by_line[line_no]
        assert letter.reason.startswith(words), (line_no, letter.reason)
        assert letter.source_topic == "xapi:statements.jsonl" and letter.partition == 0
        assert letter.error_type == "UnmappableStatementError"
    assert by_line[12].key == "6a1b2c3d-0000-4000-8000-000000000012"


def test_dead_letters_keep_the_statement_redacted_with_pseudonyms_never_raw_ids() -> None:
    _report, _events, letters = _ingest(FIXTURE.read_bytes().splitlines())
    by_line = {letter.offset: base64.b64decode(letter.payload_b64) for letter in letters}
    for payload in by_line.values():
        for raw in (b"ent-48213", b"prof-2291", b"ENT-CM1-B-2025", b"Camille Martin", b"ent-77120"):
            assert raw not in payload
    kept = json.loads(by_line[12])
    pupil = factories.builder().erasure(academy="lyon", student="ent-48213").student_id
    assert kept["actor"]["account"]["name"] == f"pseudonym:{pupil}", "correlates with the pupil's events"
    assert kept["context"]["extensions"][EXT["skill"]] == "C3-MA-XYZ-99", "the rest of the statement is kept"
    assert kept["context"]["instructor"]["account"]["name"].startswith("pseudonym:")
    assert by_line[18] == b"", "an unparseable line cannot be redacted: its bytes are withheld"


def test_redaction_covers_groups_and_mboxes() -> None:
    statement = {
        "actor": {
            "objectType": "Group",
            "name": "CM1 B",
            "member": [{"mbox": "mailto:camille@example.org", "name": "Camille"}],
        },
        "authority": {"account": {"homePage": "https://lrs.example.org", "name": "lrs-admin"}},
    }
    text = json.dumps(redact(statement, factories.builder()))
    assert "camille" not in text.lower() and "lrs-admin" not in text and "CM1 B" not in text
    assert text.count("pseudonym:") == 2


def _mapped(**edits: Any):
    statement = copy.deepcopy(_statements()[1])
    for path, value in edits.items():
        node = statement
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        if value is ...:
            node.pop(leaf)
        else:
            node[leaf] = value
    return XapiMapper(factories.builder()).map(statement)


@pytest.mark.parametrize(
    ("edits", "field", "words"),
    [
        ({"id": ...}, "id", "statement id"),
        ({"actor": {"objectType": "Agent", "name": "Camille"}}, "actor.account.name", "no account.name"),
        ({"object__id": ...}, "object.id", "no id"),
        ({"result__success": ..., "result__score": ...}, "result", "success or result.score"),
        ({"result__success": "true"}, "result.success", "true or false"),
        ({"result__score": {"scaled": 1.5}}, "result.score.scaled", "[-1, 1]"),
        ({"result__score": {"raw": 3, "min": 5, "max": 5}}, "result.score", "max must be greater"),
        ({"result__duration": ...}, "result.duration", "response time"),
        ({"result__duration": "PT2H"}, "result.duration", "less than or equal"),
        ({"timestamp": "2025-11-17T09:00:00", "stored": ...}, "timestamp", "no timezone"),
        ({"timestamp": ..., "stored": ...}, "timestamp", "missing"),
        ({"context__extensions__urn:vigie:xapi:level": "CM7"}, f"context.extensions[{EXT['level']}]", "input should"),
        ({"context__extensions__urn:vigie:xapi:class": ...}, f"context.extensions[{EXT['class']}]", "missing"),
        (
            {"context__extensions__urn:vigie:xapi:school-uai": "123"},
            f"context.extensions[{EXT['school-uai']}]",
            "pattern",
        ),
        (
            {"context__extensions__urn:vigie:xapi:session": ..., "context__registration": ...},
            f"context.extensions[{EXT['session']}]",
            "no session",
        ),
    ],
)
def test_unmappable_statements_name_the_statement_field(edits, field, words) -> None:
    with pytest.raises(UnmappableStatementError) as caught:
        _mapped(**edits)
    assert caught.value.field == field
    assert words.lower() in str(caught.value).lower()


def test_fallbacks_registration_stored_time_mbox_and_instructor() -> None:
    event = _mapped(
        **{
            "context__extensions__urn:vigie:xapi:session": ...,
            "timestamp": ...,
            "actor": {"objectType": "Agent", "mbox": "mailto:camille@example.org"},
        }
    )
    assert event.session_id == "0f6a3e2c-55d2-4b8e-9b7f-2d8c1e4a9b10"
    assert event.occurred_at.isoformat() == "2025-11-17T08:01:13.001000+00:00"
    assert "camille" not in encode(event).decode()
    assert _mapped(result__score={"scaled": -0.5}).score == 0.0


def test_a_statement_that_is_not_an_object_is_reported() -> None:
    with pytest.raises(UnmappableStatementError, match="JSON object"):
        XapiMapper(factories.builder()).map(["not", "a", "statement"])


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("PT12.5S", 12_500),
        ("PT1M3S", 63_000),
        ("PT0.25S", 250),
        ("PT1H", 3_600_000),
        ("P1DT1S", 86_401_000),
        ("PT3,5S", 3_500),
        ("P1W", 604_800_000),
    ],
)
def test_iso_8601_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["P", "PT", "12S", "PT12", "P1Y", "P2M", "PT-3S", 12, None, "P1DT"])
def test_bad_durations_are_refused(text) -> None:
    with pytest.raises(UnmappableStatementError):
        parse_duration_ms(text)


def test_oversize_and_blank_lines() -> None:
    report, events, letters = _ingest([b"", b"   ", b'{"id": "x", "pad": "' + b"a" * 20_000 + b'"}'])
    assert (report.lines, report.mapped, report.rejected) == (1, 0, 1)
    assert "exceeds" in letters[0].reason and letters[0].offset == 3
    assert events == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_PATHS = [
    "id",
    "actor",
    "actor.account",
    "actor.account.name",
    "verb",
    "verb.id",
    "object",
    "object.id",
    "result",
    "result.success",
    "result.score",
    "result.score.scaled",
    "result.score.raw",
    "result.duration",
    "timestamp",
    "context",
    "context.extensions",
    "context.registration",
    "context.instructor",
    *(f"context.extensions.{iri}" for iri in EXT.values()),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.integers(0, 8), edits=st.lists(st.tuples(st.sampled_from(_PATHS), _json), max_size=4))
def test_any_damaged_statement_maps_or_is_reported_never_crashes(base: int, edits) -> None:
    statement = copy.deepcopy(_statements()[base])
    for path, value in edits:
        node = statement
        *parents, leaf = (
            path.split(".", 3)
            if not path.startswith("context.extensions.")
            else ["context", "extensions", path.removeprefix("context.extensions.")]
        )
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[leaf] = value
    lines = [json.dumps(statement).encode()]
    report, events, letters = _ingest(lines)
    assert report.mapped + report.rejected == 1 and len(events) + len(letters) == 1
    for letter in letters:
        assert letter.reason
        assert b"ent-48213" not in base64.b64decode(letter.payload_b64)


def test_a_quiz_level_completed_ends_the_session_and_is_not_counted_as_an_answer() -> None:
    statements = _statements()
    question = next(s for s in statements if s["verb"]["id"].endswith("/answered"))
    quiz = json.loads(json.dumps(question))
    quiz["id"] = "6a1b2c3d-0000-4000-8000-0000000000aa"
    quiz["verb"] = {"id": "http://adlnet.gov/expapi/verbs/completed"}
    quiz["object"] = {
        "id": "https://mathix.example.org/activites/fractions",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
    }
    quiz["result"] = {"score": {"raw": 7, "min": 0, "max": 10}, "success": True, "duration": "PT8M"}
    mapper = XapiMapper(factories.builder())
    mapper.map(question)
    ended = mapper.map(quiz)
    assert isinstance(ended, SessionEnded) and (ended.outcome, ended.answers_count) == ("completed", 1)
    quiz["verb"] = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
    assert isinstance(mapper.map(quiz), SessionStarted)
