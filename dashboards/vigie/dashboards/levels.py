"""The four dashboards, one per level: national, academy (DRANE), school, class (teacher).

Panel SQL uses the ClickHouse plugin's macros and Grafana variables (``$database`` is a hidden
constant naming the warehouse database). Levels above the class read only the warehouse's
k-suppressed views (``v_*``, see docs/warehouse.md): Grafana cannot hide small groups, so the
views do it, and group sizes (``pupils``) are shown next to every figure. The class level reads
class tables (``mastery_current``, ``signals_current``, ``answers``): a teacher sees their own pupils.
"""

from __future__ import annotations

from vigie.dashboards.geo import position_sql
from vigie.dashboards.model import DashboardSpec, LinkSpec, Matrix, PanelSpec, VariableSpec

SUBJECT = "$__conditionalAll(subject IN ($subject), $subject)"
LEVEL = "$__conditionalAll(level IN ($level), $level)"
SCHOOLS = "$__conditionalAll(school_uai IN ($school), $school)"
#: A school's name and commune from the school directory (``v_school_directory``), its UAI when unknown.
SCHOOL_NAME = "if(directory.name = '', school_uai, concat(directory.name, ' (', directory.commune, ')'))"
#: Below this estimated mastery a skill is a need (groupes de besoins, class level).
NEED_BELOW = 0.6

NATIONAL_UID, ACADEMY_UID, SCHOOL_UID, CLASS_UID = "vigie-national", "vigie-academy", "vigie-school", "vigie-class"

ACADEMY_VAR = VariableSpec("academy", "Académie", "SELECT DISTINCT academy FROM $database.v_academy_at_risk ORDER BY 1")
SUBJECT_VAR = VariableSpec(
    "subject",
    "Discipline",
    "SELECT DISTINCT subject FROM $database.v_academy_mastery_skill WHERE academy = '$academy' ORDER BY 1",
    multi=True,
    include_all=True,
)
LEVEL_VAR = VariableSpec(
    "level",
    "Niveau",
    "SELECT DISTINCT level FROM $database.v_academy_at_risk WHERE academy = '$academy' ORDER BY 1",
    multi=True,
    include_all=True,
)
SUBJECT_VAR_NATIONAL = VariableSpec(
    "subject", "Discipline", "SELECT DISTINCT subject FROM $database.v_academy_mastery_skill ORDER BY 1", True, True
)
LEVEL_VAR_NATIONAL = VariableSpec(
    "level", "Niveau", "SELECT DISTINCT level FROM $database.v_academy_at_risk ORDER BY 1", True, True
)
SCHOOL_SQL = "SELECT DISTINCT school_uai FROM $database.v_school_at_risk WHERE academy = '$academy' ORDER BY 1"
SCHOOL_MULTI_VAR = VariableSpec("school", "École / établissement", SCHOOL_SQL, multi=True, include_all=True)
SCHOOL_VAR = VariableSpec("school", "École / établissement", SCHOOL_SQL)
CLASS_VAR = VariableSpec(
    "class",
    "Classe",
    "SELECT DISTINCT class_id FROM $database.mastery_current WHERE academy = '$academy' AND school_uai = '$school'"
    " ORDER BY 1",
)


def national() -> DashboardSpec:
    lat, lon = position_sql("academy", "latitude"), position_sql("academy", "longitude")
    risk = f"""SELECT academy, sum(pupils) AS group_size, sum(pupils_at_risk) AS at_risk
    FROM $database.v_academy_at_risk WHERE {LEVEL} GROUP BY academy"""
    mastery = f"""SELECT academy, sum(mean_p * pupils) / sum(pupils) AS m_p,
           sum(mastered) / sum(pupils) AS m_share
    FROM $database.v_academy_mastery_skill WHERE {SUBJECT} AND {LEVEL} GROUP BY academy"""
    progress = f"""SELECT academy, sum(mean_gain * skills) / sum(skills) AS gain
    FROM $database.v_academy_mastery_gain WHERE {LEVEL} GROUP BY academy"""
    panels = (
        PanelSpec(
            "Carte des académies : élèves, progrès de maîtrise, élèves à risque",
            "geomap",
            f"""SELECT academy, {lat} AS latitude, {lon} AS longitude, risk.group_size AS group_size,
       round(progress.gain, 3) AS mastery_gain, round(risk.at_risk / risk.group_size, 3) AS at_risk_share
FROM ({risk}) AS risk
LEFT JOIN ({progress}) AS progress USING (academy)
ORDER BY academy""",
            ("academy", "latitude", "longitude", "group_size", "mastery_gain", "at_risk_share"),
            description="Taille du cercle : élèves actifs ; progrès = gain moyen de maîtrise estimée,"
            " par élève × compétence.",
            height=12,
        ),
        PanelSpec(
            "Activité et maîtrise par académie (effectifs affichés)",
            "table",
            f"""SELECT academy, risk.group_size AS group_size, activity.n_answers AS answers,
       round(activity.rate, 3) AS success_rate, round(mastery.m_p, 3) AS mean_mastery,
       round(mastery.m_share, 3) AS mastered_share, round(progress.gain, 3) AS mastery_gain
FROM ({risk}) AS risk
LEFT JOIN (
    SELECT academy, sum(answers_count) AS n_answers, sum(correct_count) / sum(answers_count) AS rate
    FROM $database.v_academy_answers_daily
    WHERE $__dateFilter(day) AND {SUBJECT} AND {LEVEL}
    GROUP BY academy
) AS activity USING (academy)
LEFT JOIN ({mastery}) AS mastery USING (academy)
LEFT JOIN ({progress}) AS progress USING (academy)
ORDER BY academy""",
            ("academy", "group_size", "answers", "success_rate", "mean_mastery", "mastered_share", "mastery_gain"),
            height=12,
            links=(LinkSpec("Voir l'académie", ACADEMY_UID),),
        ),
        PanelSpec(
            "Élèves actifs par jour",
            "timeseries",
            f"""SELECT toDateTime(day) AS t, academy, sum(pupils) AS pupils
FROM $database.v_academy_platform_daily
WHERE $__dateFilter(day) AND {LEVEL}
GROUP BY t, academy ORDER BY t, academy""",
            ("t", "academy", "pupils"),
        ),
        PanelSpec(
            "Part d'élèves à risque par académie",
            "barchart",
            f"""SELECT academy, round(sum(pupils_at_risk) / sum(pupils), 3) AS at_risk_share, sum(pupils) AS group_size,
       sum(pupils_at_risk) AS at_risk
FROM $database.v_academy_at_risk
WHERE {LEVEL}
GROUP BY academy ORDER BY at_risk_share DESC, academy""",
            ("academy", "at_risk_share", "group_size", "at_risk"),
            unit="percentunit",
        ),
        PanelSpec(
            "Plateformes utilisées (élèves-jours)",
            "barchart",
            f"""SELECT platform, sum(pupils) AS pupil_days, uniqExact(academy) AS academies
FROM $database.v_academy_platform_daily
WHERE $__dateFilter(day) AND {LEVEL}
GROUP BY platform ORDER BY pupil_days DESC""",
            ("platform", "pupil_days", "academies"),
        ),
        PanelSpec(
            "Progrès de maîtrise selon la plateforme et l'usage (effectifs affichés)",
            "table",
            f"""SELECT platform, usage_band, sum(pupils) AS group_size,
       round(sum(mean_gain * pupils) / sum(pupils), 3) AS mastery_gain,
       round(sum(mean_p * pupils) / sum(pupils), 3) AS mean_mastery,
       round(sum(mean_active_days * pupils) / sum(pupils), 1) AS active_days
FROM $database.v_academy_platform_effect_cells
WHERE {LEVEL}
GROUP BY platform, usage_band ORDER BY platform, usage_band""",
            ("platform", "usage_band", "group_size", "mastery_gain", "mean_mastery", "active_days"),
            description="Corrélation observée, pas un effet causal : les élèves ne sont pas répartis au hasard."
            " Chiffres au dernier rapprochement quotidien.",
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


def academy() -> DashboardSpec:
    scope = f"academy = '$academy' AND {SCHOOLS} AND {LEVEL}"
    panels = (
        PanelSpec(
            "Écoles par activité",
            "table",
            f"""SELECT school_uai, {SCHOOL_NAME} AS school_name, risk.group_size AS group_size,
       activity.n_answers AS answers, round(activity.rate, 3) AS success_rate, round(risk.share, 3) AS at_risk_share
FROM (
    SELECT school_uai, sum(pupils) AS group_size, sum(pupils_at_risk) / sum(pupils) AS share
    FROM $database.v_school_at_risk WHERE {scope} GROUP BY school_uai
) AS risk
LEFT JOIN (
    SELECT school_uai, sum(answers_count) AS n_answers, sum(correct_count) / sum(answers_count) AS rate
    FROM $database.v_school_activity_daily
    WHERE {scope} AND $__dateFilter(day) AND {SUBJECT}
    GROUP BY school_uai
) AS activity USING (school_uai)
LEFT JOIN $database.v_school_directory AS directory USING (school_uai)
ORDER BY group_size DESC, school_uai""",
            ("school_uai", "school_name", "group_size", "answers", "success_rate", "at_risk_share"),
            height=10,
            links=(LinkSpec("Voir l'école", SCHOOL_UID),),
        ),
        PanelSpec(
            "Maîtrise : compétence × école",
            "matrix",
            f"""SELECT skill_code, school_uai, round(sum(mean_p * pupils) / sum(pupils), 2) AS mastery,
       sum(pupils) AS group_size
FROM $database.v_school_mastery_skill
WHERE {scope} AND {SUBJECT}
GROUP BY skill_code, school_uai ORDER BY skill_code, school_uai""",
            ("skill_code", "school_uai", "mastery", "group_size"),
            height=10,
            matrix=Matrix("skill_code", "school_uai", "mastery"),
        ),
        PanelSpec(
            "Élèves à risque : signaux levés et clos par jour",
            "timeseries",
            f"""SELECT toDateTime(day) AS t, sum(signals_raised) AS raised, sum(signals_cleared) AS cleared,
       sum(pupils) AS active_pupils
FROM $database.v_school_signals_daily
WHERE {scope} AND $__dateFilter(day)
GROUP BY t ORDER BY t""",
            ("t", "raised", "cleared", "active_pupils"),
        ),
        PanelSpec(
            "Part d'élèves à risque aujourd'hui",
            "stat",
            f"""SELECT sum(pupils) AS group_size, sum(pupils_at_risk) AS at_risk,
       round(sum(pupils_at_risk) / sum(pupils), 3) AS at_risk_share
FROM $database.v_school_at_risk
WHERE {scope}""",
            ("group_size", "at_risk", "at_risk_share"),
            unit="percentunit",
            width=6,
        ),
        PanelSpec(
            "Plateformes : élèves actifs par jour",
            "timeseries",
            f"""SELECT toDateTime(day) AS t, platform, sum(pupils) AS pupils
FROM $database.v_school_platform_daily
WHERE {scope} AND $__dateFilter(day)
GROUP BY t, platform ORDER BY t, platform""",
            ("t", "platform", "pupils"),
            width=18,
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
    scope = f"academy = '$academy' AND school_uai = '$school' AND {LEVEL}"
    panels = (
        PanelSpec(
            "Classes",
            "table",
            f"""SELECT class_id, level, pupils, answers_count AS answers, round(mean_p, 3) AS mean_mastery,
       round(at_risk_share, 3) AS at_risk_share, last_active_day
FROM $database.v_school_class_summary
WHERE {scope}
ORDER BY level, class_id""",
            ("class_id", "level", "pupils", "answers", "mean_mastery", "at_risk_share", "last_active_day"),
            height=10,
            links=(LinkSpec("Voir la classe", CLASS_UID),),
        ),
        PanelSpec(
            "Compétences : maîtrise moyenne",
            "barchart",
            f"""SELECT skill_code, round(sum(mean_p * pupils) / sum(pupils), 3) AS mean_mastery,
       round(sum(mastered) / sum(pupils), 3) AS mastered_share, sum(pupils) AS group_size
FROM $database.v_school_mastery_skill
WHERE {scope} AND {SUBJECT}
GROUP BY skill_code ORDER BY skill_code""",
            ("skill_code", "mean_mastery", "mastered_share", "group_size"),
            height=10,
        ),
        PanelSpec(
            "Part d'élèves à risque par niveau",
            "barchart",
            f"""SELECT level, round(at_risk_share, 3) AS at_risk_share, pupils, pupils_at_risk, pupils_at_risk_high
FROM $database.v_school_at_risk
WHERE {scope}
ORDER BY level""",
            ("level", "at_risk_share", "pupils", "pupils_at_risk", "pupils_at_risk_high"),
            unit="percentunit",
        ),
        PanelSpec(
            "Signaux levés par jour",
            "timeseries",
            f"""SELECT toDateTime(day) AS t, sum(signals_raised) AS raised, sum(signals_cleared) AS cleared
FROM $database.v_school_signals_daily
WHERE {scope} AND $__dateFilter(day)
GROUP BY t ORDER BY t""",
            ("t", "raised", "cleared"),
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
            "Élèves × compétences : maîtrise estimée",
            "matrix",
            f"""SELECT substring(student_id, 1, 8) AS pupil, skill_code, round(toFloat64(p), 2) AS mastery
FROM $database.mastery_current FINAL
WHERE {scope} AND {SUBJECT}
ORDER BY pupil, skill_code""",
            ("pupil", "skill_code", "mastery"),
            width=24,
            height=12,
            matrix=Matrix("pupil", "skill_code", "mastery"),
        ),
        PanelSpec(
            "Élèves à suivre et raisons",
            "table",
            f"""SELECT rank, pupil, severity, round(risk, 2) AS risk, reasons, since
FROM $database.v_class_pupils_to_follow
WHERE {scope}
ORDER BY rank""",
            ("rank", "pupil", "severity", "risk", "reasons", "since"),
            description="Risque calibré de décrochage dans les 20 prochains jours d'école, ses raisons, depuis quand.",
            height=10,
        ),
        PanelSpec(
            "Erreurs récurrentes",
            "table",
            f"""SELECT skill_code, item_id, countIf(NOT correct) AS wrong_answers,
       uniqExactIf(student_id, NOT correct) AS pupils
FROM $database.answers
WHERE {scope} AND $__timeFilter(occurred_at) AND {SUBJECT}
GROUP BY skill_code, item_id HAVING wrong_answers > 0
ORDER BY wrong_answers DESC, skill_code, item_id LIMIT 15""",
            ("skill_code", "item_id", "wrong_answers", "pupils"),
            height=10,
        ),
        PanelSpec(
            "Groupes de besoins (compétences sous le seuil)",
            "table",
            f"""SELECT if(empty(needs), 'aucun besoin : approfondissement',
          arrayStringConcat(needs, ' + ')) AS need_group,
       count() AS pupils, arrayStringConcat(arraySort(groupArray(pupil)), ', ') AS members
FROM (
    SELECT substring(student_id, 1, 8) AS pupil,
           arraySlice(arrayMap(x -> x.2, arraySort(groupArrayIf((p, skill_code), p < {NEED_BELOW}))), 1, 2) AS needs
    FROM $database.mastery_current FINAL
    WHERE {scope} AND {SUBJECT}
    GROUP BY pupil
)
GROUP BY need_group ORDER BY pupils DESC, need_group""",
            ("need_group", "pupils", "members"),
            description=f"Élèves regroupés par leurs deux compétences les plus faibles (sous {NEED_BELOW:.0%}).",
            height=10,
        ),
        PanelSpec(
            "Activité de la classe",
            "timeseries",
            f"""SELECT toStartOfDay(occurred_at) AS t, uniqExact(student_id) AS active_pupils, count() AS answers
FROM $database.answers
WHERE {scope} AND $__timeFilter(occurred_at) AND {SUBJECT}
GROUP BY t ORDER BY t""",
            ("t", "active_pupils", "answers"),
            width=24,
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
