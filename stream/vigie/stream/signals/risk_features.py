"""The dropout risk's features: a pupil's activity summarised in O(1) numbers, updated one event at a time.

Time is counted in *time units*: school days of the pupil's zone in the stream (weekends and holidays
do not pass), plain days in a real log without a calendar. Every window is an exponentially decayed
sum (half-lives ``FAST`` and ``SLOW`` units), so the state is a fixed list of floats whatever the
pupil's history, and a feature vector is computed at any time from it without replaying anything.

The same ``RiskState`` is fed by the stream (``SignalEngine``) and by ``vigie evaluate signals`` on a
real log (one row per active day): one code path, so the evaluation measures what the worker computes.

``ClassActivity`` is how the class around the pupil behaves: per class, the cumulated share of its
pupils active on each day. "Class activity missed" = that sum since the pupil's last active day: in a
class that worked three times since, a silent pupil missed about three sessions; during a class-wide
break nobody misses anything. It is kept in memory per worker, like the item times (a worker sees the
pupils of its partitions only: an approximation of the class, stated in docs/signals.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import cache, lru_cache
from operator import attrgetter

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.referential import Zone
from vigie.stream.undo import Journal

#: Half-lives (time units) of the recent and the longer-term windows.
FAST, SLOW = 7.0, 28.0
#: The usual gap between active days is a running mean over about this many gaps.
GAP_WINDOW = 5
#: Until a pupil has a gap, their usual gap is taken to be this (time units).
DEFAULT_GAP = 3.0

FEATURES: tuple[str, ...] = (
    "log_since",  # log(1 + time units since the last active day)
    "since_over_gap",  # that silence in multiples of the pupil's usual gap (capped at 10)
    "log_gap",  # log(1 + usual gap)
    "log_days",  # log(1 + active days so far)
    "log_history",  # log(1 + time units since the first active day)
    "activity_fast",  # decayed active days, recent (half-life FAST)
    "activity_slow",  # decayed active days, longer term (half-life SLOW)
    "activity_ratio",  # recent against longer-term rhythm
    "success",  # success rate, longer term
    "success_drop",  # longer-term minus recent success rate
    "score",  # mean score (0..1), longer term
    "score_drop",  # longer-term minus recent mean score
    "log_class_missed",  # log(1 + class activity missed since the last active day)
    "class_relative_days",  # active days against the class's active share since the pupil's first day
    "class_relative_recent",  # recent active days against the class's recent active share (half-life FAST)
    "log_remaining",  # log(1 + time units left in the period: school year, course)
    "rapid_share",  # recent share of answers much faster than the item's usual time
    "abandon_share",  # recent share of sessions left without an answer
    "mastered_recent",  # skills newly mastered, recent (decayed count)
    "ended_early_share",  # recent share of sessions cut short (abandoned, timed out, left without an answer)
    "answers_ratio",  # recent answers per active day against the pupil's own longer-term figure
    "attendance_trend",  # recent presence against the class, over the pupil's own presence since arrival
    "silence_with_signs",  # log(1 + silence) x signs seen before it (rapid answers, cut sessions, falling success)
)


def _decay(half_life: float, dt: float) -> float:
    return float(0.5 ** (dt / half_life))


@dataclass(slots=True)
class RiskState:
    """A pupil's decayed activity sums (floats only: stored as a list in the pupil's JSON state)."""

    t: float = 0.0  # time of the last decay
    first: float = -1.0  # first active time unit (-1: none yet)
    last: float = -1.0  # last active time unit
    days: float = 0.0  # active days
    gap: float = DEFAULT_GAP
    gaps: float = 0.0
    act_f: float = 0.0
    act_s: float = 0.0
    ok_f: float = 0.0
    n_f: float = 0.0
    ok_s: float = 0.0
    n_s: float = 0.0
    sc_f: float = 0.0
    scn_f: float = 0.0
    sc_s: float = 0.0
    scn_s: float = 0.0
    rapid_f: float = 0.0
    timed_f: float = 0.0
    aband_f: float = 0.0
    sess_f: float = 0.0
    mastered_f: float = 0.0
    class_at_last: float = 0.0
    class_at_first: float = 0.0
    # appended after the first version's fields: a stored state of that version still loads
    early_f: float = 0.0  # sessions cut short, recent (decayed)

    @classmethod
    def from_list(cls, values: Sequence[float] | None) -> RiskState:
        return cls(*values) if values else cls()

    def to_list(self) -> list[float]:
        """Exact floats (the stored state keeps them): rounding here would make the risk depend on batch
        boundaries."""
        return list(_risk_values(self))

    def values(self) -> tuple[float, ...]:
        """``to_list`` as a tuple (cheaper: what the stored state packs)."""
        return _risk_values(self)

    # -- updates ---------------------------------------------------------------------------------
    def advance(self, t: float) -> None:
        """Decay every window to time ``t`` (an older ``t``, from a late event, decays nothing)."""
        if t <= self.t:
            return
        df, ds = _decay(FAST, t - self.t), _decay(SLOW, t - self.t)
        self.act_f *= df
        self.ok_f *= df
        self.n_f *= df
        self.sc_f *= df
        self.scn_f *= df
        self.rapid_f *= df
        self.timed_f *= df
        self.aband_f *= df
        self.sess_f *= df
        self.mastered_f *= df
        self.early_f *= df
        self.act_s *= ds
        self.ok_s *= ds
        self.n_s *= ds
        self.sc_s *= ds
        self.scn_s *= ds
        self.t = t

    def activity(self, t: float, events: int, correct: int | None, score: float | None, class_cum: float) -> None:
        """``events`` events at time unit ``t``, ``correct`` of them right (None: not graded), ``score``
        0..100 (None: unknown); ``class_cum`` is the class's cumulated activity before ``t``."""
        self.advance(t)
        if self.first < 0:
            self.first, self.class_at_first = t, class_cum
        if t > self.last:
            if self.last >= 0:
                self.gaps += 1
                self.gap += (t - self.last - self.gap) / min(self.gaps, GAP_WINDOW)
            self.last = t
            self.days += 1
            self.act_f += 1
            self.act_s += 1
            self.class_at_last = class_cum
        if correct is not None:
            self.ok_f += correct
            self.n_f += events
            self.ok_s += correct
            self.n_s += events
        if score is not None:
            self.sc_f += score / 100
            self.scn_f += 1
            self.sc_s += score / 100
            self.scn_s += 1

    def pace(self, t: float, rapid: bool) -> None:
        """An answer whose speed could be judged: ``rapid`` if much faster than the item's usual time."""
        self.advance(t)
        self.timed_f += 1
        self.rapid_f += rapid

    def session(self, t: float, abandoned: bool, early: bool | None = None) -> None:
        """A session over: ``abandoned`` if left without an answer, ``early`` if cut short at all
        (abandoned or timed out, answers or not; default: ``abandoned``)."""
        self.advance(t)
        self.sess_f += 1
        self.aband_f += abandoned
        self.early_f += abandoned if early is None else early

    def mastered(self, t: float) -> None:
        self.advance(t)
        self.mastered_f += 1

    # -- features --------------------------------------------------------------------------------
    def features(self, t: float, class_cum: float, remaining: float, class_recent: float) -> list[float]:
        """The feature vector (order of ``FEATURES``) at time unit ``t``: ``class_cum`` and ``class_recent``
        are ``ClassActivity.cumulated_before(t + 1)`` and ``.recent_through(t)``."""
        self.advance(t)
        since = max(0.0, t - self.last) if self.last >= 0 else 0.0
        history = max(0.0, t - self.first) if self.first >= 0 else 0.0
        success = self.ok_s / self.n_s if self.n_s > 1e-9 else 0.5
        recent = self.ok_f / self.n_f if self.n_f > 0.5 else success
        score = self.sc_s / self.scn_s if self.scn_s > 1e-9 else 0.5
        recent_score = self.sc_f / self.scn_f if self.scn_f > 0.3 else score
        missed = max(0.0, class_cum - self.class_at_last)
        relative_days = self.days / (max(0.0, class_cum - self.class_at_first) + 1.0)
        relative_recent = self.act_f / (class_recent + 0.3)
        rapid = self.rapid_f / self.timed_f if self.timed_f > 0.5 else 0.0
        early = self.early_f / self.sess_f if self.sess_f > 0.5 else 0.0
        per_day_recent = self.n_f / self.act_f if self.act_f > 0.3 else 0.0
        per_day = self.n_s / self.act_s if self.act_s > 0.3 else 0.0
        signs = rapid + early + max(0.0, success - recent)
        return [
            math.log1p(since),
            min(10.0, since / max(1.0, self.gap)),
            math.log1p(self.gap),
            math.log1p(self.days),
            math.log1p(history),
            self.act_f,
            self.act_s,
            (self.act_f + 0.5) / (self.act_s + 1.0),
            success,
            success - recent,
            score,
            score - recent_score,
            math.log1p(missed),
            relative_days,
            relative_recent,
            math.log1p(max(0.0, remaining)),
            rapid,
            self.aband_f / self.sess_f if self.sess_f > 0.5 else 0.0,
            self.mastered_f,
            early,
            (per_day_recent + 1.0) / (per_day + 1.0),
            relative_recent / max(0.2, relative_days),
            math.log1p(since) * signs,
        ]


#: The fields of ``RiskState`` in order, read in one call (``to_list`` runs at every state write).
_risk_values = attrgetter(*(f.name for f in fields(RiskState)))


#: A day of a class's history: (day, cum, fast, fast_t) before it.
_Day = tuple[float, float, float, float]


@dataclass(slots=True)
class _Class:
    members: set[str] = field(default_factory=set)
    day: float = -1.0  # the open day (its share is not final until a later day begins)
    active: set[str] = field(default_factory=set)
    cum: float = 0.0  # cumulated share of members active, over the closed days
    fast: float = 0.0  # the same, decayed (half-life FAST) to ``fast_t``, the last closed day
    fast_t: float = 0.0
    history: list[_Day] = field(default_factory=list)


#: Days of a class remembered to answer for a recent past time (a tick that comes late).
CLASS_HISTORY = 64


def _reopen(
    c: _Class, day: float, cum: float, fast: float, fast_t: float, active: set[str], dropped: _Day | None
) -> None:
    """Undo the start of a class's day (``ClassActivity.observe``): the day before is open again, and the
    history is as it was (its oldest day back, if the new day had pushed it out)."""
    c.day, c.cum, c.fast, c.fast_t, c.active = day, cum, fast, fast_t, active
    c.history.pop()
    if dropped is not None:
        c.history.insert(0, dropped)


class ClassActivity:
    """Per class, the share of its pupils active each time unit, cumulated and decayed (in memory, bounded).

    A day is closed by the class's first event of a later day, before that event's pupil joins the
    members, so the figures depend only on the order of the events, not on when they are asked for.
    With a ``journal`` (``vigie.stream.undo``), every change is journalled (most events change nothing:
    the pupil was already active that day).
    """

    def __init__(self, max_classes: int = 500_000, journal: Journal | None = None) -> None:
        self.max_classes = max_classes
        self.journal = journal
        self._classes: dict[str, _Class] = {}

    def observe(self, class_id: str, pupil: str, t: float) -> None:
        classes, journal = self._classes, self.journal
        c = classes.pop(class_id, None)
        if c is None:
            c = _Class()
            if journal is not None:
                journal.append((classes.pop, class_id))
        classes[class_id] = c  # re-inserted last: least recently used first
        if len(classes) > self.max_classes:
            oldest = next(iter(classes))
            if journal is not None:
                journal.append((classes.__setitem__, oldest, classes[oldest]))
            del classes[oldest]
        if t > c.day:
            if journal is not None:
                dropped = c.history[0] if len(c.history) >= CLASS_HISTORY else None
                journal.append((_reopen, c, c.day, c.cum, c.fast, c.fast_t, c.active, dropped))
            if c.day >= 0:
                share = len(c.active) / len(c.members)
                c.cum += share
                c.fast = c.fast * _decay(FAST, c.day - c.fast_t) + share
                c.fast_t = c.day
                c.active = set()
            c.day = t
            c.history.append((t, c.cum, c.fast, c.fast_t))
            del c.history[:-CLASS_HISTORY]
        if pupil not in c.members:
            c.members.add(pupil)
            if journal is not None:
                journal.append((c.members.discard, pupil))
        if t == c.day and pupil not in c.active:
            c.active.add(pupil)
            if journal is not None:
                journal.append((c.active.discard, pupil))

    def _before(self, c: _Class, t: float) -> tuple[float, float, float]:
        """(cum, fast, fast_t) over the days before ``t``, open day included when it is before ``t``."""
        if c.day < t:
            share = len(c.active) / len(c.members)
            return c.cum + share, c.fast * _decay(FAST, c.day - c.fast_t) + share, c.day
        for day, cum, fast, fast_t in c.history:
            if day >= t:
                return cum, fast, fast_t
        return c.cum, c.fast, c.fast_t

    def cumulated_before(self, class_id: str, t: float) -> float:
        """The class's cumulated activity over the time units before ``t``."""
        c = self._classes.get(class_id)
        return 0.0 if c is None else self._before(c, t)[0]

    def recent_through(self, class_id: str, t: float) -> float:
        """The class's activity share over the time units up to ``t``, decayed to ``t`` (half-life FAST):
        what a pupil who attended every class day would have as ``RiskState.act_f``."""
        c = self._classes.get(class_id)
        if c is None:
            return 0.0
        _, fast, fast_t = self._before(c, t + 1)
        return fast * _decay(FAST, max(0.0, t - fast_t))


# -- school-day time units ----------------------------------------------------------------------
_EPOCH_YEAR = 2000


@cache
def _year_offsets(zone: Zone, year: int) -> tuple[int, tuple[int, ...]]:
    """School days before 1 January of ``year`` (since the epoch), and the running count within it."""
    base = 0
    if year > _EPOCH_YEAR:
        before, counts = _year_offsets(zone, year - 1)
        base = before + counts[-1]
    running, count, day = [], 0, date(year, 1, 1)
    while day.year == year:
        count += is_school_day(day, zone)
        running.append(count)
        day += timedelta(days=1)
    return base, tuple(running)


@lru_cache(maxsize=1 << 14)
def school_time(day: date, zone: Zone) -> int:
    """School days of ``zone`` from the epoch up to and including ``day``: the stream's time unit."""
    base, running = _year_offsets(zone, day.year)
    return base + running[day.timetuple().tm_yday - 1]


def school_days_left(day: date, zone: Zone) -> int:
    """School days after ``day`` until the summer break (taken as 4 July of the school year's end)."""
    end = date(day.year if day.month < 8 else day.year + 1, 7, 4)
    return max(0, school_time(end, zone) - school_time(day, zone))
