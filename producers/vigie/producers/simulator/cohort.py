"""A minimal deterministic cohort: pupils answer items of their level's skills on school days.

Deterministic for a seed. Each pupil has a latent probability of knowing each skill that rises
with practice; answers follow it with guess and slip.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from vigie.contract.events import AnswerSubmitted, LearningEvent, SessionEnded, SessionStarted, make_event_id
from vigie.contract.taxonomy import skills_for
from vigie.producers.pseudonym import Pseudonymizer


@dataclass(frozen=True)
class CohortConfig:
    academies: tuple[str, ...] = ("lyon",)
    schools_per_academy: int = 2
    classes_per_school: int = 2
    students_per_class: int = 12
    days: int = 5
    answers_per_session: int = 8
    levels: tuple[str, ...] = ("CE1", "CM1", "2nde")
    platform: str = "fondamentaux"
    seed: int = 42
    end: datetime = field(default_factory=lambda: datetime.now(UTC).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0))  # fmt: skip


def simulate(config: CohortConfig, pseudonymizer: Pseudonymizer) -> Iterator[LearningEvent]:
    """Yield the cohort's events in time order within each pupil."""
    rng = random.Random(config.seed)
    start = config.end - timedelta(days=config.days)
    counter = 0
    for academy in config.academies:
        for s in range(config.schools_per_academy):
            uai = f"{rng.randrange(10**6, 10**7):07d}{chr(65 + rng.randrange(26))}"
            for c in range(config.classes_per_school):
                level = config.levels[(s + c) % len(config.levels)]
                class_id = pseudonymizer.school_class(f"{academy}/{uai}/{c}")
                for p in range(config.students_per_class):
                    student = pseudonymizer.student(f"{academy}/{uai}/{c}/{p}")
                    ability = rng.random()
                    for d in range(config.days):
                        day = start + timedelta(days=d)
                        if day.weekday() >= 5:
                            continue
                        moment = day + timedelta(hours=9 + rng.randrange(7), minutes=rng.randrange(60))
                        session = f"s-{academy}-{s}-{c}-{p}-{d}"
                        counter += 1
                        common = dict(
                            platform=config.platform, academy=academy, school_uai=uai, class_id=class_id,
                            student_id=student, level=level, session_id=session,
                        )  # fmt: skip
                        yield SessionStarted(event_id=make_event_id(config.platform, f"{counter}"),
                                             source_event_id=str(counter), occurred_at=moment, **common)  # fmt: skip
                        subject = rng.choice(("francais", "mathematiques"))
                        skills = skills_for(level, subject)
                        for a in range(config.answers_per_session):
                            skill = skills[a % len(skills)]
                            p_know = min(0.95, ability * 0.6 + 0.1 * d)
                            correct = rng.random() < (p_know * 0.9 + (1 - p_know) * 0.2)
                            counter += 1
                            moment += timedelta(seconds=20 + rng.randrange(60))
                            yield AnswerSubmitted(
                                event_id=make_event_id(config.platform, f"{counter}"), source_event_id=str(counter),
                                occurred_at=moment, subject=subject, skill_code=skill.code,
                                item_id=f"{skill.code}-{rng.randrange(20)}", correct=correct,
                                score=1.0 if correct else 0.0, response_time_ms=5000 + rng.randrange(30000),
                                attempt=1, hints_used=0, **common,
                            )  # fmt: skip
                        counter += 1
                        yield SessionEnded(
                            event_id=make_event_id(config.platform, f"{counter}"), source_event_id=str(counter),
                            occurred_at=moment + timedelta(seconds=5), outcome="completed",
                            answers_count=config.answers_per_session, **common,
                        )  # fmt: skip
