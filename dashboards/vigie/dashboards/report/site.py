"""The report's pages, level by level, each linked to its parent and its children.

Layout under the output folder (relative links only, so the folder opens from a USB stick)::

    index.html                                 national (Observatoire): every academy
    <academy>/index.html                       academy: its schools
    <academy>/<uai>/index.html                 school: its classes, its pupils to follow
    <academy>/<uai>/classe-<pseudonym>.html    class: skills grid, recurring errors, needs, pupils to follow

National, academy and school pages run the aggregate dashboards' own panels, which read only the
warehouse's k-suppressed views; the children they link to are the ones those views list (a school
or a class under k pupils has no page). The class page runs the class dashboard's panels plus the
report's skills grid: a teacher's view of their own pupils, by pseudonym only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.dashboards import levels
from vigie.dashboards.french import French, day, moment, pseudonym
from vigie.dashboards.macros import ALL, QueryContext, VariableState, expand
from vigie.dashboards.model import DashboardSpec, PanelSpec
from vigie.dashboards.report import classroom as classroom_grid
from vigie.dashboards.report import html
from vigie.dashboards.runner import PanelResult, run_panel

log = logging.getLogger(__name__)

#: "Élèves à suivre" of each class of the school (the k-safe view: classes of at least k pupils).
PUPILS_TO_FOLLOW = PanelSpec(
    "Élèves à suivre (risque de décrochage, 5 premiers par classe)",
    "table",
    """SELECT substring(class_id, 1, 8) AS class, rank, pupil, severity, round(risk, 2) AS risk, reasons, since
FROM $database.v_class_pupils_to_follow
WHERE academy = '$academy' AND school_uai = '$school' AND rank <= 5
ORDER BY class, rank""",
    ("class", "rank", "pupil", "severity", "risk", "reasons", "since"),
    description="Risque calibré de décrochage dans les 20 prochains jours d'école, ses raisons, depuis quand ;"
    " seules les classes d'au moins k élèves sont listées.",
    width=24,
)


@dataclass
class Page:
    """One written page: its path under the output folder, its level, and the pages it links down to."""

    path: str
    level: str
    title: str
    html: str
    children: list[str] = field(default_factory=list)


@dataclass
class Report:
    pages: list[Page]

    def of_level(self, level: str) -> list[Page]:
        return [p for p in self.pages if p.level == level]


@dataclass
class SiteBuilder:
    client: Client
    database: str
    time_from: datetime
    time_to: datetime
    min_group_size: int
    fr: French
    academies: list[str]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pages: list[Page] = field(default_factory=list)

    # -- the frame shared by every page -------------------------------------------------------------------

    def _meta(self, aggregate: bool) -> str:
        period = f"Période du <strong>{day(self.time_from)}</strong> au <strong>{day(self.time_to)}</strong>"
        privacy = (
            f"les groupes de moins de {self.min_group_size} élèves sont masqués par l'entrepôt"
            if aggregate
            else "page de la classe : ses élèves n'y paraissent que sous pseudonyme"
        )
        return f"{period} · généré le {moment(self.generated_at)} (UTC) · {privacy}."

    def _footer(self) -> str:
        return (
            "Vigie — rapport hors ligne : aucune ressource externe n'est chargée. Maîtrise estimée : probabilité"
            " de réussir le prochain exercice de la compétence. « Élèves à risque » : risque calibré de décrochage"
            " de sévérité moyenne ou élevée."
        )

    def _crumbs(self, *steps: tuple[str, str | None]) -> list[html.Crumb]:
        return [html.Crumb(title, href) for title, href in steps]

    def _panels(self, results: list[PanelResult], link: Callable[[str, Any], str | None] | None) -> list[str]:
        return [html.panel(r, self.fr, link) for r in results]

    def _context(self, spec: DashboardSpec, chosen: dict[str, str]) -> QueryContext:
        """The dashboard's variables as the report sets them: the page's academy, school, class; All for the rest.

        No variable query runs (Grafana needs their options for its menus, the report does not): the
        levels use their All variables only inside ``$__conditionalAll``, which All turns into ``1=1``.
        """
        variables = {"database": VariableState((self.database,))}
        for var in spec.variables:
            if var.name in chosen:
                value = (chosen[var.name],)
                variables[var.name] = VariableState(value, value, var.multi, var.include_all)
            elif var.include_all:
                variables[var.name] = VariableState((ALL,), (), var.multi, var.include_all)
            else:
                raise ValueError(f"the report sets no value for ${var.name} of {spec.uid}")
        return QueryContext(self.time_from, self.time_to, 86_400, variables)

    def _run(self, spec: DashboardSpec, chosen: dict[str, str]) -> tuple[QueryContext, list[PanelResult]]:
        ctx = self._context(spec, chosen)
        return ctx, [
            run_panel(self.client, panel, ctx) for panel in spec.panels if panel.kind != "matrix" or spec.aggregate
        ]

    # -- levels -------------------------------------------------------------------------------------------

    def national(self) -> Page:
        spec = levels.national()
        _, results = self._run(spec, {})
        shown = set(self.academies)

        def link(column: str, value: Any) -> str | None:
            return f"{value}/index.html" if column == "academy" and value in shown else None

        children = [html.Child(f"Académie de {self.fr.academy(a)}", f"{a}/index.html") for a in self.academies]
        page = html.page(
            level="national",
            title="Observatoire national",
            crumbs=self._crumbs(("National", None)),
            meta=self._meta(True),
            children_title="Pages des académies",
            children=children,
            panels=self._panels(results, link),
            footer=self._footer(),
        )
        return self._add(Page("index.html", "national", "Observatoire national", page, [c.href for c in children]))

    def academy(self, academy: str) -> Page:
        spec = levels.academy()
        ctx, results = self._run(spec, {"academy": academy})
        listed = self.client.query(expand(levels.SCHOOL_SQL, ctx)).result_rows
        schools = [str(r[0]) for r in listed]  # v_school_at_risk: schools of at least k pupils
        self._note_unknown_schools(schools)

        def link(column: str, value: Any) -> str | None:
            return f"{value}/index.html" if column == "school_uai" and value in schools else None

        name = f"Académie de {self.fr.academy(academy)}"
        children = [html.Child(self.fr.school(s), f"{s}/index.html", self._uai_note(s)) for s in schools]
        page = html.page(
            level="academy",
            title=name,
            crumbs=self._crumbs(("National", "../index.html"), (name, None)),
            meta=self._meta(True),
            children_title="Pages des écoles et établissements",
            children=children,
            panels=self._panels(results, link),
            footer=self._footer(),
        )
        down = [f"{academy}/{c.href}" for c in children]
        built = self._add(Page(f"{academy}/index.html", "academy", name, page, down))
        for school in schools:
            self.school(academy, school)
        return built

    def school(self, academy: str, school: str) -> Page:
        spec = levels.school()
        chosen = {"academy": academy, "school": school}
        ctx, results = self._run(spec, chosen)
        results.append(run_panel(self.client, PUPILS_TO_FOLLOW, ctx))
        classes = next(r for r in results if "class_id" in r.columns)  # v_school_class_summary: classes of k+
        ci, li = classes.columns.index("class_id"), classes.columns.index("level")
        files = _class_files([str(row[ci]) for row in classes.rows])
        by_prefix = {pseudonym(c): f for c, f in files.items()}

        def link(column: str, value: Any) -> str | None:
            if column == "class_id":
                return files.get(str(value))
            if column == "class":
                return by_prefix.get(str(value))
            return None

        academy_name = f"Académie de {self.fr.academy(academy)}"
        name = self.fr.school(school)
        title = name if name == school else f"{name} — {school}"
        children = [
            html.Child(f"Classe {row[li]} · {pseudonym(str(row[ci]))}", files[str(row[ci])]) for row in classes.rows
        ]
        page = html.page(
            level="school",
            title=title,
            crumbs=self._crumbs(("National", "../../index.html"), (academy_name, "../index.html"), (name, None)),
            meta=self._meta(True),
            children_title="Pages des classes",
            children=children,
            panels=self._panels(results, link),
            footer=self._footer(),
        )
        base = f"{academy}/{school}"
        built = self._add(Page(f"{base}/index.html", "school", title, page, [f"{base}/{c.href}" for c in children]))
        for row in classes.rows:
            class_id = str(row[ci])
            self.classroom(academy, school, class_id, str(row[li]), files[class_id])
        return built

    def classroom(self, academy: str, school: str, class_id: str, level: str, file: str) -> Page:
        spec = levels.classroom()
        chosen = {"academy": academy, "school": school, "class": class_id}
        _, results = self._run(spec, chosen)  # the class dashboard's grid is redrawn below, with more in it
        grid = classroom_grid.skills_grid(self.client, self.database, academy, school, class_id)
        panels = [
            html.section(
                "Élèves × compétences : maîtrise estimée",
                classroom_grid.grid_html(grid, self.fr),
                grid.rows,
                "Une ligne par compétence travaillée dans la classe, une colonne par élève (pseudonyme) ; un élève"
                " sans réponse encore a une colonne vide.",
            )
        ]
        panels += self._panels(results, None)
        name = f"Classe {level} · {pseudonym(class_id)}"
        school_name = self.fr.school(school)
        page = html.page(
            level="class",
            title=name,
            crumbs=self._crumbs(
                ("National", "../../index.html"),
                (f"Académie de {self.fr.academy(academy)}", "../index.html"),
                (school_name, "index.html"),
                (name, None),
            ),
            meta=self._meta(False),
            children_title="",
            children=[],
            panels=panels,
            footer=self._footer(),
        )
        return self._add(Page(f"{academy}/{school}/{file}", "class", name, page))

    # -- helpers ------------------------------------------------------------------------------------------

    def _note_unknown_schools(self, schools: list[str]) -> None:
        missing = [s for s in schools if s not in self.fr.schools]
        if missing:
            log.info("%d school(s) of the report are not in the school directory: shown by their UAI", len(missing))

    def _uai_note(self, uai: str) -> str:
        return f"UAI {uai}" if uai in self.fr.schools else ""

    def _add(self, page: Page) -> Page:
        self.pages.append(page)
        return page


def _class_files(class_ids: list[str]) -> dict[str, str]:
    """Each class's page name: its pseudonym prefix, longer where two classes of a school share one."""
    files: dict[str, str] = {}
    for class_id in class_ids:
        size = 8
        while any(f == f"classe-{class_id[:size]}.html" for f in files.values()):
            size += 4
        files[class_id] = f"classe-{class_id[:size]}.html"
    return files


def build(
    client: Client,
    database: str,
    academies: list[str],
    time_from: datetime,
    time_to: datetime,
    fr: French,
    min_group_size: int,
) -> Report:
    """Every page of the report: the national page, then each academy's tree."""
    builder = SiteBuilder(client, database, time_from, time_to, min_group_size, fr, academies)
    builder.national()
    for academy in academies:
        builder.academy(academy)
    return Report(builder.pages)
