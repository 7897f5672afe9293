"""Vigie's dashboard specs → Grafana dashboard JSON, with grafana-foundation-sdk builders.

Every target is a ``ClickHouseQuery`` (the SDK has no ClickHouse type: see ``query.py``); the
JSON is the classic dashboard model that file provisioning and ``/api/dashboards/db`` accept.
``roundtrip`` loads a dashboard back through the SDK's own decoder (``Dashboard.from_json``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from vigie.dashboards.clickhouse_query import DATASOURCE_UID, ClickHouseQueryBuilder, Format, datasource_ref, register
from vigie.dashboards.model import DashboardSpec, LinkSpec, PanelSpec, VariableSpec

with warnings.catch_warnings():  # the SDK warns at import that v2 dashboards exist; v1 is what provisioning reads
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import barchart, dashboard, geomap, piechart, stat, table, timeseries
    from grafana_foundation_sdk.builders import common as common_builder
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common as common_model
    from grafana_foundation_sdk.models import dashboard as dashboard_model
    from grafana_foundation_sdk.models import geomap as geomap_model

#: Folder uid and title per level (folder uids differ from dashboard uids: older Grafanas share the namespace).
FOLDERS: dict[str, tuple[str, str]] = {
    "national": ("vigie-folder-national", "Vigie — National / Observatoire"),
    "academy": ("vigie-folder-academie", "Vigie — Académies (DRANE)"),
    "school": ("vigie-folder-ecole", "Vigie — Écoles et établissements"),
    "class": ("vigie-folder-classe", "Vigie — Classes (enseignants)"),
}


def _link(link: LinkSpec) -> dashboard.DashboardLink:
    return (
        dashboard.DashboardLink(link.title)
        .type(dashboard_model.DashboardLinkType.DASHBOARDS)
        .tags([f"uid:{link.dashboard_uid}"])
        .include_vars(True)
        .keep_time(True)
        .as_dropdown(False)
    )


def _data_link(link: LinkSpec, spec: PanelSpec, variables: set[str]) -> dashboard.DashboardLink:
    """A cell link from a row to the lower level: the row's academy/school/class, the page's time range."""
    params = ["${__url_time_range}"]
    for var, column in (("academy", "academy"), ("school", "school_uai"), ("class", "class_id")):
        if column in spec.columns:
            params.append(f"var-{var}=${{__data.fields.{column}}}")
        elif var in variables:
            params.append(f"${{{var}:queryparam}}")
    return dashboard.DashboardLink(link.title).url(f"/d/{link.dashboard_uid}?" + "&".join(params))


def _variable(var: VariableSpec) -> dashboard.QueryVariable:
    builder = (
        dashboard.QueryVariable(var.name)
        .label(var.label)
        .datasource(datasource_ref())
        .query(var.sql)
        .definition(var.sql)
        .refresh(dashboard_model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_model.VariableSort.ALPHABETICAL_ASC)
        .multi(var.multi)
        .include_all(var.include_all)
    )
    if var.include_all:
        builder = builder.current(dashboard_model.VariableOption(selected=True, text="All", value="$__all"))
    return builder


def _panel(spec: PanelSpec, panel_id: int, x: int, y: int, variables: set[str]) -> Any:
    kinds: dict[str, Any] = {
        "timeseries": timeseries.Panel,
        "table": table.Panel,
        "matrix": table.Panel,
        "barchart": barchart.Panel,
        "stat": stat.Panel,
        "geomap": geomap.Panel,
        "piechart": piechart.Panel,
    }
    target = ClickHouseQueryBuilder().sql(spec.sql).format(Format.TIME_SERIES if spec.is_time_series else Format.TABLE)
    panel = (
        kinds[spec.kind]()
        .id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .datasource(datasource_ref())
        .with_target(target)
        .grid_pos(dashboard_model.GridPos(h=spec.height, w=spec.width, x=x, y=y))
    )
    if spec.unit:
        panel = panel.unit(spec.unit)
    if spec.kind == "matrix" and spec.matrix is not None:
        panel = (
            panel.with_transformation(
                dashboard_model.DataTransformerConfig(
                    id_val="groupingToMatrix",
                    options={
                        "rowField": spec.matrix.row,
                        "columnField": spec.matrix.column,
                        "valueField": spec.matrix.value,
                        "emptyValue": "null",
                    },
                )
            )
            .cell_options(common_model.TableColoredBackgroundCellOptions())
            .min(0)
            .max(1)
            .thresholds(
                dashboard.ThresholdsConfig()
                .mode(dashboard_model.ThresholdsMode.ABSOLUTE)
                .steps(
                    [
                        dashboard_model.Threshold(value=None, color="red"),
                        dashboard_model.Threshold(value=0.5, color="orange"),
                        dashboard_model.Threshold(value=0.8, color="green"),
                    ]
                )
            )
        )
    if spec.kind == "geomap":
        size = next((c for c in ("group_size", "pupils") if c in spec.columns), None)
        colour = next((c for c in spec.columns if c.endswith("_share")), None)
        markers = {
            "showLegend": True,
            "style": {
                "size": {"field": size, "fixed": 8, "min": 6, "max": 30} if size else {"fixed": 8},
                "color": {"field": colour} if colour else {"fixed": "blue"},
                "text": {"field": "academy", "mode": "field"},
                "textConfig": {"fontSize": 11, "offsetX": 14, "textAlign": "left"},
            },
        }
        panel = (
            panel.view(geomap.MapViewConfig().id("coords").lat(46.6).lon(2.4).zoom(5))  # type: ignore[arg-type]  # SDK types lat/lon as int
            .basemap(common_builder.MapLayerOptions().type("default").name("Fond de carte"))
            .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
            .layers(
                [
                    common_builder.MapLayerOptions()
                    .type("markers")
                    .name("Académies")
                    .config(markers)
                    .location(
                        common_builder.FrameGeometrySource()
                        .mode(common_model.FrameGeometrySourceMode.COORDS)
                        .latitude("latitude")
                        .longitude("longitude")
                    )
                    .tooltip(True)
                ]
            )
            .thresholds(
                dashboard.ThresholdsConfig()
                .mode(dashboard_model.ThresholdsMode.ABSOLUTE)
                .steps(
                    [
                        dashboard_model.Threshold(value=None, color="green"),
                        dashboard_model.Threshold(value=0.15, color="orange"),
                        dashboard_model.Threshold(value=0.3, color="red"),
                    ]
                )
            )
        )
        panel = panel.with_transformation(
            dashboard_model.DataTransformerConfig(
                id_val="convertFieldType",
                options={
                    "conversions": [
                        {"targetField": "latitude", "destinationType": "number"},
                        {"targetField": "longitude", "destinationType": "number"},
                    ]
                },
            )
        )
    if spec.links and spec.kind in ("table", "matrix"):
        panel = panel.data_links([_data_link(link, spec, variables) for link in spec.links])
    return panel


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard JSON of one spec (a plain dict, ready to write or to push)."""
    register()
    builder = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags([*list(spec.tags), spec.level])
        .timezone("browser")
        .time("now-30d", "now")
        .refresh("5m")
        .readonly()
    )
    builder = builder.with_variable(
        dashboard.ConstantVariable("database").value("vigie").label("Base")
    )  # overridden by provisioning when the warehouse database has another name
    for var in spec.variables:
        builder = builder.with_variable(_variable(var))
    x = y = row_height = 0
    for panel_id, panel in enumerate(spec.panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        builder = builder.with_panel(_panel(panel, panel_id, x, y, {v.name for v in spec.variables}))
        x += panel.width
        row_height = max(row_height, panel.height)
    for link in spec.links:
        builder = builder.link(_link(link))
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def roundtrip(document: dict[str, Any]) -> dict[str, Any]:
    """Decode a dashboard JSON with the SDK's model and encode it again (equal when the JSON is valid)."""
    register()
    model = dashboard_model.Dashboard.from_json(document)
    return json.loads(json.dumps(model, cls=JSONEncoder))


def write_all(specs: list[DashboardSpec], out_dir: Path) -> list[Path]:
    """Write each dashboard as ``<out_dir>/<uid>.json`` (compose mounts each into its level's folder)."""
    written = []
    for spec in specs:
        path = out_dir / f"{spec.uid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(build(spec), indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def datasource_uid() -> str:
    return DATASOURCE_UID
