"""The offline HTML report: one page per level, linked, in French, k-safe above the class, drawn in a browser.

The warehouse is filled by the simulator path of the dashboard tests (tests/dashboards_data.py), plus
one school of 3 pupils (under k) that no page above the class may show. A school directory in the
national export's layout is loaded through `vigie warehouse schools`: its names are MADE UP for the
test (marked "fictive"), and one school is left out of it to check that its UAI is shown instead.

Rendering needs Debian's `chromium` (`apt-get install -y chromium`); the test installs it when missing
and skips only when it is absent and cannot be installed. Screenshots of each level are written to
test-artifacts/report/ (the path is printed); with VIGIE_DOCS_SCREENSHOTS=1 they are also copied to
docs/img/report/, where the docs show them.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import factories, factories_warehouse
from tests.conftest import REPO
from tests.dashboards_data import COHORT, TIME_FROM, TIME_TO, dashboard_settings, fill
from vigie.core.contract.taxonomy import skills

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
ARTIFACTS = REPO / "test-artifacts" / "report"
DOCS_IMG = REPO / "docs" / "img" / "report"
SMALL_SCHOOL = "0699990Z"  # 3 pupils: under k, never shown above the class
ENGLISH = ("school_uai", "success_rate", "group_size", "at_risk_share", "mean_mastery", "raised", "cleared")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if shutil.which("apt-get"):
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            subprocess.run(command, capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if not found:
        pytest.skip("chromium is not installed and `apt-get install -y chromium` failed")
    return found


def _in_parallel(commands: dict[str, list[str]], timeout_s: float = 180) -> dict[str, subprocess.CompletedProcess]:
    running = {
        name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, command in commands.items()
    }
    done = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=timeout_s)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


class _Links(HTMLParser):
    """Every href of a page, those of the breadcrumb (up) and of the children list (down) apart."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.up: list[str] = []
        self.down: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
            if found.get("data-up"):
                self.up.append(str(found["data-up"]))
            if found.get("data-down"):
                self.down.append(str(found["data-down"]))


def _links(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _visible(html: str) -> str:
    """What a reader sees: no query text, no tags, no style or script."""
    html = re.sub(r"<(details|style|script)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


@dataclass
class Built:
    out: Path
    database: str
    schools: list[str]
    named: dict[str, str]
    raw_identifiers: set[str]
    k: int
    client: object
    state_dir: Path


def _add_small_school(client, settings) -> None:
    """3 pupils in one class of lyon, one of them at high risk: under k, at every level above the class."""
    from vigie.warehouse.rows import ANSWERS, MASTERY_UPDATES_TABLE, SIGNALS_TABLE, answer_row, mastery_row, signal_row
    from vigie.warehouse.sink import WarehouseWriter

    where = {"academy": "lyon", "school_uai": SMALL_SCHOOL, "class_id": factories.PSEUDONYMS.school_class("petite")}
    pupils = [factories.student(900 + n) for n in range(3)]
    answers = [
        factories.answer(**where, student_id=p, occurred_at=TIME_TO.replace(day=18, hour=9 + i), correct=i % 2 == 0)
        for p in pupils
        for i in range(3)
    ]
    mastery = [factories_warehouse.mastery_updated(**where, student_id=p, attempts=1) for p in pupils]
    risk = factories_warehouse.signal_changed(
        **where, student_id=pupils[0], signal_type="dropout_risk", severity="high"
    )
    writer = WarehouseWriter(client, settings.warehouse.database)
    writer.write(ANSWERS, {a.event_id: answer_row(a) for a in answers})
    writer.write(MASTERY_UPDATES_TABLE, {m.event_id: mastery_row(m) for m in mastery})
    writer.write(SIGNALS_TABLE, {risk.event_id: signal_row(risk)})


def _directory(path: Path, schools: list[str], left_out: str) -> dict[str, str]:
    """A directory file in the national export's layout (labels as headers, ';', BOM), names made up."""
    named = {uai: f"École fictive n° {n + 1}" for n, uai in enumerate(schools) if uai != left_out}
    named[SMALL_SCHOOL] = "École fictive trop petite"
    lines = ["Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Nom_commune;Libelle_academie"]
    lines += [f"{uai};{name};Ecole;Commune-Test;Lyon" for uai, name in named.items()]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return named


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Built]:
    import os

    from typer.testing import CliRunner

    from vigie.cli import app
    from vigie.dashboards.report import write_report
    from vigie.producers.simulator import Simulation
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    settings = dashboard_settings(state_dir)
    client = connect(settings)
    migrate(client, settings.warehouse)
    fill(client, settings)
    _add_small_school(client, settings)
    db = settings.warehouse.database
    schools = [
        r[0] for r in client.query(f"SELECT DISTINCT school_uai FROM {db}.v_school_at_risk ORDER BY 1").result_rows
    ]
    folder = tmp_path_factory.mktemp("report")
    left_out = client.query(f"SELECT min(school_uai) FROM {db}.v_school_at_risk WHERE academy = 'lyon'").result_rows[0][
        0
    ]
    named = _directory(folder / "annuaire.csv", schools, left_out)
    env = {"VIGIE_STATE_DIR": str(settings.state_dir), "VIGIE_WAREHOUSE__DATABASE": db}
    saved = {k: os.environ.get(k) for k in env}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    os.environ.update(env)
    try:
        loaded = CliRunner().invoke(app, ["warehouse", "schools", str(folder / "annuaire.csv")])
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        root.handlers[:] = handlers  # the command configured logging on the runner's (now closed) stderr
        root.setLevel(level)
    assert loaded.exit_code == 0, loaded.output
    assert f"{len(named)} school(s) loaded" in loaded.output and f"({len(named)} with a known academy)" in loaded.output
    out = folder / "site"
    write_report(settings, client, out, time_from=TIME_FROM, time_to=TIME_TO)
    raw = Simulation(COHORT, settings.privacy).cohort.raw_identifiers()
    yield Built(out, db, schools, named, raw, settings.warehouse.min_group_size, client, settings.state_dir)
    client.command(f"DROP DATABASE IF EXISTS {db}")


def _pages(built: Built) -> dict[str, list[Path]]:
    out = built.out
    return {
        "national": [out / "index.html"],
        "academy": sorted(out.glob("*/index.html")),
        "school": sorted(out.glob("*/*/index.html")),
        "class": sorted(out.glob("*/*/classe-*.html")),
    }


def test_every_level_has_its_pages_and_links_resolve_up_and_down(built: Built) -> None:
    pages = _pages(built)
    classes = built.client.query(f"SELECT count() FROM {built.database}.v_school_class_summary").result_rows[0][0]
    assert len(pages["academy"]) == len(COHORT.academies)
    assert len(pages["school"]) == len(built.schools) == len(COHORT.academies) * COHORT.schools_per_academy
    assert len(pages["class"]) == classes > 0
    every = {p.resolve() for group in pages.values() for p in group}
    reached, todo = set(), [built.out / "index.html"]
    while todo:  # every page is reached from the national page by following links down
        page = todo.pop().resolve()
        if page in reached:
            continue
        reached.add(page)
        links = _links(page)
        for href in links.hrefs:
            assert not href.startswith(("http:", "https:", "//", "/")), (page, href)
            target = (page.parent / href).resolve()
            assert target.is_file(), f"{page.relative_to(built.out.resolve())}: {href} leads nowhere"
        todo += [page.parent / href for href in links.down]
    assert reached == every
    parent_of = {"academy": "../index.html", "school": "../index.html", "class": "index.html"}
    for level, parent in parent_of.items():  # each page links up to its parent (and the national page)
        for page in pages[level]:
            up = _links(page).up
            assert parent in up and (page.parent / up[0]).resolve() == (built.out / "index.html").resolve(), page


def test_pages_read_in_french_with_names_labels_and_percentages(built: Built) -> None:
    pages = _pages(built)
    for group in pages.values():
        for page in group:
            text = _visible(page.read_text(encoding="utf-8"))
            for word in ENGLISH:
                assert not re.search(rf"\b{word}\b", text), (page, word)
            assert re.search(r"\d+\u00a0%", text), (page, "no percentage such as '72 %'")
            assert not re.search(r"\b0\.\d{2,}\b", text), (page, "a share printed as 0.553")
            assert "novembre 2025" in text, (page, "the period in French")
    national = _visible(pages["national"][0].read_text(encoding="utf-8"))
    for label in ("Taux de réussite", "Maîtrise moyenne", "Élèves", "Part d'élèves à risque", "Lyon", "Grenoble"):
        assert label in national, label
    academy = _visible((built.out / "lyon" / "index.html").read_text(encoding="utf-8"))
    lyon = [s for s in built.schools if (built.out / "lyon" / s).is_dir()]
    assert any(s not in built.named for s in lyon) and any(s in built.named for s in lyon)
    for school in lyon:
        if school in built.named:
            assert built.named[school] in academy and "Commune-Test" in academy, school
        else:  # the directory does not know it: its code is shown
            assert school in academy, school
    shown = set(re.findall(r"\b(?:C2|C3|C4|SE)-(?:FR|MA)-[A-Z]{3}-\d{2}\b", academy))
    assert shown and all(skills()[code].label in academy for code in shown), "skill labels beside codes"
    cls = _visible(pages["class"][0].read_text(encoding="utf-8"))
    for label in ("Élève (pseudonyme)", "Erreurs récurrentes", "Groupes de besoins", "Élèves à suivre", "maîtrisé"):
        assert label in cls, label


def test_no_raw_identifier_and_no_whole_pseudonym_on_any_page(built: Built) -> None:
    assert built.raw_identifiers
    for group in _pages(built).values():
        for page in group:
            html = page.read_text(encoding="utf-8")
            assert not re.search(r"[0-9a-f]{32}", html), page  # pseudonyms appear as 8-digit prefixes only
            found = [raw for raw in built.raw_identifiers if raw in html]
            assert not found, (page, found[:3])


def test_small_groups_are_hidden_above_the_class(built: Built) -> None:
    pages = _pages(built)
    assert not (built.out / "lyon" / SMALL_SCHOOL).exists()
    for level in ("national", "academy", "school"):
        for page in pages[level]:
            html = page.read_text(encoding="utf-8")
            assert SMALL_SCHOOL not in html and "trop petite" not in html, page
    sizes = built.client.query(
        f"SELECT substring(class_id, 1, 8), uniqExactMerge(pupils_state) FROM {built.database}.agg_pupils_daily "
        "GROUP BY class_id"
    ).result_rows
    small = {prefix for prefix, pupils in sizes if pupils < built.k}
    assert small, "the test needs a class under k"
    linked = {m for p in pages["class"] for m in re.findall(r"classe-([0-9a-f]{8})", p.name)}
    assert linked and not linked & small


def test_the_class_page_shows_the_grid_errors_needs_and_pupils_to_follow(built: Built) -> None:
    pages = _pages(built)["class"]
    rows: dict[str, int] = {}
    mastered = thin = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for title, n in re.findall(r'data-panel="([^"]+)" data-rows="(\d+)"', html):
            rows[title] = rows.get(title, 0) + int(n)
        mastered += html.count('data-mastered="1"')
        thin += html.count('data-thin="1"')
        assert re.search(r'<td class="m[^"]*"[^>]*>\d+\u00a0%', html), page
    for title in (
        "Élèves × compétences : maîtrise estimée",
        "Erreurs récurrentes",
        "Groupes de besoins (compétences sous le seuil)",
        "Élèves à suivre et raisons",
    ):
        assert rows.get(title, 0) > 0, (title, rows)
    assert mastered > 0 and thin > 0, (mastered, thin)


def test_report_renders_in_headless_chromium(built: Built, tmp_path: Path) -> None:
    import os

    browser = [_chromium(), *CHROMIUM_FLAGS]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(built)
    chosen = {  # one page per level; the class with the most pupils to follow
        "national": pages["national"][0],
        "academie": built.out / "lyon" / "index.html",
        "ecole": pages["school"][0],
        "classe": max(pages["class"], key=lambda p: p.read_text(encoding="utf-8").count("points de risque")),
    }
    # Each level's page in its own browser, all at once (the runs wait mostly on start-up): first the DOM
    # after the inline script ran (charts drawn, page height), then a screenshot of the whole page.
    doms = _in_parallel(
        {
            name: [
                *browser,
                f"--user-data-dir={tmp_path / f'dom-{name}'}",
                "--window-size=1280,1000",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ]
            for name, page in chosen.items()
        }
    )
    heights = {}
    for name, dom in doms.items():
        assert dom.returncode == 0, dom.stderr[-2000:]
        body = re.search(r"<body([^>]*)>", dom.stdout)
        assert body, dom.stdout[:500]
        rendered = int(re.search(r'data-charts-rendered="(\d+)"', body[1])[1])
        total = int(re.search(r'data-charts-total="(\d+)"', body[1])[1])
        assert total >= 1 and rendered == total, (name, rendered, total)  # every SVG chart has a non-empty box
        heights[name] = min(6000, int(re.search(r'data-height="(\d+)"', body[1])[1]))  # the whole page
    for name in chosen:
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    shots = _in_parallel(
        {
            name: [
                *browser,
                f"--user-data-dir={tmp_path / f'shot-{name}'}",
                f"--window-size=1280,{heights[name]}",
                f"--screenshot={ARTIFACTS / f'{name}.png'}",
                page.as_uri(),
            ]
            for name, page in chosen.items()
        }
    )
    for name, shot in shots.items():
        screenshot = ARTIFACTS / f"{name}.png"
        assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
        assert screenshot.stat().st_size > 20_000, name  # a blank page is a few KB
        if os.environ.get("VIGIE_DOCS_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(screenshot, DOCS_IMG / f"{name}.png")
    print(f"report screenshots: {ARTIFACTS}")


def test_a_report_with_no_answer_in_its_period_is_an_error_not_an_empty_page(built: Built, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from vigie.cli import app, report
    from vigie.core.errors import PermanentError, UsageError

    monkeypatch.setenv("VIGIE_STATE_DIR", str(built.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", built.database)  # its answers are of 2025: none in the last day
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "--academy", "lyon", "--out", str(out), "--days", "1"])
    assert isinstance(result.exception, PermanentError), result.output
    assert "no answer of academy lyon" in str(result.exception) and report(result.exception) == 1
    assert not out.exists()
    as_file = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "report.html")])
    assert isinstance(as_file.exception, UsageError) and "folder" in str(as_file.exception)


def test_the_academy_dashboard_names_schools_from_the_directory_too(built: Built) -> None:
    from vigie.dashboards import levels
    from vigie.dashboards.runner import run_dashboard

    _, results = run_dashboard(built.client, levels.academy(), built.database, TIME_FROM, TIME_TO, {"academy": "lyon"})
    schools = next(r for r in results if "school_name" in r.columns)
    uai, name = schools.columns.index("school_uai"), schools.columns.index("school_name")
    assert schools.rows and any(row[uai] not in built.named for row in schools.rows)
    for row in schools.rows:
        known = built.named.get(row[uai])
        assert row[name] == (f"{known} (Commune-Test)" if known else row[uai]), row
