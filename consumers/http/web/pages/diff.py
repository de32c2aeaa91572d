"""What changed in a period between two moments, and why: the API's diff document
(`/v1/periods/{period}/diff`, `diff_json`), each changed row with its figures before and
after, the fields that changed, what finance was told, and the recorded events that
caused it, each linking to its raw envelope.

The diff names a cause's type and record time; its reason (the producer's words, e.g. a
post-incident review's) and what it changed are in the row's derivation, the API's
`explain` document: read for each changed row shown, as of the later moment (the earlier
for a row that no longer exists), which also gives the contract's currency and timezone
for writing its amounts and times. The rows are paged like the overview's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.problems import invalid
from consumers.http.roles import may
from consumers.http.web.access import reader
from consumers.http.web.pages.common import (
    PAGE_ROWS,
    blank_as_none,
    closed_at,
    in_snapshot,
    page_number,
    query_string,
)
from consumers.http.web.templating import render
from ledger.periods import Period
from ledger.timeformat import parse_utc
from projections.queries import as_of as moments
from projections.queries.diff import Moment, diff, diff_json
from projections.queries.explain.query import explanation, explanation_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)

MomentText = Annotated[str | None, Query(max_length=40)]
# The figures shown for a row, in this order, when they changed (money ones by currency).
MONEY_FIELDS = frozenset({"credit_amount", "fee_basis"})


def _explained_events(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each event the derivation tells with its reason (corrections, retractions)."""
    if isinstance(document, dict):
        if isinstance(document.get("event_id"), str) and "reason" in document:
            yield document["event_id"], document
        for value in document.values():
            yield from _explained_events(value)
    elif isinstance(document, list):
        for value in document:
            yield from _explained_events(value)


def _context(
    snapshot: StoreSnapshot, period: Period, row: dict[str, Any], at: str
) -> dict[str, Any]:
    """The row's contract (currency, timezone) and its events' reasons, from its
    derivation as of `at`."""
    explained = json.loads(
        explanation_json(
            explanation(snapshot, row["contract_id"], row["service_id"], period, parse_utc(at))
        )
    )
    return {
        "currency": explained["contract"]["currency"],
        "timezone": explained["contract"]["timezone"],
        "events": dict(_explained_events(explained)),
    }


@router.get("/web/periods/{period}/diff")
def diff_page(
    request: Request,
    period: str,
    holder: Annotated[ApiKey, Depends(reader("period_diff"))],
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: MomentText = None,
    contract: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    asked_period = params.period(period)
    first_text, last_text = blank_as_none(from_), blank_as_none(to)
    contract = blank_as_none(contract)
    number = page_number(page)
    first = Moment(params.moment(first_text, "from"), "from", first_text)
    last = Moment(params.moment(last_text, "to"), "to", last_text)

    def compute(snapshot: StoreSnapshot) -> dict[str, Any]:
        # The period's close known now, for the "since the close" link.
        close = closed_at(snapshot, asked_period, moments.now(snapshot))
        if first.asked is None:  # the form alone: "from" is needed
            return {"document": None, "closed_at": close, "rows": [], "pages": 1}
        document = json.loads(diff_json(diff(snapshot, asked_period, first, last, contract)))
        pages = max(1, -(-len(document["rows"]) // PAGE_ROWS))
        if number > pages:
            raise invalid("page", f"a page from 1 to {pages}")
        start = (number - 1) * PAGE_ROWS
        shown = document["rows"][start : start + PAGE_ROWS]
        rows = [
            {
                **row,
                **_context(
                    snapshot,
                    asked_period,
                    row,
                    document["from"] if row["change"] == "removed" else document["to"],
                ),
            }
            for row in shown
        ]
        return {"document": document, "closed_at": close, "rows": rows, "pages": pages}

    found = in_snapshot(request, compute)

    def link(**changes: object) -> str:
        given: dict[str, object] = {
            "from": first_text,
            "to": last_text,
            "contract": contract,
            "page": None,
        }
        given.update(changes)
        return query_string(given) or "?"

    return render(
        request,
        "diff.html",
        {
            "period": asked_period.label,
            "first": first_text,
            "last": last_text,
            "contract": contract,
            "page": number,
            "may_explain": may(holder.roles, "explain_row"),
            "money_fields": MONEY_FIELDS,
            "link": link,
            **found,
        },
        holder=holder,
    )
