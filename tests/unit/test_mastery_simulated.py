"""Mastery against the simulator's ground truth (a small cohort; the full figures are in bench.mastery)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from vigie.core.settings import PrivacySettings
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.stream.mastery.evaluate import auc
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

pytestmark = pytest.mark.unit


def test_final_estimates_rank_pupils_who_know_above_those_who_do_not() -> None:
    sim = Simulation(SimulationConfig(days=20, students_per_class=10, end=date(2026, 3, 20)), PrivacySettings())
    events = list(sim.events())
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.95)
    last: dict[tuple[str, str], float] = {}
    knows_after, p_after = [], []
    for i in range(0, len(events), 500):
        for update in decoded_updates(processor.process(events[i : i + 500])):
            last[(update.student_id, update.skill_code)] = update.p_after
            knows_after.append(sim.truth.knows_after[update.answer_event_id])
            p_after.append(update.p_after)
    keys = sorted(last)
    final_auc = auc(np.array([sim.truth.final_knows[k] for k in keys]), np.array([last[k] for k in keys]))
    assert final_auc > 0.7, final_auc
    assert auc(np.array(knows_after), np.array(p_after)) > 0.85
