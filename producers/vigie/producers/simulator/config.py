"""What to simulate: the size of the cohort, the window of time, the platforms and the behaviours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from vigie.core.contract.referential import ACADEMIES, LEVELS
from vigie.core.errors import ConfigurationError

#: Levels each known platform serves; a platform not listed here serves every level.
PLATFORM_LEVELS: dict[str, frozenset[str]] = {
    "fondamentaux": frozenset({"CP", "CE1", "CE2", "CM1", "CM2"}),
    "elea": frozenset({"6e", "5e", "4e", "3e", "2nde"}),
    "mia-seconde": frozenset({"2nde"}),
}


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """A cohort and a window of time. The defaults make a small demo (a few thousand events).

    The window is ``days`` calendar days. With ``start`` it runs from ``start``; without, it ends on
    ``end`` (default: yesterday, so every event is in the past). Days after yesterday are dropped.
    """

    academies: tuple[str, ...] = ("lyon",)
    schools_per_academy: int = 2
    classes_per_school: int = 2
    students_per_class: int = 12
    start: date | None = None
    days: int = 15
    end: date | None = None
    seed: int = 42
    #: Share of pupils who disengage and stop within the window (their true drop-out date is recorded).
    dropout_share: float = 0.15
    #: Share of the other pupils who live one bad week (rarer sessions, abandons, guessing), then recover.
    noisy_share: float = 0.10
    #: Classes take these levels in turn (the default's four classes: CE1, 6e, 2nde, CM1).
    levels: tuple[str, ...] = ("CE1", "6e", "2nde", "CM1", "4e")
    #: Classes of a level take the platforms serving it in turn (see ``PLATFORM_LEVELS``).
    platforms: tuple[str, ...] = ("fondamentaux", "mia-seconde", "elea")
    #: Class sessions per week on the platform (a class works on some weekdays, not all).
    class_days_per_week: int = 3
    #: Chance that a pupil also practises at home on a school-day evening.
    homework_share: float = 0.12

    def __post_init__(self) -> None:
        unknown = [a for a in self.academies if a not in ACADEMIES]
        if not self.academies or unknown:
            raise ConfigurationError(f"unknown or no academies {unknown}: use codes like 'lyon', 'creteil'")
        bad_levels = [lv for lv in self.levels if lv not in LEVELS]
        if not self.levels or bad_levels:
            raise ConfigurationError(f"unknown or no levels {bad_levels}: use {', '.join(LEVELS)}")
        if not self.platforms:
            raise ConfigurationError("at least one platform is needed")
        if min(self.schools_per_academy, self.classes_per_school, self.students_per_class, self.days) < 1:
            raise ConfigurationError("schools, classes, students per class and days must all be >= 1")
        if not (0.0 <= self.dropout_share <= 1.0 and 0.0 <= self.noisy_share <= 1.0):
            raise ConfigurationError("dropout_share and noisy_share must be within [0, 1]")
        if not 1 <= self.class_days_per_week <= 5:
            raise ConfigurationError("class_days_per_week must be within 1..5")

    def window(self, today: date | None = None) -> tuple[date, date]:
        """First and last simulated day (inclusive), never later than yesterday."""
        yesterday = (today or datetime.now(UTC).date()) - timedelta(days=1)
        if self.start is not None:
            first, last = self.start, self.start + timedelta(days=self.days - 1)
        else:
            last = self.end or yesterday
            first = last - timedelta(days=self.days - 1)
        last = min(last, yesterday)
        if last < first:
            raise ConfigurationError(f"the window {first}..{last} is empty or in the future: events must be past")
        return first, last

    @property
    def pupils_count(self) -> int:
        return len(self.academies) * self.schools_per_academy * self.classes_per_school * self.students_per_class

    def platforms_for(self, level: str) -> tuple[str, ...]:
        """The configured platforms serving this level (all of them if none is meant for it)."""
        fitting = tuple(p for p in self.platforms if level in PLATFORM_LEVELS.get(p, LEVELS))
        return fitting or self.platforms
