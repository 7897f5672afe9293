"""JSON Schema of the event contract, for platform developers who do not write Python.

Generated from the pydantic models, never written by hand, then enriched with what the models check
in code: the academy codes and the skill codes become enums, and ``kind`` is required (it picks the
event type). ``docs/schema/learning-event.v1.schema.json`` is this output, checked in; a unit test
fails when it drifts (regenerate with ``vigie schema --out docs/schema/learning-event.v1.schema.json``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from vigie.core.contract.events import (
    CONTRACT_VERSION,
    AnswerSubmitted,
    DeadLetter,
    ErasureRequested,
    LearningEvent,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SkillParameters,
)
from vigie.core.contract.referential import ACADEMIES
from vigie.core.contract.taxonomy import skills

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = f"learning-event.v{CONTRACT_VERSION}.schema.json"

#: Every contract model by its ``kind``: the learning events platforms send, then Vigie's own outputs.
MODELS: dict[str, type[BaseModel]] = {
    "answer": AnswerSubmitted,
    "session_started": SessionStarted,
    "session_ended": SessionEnded,
    "erasure_requested": ErasureRequested,
    "mastery_updated": MasteryUpdated,
    "signal_changed": SignalChanged,
    "skill_parameters": SkillParameters,
    "dead_letter": DeadLetter,
}


def _code_defs() -> dict[str, Any]:
    return {
        "AcademyCode": {
            "description": "Academy code (vigie.core.contract.referential.ACADEMIES).",
            "enum": sorted(ACADEMIES),
            "type": "string",
        },
        "SkillCode": {
            "description": "Skill code of the taxonomy (vigie/contract/skills.csv), e.g. C3-MA-NOM-01.",
            "enum": list(skills()),
            "type": "string",
        },
    }


def _enrich(model_schema: dict[str, Any]) -> None:
    """Point academy/skill_code at the enums and require ``kind``, in one model's schema (in place)."""
    properties = model_schema.get("properties", {})
    for name, ref in (("academy", "AcademyCode"), ("skill_code", "SkillCode")):
        prop = properties.get(name)
        if prop is not None and prop.get("type") == "string":
            properties[name] = {"$ref": f"#/$defs/{ref}", "title": prop.get("title", name)}
    if "kind" in properties and "kind" not in model_schema.get("required", []):
        model_schema["required"] = [*model_schema.get("required", []), "kind"]


def _finish(schema: dict[str, Any], title: str, identifier: str) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    defs = schema.setdefault("$defs", {})
    for definition in defs.values():
        _enrich(definition)
    _enrich(schema)
    defs.update(_code_defs())
    schema.pop("title", None)
    return {"$schema": DRAFT, "$id": identifier, "title": title, **schema}


def learning_event_schema() -> dict[str, Any]:
    """The union platforms send to the learning-events topic: answer, session start/end, erasure."""
    schema = TypeAdapter(LearningEvent).json_schema()
    schema["description"] = (
        f"One event of Vigie's contract v{CONTRACT_VERSION} on the learning-events topic, as UTF-8 JSON "
        "(at most 16 KiB). `kind` selects the type. Pupil, class and teacher ids are keyed-HMAC "
        "pseudonyms computed by the platform; raw identifiers are never accepted."
    )
    return _finish(
        schema,
        f"Vigie learning event (contract v{CONTRACT_VERSION})",
        f"urn:vigie:schema:learning-event:v{CONTRACT_VERSION}",
    )


def model_schema(kind: str) -> dict[str, Any]:
    """The schema of one contract model, by its ``kind`` (see ``MODELS``)."""
    model = MODELS[kind]
    return _finish(
        model.model_json_schema(),
        f"Vigie {model.__name__} (contract v{CONTRACT_VERSION})",
        f"urn:vigie:schema:{kind}:v{CONTRACT_VERSION}",
    )


def render(schema: dict[str, Any]) -> str:
    """The canonical text of a schema: stable, readable, one trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
