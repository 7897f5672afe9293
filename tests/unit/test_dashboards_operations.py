"""The operations dashboard (Prometheus data source), checked offline: valid JSON for the SDK's model,
up to date, and every query reading metrics Vigie defines, grouped by bounded labels only."""

from __future__ import annotations

import json
import re

import pytest

import vigie.stream.metrics
import vigie.warehouse.metrics
from tests.conftest import REPO
from vigie.dashboards import grafana, operations

pytestmark = pytest.mark.unit

BOUNDED_LABELS = {"topic", "partition", "table", "reason", "le"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def _defined_series() -> dict[str, set[str]]:
    """Series name -> label names, for every metric of the worker and the sink."""
    assert vigie.stream.metrics._enabled and vigie.warehouse.metrics._enabled
    series: dict[str, set[str]] = {}
    for module in (vigie.stream.metrics, vigie.warehouse.metrics):
        for value in vars(module).values():
            name, kind = getattr(value, "_name", None), getattr(value, "_type", None)
            if not isinstance(name, str) or kind not in SUFFIXES:
                continue
            labels = set(getattr(value, "_labelnames", ()))
            for suffix in SUFFIXES[kind]:
                full = name + suffix if not name.endswith(suffix) else name
                series[full] = labels | ({"le"} if suffix == "_bucket" else set())
    return series


def test_the_dashboard_survives_the_sdk_model_roundtrip() -> None:
    document = operations.build()
    assert grafana.roundtrip(document) == document


def test_the_committed_json_is_up_to_date(tmp_path) -> None:
    committed = REPO / "dashboards" / "grafana" / f"{operations.UID}.json"
    assert committed.read_text(encoding="utf-8") == operations.write(tmp_path).read_text(encoding="utf-8"), (
        f"{committed} is stale: run `vigie dashboards build`"
    )


def test_every_panel_queries_defined_metrics_by_bounded_labels() -> None:
    defined = _defined_series()
    assert "vigie_stream_events_in_total" in defined and "vigie_sink_rows_total" in defined
    used: set[str] = set()
    for panel in operations.build()["panels"]:
        assert panel["datasource"] == operations.DATASOURCE, panel["title"]
        (target,) = panel["targets"]
        expr = target["expr"]
        names = set(re.findall(r"\bvigie_[a-z_]+", expr))
        assert names, f"{panel['title']}: no Vigie metric in {expr}"
        for name in names:
            assert name in defined, f"{panel['title']}: {name} is not a metric Vigie exports"
        for group in re.findall(r"by \(([^)]*)\)", expr):
            labels = {label.strip() for label in group.split(",")}
            assert labels <= BOUNDED_LABELS, f"{panel['title']}: groups by {labels - BOUNDED_LABELS}"
            assert all(labels - {"le"} <= defined[name] for name in names), f"{panel['title']}: {labels}"
        used |= names
    # Every family of the brief is on the dashboard: in/out, dead letters, latency, lag, rows, retries, last insert.
    for wanted in (
        "vigie_stream_events_in_total",
        "vigie_stream_events_out_total",
        "vigie_stream_dead_letters_total",
        "vigie_stream_batch_seconds_bucket",
        "vigie_stream_consumer_lag",
        "vigie_sink_consumer_lag",
        "vigie_sink_rows_total",
        "vigie_sink_retries_total",
        "vigie_sink_last_insert_timestamp_seconds",
    ):
        assert wanted in used, wanted


def test_panels_do_not_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in operations.build()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not area & cells, panel["title"]
        cells |= area


def test_no_pupil_identifier_in_any_query() -> None:
    text = json.dumps(operations.build())
    assert not re.search(r"student|pupil|class_id|school_uai", text)
