"""The cohort simulator: deterministic, on school days only, pupils who learn, drop-outs who stop."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.codec import decode_learning_event, encode
from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted
from vigie.core.errors import ConfigurationError
from vigie.core.settings import PrivacySettings
from vigie.producers.pseudonym import Pseudonymizer
from vigie.producers.simulator import GroundTruth, Simulation, SimulationConfig
from vigie.producers.simulator.output import paced, read_jsonl, write_jsonl

pytestmark = pytest.mark.unit

PRIVACY = PrivacySettings(academy_keys={"creteil": SecretStr("creteil-secret-key-0123")})
# Three academies, one per holiday zone (A, B, C), over the February holidays that differ by zone.
CONFIG = SimulationConfig(
    academies=("lyon", "lille", "creteil"),
    schools_per_academy=1,
    classes_per_school=2,
    students_per_class=12,
    start=date(2026, 1, 12),
    days=63,
    seed=7,
    dropout_share=0.2,
)


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, list]:
    sim = Simulation(CONFIG, PRIVACY)
    return sim, list(sim.events())


def _small(seed: int) -> list[bytes]:
    config = SimulationConfig(students_per_class=4, start=date(2025, 11, 17), days=10, seed=seed)
    return [encode(e) for e in Simulation(config, PRIVACY).events()]


def test_the_same_seed_gives_the_same_events_and_another_seed_others() -> None:
    first = _small(3)
    assert first, "a term-time fortnight gives activity"
    assert _small(3) == first
    assert _small(4) != first


def test_runs_agree_across_processes_whatever_the_hash_seed() -> None:
    script = (
        "import hashlib, datetime; from vigie.core.settings import PrivacySettings;"
        "from vigie.core.contract.codec import encode;"
        "from vigie.producers.simulator import Simulation, SimulationConfig;"
        "c = SimulationConfig(students_per_class=4, start=datetime.date(2025, 11, 17), days=10, seed=3);"
        "print(hashlib.sha256(b''.join(encode(e) for e in Simulation(c, PrivacySettings()).events())).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    mine = SimulationConfig(students_per_class=4, start=date(2025, 11, 17), days=10, seed=3)
    local = hashlib.sha256(b"".join(encode(e) for e in Simulation(mine, PrivacySettings()).events())).hexdigest()
    assert digests == {local}


def test_events_are_sorted_by_time_and_a_second_pass_repeats_the_first(run) -> None:
    sim, events = run
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert len({e.event_id for e in events}) == len(events), "event ids are unique"
    assert [e.event_id for e in sim.events()] == [e.event_id for e in events]


def test_activity_only_on_school_days_of_each_pupils_zone_in_school_hours_or_evening(run) -> None:
    sim, events = run
    zones_seen = set()
    for event in events:
        pupil = sim.truth.pupils[event.student_id]
        local = event.occurred_at.astimezone(ZoneInfo(pupil.timezone))
        assert is_school_day(local.date(), pupil.zone), (event, pupil.zone)  # type: ignore[arg-type]
        assert 8 <= local.hour < 22, local
        assert event.level == pupil.level and event.academy == pupil.academy and event.platform == pupil.platform
        zones_seen.add(pupil.zone)
    assert zones_seen == {"A", "B", "C"}
    # The zones' February holidays differ: some day is worked in one zone and off in another.
    days_by_zone = defaultdict(set)
    for event in events:
        days_by_zone[sim.truth.pupils[event.student_id].zone].add(event.occurred_at.date())
    assert days_by_zone["A"] != days_by_zone["C"]


def test_overseas_classes_work_in_their_own_school_hours() -> None:
    config = SimulationConfig(
        academies=("la-reunion", "guadeloupe"),
        schools_per_academy=1,
        classes_per_school=1,
        students_per_class=4,
        start=date(2025, 11, 17),
        days=5,
    )
    sim = Simulation(config, PRIVACY)
    events = list(sim.events())
    assert {sim.truth.pupils[e.student_id].timezone for e in events} == {"Indian/Reunion", "America/Guadeloupe"}
    for event in events:
        local = event.occurred_at.astimezone(ZoneInfo(sim.truth.pupils[event.student_id].timezone))
        assert 8 <= local.hour < 22
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)


def test_every_event_validates_against_the_contract_and_is_in_the_past(run) -> None:
    _, events = run
    now = datetime.now(UTC)
    for event in events:
        assert decode_learning_event(encode(event)) == event
        assert event.occurred_at < now


def test_no_raw_identifier_travels_and_each_academy_has_its_own_key(run) -> None:
    sim, events = run
    raw = sim.cohort.raw_identifiers()
    assert len(raw) > len(sim.cohort.pupils)
    blob = b"\n".join(encode(e) for e in events).decode()
    leaked = [r for r in raw if r in blob]
    assert leaked == []
    creteil = next(p for p in sim.cohort.pupils if p.school_class.academy == "creteil")
    lyon = next(p for p in sim.cohort.pupils if p.school_class.academy == "lyon")
    assert creteil.student_id == Pseudonymizer(b"creteil-secret-key-0123").student(creteil.raw_id)
    assert lyon.student_id == Pseudonymizer(PRIVACY.key_for("lyon")).student(lyon.raw_id)


def test_learning_curves_rise_with_practice(run) -> None:
    _, events = run
    opportunity: dict[tuple[str, str], int] = defaultdict(int)
    early, late = [], []
    for event in events:
        if isinstance(event, AnswerSubmitted):
            key = (event.student_id, event.skill_code)
            opportunity[key] += 1
            if opportunity[key] <= 2:
                early.append(event.correct)
            elif opportunity[key] >= 6:
                late.append(event.correct)
    assert len(early) > 100 and len(late) > 100
    assert sum(late) / len(late) > sum(early) / len(early) + 0.1


def test_the_truth_knows_every_answer_and_every_final_state(run) -> None:
    sim, events = run
    truth: GroundTruth = sim.truth
    answers = [e for e in events if isinstance(e, AnswerSubmitted)]
    assert truth.complete
    assert set(truth.knows_after) == {e.event_id for e in answers}
    assert truth.rapid_guesses <= set(truth.knows_after)
    practised = {(e.student_id, e.skill_code) for e in answers}
    assert practised <= set(truth.final_knows)
    knows = [truth.knows_after[e.event_id] for e in answers]
    correct_when_known = [e.correct for e, k in zip(answers, knows, strict=True) if k]
    correct_when_not = [e.correct for e, k in zip(answers, knows, strict=True) if not k]
    assert sum(correct_when_known) / len(correct_when_known) > 0.75 > sum(correct_when_not) / len(correct_when_not)
    assert truth.skills and all(0 < s.p_learn < 1 for s in truth.skills.values())


def test_the_configured_share_drops_out_and_is_silent_after_its_last_day(run) -> None:
    sim, events = run
    pupils = sim.truth.pupils
    dropouts = sim.truth.dropouts
    assert abs(len(dropouts) - CONFIG.dropout_share * len(pupils)) <= 1
    assert all(sim.start <= d <= sim.end for d in dropouts.values())
    last_day: dict[str, date] = {}
    for event in events:
        last_day[event.student_id] = event.occurred_at.date()
        dropout = pupils[event.student_id].dropout_date
        assert dropout is None or event.occurred_at.date() <= dropout
    assert all(last_day[s] == d for s, d in dropouts.items()), "the drop-out date is the last day of activity"
    stayers_active_late = [
        s for s, p in pupils.items() if not p.disengages and last_day.get(s, sim.start) > sim.end - timedelta(days=14)
    ]
    assert len(stayers_active_late) >= 0.9 * (len(pupils) - len(dropouts))


def test_sick_pupils_and_classes_that_skip_their_day_are_silent_without_dropping_out(run) -> None:
    sim, events = run
    pupils = sim.truth.pupils
    paris = ZoneInfo("Europe/Paris")
    assert any(p.sick_days for p in pupils.values() if not p.disengages)
    assert any(sim.truth.class_days_off.values())
    for event in events:
        local = event.occurred_at.astimezone(paris)
        pupil = pupils[event.student_id]
        assert local.date() not in pupil.sick_days
        if local.date() in sim.truth.class_days_off[pupil.class_id]:
            assert local.hour >= 17, "only homework on a day the class skips"


def test_drop_outs_show_precursors_before_they_stop(run) -> None:
    sim, events = run
    pupils = sim.truth.pupils
    stats = {"before": [0, 0, 0, 0], "decline": [0, 0, 0, 0]}  # sessions, abandoned, answers, rapid
    for event in events:
        pupil = pupils[event.student_id]
        if not pupil.disengages:
            continue
        phase = "decline" if event.occurred_at.date() >= pupil.decline_start else "before"
        if isinstance(event, SessionStarted):
            stats[phase][0] += 1
        elif isinstance(event, SessionEnded) and event.outcome == "abandoned":
            stats[phase][1] += 1
        elif isinstance(event, AnswerSubmitted):
            stats[phase][2] += 1
            stats[phase][3] += event.event_id in sim.truth.rapid_guesses
    before, decline = stats["before"], stats["decline"]
    assert decline[1] / decline[0] > 2 * before[1] / before[0], "more abandoned sessions"
    assert decline[3] / decline[2] > 3 * max(before[3] / before[2], 0.01), "more rapid guessing"
    assert any(p.bad_week_start for p in pupils.values() if not p.disengages), "noisy pupils exist"


def test_the_truth_survives_a_json_round_trip(run, tmp_path) -> None:
    sim, _ = run
    sim.truth.save(tmp_path / "truth.json")
    assert GroundTruth.load(tmp_path / "truth.json") == sim.truth


def test_a_replay_file_gives_back_the_same_events(tmp_path) -> None:
    config = SimulationConfig(students_per_class=3, start=date(2025, 11, 17), days=5)
    events = list(Simulation(config, PRIVACY).events())
    path = tmp_path / "events.jsonl"
    assert write_jsonl(events, path) == len(events)
    assert list(read_jsonl(path)) == events


def test_pacing_holds_the_rate_without_sleeping_for_real() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    assert list(paced(range(5), 10.0, clock=lambda: now[0], sleep=sleep)) == [0, 1, 2, 3, 4]
    assert now[0] == pytest.approx(0.4)
    assert list(paced(range(3), None, sleep=sleep)) == [0, 1, 2]


def test_the_window_never_reaches_today_and_bad_configs_say_what_to_fix() -> None:
    today = date(2026, 3, 10)
    first, last = SimulationConfig(start=date(2026, 3, 5), days=30).window(today)
    assert (first, last) == (date(2026, 3, 5), date(2026, 3, 9))
    assert SimulationConfig(days=7).window(today) == (date(2026, 3, 3), date(2026, 3, 9))
    with pytest.raises(ConfigurationError, match="academies"):
        SimulationConfig(academies=("atlantis",))
    with pytest.raises(ConfigurationError, match="future"):
        SimulationConfig(start=date(2026, 3, 12)).window(today)


def test_the_default_cohort_is_a_small_demo_on_three_platforms() -> None:
    sim = Simulation(SimulationConfig(start=date(2025, 11, 17), days=7), PRIVACY)
    events = list(sim.events())
    assert 500 < len(events) < 10_000
    assert {e.platform for e in events} == {"fondamentaux", "mia-seconde", "elea"}
    assert all(e.platform == "mia-seconde" for e in events if e.level == "2nde")
