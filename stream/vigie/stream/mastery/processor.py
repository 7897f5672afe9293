"""The mastery processor: a batch of learning events in, ``MasteryUpdated`` emissions out.

State is one value per pupil (``PupilMastery`` encoded), in a mapping that the worker backs with a
changelog-backed faust table keyed by the pupil pseudonym. The batch is grouped by pupil, and each
pupil's value is read once and written once per batch. An erasure deletes the value (a changelog
tombstone); answers after it in the same batch start from a fresh state.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableMapping, Sequence

from vigie.core.contract.events import AnswerSubmitted, ErasureRequested, LearningEvent, MasteryUpdated
from vigie.core.topics import MASTERY_UPDATES
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.state import DEDUP_WINDOW, Outcome, PupilMastery
from vigie.stream.processor import Emission

log = logging.getLogger(__name__)

#: Namespace of MasteryUpdated ids: uuid5(namespace, answer event id). Never change it.
MASTERY_ID_NAMESPACE = uuid.UUID("0c9e1f0e-53a8-5b7e-8d5e-6d1a2f4b7c31")


def mastery_event_id(answer_event_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(MASTERY_ID_NAMESPACE, str(answer_event_id))


#: The learner model's "maîtrisé": P(next item right) at least this, with at least this many answers.
LEARNER_MASTERED_P = 0.8
LEARNER_MASTERED_ANSWERS = 3


def is_mastered(outcome: Outcome, threshold: float) -> bool:
    """BKT: P(known) >= the configured threshold; learner: see ``LEARNER_MASTERED_*`` (docs/mastery.md)."""
    if outcome.model == "learner":
        return outcome.p_after >= LEARNER_MASTERED_P and outcome.attempts >= LEARNER_MASTERED_ANSWERS
    return outcome.p_after >= threshold


def mastery_updated(answer: AnswerSubmitted, outcome: Outcome, threshold: float) -> MasteryUpdated:
    """The emission of one answer. Built without validation (``model_construct``): every field comes from the
    validated answer or from the model's outcome, in range by construction (unit-tested against the contract)
    — validating it again was a tenth of the worker's time."""
    return MasteryUpdated.model_construct(
        event_id=mastery_event_id(answer.event_id),
        answer_event_id=answer.event_id,
        occurred_at=answer.occurred_at,
        academy=answer.academy,
        school_uai=answer.school_uai,
        class_id=answer.class_id,
        student_id=answer.student_id,
        level=answer.level,
        subject=answer.subject,
        skill_code=answer.skill_code,
        correct=answer.correct,
        p_before=outcome.p_before,
        p_after=outcome.p_after,
        attempts=outcome.attempts,
        mastered=is_mastered(outcome, threshold),
        params_version=outcome.params_version,
        model="learner" if outcome.model == "learner" else "bkt",
        confidence=outcome.confidence,
    )


class MasteryProcessor:
    """``PupilProcessor`` of mastery. ``table`` maps a pupil pseudonym to its encoded ``PupilMastery``."""

    name = "mastery"

    def __init__(
        self,
        table: MutableMapping[str, bytes],
        params: ParameterBook,
        *,
        threshold: float,
        window: int = DEDUP_WINDOW,
        model: str = "learner",
    ) -> None:
        if model not in ("learner", "bkt"):
            raise ValueError(f"unknown mastery model {model!r}: learner or bkt")
        self.table = table
        self.params = params
        self.threshold = threshold
        self.model = model
        self.window = window
        self.duplicates = 0

    def process(self, events: Sequence[LearningEvent]) -> list[Emission]:
        by_pupil: dict[str, list[AnswerSubmitted | ErasureRequested]] = {}
        for event in events:
            if event.kind == "answer" or event.kind == "erasure_requested":
                by_pupil.setdefault(event.student_id, []).append(event)
        emissions: list[Emission] = []
        for pupil, pupil_events in by_pupil.items():
            emissions += self._process_pupil(pupil, pupil_events)
        return emissions

    def _process_pupil(self, pupil: str, events: list[AnswerSubmitted | ErasureRequested]) -> list[Emission]:
        stored = self.table.get(pupil)
        state = PupilMastery.decode(stored, self.window)
        erased = False
        changed = False
        emissions: list[Emission] = []
        for event in events:
            if isinstance(event, ErasureRequested):
                state, erased, changed = PupilMastery(window=self.window), True, False
                continue
            if self.model == "learner":
                outcome = state.advance_learner(str(event.event_id), event.skill_code, event.correct,
                                                event.occurred_at.timestamp(), self.params.learner,
                                                event.item_id)  # fmt: skip
            else:
                outcome = state.advance(str(event.event_id), event.skill_code, event.correct,
                                        event.occurred_at.timestamp(), self.params.get(event.skill_code))  # fmt: skip
            if outcome.duplicate:
                self.duplicates += 1
            else:
                changed = True
            # A duplicate re-emits the same event (same id, same content): its first emission may have
            # been lost in a crash after the state was written. The warehouse dedups by event_id.
            emissions.append(Emission(MASTERY_UPDATES, pupil, mastery_updated(event, outcome, self.threshold)))
        if changed:
            self.table[pupil] = state.encode()
        elif erased and stored is not None:
            del self.table[pupil]
        return emissions
