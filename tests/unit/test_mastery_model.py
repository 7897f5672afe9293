"""Pure BKT: hand-computed updates, bounds, order, forgetting, state encoding, EM calibration, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.stream.mastery.calibrate import AnswerLog, calibrate, fit_sequences
from vigie.stream.mastery.evaluate import auc, log_loss, rmse
from vigie.stream.mastery.model import DEFAULT_PARAMS, BktParams, decay, observe, predict_correct, step
from vigie.stream.mastery.state import PupilMastery

pytestmark = pytest.mark.unit

PARAMS = BktParams(p_init=0.3, p_learn=0.1, p_guess=0.2, p_slip=0.1)

probability = st.floats(min_value=0.0, max_value=1.0)
params_strategy = st.builds(
    BktParams,
    p_init=probability,
    p_learn=probability,
    p_guess=st.floats(min_value=0.0, max_value=0.5),
    p_slip=st.floats(min_value=0.0, max_value=0.49),
    half_life_days=st.none() | st.floats(min_value=0.01, max_value=1000.0),
)


def test_a_correct_answer_is_bayes_then_learning_by_hand() -> None:
    # posterior = 0.3*0.9 / (0.3*0.9 + 0.7*0.2) = 0.27/0.41; then + (1 - posterior) * 0.1
    posterior = 0.27 / 0.41
    assert observe(0.3, True, PARAMS) == pytest.approx(posterior + (1 - posterior) * 0.1)
    assert observe(0.3, True, PARAMS) == pytest.approx(0.6926829, abs=1e-7)


def test_a_wrong_answer_by_hand() -> None:
    # posterior = 0.3*0.1 / (0.3*0.1 + 0.7*0.8) = 0.03/0.59
    assert observe(0.3, False, PARAMS) == pytest.approx(0.03 / 0.59 + (1 - 0.03 / 0.59) * 0.1)


def test_prediction_of_a_correct_answer() -> None:
    assert predict_correct(0.3, PARAMS) == pytest.approx(0.3 * 0.9 + 0.7 * 0.2)


def test_first_step_starts_from_p_init_and_counts_attempts() -> None:
    first = step(None, True, 1000.0, PARAMS)
    assert first.p_before == pytest.approx(0.3)
    assert first.p_correct == pytest.approx(0.41)
    second = step(first.estimate, True, 1060.0, PARAMS)
    assert second.p_before == pytest.approx(first.p_after)
    assert second.estimate.attempts == 2


def test_order_of_answers_matters_as_bkt_says() -> None:
    def final(answers: list[bool]) -> float:
        estimate = None
        for i, correct in enumerate(answers):
            estimate = step(estimate, correct, float(i), PARAMS).estimate
        return estimate.p_known

    # Learning happens between answers: a recent success weighs more than an old one.
    assert final([False, True]) > final([True, False])
    assert final([False, False, True, True]) != pytest.approx(final([True, True, False, False]))


def test_forgetting_halves_the_estimate_after_one_half_life() -> None:
    assert decay(0.8, 14 * 86400.0, 14.0) == pytest.approx(0.4)
    assert decay(0.8, 14 * 86400.0, None) == 0.8
    forgetful = BktParams(0.3, 0.1, 0.2, 0.1, half_life_days=7.0)
    first = step(None, True, 0.0, forgetful)
    later = step(first.estimate, True, 7 * 86400.0, forgetful)
    assert later.p_before == pytest.approx(first.p_after / 2)
    # An answer dated before the last one is not negative time.
    assert step(first.estimate, True, -3600.0, forgetful).p_before == pytest.approx(first.p_after)


@settings(max_examples=300, deadline=None)
@given(params=params_strategy, answers=st.lists(st.tuples(st.booleans(), st.floats(0, 1e8)), max_size=40))
def test_probabilities_stay_in_the_unit_interval(params: BktParams, answers: list[tuple[bool, float]]) -> None:
    estimate = None
    for correct, at in answers:
        result = step(estimate, correct, at, params)
        for p in (result.p_before, result.p_after, result.p_correct):
            assert 0.0 <= p <= 1.0 and not math.isnan(p)
        estimate = result.estimate


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="probability"):
        BktParams(1.2, 0.1, 0.2, 0.1)
    with pytest.raises(ValueError, match="guess"):
        BktParams(0.3, 0.1, 0.6, 0.5)


def test_state_round_trips_and_dedups_by_answer_id() -> None:
    state = PupilMastery(window=3)
    first = state.advance("a", "S1", True, 10.0, PARAMS)
    state.advance("b", "S2", False, 11.0, PARAMS)
    restored = PupilMastery.decode(state.encode(), window=3)
    assert first is not None and restored.seen("a")
    assert restored.advance("a", "S1", True, 10.0, PARAMS) is None, "a duplicate changes nothing"
    assert restored.skills == state.skills and restored.encode() == state.encode()
    for i in range(4):  # pushes "a" out of the bounded window
        restored.advance(f"c{i}", "S1", True, 12.0 + i, PARAMS)
    assert restored.recent_ids() == ["c1", "c2", "c3"] and not restored.seen("a")
    assert PupilMastery.decode(restored.encode(), window=3).recent_ids() == ["c1", "c2", "c3"]
    assert PupilMastery.decode(restored.encode(), window=2).recent_ids() == ["c2", "c3"]
    assert PupilMastery.decode(None).skills == {}
    with pytest.raises(ValueError, match="answer id"):
        restored.advance("x,y", "S1", True, 20.0, PARAMS)


def _bkt_sequences(rng: np.random.Generator, params: BktParams, pupils: int, length: int) -> list[np.ndarray]:
    sequences = []
    for _ in range(pupils):
        known = rng.random() < params.p_init
        seq = []
        for _ in range(length):
            seq.append(int(rng.random() >= params.p_slip) if known else int(rng.random() < params.p_guess))
            known = known or rng.random() < params.p_learn
        sequences.append(np.array(seq, dtype=np.int8))
    return sequences


def test_em_recovers_the_parameters_that_generated_the_answers() -> None:
    truth = BktParams(p_init=0.25, p_learn=0.2, p_guess=0.15, p_slip=0.08)
    fitted, iterations, _ = fit_sequences(_bkt_sequences(np.random.default_rng(3), truth, 600, 10))
    assert iterations > 1
    for name, tolerance in (("p_init", 0.05), ("p_learn", 0.05), ("p_guess", 0.05), ("p_slip", 0.04)):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), abs=tolerance), name


def test_calibration_keeps_defaults_for_skills_with_little_data() -> None:
    rng = np.random.default_rng(5)
    rows = [
        (f"p{i}", "big", int(c), t)
        for i, seq in enumerate(_bkt_sequences(rng, PARAMS, 40, 8))
        for t, c in enumerate(seq)
    ] + [("p0", "small", 1, 99)]
    students, skills, correct, order = (np.array(c) for c in zip(*rows, strict=True))
    fits = calibrate(
        AnswerLog(students, skills, correct, order.astype(float)), version=3, min_answers=100, min_pupils=10
    )
    assert fits["big"].calibrated and fits["big"].params.version == 3
    assert not fits["small"].calibrated
    assert fits["small"].params.p_learn == DEFAULT_PARAMS.p_learn and fits["small"].params.version == 3


def test_metrics_by_hand() -> None:
    labels = np.array([1, 0, 1, 0])
    assert auc(labels, np.array([0.9, 0.1, 0.8, 0.3])) == 1.0
    assert auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert auc(labels, np.array([0.9, 0.8, 0.1, 0.3])) == pytest.approx(0.5)
    assert rmse(labels, np.array([1.0, 0.0, 0.5, 0.5])) == pytest.approx(math.sqrt(0.125))
    assert log_loss(np.array([1]), np.array([0.5])) == pytest.approx(math.log(2))
