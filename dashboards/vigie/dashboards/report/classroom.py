"""The class page's skills grid: skills × pupils (pseudonyms), mastery in %, "maîtrisé", thin evidence.

The class dashboard's grid shows mastery only; on paper a teacher also needs to see which estimates
rest on too few answers (``confidence`` below one half, docs/mastery.md) and which skills the model
already calls mastered. Read from ``mastery_current`` like the class dashboard (the teacher's own pupils).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from clickhouse_connect.driver.client import Client

from vigie.dashboards.charts import mastery_colour
from vigie.dashboards.french import French, percent, pseudonym
from vigie.stream.mastery.learner import confidence

#: Below this confidence an estimate rests on thin evidence (fewer than 3 answers; docs/mastery.md).
THIN_EVIDENCE = 0.5

SQL = """SELECT student_id, skill_code, toFloat64(p) AS p, mastered, attempts, confidence
FROM {database}.mastery_current FINAL
WHERE academy = {{academy:String}} AND school_uai = {{school:String}} AND class_id = {{class_id:String}}
ORDER BY student_id, skill_code"""
#: The class's pupils seen at all (a pupil who opened sessions but never answered has no estimate yet).
PUPILS_SQL = """SELECT DISTINCT student_id FROM {database}.session_events
WHERE academy = {{academy:String}} AND school_uai = {{school:String}} AND class_id = {{class_id:String}}"""


@dataclass(frozen=True, slots=True)
class Estimate:
    p: float
    mastered: bool
    attempts: int
    thin: bool


@dataclass(frozen=True)
class SkillsGrid:
    pupils: list[str]  # pseudonym prefixes, sorted
    skills: list[str]  # skill codes, sorted
    cells: dict[tuple[str, str], Estimate]

    @property
    def rows(self) -> int:
        return len(self.pupils)


def skills_grid(client: Client, database: str, academy: str, school: str, class_id: str) -> SkillsGrid:
    where = {"academy": academy, "school": school, "class_id": class_id}
    result = client.query(SQL.format(database=database), parameters=where)
    seen = {
        pseudonym(str(r[0])) for r in client.query(PUPILS_SQL.format(database=database), parameters=where).result_rows
    }
    cells: dict[tuple[str, str], Estimate] = {}
    for student_id, skill, p, mastered, attempts, stored in result.result_rows:
        evidence = float(stored) if stored is not None else confidence(int(attempts))
        cells[(pseudonym(str(student_id)), str(skill))] = Estimate(
            float(p), bool(mastered), int(attempts), evidence < THIN_EVIDENCE
        )
    return SkillsGrid(sorted({p for p, _ in cells} | seen), sorted({s for _, s in cells}), cells)


def grid_html(grid: SkillsGrid, fr: French) -> str:
    """One row per skill worked (code and label), one column per pupil: a class has more skills than pupils."""
    if not grid.pupils:
        return '<p class="empty">Aucune estimation de maîtrise pour cette classe.</p>'
    head = "".join(f'<th class="pupil">{escape(p)}</th>' for p in grid.pupils)
    body = []
    for skill in grid.skills:
        cells = []
        for pupil in grid.pupils:
            e = grid.cells.get((pupil, skill))
            if e is None:
                cells.append('<td class="m none"></td>')
                continue
            title = (
                f"{pupil} × {fr.skill(skill)} : {percent(e.p)}, {e.attempts} réponse(s)"
                + (", maîtrisé" if e.mastered else "")
                + (", estimation peu sûre" if e.thin else "")
            )
            cells.append(
                f'<td class="m{" thin" if e.thin else ""}" data-mastered="{int(e.mastered)}" data-thin="{int(e.thin)}" '
                f'style="background:{mastery_colour(e.p)}" title="{escape(title)}">'
                f"{escape(percent(e.p))}{' ✓' if e.mastered else ''}{' ?' if e.thin else ''}</td>"
            )
        label = f'<th class="skill"><b>{escape(skill)}</b> {escape(fr.skill_label(skill))}</th>'
        body.append(f"<tr>{label}{''.join(cells)}</tr>")
    legend = (
        '<p class="legend">Maîtrise estimée :'
        f'<span class="box" style="background:{mastery_colour(0.2)}"></span>moins de 50 %'
        f'<span class="box" style="background:{mastery_colour(0.6)}"></span>50 à 80 %'
        f'<span class="box" style="background:{mastery_colour(0.9)}"></span>80 % et plus'
        " · ✓ maîtrisé · <em>en italique, suivi de ?</em> : estimation peu sûre (moins de 3 réponses)"
        " · case vide : compétence pas encore travaillée</p>"
    )
    return (
        f'<table class="vigie-table skills"><thead><tr><th>Compétence ↓ · élève (pseudonyme) →</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{legend}"
    )
