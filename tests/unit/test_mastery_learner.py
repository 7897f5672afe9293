"""The learner model's update: bounds, order, batching invariance, cold start, encoding, parts on the wire."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.codec import decode, decode_parameters, encode
from vigie.core.contract.events import LearnerParameters, MasteryUpdated
from vigie.stream.mastery.learner import (
    CROSSED,
    N_FEATURES,
    LearnerModel,
    LearnerState,
    domain_of,
    features,
    logit_of,
    predict,
    score,
    step,
)
from vigie.stream.mastery.learner_params import LearnerAssembly, default_learner_model, record_key, to_contract
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.mastery.state import PupilMastery

pytestmark = pytest.mark.unit

SKILLS = ("C3-MA-NOM-01", "C3-MA-NOM-02", "C3-FR-LEC-01")


def _model(seed: int = 3, **changes) -> LearnerModel:
    rng = random.Random(seed)
    model = LearnerModel(
        weights=tuple(rng.uniform(-1, 1) for _ in range(N_FEATURES)),
        global_prior=0.8,
        skill_priors={SKILLS[0]: 1.2},
        domain_priors={"C3-MA-NOM": 0.4},
        skill_weights={SKILLS[0]: tuple(rng.uniform(-0.5, 0.5) for _ in CROSSED)},
        domain_weights={"C3-MA-NOM": tuple(rng.uniform(-0.5, 0.5) for _ in CROSSED)},
        version=5,
    )
    return replace(model, _cache={}, **changes)


answers = st.lists(st.tuples(st.sampled_from(SKILLS), st.booleans(), st.floats(0, 1e6)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(answers, st.sampled_from([None, 7.0]))
def test_estimates_stay_in_bounds_and_the_fast_path_is_the_feature_vector(history, half_life) -> None:
    model = _model(half_life_days=half_life)
    state = LearnerState()
    for skill, correct, at in history:
        weights, prior = model.for_skill(skill)
        vector = features(state, skill, prior, at, half_life)
        assert math.isclose(logit_of(state, skill, weights, prior, at, half_life),
                            sum(x * w for x, w in zip(vector, weights, strict=True)), abs_tol=1e-9)  # fmt: skip
        result = step(state, skill, correct, at, model)
        assert 0.0 < result.p_before < 1.0 and 0.0 < result.p_after < 1.0
        assert 0.0 <= result.confidence < 1.0
    for skill in SKILLS:
        assert 0.0 < predict(state, skill, 1e6, model) < 1.0


def test_a_right_answer_raises_the_skill_estimate_and_a_wrong_one_lowers_it() -> None:
    model = default_learner_model()
    for correct, direction in ((True, 1), (False, -1)):
        state = LearnerState()
        for i in range(3):
            step(state, SKILLS[0], i % 2 == 0, float(i), model)
        before = predict(state, SKILLS[0], 3.0, model)
        after = step(state, SKILLS[0], correct, 3.0, model).p_after
        assert (after - before) * direction > 0


def test_order_matters_and_predictions_use_earlier_answers_only() -> None:
    model = _model()
    history = [(SKILLS[0], True), (SKILLS[0], False), (SKILLS[1], True), (SKILLS[0], True)]
    a, b = LearnerState(), LearnerState()
    first = [step(a, s, c, float(i), model).p_before for i, (s, c) in enumerate(history)]
    # Changing the last answer cannot change any prediction made before it.
    changed = [*history[:-1], (SKILLS[0], False)]
    second = [step(b, s, c, float(i), model).p_before for i, (s, c) in enumerate(changed)]
    assert first == second
    # Reversing the order changes the state (recency counts).
    c = LearnerState()
    for i, (s, y) in enumerate(reversed(history)):
        step(c, s, y, float(i), model)
    assert predict(a, SKILLS[0], 9.0, model) != predict(c, SKILLS[0], 9.0, model)


def test_cold_start_uses_the_skill_then_domain_then_global_prior() -> None:
    model = _model()
    assert model.prior(SKILLS[0]) == 1.2
    assert model.prior(SKILLS[1]) == 0.4, "an unseen skill of a known domain gets the domain's prior"
    assert model.prior("C4-FR-ORT-03") == 0.8, "an unknown domain: the global prior"
    assert domain_of("C3-MA-NOM-01") == "C3-MA-NOM" and domain_of("42") is None
    fresh = step(LearnerState(), SKILLS[1], True, 0.0, model)
    weights, prior = model.for_skill(SKILLS[1])
    assert fresh.p_before == pytest.approx(score(features(LearnerState(), SKILLS[1], prior, 0.0, None), weights))
    assert fresh.answers == 1 and fresh.confidence == pytest.approx(0.25)


def test_the_other_skills_inform_a_new_one() -> None:
    """Shared strength: a pupil who got everything right elsewhere starts higher on a new skill."""
    model = default_learner_model()
    strong, weak = LearnerState(), LearnerState()
    for i in range(12):
        step(strong, SKILLS[i % 2], True, float(i), model)
        step(weak, SKILLS[i % 2], False, float(i), model)
    assert predict(strong, SKILLS[2], 20.0, model) > predict(weak, SKILLS[2], 20.0, model) + 0.2


def test_state_round_trips_through_its_encoding_and_dedups() -> None:
    model = _model()
    state = PupilMastery(window=4)
    first = state.advance_learner("a", SKILLS[0], True, 1.0, model)
    state.advance_learner("b", SKILLS[1], False, 2.0, model)
    restored = PupilMastery.decode(state.encode(), window=4)
    assert first is not None and first.model == "learner" and first.params_version == 5
    assert restored.advance_learner("a", SKILLS[0], True, 1.0, model) is None, "a duplicate changes nothing"
    assert restored.encode() == state.encode()
    nxt_restored = restored.advance_learner("c", SKILLS[0], True, 3.0, model)
    nxt = state.advance_learner("c", SKILLS[0], True, 3.0, model)
    assert nxt == nxt_restored, "decode(encode(state)) continues exactly as the state itself"


def test_a_state_of_the_first_format_is_still_read() -> None:
    old = (
        b'{"v":1,"s":{"C3-MA-NOM-01":[0.4,2,10.0],"C3-MA-NOM-02":[0.97,9,8.0]},"r":[["a","C3-MA-NOM-01",0.3,0.4,2,0]]}'
    )
    state = PupilMastery.decode(old, threshold=0.95)
    assert state.skills["C3-MA-NOM-01"].attempts == 2 and state.learner is None
    assert state.seen("a") and not state.seen("b")
    # The last update per skill is rebuilt: a BKT estimate is the p_after of the skill's last update.
    assert state.last == {"C3-MA-NOM-01": [0.4, False], "C3-MA-NOM-02": [0.97, True]}
    assert PupilMastery.decode(old).last == {}, "without the threshold, mastered is not known: nothing rebuilt"


def test_a_state_of_the_second_format_continues_as_it_would_have() -> None:
    """A worker upgraded in place reads its changelog (format 2: the window held every answer's outcome):
    the window's answers are still duplicates, the estimates go on unchanged, and the next update of a skill
    in the window carries its previous one."""
    model = _model()
    state = PupilMastery(window=4)
    outcomes = [state.advance_learner(a, SKILLS[i % 2], i != 1, float(i), model) for i, a in enumerate("abcde")]
    window = [[o.answer_id, o.skill, o.p_before, o.p_after, o.attempts, o.params_version, o.confidence, o.model]
              for o in outcomes[1:] if o is not None]  # fmt: skip
    assert state.learner is not None
    old = orjson.dumps({"v": 2, "s": {}, "r": window, "l": state.learner.to_json()})
    restored = PupilMastery.decode(old, window=4, threshold=0.95)
    assert restored.recent_ids() == list("bcde") and not restored.seen("a")
    last_of = {o.skill: o for o in outcomes if o is not None}
    assert restored.last == {s: [o.p_after, o.p_after >= 0.8 and o.attempts >= 3] for s, o in last_of.items()}
    assert restored.advance_learner("f", SKILLS[0], True, 9.0, model) == state.advance_learner(
        "f", SKILLS[0], True, 9.0, model)  # fmt: skip


def test_outputs_do_not_depend_on_batching() -> None:
    pupils = [factories.student(p) for p in range(5)]
    events = [factories.answer(student_id=pupils[i % 5], skill_code=SKILLS[i % 3], correct=(i * 7) % 5 != 0)
              for i in range(120)]  # fmt: skip
    outputs = []
    for batch in (1, 7, 120):
        processor = MasteryProcessor({}, ParameterBook(learner=_model()), threshold=0.95)
        emitted = []
        for i in range(0, len(events), batch):
            emitted += [decode(e.value(), MasteryUpdated) for e in processor.process(events[i : i + batch])]
        outputs.append(sorted((u.answer_event_id, u.p_before, u.p_after, u.attempts, u.confidence) for u in emitted))
    assert outputs[0] == outputs[1] == outputs[2]
    assert {u.model for u in emitted} == {"learner"} and {u.params_version for u in emitted} == {5}


def test_a_model_travels_in_parts_and_is_used_only_when_complete() -> None:
    model = _model()
    parts = to_contract(model, n_answers=123, fitted_at=datetime.now(UTC))
    assert parts[-1].scope == "global" and parts[-1].parts == len(parts) - 1
    decoded = [decode_parameters(encode(p)) for p in parts]
    assert all(isinstance(p, LearnerParameters) for p in decoded)
    assert len({record_key(p) for p in parts}) == len(parts), "one compaction key per part"
    book = ParameterBook()
    assert book.learner.version == 0, "defaults before any fit"
    # The global record arrives before a skill's: the version waits for its last part.
    book.apply_learner_part(parts[-1])
    assert book.learner.version == 0
    for part in parts[:-1]:
        book.apply_learner_part(part)
    assert book.learner.version == 5
    assert book.learner.for_skill(SKILLS[0]) == model.for_skill(SKILLS[0])
    older = replace(model, version=4, _cache={})
    for part in to_contract(older, 1, datetime.now(UTC)):
        book.apply_learner_part(part)
    assert book.learner.version == 5, "an older version replayed from the topic never replaces a newer one"


def test_an_incompatible_part_is_refused() -> None:
    head = to_contract(_model(), 1, datetime.now(UTC))[-1]
    with pytest.raises(ValueError, match="weights expected"):
        LearnerAssembly().add(head.model_copy(update={"weights": [0.0, 1.0]}))
    with pytest.raises(ValueError, match="features"):
        LearnerAssembly().add(head.model_copy(update={"feature_names": ["bias"]}))


def test_item_offsets_travel_as_parts_and_move_the_prediction() -> None:
    model = _model(item_offsets={"q-hard": -1.5, "q-easy": 1.5})
    parts = to_contract(model, 1, datetime.now(UTC))
    assert {p.key for p in parts if p.scope == "item"} == {"q-hard", "q-easy"}
    book = ParameterBook()
    for part in parts:
        book.apply_learner_part(decode_parameters(encode(part)))
    assert dict(book.learner.item_offsets) == {"q-hard": -1.5, "q-easy": 1.5}
    hard = step(LearnerState(), SKILLS[0], True, 0.0, model, "q-hard").p_before
    easy = step(LearnerState(), SKILLS[0], True, 0.0, model, "q-easy").p_before
    unknown = step(LearnerState(), SKILLS[0], True, 0.0, model, "q-new").p_before
    assert (hard < unknown < easy) or (hard > unknown > easy), "the item's difficulty moves the prediction"
