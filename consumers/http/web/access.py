"""Who may read a page: the signed-in session's roles, by the API's one table
(`consumers.http.roles.ALLOWED`): a page needs the operation whose data it shows.

Nothing is shown without a session: a page asked for without one sends the browser to
sign in (and back to the page after). A session whose roles do not allow the page gets
a 403 page that names the role needed and shows nothing of the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request

from consumers.http.auth import refuse_unknown_parameters
from consumers.http.keys import ApiKey
from consumers.http.problems import ProblemError
from consumers.http.roles import ALLOWED, may
from consumers.http.web.session import COOKIE, Sessions


class SignInNeededError(Exception):
    """No session: the browser is sent to sign in, then back to `then`."""

    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


class PageRefusedError(Exception):
    """A session whose roles may not read the page."""

    def __init__(self, holder: ApiKey, message: str) -> None:
        super().__init__(message)
        self.holder = holder
        self.message = message


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def signed_in(request: Request) -> ApiKey | None:
    return sessions(request).holder(request.cookies.get(COOKIE))


def refuse_other_sites(request: Request) -> None:
    """A form posted from another site is refused: a page elsewhere could otherwise sign
    a visitor in with its own key (and show them its holder's view) or sign them out.
    Browsers say where a request comes from (`Sec-Fetch-Site`, else `Origin`); a
    client that says neither is not a browser visiting another site."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    ours = f"{request.url.scheme}://{request.url.netloc}"
    if (site is not None and site not in ("same-origin", "none")) or (
        site is None and origin is not None and origin != ours
    ):
        raise ProblemError(
            "forbidden",
            "a sign-in or sign-out form sent from another site is refused: use this "
            "server's own sign-in page",
        )


def sign_in_url(then: str) -> str:
    return "/web/sign-in?then=" + quote(then, safe="/")


def reader(operation: str) -> Callable[[Request], ApiKey]:
    """A dependency admitting a session whose roles may call `operation`."""
    assert operation in ALLOWED, operation

    def admitted(request: Request) -> ApiKey:
        holder = signed_in(request)
        if holder is None:
            then = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeededError(then)
        if not may(holder.roles, operation):
            needed = " or ".join(sorted(r.value for r in ALLOWED[operation]))
            raise PageRefusedError(
                holder,
                f"the key {holder.name!r} may not read this page: it needs the role {needed}",
            )
        # As the API does: a misspelt filter would show a wider page than was asked for.
        refuse_unknown_parameters(request)
        return holder

    return admitted
