"""A document as the API answers it: the query's own JSON (the command line's
`--format json` to the byte, with its newline), the chain position it was computed at
(`SLA-Ledger-Chain-Position`; the document holds it as `chain_position` too), a strong
ETag, and the next page's link where a list goes on.

The ETag is the SHA-256 of the body, so it is strong by construction: the same bytes,
the same tag. An answer as of a past moment, or of a closed period, is the same every
time it is asked, so a client holding it asks with `If-None-Match` and gets 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import Request, Response

JSON = "application/json"
POSITION_HEADER = "SLA-Ledger-Chain-Position"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


@dataclass(frozen=True)
class Answer:
    """A document made ready to send: its bytes, their ETag, its chain position and, for
    a page, the next page's URL. Made once, sent as often as it is asked for."""

    body: bytes
    etag: str
    chain_position: int | None
    next_url: str | None = None


def answer(text: str, chain_position: int | None, next_url: str | None = None) -> Answer:
    """`text` (a query's JSON) as the command line prints it, with its newline."""
    body = (text + "\n").encode("utf-8")
    return Answer(body, etag_of(body), chain_position, next_url)


def respond(request: Request, ready: Answer, media_type: str = JSON) -> Response:
    """`ready` as the answer to `request`, or 304 if the client holds it already."""
    headers = {"ETag": ready.etag, "Cache-Control": "no-cache"}
    if ready.chain_position is not None:
        headers[POSITION_HEADER] = str(ready.chain_position)
    if ready.next_url is not None:
        headers["Link"] = f'<{ready.next_url}>; rel="next"'
    if _matches(request.headers.get("if-none-match"), ready.etag):
        return Response(status_code=304, headers=headers)
    return Response(content=ready.body, media_type=media_type, headers=headers)


def document(
    request: Request, text: str, *, chain_position: int | None, next_url: str | None = None
) -> Response:
    """`text` (a query's JSON) as the answer to `request`, or 304 if the client holds it."""
    return respond(request, answer(text, chain_position, next_url))


def next_page_url(request: Request, cursor: str) -> str:
    """The same path with only the cursor (it carries the question) and the page size."""
    query = f"cursor={cursor}"
    limit = request.query_params.get("limit")
    if limit is not None:
        query += f"&limit={limit}"
    return f"{request.url.path}?{query}"
