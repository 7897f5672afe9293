"""`vigie dashboards push` against a recording stand-in of Grafana's HTTP API on 127.0.0.1.

No Grafana server can be installed on this machine, so this small http.server plays Grafana's
API (folders, data sources, health, dashboards) and records what the client sends. It is a
test double of the HTTP API only; the real client library (grafana-client) runs unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigie.core.errors import ConfigurationError, PermanentError, RetriableError
from vigie.core.settings import VigieSettings
from vigie.dashboards import levels
from vigie.dashboards.grafana import FOLDERS
from vigie.dashboards.push import push

pytestmark = pytest.mark.unit


class FakeGrafana:
    def __init__(self, *, datasource: bool = True, healthy: bool = True) -> None:
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.folders: dict[str, str] = {}
        self.dashboards: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {"vigie-clickhouse": {"uid": "vigie-clickhouse"}} if datasource else {}
        self.healthy = healthy
        #: Status forced on dashboard uploads (e.g. 403 for a token without Editor rights, 503 for an outage).
        self.dashboard_status: int | None = None

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        if method == "GET" and path.startswith("/api/datasources/uid/") and path.endswith("/health"):
            if self.healthy:
                return 200, {"status": "OK", "message": "Data source is working"}
            return 400, {"status": "ERROR", "message": "dial tcp: connection refused"}
        if method == "GET" and path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            return (200, self.datasources[uid]) if uid in self.datasources else (404, {"message": "not found"})
        if method == "POST" and path == "/api/datasources":
            self.datasources[body["uid"]] = body
            return 200, {"id": 1, "message": "Datasource added"}
        if method == "GET" and path.startswith("/api/folders/"):
            uid = path.rsplit("/", 1)[1]
            return (200, {"uid": uid, "title": self.folders[uid]}) if uid in self.folders else (404, {})
        if method == "POST" and path == "/api/folders":
            if body["uid"] in self.folders:
                return 409, {"message": "folder exists"}
            self.folders[body["uid"]] = body["title"]
            return 200, {"uid": body["uid"], "title": body["title"]}
        if method == "POST" and path == "/api/dashboards/db" and self.dashboard_status is not None:
            return self.dashboard_status, {"message": "forced by the test"}
        if method == "POST" and path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            if uid in self.dashboards and not body.get("overwrite"):
                return 412, {"status": "version-mismatch"}
            self.dashboards[uid] = body
            return 200, {"status": "success", "uid": uid, "version": 1}
        return 404, {"message": f"no route {method} {path}"}


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, self.path, body, self.headers.get("Authorization")))
            status, payload = fake.handle(self.command, self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _settings(url: str, **overrides) -> VigieSettings:
    return VigieSettings(GRAFANA_URL=url, GRAFANA_TOKEN="glsa_test_token", **overrides)


def test_push_creates_folders_and_upserts_every_dashboard_idempotently(grafana) -> None:
    fake, url = grafana
    first = push(_settings(url))
    assert first.datasource_health == "OK" and not first.datasource_created
    assert sorted(first.folders_created) == sorted({uid for uid, _ in FOLDERS.values()})
    uids = {spec.uid for spec in levels.all_dashboards()}
    assert set(fake.dashboards) == uids
    for body in fake.dashboards.values():
        assert body["overwrite"] is True and body["folderUid"] in fake.folders
        assert body["dashboard"]["panels"]
    assert {auth for *_, auth in fake.requests} == {"Bearer glsa_test_token"}

    second = push(_settings(url))
    assert second.folders_created == [] and set(second.dashboards) == uids
    assert sum(1 for m, p, *_ in fake.requests if (m, p) == ("POST", "/api/folders")) == 4  # none the second time


def test_push_sets_the_database_variable_to_the_configured_warehouse(grafana) -> None:
    fake, url = grafana
    push(_settings(url, warehouse={"database": "vigie_prod"}))
    for body in fake.dashboards.values():
        (database,) = [v for v in body["dashboard"]["templating"]["list"] if v["name"] == "database"]
        assert database["query"] == "vigie_prod"


def test_push_creates_a_missing_datasource_from_clickhouse_url(grafana) -> None:
    fake, url = grafana
    fake.datasources.clear()
    report = push(_settings(url, CLICKHOUSE_URL="http://reader:secret@clickhouse:8123"))
    assert report.datasource_created
    created = fake.datasources["vigie-clickhouse"]
    assert created["type"] == "grafana-clickhouse-datasource"
    assert created["jsonData"]["host"] == "clickhouse" and created["jsonData"]["port"] == 8123
    assert created["jsonData"]["username"] == "reader" and created["secureJsonData"]["password"] == "secret"


def test_push_stops_on_a_missing_datasource_without_clickhouse_url_or_an_unhealthy_one(grafana) -> None:
    fake, url = grafana
    fake.datasources.clear()
    with pytest.raises(ConfigurationError, match="provision"):
        push(_settings(url))
    fake.datasources["vigie-clickhouse"] = {"uid": "vigie-clickhouse"}
    fake.healthy = False
    with pytest.raises(RetriableError):
        push(_settings(url))
    assert not fake.dashboards


def test_push_needs_url_and_token() -> None:
    with pytest.raises(ConfigurationError, match="GRAFANA_URL"):
        push(VigieSettings())


@pytest.mark.parametrize("status", [401, 403, 400])
def test_a_4xx_answer_is_a_permanent_error_not_a_retriable_one(grafana, status: int) -> None:
    fake, url = grafana
    fake.dashboard_status = status
    with pytest.raises(PermanentError) as raised:
        push(_settings(url))
    assert not isinstance(raised.value, RetriableError) and raised.value.code == status
    assert sum(1 for m, p, *_ in fake.requests if (m, p) == ("POST", "/api/dashboards/db")) == 1  # asked once


def test_a_5xx_answer_is_retriable(grafana) -> None:
    fake, url = grafana
    fake.dashboard_status = 503
    with pytest.raises(RetriableError) as raised:
        push(_settings(url))
    assert raised.value.code == 503
