"""The ClickHouse data-query variant that grafana-foundation-sdk lacks.

The SDK knows Prometheus, Loki... but not the ``grafana-clickhouse-datasource`` plugin, so this
module adds it the way the SDK adds its own: a ``Dataquery`` variant (model with ``to_json`` /
``from_json``), a builder, and a registration with the SDK's runtime so a dashboard JSON that
holds ClickHouse targets decodes back into this class instead of an untyped bag.
"""

from __future__ import annotations

import enum
import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common

PLUGIN_ID = "grafana-clickhouse-datasource"
DATASOURCE_UID = "vigie-clickhouse"


class Format(enum.IntEnum):
    """The plugin's result format: 0 builds time series (needs a time column), 1 a table."""

    TIME_SERIES = 0
    TABLE = 1


def datasource_ref(uid: str = DATASOURCE_UID) -> common.DataSourceRef:
    return common.DataSourceRef(type_val=PLUGIN_ID, uid=uid)


class ClickHouseQuery(cogvariants.Dataquery):
    """One target of a panel, in the plugin's SQL editor mode."""

    def __init__(
        self,
        ref_id: str = "A",
        raw_sql: str = "",
        format: int = Format.TABLE,
        datasource: common.DataSourceRef | None = None,
        hide: bool | None = None,
        query_type: str | None = None,
    ) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = int(format)
        self.datasource = datasource
        self.hide = hide
        self.query_type = query_type

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "editorType": "sql",
            "rawSql": self.raw_sql,
            "format": self.format,
        }
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        if self.hide is not None:
            payload["hide"] = self.hide
        if self.query_type is not None:
            payload["queryType"] = self.query_type
        return payload

    @classmethod
    def from_json(cls, data: dict[str, typing.Any]) -> typing.Self:
        if data.get("editorType", "sql") != "sql":
            raise ValueError(f"only SQL-editor ClickHouse targets are supported, got {data.get('editorType')!r}")
        datasource = data.get("datasource")
        return cls(
            ref_id=data.get("refId", "A"),
            raw_sql=data.get("rawSql", ""),
            format=int(data.get("format", Format.TABLE)),
            datasource=common.DataSourceRef.from_json(datasource) if datasource is not None else None,
            hide=data.get("hide"),
            query_type=data.get("queryType"),
        )


class ClickHouseQueryBuilder(cogbuilder.Builder[ClickHouseQuery]):
    """Builder in the SDK's style: ``ClickHouseQueryBuilder().sql(...).format(Format.TABLE)``."""

    def __init__(self) -> None:
        self._internal = ClickHouseQuery(datasource=datasource_ref())

    def build(self) -> ClickHouseQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        self._internal.ref_id = ref_id
        return self

    def sql(self, raw_sql: str) -> typing.Self:
        self._internal.raw_sql = raw_sql
        return self

    def format(self, fmt: Format) -> typing.Self:
        self._internal.format = int(fmt)
        return self

    def datasource(self, ref: common.DataSourceRef) -> typing.Self:
        self._internal.datasource = ref
        return self


def register() -> None:
    """Teach the SDK's decoder the ClickHouse targets (idempotent)."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=PLUGIN_ID, from_json_hook=ClickHouseQuery.from_json)
    )
