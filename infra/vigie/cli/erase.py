"""Erasure needs two parts: the warehouse forgets the pupil, the SDK tells the stream. Composed here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from vigie.core.contract.events import ErasureRequested
from vigie.core.errors import UsageError
from vigie.core.settings import VigieSettings, load_settings

if TYPE_CHECKING:  # the warehouse part is imported when the command runs (fast ``--help``)
    from clickhouse_connect.driver.client import Client

    from vigie.warehouse.erase import ErasureReport


def erase_everywhere(
    settings: VigieSettings, client: Client, student_id: str, academy: str | None = None
) -> ErasureReport:
    """Publish the pupil's erasure to the stream through the SDK, then erase them from the warehouse."""
    from vigie.producers.sdk import EventPublisher
    from vigie.warehouse.erase import erase_student

    def publish(events: Sequence[ErasureRequested]) -> None:
        with EventPublisher(settings.kafka) as publisher:
            for event in events:
                publisher.publish_sync(event)

    report = erase_student(settings, client, student_id, academy, publish=publish)
    if settings.gateway_db.exists():  # the xAPI gateway's roster and kept statements
        from vigie.producers.gateway.store import GatewayStore

        store = GatewayStore(settings.gateway_db)
        try:
            report.deleted["gateway roster"], report.deleted["gateway statements"] = store.forget_student(student_id)
        finally:
            store.close()
    return report


def erase_command(
    student: str = typer.Option(..., help="The pupil's pseudonym (32 hex digits)."),
    academy: str | None = typer.Option(None, help="Restrict to this academy (required if the warehouse has no row)."),
) -> None:
    """Forget a pupil: delete their rows from every table and ask the stream to drop their state."""
    import re

    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    if not re.fullmatch(r"[0-9a-f]{32}", student):
        raise UsageError("--student takes a pseudonym: 32 lowercase hex digits")
    settings = load_settings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    report = erase_everywhere(settings, client, student, academy)
    typer.echo(f"erasure of {student} published to the stream for {', '.join(report.academies)}")
    for table, count in sorted(report.deleted.items()):
        extra = f" (recomputed {report.recomputed[table]} rows)" if table in report.recomputed else ""
        typer.echo(f"  {table:28} {count} row(s) removed{extra}")
    typer.echo(f"{sum(report.deleted.values())} row(s) removed from {settings.warehouse.database}")
