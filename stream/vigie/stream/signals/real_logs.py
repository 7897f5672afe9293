"""Real withdrawal logs in the common format, read strictly, and replayed into risk feature rows.

Files (CSV, optionally gzipped):
- activity: ``student,day,events,correct,score`` — one row per active day (or per submission);
  ``day`` = days from the course start (may be negative); ``correct`` and ``score`` may be empty.
- truth: ``student,dropped_out,dropout_day,course,start_day,end_day`` — one row per enrolment.

Protocol (``vigie evaluate signals --activity … --truth …``): checkpoints every 7 days from
``start_day + 7`` to ``end_day``; at a checkpoint, every enrolment with at least one activity so far
and no ``dropout_day`` at or before it; a positive is one whose ``dropout_day`` falls in the next
``horizon`` days. A truth file whose withdrawals carry no ``dropout_day`` (the label refers to after
``end_day``) is judged once, at ``end_day``. Every day counts (no calendar in these logs).

The features are the stream's own (``RiskState``, ``ClassActivity``: the class is the course), fed one
active day at a time in day order, so what is measured here is what the worker would compute.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vigie.core.errors import UsageError
from vigie.stream.signals.risk_features import ClassActivity, RiskState

ACTIVITY_COLUMNS = ("student", "day", "events", "correct", "score")
TRUTH_COLUMNS = ("student", "dropped_out", "dropout_day", "course", "start_day", "end_day")
CHECKPOINT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Enrolment:
    student: str
    dropped_out: bool
    dropout_day: float | None
    course: str
    start_day: float
    end_day: float


@dataclass(frozen=True, slots=True)
class ActiveDay:
    student: str
    day: float
    events: int
    correct: int | None
    score: float | None


@dataclass(slots=True)
class Rows:
    """Feature rows at checkpoints: ``x`` features, ``y`` label, and what scoring needs beside them."""

    x: list[list[float]] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    student: list[str] = field(default_factory=list)
    course: list[str] = field(default_factory=list)
    checkpoint: list[float] = field(default_factory=list)
    since: list[float] = field(default_factory=list)  # days since the last activity (the baseline's input)
    lead: list[float | None] = field(default_factory=list)  # positive: days from checkpoint to dropout_day
    judged_at_end: bool = False


def _open(path: Path) -> io.TextIOBase:
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
        return path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{path}: cannot open ({exc.strerror or exc})") from exc


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}, line 1: missing column(s) {', '.join(missing)} (expected {','.join(columns)})")
        for row in reader:
            yield reader.line_num, row


def _number(path: Path, line: int, name: str, text: str | None, *, optional: bool = False) -> float | None:
    text = (text or "").strip()
    if not text:
        if optional:
            return None
        raise UsageError(f"{path}, line {line}: {name} is empty")
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{path}, line {line}: {name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{path}, line {line}: {name} {text!r} is not a finite number")
    return value


def read_truth(path: Path) -> dict[str, Enrolment]:
    out: dict[str, Enrolment] = {}
    for line, row in _rows(path, TRUTH_COLUMNS):
        student = row["student"].strip()
        if not student:
            raise UsageError(f"{path}, line {line}: student is empty")
        if student in out:
            raise UsageError(f"{path}, line {line}: student {student!r} appears twice")
        dropped = _number(path, line, "dropped_out", row["dropped_out"])
        if dropped not in (0.0, 1.0):
            raise UsageError(f"{path}, line {line}: dropped_out must be 0 or 1, not {row['dropped_out']!r}")
        start = _number(path, line, "start_day", row["start_day"])
        end = _number(path, line, "end_day", row["end_day"])
        assert start is not None and end is not None
        if end < start:
            raise UsageError(f"{path}, line {line}: end_day {end:g} is before start_day {start:g}")
        out[student] = Enrolment(
            student,
            dropped == 1.0,
            _number(path, line, "dropout_day", row["dropout_day"], optional=True),
            row["course"].strip() or "course",
            start,
            end,
        )
    if not out:
        raise UsageError(f"{path}: no enrolment")
    return out


def read_activity(path: Path, truth: dict[str, Enrolment], truth_path: Path) -> list[ActiveDay]:
    out: list[ActiveDay] = []
    for line, row in _rows(path, ACTIVITY_COLUMNS):
        student = row["student"].strip()
        if student not in truth:
            raise UsageError(f"{path}, line {line}: student {student!r} is not in {truth_path}")
        day = _number(path, line, "day", row["day"])
        events = _number(path, line, "events", row["events"], optional=True)
        correct = _number(path, line, "correct", row["correct"], optional=True)
        score = _number(path, line, "score", row["score"], optional=True)
        assert day is not None
        n = 1 if events is None else int(events)
        if n < 0 or (correct is not None and not 0 <= correct <= n):
            raise UsageError(f"{path}, line {line}: events must be >= 0 and correct within 0..events")
        out.append(ActiveDay(student, day, n, None if correct is None else int(correct), score))
    return out


def judged_at_end(truth: dict[str, Enrolment]) -> bool:
    """True when no withdrawal carries a dropout day: the label refers to after ``end_day``."""
    return not any(e.dropped_out and e.dropout_day is not None for e in truth.values())


def feature_rows(truth: dict[str, Enrolment], activity: list[ActiveDay], horizon: int) -> Rows:
    """Replay each course's activity in day order and take every at-risk enrolment's features at each checkpoint."""
    rows = Rows(judged_at_end=judged_at_end(truth))
    by_course: dict[str, list[ActiveDay]] = defaultdict(list)
    for a in activity:
        by_course[truth[a.student].course].append(a)
    members: dict[str, list[Enrolment]] = defaultdict(list)
    for e in truth.values():
        members[e.course].append(e)
    for course in sorted(members):
        days = sorted(by_course.get(course, []), key=lambda a: (a.day, a.student))
        start = min(e.start_day for e in members[course])
        end = max(e.end_day for e in members[course])
        checkpoints = (
            [end]
            if rows.judged_at_end
            else [start + k * CHECKPOINT_DAYS for k in range(1, int((end - start) // CHECKPOINT_DAYS) + 1)]
        )
        classes = ClassActivity()
        states: dict[str, RiskState] = {}
        i = 0
        for checkpoint in checkpoints:
            while i < len(days) and days[i].day <= checkpoint:
                a = days[i]
                classes.observe(course, a.student, a.day)
                states.setdefault(a.student, RiskState()).activity(
                    a.day, a.events, a.correct, a.score, classes.cumulated_before(course, a.day)
                )
                i += 1
            cum = classes.cumulated_before(course, checkpoint + 1)
            recent = classes.recent_through(course, checkpoint)
            for student in sorted(states):
                e, state = truth[student], states[student]
                if not rows.judged_at_end and e.dropout_day is not None and e.dropout_day <= checkpoint:
                    continue
                if rows.judged_at_end:
                    positive = e.dropped_out
                else:
                    positive = e.dropout_day is not None and checkpoint < e.dropout_day <= checkpoint + horizon
                rows.x.append(state.features(checkpoint, cum, e.end_day - checkpoint, recent))
                rows.y.append(int(positive))
                rows.student.append(student)
                rows.course.append(course)
                rows.checkpoint.append(checkpoint)
                rows.since.append(checkpoint - state.last)
                rows.lead.append(e.dropout_day - checkpoint if positive and e.dropout_day is not None else None)
    return rows
