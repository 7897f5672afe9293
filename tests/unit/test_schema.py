"""The JSON Schema platforms read is generated from the contract and checked in; it must not drift."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tests import factories
from vigie.cli import app
from vigie.core.contract.codec import encode
from vigie.producers.schema import MODELS, SCHEMA_FILE, learning_event_schema, model_schema, render

pytestmark = pytest.mark.unit


CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "schema" / SCHEMA_FILE


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_checked_in_schema_is_the_generated_one() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == render(learning_event_schema()), (
        f"{CHECKED_IN} is stale: run `vigie schema --out docs/schema/{SCHEMA_FILE}` and commit it"
    )


def test_vigie_schema_prints_the_union_and_each_model() -> None:
    runner = CliRunner()
    union = runner.invoke(app, ["schema"])
    assert union.exit_code == 0, union.output
    assert json.loads(union.stdout) == learning_event_schema()
    for kind in MODELS:
        one = runner.invoke(app, ["schema", "--kind", kind])
        assert one.exit_code == 0, one.output
        assert json.loads(one.stdout)["properties"]["kind"]["const"] == kind
    assert runner.invoke(app, ["schema", "--kind", "teleport"]).exit_code != 0


def test_contract_events_are_valid_under_the_schema() -> None:
    validator = _validator(learning_event_schema())
    for event in (factories.answer(), factories.session_started(), factories.session_ended()):
        assert list(validator.iter_errors(json.loads(encode(event)))) == []


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("skill_code", "C3-MA-NOPE-01"),
        ("academy", "atlantis"),
        ("student_id", "jean.dupont"),
        ("kind", None),
        ("nickname", "Jean"),
        ("score", 1.5),
    ],
)
def test_the_schema_rejects_what_the_contract_rejects(change: str, value: object) -> None:
    validator = _validator(learning_event_schema())
    body = json.loads(encode(factories.answer()))
    if value is None:
        body.pop(change)
    else:
        body[change] = value
    assert not validator.is_valid(body)


def test_each_model_schema_is_a_valid_json_schema_with_the_code_enums() -> None:
    for kind in MODELS:
        schema = model_schema(kind)
        _validator(schema)
        assert "lyon" in schema["$defs"]["AcademyCode"]["enum"]
        assert "C3-MA-NOM-01" in schema["$defs"]["SkillCode"]["enum"]
