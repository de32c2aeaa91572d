"""The dispute desk's pages, one module each, and its assets (`../static`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from consumers.http.web.pages import audit, diff, event, overview, periods, row, sign_in

STATIC = Path(__file__).resolve().parent.parent / "static"
ROUTERS = (
    sign_in.router,
    periods.router,
    overview.router,
    row.router,
    diff.router,
    event.router,
    audit.router,
)


def install(app: FastAPI) -> None:
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
    for router in ROUTERS:
        app.include_router(router)
