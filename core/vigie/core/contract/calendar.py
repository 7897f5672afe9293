"""The French school calendar: which days are school days in each holiday zone.

Inactivity is counted in school days (a pupil is not "inactive" over a weekend or the holidays of
their zone), and the simulator only works on school days. Holidays come from ``holidays.csv``
beside this module (the ministry's published calendar: first day off, day classes resume);
public holidays are computed (Easter-based ones included). Wednesdays count as school days:
many primary schools are closed on Wednesday, which the per-pupil rhythm absorbs.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import cache
from importlib import resources

from vigie.core.contract.referential import Zone, zone_of

ZONES: tuple[Zone, ...] = ("A", "B", "C")


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@cache
def public_holidays(year: int) -> frozenset[date]:
    easter = easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [easter + timedelta(days=1), easter + timedelta(days=39), easter + timedelta(days=50)]
    return frozenset([date(year, m, d) for m, d in fixed] + moving)


@cache
def _holiday_ranges() -> dict[Zone, tuple[tuple[date, date], ...]]:
    """Per zone, [first day off, day classes resume) ranges."""
    text = resources.files("vigie.core.contract").joinpath("holidays.csv").read_text(encoding="utf-8")
    ranges: dict[Zone, list[tuple[date, date]]] = {z: [] for z in ZONES}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        span = (date.fromisoformat(row["first_day_off"]), date.fromisoformat(row["classes_resume"]))
        for zone in row["zones"].split("|"):
            ranges[zone].append(span)  # type: ignore[index]
    return {z: tuple(sorted(r)) for z, r in ranges.items()}


def is_school_day(day: date, zone: Zone) -> bool:
    """True on a weekday that is neither a public holiday nor in the zone's school holidays."""
    if day.weekday() >= 5 or day in public_holidays(day.year):
        return False
    return not any(start <= day < end for start, end in _holiday_ranges()[zone])


def is_school_day_for(day: date, academy: str) -> bool:
    return is_school_day(day, zone_of(academy))


def school_days_between(start: date, end: date, zone: Zone) -> int:
    """School days in (start, end]: how many school days have passed since ``start``."""
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_school_day(day, zone)
        day += timedelta(days=1)
    return count


def add_school_days(start: date, n: int, zone: Zone) -> date:
    """The n-th school day after ``start``."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= is_school_day(day, zone)
    return day
