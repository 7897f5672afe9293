"""Reference data of the French school system that the contract validates against.

Academies are named by a stable slug; each belongs to a school-holiday zone (A, B, C) used by the
calendar. Overseas academies have calendars of their own; they are mapped to the nearest zone,
which is an approximation noted here rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Zone = Literal["A", "B", "C"]
Level = Literal["CP", "CE1", "CE2", "CM1", "CM2", "6e", "5e", "4e", "3e", "2nde"]
Subject = Literal["francais", "mathematiques"]
Cycle = Literal["cycle2", "cycle3", "cycle4", "seconde"]

LEVELS: tuple[Level, ...] = ("CP", "CE1", "CE2", "CM1", "CM2", "6e", "5e", "4e", "3e", "2nde")
SUBJECTS: tuple[Subject, ...] = ("francais", "mathematiques")

CYCLE_OF_LEVEL: dict[str, Cycle] = {
    "CP": "cycle2",
    "CE1": "cycle2",
    "CE2": "cycle2",
    "CM1": "cycle3",
    "CM2": "cycle3",
    "6e": "cycle3",
    "5e": "cycle4",
    "4e": "cycle4",
    "3e": "cycle4",
    "2nde": "seconde",
}


@dataclass(frozen=True, slots=True)
class Academy:
    code: str
    name: str
    zone: Zone
    region: str


ACADEMIES: dict[str, Academy] = {
    a.code: a
    for a in (
        Academy("aix-marseille", "Aix-Marseille", "B", "Provence-Alpes-Côte d'Azur"),
        Academy("amiens", "Amiens", "B", "Hauts-de-France"),
        Academy("besancon", "Besançon", "A", "Bourgogne-Franche-Comté"),
        Academy("bordeaux", "Bordeaux", "A", "Nouvelle-Aquitaine"),
        Academy("clermont-ferrand", "Clermont-Ferrand", "A", "Auvergne-Rhône-Alpes"),
        Academy("corse", "Corse", "B", "Corse"),
        Academy("creteil", "Créteil", "C", "Île-de-France"),
        Academy("dijon", "Dijon", "A", "Bourgogne-Franche-Comté"),
        Academy("grenoble", "Grenoble", "A", "Auvergne-Rhône-Alpes"),
        Academy("guadeloupe", "Guadeloupe", "C", "Guadeloupe"),
        Academy("guyane", "Guyane", "C", "Guyane"),
        Academy("la-reunion", "La Réunion", "C", "La Réunion"),
        Academy("lille", "Lille", "B", "Hauts-de-France"),
        Academy("limoges", "Limoges", "A", "Nouvelle-Aquitaine"),
        Academy("lyon", "Lyon", "A", "Auvergne-Rhône-Alpes"),
        Academy("martinique", "Martinique", "C", "Martinique"),
        Academy("mayotte", "Mayotte", "C", "Mayotte"),
        Academy("montpellier", "Montpellier", "C", "Occitanie"),
        Academy("nancy-metz", "Nancy-Metz", "B", "Grand Est"),
        Academy("nantes", "Nantes", "B", "Pays de la Loire"),
        Academy("nice", "Nice", "B", "Provence-Alpes-Côte d'Azur"),
        Academy("normandie", "Normandie", "B", "Normandie"),
        Academy("orleans-tours", "Orléans-Tours", "B", "Centre-Val de Loire"),
        Academy("paris", "Paris", "C", "Île-de-France"),
        Academy("poitiers", "Poitiers", "A", "Nouvelle-Aquitaine"),
        Academy("reims", "Reims", "B", "Grand Est"),
        Academy("rennes", "Rennes", "B", "Bretagne"),
        Academy("strasbourg", "Strasbourg", "B", "Grand Est"),
        Academy("toulouse", "Toulouse", "C", "Occitanie"),
        Academy("versailles", "Versailles", "C", "Île-de-France"),
    )
}


def zone_of(academy: str) -> Zone:
    """Holiday zone of an academy (KeyError for an unknown code: the contract rejects those first)."""
    return ACADEMIES[academy].zone
