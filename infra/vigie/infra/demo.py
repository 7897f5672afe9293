"""The main job, end to end on the embedded defaults: what ``make demo`` runs.

Starts the broker, applies the warehouse schema, starts a stream worker in a subprocess,
publishes a simulated cohort (plus a few deliberately invalid messages), runs the sink until
everything sent is stored, then prints what was sent, processed and stored, and stops what it
started. Reruns are safe: event ids are deterministic, so events already stored are not stored again.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from vigie.settings import VigieSettings

log = logging.getLogger(__name__)


@dataclass
class DemoOutcome:
    sent: int
    invalid_sent: int
    stored_rows: dict[str, int]
    distinct_stored: dict[str, int]
    expected: dict[str, int]
    elapsed_s: float

    @property
    def exactly_once(self) -> bool:
        return all(
            self.stored_rows[t] == self.distinct_stored[t] == self.expected[t] for t in self.expected
        )


def start_worker(settings: VigieSettings, log_path: Path) -> subprocess.Popen[bytes]:
    """A stream worker in its own process (as an operator would run it), logging to a file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-c", "from vigie.cli import main; main()", "stream", "worker"],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_demo(settings: VigieSettings, *, students: int, days: int, keep_kafka: bool) -> DemoOutcome:
    from vigie.infra.broker import broker_from_settings
    from vigie.infra.demo_steps import count_stored, publish_cohort
    from vigie.infra.topics import ensure_topics
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink

    console = Console()
    started = time.monotonic()
    broker = broker_from_settings(settings)
    console.print(f"[bold]1/5[/] starting Kafka on {broker.bootstrap} (first run fetches its jars)")
    broker.start(settings.broker.start_timeout_s)
    worker = None
    try:
        ensure_topics(settings.kafka)
        console.print(f"[bold]2/5[/] applying the warehouse schema ({_where(settings)})")
        client = connect(settings)
        migrate(client, settings.warehouse)
        console.print("[bold]3/5[/] starting a stream worker (log: var/logs/stream-worker.log)")
        worker = start_worker(settings, settings.state_dir / "logs" / "stream-worker.log")
        console.print("[bold]4/5[/] publishing a simulated cohort")
        sent = publish_cohort(settings, students=students, days=days)
        console.print(f"[bold]5/5[/] sinking into ClickHouse until all {sent.total} events are stored")
        sink = Sink(settings, client)
        with Progress(console=console) as progress:
            task = progress.add_task("stored", total=sent.total)

            def done(_stats) -> bool:
                stored = count_stored(client, settings, sent)
                progress.update(task, completed=sum(stored.distinct.values()))
                return stored.complete

            sink.run(until=done, idle_timeout_s=120)
        stored = count_stored(client, settings, sent)
    finally:
        if worker is not None:
            stop_process(worker)
        if not keep_kafka:
            broker.stop()
    outcome = DemoOutcome(sent.total, sent.invalid, stored.rows, stored.distinct, sent.expected,
                          time.monotonic() - started)  # fmt: skip
    _print_summary(console, outcome, settings)
    return outcome


def _where(settings: VigieSettings) -> str:
    return "ClickHouse server" if settings.clickhouse_url else f"embedded engine at {settings.chdb_path}"


def _print_summary(console: Console, outcome: DemoOutcome, settings: VigieSettings) -> None:
    table = Table(title="Vigie demo: every event sent, and where it landed")
    table.add_column("table")
    table.add_column("expected", justify="right")
    table.add_column("rows stored", justify="right")
    table.add_column("distinct events", justify="right")
    table.add_column("duplicates", justify="right")
    for name, expected in outcome.expected.items():
        rows, distinct = outcome.stored_rows[name], outcome.distinct_stored[name]
        table.add_row(name, str(expected), str(rows), str(distinct), str(rows - distinct))
    console.print(table)
    console.print(f"events sent: {outcome.sent} valid + {outcome.invalid_sent} invalid; "
                  f"wall time {outcome.elapsed_s:.1f}s")  # fmt: skip
    verdict = "[green]every event stored exactly once[/]" if outcome.exactly_once else "[red]MISMATCH[/]"
    console.print(verdict)
    console.print(f"warehouse: {_where(settings)} — try: .venv/bin/vigie sql \"SELECT count() FROM "
                  f"{settings.warehouse.database}.answers\"")  # fmt: skip
