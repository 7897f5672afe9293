"""Kept statements -> contract events by a platform's configuration (pure: no store, no broker)."""

from __future__ import annotations

from typing import Any

import pytest

from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted, make_event_id
from vigie.core.settings import PrivacySettings
from vigie.producers.gateway.config import Platform, RosterEntry, SkillRule
from vigie.producers.gateway.examples import (
    ADL,
    h5p_actor,
    h5p_answered,
    h5p_completed,
    h5p_top,
    moodle_attempt_completed,
    moodle_attempt_started,
    moodle_question_answered,
)
from vigie.producers.gateway.ids import assigned_id
from vigie.producers.gateway.mapping import Mapped, StatementMapper, Unmapped
from vigie.producers.gateway.privacy import PSEUDONYM_HOME, actor_raw_id, kept_statement
from vigie.producers.pseudonym import AcademyPseudonymizers

pytestmark = pytest.mark.unit

KEYS = AcademyPseudonymizers(PrivacySettings())
PLATFORM = Platform(slug="elea-lyon", academies=("lyon", "grenoble"), default_response_time_ms=30_000)


def _keys_of(statement: dict[str, Any]) -> dict[str, str]:
    raw = actor_raw_id(statement["actor"])
    return {} if raw is None else {a: KEYS.for_academy(a).student(raw) for a in PLATFORM.academies}


def _kept(statement: dict[str, Any]) -> dict[str, Any]:
    sid = statement.get("id") or str(assigned_id(PLATFORM.slug, statement))
    return kept_statement(
        statement,
        statement_id=sid,
        stored="2026-11-30T08:20:00.000Z",
        platform=PLATFORM.slug,
        version="1.0.3",
        keys=KEYS.for_academy("grenoble"),
    )


class Roster:
    """Pupils 48213 (Moodle account) and lea.dubois (H5P mbox) are in Grenoble's roster."""

    def __init__(self) -> None:
        keys = KEYS.for_academy("grenoble")
        self.entries = {
            keys.student(raw): RosterEntry(
                "grenoble", keys.student(raw), "0381234X", keys.school_class("0381234X/6B"), "6e"
            )
            for raw in ("48213", "lea.dubois@ecole-exemple.fr")
        }
        self.answers: dict[str, int] = {}

    def lookup(self, actor_keys: dict[str, str]) -> RosterEntry | None:
        return next((self.entries[k] for a, k in actor_keys.items() if a == "grenoble" and k in self.entries), None)


def _mapper(rules: list[SkillRule], roster: Roster | None = None) -> StatementMapper:
    roster = roster or Roster()
    return StatementMapper(PLATFORM, rules, roster.lookup, lambda s: roster.answers.get(s, 0))


RULES = [
    SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05"),
    SkillRule(match="h5p-content", value="42", skill_code="C3-MA-NOM-03"),
]


def _map(statement: dict[str, Any], rules: list[SkillRule] = RULES, roster: Roster | None = None) -> Mapped | Unmapped:
    kept = _kept(statement)
    return _mapper(rules, roster).map(kept, _keys_of(statement))


def test_a_moodle_question_is_an_answer_of_the_quizs_skill_in_the_attempts_session() -> None:
    result = _map(moodle_question_answered(success=False))
    assert isinstance(result, Mapped) and isinstance(result.event, AnswerSubmitted)
    answer = result.event
    assert (answer.skill_code, answer.subject, answer.correct, answer.score) == (
        "C3-MA-NOM-05",
        "mathematiques",
        False,
        0.0,
    )
    assert answer.response_time_ms == 30_000  # Moodle's questions carry no duration: the platform's default
    assert (answer.academy, answer.school_uai, answer.level) == ("grenoble", "0381234X", "6e")
    assert answer.student_id == KEYS.for_academy("grenoble").student("48213")
    assert answer.event_id == make_event_id(PLATFORM.slug, answer.source_event_id)
    started = _map(moodle_attempt_started())
    assert isinstance(started, Mapped) and isinstance(started.event, SessionStarted)
    assert started.session_id == result.session_id  # the attempt, found in grouping or in other


def test_the_quiz_level_completed_ends_the_session_and_is_never_an_answer() -> None:
    roster = Roster()
    question = _map(moodle_question_answered(), roster=roster)
    assert isinstance(question, Mapped)
    roster.answers[question.session_id] = 4
    ended = _map(moodle_attempt_completed(raw=7, maximum=10), roster=roster)
    assert isinstance(ended, Mapped) and isinstance(ended.event, SessionEnded)
    assert ended.kind == "session_end" and ended.session_id == question.session_id
    assert (ended.event.outcome, ended.event.answers_count) == ("completed", 4)


def test_h5p_sub_questions_are_answers_and_the_content_completion_ends_their_session() -> None:
    answered = _map(h5p_answered(raw=1, maximum=1, duration="PT3.45S"))
    assert isinstance(answered, Mapped) and isinstance(answered.event, AnswerSubmitted)
    assert (answered.event.skill_code, answered.event.correct, answered.event.response_time_ms) == (
        "C3-MA-NOM-03",
        True,
        3450,
    )
    assert answered.event.item_id.startswith("sha256:")  # the sub-content URL does not fit the contract's alphabet
    attempted = _map(h5p_top("attempted"))
    completed = _map(h5p_completed(raw=3, maximum=4))
    assert isinstance(attempted, Mapped) and isinstance(attempted.event, SessionStarted)
    assert isinstance(completed, Mapped) and isinstance(completed.event, SessionEnded)
    assert attempted.session_id == answered.session_id == completed.session_id


def test_a_partial_h5p_score_without_success_is_an_incorrect_answer_with_that_score() -> None:
    statement = h5p_answered(raw=1, maximum=2)
    del statement["result"]["success"]
    result = _map(statement)
    assert isinstance(result, Mapped) and isinstance(result.event, AnswerSubmitted)
    assert (result.event.correct, result.event.score) == (False, 0.5)


@pytest.mark.parametrize(
    ("statement", "rules", "code"),
    [
        (moodle_question_answered(user_id="99999"), RULES, "unknown_actor"),
        (h5p_answered(actor={"objectType": "Group", "member": [h5p_actor()]}), RULES, "unknown_actor"),
        (moodle_question_answered(cmid=58), RULES, "unmapped_activity"),
        (h5p_top("progressed"), RULES, "no_event"),
        (h5p_top("interacted"), RULES, "no_event"),
        ({**h5p_answered(), "verb": {"id": f"{ADL}completed"}}, RULES, "no_event"),
        ({**h5p_answered(), "result": {"completion": True}}, RULES, "incomplete"),
    ],
    ids=["not in roster", "group", "no rule", "progressed", "interacted", "completed question", "no success nor score"],
)
def test_valid_statements_that_make_no_event_say_why(
    statement: dict[str, Any], rules: list[SkillRule], code: str
) -> None:
    result = _map(statement, rules)
    assert isinstance(result, Unmapped) and result.code == code, result
    assert result.reason


def test_rules_go_from_the_most_specific_to_the_broadest() -> None:
    statement = moodle_question_answered()
    rules = [
        SkillRule(match="prefix", value="https://elea.ac-lyon.fr/", skill_code="C3-MA-NOM-01"),
        SkillRule(match="parent", value="https://elea.ac-lyon.fr/mod/quiz/view.php?id=57", skill_code="C3-MA-NOM-02"),
        SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05"),
        SkillRule(match="activity", value=statement["object"]["id"], skill_code="C3-MA-NOM-03"),
    ]
    for expected in ("C3-MA-NOM-03", "C3-MA-NOM-05", "C3-MA-NOM-02", "C3-MA-NOM-01"):
        result = _map(statement, rules)
        assert isinstance(result, Mapped) and isinstance(result.event, AnswerSubmitted)
        assert result.event.skill_code == expected
        rules = [r for r in rules if r.skill_code != expected]
    assert isinstance(_map(statement, rules), Unmapped)


def test_a_platform_can_give_a_verb_a_role() -> None:
    platform = PLATFORM.model_copy(update={"verbs": {f"{ADL}answered": "none"}})
    roster = Roster()
    mapper = StatementMapper(platform, RULES, roster.lookup, lambda s: 0)
    statement = moodle_question_answered()
    assert isinstance(mapper.map(_kept(statement), _keys_of(statement)), Unmapped)


def test_the_kept_statement_holds_no_raw_identifier_nor_name() -> None:
    statement = moodle_question_answered()
    statement["context"]["instructor"] = {"name": "M. Prof", "mbox": "mailto:prof@elea.fr"}
    text = str(_kept(statement))
    for raw in ("48213", "Camille", "prof@elea.fr", "M. Prof"):
        assert raw not in text
    kept = _kept(statement)
    assert kept["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": PSEUDONYM_HOME, "name": KEYS.for_academy("grenoble").student("48213")},
    }
    assert kept["authority"]["account"]["name"] == PLATFORM.slug and kept["stored"] and kept["timestamp"]
