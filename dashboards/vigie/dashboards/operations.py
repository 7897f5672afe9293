"""The operations dashboard: the health of the stream workers and the sink, from their Prometheus metrics.

For the person running Vigie (not for teachers): is anything flowing, is anything behind, is anything
failing. Every query reads only the metrics that ``vigie.stream.metrics`` and ``vigie.warehouse.metrics``
define (checked offline by tests/unit/test_dashboards_operations.py), aggregated by bounded labels only.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # the SDK warns at import that v2 dashboards exist; v1 is what provisioning reads
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import dashboard as dashboard_model

UID = "vigie-operations"
#: The Prometheus data source the operator provisions (scraping the workers' and the sink's /metrics).
DATASOURCE = {"type": "prometheus", "uid": "vigie-prometheus"}


@dataclass(frozen=True)
class OpsPanel:
    title: str
    description: str
    expr: str
    legend: str = ""
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8


PANELS: tuple[OpsPanel, ...] = (
    OpsPanel(
        "Dernier lot traité (s)",
        "Seconds since a stream worker last acknowledged a batch; grows when the stream is stuck.",
        "time() - max(vigie_stream_last_batch_timestamp_seconds)",
        kind="stat",
        unit="s",
        width=6,
        height=4,
    ),
    OpsPanel(
        "Dernière insertion (s)",
        "Seconds since the sink last wrote a batch to the warehouse.",
        "time() - max(vigie_sink_last_insert_timestamp_seconds)",
        kind="stat",
        unit="s",
        width=6,
        height=4,
    ),
    OpsPanel(
        "Retard du flux (messages)",
        "Messages the stream workers still have to read, all partitions.",
        "sum(vigie_stream_consumer_lag)",
        kind="stat",
        width=6,
        height=4,
    ),
    OpsPanel(
        "Retard du sink (messages)",
        "Messages the sink still has to read, all partitions.",
        "sum(vigie_sink_consumer_lag)",
        kind="stat",
        width=6,
        height=4,
    ),
    OpsPanel(
        "Événements entrants par topic",
        "Messages per second taken by the stream workers.",
        "sum by (topic) (rate(vigie_stream_events_in_total[$__rate_interval]))",
        "{{topic}}",
        unit="ops",
    ),
    OpsPanel(
        "Événements produits par topic",
        "Records per second produced by the stream workers (outputs and table changelogs).",
        "sum by (topic) (rate(vigie_stream_events_out_total[$__rate_interval]))",
        "{{topic}}",
        unit="ops",
    ),
    OpsPanel(
        "Lettres mortes par raison",
        "Invalid messages per second sent to the dead-letter topic, by the contract field at fault.",
        "sum by (reason) (rate(vigie_stream_dead_letters_total[$__rate_interval]))",
        "{{reason}}",
        unit="ops",
    ),
    OpsPanel(
        "Latence des lots (p50, p95)",
        "Time from taking a batch to having its outputs acknowledged.",
        "histogram_quantile(0.95, sum by (le) (rate(vigie_stream_batch_seconds_bucket[$__rate_interval])))",
        "p95",
        unit="s",
    ),
    OpsPanel(
        "Retard par partition (flux)",
        "Messages behind the end of each partition, for the stream workers.",
        "max by (topic, partition) (vigie_stream_consumer_lag)",
        "{{topic}}[{{partition}}]",
    ),
    OpsPanel(
        "Retard par partition (sink)",
        "Messages behind the end of each partition, for the sink.",
        "max by (topic, partition) (vigie_sink_consumer_lag)",
        "{{topic}}[{{partition}}]",
    ),
    OpsPanel(
        "Lignes insérées par table",
        "Rows per second the sink wrote to the warehouse.",
        "sum by (table) (rate(vigie_sink_rows_total[$__rate_interval]))",
        "{{table}}",
        unit="ops",
    ),
    OpsPanel(
        "Doublons écartés par table",
        "Rows per second not inserted because their event id was already stored (redeliveries after a restart).",
        "sum by (table) (rate(vigie_sink_duplicates_skipped_total[$__rate_interval]))",
        "{{table}}",
        unit="ops",
    ),
    OpsPanel(
        "Reprises du sink",
        "Batches the warehouse refused for a while and the sink retried (per second).",
        "sum(rate(vigie_sink_retries_total[$__rate_interval]))",
        "reprises",
        unit="ops",
    ),
    OpsPanel(
        "Durée d'écriture des lots (p95)",
        "Time to write a batch to the warehouse and commit its offsets.",
        "histogram_quantile(0.95, sum by (le) (rate(vigie_sink_flush_seconds_bucket[$__rate_interval])))",
        "p95",
        unit="s",
    ),
)


def build() -> dict[str, Any]:
    builder = (
        dashboard.Dashboard("Vigie — Exploitation")
        .uid(UID)
        .description("Health of the stream workers and the sink (Prometheus metrics).")
        .tags(["vigie", "operations"])
        .timezone("browser")
        .time("now-6h", "now")
        .refresh("30s")
        .readonly()
    )
    x = y = row_height = 0
    for panel_id, spec in enumerate(PANELS, start=1):
        if x + spec.width > 24:
            x, y, row_height = 0, y + row_height, 0
        kind = stat.Panel if spec.kind == "stat" else timeseries.Panel
        target = prometheus.Dataquery().expr(spec.expr).legend_format(spec.legend or "__auto").ref_id("A")
        panel = (
            kind()
            .id(panel_id)
            .title(spec.title)
            .description(spec.description)
            .datasource(dashboard_model.DataSourceRef(type_val=DATASOURCE["type"], uid=DATASOURCE["uid"]))
            .with_target(target)
            .unit(spec.unit)
            .grid_pos(dashboard_model.GridPos(h=spec.height, w=spec.width, x=x, y=y))
        )
        builder = builder.with_panel(panel)
        x += spec.width
        row_height = max(row_height, spec.height)
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def write(out_dir: Path) -> Path:
    path = out_dir / f"{UID}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return path
