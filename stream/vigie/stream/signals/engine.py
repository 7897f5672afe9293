"""The signals processor's logic, without Kafka: the faust agent and ``vigie evaluate signals`` both run it.

``SignalEngine.process(events)`` applies a batch of events in order to the pupils' states (kept in
any mutable mapping: a faust table in the worker, a dict in the evaluation) and returns the
``SignalChanged`` events to emit: only when a signal appears, changes severity or clears.

Event time, not wall-clock time. Each partition has a watermark (the latest ``occurred_at`` seen
on it). Inactivity is evaluated at day boundaries: at boundary ``B`` (00:00 UTC of day ``B``) a
pupil has missed the school days of their zone in ``(last active day, B - 1]``. ``tick()`` (the faust
timer) evaluates every pupil of a partition whose watermark crossed a day boundary since the last
tick; before applying an event, the pupil is first brought up to its partition's watermark the same
way. Each boundary's evaluation uses only the pupil's own past, so the signals are the same whether
the timer runs often or rarely, whatever the batch sizes: replaying last year gives last year's signals.

The dropout risk (``dropout_risk``, the teacher's alert): each event updates the pupil's O(1) risk
features (``risk_features.RiskState``, kept in the pupil's state) and the worker's per-class activity;
at each day boundary closing a school day of the pupil's zone, the risk is scored (``risk_model``, pure
Python) and its signal raised, changed or cleared. Inactivity and the risk are caught up one boundary
at a time, so a pupil's signals come out in the same order whatever the timer's pace.

Idempotence: a pupil's state keeps its recent event ids; a redelivered event is skipped, so it
cannot raise a signal twice. Signal and emission ids are UUIDv5 of (pupil, signal, time, status).

Approximation, documented: an item's typical response time (for rapid guessing) is a running
mean of log-times per item kept in memory by each worker (not in the table): each worker learns it
from the pupils of its own partitions, and it restarts empty after a restart.

In the worker, every change to that memory (item times, class activity, watermarks and counters) is
journalled with the table writes (``journal``: the outbox's, ``vigie.stream.undo``), so that a batch the
pipeline rolls back leaves none of it behind: replayed, its events are counted once. The decoded states
need no journal: one is reused only for the very value the table holds (``vigie.stream.state_cache``).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

from vigie.core.contract.calendar import is_school_day, school_days_between
from vigie.core.contract.events import (
    EVENT_ID_NAMESPACE,
    AnswerSubmitted,
    ErasureRequested,
    LearningEvent,
    SessionEnded,
    SessionStarted,
    Severity,
    SignalChanged,
    SignalReason,
)
from vigie.core.contract.referential import Zone, zone_of
from vigie.core.contract.taxonomy import skills
from vigie.core.topics import partition_of
from vigie.stream.signals import rules as r
from vigie.stream.signals.risk_features import ClassActivity, school_days_left, school_time
from vigie.stream.signals.risk_model import RiskModel, default_model
from vigie.stream.signals.risk_reasons import cleared as risk_cleared
from vigie.stream.signals.risk_reasons import explain
from vigie.stream.signals.rules import RANK, RISK_SIGNAL, Finding, SignalRules, counts_as_at_risk
from vigie.stream.signals.state import ID_BYTES, OpenSignal, PupilSignals
from vigie.stream.state_cache import DEFAULT_DECODED_PUPILS, DecodedStates
from vigie.stream.undo import ABSENT, Journal, put_back

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)
#: Usual gaps remembered by rhythm (active days, first day, zone); forgotten all at once past this size.
GAP_MEMO = 1 << 16

#: What a pupil does (every learning event but the erasure).
PupilEvent = AnswerSubmitted | SessionStarted | SessionEnded


def _severity(signal: OpenSignal | None) -> str | None:
    return signal.severity if signal is not None else None


@lru_cache(maxsize=1 << 20)
def pupil_partition(student_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives this pupil's key (murmur2, as producers and faust do)."""
    return partition_of(student_id.encode(), partitions)


@lru_cache(maxsize=1 << 14)
def _school_day(day: date, zone: Zone) -> bool:
    return is_school_day(day, zone)


@lru_cache(maxsize=1 << 16)
def _school_days_between(start: date, end: date, zone: Zone) -> int:
    return school_days_between(start, end, zone)


@lru_cache(maxsize=1 << 12)
def _iso(day: date) -> str:
    return day.isoformat()


def boundary(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


#: The precursors, in the order they are evaluated (and their changes emitted).
PRECURSORS = ("falling_success", "rapid_guessing", "abandoned_sessions")

#: The reasons of an inactivity cleared by activity (frozen models: one tuple serves every change).
ACTIVITY_RESUMED = (SignalReason(code="activity_resumed", value=1, threshold=1, text="L'élève a repris son activité."),)


def _activity_resumed() -> tuple[SignalReason, ...]:
    return ACTIVITY_RESUMED


def at_risk(value: bytes | dict[str, Any], min_rank: int = RANK["medium"]) -> bool:
    """Does this stored pupil state hold an open signal that counts as "at risk" (``rules.counts_as_at_risk``)?"""
    signals = PupilSignals.decode(value).signals.items()
    return any(counts_as_at_risk(key.split(":")[0], s.severity, min_rank) for key, s in signals)  # type: ignore[arg-type]


def legacy_value(value: bytes | dict[str, Any]) -> dict[str, Any]:
    """A stored pupil state, in either format, as the former JSON object (``PupilSignals.to_legacy``)."""
    return PupilSignals.decode(value).to_legacy()


class ItemTimes:
    """Per-item typical response time: a running mean of log-times (per worker, in memory, bounded).

    With a ``journal`` (``vigie.stream.undo``), every change is journalled: an item's figures are replaced,
    never changed in place, so the entry holds the figures it replaced.
    """

    def __init__(self, max_items: int = 200_000, journal: Journal | None = None) -> None:
        self.max_items = max_items
        self.journal = journal
        self._stats: dict[str, tuple[int, float]] = {}

    def typical_ms(self, item: str, min_answers: int) -> float | None:
        stats = self._stats.get(item)
        return math.exp(stats[1]) if stats and stats[0] >= min_answers else None

    def typical_then_observe(self, item: str, min_answers: int, response_ms: int) -> float | None:
        """``typical_ms`` before this answer, then ``observe`` it (one look-up)."""
        stats = self._stats.pop(item, None)
        typical = math.exp(stats[1]) if stats is not None and stats[0] >= min_answers else None
        self._observe(stats, item, response_ms)
        return typical

    def observe(self, item: str, response_ms: int) -> None:
        self._observe(self._stats.pop(item, None), item, response_ms)

    def _observe(self, stats: tuple[int, float] | None, item: str, response_ms: int) -> None:
        """``stats``: the item's figures, just taken out of the dict (``None``: a new item)."""
        answers, mean = stats or (0, 0.0)
        answers += 1
        # re-inserted last: the dict's order is least recently used first
        self._stats[item] = (answers, mean + max(1 / answers, 0.05) * (math.log(max(response_ms, 100)) - mean))
        journal = self.journal
        if journal is not None:
            journal.append((put_back, self._stats, item, ABSENT if stats is None else stats))
        if len(self._stats) > self.max_items:
            oldest = next(iter(self._stats))
            if journal is not None:
                journal.append((put_back, self._stats, oldest, self._stats[oldest]))
            del self._stats[oldest]


class SignalEngine:
    """Apply events and day-boundary ticks to pupil states in ``store``; return the signal changes."""

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        partitions: int,
        rules: SignalRules | None = None,
        risk_model: RiskModel | None = None,
        score_risk: bool = True,
        decoded_pupils: int = DEFAULT_DECODED_PUPILS,
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.partitions = partitions
        self.rules = rules or SignalRules()
        self.risk_model = risk_model or (default_model() if score_risk else None)
        #: Where the changes to the data below are journalled (``vigie.stream.undo``; ``None``: nowhere).
        self.journal = journal
        self.items = ItemTimes(journal=journal)
        self.classes = ClassActivity(journal=journal)
        self.watermarks: dict[int, datetime] = {}
        self.scanned: dict[int, date] = {}
        self.events = 0
        self.duplicates = 0
        #: When set, every daily risk evaluation appends (pupil, day, features[, risk]) here (evaluation, fitting).
        self.feature_log: list[tuple[str, date, list[float]]] | None = None
        self.risk_log: list[tuple[str, date, float]] | None = None
        self._labels = {code: skill.label for code, skill in skills().items()}
        self._gaps: dict[tuple[str, str | None, Zone], float] = {}
        #: The states last written, decoded (``vigie.stream.state_cache``): not decoded again next batch.
        self.decoded: DecodedStates[PupilSignals] = DecodedStates(decoded_pupils)

    # -- entry points -----------------------------------------------------------------------------
    def process(self, events: Iterable[LearningEvent]) -> list[SignalChanged]:
        """Apply a batch in order; each touched pupil's state is read once and written once."""
        out: list[SignalChanged] = []
        cache: dict[str, PupilSignals | None] = {}
        if self.journal is not None:  # the counters and watermarks as they were (a copy per batch, not per event)
            self.journal.append((self._restore, self.events, self.duplicates, dict(self.watermarks)))
        for event in events:
            self.events += 1
            pupil = event.student_id
            partition = pupil_partition(pupil, self.partitions)
            mark = self.watermarks.get(partition)
            if mark is None or event.occurred_at > mark:
                self.watermarks[partition] = mark = event.occurred_at
            if type(event) is ErasureRequested:  # the contract's classes exactly (cheaper than isinstance)
                cache[pupil] = None
                continue
            state = cache.get(pupil) if pupil in cache else self._load(pupil)
            if state is None:
                state = PupilSignals()
            cache[pupil] = state
            self._apply(pupil, state, event, mark.date(), out)  # type: ignore[arg-type]
        for pupil, state in cache.items():
            if state is None:  # erased: forgotten here too, not only in the table
                self.store.pop(pupil, None)
                self.decoded.forget(pupil)
            else:
                value = state.encode()
                self.store[pupil] = value
                self.decoded.keep(pupil, value, state)
        return out

    def tick(self, partitions: Iterable[int] | None = None) -> list[SignalChanged]:
        """Evaluate inactivity for the pupils of every partition whose watermark crossed a day boundary."""
        wanted = None if partitions is None else set(partitions)
        due = {
            p: mark.date()
            for p, mark in self.watermarks.items()
            if self.scanned.get(p) != mark.date() and (wanted is None or p in wanted)
        }
        if not due:
            return []
        out: list[SignalChanged] = []
        for pupil in list(self.store.keys()):
            day = due.get(pupil_partition(pupil, self.partitions))
            state = self._load(pupil) if day is not None else None
            if state is None or day is None:
                continue
            if self._catch_up_all(pupil, state, day, out):
                value = state.encode()
                self.store[pupil] = value
                self.decoded.keep(pupil, value, state)
        self.scanned.update(due)
        log.debug("signals tick: partitions %s, %d changes", sorted(due), len(out))
        return out

    # -- internals --------------------------------------------------------------------------------
    def _restore(self, events: int, duplicates: int, watermarks: dict[int, datetime]) -> None:
        """Undo a batch's changes to the counters and watermarks (journalled by ``process``)."""
        self.events, self.duplicates, self.watermarks = events, duplicates, watermarks

    def _load(self, pupil: str) -> PupilSignals | None:
        """The pupil's state (``None``: none stored); once loaded, it is the caller's to write back."""
        value = self.store.get(pupil)
        if not value:
            self.decoded.forget(pupil)
            return None
        state = self.decoded.take(pupil, value)
        return PupilSignals.decode(value) if state is None else state

    def _apply(self, pupil: str, state: PupilSignals, event: PupilEvent, today: date, out: list[SignalChanged]) -> None:
        today_iso = _iso(today)
        self._catch_up_all(pupil, state, today, out, today_iso)
        event_id = event.event_id.bytes[:ID_BYTES]
        if state.seen(event_id):
            self.duplicates += 1
            return
        state.remember(event_id)
        state.academy, state.school_uai = event.academy, event.school_uai
        state.class_id, state.level = event.class_id, event.level
        at, rules = event.occurred_at, self.rules
        day = at.date()
        zone = zone_of(event.academy)
        t = school_time(day, zone)
        risk = state.risk_state
        kind = type(event)
        if kind is AnswerSubmitted or kind is SessionStarted:
            class_cum = self.classes.cumulated_before(event.class_id, t)
            self.classes.observe(event.class_id, pupil, t)
            graded = kind is AnswerSubmitted
            risk.activity(
                t,
                int(graded),
                int(event.correct) if graded else None,  # type: ignore[union-attr]
                100 * event.score if graded and event.score is not None else None,  # type: ignore[union-attr]
                class_cum,
            )
            self._active(pupil, state, at, _iso(day), today, today_iso, out)
        if kind is AnswerSubmitted:
            assert isinstance(event, AnswerSubmitted)  # for the type checker
            if state.open_session is None or state.open_session == event.session_id:
                state.open_session = event.session_id
                state.open_answers += 1
            state.add_result(event.correct, rules)
            skill = event.skill_code
            was_mastered, (attempts, _, best, mastered) = state.add_skill_attempt(skill, event.correct, rules)
            if mastered and not was_mastered:
                risk.mastered(t)
            spinning = None if mastered else r.wheel_spinning_level(attempts, rules)
            if spinning is not None or state.signals:
                key = f"wheel_spinning:{skill}"
                if spinning != _severity(state.signals.get(key)):
                    finding = r.wheel_spinning(attempts, best, self._labels[skill], rules) if spinning else None
                    self._transition(pupil, state, key, finding, at, out)
            typical = self.items.typical_then_observe(
                f"{event.platform}\x1f{event.item_id}", rules.item_min_answers, event.response_time_ms
            )
            rapid = None if typical is None else event.response_time_ms < rules.rapid_fraction * typical
            state.add_pace(rapid, event.correct, rules)
            if rapid is not None:
                risk.pace(t, rapid)
            self._precursors(pupil, state, at, out)
        elif kind is SessionStarted:
            assert isinstance(event, SessionStarted)
            if state.open_session not in (None, event.session_id) and state.open_answers == 0:
                state.close_session(True, rules)  # opened, then another session began without an answer
                risk.session(t, True)
            if state.open_session != event.session_id:
                state.open_session, state.open_answers = event.session_id, 0
            self._precursors(pupil, state, at, out)
        elif kind is SessionEnded and state.open_session in (None, event.session_id):
            assert isinstance(event, SessionEnded)
            left = event.outcome != "completed" and event.answers_count == 0 and state.open_answers == 0
            state.close_session(left, rules)
            risk.session(t, left, early=left or event.outcome != "completed")
            self._precursors(pupil, state, at, out)

    def _precursors(self, pupil: str, state: PupilSignals, at: datetime, out: list[SignalChanged]) -> None:
        """Falling success, rapid guessing and abandoned sessions, from the pupil's state.

        Falling success and rapid guessing alone are common in pupils who do not drop out (a hard
        skill week, one hurried session); with inactivity they are what precedes a drop-out. So they
        stay at ``rules.alone_cap`` alone and rise by ``rules.corroboration_bump`` levels when
        corroborated; their reasons say which (see ``rules.corroborate``).

        Run after every answer: the severities come first, cheaply; a finding and its reasons are
        built only for a signal whose severity changes.
        """
        rules, signals = self.rules, state.signals
        raw = self._raw_levels(state)
        if not signals and raw == (None, None, None):
            return  # nothing found, nothing open: nothing changes
        present = (
            {t for t, level in zip(PRECURSORS, raw, strict=True) if level} if rules.precursors_corroborate else set()
        )
        if "inactivity" in signals:
            present.add("inactivity")
        for signal_type, level in zip(PRECURSORS, raw, strict=True):
            others = present - {signal_type} if present else present
            if level is not None and signal_type in rules.capped_alone:
                level = r.corroborated(level, bool(others), rules)
            if level == _severity(signals.get(signal_type)):
                continue
            finding = self._raw_precursor(state, signal_type) if level else None
            if finding is not None and signal_type in rules.capped_alone:
                finding = r.corroborate(finding, sorted(others), rules)
            self._transition(pupil, state, signal_type, finding, at, out)

    def _raw_levels(self, state: PupilSignals) -> tuple[Severity | None, Severity | None, Severity | None]:
        """Each precursor's own severity (order of ``PRECURSORS``), before corroboration."""
        rules, signals, pace = self.rules, state.signals, state.pace
        falling = None
        if len(state.recent) >= rules.recent_answers and state.earlier_n >= rules.earlier_min_answers:
            recent_rate = state.recent.count("1") / len(state.recent)
            falling = r.falling_success_level(recent_rate, state.earlier_rate, "falling_success" in signals, rules)
        right = pace.count("R")
        rapid = r.rapid_guessing_level(right + pace.count("r"), len(pace), right, "rapid_guessing" in signals, rules)
        return falling, rapid, r.abandoned_sessions_level(state.sessions.count("a"), rules)

    def _raw_precursor(self, state: PupilSignals, signal_type: str) -> Finding | None:
        """A precursor's own finding, before corroboration (built when its severity changes)."""
        rules = self.rules
        if signal_type == "falling_success":
            recent_rate = state.recent.count("1") / len(state.recent)
            return r.falling_success(recent_rate, state.earlier_rate, "falling_success" in state.signals, rules)
        if signal_type == "rapid_guessing":
            rapid = state.pace.count("r") + state.pace.count("R")
            return r.rapid_guessing(
                rapid, len(state.pace), state.pace.count("R"), "rapid_guessing" in state.signals, rules
            )
        return r.abandoned_sessions(state.sessions.count("a"), len(state.sessions), rules)

    def _inactivity(self, state: PupilSignals, missed: int, gap: float) -> Finding | None:
        """Inactivity, one level lower (``rules.inactivity_alone_drop``) when the pupil's last sessions showed
        no precursor: a silence after ordinary sessions is more often illness than a drop-out."""
        finding = r.inactivity(missed, gap, self.rules)
        if finding is None or not self.rules.inactivity_alone_drop:
            return finding
        others = sorted(t for t, level in zip(PRECURSORS, self._raw_levels(state), strict=True) if level)
        return r.corroborate_inactivity(finding, others, self.rules)

    def _active(
        self,
        pupil: str,
        state: PupilSignals,
        at: datetime,
        day_iso: str,
        today: date,
        today_iso: str,
        out: list[SignalChanged],
    ) -> None:
        """Activity: the pupil's rhythm learns the day; inactivity is re-evaluated at the current boundary."""
        state.mark_active(day_iso, self.rules)
        finding = None
        if state.active_days[-10:] < today_iso:  # a late event: the pupil may still be inactive since
            last = state.last_active
            assert last is not None
            finding = self._inactivity(
                state, _school_days_between(last, today - ONE_DAY, zone_of(state.academy)), self._usual_gap(state)
            )
        elif "inactivity" not in state.signals:
            return  # no finding, no open signal: nothing changes
        self._transition(pupil, state, "inactivity", finding, at, out, _activity_resumed)

    def _usual_gap(self, state: PupilSignals) -> float:
        """The pupil's usual gap (``rules.usual_gap``), remembered by rhythm: an inactive pupil's is asked again
        at every day boundary."""
        zone = zone_of(state.academy)
        key = (state.active_days, state.first_day, zone)
        gap = self._gaps.get(key)
        if gap is None:
            days = [date.fromisoformat(d) for d in state.active_days.split()]
            gaps = [max(1, _school_days_between(a, b, zone)) for a, b in pairwise(days)]
            first = state.first_day
            history = _school_days_between(date.fromisoformat(first), days[-1], zone) if first else 0
            gap = r.usual_gap(gaps, self.rules, history)
            if len(self._gaps) >= GAP_MEMO:
                self._gaps.clear()
            self._gaps[key] = gap
        return gap

    def _catch_up_all(
        self, pupil: str, state: PupilSignals, day: date, out: list[SignalChanged], day_iso: str | None = None
    ) -> bool:
        """Inactivity and the risk, one day boundary at a time: the pupil's signals come out in the same
        order whether the timer ran at every boundary or once for several."""
        day_iso = day_iso or _iso(day)
        since = state.risk_day or state.first_day
        if since is None or since >= day_iso or state.risk_state.last < 0:  # ISO dates sort as dates
            return self._catch_up(pupil, state, day, out, day_iso)
        changed, current = False, date.fromisoformat(since) + ONE_DAY
        while current < day:
            changed = self._catch_up(pupil, state, current, out) | changed
            changed = self._risk_catch_up(pupil, state, current, out) | changed
            current += ONE_DAY
        changed = self._catch_up(pupil, state, day, out) | changed
        return self._risk_catch_up(pupil, state, day, out) | changed

    def _risk_catch_up(self, pupil: str, state: PupilSignals, day: date, out: list[SignalChanged]) -> bool:
        """Evaluate the dropout risk at each day boundary in (last evaluated, ``day``] that closes a school
        day of the pupil's zone; True if the state changed. Weekends and holidays do not move the risk."""
        risk = state.risk_state
        if risk.last < 0 or state.first_day is None:
            return False
        done = date.fromisoformat(state.risk_day) if state.risk_day else date.fromisoformat(state.first_day)
        if done >= day:
            return False
        zone, model = zone_of(state.academy), self.risk_model
        current = done + ONE_DAY
        while current <= day:
            closed = current - ONE_DAY
            if _school_day(closed, zone):
                t = school_time(closed, zone)
                x = risk.features(
                    t,
                    self.classes.cumulated_before(state.class_id, t + 1),
                    school_days_left(closed, zone),
                    self.classes.recent_through(state.class_id, t),
                )
                if self.feature_log is not None:
                    self.feature_log.append((pupil, closed, x))
                if model is not None:
                    self._risk_signal(pupil, state, model, x, boundary(current), out)
                    if self.risk_log is not None:
                        self.risk_log.append((pupil, closed, model.score(x).risk))
            current += ONE_DAY
        state.risk_day = day.isoformat()
        return True

    def _risk_signal(
        self,
        pupil: str,
        state: PupilSignals,
        model: RiskModel,
        x: list[float],
        at: datetime,
        out: list[SignalChanged],
    ) -> None:
        scored = model.score(x)
        open_signal = state.signals.get(RISK_SIGNAL)
        recent = [*state.risk_recent, scored.risk]
        keep = model.policy.raise_days - 1
        state.risk_recent = recent[-keep:] if keep > 0 else []
        severity = model.decide(recent, open_signal.severity if open_signal else None)  # type: ignore[arg-type]
        finding = None
        if severity is not None:
            cut = model.severities[severity]
            finding = Finding(severity, lambda: explain(model, scored, x, cut))
        self._transition(pupil, state, RISK_SIGNAL, finding, at, out, lambda: risk_cleared(model, scored))

    def _catch_up(
        self, pupil: str, state: PupilSignals, day: date, out: list[SignalChanged], day_iso: str | None = None
    ) -> bool:
        """Evaluate inactivity at each day boundary in (last evaluated, ``day``]; True if anything changed."""
        days, evaluated_iso, day_iso = state.active_days, state.evaluated_day, day_iso or _iso(day)
        if not days or (evaluated_iso is not None and evaluated_iso >= day_iso):
            return False  # the usual case, decided on ISO days (they sort as dates): nothing to evaluate
        last_iso = days[-10:]
        if max(last_iso, evaluated_iso or last_iso) >= day_iso:
            return False  # evaluated, or active, on ``day`` or later
        last = state.last_active
        evaluated = date.fromisoformat(state.evaluated_day) if state.evaluated_day else None
        open_signal = state.signals.get("inactivity")
        if last is None or (evaluated is not None and evaluated >= day):
            return False
        if open_signal is not None and open_signal.severity == "high":
            return False  # nothing can change before the pupil comes back
        first = max(last, evaluated or last) + ONE_DAY
        if first > day:
            return False
        zone, gap = zone_of(state.academy), self._usual_gap(state)
        missed = _school_days_between(last, first - ONE_DAY, zone)
        changed = False
        current = first
        while current <= day:
            missed += _school_day(current - ONE_DAY, zone) if current > first else 0
            finding = self._inactivity(state, missed, gap)
            if self._transition(pupil, state, "inactivity", finding, boundary(current), out):
                changed = True
                self._precursors(pupil, state, boundary(current), out)  # inactivity corroborates them
            if finding is not None and finding.severity == "high":
                break  # cannot rise further before the pupil comes back
            current += ONE_DAY
        if changed:
            state.evaluated_day = day.isoformat()
        return changed

    def _transition(
        self,
        pupil: str,
        state: PupilSignals,
        key: str,
        finding: Finding | None,
        at: datetime,
        out: list[SignalChanged],
        cleared_reasons: Callable[[], Sequence[SignalReason]] = tuple,
    ) -> bool:
        """Emit on appearance, change of severity or clearing; nothing otherwise (``cleared_reasons`` builds the
        reasons of a clearing: only then)."""
        current = state.signals.get(key)
        new = finding.severity if finding else None
        if new == (current.severity if current else None):
            return False
        signal_type, _, skill = key.partition(":")
        if current is None:
            signal_id = uuid.uuid5(EVENT_ID_NAMESPACE, f"signal\x1f{pupil}\x1f{key}\x1f{at.isoformat()}")
            current = state.signals[key] = OpenSignal(signal_id.hex, new, at.isoformat())  # type: ignore[arg-type]
            status = "raised"
        elif new is None:
            del state.signals[key]
            status = "cleared"
        else:
            current.severity = new
            status = "changed"
        event_id = uuid.uuid5(EVENT_ID_NAMESPACE, f"{current.signal_id}\x1f{status}\x1f{new}\x1f{at.isoformat()}")
        out.append(
            SignalChanged(
                event_id=event_id,
                signal_id=uuid.UUID(current.signal_id),
                status=status,
                signal_type=signal_type,
                severity=new,
                reasons=finding.reasons if finding else tuple(cleared_reasons()),
                occurred_at=at,
                first_seen_at=datetime.fromisoformat(current.first_seen_at),
                cleared_at=at if status == "cleared" else None,
                academy=state.academy,
                school_uai=state.school_uai,
                class_id=state.class_id,
                student_id=pupil,
                level=state.level,
                skill_code=skill or None,
            )
        )
        return True
