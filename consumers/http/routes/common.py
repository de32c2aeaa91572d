"""What every route shares: the stores, the documented answers, the parameters every
read takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from consumers.http import answers, params
from consumers.http.answer_cache import AnswerCache
from consumers.http.answers import Answer
from consumers.http.cursors import Cursor, decode
from consumers.http.schemas import ProblemDocument
from consumers.http.stores import Stores
from projections.queries import as_of as moments
from projections.store import StoreSnapshot

# A read's computation in its snapshot: the document's JSON and its chain position; or
# (a page) the answer made ready, with the next page's URL.
Compute = Callable[[StoreSnapshot], tuple[str, int]]
ComputePage = Callable[[StoreSnapshot], Answer]

# The forms of a period and of a moment, documented for clients (and for generated
# tests); the values are read by `params`, whose messages name the rule broken.
PERIOD_FORM = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"
MOMENT_FORM = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z)?$"
)
CURSOR_FORM = r"^[A-Za-z0-9_-]+$"


def formed(pattern: str) -> dict[str, Any]:
    """A parameter's documented form (not checked by FastAPI: `params` checks it)."""
    return {"pattern": pattern}


def moment_query(description: str, *, alias: str | None = None) -> Any:
    return Query(alias=alias, description=description, json_schema_extra=formed(MOMENT_FORM))


def period_query(description: str) -> Any:
    return Query(description=description, json_schema_extra=formed(PERIOD_FORM))


PeriodPath = Annotated[
    str,
    Path(
        description="A calendar month, YYYY-MM, or a calendar year, YYYY (its annual rows).",
        examples=["2026-03"],
        json_schema_extra=formed(PERIOD_FORM),
    ),
]
AsOf = Annotated[
    str | None,
    moment_query(
        "Answer as the ledger knew it at this moment: a date YYYY-MM-DD (its 00:00 UTC) or "
        "an RFC 3339 instant; default now. Never after now."
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
CursorParam = Annotated[
    str | None,
    Query(
        description='The `cursor` of the previous page\'s `Link: rel="next"`, unchanged: '
        "it carries the question (filters, moment, chain position)."
    ),
]


def walk(
    snapshot: StoreSnapshot,
    operation: str,
    given: dict[str, str | None],
    cursor: str | None,
    as_of: str | None,
    *,
    through: Callable[[StoreSnapshot, datetime], int] = moments.position_at,
    after: int = 0,
) -> Cursor:
    """The question a page of the list `operation` answers: the `cursor`'s, or (the first
    page) the one `given` asks as of its moment, `through` that moment's chain position
    (or what else the list is ordered by), from `after`."""
    if cursor is not None:
        return decode(cursor, operation, given)
    moment = params.as_of(snapshot, as_of)
    return Cursor(operation, given, moment, through(snapshot, moment), after)


def next_page(request: Request, walked: Cursor, last: int | None) -> str | None:
    """The next page's URL, going on after `last` (None: this page is the last)."""
    if last is None:
        return None
    return answers.next_page_url(request, walked.next(last).encode())


def stores(request: Request) -> Stores:
    found: Stores = request.app.state.stores
    return found


def read(request: Request, compute: Compute, *, about_the_past: bool) -> Response:
    """The answer `compute` gives in a snapshot of its own. A question `about_the_past`
    (a moment given) is answered from the answers kept (`answer_cache`) when it was asked
    under the same chain head before."""

    def computed(snapshot: StoreSnapshot) -> Answer:
        text, position = compute(snapshot)
        return answers.answer(text, position)

    return read_page(request, computed, keep=about_the_past)


def read_page(request: Request, compute: ComputePage, *, keep: bool) -> Response:
    """`read` for an answer that may have a next page; `keep`: the answer is the same for
    the same question under the same chain head, so it is kept and given again."""
    reads = stores(request)
    if not keep:
        with reads.reader() as snapshot:
            return answers.respond(request, compute(snapshot))
    head = reads.head_position()
    query = tuple(sorted(request.query_params.multi_items()))

    def computed() -> tuple[Answer, bool]:
        with reads.reader() as snapshot:
            ready = compute(snapshot)
            # Kept only if nothing was recorded since the head the key names.
            return ready, snapshot.chain_head().position == head

    cache: AnswerCache[Answer] = request.app.state.answers
    return answers.respond(request, cache.answer((request.url.path, query, head), computed))


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemDocument.model_json_schema()}},
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("A parameter or the body breaks its rule (`field`, `rule`)."),
    401: _problem("No API key, or one this server does not know."),
    403: _problem("The key's roles do not allow this operation."),
    404: _problem("Not found as of the moment asked about."),
    422: _problem("A moment after now, or moments in the wrong order."),
    503: _problem("The store cannot be reached (see `Retry-After`) or used."),
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "The client's copy (`If-None-Match`) is current."}
}
POSITION_HEADER_DOC = {
    "SLA-Ledger-Chain-Position": {
        "description": "The chain position the answer was computed at.",
        "schema": {"type": "integer"},
    },
    "ETag": {"description": "Strong: the SHA-256 of the body.", "schema": {"type": "string"}},
}


def documented_read(
    model: type[Any], description: str, *, paged: bool = False
) -> dict[int | str, Any]:
    """The documented responses of a read answering with `model`."""
    headers = dict(POSITION_HEADER_DOC)
    if paged:
        headers["Link"] = {
            "description": 'The next page: `<URL>; rel="next"`, absent on the last page.',
            "schema": {"type": "string"},
        }
    return {200: {"model": model, "description": description, "headers": headers}} | (
        NOT_MODIFIED | PROBLEMS
    )
