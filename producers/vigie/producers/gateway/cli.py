"""``vigie gateway`` (serve the xAPI endpoint) and ``vigie platforms …`` (configure who may post and how
their statements become events). Configuration lives in the gateway's SQLite file under the state folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import typer
from rich.console import Console
from rich.table import Table

from vigie.core.cli_options import FORMAT_HELP, REPORT_FORMAT_HELP, OutputFormat, ReportFormat, emit_rows
from vigie.core.errors import UsageError
from vigie.core.settings import load_settings

if TYPE_CHECKING:
    from vigie.producers.gateway.store import GatewayStore

platforms = typer.Typer(
    help="Platforms that post xAPI statements: credentials, skill rules, roster, replay.", no_args_is_help=True
)


def gateway(
    host: str | None = typer.Option(None, help="Listen address (default VIGIE_GATEWAY__HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default VIGIE_GATEWAY__PORT, 8300)."),
    workers: int = typer.Option(1, min=1, help="Worker processes (the settings come from the environment)."),
) -> None:
    """Serve the xAPI statements endpoint (POST/PUT/GET /xAPI/statements, GET /xAPI/about) until interrupted."""
    from vigie.producers.gateway.server import serve

    settings = load_settings()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if overrides:
        settings = settings.model_copy(update={"gateway": settings.gateway.model_copy(update=overrides)})
    typer.echo(
        f"xAPI gateway on http://{settings.gateway.host}:{settings.gateway.port}/xAPI/ (state {settings.gateway_db})",
        err=True,
    )
    serve(settings, workers)


#: The help of every platform argument (the slug is given when the platform is added).
SLUG_HELP = "The platform's slug (see `vigie platforms list`)."


def _store() -> GatewayStore:
    from vigie.producers.gateway.store import GatewayStore

    return GatewayStore(load_settings().gateway_db)


@platforms.command("add")
def add(
    slug: str = typer.Argument(..., help="Platform slug, e.g. elea-lyon (part of every event id: never change it)."),
    academy: list[str] = typer.Option(..., "--academy", help="An academy the platform writes for (repeat)."),
    default_response_time_ms: int = typer.Option(30_000, help="Response time of answers sent without a duration."),
) -> None:
    """Create (or update) a platform."""
    from pydantic import ValidationError

    from vigie.producers.gateway.config import Platform

    store = _store()
    previous = store.platform(slug)
    try:
        platform = Platform(
            slug=slug,
            academies=tuple(academy),
            default_response_time_ms=default_response_time_ms,
            verbs=previous.verbs if previous else {},
        )
    except ValidationError as error:
        raise UsageError(f"platform {slug!r}: {error.errors()[0]['msg']}") from None
    store.save_platform(platform)
    typer.echo(f"platform {slug} {'updated' if previous else 'created'}: academies {', '.join(platform.academies)}")


@platforms.command("list")
def list_platforms(
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, help="File to write instead of stdout (required for parquet)."),
) -> None:
    """The platforms, their academies and what their statements became."""
    store = _store()
    on_screen = fmt is OutputFormat.table  # text cells; the other formats keep lists and counts typed
    rows = []
    for p in store.platforms():
        counts = store.counts(p.slug)
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "-"
        academies = ", ".join(p.academies) if on_screen else list(p.academies)
        rows.append(
            (p.slug, academies, len(store.rules(p.slug)), store.roster_size(p.slug), statuses if on_screen else counts)
        )
    emit_rows(("platform", "academies", "rules", "roster", "statements"), rows, fmt, out, width=160)


@platforms.command("show")
def show(
    slug: str = typer.Argument(..., help=SLUG_HELP),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=REPORT_FORMAT_HELP),
) -> None:
    """One platform: settings, credentials (keys only), rules, roster size, unmapped reasons."""
    store = _store()
    platform = store.require_platform(slug)
    credentials = [{"key": key, "kind": kind, "created_at": created} for key, kind, created in store.credentials(slug)]
    rules = [rule.model_dump(mode="json") for rule in store.rules(slug)]
    unmapped = dict(store.unmapped_reasons(slug))
    if fmt is ReportFormat.json:
        found = {
            "platform": platform.model_dump(mode="json"),
            "roster": store.roster_size(slug),
            "statements": store.counts(slug),
            "credentials": credentials,
            "rules": rules,
            "unmapped_reasons": unmapped,
        }
        typer.echo(json.dumps(found, ensure_ascii=False))
        return
    console = Console(width=200)
    console.print(platform.model_dump())
    console.print(f"roster: {store.roster_size(slug)} pupils; statements: {store.counts(slug)}")
    for credential in credentials:
        console.print(f"credential {credential['key']} ({credential['kind']}, created {credential['created_at']})")
    table = Table("match", "value", "skill", "level")
    for rule in rules:
        table.add_row(rule["match"], rule["value"], rule["skill_code"], rule["level"] or "")
    console.print(table)
    for reason, count in unmapped.items():
        console.print(f"unmapped {count}: {reason}")


@platforms.command("remove")
def remove(slug: str = typer.Argument(..., help=SLUG_HELP)) -> None:
    """Delete a platform with its credentials, rules and roster (kept statements stay)."""
    typer.echo(f"platform {slug} removed" if _store().remove_platform(slug) else f"no platform {slug}")


@platforms.command("credential")
def credential(
    slug: str = typer.Argument(..., help=SLUG_HELP),
    bearer: bool = typer.Option(False, "--bearer", help="A bearer token instead of a Basic key/secret."),
) -> None:
    """Create a credential; the secret is printed once and only its digest is stored."""
    key, secret = _store().add_credential(slug, "bearer" if bearer else "basic")
    if bearer:
        typer.echo(f"bearer token (shown once): {key}.{secret}")
    else:
        typer.echo(f"key: {key}\nsecret (shown once): {secret}")


@platforms.command("revoke")
def revoke(key: str = typer.Argument(..., help="The credential's key (vk_…).")) -> None:
    """Revoke a credential at once (a running gateway refuses it from its next request)."""
    typer.echo(f"{key} revoked" if _store().revoke(key) else f"no credential {key}")


@platforms.command("rule")
def rule(
    slug: str = typer.Argument(..., help=SLUG_HELP),
    match: str = typer.Option(..., help="How it matches: activity | parent | h5p-content | moodle-cmid | prefix."),
    value: str = typer.Option(..., help="The IRI, content id, cmid or IRI prefix."),
    skill: str = typer.Option(..., help="Skill code of the taxonomy (`vigie skills`)."),
    level: str | None = typer.Option(None, help="Level the content is meant for (informative)."),
    remove: bool = typer.Option(False, "--remove", help="Remove this match/value rule instead."),
) -> None:
    """Map activities to a skill: by IRI, parent/grouping IRI, H5P content id, Moodle cmid or IRI prefix."""
    from pydantic import ValidationError

    from vigie.producers.gateway.config import RuleMatch, SkillRule

    if match not in get_args(RuleMatch):
        raise UsageError(f"--match must be one of {', '.join(get_args(RuleMatch))}, not {match!r}")
    store = _store()
    if remove:
        typer.echo("rule removed" if store.remove_rule(slug, match, value) else "no such rule")
        return
    try:
        new = SkillRule.model_validate({"match": match, "value": value, "skill_code": skill, "level": level})
    except ValidationError as error:
        raise UsageError(f"rule: {error.errors()[0]['msg']}") from None
    store.add_rule(slug, new)
    typer.echo(
        f"{slug}: {match} {value} -> {new.skill_code} ({new.subject}); `vigie platforms replay {slug}` "
        "maps statements kept before"
    )


@platforms.command("verb")
def verb(
    slug: str = typer.Argument(..., help=SLUG_HELP),
    iri: str = typer.Argument(..., help="The verb's IRI."),
    role: str = typer.Argument(..., help="The verb's role: answer | session_start | session_end | abandon | none."),
) -> None:
    """Give a verb a role for this platform (over the defaults: answered = answer, completed = session end…)."""
    from vigie.producers.gateway.config import VerbRole

    if role not in get_args(VerbRole):
        raise UsageError(f"role must be one of {', '.join(get_args(VerbRole))}, not {role!r}")
    store = _store()
    platform = store.require_platform(slug)
    store.save_platform(platform.model_copy(update={"verbs": {**platform.verbs, iri: role}}))
    typer.echo(f"{slug}: {iri} -> {role}")


@platforms.command("roster")
def roster(
    slug: str = typer.Argument(..., help=SLUG_HELP),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: learner,uai,class,level[,academy]."),
    academy: str | None = typer.Option(None, help="Academy of every row (when the CSV has no academy column)."),
) -> None:
    """Import a roster: pseudonymised while read with the academy's key (raw ids are never stored)."""
    from vigie.producers.gateway.config import roster_entries
    from vigie.producers.pseudonym import AcademyPseudonymizers

    settings = load_settings()
    store = _store()
    platform = store.require_platform(slug)
    text = path.read_text(encoding="utf-8")
    count = store.import_roster(
        slug, list(roster_entries(text, platform, AcademyPseudonymizers(settings.privacy), academy))
    )
    typer.echo(
        f"{slug}: {count} pupils imported ({store.roster_size(slug)} in the roster); "
        f"`vigie platforms replay {slug}` maps statements kept before"
    )


@platforms.command("replay")
def replay(slug: str = typer.Argument(..., help=SLUG_HELP)) -> None:
    """Map again the statements kept unmapped (after adding rules or a roster) and publish their events."""
    from vigie.producers.gateway.server import build_service

    settings = load_settings()
    service = build_service(settings)
    try:
        report = service.replay(slug)
    finally:
        service.publisher.close()
        service.store.close()
    typer.echo(
        f"{slug}: {report.replayed} statements replayed into events; still unmapped: {dict(report.still_unmapped) or 0}"
    )


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)
    app.add_typer(platforms, name="platforms")
