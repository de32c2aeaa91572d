"""Request metrics of an ASGI app, and its `/metrics` endpoint.

For the API (FastAPI on uvicorn):

    metrics = Metrics()
    instrument(app, metrics)      # latency by route and status, requests in flight
    expose_metrics(app, metrics)  # GET /metrics: the exposition, outside the OpenAPI document

The route label is the template the router matched (`/v1/credits/{entry_id}`), never the
raw path, so a client cannot create a series per URL; a request no route matched is
`<unmatched>`.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import make_asgi_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consumers.metrics.definitions import Metrics

UNMATCHED = "<unmatched>"
# A client may send any token as a method: others are counted together.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"


def route_template(scope: Scope) -> str:
    """The matched route's path template: the router records the route in the scope."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """ASGI middleware: each HTTP request's latency, to the end of its response body,
    labelled by method, route template and status; the requests in flight."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the app fails before responding
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.http_in_flight.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.http_in_flight.dec()
            # The router wrote the matched route into this same scope on the way in.
            method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
            self.metrics.http_request_seconds.labels(
                method, route_template(scope), str(status)
            ).observe(time.perf_counter() - started)


def instrument(app: Any, metrics: Metrics) -> None:
    """Add `RequestMetrics` to a Starlette or FastAPI app (before it starts serving)."""
    app.add_middleware(RequestMetrics, metrics=metrics)


class Exposition:
    """prometheus_client's exposition app (content negotiation, gzip) for `metrics`, as
    an object: a router takes an object, unlike a function, as an ASGI app of its own."""

    def __init__(self, metrics: Metrics) -> None:
        self.app = make_asgi_app(registry=metrics.registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def expose_metrics(app: Any, metrics: Metrics, path: str = "/metrics") -> None:
    """Serve `metrics` at `path` (GET) on a Starlette or FastAPI app: a route, not a
    mount, so that `/metrics` itself answers (a mount redirects it to `/metrics/`)."""
    app.add_route(path, Exposition(metrics), methods=["GET"], include_in_schema=False)
