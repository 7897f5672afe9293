"""bench.precursors on a tiny course whose story is known: one withdrawer stops after an ordinary
submission, one after a failed one, one stayer misses an assessment and comes back."""

from __future__ import annotations

from bench.precursors import analyse
from vigie.stream.signals.real_logs import ActiveDay, Enrolment

COURSE = "AAA_2013J"
DUE = (20, 50, 80, 110, 140, 170)  # assessment days of the course


def _enrol(student: str, dropout_day: float | None = None) -> Enrolment:
    return Enrolment(student, dropout_day is not None, dropout_day, COURSE, 0.0, 200.0)


def _submit(student: str, day: float, score: float) -> ActiveDay:
    return ActiveDay(student, day, 1, int(score >= 40), score)


def _log() -> tuple[dict[str, Enrolment], list[ActiveDay]]:
    truth: dict[str, Enrolment] = {}
    activity: list[ActiveDay] = []
    for i in range(10):
        s = f"{COURSE}_s{i}"
        truth[s] = _enrol(s)
        for j, day in enumerate(DUE):
            if i == 0 and j == 2:
                continue  # the stayer who misses the third assessment, then comes back
            activity.append(_submit(s, day, 55.0 + 3 * i))  # each stayer at their own steady level
    quiet, failing = f"{COURSE}_quiet", f"{COURSE}_failing"
    truth[quiet] = _enrol(quiet, dropout_day=150.0)
    activity += [_submit(quiet, day, 70.0) for day in DUE[:4]]  # ordinary to the end, then gone
    truth[failing] = _enrol(failing, dropout_day=160.0)
    activity += [_submit(failing, day, 70.0) for day in DUE[:3]] + [_submit(failing, DUE[3], 10.0)]
    return truth, activity


def test_declines_and_spells_of_a_known_course() -> None:
    truth, activity = _log()
    result = analyse(truth, activity)["2013J"]
    assert result["withdrawers_with_activity"] == 2 and result["stayers_with_activity"] == 10
    gaps = result["gap_last_submission_to_withdrawal_days"]
    assert gaps["n"] == 2 and sorted([gaps["p25"], gaps["p90"]]) == [40.0, 50.0]
    decline = result["decline"]
    assert decline["weak_slots_before_stop"] == {"0": 1, "1": 1, "2": 0, "3+": 0}
    assert decline["no_visible_decline"] == 0.5
    assert decline["decline_days_when_visible"]["median"] == 30.0  # last ordinary submission 80, last 110
    spells = result["bad_spells_of_stayers"]
    assert spells["stayers_with_a_spell"] == 0.1 and spells["stayers_with_a_missed_slot_then_back"] == 0.1
    assert spells["spell_slots"]["median"] == 1
    last = result["profile"][0]
    assert last["withdrawers_submitted"] == 1.0 and last["withdrawers_mean_z"] < -1.0
