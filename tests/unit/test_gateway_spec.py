"""Statement validity as an LRS must judge it (xAPI 1.0.3 statement requirements, 2.0.0 version)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from vigie.producers.gateway.examples import (
    ACTOR_FORMS,
    h5p_answered,
    h5p_completed,
    h5p_top,
    moodle_attempt_completed,
    moodle_attempt_started,
    moodle_question_answered,
)
from vigie.producers.gateway.spec import StatementInvalidError, check_statement, check_version_header

pytestmark = pytest.mark.unit

FIXTURES: dict[str, Callable[[], dict[str, Any]]] = {
    "moodle answered": moodle_question_answered,
    "moodle completed": moodle_attempt_completed,
    "moodle attempted": moodle_attempt_started,
    "h5p answered": h5p_answered,
    "h5p completed": h5p_completed,
    "h5p attempted": lambda: h5p_top("attempted"),
    "h5p progressed": lambda: h5p_top("progressed"),
    "h5p interacted": lambda: h5p_top("interacted"),
}


@pytest.mark.parametrize("name", FIXTURES)
def test_real_platform_shapes_are_valid_for_ralphs_models_and_for_the_gateway(name: str) -> None:
    from ralph.models.xapi.base.statements import BaseXapiStatement

    statement = FIXTURES[name]()
    BaseXapiStatement.model_validate(statement)  # an xAPI library's models agree the fixture is valid
    check_statement(statement)


@pytest.mark.parametrize("form", ACTOR_FORMS)
def test_every_actor_form_is_valid(form: str) -> None:
    check_statement({**h5p_answered(), "actor": ACTOR_FORMS[form]})


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(statement: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = statement
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(statement: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = statement
        for key in parents:
            node = node[key]
        del node[last]

    return change


#: One case per statement requirement of the spec: (change to a valid Moodle answer, field named).
INVALID: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no actor": (_drop("actor"), "actor"),
    "no verb": (_drop("verb"), "verb"),
    "no object": (_drop("object"), "object"),
    "null actor": (_set("actor", None), "actor"),
    "null in context": (_set("context.language", None), "context.language"),
    "key in the wrong case": (lambda s: s.__setitem__("Actor", s.pop("actor")), "actor"),
    "unknown property": (_set("mood", "happy"), "mood"),
    "id not a UUID": (_set("id", "AA97B177-9383-4934-8543-0F91A7A028368"), "id"),
    "id a number": (_set("id", 12345), "id"),
    "agent with two identifiers": (_set("actor.mbox", "mailto:a@b.fr"), "actor"),
    "agent without identifier": (_set("actor", {"name": "Camille"}), "actor"),
    "mbox without mailto": (_set("actor", {"mbox": "camille@elea.fr"}), "actor.mbox"),
    "mbox_sha1sum not a SHA-1": (_set("actor", {"mbox_sha1sum": "xyz"}), "actor.mbox_sha1sum"),
    "account without homePage": (_set("actor.account", {"name": "48213"}), "actor.account.homePage"),
    "account name a number": (_set("actor.account.name", 48213), "actor.account.name"),
    "anonymous group without members": (_set("actor", {"objectType": "Group"}), "actor.member"),
    "verb id not an IRI": (_set("verb.id", "answered"), "verb.id"),
    "verb display not a language map": (_set("verb.display", {"not a tag!": "x"}), "verb.display"),
    "language map value a number": (_set("verb.display", {"fr": 3}), "verb.display.fr"),
    "object id missing": (_drop("object.id"), "object.id"),
    "object type unknown": (_set("object.objectType", "Thing"), "object"),
    "interactionType in the wrong case": (
        _set("object.definition.interactionType", "choiCe"),
        "object.definition.interactionType",
    ),
    "StatementRef id not a UUID": (_set("object", {"objectType": "StatementRef", "id": "nope"}), "object"),
    "score scaled above 1": (_set("result.score", {"scaled": 1.5}), "result.score.scaled"),
    "score raw above max": (_set("result.score", {"raw": 11, "min": 0, "max": 10}), "result.score.raw"),
    "score raw below min": (_set("result.score", {"raw": -1, "min": 0, "max": 10}), "result.score.raw"),
    "score min not below max": (_set("result.score", {"min": 5, "max": 5}), "result.score"),
    "score as a string": (_set("result.score", {"raw": "5", "min": 0, "max": 10}), "result.score.raw"),
    "success as a string": (_set("result.success", "true"), "result.success"),
    "duration not ISO 8601": (_set("result.duration", "12s"), "result.duration"),
    "duration a number": (_set("result.duration", 12), "result.duration"),
    "timestamp not ISO 8601": (_set("timestamp", "01/011/2015"), "timestamp"),
    "timestamp with -00:00": (_set("timestamp", "2026-11-30T09:12:44-00:00"), "timestamp"),
    "timestamp a number": (_set("timestamp", 1764490364), "timestamp"),
    "extension key not an IRI": (_set("context.extensions", {"info": 1}), "context.extensions"),
    "registration not a UUID": (_set("context.registration", "attempt-3301"), "context.registration"),
    "context language not a tag": (_set("context.language", "français!"), "context.language"),
    "platform on a non-activity": (_set("object", {"objectType": "Agent", "mbox": "mailto:t@elea.fr"}), "context"),
    "version 3": (_set("version", "3.0.0"), "version"),
    "voiding an activity": (_set("verb", {"id": "http://adlnet.gov/expapi/verbs/voided"}), "object.objectType"),
    "SubStatement with an id": (
        _set(
            "object",
            {
                "objectType": "SubStatement",
                "id": "1e4b6a76-0d5f-4b53-9d2f-1c1c8f3a2e11",
                "actor": {"mbox": "mailto:a@b.fr"},
                "verb": {"id": f"{'http://x.fr/v'}"},
                "object": {"id": "http://x.fr/o"},
            },
        ),
        "object.id",
    ),
    "not an object": (lambda s: None, "statement"),
}


@pytest.mark.parametrize("case", INVALID)
def test_statements_breaking_a_requirement_are_refused_naming_the_field(case: str) -> None:
    change, field = INVALID[case]
    statement = moodle_question_answered()
    if field == "object":  # context.platform would be refused first with an object that is not an activity
        statement["context"].pop("platform")
    change(statement)
    with pytest.raises(StatementInvalidError) as caught:
        check_statement(statement if case != "not an object" else [statement])
    assert (caught.value.field or "statement").startswith(field), (caught.value.field, caught.value.reason)
    assert caught.value.reason


def test_what_the_models_refuse_but_the_spec_allows_is_accepted() -> None:
    statement = h5p_answered()
    statement["result"]["response"] = ""  # an empty answer is an answer
    statement["object"]["definition"]["extensions"] = {}
    statement["context"]["extensions"] = {"http://h5p.org/x-api/whatever": None}
    check_statement(statement)


def test_version_2_0_0_statements_and_context_agents_are_checked() -> None:
    statement = copy.deepcopy(h5p_answered())
    statement["version"] = "2.0.0"
    statement["context"]["contextAgents"] = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:t@ecole.fr"}}]
    check_statement(statement)
    statement["context"]["contextAgents"][0]["agent"] = {"mbox": "t@ecole.fr"}
    with pytest.raises(StatementInvalidError, match="mailto"):
        check_statement(statement)


@pytest.mark.parametrize(
    ("header", "expected"), [("1.0.3", "1.0.3"), ("1.0", "1.0.3"), ("1.0.0", "1.0.3"), ("2.0.0", "2.0.0")]
)
def test_version_header(header: str, expected: str) -> None:
    assert check_version_header(header) == expected


@pytest.mark.parametrize("header", [None, "0.95", "1.1.0", "3.0.0", ""])
def test_a_missing_or_unknown_version_header_is_refused(header: str | None) -> None:
    with pytest.raises(StatementInvalidError, match=r"X-Experience-API-Version|version"):
        check_version_header(header)


def test_a_voiding_statement_is_valid() -> None:
    check_statement(
        {
            "actor": {"mbox": "mailto:prof@ecole-exemple.fr"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
        }
    )
