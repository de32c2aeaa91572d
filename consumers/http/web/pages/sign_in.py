"""Signing in with an API key and out again. The key is checked against the server's
keyring (as the API checks a bearer key), then forgotten: the browser holds only the
session's random token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from consumers.http.keys import Keyring
from consumers.http.web.access import refuse_other_sites, sessions, signed_in
from consumers.http.web.session import COOKIE, LIFETIME_SECONDS
from consumers.http.web.templating import HEADERS, render

router = APIRouter(include_in_schema=False)
HOME = "/web/periods"


def _then(text: str | None) -> str:
    """Where to go after signing in: a page of the desk only, never another site."""
    if text and text.startswith("/web/") and not text.startswith("//") and "\\" not in text:
        return text
    return HOME


@router.get("/web")
def web_home() -> Response:
    return RedirectResponse(HOME, status_code=303, headers=HEADERS)


@router.get("/web/sign-in")
def sign_in_form(
    request: Request, then: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    return render(
        request, "sign_in.html", {"then": _then(then), "error": None}, holder=signed_in(request)
    )


@router.post("/web/sign-in")
def sign_in(
    request: Request,
    api_key: Annotated[str, Form(max_length=200)] = "",
    then: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    refuse_other_sites(request)
    keyring: Keyring = request.app.state.keyring
    holder = keyring.holder(api_key.strip()) if api_key.strip() else None
    if holder is None:
        error = (
            "enter an API key"
            if not api_key.strip()
            else "this API key is not configured on "
            "this server: check it, or ask the ledger's operator for one"
        )
        return render(request, "sign_in.html", {"then": _then(then), "error": error}, status=401)
    kept = sessions(request)
    kept.close(request.cookies.get(COOKIE))  # a sign-in replaces the browser's session
    response = RedirectResponse(_then(then), status_code=303, headers=HEADERS)
    response.set_cookie(
        COOKIE,
        kept.open(holder),
        max_age=LIFETIME_SECONDS,
        path="/web",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/web/sign-out")
def sign_out(request: Request) -> Response:
    refuse_other_sites(request)
    sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/web/sign-in", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/web")
    return response
