"""``vigie evaluate signals``: the signals against known drop-outs, next to the 7-day-inactivity rule.

The simulator's pupils carry the truth (``disengages``, ``dropout_date``). Its events go, in time
order and in batches, through exactly the worker's logic (``SignalEngine``, the same class the faust
processor runs), with the timer ticked after every batch: the ticks are driven by event time, as in
the worker. No Kafka is needed.

Definitions (pupil level, over the whole simulated period):

- A pupil is *flagged by Vigie* on the day the calibrated dropout risk signal (``dropout_risk``; not
  the rule indicators, not wheel-spinning, a learning difficulty) first reaches severity ``medium`` or
  ``high`` (status raised or changed). ``rules_flags`` scores the former rule signals the same way.
- Daily alerts (``risk_training.daily_alerts``): per school day, the pupils on the list (an open
  ``dropout_risk`` of medium or more under the model's alert policy, ``risk_policy``); alert precision,
  recall at a lead of 5 school days, median lead, AUC.
- The *baseline* flags a pupil once 7 calendar days pass without activity (an answer or a session
  start): last active on day ``L`` with nothing on ``L+1 .. L+7`` → flagged on day ``L+8``.
- A *positive* is a pupil who disengages and has a drop-out date. For a positive, only flags from
  ``window`` school days before the drop-out date onwards count (an alarm months earlier is not a
  warning of this drop-out); for the others, any flag counts.
- True positive: a positive with a counted flag. False positive: a flagged pupil who never drops
  out. False negative: a positive without a counted flag. Precision = TP / (TP + FP),
  recall = TP / positives.
- Lead time of a true positive: school days of the pupil's zone from the first counted flag to
  the drop-out date (positive: before; negative: the flag came after the drop-out). We report the
  median over true positives.
- Share at risk of a class: pupils with an open dropout signal of severity ``medium`` or more at the
  end of the run, divided by the pupils seen in the class; computed from the emitted changes alone,
  as the warehouse's ``v_school_at_risk`` view does from the signals table. Its trend: the same share
  7 days before the end.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from vigie.core.contract.calendar import school_days_between
from vigie.core.contract.events import AnswerSubmitted, LearningEvent, SessionStarted, Severity, SignalChanged
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.signals.risk_model import RiskModel
from vigie.stream.signals.risk_training import DailyAlerts, Disengagement, daily_alerts
from vigie.stream.signals.rules import DROPOUT_SIGNALS, RANK, RISK_SIGNAL, SignalRules, counts_as_at_risk

BASELINE_DAYS = 7


#: What the evaluation needs to know of a pupil: the same as the labels (the simulator's ``PupilTruth`` is one).
DisengagementTruth = Disengagement


@dataclass(frozen=True, slots=True)
class Scores:
    flagged: int
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    lead_days_median: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "lead_days_median": self.lead_days_median,
            "flagged": self.flagged,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
        }


@dataclass(frozen=True, slots=True)
class ClassRisk:
    academy: str
    school_uai: str
    class_id: str
    pupils: int
    at_risk: int
    at_risk_week_before: int = 0  # the same count 7 days before the end: the trend

    @property
    def share(self) -> float:
        return self.at_risk / self.pupils if self.pupils else 0.0


@dataclass
class Evaluation:
    vigie: Scores
    baseline: Scores
    classes: list[ClassRisk]
    events: int
    changes: int
    by_type: dict[str, int] = field(default_factory=dict)
    rules: Scores | None = None
    daily: DailyAlerts | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "vigie": self.vigie.as_json(),
            "baseline": self.baseline.as_json(),
            "rules": self.rules.as_json() if self.rules else None,
            "daily": self.daily.as_json() if self.daily else None,
            "events": self.events,
            "signal_changes": self.changes,
            "raised_by_type": self.by_type,
            "classes": [
                {
                    "academy": c.academy,
                    "school_uai": c.school_uai,
                    "class_id": c.class_id,
                    "pupils": c.pupils,
                    "at_risk": c.at_risk,
                    "share_at_risk": round(c.share, 4),
                    "share_at_risk_week_before": round(c.at_risk_week_before / c.pupils, 4) if c.pupils else 0.0,
                }
                for c in self.classes
            ],
        }


def batches(events: Iterable[LearningEvent], size: int) -> Iterator[list[LearningEvent]]:
    batch: list[LearningEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def first_counted(
    flags: Mapping[str, list[date]], truth: Mapping[str, DisengagementTruth], window: int
) -> dict[str, date]:
    """Each pupil's first counted flag (for a positive: not more than ``window`` school days before the drop-out)."""
    first: dict[str, date] = {}
    for pupil, days in flags.items():
        known = truth.get(pupil)
        drop = known.dropout_date if known is not None and known.disengages else None
        for day in sorted(days):
            if drop is None or known is None or school_days_between(day, drop, known.zone) <= window:
                first[pupil] = day
                break
    return first


def score(flags: Mapping[str, list[date]], truth: Mapping[str, DisengagementTruth], window: int) -> Scores:
    first = first_counted(flags, truth, window)
    tp = fp = fn = 0
    leads: list[int] = []
    for pupil, known in truth.items():
        flag = first.get(pupil)
        if known.disengages and known.dropout_date is not None:
            if flag is None:
                fn += 1
                continue
            drop = known.dropout_date
            tp += 1
            lead = (
                school_days_between(flag, drop, known.zone)
                if flag <= drop
                else -school_days_between(drop, flag, known.zone)
            )
            leads.append(lead)
        elif flag is not None:
            fp += 1
    flagged = tp + fp
    return Scores(
        flagged,
        tp,
        fp,
        fn,
        precision=tp / flagged if flagged else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        lead_days_median=float(statistics.median(leads)) if leads else None,
    )


def vigie_flags(
    changes: Iterable[SignalChanged], types: frozenset[str] = frozenset({RISK_SIGNAL})
) -> dict[str, list[date]]:
    """Days on which a signal of ``types`` reached medium or more (raised at, or changed to), per pupil."""
    flags: dict[str, list[date]] = defaultdict(list)
    for change in changes:
        if change.signal_type in types and RANK[change.severity] >= RANK["medium"]:
            flags[change.student_id].append(change.occurred_at.date())
    return flags


def baseline_flags(active_days: Mapping[str, set[date]], end: date) -> dict[str, list[date]]:
    """The 7-day rule: a flag on each day that follows 7 calendar days without activity (up to ``end``)."""
    flags: dict[str, list[date]] = defaultdict(list)
    for pupil, days in active_days.items():
        ordered = sorted(days)
        for here, after in zip(ordered, [*ordered[1:], None], strict=True):
            flag_day = here + timedelta(days=BASELINE_DAYS + 1)
            if (after is None or after >= flag_day) and flag_day <= end:
                flags[pupil].append(flag_day)
    return flags


def class_risk(
    changes: Iterable[SignalChanged], members: Mapping[str, tuple[str, str, str]], until: date | None = None
) -> list[ClassRisk]:
    """Share of each class's pupils holding an open medium+ dropout signal at the end of day ``until``
    (default: after the last change), from the emitted changes alone."""
    open_severity: dict[tuple[str, str], Severity | None] = {}
    for change in changes:
        if until is not None and change.occurred_at.date() > until:
            continue
        open_severity[(change.student_id, change.signal_id.hex)] = (
            change.severity if counts_as_at_risk(change.signal_type, change.severity) else None
        )
    risky = {pupil for (pupil, _), severity in open_severity.items() if severity is not None}
    per_class: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for pupil, where in members.items():
        per_class[where].append(pupil)
    return [
        ClassRisk(academy, uai, class_id, len(pupils), sum(p in risky for p in pupils))
        for (academy, uai, class_id), pupils in sorted(per_class.items())
    ]


def evaluate(
    events: Iterable[LearningEvent],
    truth: Mapping[str, DisengagementTruth],
    *,
    partitions: int = 6,
    batch_size: int = 500,
    window: int = 10,
    rules: SignalRules | None = None,
    risk_model: RiskModel | None = None,
) -> Evaluation:
    """Run the events through the signals engine (batches + event-time ticks) and score both methods."""
    engine = SignalEngine({}, partitions=partitions, rules=rules, risk_model=risk_model)
    engine.risk_log = []
    changes: list[SignalChanged] = []
    active: dict[str, set[date]] = defaultdict(set)
    members: dict[str, tuple[str, str, str]] = {}
    last_day: date | None = None
    for batch in batches(events, batch_size):
        for event in batch:
            if isinstance(event, AnswerSubmitted | SessionStarted):
                active[event.student_id].add(event.occurred_at.date())
                members[event.student_id] = (event.academy, event.school_uai, event.class_id)
            last_day = max(last_day or event.occurred_at.date(), event.occurred_at.date())
        changes += engine.process(batch)
        changes += engine.tick()
    end = last_day or date.min
    by_type: dict[str, int] = defaultdict(int)
    for change in changes:
        if change.status == "raised":
            by_type[change.signal_type] += 1
    return Evaluation(
        vigie=score(vigie_flags(changes), truth, window),
        baseline=score(baseline_flags(active, end), truth, window),
        rules=score(vigie_flags(changes, DROPOUT_SIGNALS), truth, window),
        daily=daily_alerts(engine.risk_log, truth, engine.risk_model)
        if engine.risk_model is not None and truth
        else None,
        classes=[
            replace(now, at_risk_week_before=before.at_risk)
            for now, before in zip(
                class_risk(changes, members), class_risk(changes, members, end - timedelta(days=7)), strict=True
            )
        ],
        events=engine.events,
        changes=len(changes),
        by_type=dict(by_type),
    )
