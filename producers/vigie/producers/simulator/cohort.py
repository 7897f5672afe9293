"""The simulated population: academies, schools (UAI), classes, teachers and pupils with their traits.

Everything is drawn from the seed, so the same configuration always builds the same cohort. Raw
identifiers (a pupil's INE-like id and name, a class's and a teacher's local ids) exist only here, as
a platform would hold them; events carry their keyed pseudonyms, one key per academy.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.referential import SUBJECTS, Zone, zone_of
from vigie.core.contract.taxonomy import skills_for
from vigie.core.settings import PrivacySettings
from vigie.producers.pseudonym import Pseudonymizer
from vigie.producers.simulator.config import SimulationConfig
from vigie.producers.simulator.truth import PupilTruth

#: The département of each academy's main city: the first three digits of its schools' UAI.
DEPARTMENT_OF_ACADEMY: dict[str, str] = {
    "aix-marseille": "013",
    "amiens": "080",
    "besancon": "025",
    "bordeaux": "033",
    "clermont-ferrand": "063",
    "corse": "620",
    "creteil": "093",
    "dijon": "021",
    "grenoble": "038",
    "guadeloupe": "971",
    "guyane": "973",
    "la-reunion": "974",
    "lille": "059",
    "limoges": "087",
    "lyon": "069",
    "martinique": "972",
    "mayotte": "976",
    "montpellier": "034",
    "nancy-metz": "054",
    "nantes": "044",
    "nice": "006",
    "normandie": "076",
    "orleans-tours": "045",
    "paris": "075",
    "poitiers": "086",
    "reims": "051",
    "rennes": "035",
    "strasbourg": "067",
    "toulouse": "031",
    "versailles": "078",
}
#: The UAI's check letter is the 7 digits modulo 23 in this alphabet (no I, O, Q).
_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
#: Local time of the overseas academies; every other academy keeps Europe/Paris.
TIMEZONE_OF_ACADEMY: dict[str, str] = {
    "guadeloupe": "America/Guadeloupe",
    "martinique": "America/Martinique",
    "guyane": "America/Cayenne",
    "la-reunion": "Indian/Reunion",
    "mayotte": "Indian/Mayotte",
}
_FIRST_NAMES = (
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Inès",
    "Adam",
    "Jade",
    "Nathan",
    "Manon",
    "Yanis",
    "Emma",
    "Louis",
    "Sarah",
    "Rayan",
    "Camille",
    "Noah",
    "Lina",
    "Mohamed",
    "Zoé",
    "Tom",
)
_LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "Benali",
    "Nguyen",
    "Diallo",
)


@lru_cache(maxsize=4096)
def school_day(day: date, zone: Zone) -> bool:
    """``is_school_day``, cached: the simulator asks it for every pupil every day."""
    return is_school_day(day, zone)


def uai(department: str, number: int) -> str:
    """A well-formed UAI: département, a 4-digit number, and the check letter."""
    digits = f"{department}{number:04d}"
    return digits + _UAI_LETTERS[int(digits) % 23]


@dataclass(slots=True)
class SimClass:
    academy: str
    zone: Zone
    school_uai: str
    raw_id: str
    class_id: str
    teacher_raw_id: str
    teacher_id: str
    level: str
    platform: str
    #: Weekdays (0 = Monday) the class works on the platform, with the Paris hour and minute of its slot.
    slots: dict[int, tuple[int, int]]
    #: Per subject, the order in which the class works through the skills (one focus skill a week).
    programme: dict[str, tuple[str, ...]]
    timezone: ZoneInfo
    pupils: list[SimPupil] = field(default_factory=list)
    #: Days the class skips the platform although it is its day (teacher absent, school trip, test).
    days_off: set[date] = field(default_factory=set)

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.slots and school_day(day, self.zone) and day not in self.days_off


@dataclass(slots=True)
class SimPupil:
    index: int
    raw_id: str
    name: str
    student_id: str
    school_class: SimClass
    ability: float
    #: Chance to take part in a class session, and taste for homework, when all is well.
    attendance: float
    homework_taste: float
    speed: float
    dropout_date: date | None = None
    decline_start: date | None = None
    #: A bad spell [first day, day after the last) of a pupil who does not drop out.
    bad_week: tuple[date, date] | None = None
    #: Days off sick (no activity at all), for anyone.
    sick_days: set[date] = field(default_factory=set)

    def truth(self) -> PupilTruth:
        c = self.school_class
        return PupilTruth(
            student_id=self.student_id,
            class_id=c.class_id,
            academy=c.academy,
            school_uai=c.school_uai,
            level=c.level,
            zone=c.zone,
            timezone=c.timezone.key,
            platform=c.platform,
            ability=round(self.ability, 4),
            disengages=self.dropout_date is not None,
            dropout_date=self.dropout_date,
            decline_start=self.decline_start,
            bad_week_start=self.bad_week[0] if self.bad_week else None,
            bad_week_end=self.bad_week[1] - timedelta(days=1) if self.bad_week else None,
            sick_days=tuple(sorted(self.sick_days)),
        )


@dataclass(slots=True)
class Cohort:
    classes: list[SimClass]
    pupils: list[SimPupil]
    run_tag: str

    def raw_identifiers(self) -> set[str]:
        """Every raw id and name the platform holds: none may appear in an event."""
        found = {p.raw_id for p in self.pupils} | {p.name for p in self.pupils}
        return found | {c.raw_id for c in self.classes} | {c.teacher_raw_id for c in self.classes}


def run_tag(config: SimulationConfig, start: date, end: date) -> str:
    """A short digest of the run, so two differently configured runs never share an event id."""
    text = repr((config, start, end))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def build_cohort(config: SimulationConfig, privacy: PrivacySettings, start: date, end: date) -> Cohort:
    rng = random.Random(f"{config.seed}/cohort")
    classes: list[SimClass] = []
    pupils: list[SimPupil] = []
    used_uai: set[str] = set()
    for academy in config.academies:
        zone = zone_of(academy)
        pseudonyms = Pseudonymizer(privacy.key_for(academy))
        department = DEPARTMENT_OF_ACADEMY.get(academy, "099")
        for _ in range(config.schools_per_academy):
            school = uai(department, rng.randrange(10_000))
            while school in used_uai:  # two schools never share a UAI
                school = uai(department, rng.randrange(10_000))
            used_uai.add(school)
            for c in range(config.classes_per_school):
                level = config.levels[len(classes) % len(config.levels)]
                raw_class = f"{school}-{level}-{chr(65 + c)}"
                teacher = f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}.{rng.randrange(100)}".lower()
                weekdays = sorted(rng.sample(range(5), config.class_days_per_week))
                school_class = SimClass(
                    academy=academy,
                    zone=zone,
                    school_uai=school,
                    raw_id=raw_class,
                    class_id=pseudonyms.school_class(raw_class),
                    teacher_raw_id=teacher,
                    teacher_id=pseudonyms.teacher(teacher),
                    level=level,
                    platform=_next_platform(config, level, classes),
                    slots={d: (rng.randrange(8, 16), rng.choice((0, 15, 30))) for d in weekdays},
                    timezone=ZoneInfo(TIMEZONE_OF_ACADEMY.get(academy, "Europe/Paris")),
                    programme={
                        s: tuple(rng.sample([k.code for k in skills_for(level, s)], len(skills_for(level, s))))
                        for s in SUBJECTS
                    },
                )
                classes.append(school_class)
                for _ in range(config.students_per_class):
                    raw = f"{rng.randrange(10**9, 10**10)}{_UAI_LETTERS[rng.randrange(23)]}"
                    pupil = SimPupil(
                        index=len(pupils),
                        raw_id=raw,
                        name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
                        student_id=pseudonyms.student(raw),
                        school_class=school_class,
                        ability=max(-2.5, min(2.5, rng.gauss(0.0, 1.0))),
                        attendance=rng.uniform(0.8, 0.97),
                        homework_taste=rng.uniform(0.3, 1.7),
                        speed=rng.uniform(0.7, 1.4),
                    )
                    school_class.pupils.append(pupil)
                    pupils.append(pupil)
    _assign_behaviours(config, classes, pupils, rng, start, end)
    return Cohort(classes, pupils, run_tag(config, start, end))


def _next_platform(config: SimulationConfig, level: str, classes: list[SimClass]) -> str:
    """Classes of a level use the platforms serving it in turn, so every configured platform gets some."""
    fitting = config.platforms_for(level)
    return fitting[sum(c.level == level for c in classes) % len(fitting)]


def _assign_behaviours(
    config: SimulationConfig,
    classes: list[SimClass],
    pupils: list[SimPupil],
    rng: random.Random,
    start: date,
    end: date,
) -> None:
    """Days each class skips; who disengages (exactly the configured share) and when they stop; who has
    a bad spell; everyone's sick days. Class-wide gaps and sick days are silences that are not drop-outs."""
    window = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    working_days: dict[int, list[date]] = {}
    for c in classes:
        planned = [d for d in window if c.works_on(d)]
        c.days_off = {d for d in planned if rng.random() < 0.06}
        working_days[id(c)] = [d for d in planned if d not in c.days_off]
    order = list(range(len(pupils)))
    rng.shuffle(order)
    n_drop = round(config.dropout_share * len(pupils))
    droppers, others = order[:n_drop], order[n_drop:]
    for i in droppers:
        pupil = pupils[i]
        days = working_days[id(pupil.school_class)]
        if len(days) < 2:
            continue  # no term time in the window: nobody can be seen to drop out
        # Leave some normal history before, and some silence after, the last day of activity.
        last = rng.randrange(max(1, int(len(days) * 0.3)), max(2, int(len(days) * 0.9)))
        pupil.dropout_date = days[last]
        decline = rng.randint(5, 10)  # class days of visible decline before the stop
        pupil.decline_start = days[max(0, last - decline)]
    n_noisy = round(config.noisy_share * len(others))
    for i in others[:n_noisy]:
        pupil = pupils[i]
        days = working_days[id(pupil.school_class)]
        if days:
            first = rng.choice(days)
            pupil.bad_week = (first, first + timedelta(days=rng.randint(7, 14)))
    for pupil in pupils:
        for day in working_days[id(pupil.school_class)]:
            if rng.random() < 0.02:  # about one spell of illness every ten weeks
                pupil.sick_days.update(day + timedelta(days=k) for k in range(rng.randint(2, 5)))
        if pupil.dropout_date is not None:
            pupil.sick_days.discard(pupil.dropout_date)
