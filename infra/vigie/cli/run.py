"""``vigie run``: the whole pipeline of one machine under one supervisor.

This process owns the embedded warehouse and runs the sink (in a thread) and the endpoint that lets the
other commands query while it runs; the stream worker (and the xAPI gateway, when that command is
installed) run as child processes, restarted if they die. SIGTERM or SIGINT stops everything cleanly: the
children first (a worker leaves its group), then the sink flushes and commits its last batch.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading

import typer

from vigie.core.settings import VigieSettings

log = logging.getLogger(__name__)

#: Optional commands run as children when they are registered (the xAPI gateway is built separately).
OPTIONAL_SERVICES = ("gateway",)


def run_command(
    gateway: bool = typer.Option(True, help="Also run `vigie gateway` when it is installed."),
    workers: int = typer.Option(1, min=1, max=16, help="Stream worker processes (they share the partitions)."),
) -> None:
    """Run the sink, stream worker(s) and gateway of one machine; restart a child that dies; stop on SIGTERM."""
    from vigie.core.settings import load_settings
    from vigie.core.topics import ensure_topics
    from vigie.infra.processes import start_vigie, start_worker
    from vigie.infra.supervisor import Child, Supervisor
    from vigie.warehouse import metrics
    from vigie.warehouse.client import connect
    from vigie.warehouse.endpoint import serve
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink

    settings = load_settings()
    ensure_topics(settings.kafka)
    client = connect(settings)
    endpoint = serve(settings)
    metrics.serve(settings.sink.metrics_port)
    logs = settings.state_dir / "logs"
    children = [
        Child(
            f"stream worker {n}",
            functools.partial(start_worker, _worker_settings(settings, n), logs / f"worker-{n}.log"),
        )
        for n in range(1, workers + 1)
    ]
    for service in _installed(OPTIONAL_SERVICES) if gateway else ():
        children.append(Child(service, functools.partial(start_vigie, settings, [service], logs / f"{service}.log")))
    supervisor = Supervisor(children, pid_file=settings.state_dir / "run.json")
    stop = threading.Event()
    failures: list[BaseException] = []
    try:
        migrate(client, settings.warehouse)
        sink = Sink(settings, client)

        def sink_loop() -> None:
            try:
                sink.run()
            except BaseException as error:  # reported by the main thread, which then stops the rest
                failures.append(error)
            finally:
                stop.set()

        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, lambda *_: stop.set())
        supervisor.start()
        sink_thread = threading.Thread(target=sink_loop, name="sink")
        sink_thread.start()
        log.info("vigie run: sink, %d stream worker(s)%s; logs in %s", workers, _extra(children), logs)
        try:
            while not stop.is_set():
                supervisor.check()
                stop.wait(1.0)
        finally:
            log.info("vigie run: stopping")
            supervisor.stop()
            sink.stop()
            sink_thread.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        stats = sink.stats
        typer.echo(f"sink: consumed {stats.consumed}, inserted {stats.inserted}; restarts: {_restarts(children)}")
    finally:
        supervisor.stop()
        if endpoint is not None:
            endpoint.close()
    if failures:
        raise failures[0]


def _worker_settings(settings: VigieSettings, n: int) -> VigieSettings:
    """Worker ``n``'s settings: its own metrics port (the next ones after the first), the rest shared."""
    port = settings.stream.metrics_port
    stream = settings.stream.model_copy(update={"metrics_port": port + n - 1 if port else 0})
    return settings.model_copy(update={"stream": stream})


def _installed(services: tuple[str, ...]) -> list[str]:
    """The optional services whose command is registered in this ``vigie``."""
    import click

    context = click.get_current_context(silent=True)
    commands = getattr(context.find_root().command, "commands", {}) if context else {}
    return [service for service in services if service in commands]


def _extra(children: list) -> str:
    names = [c.name for c in children if not c.name.startswith("stream worker")]
    return f", {', '.join(names)}" if names else ""


def _restarts(children: list) -> str:
    return ", ".join(f"{c.name} {c.restarts}" for c in children)
