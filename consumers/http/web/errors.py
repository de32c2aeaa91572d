"""How a page says no: sent to sign in, refused (403), or an error the API would answer
with a problem document, shown as a page in the same one line (`detail`)."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from consumers.http.problems import ProblemError
from consumers.http.web.access import PageRefusedError, SignInNeededError, sign_in_url, signed_in
from consumers.http.web.templating import HEADERS, render

PREFIX = "/web"


def is_page(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def problem_page(request: Request, problem: ProblemError) -> Response:
    """The page of a problem: its title, its one-line detail, its status, and the headers
    the problem document would carry (`Allow` on a 405, `Retry-After` on a 503)."""
    page = render(
        request,
        "problem.html",
        {"title": problem.type.title, "detail": problem.detail},
        status=problem.type.status,
        holder=signed_in(request),
    )
    page.headers.update(problem.headers)
    return page


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInNeededError)
    async def on_sign_in(_request: Request, exc: SignInNeededError) -> Response:
        return RedirectResponse(sign_in_url(exc.then), status_code=303, headers=HEADERS)

    @app.exception_handler(PageRefusedError)
    async def on_refused(request: Request, exc: PageRefusedError) -> Response:
        return render(
            request,
            "problem.html",
            {"title": "Not for this key", "detail": exc.message},
            status=403,
            holder=exc.holder,
        )
