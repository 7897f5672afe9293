"""What really happened in a simulation: the yardstick the mastery and signal models are measured against."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from vigie.core.contract.referential import Zone
from vigie.producers.simulator.learner import SkillTruth


@dataclass(frozen=True, slots=True)
class PupilTruth:
    """One pupil as the simulator made them (all ids are pseudonyms, as in the events)."""

    student_id: str
    class_id: str
    academy: str
    school_uai: str
    level: str
    zone: Zone
    #: IANA time zone of the school (Europe/Paris, or the overseas academy's own).
    timezone: str
    platform: str
    #: Latent ability (z-score): raises the initial knowledge and the learning rate.
    ability: float
    disengages: bool
    #: Last day of activity of a pupil who disengages; None for the others.
    dropout_date: date | None
    #: First school day the decline shows (sessions rarer, abandons, guessing); None if no decline.
    decline_start: date | None = None
    #: A bad spell (1-2 weeks: rarer sessions, abandons, guessing) of a pupil who does not drop out:
    #: noise the signals should not mistake for a drop-out. None for the others.
    bad_week_start: date | None = None
    bad_week_end: date | None = None
    #: Days off sick: no activity, yet not a drop-out.
    sick_days: tuple[date, ...] = ()


@dataclass(slots=True)
class GroundTruth:
    """The truth of one run. ``pupils`` and ``skills`` are known from the start; ``knows_after``,
    ``rapid_guesses`` and ``final_knows`` are filled while ``Simulation.events()`` is consumed and are
    complete once it is exhausted (``complete`` turns True).

    ``knows_after[answer.event_id]`` is the latent state right after that answer: forgetting since the
    last practice applied, the answer drawn from that state (guess/slip), then learning from it.
    ``final_knows`` is every pupil's state on every skill of their level at the end of the window
    (forgetting applied up to then), practised or not."""

    start: date
    end: date
    pupils: dict[str, PupilTruth] = field(default_factory=dict)
    skills: dict[str, SkillTruth] = field(default_factory=dict)
    knows_after: dict[uuid.UUID, bool] = field(default_factory=dict)
    rapid_guesses: set[uuid.UUID] = field(default_factory=set)
    final_knows: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: Per class pseudonym, the days the class skipped the platform although it was its day.
    class_days_off: dict[str, tuple[date, ...]] = field(default_factory=dict)
    complete: bool = False

    @property
    def dropouts(self) -> dict[str, date]:
        """Pupils who disengage, with their last day of activity."""
        return {p.student_id: p.dropout_date for p in self.pupils.values() if p.dropout_date is not None}

    def to_json(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "complete": self.complete,
            "pupils": [_jsonable(asdict(p)) for p in self.pupils.values()],
            "skills": [asdict(s) for s in self.skills.values()],
            "knows_after": {str(k): v for k, v in self.knows_after.items()},
            "rapid_guesses": sorted(str(k) for k in self.rapid_guesses),
            "final_knows": [[s, k, v] for (s, k), v in self.final_knows.items()],
            "class_days_off": {c: [d.isoformat() for d in days] for c, days in self.class_days_off.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> GroundTruth:
        def pupil(raw: dict) -> PupilTruth:
            for key in ("dropout_date", "decline_start", "bad_week_start", "bad_week_end"):
                raw[key] = date.fromisoformat(raw[key]) if raw[key] else None
            raw["sick_days"] = tuple(date.fromisoformat(d) for d in raw["sick_days"])
            return PupilTruth(**raw)

        pupils = [pupil(dict(p)) for p in data["pupils"]]
        skills = [SkillTruth(**s) for s in data["skills"]]
        return cls(
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            pupils={p.student_id: p for p in pupils},
            skills={s.skill_code: s for s in skills},
            knows_after={uuid.UUID(k): v for k, v in data["knows_after"].items()},
            rapid_guesses={uuid.UUID(k) for k in data["rapid_guesses"]},
            final_knows={(s, k): v for s, k, v in data["final_knows"]},
            class_days_off={
                c: tuple(date.fromisoformat(d) for d in days) for c, days in data["class_days_off"].items()
            },
            complete=data["complete"],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.from_json(json.loads(path.read_text()))


def _jsonable(values: dict) -> dict:
    def one(value):
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, tuple):
            return [one(v) for v in value]
        return value

    return {k: one(v) for k, v in values.items()}
