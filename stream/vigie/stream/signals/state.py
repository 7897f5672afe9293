"""A pupil's signal state, as one JSON-able value (the faust table's value), and its updates.

Everything the rules need and nothing more: the context to address signals (academy, school,
class, level), the recent event ids (a redelivered event is skipped), the recent active days
(the pupil's rhythm), recent answers against an earlier level, per-skill attempts since the last
success streak, recent answers marked rapid or not, the recent sessions, and the open signals.
All windows are bounded, so the value stays small whatever the pupil's history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from vigie.stream.signals.risk_features import RiskState
from vigie.stream.signals.rules import SignalRules

#: Event ids kept per pupil to recognise a redelivery (a redelivered suffix of the partition is far shorter).
RECENT_IDS = 256
ID_CHARS = 16  # 64 bits of the UUIDv5: collisions within one pupil's last 256 events are negligible


@dataclass(slots=True)
class OpenSignal:
    signal_id: str
    severity: str
    first_seen_at: str  # ISO datetime


@dataclass(slots=True)
class PupilSignals:
    academy: str = ""
    school_uai: str = ""
    class_id: str = ""
    level: str = ""
    ids: list[str] = field(default_factory=list)
    active_days: list[str] = field(default_factory=list)  # distinct ISO dates, oldest first
    first_day: str | None = None  # first active day ever seen: the rhythm needs some history
    evaluated_day: str | None = None  # last day boundary at which inactivity was evaluated
    recent: str = ""  # "1"/"0" of the last answers, oldest first
    earlier_n: int = 0
    earlier_rate: float = 0.0
    skills: dict[str, list[int]] = field(default_factory=dict)  # code -> [attempts, streak, best, mastered]
    pace: str = ""  # last answers: "r"/"R" rapid wrong/right, "s" not rapid
    sessions: str = ""  # last sessions: "a" abandoned without answer, "c" otherwise
    open_session: str | None = None
    open_answers: int = 0
    signals: dict[str, OpenSignal] = field(default_factory=dict)
    risk: list[float] = field(default_factory=list)  # the dropout risk's features (RiskState.to_list)
    risk_day: str | None = None  # last day boundary at which the risk was evaluated
    risk_recent: list[float] = field(default_factory=list)  # the last daily risks (the alert policy's persistence)
    _id_index: set[str] | None = field(default=None, repr=False, compare=False)  # not stored: rebuilt on use
    _risk: RiskState | None = field(default=None, repr=False, compare=False)  # stored as ``risk``

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> PupilSignals:
        signals = {k: OpenSignal(**v) for k, v in value.get("signals", {}).items()}
        return cls(**{**value, "signals": signals})

    def to_value(self) -> dict[str, Any]:
        """A plain JSON-able dict (copies of the mutable parts: the stored value never aliases this object)."""
        value = {name: getattr(self, name) for name in self.__dataclass_fields__ if not name.startswith("_")}
        value.update(
            ids=list(self.ids),
            active_days=list(self.active_days),
            risk_recent=list(self.risk_recent),
            risk=self._risk.to_list() if self._risk is not None else list(self.risk),
            skills={k: list(v) for k, v in self.skills.items()},
            signals={k: asdict(v) for k, v in self.signals.items()},
        )
        return value

    @property
    def risk_state(self) -> RiskState:
        """The dropout risk's features, decoded once per load."""
        if self._risk is None:
            self._risk = RiskState.from_list(self.risk)
        return self._risk

    # -- dedup ----------------------------------------------------------------------------------
    def seen(self, event_id: str) -> bool:
        if self._id_index is None:
            self._id_index = set(self.ids)
        return event_id[:ID_CHARS] in self._id_index

    def remember(self, event_id: str) -> None:
        self.ids.append(event_id[:ID_CHARS])
        if self._id_index is not None:
            self._id_index.add(event_id[:ID_CHARS])
        if len(self.ids) > RECENT_IDS:
            dropped = self.ids[: len(self.ids) - RECENT_IDS]
            del self.ids[: len(self.ids) - RECENT_IDS]
            if self._id_index is not None:
                self._id_index.difference_update(dropped)

    # -- rhythm ---------------------------------------------------------------------------------
    @property
    def last_active(self) -> date | None:
        return date.fromisoformat(self.active_days[-1]) if self.active_days else None

    def mark_active(self, day: date, rules: SignalRules) -> None:
        iso = day.isoformat()
        if self.first_day is None or iso < self.first_day:
            self.first_day = iso
        if iso in self.active_days:
            return
        self.active_days.append(iso)
        self.active_days.sort()  # a late event may fill an older day
        if len(self.active_days) > rules.rhythm_max_days:
            del self.active_days[: len(self.active_days) - rules.rhythm_max_days]

    # -- answers --------------------------------------------------------------------------------
    def add_result(self, correct: bool, rules: SignalRules) -> None:
        self.recent += "1" if correct else "0"
        if len(self.recent) > rules.recent_answers:
            oldest, self.recent = self.recent[0] == "1", self.recent[1:]
            self.earlier_n += 1
            weight = 1 / min(self.earlier_n, rules.earlier_window)
            self.earlier_rate += weight * (oldest - self.earlier_rate)

    def add_skill_attempt(self, skill: str, correct: bool, rules: SignalRules) -> list[int]:
        attempts, streak, best, mastered = self.skills.get(skill, [0, 0, 0, 0])
        if not mastered:
            attempts += 1
            streak = streak + 1 if correct else 0
            best = max(best, streak)
            mastered = int(streak >= rules.mastery_streak)
        self.skills[skill] = entry = [attempts, streak, best, mastered]
        return entry

    def add_pace(self, rapid: bool | None, correct: bool, rules: SignalRules) -> None:
        if rapid is None:  # the item's usual time is not known yet
            return
        self.pace += ("R" if correct else "r") if rapid else "s"
        if len(self.pace) > rules.rapid_window:
            self.pace = self.pace[-rules.rapid_window :]

    # -- sessions -------------------------------------------------------------------------------
    def close_session(self, abandoned: bool, rules: SignalRules) -> None:
        self.sessions = (self.sessions + ("a" if abandoned else "c"))[-rules.session_window :]
        self.open_session, self.open_answers = None, 0
