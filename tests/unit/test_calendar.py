from __future__ import annotations

from datetime import date

import pytest

from vigie.core.contract.calendar import add_school_days, easter_sunday, is_school_day, school_days_between

pytestmark = pytest.mark.unit


def test_easter_dates_are_right() -> None:
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2026) == date(2026, 4, 5)


def test_weekends_public_holidays_and_zone_holidays_are_not_school_days() -> None:
    assert is_school_day(date(2025, 11, 17), "A")  # a Monday in term
    assert not is_school_day(date(2025, 11, 15), "A")  # Saturday
    assert not is_school_day(date(2025, 11, 11), "C")  # Armistice
    assert not is_school_day(date(2025, 10, 27), "B")  # Toussaint, every zone
    # Winter 2026: zone A is off on 9 February, zone C still in class.
    assert not is_school_day(date(2026, 2, 9), "A")
    assert is_school_day(date(2026, 2, 9), "C")


def test_school_days_skip_weekends_and_holidays() -> None:
    friday = date(2025, 11, 14)
    assert school_days_between(friday, date(2025, 11, 17), "A") == 1  # the weekend does not count
    # Across the Christmas holidays: Fri 19 Dec 2025 -> Mon 5 Jan 2026 is one school day.
    assert school_days_between(date(2025, 12, 19), date(2026, 1, 5), "B") == 1
    assert add_school_days(date(2025, 12, 19), 1, "B") == date(2026, 1, 5)
