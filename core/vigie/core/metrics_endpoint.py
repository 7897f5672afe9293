"""One way for a process to expose its Prometheus metrics: ``/metrics`` on loopback, or nothing.

The worker and the sink keep their own metrics; both serve them through ``serve``. ``prometheus_client``
is the optional ``metrics`` extra: without it, nothing is served.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def serve(port: int | None, what: str) -> bool:
    """Serve ``what``'s metrics on 127.0.0.1:``port`` (0 or ``None``: not served); True if served."""
    if not port:
        return False
    try:
        from prometheus_client import start_http_server
    except ImportError:  # the metrics extra is not installed
        return False
    try:
        start_http_server(port, addr="127.0.0.1")
    except OSError as error:  # another process on this machine has the port: carry on without
        log.warning("%s metrics not served on port %d: %s", what, port, error)
        return False
    log.info("%s metrics on http://127.0.0.1:%d/metrics", what, port)
    return True
