"""``vigie calibrate`` from the warehouse's answers table to the compacted skill-parameters topic."""

from __future__ import annotations

import time
from datetime import date

import pytest
from kafka import KafkaConsumer
from typer.testing import CliRunner

from vigie.cli import app
from vigie.core.contract.codec import decode, decode_parameters
from vigie.core.contract.events import LearnerParameters, SkillParameters
from vigie.core.settings import PrivacySettings
from vigie.core.topics import SKILL_PARAMETERS
from vigie.infra.processes import settings_env
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.stream.mastery.learner_params import record_key
from vigie.stream.mastery.params import ParameterBook
from vigie.warehouse.rows import ANSWERS, answer_row

pytestmark = pytest.mark.integration


def test_calibrate_fits_the_stored_answers_and_publishes_parameters(settings, warehouse) -> None:
    sim = Simulation(SimulationConfig(days=20, students_per_class=10, end=date(2026, 3, 20)), PrivacySettings())
    answers = [e for e in sim.events() if e.kind == "answer"]
    rows = [answer_row(a) for a in answers]
    warehouse.insert(f"{settings.warehouse.database}.{ANSWERS.name}", rows, column_names=list(ANSWERS.columns))
    result = CliRunner().invoke(
        app,
        ["calibrate", "--model", "bkt", "--min-answers", "30", "--min-pupils", "5", "--params-version", "42"],
        env=settings_env(settings),
    )
    assert result.exit_code == 0, result.output
    skills_practised = {a.skill_code for a in answers}

    consumer = KafkaConsumer(
        SKILL_PARAMETERS.name(settings.kafka.topic_prefix),
        group_id=None,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    published: dict[str, SkillParameters] = {}
    deadline = time.monotonic() + 60
    while not published and time.monotonic() < deadline:
        for record in consumer:
            params = decode(record.value, SkillParameters)
            assert record.key == params.skill_code.encode(), "compacted by skill"
            published[params.skill_code] = params
    consumer.close()
    assert published and set(published) <= skills_practised
    assert all(p.params_version == 42 and p.n_answers >= 30 for p in published.values())
    assert f"published {len(published)} skill parameters" in result.output.replace("\n", " ")


def test_calibrate_fits_the_learner_model_and_publishes_it_in_parts(settings, warehouse) -> None:
    sim = Simulation(SimulationConfig(days=20, students_per_class=10, end=date(2026, 3, 20)), PrivacySettings())
    answers = [e for e in sim.events() if e.kind == "answer"]
    rows = [answer_row(a) for a in answers]
    warehouse.insert(f"{settings.warehouse.database}.{ANSWERS.name}", rows, column_names=list(ANSWERS.columns))
    result = CliRunner().invoke(app, ["calibrate", "--params-version", "43"], env=settings_env(settings))
    assert result.exit_code == 0, result.output

    consumer = KafkaConsumer(
        SKILL_PARAMETERS.name(settings.kafka.topic_prefix),
        group_id=None,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    book = ParameterBook()
    deadline = time.monotonic() + 60
    while book.learner.version != 43 and time.monotonic() < deadline:
        for record in consumer:
            part = decode_parameters(record.value)
            assert isinstance(part, LearnerParameters) and record.key == record_key(part)
            book.apply_learner_part(part)
    consumer.close()
    assert book.learner.version == 43, "every part arrived and the model was assembled"
    assert set(book.learner.skill_weights) == {a.skill_code for a in answers}
    assert book.learner.half_life_days == 30.0, "the warehouse has timestamps: evidence decays by time"
