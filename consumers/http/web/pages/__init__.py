"""The dispute desk's pages, one module each, and its assets (`../static`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from consumers.http.web.pages import (
    audit,
    diff,
    event,
    exposure,
    overview,
    periods,
    row,
    sign_in,
)

STATIC = Path(__file__).resolve().parent.parent / "static"
ROUTERS = (
    sign_in.router,
    periods.router,
    exposure.router,
    overview.router,
    row.router,
    diff.router,
    event.router,
    audit.router,
)


class Assets(StaticFiles):
    """The desk's stylesheet and script, never sniffed as another type."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI) -> None:
    app.mount("/web/static", Assets(directory=STATIC), name="web-static")
    for router in ROUTERS:
        app.include_router(router)
