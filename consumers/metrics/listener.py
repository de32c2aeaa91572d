"""`/metrics` on an address of its own, for a process without a web app (the Kafka worker).

prometheus_client's server runs on a daemon thread; `metrics_listener` shuts it down
when the block ends, so it stops with the worker and frees its port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import start_http_server

from consumers.errors import UsageError
from consumers.metrics.definitions import Metrics


def listen_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:9108` for IPv6) as a host and a port; port 0 picks a free one."""
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--metrics-listen {text!r}: give HOST:PORT, e.g. 0.0.0.0:9108")
    return host, int(port)


@contextmanager
def metrics_listener(address: tuple[str, int], metrics: Metrics) -> Iterator[tuple[str, int]]:
    """Serve `metrics` at http://HOST:PORT/metrics while the block runs; yields the
    address bound (the port chosen, when 0 was asked for)."""
    host, port = address
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise UsageError(f"--metrics-listen {host}:{port}: cannot listen: {exc.strerror}") from None
    try:
        bound = server.server_address
        yield str(bound[0]), int(bound[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
