"""The app: the routes, the errors as problem documents, health, the docs page.

Every route is a plain (synchronous) function: the queries are CPU work on a read
snapshot, which FastAPI runs on its worker threads, so a slow report never holds up the
event loop that accepts other requests.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import Match

from consumers.http.answer_cache import AnswerCache, answer_size
from consumers.http.auth import refuse_unknown_parameters
from consumers.http.keys import Keyring
from consumers.http.problems import MEDIA_TYPE, TYPES, ProblemError, problem_of
from consumers.http.reports_now import kept_reports
from consumers.http.routes import (
    audit,
    claims,
    disputes,
    early_warning,
    finance,
    intake,
    operations,
)
from consumers.http.schemas import Health
from consumers.http.stores import Stores
from consumers.http.web import errors as page_errors
from consumers.http.web import pages
from consumers.http.web.session import Sessions
from consumers.metrics import Metrics
from consumers.metrics.asgi import expose_metrics, instrument
from consumers.webhooks import Subscription, WebhookDeliverer
from ledger.errors import LedgerError, StoreError

log = logging.getLogger("sla_ledger.http")

DESCRIPTION = """\
The SLA ledger for finance, dispute and compliance systems: attainment figures, credit
entries and their lineage, explanations down to event ids, and a hash chain a third party
can check. Every read takes `as_of` (what the ledger knew then) and names the chain
position it was computed at; its JSON is the command line's `--format json` to the byte.
Authenticate with `Authorization: Bearer <API key>`; each key's roles decide what it may
call. Errors are RFC 9457 problem documents.
"""


@dataclass(frozen=True)
class Settings:
    store_url: str
    read_store_url: str | None
    keyring: Keyring
    # Webhook subscriptions to deliver credit entries to from this process (none: none).
    subscriptions: Sequence[Subscription] = ()


def create_app(settings: Settings) -> FastAPI:
    deliverer = (
        WebhookDeliverer(settings.store_url, settings.subscriptions)
        if settings.subscriptions
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """Webhook delivery runs while the server does; on shutdown it records how far it
        got and gives up its leases, after the requests in flight were answered."""
        if deliverer is not None:
            deliverer.start()
        try:
            yield
        finally:
            if deliverer is not None:
                await run_in_threadpool(deliverer.stop, 30)
            app.state.stores.close()

    app = FastAPI(
        title="sla-ledger",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.stores = Stores(settings.store_url, settings.read_store_url)
    app.state.metrics = Metrics()
    instrument(app, app.state.metrics)
    expose_metrics(app, app.state.metrics)
    app.state.keyring = settings.keyring
    app.state.answers = AnswerCache(answer_size)
    app.state.reports_now = kept_reports()
    # Reports as of a past moment (the close, an as_of): the desk's overview; they never change.
    app.state.reports_past = kept_reports()
    app.state.sessions = Sessions()
    for module in (finance, early_warning, claims, disputes, audit, operations, intake):
        app.include_router(module.router)
    pages.install(app)
    _errors(app)
    page_errors.install(app)
    _operations(app)
    _docs(app)
    _plain_parameters(app)
    return app


def _plain_parameters(app: FastAPI) -> None:
    """An optional parameter is documented as its type, not "its type or null": a
    parameter left out is absent, never null, and a client generated from the document
    should send a string where a string is meant."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document["paths"].values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        parameter["schema"] = _without_null(parameter["schema"])
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not branches or len(branches) != 2 or {"type": "null"} not in branches:
        return schema
    (kept,) = [b for b in branches if b != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {
        **kept,
        **rest,
        **(
            {"items": {**kept["items"], **rest["items"]}}
            if "items" in rest and "items" in kept
            else {}
        ),
    }


def problem_response(problem: ProblemError, request: Request) -> Response:
    """The problem document, or on a page of the web view the page saying the same."""
    if page_errors.is_page(request):
        return page_errors.problem_page(request, problem)
    return JSONResponse(
        problem.document(request.url.path),
        status_code=problem.type.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(exc, request)

    @app.exception_handler(LedgerError)
    async def on_ledger_error(request: Request, exc: LedgerError) -> Response:
        problem = problem_of(exc)
        if problem.type.status >= 500 and not isinstance(exc, StoreError):
            log.error("internal error on %s: %s", request.url.path, exc, exc_info=exc)
        return problem_response(problem, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(part) for part in first.get("loc", ())]
        field = location[-1] if len(location) > 1 else (location[0] if location else "request")
        rule = str(first.get("msg", "invalid"))
        slug = "invalid-body" if location[:1] == ["body"] else "invalid-parameter"
        return problem_response(
            ProblemError(slug, f"{field}: {rule}", field=field, rule=rule), request
        )

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            allowed = ", ".join(_methods_at(request))
            problem = ProblemError(
                "method-not-allowed",
                f"{request.method} is not taken here; the resource takes {allowed}",
                headers={"Allow": allowed},
            )
        else:
            problem = ProblemError("not-found", f"no resource at {request.url.path}: see /docs")
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def on_bug(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s", request.url.path, exc_info=exc)
        detail = f"internal error ({type(exc).__name__}): the server logged it; please report it"
        return problem_response(ProblemError("internal", detail), request)


# The methods RFC 9110 defines (and PATCH): those a route at a path may take.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def _methods_at(request: Request) -> list[str]:
    """Every method some route takes at the request's path (a path may have routes of
    several routers: `GET` and `POST /v1/events`). Each method is tried against the app's
    routes as a request with it would be: an included router is not a list of routes with
    methods (newer FastAPI keeps it as one route that matches for its own), so reading
    each route's `methods` found none and a 405 said `Allow: ` with nothing."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def _operations(app: FastAPI) -> None:
    @app.get(
        "/healthz",
        tags=["operations"],
        response_model=Health,
        summary="The process runs",
        dependencies=[Depends(refuse_unknown_parameters)],
    )
    def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        tags=["operations"],
        response_model=Health,
        summary="The store answers: ready for requests",
        dependencies=[Depends(refuse_unknown_parameters)],
        responses={503: {"model": Health, "description": "The store does not answer."}},
    )
    def readyz(request: Request) -> Response:
        try:
            request.app.state.stores.ready()
        except StoreError as exc:
            return JSONResponse(
                Health(status="unavailable", detail=str(exc)).model_dump(),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return JSONResponse(Health(status="ok").model_dump())

    @app.get("/problems/{slug}", include_in_schema=False)
    def problem_type(slug: str) -> Response:
        kind = TYPES.get(slug)
        if kind is None:
            raise ProblemError("not-found", f"no problem type {slug!r}")
        return PlainTextResponse(f"{kind.title} ({kind.status})\n\n{kind.description}\n")


def _docs(app: FastAPI) -> None:
    """The docs page, its script and style served from this process (no network)."""
    import swagger_ui

    assets = Path(swagger_ui.__file__).parent / "static"
    app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="sla-ledger API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
