"""Provisioning by API: upsert Vigie's folders and dashboards into a running Grafana.

Idempotent: folders are created only when missing, dashboards are written by uid with
``overwrite``, so pushing twice changes nothing but the version. The ClickHouse data source is
checked with Grafana's health endpoint; it is created first when missing and a ClickHouse server
is configured (``CLICKHOUSE_URL``), else the push stops and says what to provision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vigie.core.errors import ConfigurationError, PermanentError, RetriableError
from vigie.core.settings import VigieSettings
from vigie.dashboards import levels, provisioning
from vigie.dashboards.clickhouse_query import DATASOURCE_UID
from vigie.dashboards.grafana import FOLDERS, build

log = logging.getLogger(__name__)


@dataclass
class PushReport:
    folders_created: list[str] = field(default_factory=list)
    dashboards: list[str] = field(default_factory=list)
    datasource_created: bool = False
    datasource_health: str = ""


def connect(settings: VigieSettings) -> Any:
    from grafana_client import GrafanaApi, TokenAuth

    if not settings.grafana_url or settings.grafana_token is None:
        raise ConfigurationError("set GRAFANA_URL and GRAFANA_TOKEN (a service-account token with Editor rights)")
    return GrafanaApi.from_url(settings.grafana_url, credential=TokenAuth(settings.grafana_token.get_secret_value()))


def _datasource_from_settings(settings: VigieSettings) -> dict[str, Any]:
    if settings.clickhouse_url is None:
        raise ConfigurationError(
            f"Grafana has no data source {DATASOURCE_UID!r}: provision dashboards/provisioning/datasources/vigie.yaml, "
            "or set CLICKHOUSE_URL (as Grafana reaches ClickHouse) so `vigie dashboards push` creates it"
        )
    url = urlsplit(settings.clickhouse_url.get_secret_value())
    return provisioning.datasource(
        host=url.hostname or "localhost",
        port=url.port or (8443 if url.scheme == "https" else 8123),
        database=settings.warehouse.database,
        username=url.username or "default",
        password=url.password or "",
        protocol="http",
    )


def _ensure_datasource(api: Any, settings: VigieSettings, report: PushReport) -> None:
    from grafana_client.client import GrafanaClientError

    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except GrafanaClientError as error:
        if error.status_code != 404:
            raise
        api.datasource.create_datasource(_datasource_from_settings(settings))
        report.datasource_created = True
        log.info("created data source %s", DATASOURCE_UID)
    try:
        health = api.datasource.health(DATASOURCE_UID)
    except GrafanaClientError as error:  # Grafana answers its health check with a 4xx when ClickHouse is down
        raise RetriableError(f"Grafana cannot reach ClickHouse through {DATASOURCE_UID}: {error}") from error
    report.datasource_health = str(health.get("status", "")) if isinstance(health, dict) else str(health)
    if report.datasource_health.upper() != "OK":
        raise RetriableError(f"Grafana cannot reach ClickHouse through {DATASOURCE_UID}: {health}")


def _ensure_folder(api: Any, uid: str, title: str, report: PushReport) -> None:
    from grafana_client.client import GrafanaClientError

    try:
        api.folder.get_folder(uid)
    except GrafanaClientError as error:
        if error.status_code != 404:
            raise
        api.folder.create_folder(title, uid=uid)
        report.folders_created.append(uid)
        log.info("created folder %s", uid)


def push(settings: VigieSettings, api: Any | None = None) -> PushReport:
    """Check the data source, create missing folders, upsert every dashboard by uid."""
    from grafana_client.client import GrafanaClientError, GrafanaException

    api = api if api is not None else connect(settings)
    report = PushReport()
    try:
        _ensure_datasource(api, settings, report)
        for spec in levels.all_dashboards():
            folder_uid, folder_title = FOLDERS[spec.level]
            _ensure_folder(api, folder_uid, folder_title, report)
            document = build(spec)
            for variable in document["templating"]["list"]:
                if variable["name"] == "database":  # the warehouse this Vigie writes to
                    variable["query"] = settings.warehouse.database
            api.dashboard.update_dashboard(
                {"dashboard": document, "folderUid": folder_uid, "overwrite": True, "message": "vigie dashboards push"}
            )
            report.dashboards.append(spec.uid)
            log.info("pushed dashboard %s into folder %s", spec.uid, folder_uid)
    except GrafanaClientError as error:  # 4xx: a bad token, missing rights, a refused document: retrying cannot help
        raise PermanentError(f"Grafana refused the push: {error}", code=error.status_code) from error
    except GrafanaException as error:  # 5xx, time-outs: Grafana may take it later
        raise RetriableError(f"Grafana could not take the push: {error}", code=error.status_code) from error
    return report
