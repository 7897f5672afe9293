"""The four dashboards, one per level: national, academy (DRANE), school, class (teacher).

Panel SQL uses the ClickHouse plugin's macros and Grafana variables (``$database`` is a hidden
constant naming the warehouse database). Levels above the class read only the warehouse's
k-suppressed views: Grafana cannot hide small groups, so the views do it. The class level reads
class tables: a teacher sees their own pupils.
"""

from __future__ import annotations

from vigie.dashboards.geo import position_sql
from vigie.dashboards.model import DashboardSpec, LinkSpec, Matrix, PanelSpec, VariableSpec

SUBJECT = "$__conditionalAll(subject IN ($subject), $subject)"
LEVEL = "$__conditionalAll(level IN ($level), $level)"
SCHOOLS = "$__conditionalAll(school_uai IN ($school), $school)"

NATIONAL_UID, ACADEMY_UID, SCHOOL_UID, CLASS_UID = "vigie-national", "vigie-academy", "vigie-school", "vigie-class"

ACADEMY_VAR = VariableSpec("academy", "Académie", "SELECT DISTINCT academy FROM $database.answers ORDER BY academy")
SUBJECT_VAR = VariableSpec(
    "subject",
    "Discipline",
    "SELECT DISTINCT subject FROM $database.answers WHERE academy = '$academy' ORDER BY 1",
    multi=True,
    include_all=True,
)
LEVEL_VAR = VariableSpec(
    "level",
    "Niveau",
    "SELECT DISTINCT level FROM $database.answers WHERE academy = '$academy' ORDER BY 1",
    multi=True,
    include_all=True,
)
SCHOOL_MULTI_VAR = VariableSpec(
    "school",
    "École / établissement",
    "SELECT DISTINCT school_uai FROM $database.answers WHERE academy = '$academy' ORDER BY 1",
    multi=True,
    include_all=True,
)
SCHOOL_VAR = VariableSpec(
    "school",
    "École / établissement",
    "SELECT DISTINCT school_uai FROM $database.answers WHERE academy = '$academy' ORDER BY 1",
)
CLASS_VAR = VariableSpec(
    "class",
    "Classe",
    "SELECT DISTINCT class_id FROM $database.answers WHERE academy = '$academy' AND school_uai = '$school' ORDER BY 1",
)


def national() -> DashboardSpec:
    lat, lon = position_sql("academy", "latitude"), position_sql("academy", "longitude")
    panels = (
        PanelSpec(
            "Carte des académies : activité et progrès",
            "geomap",
            f"""SELECT academy, {lat} AS latitude, {lon} AS longitude,
       uniqExact(student_id) AS active_pupils, round(avg(correct), 3) AS success_rate
FROM $database.answers
WHERE $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY academy ORDER BY academy""",
            ("academy", "latitude", "longitude", "active_pupils", "success_rate"),
            width=12,
            height=12,
        ),
        PanelSpec(
            "Activité et maîtrise par académie (effectifs affichés)",
            "table",
            f"""SELECT academy, uniqExact(student_id) AS active_pupils, count() AS answers,
       round(avg(correct), 3) AS success_rate
FROM $database.answers
WHERE $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY academy ORDER BY academy""",
            ("academy", "active_pupils", "answers", "success_rate"),
            width=12,
            height=12,
        ),
        PanelSpec(
            "Élèves actifs par jour",
            "timeseries",
            f"""SELECT toStartOfDay(occurred_at) AS t, academy, uniqExact(student_id) AS active_pupils
FROM $database.answers
WHERE $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY t, academy ORDER BY t""",
            ("t", "academy", "active_pupils"),
            width=12,
        ),
        PanelSpec(
            "Plateformes utilisées",
            "barchart",
            f"""SELECT platform, uniqExact(student_id) AS active_pupils
FROM $database.answers
WHERE $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY platform ORDER BY active_pupils DESC""",
            ("platform", "active_pupils"),
            width=12,
        ),
    )
    return DashboardSpec(
        NATIONAL_UID,
        "Vigie — National / Observatoire",
        "national",
        "Activité, progrès de maîtrise et élèves à risque par académie ; petits groupes masqués par l'entrepôt.",
        (SUBJECT_VAR_NATIONAL, LEVEL_VAR_NATIONAL),
        panels,
        links=(LinkSpec("Académie", ACADEMY_UID),),
    )


SUBJECT_VAR_NATIONAL = VariableSpec(
    "subject", "Discipline", "SELECT DISTINCT subject FROM $database.answers ORDER BY 1", multi=True, include_all=True
)
LEVEL_VAR_NATIONAL = VariableSpec(
    "level", "Niveau", "SELECT DISTINCT level FROM $database.answers ORDER BY 1", multi=True, include_all=True
)


def academy() -> DashboardSpec:
    panels = (
        PanelSpec(
            "Écoles par activité",
            "table",
            f"""SELECT school_uai, uniqExact(student_id) AS active_pupils, uniqExact(session_id) AS sessions,
       count() AS answers, round(avg(correct), 3) AS success_rate
FROM $database.answers
WHERE academy = '$academy' AND {SCHOOLS} AND $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY school_uai ORDER BY active_pupils DESC""",
            ("school_uai", "active_pupils", "sessions", "answers", "success_rate"),
            width=12,
            height=10,
            links=(LinkSpec("Voir l'école", SCHOOL_UID),),
        ),
        PanelSpec(
            "Maîtrise : compétence × école",
            "matrix",
            f"""SELECT skill_code, school_uai, round(avg(correct), 3) AS mastery
FROM $database.answers
WHERE academy = '$academy' AND {SCHOOLS} AND $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY skill_code, school_uai ORDER BY skill_code, school_uai""",
            ("skill_code", "school_uai", "mastery"),
            width=12,
            height=10,
            matrix=Matrix("skill_code", "school_uai", "mastery"),
        ),
        PanelSpec(
            "Plateformes : élèves actifs par jour",
            "timeseries",
            f"""SELECT toStartOfDay(occurred_at) AS t, platform, uniqExact(student_id) AS active_pupils
FROM $database.answers
WHERE academy = '$academy' AND {SCHOOLS} AND $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY t, platform ORDER BY t""",
            ("t", "platform", "active_pupils"),
            width=24,
        ),
    )
    return DashboardSpec(
        ACADEMY_UID,
        "Vigie — Académie (DRANE)",
        "academy",
        "Écoles par activité, maîtrise par compétence et école, élèves à risque, plateformes.",
        (ACADEMY_VAR, SCHOOL_MULTI_VAR, SUBJECT_VAR, LEVEL_VAR),
        panels,
        links=(LinkSpec("National", NATIONAL_UID), LinkSpec("École", SCHOOL_UID)),
    )


def school() -> DashboardSpec:
    panels = (
        PanelSpec(
            "Classes",
            "table",
            f"""SELECT class_id, any(level) AS level, uniqExact(student_id) AS active_pupils, count() AS answers,
       round(avg(correct), 3) AS success_rate
FROM $database.answers
WHERE academy = '$academy' AND school_uai = '$school' AND $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY class_id ORDER BY level, class_id""",
            ("class_id", "level", "active_pupils", "answers", "success_rate"),
            width=12,
            height=10,
            links=(LinkSpec("Voir la classe", CLASS_UID),),
        ),
        PanelSpec(
            "Compétences",
            "barchart",
            f"""SELECT skill_code, round(avg(correct), 3) AS mastery
FROM $database.answers
WHERE academy = '$academy' AND school_uai = '$school' AND $__timeFilter(occurred_at) AND {SUBJECT} AND {LEVEL}
GROUP BY skill_code ORDER BY skill_code""",
            ("skill_code", "mastery"),
            width=12,
            height=10,
        ),
    )
    return DashboardSpec(
        SCHOOL_UID,
        "Vigie — École / établissement",
        "school",
        "Classes, compétences et part d'élèves à risque.",
        (ACADEMY_VAR, SCHOOL_VAR, SUBJECT_VAR, LEVEL_VAR),
        panels,
        links=(LinkSpec("Académie", ACADEMY_UID), LinkSpec("Classe", CLASS_UID)),
    )


def classroom() -> DashboardSpec:
    scope = "academy = '$academy' AND school_uai = '$school' AND class_id = '$class'"
    panels = (
        PanelSpec(
            "Élèves × compétences : maîtrise",
            "matrix",
            f"""SELECT substring(student_id, 1, 8) AS pupil, skill_code, round(avg(correct), 2) AS mastery
FROM $database.answers
WHERE {scope} AND {SUBJECT}
GROUP BY pupil, skill_code ORDER BY pupil, skill_code""",
            ("pupil", "skill_code", "mastery"),
            width=24,
            height=12,
            matrix=Matrix("pupil", "skill_code", "mastery"),
        ),
        PanelSpec(
            "Erreurs récurrentes",
            "table",
            f"""SELECT skill_code, item_id, countIf(NOT correct) AS wrong_answers,
       uniqExactIf(student_id, NOT correct) AS pupils
FROM $database.answers
WHERE {scope} AND $__timeFilter(occurred_at) AND {SUBJECT}
GROUP BY skill_code, item_id HAVING wrong_answers > 0 ORDER BY wrong_answers DESC LIMIT 15""",
            ("skill_code", "item_id", "wrong_answers", "pupils"),
            width=12,
            height=10,
        ),
    )
    return DashboardSpec(
        CLASS_UID,
        "Vigie — Classe (enseignant)",
        "class",
        "Maîtrise de chaque élève, élèves à suivre et leurs raisons, erreurs récurrentes, groupes de besoins.",
        (ACADEMY_VAR, SCHOOL_VAR, CLASS_VAR, SUBJECT_VAR),
        panels,
        links=(LinkSpec("École", SCHOOL_UID),),
        aggregate=False,
    )


def all_dashboards() -> list[DashboardSpec]:
    return [national(), academy(), school(), classroom()]
