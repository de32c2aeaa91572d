"""What every page shares: reading the ledger in a snapshot of its own, and the moment
asked about (`as_of`), read as the API reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Path, Query, Request

from consumers.http.routes.common import stores
from ledger.inbound import MAX_IDENTIFIER_CHARS
from projections.store import StoreSnapshot

T = TypeVar("T")

AsOfField = Annotated[
    str | None,
    Query(max_length=40, description="Show the page as the ledger knew it at this moment."),
]


# An id in a page's path: no longer than the intake lets any identifier be, so a hostile
# path is refused in one line rather than echoed back at length.
IdPath = Annotated[str, Path(max_length=MAX_IDENTIFIER_CHARS)]


def in_snapshot(request: Request, compute: Callable[[StoreSnapshot], T]) -> T:
    """`compute` in a read snapshot of its own (one moment of the ledger)."""
    with stores(request).reader() as snapshot:
        return compute(snapshot)


def blank_as_none(text: str | None) -> str | None:
    """A form's empty field means "not given" (now, no filter)."""
    if text is None:
        return None
    text = text.strip()
    return text or None
