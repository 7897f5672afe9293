"""Run the gateway: build its parts from settings, serve with uvicorn; or in a thread (tests, demo)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from vigie.core.errors import RetriableError
from vigie.core.settings import VigieSettings, load_settings
from vigie.producers.gateway.publish import GatewayPublisher
from vigie.producers.gateway.service import StatementsService
from vigie.producers.gateway.store import GatewayStore
from vigie.producers.pseudonym import AcademyPseudonymizers

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI


@dataclass
class RunningGateway:
    url: str
    service: StatementsService


def build_service(settings: VigieSettings, store: GatewayStore | None = None) -> StatementsService:
    from vigie.producers.gateway.spec import warm_up

    warm_up()  # import the statement models now, not during the first request
    store = store or GatewayStore(settings.gateway_db)
    prune(settings, store)
    publisher = GatewayPublisher(settings.kafka, timeout_s=settings.gateway.kafka_timeout_s)
    return StatementsService(
        store, publisher, AcademyPseudonymizers(settings.privacy), max_batch=settings.gateway.max_batch
    )


def _server(settings: VigieSettings, service: StatementsService, host: str, port: int) -> uvicorn.Server:
    import uvicorn

    from vigie.producers.gateway.app import create_app

    app = create_app(
        service, max_body_bytes=settings.gateway.max_body_bytes, retry_after_s=settings.gateway.retry_after_s
    )
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    return uvicorn.Server(config)


def prune(settings: VigieSettings, store: GatewayStore) -> int:
    """Forget settled statements after ``gateway.keep_days``, unmapped ones after the warehouse's retention."""
    now = datetime.now(UTC)

    def before(days: int) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    removed = store.prune(
        settled_before=before(settings.gateway.keep_days), unmapped_before=before(settings.warehouse.retention_days)
    )
    if removed:
        log.info("forgot %d statements older than their retention", removed)
    return removed


def create_app_from_environment() -> FastAPI:
    """The application of one worker process of ``vigie gateway --workers N`` (settings from its environment)."""
    from vigie.producers.gateway.app import create_app

    settings = load_settings()
    return create_app(
        build_service(settings),
        max_body_bytes=settings.gateway.max_body_bytes,
        retry_after_s=settings.gateway.retry_after_s,
    )


def serve(settings: VigieSettings, workers: int = 1) -> None:
    """Serve until interrupted (``vigie gateway``). With several workers, each process has its own Kafka
    producer and shares the SQLite state (its transactions serialise the claims of statement ids)."""
    if workers > 1:
        import uvicorn

        uvicorn.run(
            "vigie.producers.gateway.server:create_app_from_environment",
            factory=True,
            workers=workers,
            host=settings.gateway.host,
            port=settings.gateway.port,
            log_config=None,
            access_log=False,
        )
        return
    service = build_service(settings)
    try:
        _server(settings, service, settings.gateway.host, settings.gateway.port).run()
    finally:
        service.publisher.close()
        service.store.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway_in_thread(
    settings: VigieSettings,
    *,
    port: int | None = None,
    start_timeout_s: float = 20.0,
    service: StatementsService | None = None,
) -> Iterator[RunningGateway]:
    """A real gateway on a loopback port, served by uvicorn in a thread, for tests and the demo."""
    service = service or build_service(settings)
    port = port or free_port()
    server = _server(settings, service, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, name="vigie-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RetriableError(f"the gateway did not start on 127.0.0.1:{port} within {start_timeout_s}s")
        time.sleep(0.02)
    try:
        yield RunningGateway(f"http://127.0.0.1:{port}", service)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.publisher.close()
        service.store.close()
