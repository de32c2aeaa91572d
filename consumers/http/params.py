"""Query and path values, read as the command line reads the same options, each error
naming the parameter and its rule (a `ProblemError`)."""

from __future__ import annotations

from datetime import datetime

from consumers.http.problems import invalid
from ledger.errors import InvalidInputError
from ledger.periods import Period
from projections.queries.as_of import INSTANT_FORMS, parse_moment
from projections.queries.as_of import moment as resolve
from projections.store import StoreReads

PERIOD_RULE = "a calendar month YYYY-MM or a calendar year YYYY"
MOMENT_RULE = INSTANT_FORMS


def period(text: str, field: str = "period") -> Period:
    try:
        return Period.parse(text)
    except InvalidInputError as exc:
        raise invalid(field, PERIOD_RULE, f"{field}: {exc}") from None


def optional_period(text: str | None, field: str = "period") -> Period | None:
    return None if text is None else period(text, field)


def moment(text: str | None, field: str = "as_of") -> datetime | None:
    """The moment `field` names, or None (now) when it is absent."""
    if text is None:
        return None
    try:
        return parse_moment(text)
    except InvalidInputError as exc:
        raise invalid(field, MOMENT_RULE, f"{field} {exc}") from None


def as_of(store: StoreReads, text: str | None) -> datetime:
    """The moment `as_of` asks about (now if absent), refused after now in the words of
    the parameter (`as_of.moment`): resolved before a query, which then answers as of it."""
    return resolve(store, moment(text), name="as_of", typed=text)
