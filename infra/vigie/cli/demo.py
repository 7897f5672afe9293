"""The main job, end to end on the embedded defaults: what ``make demo`` runs.

Starts the broker, applies the warehouse schema, starts a stream worker in a subprocess,
publishes a simulated cohort (plus a few deliberately invalid messages), runs the sink until
everything sent is stored, then prints what was sent, processed and stored, and stops what it
started. Reruns are safe: event ids are deterministic, so events already stored are not stored again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from vigie.cli.demo_steps import SentCohort
from vigie.core.settings import VigieSettings
from vigie.infra.processes import start_worker, stop_process

log = logging.getLogger(__name__)


@dataclass
class DemoOutcome:
    sent: int
    invalid_sent: int
    stored_rows: dict[str, int]
    distinct_stored: dict[str, int]
    expected: dict[str, int]
    signals: int
    report: Path | None
    elapsed_s: float

    @property
    def exactly_once(self) -> bool:
        return all(self.stored_rows[t] == self.distinct_stored[t] == self.expected[t] for t in self.expected)


def run_demo(
    settings: VigieSettings, *, academies: tuple[str, ...], students: int, days: int, keep_kafka: bool
) -> DemoOutcome:
    from vigie.cli.demo_steps import count_stored, publish_cohort
    from vigie.core.topics import ensure_topics
    from vigie.infra.broker import broker_from_settings
    from vigie.warehouse.client import connect
    from vigie.warehouse.daily import reconcile_all
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink

    console = Console()
    started = time.monotonic()
    broker = broker_from_settings(settings)
    already_running = broker.status().running  # then it is someone else's: the demo leaves it running
    if already_running:
        console.print(f"[bold]1/6[/] using the Kafka broker already running on {broker.bootstrap}")
    else:
        console.print(f"[bold]1/6[/] starting Kafka on {broker.bootstrap} (the first run fetches its jars with Maven)")
        broker.start(settings.broker.start_timeout_s)
    worker = None
    try:
        ensure_topics(settings.kafka)
        console.print(f"[bold]2/6[/] applying the warehouse schema ({_where(settings)})")
        client = connect(settings)
        migrate(client, settings.warehouse)
        worker_log = settings.state_dir / "logs" / "stream-worker.log"
        console.print(f"[bold]3/6[/] starting a stream worker: mastery and signals (log: {worker_log})")
        worker = start_worker(settings, worker_log, loglevel="warning")
        console.print(f"[bold]4/6[/] publishing a simulated cohort ({', '.join(academies)}) and 3 invalid messages")
        sent = publish_cohort(settings, academies=academies, students=students, days=days)
        add_gateway_statements(settings, sent, academies[0], console)
        console.print(
            f"[bold]5/6[/] sinking into ClickHouse until every answer, session, mastery update and "
            f"dead letter is stored ({sent.first_day} .. {sent.last_day})"
        )
        sink = Sink(settings, client)
        goal = sum(sent.expected.values())
        with Progress(console=console) as progress:
            task = progress.add_task("stored", total=goal)

            def done(_stats) -> bool:
                if worker.poll() is not None:
                    raise DemoError(f"the stream worker exited ({worker.returncode}); see {worker_log}")
                stored = count_stored(client, settings, sent)
                progress.update(task, completed=sum(stored.distinct.values()))
                return stored.complete(sent)

            sink.run(until=done, idle_timeout_s=180)
            # Signals of the last day come from the timer: give the sink a moment to take them too.
            sink.run(idle_timeout_s=3)
        stored = count_stored(client, settings, sent)
        console.print("[bold]6/6[/] reconciling the daily sums (an operator's nightly job), writing the HTML report")
        reconcile_all(client, settings.warehouse.database, settings.warehouse.retention_days)
        report = _write_report(settings, client, academies[0], sent)
    finally:
        if worker is not None:
            stop_process(worker)
        if already_running:
            console.print(f"left running: the Kafka broker on {broker.bootstrap} (the demo did not start it)")
        elif keep_kafka:
            console.print(f"left running: the Kafka broker on {broker.bootstrap} (--keep-kafka)")
        else:
            broker.stop()
    outcome = DemoOutcome(
        sent.total,
        sent.invalid,
        stored.rows,
        stored.distinct,
        sent.expected,
        stored.signals,
        report,
        time.monotonic() - started,
    )
    _print_summary(console, outcome, settings)
    return outcome


def add_gateway_statements(settings: VigieSettings, sent: SentCohort, academy: str, console: Console) -> None:
    """A platform that speaks xAPI: Moodle- and H5P-shaped statements posted to the gateway over HTTP."""
    try:
        from vigie.producers.gateway.demo import post_demo_statements
    except ImportError:  # the gateway extra is not installed
        return
    from vigie.stream.mastery.processor import mastery_event_id

    gateway = post_demo_statements(settings, academy=academy)
    for table, ids in gateway.expected_ids.items():
        sent.ids.setdefault(table, []).extend(ids)
    sent.ids["mastery_updates"].extend(mastery_event_id(i) for i in gateway.expected_ids.get("answers", []))
    console.print(
        f"      + {gateway.posted} xAPI statements (Moodle quiz, H5P) posted to the gateway at {gateway.url}, "
        f"{gateway.accepted} accepted; a client retry {'made no new event' if gateway.retried_same_ids else 'DIFFERED'}"
    )


class DemoError(RuntimeError):
    """The demo could not complete (a component stopped)."""


def _write_report(settings: VigieSettings, client, academy: str, sent) -> Path | None:
    try:
        from vigie.dashboards.report import write_report
    except ImportError:  # the dashboards part is not installed
        return None
    from datetime import UTC, datetime
    from datetime import time as day_time

    time_from = datetime.combine(sent.first_day, day_time.min, tzinfo=UTC)
    time_to = datetime.combine(sent.last_day, day_time.max, tzinfo=UTC)
    out = (settings.state_dir / "report").resolve()
    write_report(settings, client, out, academies=[academy], time_from=time_from, time_to=time_to)
    return out / "index.html"


def _where(settings: VigieSettings) -> str:
    return "ClickHouse server" if settings.clickhouse_url else f"embedded engine at {settings.chdb_path}"


def _print_summary(console: Console, outcome: DemoOutcome, settings: VigieSettings) -> None:
    table = Table(title="Vigie demo: every event sent, and where it landed")
    for column in ("table", "expected", "rows stored", "distinct events", "duplicates"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, expected in outcome.expected.items():
        rows, distinct = outcome.stored_rows[name], outcome.distinct_stored[name]
        table.add_row(name, str(expected), str(rows), str(distinct), str(rows - distinct))
    console.print(table)
    console.print(
        f"events sent: {outcome.sent} valid + {outcome.invalid_sent} invalid; "
        f"signal changes stored: {outcome.signals}; wall time {outcome.elapsed_s:.1f}s"
    )
    verdict = "[green]every event stored exactly once[/]" if outcome.exactly_once else "[red]MISMATCH[/]"
    console.print(verdict)
    if outcome.report is not None:
        console.print(f"report: {outcome.report} (open it in a browser; it needs no network)")
    db = settings.warehouse.database
    example = f"SELECT skill_code, count() FROM {db}.answers GROUP BY skill_code ORDER BY 2 DESC LIMIT 5"
    console.print(f'warehouse: {_where(settings)} — try: .venv/bin/vigie sql "{example}"')
