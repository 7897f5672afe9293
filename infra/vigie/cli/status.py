"""``vigie status``: the pipeline at a glance for someone without Grafana (broker, sink, warehouse, lag).

Composed here because it reads every part: Kafka's consumer groups, the warehouse (through its owner
when one runs), and the processes' metrics.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import typer

from vigie.core.cli_options import REPORT_FORMAT_HELP, ReportFormat
from vigie.core.settings import VigieSettings, load_settings


@dataclass
class Status:
    """What ``vigie status`` found; ``problems`` lists what is down (exit status 1 when any)."""

    broker: dict[str, Any] = field(default_factory=dict)
    warehouse: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def gather(settings: VigieSettings) -> Status:
    from vigie.core.errors import VigieError
    from vigie.infra.lag import group_lag, reachable

    status = Status()
    status.processes = _processes(settings)
    status.broker = {"bootstrap": settings.kafka.bootstrap_servers}
    if not reachable(settings.kafka.bootstrap_servers):
        status.broker["error"] = "no server accepts connections"
        status.problems.append(f"Kafka at {settings.kafka.bootstrap_servers} does not answer")
        status.warehouse = _warehouse(settings, status.problems)
        return status
    groups = {
        "sink": settings.sink.group_id,
        "stream": f"{settings.kafka.topic_prefix}-{settings.stream.app_id}",
    }
    for role, group in groups.items():
        try:
            partitions = group_lag(settings.kafka.bootstrap_servers, group)
        except VigieError as error:
            status.broker["error"] = str(error)
            status.problems.append(f"Kafka at {settings.kafka.bootstrap_servers} does not answer")
            break
        status.broker["reachable"] = True
        status.groups[role] = {
            "group": group,
            "lag": sum(p.lag for p in partitions),
            "partitions": [asdict(p) | {"lag": p.lag} for p in partitions],
        }
    status.warehouse = _warehouse(settings, status.problems)
    return status


def _processes(settings: VigieSettings) -> dict[str, dict[str, Any]]:
    """What the sink and the workers say on their metrics pages (nothing for a process not running)."""
    import time

    from vigie.infra.scrape import by_label, scrape, total

    found: dict[str, dict[str, Any]] = {}
    now = time.time()
    sink = scrape(settings.sink.metrics_port) if settings.sink.metrics_port else None
    if sink is not None:
        last = total(sink, "vigie_sink_last_insert_timestamp_seconds")
        found["sink"] = {
            "port": settings.sink.metrics_port,
            "consumed": total(sink, "vigie_sink_consumed_total"),
            "rows": by_label(sink, "vigie_sink_rows_total", "table"),
            "retries": total(sink, "vigie_sink_retries_total"),
            "last_insert_s_ago": round(now - last, 1) if last else None,
        }
    base = settings.stream.metrics_port
    for n in range(_worker_count(settings)) if base else ():
        worker = scrape(base + n)
        if worker is None:
            continue
        last = total(worker, "vigie_stream_last_batch_timestamp_seconds")
        found[f"worker {n + 1}"] = {
            "port": base + n,
            "events_in": total(worker, "vigie_stream_events_in_total"),
            "events_out": by_label(worker, "vigie_stream_events_out_total", "topic"),
            "dead_letters": by_label(worker, "vigie_stream_dead_letters_total", "reason"),
            "lag": total(worker, "vigie_stream_consumer_lag"),
            "last_batch_s_ago": round(now - last, 1) if last else None,
        }
    return found


def _worker_count(settings: VigieSettings) -> int:
    """Workers of a running ``vigie run`` (its pid file), else one standalone worker."""
    try:
        children = json.loads((settings.state_dir / "run.json").read_text())["children"]
    except (OSError, ValueError, KeyError):
        return 1
    return max(1, sum(1 for name in children if name.startswith("stream worker")))


def _warehouse(settings: VigieSettings, problems: list[str]) -> dict[str, Any]:
    from vigie.core.errors import VigieError
    from vigie.warehouse import owner
    from vigie.warehouse.client import connect
    from vigie.warehouse.health import table_health

    found: dict[str, Any] = {"database": settings.warehouse.database}
    if settings.clickhouse_url is not None:
        found["mode"] = "server"
    else:
        found["mode"] = "embedded"
        found["path"] = str(settings.chdb_path)
        endpoint = owner.read(owner.endpoint_file(settings.state_dir))
        found["owner_pid"] = endpoint.pid if endpoint else None
    try:
        client = connect(settings, read_only=True)
        found["tables"] = [
            {"table": t.table, "rows": t.rows, "last_insert": t.last_insert.isoformat() if t.last_insert else None}
            for t in table_health(client, settings.warehouse.database)
        ]
    except VigieError as error:
        found["error"] = str(error)
        problems.append(f"warehouse: {error}")
    return found


def status_command(
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=REPORT_FORMAT_HELP),
) -> None:
    """Broker, sink, stream and warehouse at a glance: rows, last insert, consumer lag; exit 1 if one is down."""
    status = gather(load_settings())
    if fmt is ReportFormat.json:
        typer.echo(json.dumps(asdict(status), default=str))
    else:
        _print(status)
    if status.problems:
        raise typer.Exit(1)


def _print(status: Status) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    broker = status.broker
    state = "[green]reachable[/green]" if broker.get("reachable") else f"[red]down[/red] ({broker.get('error')})"
    console.print(f"[b]Kafka[/b] {broker['bootstrap']}: {state}")
    for role, group in status.groups.items():
        by_topic: dict[str, int] = {}
        for p in group["partitions"]:
            by_topic[p["topic"]] = by_topic.get(p["topic"], 0) + p["lag"]
        detail = ", ".join(f"{topic} {lag}" for topic, lag in sorted(by_topic.items())) or "nothing committed yet"
        console.print(f"[b]{role}[/b] (group {group['group']}): lag {group['lag']} — {detail}")
    for name, process in status.processes.items():
        details = ", ".join(f"{k} {_short(v)}" for k, v in process.items() if k != "port")
        console.print(f"[b]{name}[/b] (metrics :{process['port']}): {details}")
    if not status.processes:
        console.print("no sink or worker metrics answer (not running, or VIGIE_*__METRICS_PORT=0)")
    wh = status.warehouse
    where = wh.get("path", "server")
    if wh["mode"] == "embedded":
        holder = f"served by pid {wh['owner_pid']}" if wh.get("owner_pid") else "no process holds it"
        where = f"{where}, {holder}"
    console.print(f"[b]Warehouse[/b] {wh['mode']} ({where}), database {wh['database']}")
    if "error" in wh:
        console.print(f"  [red]{wh['error']}[/red]")
        return
    table = Table("table", "rows", "last insert (UTC)")
    for t in wh["tables"]:
        table.add_row(t["table"], str(t["rows"]), t["last_insert"] or "-")
    console.print(table)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k.rsplit('.', 2)[-2] if '.' in k else k}: {v:g}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
