"""Whatever a platform sends, the gateway answers: valid statements are kept, the rest get a reason.
No input makes it fail otherwise (a 500 would make platforms retry forever)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigie.core.contract.events import StatementKept
from vigie.core.settings import PrivacySettings
from vigie.producers.gateway.config import Platform, SkillRule
from vigie.producers.gateway.examples import (
    h5p_answered,
    h5p_completed,
    moodle_attempt_completed,
    moodle_question_answered,
)
from vigie.producers.gateway.service import StatementsService
from vigie.producers.gateway.spec import StatementInvalidError
from vigie.producers.gateway.store import GatewayStore
from vigie.producers.pseudonym import AcademyPseudonymizers
from vigie.producers.sdk import PublishableEvent

pytestmark = pytest.mark.unit

BASES = [moodle_question_answered(), moodle_attempt_completed(), h5p_answered(), h5p_completed()]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-2, 2, allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "mailto:a@b.fr",
            "http://x.fr/a",
            "2026-11-30T09:00:00Z",
            "PT3S",
            "fr",
            "Group",
            "Agent",
            "StatementRef",
            "SubStatement",
            "e05aa883-acaf-40ad-bf54-02c8ce485fb0",
        ]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


class _Kafka:
    def __init__(self) -> None:
        self.events: list[PublishableEvent] = []
        self.kept: list[StatementKept] = []

    def send(self, events: list[PublishableEvent], kept: list[StatementKept]) -> None:
        self.events += events
        self.kept += kept


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> StatementsService:
    store = GatewayStore(Path(tmp_path_factory.mktemp("gateway")) / "gateway.db")
    store.save_platform(Platform(slug="elea", academies=("lyon",)))
    store.add_rule("elea", SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05"))
    store.add_rule("elea", SkillRule(match="h5p-content", value="42", skill_code="C3-MA-NOM-03"))
    return StatementsService(store, _Kafka(), AcademyPseudonymizers(PrivacySettings()))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(range(len(BASES))), choice=st.integers(0, 10_000), value=JSON, drop=st.booleans())
def test_any_damaged_statement_is_kept_or_refused_with_a_reason(
    service: StatementsService, base: int, choice: int, value: Any, drop: bool
) -> None:
    statement = copy.deepcopy(BASES[base])
    paths = _paths(statement)[1:]
    path = paths[choice % len(paths)]
    parent = statement
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        ids = service.post("elea", statement, "1.0.3")
    except StatementInvalidError as error:
        assert error.reason
        return
    kept = service.get("elea", ids[0])
    assert kept["id"] == ids[0] and kept["stored"]
