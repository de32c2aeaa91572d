"""What every page shares: reading the ledger in a snapshot of its own, the moment
asked about (`as_of`), read as the API reads it, the page number of a paged table and
its size, the links' query strings, and a period's close."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Path, Query, Request

from consumers.http.problems import invalid
from consumers.http.routes.common import stores
from ledger.inbound import MAX_IDENTIFIER_CHARS
from ledger.periods import Period, to_us
from ledger.timeformat import format_utc
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


# The rows a paged table shows at once (the overview's and the diff's).
PAGE_ROWS = 100
# A page number as a person or a link writes it: ASCII digits only, no sign, no leading
# zero, at most six (`str.isdigit` accepts '²' and '١', which `int` then refuses or
# reads as a number nobody wrote).
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
PAGE_RULE = "a whole number from 1 to 999999, in the digits 0-9"


def page_number(text: str | None) -> int:
    """The page asked for (1 when none is), or the API's one-line invalid problem."""
    number = blank_as_none(text) or "1"
    if PAGE_NUMBER.fullmatch(number) is None:
        raise invalid("page", PAGE_RULE)
    return int(number)


def query_string(values: Mapping[str, object]) -> str:
    """A link's query string of `values`, the empty ones (None, "") left out; "" when
    none is left."""
    kept = {name: str(value) for name, value in values.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


def closed_at(snapshot: StoreSnapshot, period: Period, moment: datetime) -> str | None:
    """When `period` was closed, as known at `moment` (the close the report's status
    comes from), or None while it was not."""
    known = snapshot.closes(to_us(moment)).get(period.label)
    return None if known is None else format_utc(known)
