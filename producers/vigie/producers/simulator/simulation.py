"""The simulation: day after day, classes work on their platform and pupils learn, forget, or drift away.

``Simulation(config, privacy).events()`` yields contract events sorted by ``occurred_at`` (ties in a
fixed order), the same for the same configuration and seed, and records the ground truth as it goes.

Behaviours (all drawn from the seed):
- a class works on some weekdays, at its slot in school hours (local time: Europe/Paris, or the
  overseas academy's own), on the school days of its academy's zone; a pupil takes part with their
  attendance; some practise at home in the evening;
- a session works mostly on the class's skill of the week, with some review of earlier skills;
- a pupil who disengages shows it for one or two weeks before their last day of activity (rarer
  sessions, abandoned or empty sessions, falling success, rapid guessing), then does nothing more;
- a few other pupils have one bad spell (1-2 weeks) with the same symptoms, then recover; anyone may
  be off sick for a few days, and a class sometimes skips its day: silences that are not drop-outs.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted, make_event_id
from vigie.core.contract.referential import SUBJECTS
from vigie.core.settings import PrivacySettings
from vigie.producers.simulator.cohort import Cohort, SimPupil, build_cohort, school_day
from vigie.producers.simulator.config import SimulationConfig
from vigie.producers.simulator.learner import LatentState, PupilSkill, answer, draw_skill, forget
from vigie.producers.simulator.truth import GroundTruth

log = logging.getLogger(__name__)

SimEvent = AnswerSubmitted | SessionStarted | SessionEnded


def local_time(day: date, tz: ZoneInfo, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall-clock time where the class is, as the UTC instant events carry."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=tz).astimezone(UTC)


class _PupilRun:
    """A pupil's state while the simulation runs: random source, latent skills, counters."""

    __slots__ = ("events", "pupil", "rng", "sessions", "skills", "states")

    def __init__(self, pupil: SimPupil, seed: int, skills: dict[str, PupilSkill]) -> None:
        self.pupil = pupil
        self.rng = random.Random(f"{seed}/pupil/{pupil.index}")
        self.skills = skills
        self.states = {code: LatentState(self.rng.random() < p.p_init) for code, p in skills.items()}
        self.events = 0
        self.sessions = 0


class Simulation:
    """One simulated run. ``truth.pupils`` and ``truth.skills`` are known at construction; the rest of the
    truth is filled while ``events()`` is consumed (each call starts afresh and yields the same events)."""

    def __init__(self, config: SimulationConfig, privacy: PrivacySettings, *, today: date | None = None) -> None:
        self.config = config
        self.start, self.end = config.window(today)
        self.cohort: Cohort = build_cohort(config, privacy, self.start, self.end)
        skill_codes = sorted({code for c in self.cohort.classes for codes in c.programme.values() for code in codes})
        self.truth = GroundTruth(
            start=self.start,
            end=self.end,
            pupils={p.student_id: p.truth() for p in self.cohort.pupils},
            skills={code: draw_skill(code, config.seed) for code in skill_codes},
            class_days_off={c.class_id: tuple(sorted(c.days_off)) for c in self.cohort.classes},
        )
        self._seq = 0

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def events(self) -> Iterator[SimEvent]:
        """All events of the run in time order; the truth is complete once this is exhausted."""
        self.truth.knows_after.clear()
        self.truth.rapid_guesses.clear()
        self.truth.final_knows.clear()
        self.truth.complete = False
        runs = [self._start_pupil(p) for p in self.cohort.pupils]
        for day in self.days:
            batch: list[tuple[datetime, int, SimEvent]] = []
            for run in runs:
                batch.extend(self._pupil_day(run, day))
            batch.sort(key=lambda item: (item[0], item[1]))
            for _, _, event in batch:
                yield event
        end_of_window = datetime.combine(self.end, time(23, 59), tzinfo=UTC)
        for run in runs:
            for code, state in run.states.items():
                forget(state, end_of_window, run.skills[code].skill.half_life_days, run.rng)
                self.truth.final_knows[(run.pupil.student_id, code)] = state.knows
        self.truth.complete = True

    def _start_pupil(self, pupil: SimPupil) -> _PupilRun:
        codes = [code for codes in pupil.school_class.programme.values() for code in codes]
        skills = {code: PupilSkill.of(self.truth.skills[code], pupil.ability) for code in codes}
        return _PupilRun(pupil, self.config.seed, skills)

    # -- one pupil, one day ------------------------------------------------------------------------------

    def _pupil_day(self, run: _PupilRun, day: date) -> list[tuple[datetime, int, SimEvent]]:
        pupil, rng, c = run.pupil, run.rng, run.pupil.school_class
        if pupil.dropout_date is not None and day > pupil.dropout_date:
            return []
        if not school_day(day, c.zone) or day in pupil.sick_days:
            return []
        decline = _decline(pupil, day)
        bad = pupil.bad_week is not None and pupil.bad_week[0] <= day < pupil.bad_week[1]
        out: list[tuple[datetime, int, SimEvent]] = []
        if c.works_on(day):
            attend = pupil.attendance * (1.0 - 0.75 * decline) * (0.4 if bad else 1.0)
            if day == pupil.dropout_date or rng.random() < attend:
                hour, minute = c.slots[day.weekday()]
                begin = local_time(day, c.timezone, hour, minute, 0) + timedelta(seconds=rng.randrange(30, 600))
                out += self._session(run, day, begin, decline, bad, homework=False)
        homework = self.config.homework_share * pupil.homework_taste * (1.0 - 0.8 * decline)
        if rng.random() < homework:
            begin = local_time(day, c.timezone, rng.randrange(17, 20), rng.randrange(60), rng.randrange(60))
            if not out or begin > out[-1][0] + timedelta(minutes=30):
                out += self._session(run, day, begin, decline, bad, homework=True)
        return out

    def _session(
        self, run: _PupilRun, day: date, begin: datetime, decline: float, bad: bool, *, homework: bool
    ) -> list[tuple[datetime, int, SimEvent]]:
        pupil, rng, c = run.pupil, run.rng, run.pupil.school_class
        run.sessions += 1
        common: dict[str, Any] = {
            "platform": c.platform,
            "academy": c.academy,
            "school_uai": c.school_uai,
            "class_id": c.class_id,
            "student_id": pupil.student_id,
            "teacher_id": None if homework else c.teacher_id,
            "level": c.level,
            "session_id": f"{self.cohort.run_tag}.{pupil.student_id[:12]}.s{run.sessions}",
        }
        subjects = [s for s in SUBJECTS if c.programme[s]]
        if not subjects:
            return []  # no skill of this level in the taxonomy: nothing to practise
        out = [self._emit(run, begin, SessionStarted, common)]
        subject = rng.choice(subjects)
        programme = c.programme[subject]
        week = (day - self.start).days // 7
        focus = programme[week % len(programme)]
        review = programme[: week % len(programme)] or programme

        abandon_p = 0.04 + 0.5 * decline + (0.3 if bad else 0.0)
        guessing = rng.random() < 0.02 + 0.45 * decline + (0.35 if bad else 0.0)
        planned = rng.randint(6, 14)
        outcome = "completed"
        if rng.random() < abandon_p:
            outcome = "abandoned"
            style = rng.random()
            if style < 0.35:
                return out  # opened, then left without an answer and without closing the session
            planned = 0 if style < 0.7 else rng.randint(1, max(1, planned // 3))
        elif rng.random() < 0.02:
            outcome = "timeout"

        now = begin
        answered = 0
        for _ in range(planned):
            code = focus if rng.random() < 0.7 else rng.choice(review)
            rapid = guessing and rng.random() < 0.75
            now += timedelta(seconds=rng.uniform(2.0, 6.0))  # reading the item
            state = run.states[code]
            correct = answer(
                state,
                run.skills[code],
                now,
                rng,
                extra_slip=0.3 * decline + (0.15 if bad else 0.0),
                learn_factor=1.0 - 0.7 * decline,
                rapid_guess=rapid,
            )
            if rapid:
                response_ms = rng.randint(600, 3500)
            else:
                median = (15_000 if c.level in _PRIMARY else 22_000) * pupil.speed * (0.8 if state.knows else 1.0)
                response_ms = min(180_000, int(rng.lognormvariate(0.0, 0.45) * median))
            now += timedelta(milliseconds=response_ms)
            item = f"{code}.{rng.randrange(1, 41):02d}"
            hints = 0 if rapid or correct or rng.random() < 0.7 else rng.randint(1, 2)
            event = self._emit(
                run,
                now,
                AnswerSubmitted,
                common,
                subject=subject,
                skill_code=code,
                item_id=item,
                correct=correct,
                score=1.0 if correct else 0.0,
                response_time_ms=response_ms,
                attempt=1,
                hints_used=hints,
            )
            answer_event = event[2]
            self.truth.knows_after[answer_event.event_id] = state.knows
            if rapid:
                self.truth.rapid_guesses.add(answer_event.event_id)
            out.append(event)
            answered += 1
        close = now + (timedelta(minutes=30) if outcome == "timeout" else timedelta(seconds=rng.uniform(1.0, 8.0)))
        out.append(self._emit(run, close, SessionEnded, common, outcome=outcome, answers_count=answered))
        return out

    def _emit(
        self, run: _PupilRun, at: datetime, model: type[SimEvent], common: dict[str, Any], **fields: Any
    ) -> tuple[datetime, int, SimEvent]:
        at = at.replace(microsecond=at.microsecond - at.microsecond % 1000)  # milliseconds, as platforms send
        run.events += 1
        self._seq += 1
        source = f"{self.cohort.run_tag}.{run.pupil.student_id[:12]}.{run.events}"
        platform = common["platform"]
        event = model(
            event_id=make_event_id(platform, source), source_event_id=source, occurred_at=at, **common, **fields
        )
        return at, self._seq, event


_PRIMARY = frozenset({"CP", "CE1", "CE2", "CM1", "CM2"})


def _decline(pupil: SimPupil, day: date) -> float:
    """How far into their decline a disengaging pupil is on this day: 0 (not yet) to 1 (last day)."""
    if pupil.decline_start is None or pupil.dropout_date is None or day < pupil.decline_start:
        return 0.0
    span = max(1, (pupil.dropout_date - pupil.decline_start).days)
    return min(1.0, 0.2 + 0.8 * (day - pupil.decline_start).days / span)
