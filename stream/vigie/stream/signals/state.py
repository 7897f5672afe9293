"""A pupil's signal state, its updates, and its stored form (the ``signals-state`` table's value).

Everything the rules need and nothing more: the context to address signals (academy, school,
class, level), the recent event ids (a redelivered event is skipped), the recent active days
(the pupil's rhythm), recent answers against an earlier level, per-skill attempts since the last
success streak, recent answers marked rapid or not, the recent sessions, and the open signals.
All windows are bounded, so the value stays small whatever the pupil's history.

The stored form is read and written once per pupil per batch, and a worker's batch often holds one
answer of each pupil: so decoding builds as few Python objects as it can (``encode`` / ``decode``).
Format 2, bytes::

    0x02 | n: u8 | the dropout risk's n features (float64, little-endian) | m: u16 | m bytes of event ids
    | a JSON array: the context, the rhythm, the answer windows, the skills, the sessions, the open signals

The recent event ids are 8 raw bytes each (the first 64 bits of the UUIDv5, as before), searched
in place; the active days are one string of ISO days; the per-skill counts one string parsed only
for the skill an answer is about (``SkillCounts``). Format 1, the former value (a JSON object, the
table's JSON codec), is still read: a worker upgraded in place recovers its changelog and goes on
(``from_legacy``; ``to_legacy`` gives a state in that form, for comparisons).
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import orjson

from vigie.stream.signals.risk_features import RiskState
from vigie.stream.signals.rules import SignalRules

#: Event ids kept per pupil to recognise a redelivery (a redelivered suffix of the partition is far shorter).
RECENT_IDS = 256
ID_BYTES = 8  # 64 bits of the UUIDv5: collisions within one pupil's last 256 events are negligible
FORMAT = 2
_ISO = 10  # characters of an ISO day


@lru_cache(maxsize=64)
def _prefix(features: int) -> struct.Struct:
    """The binary start of a format 2 value holding ``features`` risk features."""
    return struct.Struct(f"<BB{features}dH")


@lru_cache(maxsize=64)
def _layout(features: int) -> tuple[struct.Struct, int]:
    """The risk features' floats of a format 2 value holding ``features`` of them, and where its ids start."""
    return struct.Struct(f"<{features}d"), _prefix(features).size


class StateFormatError(ValueError):
    """A stored signals state that is neither format 1 nor format 2."""


@dataclass(slots=True)
class OpenSignal:
    signal_id: str
    severity: str
    first_seen_at: str  # ISO datetime


class SkillCounts:
    """Per skill ``[attempts, streak, best, mastered]``, kept as its stored text ``|code a s b m|code ...|``
    and parsed one skill at a time: an answer reads and changes the counts of its own skill only."""

    __slots__ = ("changed", "text")

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.changed: dict[str, list[int]] = {}

    def get(self, code: str) -> list[int] | None:
        entry = self.changed.get(code)
        if entry is None:
            text = self.text
            start = text.find(f"|{code} ")
            if start < 0:
                return None
            start += len(code) + 2
            entry = self.changed[code] = list(map(int, text[start : text.index("|", start)].split(" ")))
        return entry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SkillCounts) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"SkillCounts({self.as_dict()!r})"

    def set(self, code: str, entry: list[int]) -> None:
        self.changed[code] = entry

    def encode(self) -> str:
        """The stored text (a skill keeps its place; a new one goes last, as in a dict)."""
        text = self.text
        for code, (attempts, streak, best, mastered) in self.changed.items():
            line = f"{code} {attempts} {streak} {best} {mastered}"
            start = text.find(f"|{code} ")
            if start < 0:
                text = f"{text or '|'}{line}|"
            else:
                text = f"{text[: start + 1]}{line}{text[text.index('|', start + 1) :]}"
        self.text, self.changed = text, {}
        return text

    def as_dict(self) -> dict[str, list[int]]:
        entries = (line.split(" ") for line in self.encode().split("|") if line)
        return {code: [int(n) for n in counts] for code, *counts in entries}

    @classmethod
    def from_dict(cls, skills: dict[str, list[int]]) -> SkillCounts:
        counts = cls()
        counts.changed = {code: list(entry) for code, entry in skills.items()}
        counts.encode()
        return counts


@dataclass(slots=True)
class PupilSignals:
    academy: str = ""
    school_uai: str = ""
    class_id: str = ""
    level: str = ""
    ids: bytes = b""  # the last RECENT_IDS event ids, ID_BYTES each, oldest first
    active_days: str = ""  # distinct ISO dates, oldest first, separated by spaces
    first_day: str | None = None  # first active day ever seen: the rhythm needs some history
    evaluated_day: str | None = None  # last day boundary at which inactivity was evaluated
    recent: str = ""  # "1"/"0" of the last answers, oldest first
    earlier_n: int = 0
    earlier_rate: float = 0.0
    skills: SkillCounts = field(default_factory=SkillCounts)
    pace: str = ""  # last answers: "r"/"R" rapid wrong/right, "s" not rapid
    sessions: str = ""  # last sessions: "a" abandoned without answer, "c" otherwise
    open_session: str | None = None
    open_answers: int = 0
    signals: dict[str, OpenSignal] = field(default_factory=dict)
    risk: list[float] | tuple[float, ...] = ()  # the dropout risk's features (RiskState.to_list)
    risk_day: str | None = None  # last day boundary at which the risk was evaluated
    risk_recent: list[float] = field(default_factory=list)  # the last daily risks (the alert policy's persistence)
    _risk: RiskState | None = field(default=None, repr=False, compare=False)  # stored as ``risk``

    # -- stored form ------------------------------------------------------------------------------
    def encode(self) -> bytes:
        risk = self._risk.values() if self._risk is not None else self.risk
        signals = {key: [s.signal_id, s.severity, s.first_seen_at] for key, s in self.signals.items()}
        head = (
            self.academy,
            self.school_uai,
            self.class_id,
            self.level,
            self.active_days,
            self.first_day,
            self.evaluated_day,
            self.recent,
            self.earlier_n,
            self.earlier_rate,
            self.skills.encode(),
            self.pace,
            self.sessions,
            self.open_session,
            self.open_answers,
            signals,
            self.risk_day,
            self.risk_recent,
        )
        return b"".join(
            (_prefix(len(risk)).pack(FORMAT, len(risk), *risk, len(self.ids)), self.ids, orjson.dumps(head))
        )

    @classmethod
    def decode(cls, value: bytes | dict[str, Any]) -> PupilSignals:
        """A stored state: format 2 (bytes), or format 1 (a JSON object, as bytes or already parsed)."""
        if isinstance(value, dict):
            return cls.from_legacy(value)
        if value[0] != FORMAT:
            if value[:1] == b"{":
                return cls.from_legacy(orjson.loads(value))
            raise StateFormatError(f"unknown signals state format {value[:1]!r}")
        floats, at = _layout(value[1])
        risk = floats.unpack_from(value, 2)
        end = at + (value[at - 2] | value[at - 1] << 8)
        ids = value[at:end]
        (academy, uai, klass, level, days, first, evaluated, recent, earlier_n, earlier_rate, skills, pace, sessions,
         open_session, open_answers, signals, risk_day, risk_recent) = orjson.loads(value[end:])  # fmt: skip
        return cls(
            academy,
            uai,
            klass,
            level,
            ids,
            days,
            first,
            evaluated,
            recent,
            earlier_n,
            earlier_rate,
            SkillCounts(skills),
            pace,
            sessions,
            open_session,
            open_answers,
            {key: OpenSignal(*s) for key, s in signals.items()} if signals else {},
            (),
            risk_day,
            risk_recent,
            RiskState(*risk) if risk else None,
        )

    @classmethod
    def from_legacy(cls, value: dict[str, Any]) -> PupilSignals:
        """A state of format 1: the JSON object the table held before format 2."""
        fields = {
            **value,
            "ids": b"".join(bytes.fromhex(i[: 2 * ID_BYTES]) for i in value.get("ids", ())),
            "active_days": " ".join(value.get("active_days", ())),
            "skills": SkillCounts.from_dict(value.get("skills", {})),
            "signals": {k: OpenSignal(**v) for k, v in value.get("signals", {}).items()},
            "risk": list(value.get("risk", ())),
            "risk_recent": list(value.get("risk_recent", ())),
        }
        return cls(**fields)

    def to_legacy(self) -> dict[str, Any]:
        """This state as a format 1 value (a plain JSON-able dict)."""
        return {
            "academy": self.academy,
            "school_uai": self.school_uai,
            "class_id": self.class_id,
            "level": self.level,
            "ids": [self.ids[i : i + ID_BYTES].hex() for i in range(0, len(self.ids), ID_BYTES)],
            "active_days": self.active_days.split(),
            "first_day": self.first_day,
            "evaluated_day": self.evaluated_day,
            "recent": self.recent,
            "earlier_n": self.earlier_n,
            "earlier_rate": self.earlier_rate,
            "skills": self.skills.as_dict(),
            "pace": self.pace,
            "sessions": self.sessions,
            "open_session": self.open_session,
            "open_answers": self.open_answers,
            "signals": {k: asdict(v) for k, v in self.signals.items()},
            "risk": self._risk.to_list() if self._risk is not None else list(self.risk),
            "risk_day": self.risk_day,
            "risk_recent": list(self.risk_recent),
        }

    @property
    def risk_state(self) -> RiskState:
        """The dropout risk's features, decoded once per load."""
        if self._risk is None:
            self._risk = RiskState.from_list(self.risk)
        return self._risk

    # -- dedup ----------------------------------------------------------------------------------
    def seen(self, event_id: bytes) -> bool:
        """Is this event id (its first ``ID_BYTES`` bytes) among the recent ones?"""
        ids = self.ids
        found = ids.find(event_id)
        while found > 0 and found % ID_BYTES:  # a match across two ids is not one
            found = ids.find(event_id, found + 1)
        return found >= 0

    def remember(self, event_id: bytes) -> None:
        self.ids = (self.ids + event_id)[-RECENT_IDS * ID_BYTES :]

    # -- rhythm ---------------------------------------------------------------------------------
    @property
    def last_active(self) -> date | None:
        return date.fromisoformat(self.active_days[-_ISO:]) if self.active_days else None

    def mark_active(self, iso: str, rules: SignalRules) -> None:
        """``iso``, an ISO day, was an active day."""
        if self.first_day is None or iso < self.first_day:
            self.first_day = iso
        days = self.active_days
        if iso in days:  # a whole day: no ISO day matches across the separator
            return
        if not days:
            days = iso
        elif iso > days[-_ISO:]:
            days = f"{days} {iso}"
        else:  # a late event may fill an older day
            days = " ".join(sorted([*days.split(" "), iso]))
        if len(days) > (_ISO + 1) * rules.rhythm_max_days:
            days = days[-((_ISO + 1) * rules.rhythm_max_days - 1) :]
        self.active_days = days

    # -- answers --------------------------------------------------------------------------------
    def add_result(self, correct: bool, rules: SignalRules) -> None:
        self.recent += "1" if correct else "0"
        if len(self.recent) > rules.recent_answers:
            oldest, self.recent = self.recent[0] == "1", self.recent[1:]
            self.earlier_n += 1
            weight = 1 / min(self.earlier_n, rules.earlier_window)
            self.earlier_rate += weight * (oldest - self.earlier_rate)

    def add_skill_attempt(self, skill: str, correct: bool, rules: SignalRules) -> tuple[int, list[int]]:
        """The attempt counted: (mastered before it, the skill's new ``[attempts, streak, best, mastered]``)."""
        attempts, streak, best, mastered = self.skills.get(skill) or (0, 0, 0, 0)
        before = mastered
        if not mastered:
            attempts += 1
            streak = streak + 1 if correct else 0
            best = max(best, streak)
            mastered = int(streak >= rules.mastery_streak)
        entry = [attempts, streak, best, mastered]
        self.skills.set(skill, entry)
        return before, entry

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
