"""Routing of every topic into typed rows, and the migrations' text, without any service."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import factories, factories_warehouse
from vigie.core.contract.codec import encode
from vigie.core.errors import InvalidEventError
from vigie.core.settings import WarehouseSettings
from vigie.core.topics import ALL_TOPICS, DEAD_LETTERS, MASTERY_UPDATES, RAW_STATEMENTS, SIGNALS, SKILL_PARAMETERS
from vigie.warehouse.migrations import available, views
from vigie.warehouse.rows import ROUTES, TABLES, dead_letter_owner

pytestmark = pytest.mark.unit


def test_every_topic_is_routed_to_a_table_with_matching_columns() -> None:
    assert set(ROUTES) == set(ALL_TOPICS)
    samples = {
        MASTERY_UPDATES: factories_warehouse.mastery_updated(),
        SIGNALS: factories_warehouse.signal_changed(),
        SKILL_PARAMETERS: factories_warehouse.skill_parameters(),
        DEAD_LETTERS: factories_warehouse.dead_letter(),
        RAW_STATEMENTS: factories_warehouse.statement_kept(),
    }
    for topic, event in samples.items():
        table, event_id, row = ROUTES[topic](encode(event))
        assert table in TABLES
        assert len(row) == len(table.columns)
        assert row[table.columns.index("event_id")] == event_id


def test_signal_reasons_become_parallel_arrays() -> None:
    table, _, row = ROUTES[SIGNALS](encode(factories_warehouse.signal_changed()))
    values = dict(zip(table.columns, row, strict=True))
    assert values["reasons.code"] == ("days_inactive",) and values["reasons.threshold"] == (7.0,)


def test_skill_parameters_ids_are_stable_per_version() -> None:
    route = ROUTES[SKILL_PARAMETERS]
    one = route(encode(factories_warehouse.skill_parameters(params_version=1)))[1]
    assert one == route(encode(factories_warehouse.skill_parameters(params_version=1, n_answers=5)))[1]
    assert one != route(encode(factories_warehouse.skill_parameters(params_version=2)))[1]


def test_dead_letters_keep_the_pupil_when_the_payload_names_one() -> None:
    event = factories.answer(student_id=factories.student(3))
    assert dead_letter_owner(base64.b64encode(encode(event)).decode()) == ("lyon", factories.student(3))
    assert dead_letter_owner(base64.b64encode(b'{"academy": "nowhere", "student_id": "Bob"}').decode()) == ("", "")


@given(st.binary(max_size=200))
def test_dead_letter_owner_never_crashes(payload: bytes) -> None:
    academy, student = dead_letter_owner(base64.b64encode(payload).decode())
    assert isinstance(academy, str) and isinstance(student, str)


def test_invalid_mastery_update_is_an_invalid_event() -> None:
    with pytest.raises(InvalidEventError):
        ROUTES[MASTERY_UPDATES](b'{"kind": "mastery_updated"}')


def test_migrations_are_numbered_and_fully_substituted() -> None:
    migrations = available()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    for migration in migrations:
        for statement in migration.statements(WarehouseSettings(retention_days=42, min_group_size=7)):
            assert "${" not in statement
            assert not statement.rstrip().endswith(";")
    assert not any("CREATE OR REPLACE VIEW" in s for m in migrations for s in m.statements(WarehouseSettings()))
    rendered = [view.statement(WarehouseSettings(min_group_size=7)) for view in views()]
    assert all("${" not in s and not s.endswith(";") for s in rendered)
    assert any("pupils >= 7" in s for s in rendered)


def test_each_view_file_holds_one_view_of_its_own_name_created_after_the_views_it_reads() -> None:
    ordered = views()
    for position, view in enumerate(ordered):
        statement = view.statement(WarehouseSettings(database="db"))
        assert statement.count("CREATE OR REPLACE VIEW") == 1
        assert f"CREATE OR REPLACE VIEW db.{view.name} AS" in statement
        earlier = {v.name for v in ordered[:position]}
        assert view.reads({v.name for v in ordered}) <= earlier
    assert "pupils_at_risk" in {v for view in ordered for v in view.reads({"pupils_at_risk"})}


def test_every_column_is_read_from_the_contract_field_of_its_name_unless_derived() -> None:
    from vigie.core.contract.events import (
        AnswerSubmitted,
        DeadLetter,
        LearnerParameters,
        MasteryUpdated,
        SessionEnded,
        SessionStarted,
        SignalChanged,
        SkillParameters,
    )
    from vigie.warehouse.rows import (
        ANSWERS,
        DEAD_LETTERS_TABLE,
        LEARNER_PARAMETERS_TABLE,
        MASTERY_UPDATES_TABLE,
        SESSION_EVENTS,
        SIGNALS_TABLE,
        SKILL_PARAMETERS_TABLE,
    )

    models = [
        (ANSWERS, (AnswerSubmitted,)),
        (SESSION_EVENTS, (SessionStarted, SessionEnded)),
        (MASTERY_UPDATES_TABLE, (MasteryUpdated,)),
        (SIGNALS_TABLE, (SignalChanged,)),
        (SKILL_PARAMETERS_TABLE, (SkillParameters,)),
        (LEARNER_PARAMETERS_TABLE, (LearnerParameters,)),
        (DEAD_LETTERS_TABLE, (DeadLetter,)),
    ]
    for table, kinds in models:
        for kind in kinds:
            missing = [c for c in table.columns if c not in table.derived and c not in kind.model_fields]
            assert not missing, f"{table.name}: {missing} are neither fields of {kind.__name__} nor derived"


def test_learner_model_parts_go_to_their_own_table() -> None:
    from datetime import UTC, datetime

    from vigie.stream.mastery.learner_params import default_learner_model, to_contract

    model = default_learner_model()
    parts = to_contract(type(model)(model.weights, model.global_prior, {"C3-MA-NOM-01": 0.5}, version=2),
                        n_answers=10, fitted_at=datetime.now(UTC))  # fmt: skip
    routed = [ROUTES[SKILL_PARAMETERS](encode(p)) for p in parts]
    assert {table.name for table, _, _ in routed} == {"skill_parameters_learner"}
    for table, event_id, row in routed:
        assert len(row) == len(table.columns) and row[table.columns.index("event_id")] == event_id
    assert len({event_id for _, event_id, _ in routed}) == len(parts)


def test_batch_rows_are_the_rows_of_each_event() -> None:
    """The rows the sink builds from a batch's columns equal those built event by event (UUIDs as text)."""
    import uuid

    from vigie.core.topics import LEARNING_EVENTS
    from vigie.warehouse.rows import BATCH_ROUTES

    samples = {
        LEARNING_EVENTS: [
            factories.answer(teacher_id=factories.student(9)),
            factories.answer(),
            factories.session_started(),
            factories.session_ended(outcome="abandoned", answers_count=3),
        ],
        MASTERY_UPDATES: [factories_warehouse.mastery_updated() for _ in range(3)],
        SIGNALS: [factories_warehouse.signal_changed() for _ in range(3)],
    }
    for topic, events in samples.items():
        values = [encode(e) for e in events]
        blocks, decided = BATCH_ROUTES[topic](values)
        assert not decided
        built = {}
        for table, positions, event_ids, _, rows in blocks:
            for position, event_id, row in zip(positions, event_ids, rows, strict=True):
                built[position] = (table, event_id, list(row))
        assert sorted(built) == list(range(len(events)))
        for position, value in enumerate(values):
            table, event_id, row = ROUTES[topic](value)  # type: ignore[misc]
            texts = [str(v) if type(v) is uuid.UUID else v for v in row]
            assert built[position] == (table, str(event_id), texts)
