"""How disengagement unfolds before a real withdrawal (OULAD), to judge the simulator's drop-out precursor.

    python -m bench.precursors [--activity ../shared/data/oulad_dev_activity.csv.gz]
        [--truth ../shared/data/oulad_dev_truth.csv.gz] [--json]

Reported per presentation (the three of the dev files, so that no single log decides). The log holds
assessment submissions only, so time is measured in *assessment slots* of the course: the weeks where at
least ``SLOT_SHARE`` of the course's non-withdrawers submit (with the week after, for late submissions;
a slot is about one assessment, every 2–6 weeks). For each enrolment and slot: submitted or not, and the
score against the course's non-withdrawers on that slot (z-score). A slot is **weak** for a student when
they miss it, or when their score falls at least ``SCORE_DROP`` standard deviations below their own mean
z over their earlier slots (with at least two earlier scored slots).

- *gap*: days from the last submission to the registered withdrawal;
- *profile*: by slots before the withdrawer's last submitted slot, the share submitting and the mean z,
  against the non-withdrawers of the same course who submitted on that same slot (comparable pupils,
  anchored the same way);
- *decline*: consecutive weak slots ending at the last submitted slot (0 = the last submission was
  ordinary: no visible decline before the silence), in slots and in days;
- *bad spells*: runs of weak slots of non-withdrawers that end with an ordinary slot (they came back),
  with their length, and how many non-withdrawers have one.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.stream.signals.real_logs import ActiveDay, Enrolment, read_activity, read_truth

DATA = Path("../shared/data")  # default place of the OULAD dev files, from the repository's folder
SLOT_SHARE = 0.3  # a week is an assessment week when this share of the course's non-withdrawers submit
WINDOW = 28  # days: windows before the registered withdrawal
SCORE_DROP = 1.0  # a weak score: this many peer SDs below the student's own earlier mean z


@dataclass(frozen=True, slots=True)
class Slot:
    first_week: int
    last_week: int  # inclusive, one week after the last busy week (late submissions)
    start_day: float


@dataclass(slots=True)
class Course:
    slots: list[Slot]
    #: per student: per slot, (submitted, z or None)
    marks: dict[str, list[tuple[bool, float | None]]]
    last_day: dict[str, float]
    days_of: dict[str, list[float]]


def _week(day: float, start: float) -> int:
    return math.floor((day - start) / 7)


def _slots(stayers: list[str], by_student: dict[str, list[ActiveDay]], start: float, end: float) -> list[Slot]:
    weeks = _week(end, start) + 2
    busy = [0] * weeks
    for s in stayers:
        for w in {_week(a.day, start) for a in by_student[s] if 0 <= _week(a.day, start) < weeks}:
            busy[w] += 1
    hot = [w for w in range(weeks) if stayers and busy[w] / len(stayers) >= SLOT_SHARE]
    slots: list[Slot] = []
    for w in hot:
        if slots and w <= slots[-1].last_week:
            slots[-1] = Slot(slots[-1].first_week, w + 1, slots[-1].start_day)
        else:
            slots.append(Slot(w, w + 1, start + 7 * w))
    return slots


def _course(members: list[Enrolment], by_student: dict[str, list[ActiveDay]]) -> Course:
    start, end = members[0].start_day, members[0].end_day
    active = [e for e in members if by_student.get(e.student)]
    stayers = [e.student for e in active if not e.dropped_out]
    slots = _slots(stayers, by_student, start, end)
    index = {w: i for i, s in enumerate(slots) for w in range(s.first_week, s.last_week + 1)}
    raw: dict[str, list[tuple[bool, float | None]]] = {}
    for e in active:
        per: list[list[float]] = [[] for _ in slots]
        hit = [False] * len(slots)
        for a in by_student[e.student]:
            i = index.get(_week(a.day, start))
            if i is not None:
                hit[i] = True
                if a.score is not None:
                    per[i].append(a.score)
        raw[e.student] = [(hit[i], statistics.fmean(per[i]) if per[i] else None) for i in range(len(slots))]
    marks: dict[str, list[tuple[bool, float | None]]] = {s: [] for s in raw}
    for i in range(len(slots)):
        peer = [v for s in stayers if (v := raw[s][i][1]) is not None]
        mean = statistics.fmean(peer) if len(peer) >= 5 else None
        sd = statistics.pstdev(peer) if len(peer) >= 5 else 0.0
        for s, row in raw.items():
            done, score = row[i]
            z = None if score is None or mean is None or sd <= 0 else (score - mean) / sd
            marks[s].append((done, z))
    return Course(
        slots,
        marks,
        {s: max(a.day for a in by_student[s]) for s in raw},
        {s: sorted(a.day for a in by_student[s]) for s in raw},
    )


def _weak(marks: list[tuple[bool, float | None]]) -> list[bool | None]:
    """Per slot: weak (missed, or a score well below the student's own earlier mean), ordinary, or None
    before the student's first submission (no history yet)."""
    out: list[bool | None] = []
    earlier: list[float] = []
    seen = False
    for done, z in marks:
        if not seen and not done:
            out.append(None)
            continue
        seen = True
        if not done:
            out.append(True)
            continue
        low = z is not None and len(earlier) >= 2 and z <= statistics.fmean(earlier) - SCORE_DROP
        out.append(low)
        if z is not None:
            earlier.append(z)
    return out


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p25": None, "median": None, "p75": None, "p90": None}
    v = sorted(values)

    def q(p: float) -> float:
        return round(v[min(len(v) - 1, int(p * len(v)))], 1)

    return {"n": len(v), "p25": q(0.25), "median": q(0.5), "p75": q(0.75), "p90": q(0.9)}


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def analyse(truth: dict[str, Enrolment], activity: list[ActiveDay]) -> dict[str, Any]:
    """The figures of the module docstring, per presentation."""
    by_student: dict[str, list[ActiveDay]] = defaultdict(list)
    for a in activity:
        by_student[a.student].append(a)
    courses: dict[str, list[Enrolment]] = defaultdict(list)
    for e in truth.values():
        courses[e.course].append(e)
    per_presentation: dict[str, list[tuple[list[Enrolment], Course]]] = defaultdict(list)
    for name, members in sorted(courses.items()):
        per_presentation[name.rsplit("_", 1)[-1]].append((members, _course(members, by_student)))
    return {p: _presentation(items) for p, items in sorted(per_presentation.items())}


def _presentation(items: list[tuple[list[Enrolment], Course]]) -> dict[str, Any]:
    gaps: list[float] = []
    decline_slots: list[float] = []
    decline_days: list[float] = []
    decline_missed: list[bool] = []  # the decline includes a missed slot (a silence), not only low scores
    history: list[bool] = []
    profile: dict[int, dict[str, list[Any]]] = {k: {"w_done": [], "w_z": [], "s_done": [], "s_z": []} for k in range(4)}
    spells: list[float] = []
    spell_days: list[float] = []
    stayer_has_spell: list[bool] = []
    stayer_has_silence: list[bool] = []
    withdrawers = stayers = 0
    # per 28-day window before the withdrawal: did the withdrawer submit; share of the course's stayers who did
    drop_w: dict[int, list[bool]] = {k: [] for k in range(1, 5)}
    drop_s: dict[int, list[float]] = {k: [] for k in range(1, 5)}
    for members, course in items:
        stay_days = [course.days_of[e.student] for e in members if not e.dropped_out and e.student in course.days_of]
        for e in members:
            if not e.dropped_out or e.dropout_day is None or e.student not in course.days_of:
                continue
            for k in drop_w:
                lo, hi = e.dropout_day - WINDOW * k, e.dropout_day - WINDOW * (k - 1)
                if lo < e.start_day:
                    continue
                drop_w[k].append(any(lo <= d < hi for d in course.days_of[e.student]))
                drop_s[k].append(_share([any(lo <= d < hi for d in days) for days in stay_days]) or 0.0)
        for e in members:
            if e.student not in course.marks:
                continue
            marks = course.marks[e.student]
            weak = _weak(marks)
            done = [i for i, (d, _) in enumerate(marks) if d]
            if e.dropped_out:
                withdrawers += 1
                if e.dropout_day is not None:
                    gaps.append(e.dropout_day - course.last_day[e.student])
                if not done:
                    continue
                last = done[-1]
                history.append(len(done) >= 3)
                if len(done) < 3:
                    continue  # too little history to tell a decline from the student's usual
                k = 0
                while last - k >= 0 and weak[last - k]:
                    k += 1
                decline_slots.append(k)
                if k:
                    # the decline began between the last ordinary submission and the first weak slot
                    onset = course.slots[last - k + 1].start_day
                    before = [d for d in course.days_of[e.student] if d < onset]
                    decline_days.append(course.last_day[e.student] - (before[-1] if before else onset))
                decline_missed.append(any(not marks[i][0] for i in range(last - k + 1, last + 1)))
                for back in range(4):
                    i = last - back
                    if i < 0:
                        continue
                    profile[back]["w_done"].append(marks[i][0])
                    if marks[i][1] is not None:
                        profile[back]["w_z"].append(marks[i][1])
                    # comparable non-withdrawers: same course, submitted on the same slot `last`
                    for other in members:
                        o = course.marks.get(other.student)
                        if other.dropped_out or o is None or not o[last][0]:
                            continue
                        profile[back]["s_done"].append(o[i][0])
                        if o[i][1] is not None:
                            profile[back]["s_z"].append(o[i][1])
            else:
                stayers += 1
                run = 0
                run_start = 0
                found = silence = False
                run_missed = False
                for i, w in enumerate(weak):
                    if w is None:
                        continue
                    if w:
                        if run == 0:
                            run_start, run_missed = i, False
                        run += 1
                        run_missed = run_missed or not marks[i][0]
                    elif run:
                        spells.append(run)
                        spell_days.append(course.slots[i].start_day - course.slots[run_start].start_day)
                        found = True
                        silence = silence or run_missed
                        run = 0
                stayer_has_spell.append(found)
                stayer_has_silence.append(silence)
    table = []
    for back in range(4):
        p = profile[back]
        table.append(
            {
                "slots_before_last": back,
                "withdrawers_submitted": _share(p["w_done"]),
                "withdrawers_mean_z": _mean(p["w_z"]),
                "comparable_stayers_submitted": _share(p["s_done"]),
                "comparable_stayers_mean_z": _mean(p["s_z"]),
            }
        )
    windows = [
        {
            "days_before_withdrawal": f"[{-WINDOW * k}, {-WINDOW * (k - 1)})",
            "withdrawers_submitted": _share(drop_w[k]),
            "same_course_stayers_submitted": _mean(drop_s[k]),
        }
        for k in sorted(drop_w)
    ]
    slot_counts = {str(k): sum(1 for v in decline_slots if v == k) for k in range(3)}
    slot_counts["3+"] = sum(1 for v in decline_slots if v >= 3)
    spacing = [b.start_day - a.start_day for _, c in items for a, b in zip(c.slots, c.slots[1:], strict=False)]
    return {
        "courses": len(items),
        "withdrawers_with_activity": withdrawers,
        "stayers_with_activity": stayers,
        "slot_spacing_days": _quantiles(spacing),
        "gap_last_submission_to_withdrawal_days": _quantiles(gaps),
        "withdrawers_with_3_submitted_slots": _share(history),
        "before_withdrawal": windows,
        "profile": table,
        "decline": {
            "withdrawers": len(decline_slots),
            "weak_slots_before_stop": slot_counts,
            "no_visible_decline": _share([v == 0 for v in decline_slots]),
            # days from the last ordinary submission to the last one: an upper bound of the decline's length
            "decline_days_when_visible": _quantiles(decline_days),
            "visible_decline_with_a_missed_slot": _share(
                [m for m, k in zip(decline_missed, decline_slots, strict=True) if k]
            ),
        },
        "bad_spells_of_stayers": {
            "stayers_with_a_spell": _share(stayer_has_spell),
            "stayers_with_a_missed_slot_then_back": _share(stayer_has_silence),
            "spell_slots": _quantiles(spells),
            "spell_days": _quantiles(spell_days),
        },
    }


def _print(result: dict[str, Any]) -> None:
    for name, r in result.items():
        d, b, g = r["decline"], r["bad_spells_of_stayers"], r["gap_last_submission_to_withdrawal_days"]
        print(
            f"== presentation {name}: {r['courses']} courses, {r['withdrawers_with_activity']} withdrawers and "
            f"{r['stayers_with_activity']} non-withdrawers with a submission; slots every "
            f"{r['slot_spacing_days']['median']} days (median)"
        )
        print(
            f"gap last submission -> withdrawal (days): p25 {g['p25']}, median {g['median']}, p75 {g['p75']}, "
            f"p90 {g['p90']}"
        )
        print("days before the withdrawal | withdrawers who submitted | stayers of the same course, same days")
        for row in r["before_withdrawal"]:
            print(
                f"  {row['days_before_withdrawal']} | {row['withdrawers_submitted']} | "
                f"{row['same_course_stayers_submitted']}"
            )
        print(f"withdrawers with >= 3 submitted slots: {r['withdrawers_with_3_submitted_slots']}")
        print("slots before the last submitted | withdrawers submitted | their z | comparable stayers submitted | z")
        for row in r["profile"]:
            print(
                f"  {row['slots_before_last']} | {row['withdrawers_submitted']} | {row['withdrawers_mean_z']} | "
                f"{row['comparable_stayers_submitted']} | {row['comparable_stayers_mean_z']}"
            )
        print(
            f"decline ({d['withdrawers']} withdrawers with >= 3 slots): weak slots ending at the last submitted "
            f"{d['weak_slots_before_stop']}; no visible decline {d['no_visible_decline']}; when visible, the last "
            f"ordinary submission was {d['decline_days_when_visible']} days before the last one, with a missed "
            f"slot in {d['visible_decline_with_a_missed_slot']}"
        )
        print(
            f"bad spells of non-withdrawers: {b['stayers_with_a_spell']} have one (with a missed slot: "
            f"{b['stayers_with_a_missed_slot_then_back']}); length slots {b['spell_slots']}, days {b['spell_days']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activity", type=Path, default=DATA / "oulad_dev_activity.csv.gz")
    parser.add_argument("--truth", type=Path, default=DATA / "oulad_dev_truth.csv.gz")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.activity.exists() or not args.truth.exists():
        # the project builds and tests without the shared data: `python -m bench all` skips this analysis
        print(f"skipped: {args.activity} or {args.truth} not found (give --activity and --truth)", file=sys.stderr)
        return 0
    truth = read_truth(args.truth)
    result = analyse(truth, read_activity(args.activity, truth, args.truth))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
