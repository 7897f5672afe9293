"""How the report says things: French column labels, values formatted the French way, names beside codes.

The dashboards' queries name their columns in English (``success_rate``, ``school_uai``); a person
reads "Taux de réussite", "72 %", "École Jean Moulin (Villeurbanne)" and "C3-MA-NOM-01 — Comparer,
ranger, encadrer des nombres". One ``French`` per report: it knows the school directory and the skill
taxonomy, and formats every cell and every chart label from the column it comes from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from vigie.core.contract.referential import ACADEMIES
from vigie.core.contract.taxonomy import skills

NBSP = "\u00a0"
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

#: French header of each column the dashboards' queries return.
COLUMNS: dict[str, str] = {
    "academy": "Académie",
    "academies": "Académies",
    "active_days": "Jours actifs (moyenne)",
    "active_pupils": "Élèves actifs",
    "answers": "Réponses",
    "at_risk": "Élèves à risque",
    "at_risk_share": "Part d'élèves à risque",
    "class": "Classe",
    "class_id": "Classe",
    "cleared": "Signaux clos",
    "group_size": "Élèves",
    "item_id": "Exercice",
    "last_active_day": "Dernier jour actif",
    "level": "Niveau",
    "mastered_share": "Part maîtrisée",
    "mastery": "Maîtrise",
    "mastery_gain": "Progrès de maîtrise",
    "mean_mastery": "Maîtrise moyenne",
    "members": "Élèves (pseudonymes)",
    "need_group": "Besoin",
    "platform": "Plateforme",
    "pupil": "Élève (pseudonyme)",
    "pupil_days": "Élèves-jours",
    "pupils": "Élèves",
    "pupils_at_risk": "Élèves à risque",
    "pupils_at_risk_high": "dont risque élevé",
    "raised": "Signaux levés",
    "rank": "Rang",
    "reasons": "Raisons",
    "risk": "Risque de décrochage",
    "school": "École / établissement",
    "school_uai": "École / établissement",
    "severity": "Alerte",
    "since": "Depuis le",
    "skill_code": "Compétence",
    "success_rate": "Taux de réussite",
    "t": "Jour",
    "usage_band": "Usage",
    "wrong_answers": "Réponses fausses",
}
#: Shares in [0, 1], shown as percentages.
PERCENT = frozenset({"at_risk_share", "mastered_share", "mastery", "mean_mastery", "risk", "success_rate"})
#: Differences of shares (mastery gains), shown in percentage points.
POINTS = frozenset({"mastery_gain"})
#: Columns a table does not show (the map uses them; the report shows names in the code's cell).
HIDDEN = frozenset({"latitude", "longitude", "school_name"})  # school_name: the school_uai cell shows it
SEVERITY = {"high": "élevée", "medium": "moyenne", "low": "faible"}
SKILL_CODE = re.compile(r"\b(?:C2|C3|C4|SE)-(?:FR|MA)-[A-Z]{3}-[0-9]{2}\b")
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def number(value: float, decimals: int = 0) -> str:
    """12 345,6: a narrow no-break space between thousands, a decimal comma."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def percent(share: float, decimals: int = 0) -> str:
    """0.723 -> '72 %' (French typography: a no-break space before the sign)."""
    return f"{number(share * 100, decimals)}{NBSP}%"


def points(gain: float) -> str:
    """A gain of mastery, 0.052 -> '+5,2 pts'."""
    sign = "+" if gain > 0 else "−" if gain < 0 else ""
    return f"{sign}{number(abs(gain) * 100, 1)}{NBSP}pts"


def day(value: date | datetime) -> str:
    """21 novembre 2025."""
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {MONTHS[value.month - 1]} {value.year}"


def short_day(value: date | datetime) -> str:
    return f"{value:%d/%m/%Y}"


def moment(value: datetime) -> str:
    """1er décembre 2026 à 21 h 42."""
    return f"{day(value)} à {value.hour} h {value.minute:02d}"


def pseudonym(value: str) -> str:
    """A pupil's or a class's pseudonym as shown: its first 8 hex digits (never the whole key-derived id)."""
    return value[:8]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


@dataclass(frozen=True)
class SchoolLabel:
    name: str
    commune: str


@dataclass
class French:
    """Labels and formats of one report: the school directory it knows, the skill taxonomy."""

    schools: Mapping[str, SchoolLabel] = field(default_factory=dict)

    def column(self, name: str) -> str:
        return COLUMNS.get(name, name.replace("_", " "))

    def skill(self, code: str) -> str:
        """'C3-MA-NOM-01 — Comparer, ranger...' (the code alone when the taxonomy does not know it)."""
        known = skills().get(code)
        return f"{code} — {known.label}" if known else code

    def skill_label(self, code: str) -> str:
        known = skills().get(code)
        return known.label if known else ""

    def school(self, uai: str) -> str:
        """'École Jean Moulin (Villeurbanne)', or the UAI when the directory does not know the school."""
        known = self.schools.get(uai)
        if known is None:
            return uai
        return f"{known.name} ({known.commune})" if known.commune else known.name

    def academy(self, code: str) -> str:
        known = ACADEMIES.get(code)
        return known.name if known else code

    def label(self, column: str, value: Any) -> str:
        """A value used as a label (a row of a table, a bar, a series): names rather than codes."""
        if column == "academy":
            return self.academy(str(value))
        if column in ("school_uai", "school"):
            return self.school(str(value))
        if column == "skill_code":
            return self.skill(str(value))
        return self.cell(column, value)

    def cell(self, column: str, value: Any) -> str:
        """A value in a table cell."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if column in PERCENT and _is_number(value):
            return percent(float(value))
        if column in POINTS and _is_number(value):
            return points(float(value))
        if column in ("academy", "school_uai", "school", "skill_code"):
            return self.label(column, value)
        if column == "severity":
            return SEVERITY.get(str(value), str(value))
        if column == "need_group":
            return SKILL_CODE.sub(lambda m: self.skill(m[0]), str(value))
        if isinstance(value, datetime):
            if value.hour or value.minute:
                return f"{short_day(value)} {value:%H:%M}"
            return short_day(value)
        if isinstance(value, date):
            return short_day(value)
        if isinstance(value, bool):
            return "oui" if value else "non"
        if isinstance(value, int):
            return number(value)
        if isinstance(value, float):
            return number(value, 0 if value.is_integer() else 1 if abs(value) >= 1 else 2)
        if isinstance(value, list | tuple):
            return ", ".join(self.cell(column, v) for v in value)
        text = str(value)
        return pseudonym(text) if _HEX_ID.match(text) else text
