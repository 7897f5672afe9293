"""A pupil's mastery state: every skill's estimate, the last update emitted per skill, and a bounded
window of recent answer ids.

The window makes the update idempotent under at-least-once delivery: an answer whose id is in it was
applied already, and moves nothing. It holds ids only: the stream produces a batch's outputs and waits
for the broker's acknowledgement before it produces the state that remembers them
(``vigie.stream.emit.Emitter.send_and_wait``), and the table lives in memory, rebuilt from its changelog
at start (``store="memory://"``), so a state that has an answer in its window always comes with that
answer's ``MasteryUpdated`` already on the topic: a duplicate emits nothing. (A crash between the
two restarts from the older state, which applies the answer again and emits the same update.) The window
lives in the same value as the estimates, so one changelog record carries both: they never disagree.

The last update per skill (``p_after``, ``mastered``) is kept so that the next update of the skill can
carry it (``MasteryUpdated.previous_p_after`` / ``previous_mastered``: the warehouse keeps group figures
as running sums).

Pure Python, no faust: the stream's processor and ``vigie evaluate mastery`` both use ``advance``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from vigie.stream.mastery import learner
from vigie.stream.mastery.learner import LearnerModel, LearnerState
from vigie.stream.mastery.model import BktParams, SkillEstimate, step

#: Recent answers remembered per pupil. A replay after a crash re-delivers what came after the last
#: committed offset (about a second of traffic): far fewer answers of one pupil than this.
DEDUP_WINDOW = 64
STATE_FORMAT = 3
#: Formats ``decode`` still reads (1: BKT only, before the learner model; 2: the window held every
#: answer's outcome; 3: answer ids only, and the last update per skill).
READABLE_FORMATS = (1, 2, 3)
#: Separator of the answer ids in the window (never in an id: ``advance`` refuses such an id).
_SEP = ","

#: The learner model's "maîtrisé": P(next item right) at least this, with at least this many answers.
LEARNER_MASTERED_P = 0.8
LEARNER_MASTERED_ANSWERS = 3


class Outcome(NamedTuple):
    """One new answer's effect on one skill."""

    answer_id: str
    skill: str
    p_before: float
    p_after: float
    p_correct: float
    attempts: int
    params_version: int
    #: Evidence behind ``p_after`` in [0, 1] (learner model); ``None`` for BKT.
    confidence: float | None = None
    model: str = "bkt"


def is_mastered(p_after: float, attempts: int, model: str, threshold: float) -> bool:
    """BKT: P(known) >= the configured threshold; learner: see ``LEARNER_MASTERED_*`` (docs/mastery.md)."""
    if model == "learner":
        return p_after >= LEARNER_MASTERED_P and attempts >= LEARNER_MASTERED_ANSWERS
    return p_after >= threshold


#: The last update of a skill as the state keeps it: [p_after, mastered].
LastUpdate = list[Any]


class PupilMastery:
    """Mutable while a batch is applied, then encoded once (one table write per pupil per batch)."""

    __slots__ = ("count", "last", "learner", "recent", "skills", "window")

    def __init__(
        self,
        skills: dict[str, SkillEstimate] | None = None,
        recent: list[str] | None = None,
        window: int = DEDUP_WINDOW,
        learner: LearnerState | None = None,
        last: dict[str, LastUpdate] | None = None,
    ) -> None:
        self.skills: dict[str, SkillEstimate] = skills if skills is not None else {}
        #: The window: ",id1,id2,...,idN," (oldest first). One string: orjson reads and writes it whole, and
        #: a membership test is one substring search (64 ids: under a microsecond, no set to build).
        self.recent = _SEP + "".join(a + _SEP for a in recent[-window:]) if recent else _SEP
        self.count = min(len(recent), window) if recent else 0
        self.window = window
        #: The learner model's state; only created when that model is used (BKT-only state stays small).
        self.learner = learner
        #: Per skill, the last update emitted from this state (``remember_update``).
        self.last: dict[str, LastUpdate] = last if last is not None else {}

    def seen(self, answer_id: str) -> bool:
        """True when ``answer_id`` is in the window (applied before: it must not move anything again)."""
        return f"{_SEP}{answer_id}{_SEP}" in self.recent

    def recent_ids(self) -> list[str]:
        """The window's answer ids, oldest first."""
        return self.recent[1:-1].split(_SEP) if self.count else []

    def _remember(self, answer_id: str) -> None:
        if _SEP in answer_id or not answer_id:
            raise ValueError(f"an answer id is not empty and has no {_SEP!r}: {answer_id!r}")
        self.recent += answer_id + _SEP
        if self.count < self.window:
            self.count += 1
        else:  # drop the oldest id
            self.recent = self.recent[self.recent.index(_SEP, 1) :]

    def advance_learner(
        self, answer_id: str, skill: str, correct: bool, at: float, model: LearnerModel, item: str | None = None
    ) -> Outcome | None:
        """Apply one answer to the learner model's state; ``None`` (nothing changed) if ``answer_id`` is in
        the window."""
        if self.seen(answer_id):
            return None
        self._remember(answer_id)
        if self.learner is None:
            self.learner = LearnerState()
        result = learner.step(self.learner, skill, correct, at, model, item)
        return Outcome(answer_id, skill, result.p_before, result.p_after, result.p_before, result.answers,
                       model.version, result.confidence, learner.MODEL_NAME)  # fmt: skip

    def advance(self, answer_id: str, skill: str, correct: bool, at: float, params: BktParams) -> Outcome | None:
        """Apply one answer (BKT); ``None`` (nothing changed) if ``answer_id`` is in the window."""
        if self.seen(answer_id):
            return None
        self._remember(answer_id)
        result = step(self.skills.get(skill), correct, at, params)
        self.skills[skill] = result.estimate
        return Outcome(answer_id, skill, result.p_before, result.p_after, result.p_correct,
                       result.estimate.attempts, params.version)  # fmt: skip

    def remember_update(self, skill: str, p_after: float, mastered: bool) -> LastUpdate | None:
        """Note the update just emitted for ``skill``; returns the one before it ([p_after, mastered]), if any."""
        previous = self.last.get(skill)
        self.last[skill] = [p_after, mastered]
        return previous

    def encode(self) -> bytes:
        doc: dict[str, Any] = {"v": STATE_FORMAT, "r": self.recent}
        if self.skills:
            doc["s"] = {k: [e.p_known, e.attempts, e.last_at] for k, e in self.skills.items()}
        if self.last:
            doc["u"] = self.last
        if self.learner is not None:
            doc["l"] = self.learner.to_json()
        return orjson.dumps(doc)

    @classmethod
    def decode(cls, raw: bytes | None, window: int = DEDUP_WINDOW, threshold: float | None = None) -> PupilMastery:
        """The state stored as ``raw``; a fresh state for ``None`` (new pupil, or erased).

        ``threshold`` (BKT's mastery threshold) is only used to read a state of format 1 or 2, which did not
        keep the last update per skill: it is then rebuilt from the window's outcomes and the BKT estimates,
        the ``mastered`` flags as the processor computed them (none without a threshold).
        """
        if not raw:
            return cls(window=window)
        doc = orjson.loads(raw)
        version = doc.get("v")
        if version not in READABLE_FORMATS:
            raise ValueError(f"unknown mastery state format {version!r}")
        skills_doc = doc.get("s")
        skills = (
            {k: SkillEstimate(float(p), int(n), float(t)) for k, (p, n, t) in skills_doc.items()} if skills_doc else {}
        )
        learner_doc = doc.get("l")
        learner_state = LearnerState.from_json(learner_doc) if learner_doc is not None else None
        if version == STATE_FORMAT:
            recent: str = doc["r"]
            count = recent.count(_SEP) - 1
            if count > window:  # read with a smaller window than it was written with: the constructor trims
                return cls(skills, recent[1:-1].split(_SEP), window, learner_state, doc.get("u"))
            state = cls(skills, None, window, learner_state, doc.get("u"))
            state.recent, state.count = recent, count
            return state
        outcomes = [r if len(r) == 8 else [*r, None, "bkt"][:8] for r in doc["r"]]
        return cls(skills, [r[0] for r in outcomes], window, learner_state,
                   _last_updates(skills, outcomes, learner_state is None, threshold))  # fmt: skip


def _last_updates(
    skills: dict[str, SkillEstimate], outcomes: list[list[Any]], bkt_only: bool, threshold: float | None
) -> dict[str, LastUpdate]:
    """The last update per skill of a state of format 1 or 2 (outcomes: [answer_id, skill, p_before, p_after,
    attempts, params_version, confidence, model], oldest first). Exact for a skill in the window; for an
    older one, a BKT-only state's estimate is the p_after of its last update; otherwise it is not known."""
    if threshold is None:
        return {}
    last: dict[str, LastUpdate] = {}
    if bkt_only:
        last = {k: [e.p_known, is_mastered(e.p_known, e.attempts, "bkt", threshold)] for k, e in skills.items()}
    for _, skill, _, p_after, attempts, _, _, model in outcomes:
        last[skill] = [p_after, is_mastered(p_after, attempts, model, threshold)]
    return last
