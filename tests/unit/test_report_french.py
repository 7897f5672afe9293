"""What the report prints: French numbers, percentages, dates, names and labels beside codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from vigie.core.contract.taxonomy import skills
from vigie.dashboards.french import French, SchoolLabel, day, moment, number, percent, points


def test_numbers_percentages_and_gains_read_the_french_way() -> None:
    assert number(12345.6, 1) == "12\u202f345,6" and number(7) == "7"
    assert percent(0.553) == "55\u00a0%" and percent(1.0) == "100\u00a0%"
    assert points(0.052) == "+5,2\u00a0pts" and points(-0.01) == "−1,0\u00a0pts" and points(0.0) == "0,0\u00a0pts"


def test_dates_are_written_in_french() -> None:
    assert day(date(2025, 11, 21)) == "21 novembre 2025" and day(date(2026, 8, 1)) == "1er août 2026"
    assert moment(datetime(2026, 12, 1, 21, 5, tzinfo=UTC)) == "1er décembre 2026 à 21 h 05"


def test_cells_follow_their_column() -> None:
    fr = French({"0699001A": SchoolLabel("École fictive A", "Commune-Test")})
    code = next(iter(skills()))
    assert fr.cell("success_rate", 0.723) == "72\u00a0%" and fr.cell("mastery_gain", 0.12) == "+12,0\u00a0pts"
    assert fr.cell("school_uai", "0699001A") == "École fictive A (Commune-Test)"
    assert fr.cell("school_uai", "0699002B") == "0699002B"  # unknown to the directory: its code
    assert fr.cell("academy", "aix-marseille") == "Aix-Marseille"
    assert fr.cell("skill_code", code) == f"{code} — {skills()[code].label}"
    assert fr.cell("need_group", f"{code} + {code}").count(skills()[code].label) == 2
    assert fr.cell("severity", "high") == "élevée" and fr.cell("pupils", 1234) == "1\u202f234"
    assert fr.cell("pupil", "0123456789abcdef0123456789abcdef") == "01234567"  # never a whole pseudonym
    assert fr.column("at_risk_share") == "Part d'élèves à risque" and fr.cell("answers", None) == "–"
