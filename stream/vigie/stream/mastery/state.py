"""A pupil's mastery state: every skill's estimate and a bounded window of recent answers.

The window makes the update idempotent under at-least-once delivery: an answer whose id is in it
does not move the estimate again, and gives back the same outcome (so the stream can re-emit the
same ``MasteryUpdated`` if the first emission was lost in a crash). The window lives in the same
value as the estimates, so one changelog record carries both: state and dedup can never disagree.

Pure Python, no faust: the stream's processor and ``vigie evaluate mastery`` both use ``advance``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, NamedTuple

import orjson

from vigie.stream.mastery import learner
from vigie.stream.mastery.learner import LearnerModel, LearnerState
from vigie.stream.mastery.model import BktParams, SkillEstimate, step

#: Recent answers remembered per pupil. A replay after a crash re-delivers what came after the last
#: committed offset (about a second of traffic): far fewer answers of one pupil than this.
DEDUP_WINDOW = 64
STATE_FORMAT = 2
#: Formats ``decode`` still reads (1: BKT only, before the learner model).
READABLE_FORMATS = (1, 2)


class Outcome(NamedTuple):
    """One answer's effect on one skill; ``duplicate`` is True when it had been applied before."""

    answer_id: str
    skill: str
    p_before: float
    p_after: float
    p_correct: float
    attempts: int
    params_version: int
    duplicate: bool = False
    #: Evidence behind ``p_after`` in [0, 1] (learner model); ``None`` for BKT.
    confidence: float | None = None
    model: str = "bkt"


#: An outcome as the state stores it: [answer_id, skill, p_before, p_after, attempts, params_version,
#: confidence, model]. The window keeps these lists as they are encoded and decoded (orjson does the work
#: in C), and makes an ``Outcome`` only for a duplicate: building 64 tuples per read and 64 lists per
#: write was most of the state's cost.
StoredOutcome = list[Any]


def _stored(outcome: Outcome) -> StoredOutcome:
    o = outcome
    return [o.answer_id, o.skill, o.p_before, o.p_after, o.attempts, o.params_version, o.confidence, o.model]


def _outcome(r: StoredOutcome) -> Outcome:
    # p_correct is not kept: a duplicate is re-emitted, never predicted again.
    return Outcome(r[0], r[1], r[2], r[3], math.nan, r[4], r[5], False, *r[6:8])


class PupilMastery:
    """Mutable while a batch is applied, then encoded once (one table write per pupil per batch)."""

    __slots__ = ("learner", "recent", "skills", "window")

    def __init__(
        self,
        skills: dict[str, SkillEstimate] | None = None,
        recent: OrderedDict[str, StoredOutcome] | None = None,
        window: int = DEDUP_WINDOW,
        learner: LearnerState | None = None,
    ) -> None:
        self.skills: dict[str, SkillEstimate] = skills if skills is not None else {}
        self.recent: OrderedDict[str, StoredOutcome] = recent if recent is not None else OrderedDict()
        self.window = window
        #: The learner model's state; only created when that model is used (BKT-only state stays small).
        self.learner = learner

    def seen(self, answer_id: str) -> Outcome | None:
        """The outcome of ``answer_id`` if it is in the window (as first applied, ``duplicate`` False)."""
        stored = self.recent.get(answer_id)
        return None if stored is None else _outcome(stored)

    def _remember(self, outcome: Outcome) -> Outcome:
        self.recent[outcome.answer_id] = _stored(outcome)
        while len(self.recent) > self.window:
            self.recent.popitem(last=False)
        return outcome

    def advance_learner(
        self, answer_id: str, skill: str, correct: bool, at: float, model: LearnerModel, item: str | None = None
    ) -> Outcome:
        """Apply one answer to the learner model's state (idempotent by ``answer_id`` within the window)."""
        seen = self.recent.get(answer_id)
        if seen is not None:
            return _outcome(seen)._replace(duplicate=True)
        if self.learner is None:
            self.learner = LearnerState()
        result = learner.step(self.learner, skill, correct, at, model, item)
        return self._remember(Outcome(answer_id, skill, result.p_before, result.p_after, result.p_before,
                                      result.answers, model.version, False, result.confidence,
                                      learner.MODEL_NAME))  # fmt: skip

    def advance(self, answer_id: str, skill: str, correct: bool, at: float, params: BktParams) -> Outcome:
        """Apply one answer (idempotent by ``answer_id`` within the window)."""
        seen = self.recent.get(answer_id)
        if seen is not None:
            return _outcome(seen)._replace(duplicate=True)
        result = step(self.skills.get(skill), correct, at, params)
        self.skills[skill] = result.estimate
        outcome = Outcome(
            answer_id,
            skill,
            result.p_before,
            result.p_after,
            result.p_correct,
            result.estimate.attempts,
            params.version,
        )
        return self._remember(outcome)

    def encode(self) -> bytes:
        doc = {
            "v": STATE_FORMAT,
            "s": {k: [e.p_known, e.attempts, e.last_at] for k, e in self.skills.items()},
            "r": list(self.recent.values()),
        }
        if self.learner is not None:
            doc["l"] = self.learner.to_json()
        return orjson.dumps(doc)

    @classmethod
    def decode(cls, raw: bytes | None, window: int = DEDUP_WINDOW) -> PupilMastery:
        """The state stored as ``raw``; a fresh state for ``None`` (new pupil, or erased)."""
        if not raw:
            return cls(window=window)
        doc = orjson.loads(raw)
        if doc.get("v") not in READABLE_FORMATS:
            raise ValueError(f"unknown mastery state format {doc.get('v')!r}")
        skills = {k: SkillEstimate(float(p), int(n), float(t)) for k, (p, n, t) in doc["s"].items()}
        recent = OrderedDict((r[0], r if len(r) == 8 else [*r, None, "bkt"][:8]) for r in doc["r"])
        learner_doc = doc.get("l")
        return cls(skills, recent, window, LearnerState.from_json(learner_doc) if learner_doc is not None else None)
