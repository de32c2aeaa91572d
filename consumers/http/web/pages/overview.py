"""A period's overview: every row of the period from the report the API answers with
(`/v1/periods/{period}/report`, the kept report as of now included), each with its
credit entries counted and a mark when it changed since the period's close; filtered,
sorted and paged on the server, so a period of thousands of rows is sent 100 at a time.

"Changed since the close" compares each row with the report as of the close moment
(the same query as of that moment) by the diff's own rule (`history_diff.row_change`:
its figures differ, or an entry about it was recorded since), and lists the rows of the
close that are gone (removed, e.g. by a backdated termination): one report more, and
none at all when nothing was recorded after the close (its chain position is the
page's). A diff between the two
moments would compute both reports again and their causes besides; the causes are the
diff view's (`diff.py`), linked from here. A report as of a past moment (the close, or
the moment asked with `as_of`) never changes once that moment's records are all in, so
it is kept (`app.state.reports_past`), keyed by the moment and the chain position it
reaches: a record landing at or before that moment later moves the position, and so
asks for a new report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import params
from consumers.http.answer_cache import AnswerCache
from consumers.http.keys import ApiKey
from consumers.http.problems import invalid
from consumers.http.reports_now import report_now
from consumers.http.roles import may
from consumers.http.web.access import reader
from consumers.http.web.pages.common import (
    PAGE_ROWS,
    AsOfField,
    blank_as_none,
    closed_at,
    in_snapshot,
    page_number,
    query_string,
)
from consumers.http.web.templating import render
from ledger.periods import Period
from ledger.timeformat import format_utc, parse_utc
from projections.queries import as_of as moments
from projections.queries.credits import credits, credits_json
from projections.queries.diff import row_change
from projections.queries.report import Report, report, report_json, rows_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)

STATUSES = ("provisional", "closed")
Row = dict[str, Any]


def _text(field: str) -> Callable[[Row], Any]:
    return lambda row: row[field]


def _number(field: str) -> Callable[[Row], Any]:
    # A missing figure (no target, no incidents) sorts before every number.
    return lambda row: (0, Decimal(0)) if row[field] is None else (1, Decimal(row[field]))


def _money(field: str) -> Callable[[Row], Any]:
    # Amounts of different currencies are not comparable as numbers (A$300 is not less
    # than ¥1,200): by the currency's code first, then the amount within it.
    number = _number(field)
    return lambda row: (row["currency"], number(row))


@dataclass(frozen=True)
class Column:
    key: str  # the sort parameter's value
    label: str
    sort_key: Callable[[Row], Any]
    numeric: bool = False
    order_note: str | None = None  # how the column sorts, when not plainly by its values


COLUMNS = (
    Column("contract", "Contract", _text("contract_id")),
    Column("customer", "Customer", _text("customer_id")),
    Column("service", "Service", _text("service_id")),
    Column("status", "Status", _text("status")),
    Column("availability", "Availability %", _number("availability_percent"), True),
    Column("target", "Target %", _number("availability_target_percent"), True),
    Column("response", "Response %", _number("response_attainment_percent"), True),
    Column("credit_percent", "Credit %", _number("credit_percent"), True),
    Column("credit_amount", "Credit", _money("credit_amount"), True, "by currency, then amount"),
    # A provisional row's error budget used (sla-math §8), in words and a bar; closed
    # rows and rows without availability terms have none.
    Column("budget", "Budget used", _number("budget_consumed_percent")),
    Column("entries", "Entries", _text("entries"), True),
    Column("changed", "Since the close", _text("changed")),
)
SORTS = {column.key: column for column in COLUMNS}
SORT_RULE = "one of " + ", ".join(SORTS)

Text = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class Asked:
    contract: str | None
    customer: str | None
    service: str | None
    status: str | None
    sort: str
    order: str
    page: int
    as_of: str | None

    def query(self, **changes: object) -> str:
        """This page's query string with `changes`, the empty ones left out."""
        given: dict[str, object] = {
            **self.keep(),
            "page": None if self.page == 1 else self.page,
            "as_of": self.as_of,
        }
        given.update(changes)
        defaults = {"sort": "contract", "order": "asc", "page": 1}  # left out: shorter links
        kept = {name: value for name, value in given.items() if defaults.get(name) != value}
        # "?" alone, not "": an empty href would keep this page's query.
        return query_string(kept) or "?"

    def sorted_by(self, key: str) -> str:
        """The link of a column header: sorted by it, ascending first, then flipping."""
        order = "desc" if self.sort == key and self.order == "asc" else "asc"
        return self.query(sort=key, order=order, page=None)

    def keep(self) -> dict[str, str | None]:
        """What the as-of form carries along: the filters and the sort."""
        return {
            "contract": self.contract,
            "customer": self.customer,
            "service": self.service,
            "status": self.status,
            "sort": None if self.sort == "contract" else self.sort,
            "order": None if self.order == "asc" else self.order,
        }


def _asked(
    contract: str | None,
    customer: str | None,
    service: str | None,
    status: str | None,
    sort: str | None,
    order: str | None,
    page: str | None,
    as_of: str | None,
) -> Asked:
    status = blank_as_none(status)
    if status is not None and status not in STATUSES:
        raise invalid("status", "provisional or closed")
    sort = blank_as_none(sort) or "contract"
    if sort not in SORTS:
        raise invalid("sort", SORT_RULE)
    order = blank_as_none(order) or "asc"
    if order not in ("asc", "desc"):
        raise invalid("order", "asc or desc")
    number = page_number(page)
    return Asked(
        blank_as_none(contract),
        blank_as_none(customer),
        blank_as_none(service),
        status,
        sort,
        order,
        number,
        blank_as_none(as_of),
    )


@dataclass(frozen=True)
class Overview:
    document: dict[str, Any]  # the report, as the API answers it
    closed_at: str | None  # the period's close known at the report's moment, if any
    rows: list[Row]  # every row with `entries` and `changed` added
    removed: list[Row]  # the rows at the close that are gone at the report's moment


def past_report(
    request: Request, snapshot: StoreSnapshot, period: Period, moment: datetime
) -> Report[str]:
    """The report of `period` as of the past `moment`, kept once computed."""
    kept: AnswerCache[Report[str]] = request.app.state.reports_past
    position = moments.position_at(snapshot, moment)

    def computed() -> tuple[Report[str], bool]:
        return report(snapshot, period, moment, None, render_part=rows_json), True

    return kept.answer((period.label, format_utc(moment), position), computed)


def _report(request: Request, period: Period, as_of: str | None) -> dict[str, Any]:
    """The report document the API answers `GET /v1/periods/{period}/report` with."""
    if as_of is None:
        text, _ = report_now(request, period, None)
    else:

        def compute(snapshot: StoreSnapshot) -> str:
            return report_json(
                past_report(request, snapshot, period, params.as_of(snapshot, as_of))
            )

        text = in_snapshot(request, compute)
    document: dict[str, Any] = json.loads(text)
    return document


def _key(row: Row) -> tuple[str, str]:
    return row["contract_id"], row["service_id"]


def overview(request: Request, period: Period, as_of: str | None) -> Overview:
    document = _report(request, period, as_of)
    moment = parse_utc(document["as_of"])

    def compute(snapshot: StoreSnapshot) -> Overview:
        # The close the report's status comes from (`report` reads it so): the periods
        # query would name it too, after folding every contract for its calendar.
        close = closed_at(snapshot, period, moment)
        entries = json.loads(credits_json(credits(snapshot, period, None, moment)))["entries"]
        counted = Counter(_key(entry) for entry in entries)
        rows = [
            {**row, "entries": counted.get(_key(row), 0), "changed": False}
            for row in document["rows"]
        ]
        if close is None:
            return Overview(document, None, rows, [])
        if moments.position_at(snapshot, parse_utc(close)) == document["chain_position"]:
            return Overview(document, close, rows, [])  # nothing recorded since the close
        then = json.loads(report_json(past_report(request, snapshot, period, parse_utc(close))))
        before = {_key(row): row for row in then["rows"]}
        # Finance told something since the close: an entry recorded after it.
        told = {_key(e) for e in entries if parse_utc(e["recorded_at"]) > parse_utc(close)}
        now = {_key(row) for row in document["rows"]}
        for row, answered in zip(rows, document["rows"], strict=True):
            key = _key(row)
            row["changed"] = row_change(before.get(key), answered, key in told) is not None
        removed = [
            row
            for key, row in before.items()
            if key not in now and row_change(row, None, key in told) == "removed"
        ]
        return Overview(document, close, rows, sorted(removed, key=_key))

    return in_snapshot(request, compute)


def _chosen(rows: list[Row], asked: Asked) -> list[Row]:
    """The rows the filters keep, in the order asked, ties by contract then service."""
    kept = [
        row
        for row in rows
        if (asked.contract is None or row["contract_id"] == asked.contract)
        and (asked.customer is None or row["customer_id"] == asked.customer)
        and (asked.service is None or row["service_id"] == asked.service)
        and (asked.status is None or row["status"] == asked.status)
    ]
    kept.sort(key=_key)
    # Python's sort is stable, reversed too: equal rows stay by contract, then service.
    kept.sort(key=SORTS[asked.sort].sort_key, reverse=asked.order == "desc")
    return kept


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    first: int  # the page's first row, counted from 1 (0: no row)
    last: int
    total: int

    @property
    def numbers(self) -> list[int]:
        """The pages linked by number: the first, the last and those near this one."""
        near = range(max(1, self.page - 3), min(self.pages, self.page + 3) + 1)
        return sorted({1, self.pages, *near})


def _paged(rows: list[Row], page: int) -> tuple[list[Row], Paging]:
    total = len(rows)
    pages = max(1, -(-total // PAGE_ROWS))
    if page > pages:
        raise invalid("page", f"a page from 1 to {pages}")
    start = (page - 1) * PAGE_ROWS
    shown = rows[start : start + PAGE_ROWS]
    return shown, Paging(page, pages, start + 1 if shown else 0, start + len(shown), total)


@router.get("/web/periods/{period}")
def overview_page(
    request: Request,
    period: str,
    holder: Annotated[ApiKey, Depends(reader("period_report"))],
    as_of: AsOfField = None,
    contract: Text = None,
    customer: Text = None,
    service: Text = None,
    status: Text = None,
    sort: Text = None,
    order: Text = None,
    page: Text = None,
) -> Response:
    asked_period = params.period(period)
    asked = _asked(contract, customer, service, status, sort, order, page, as_of)
    found = overview(request, asked_period, asked.as_of)
    chosen = _chosen(found.rows, asked)
    shown, paging = _paged(chosen, asked.page)
    return render(
        request,
        "overview.html",
        {
            "period": asked_period.label,
            "document": found.document,
            "closed_at": found.closed_at,
            "rows": shown,
            "paging": paging,
            "asked": asked,
            "as_of": asked.as_of,
            "columns": COLUMNS,
            "statuses": STATUSES,
            "changed_count": sum(1 for row in found.rows if row["changed"]),
            "row_count": len(found.rows),
            "removed": found.removed,
            # Links only to the pages this key may open (finance reads the overview,
            # not a row's derivation nor the diff).
            "may_explain": may(holder.roles, "explain_row"),
            "may_diff": may(holder.roles, "period_diff"),
        },
        holder=holder,
    )
