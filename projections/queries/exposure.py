"""`exposure`: a period's provisional rows, most exposed first, with the deadlines of
their pending incidents (spec: sla-math §8, outputs.md "Additions").

The rows are the report's own (`report_rows`, read and computed the same way, on two
cores where that pays); each provisional row is presented here as an `ExposedRow`: its
exact order key and its document. The order is decided on the exact figures, never on
their rounded text: `budget_consumed_percent` descending, then `credit_at_risk`
descending, nulls last in both, then contract, service and period. A closed period has
no provisional row, and no row of it is computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.attainment import Row
from ledger.exposure import FIELDS as EXPOSURE_FIELDS
from ledger.periods import FIRST_PERIOD, LAST_PERIOD, Period, to_us
from ledger.timeformat import format_utc, parse_utc
from projections.queries import as_of
from projections.queries.encoding import to_csv, to_json
from projections.queries.report_rows import Source, reading, row_parts

Document = dict[str, Any]

# The report fields an exposure row carries, in this order, before its pending
# incidents: the row's key and owner, its actual figures, then the seven fields of
# outputs.md "Additions".
ROW_FIELDS = (
    "contract_id",
    "customer_id",
    "service_id",
    "period",
    "status",
    "currency",
    "availability_target_percent",
    "availability_percent",
    "downtime_seconds",
    "credit_percent",
    "credit_amount",
    *EXPOSURE_FIELDS,
)
# The CSV's columns: the fields above, the contract's timezone (the one its deadlines
# are read in by people), then the pending incidents in one column (`pending_text`).
CSV_FIELDS = (*ROW_FIELDS, "timezone", "pending_incidents")

# An exposure row's place in the order: (budget unknown, -whole part of budget x 10^9,
# -budget, risk unknown, -risk, contract, service, period), so that sorting ascending
# puts the most exposed first. The integer before the exact budget decides nearly every
# comparison at the speed of integers; only rows equal in it compare the fractions.
OrderKey = tuple[bool, int, Fraction, bool, Decimal, str, str, str]
SCALE = 10**9


@dataclass(frozen=True, slots=True)
class ExposedRow:
    order: OrderKey
    document: Document


@dataclass(frozen=True)
class ExposureReport:
    period: Period
    as_of: datetime
    chain_position: int
    closed_at: datetime | None  # the period's close recorded by `as_of`: no row then
    rows: list[Document]  # most exposed first (`order_key`)


def current_period(moment: datetime) -> Period:
    """The period `exposure` shows when none is asked for: the calendar month, in UTC,
    of the moment asked about. Contracts in other timezones may be a few hours into the
    next month or still in the last one; the UTC month is the same for every contract
    and every asker, and `--period` names any other."""
    instant = moment.astimezone(UTC)
    # Within the calendar the ledger covers (a moment asked about may lie before it).
    return min(max(Period(instant.year, instant.month), FIRST_PERIOD), LAST_PERIOD)


def order_key(
    contract_id: str,
    service_id: str,
    period: str,
    consumed: Fraction | None,
    at_risk: Decimal | None,
) -> OrderKey:
    """Most exposed first: exact budget consumed descending, then credit at risk
    descending, nulls last in both; then contract, service, period."""
    exact = Fraction(0) if consumed is None else consumed
    return (
        consumed is None,
        -(exact.numerator * SCALE // exact.denominator),
        -exact,
        at_risk is None,
        -at_risk if at_risk is not None else Decimal(0),
        contract_id,
        service_id,
        period,
    )


def exposed(row: Row) -> ExposedRow | None:
    """A provisional row as `exposure` lists it (None for a closed row)."""
    exposure = row.exposure
    if row.status != "provisional" or exposure is None:
        return None
    full = row.as_dict()
    document = {name: full[name] for name in ROW_FIELDS}
    document["timezone"] = row.contract.timezone
    pending = sorted(exposure.deadlines, key=lambda d: (d.respond_by, d.incident_id))
    document["pending_incidents"] = [d.as_dict() for d in pending]
    key = row.key
    return ExposedRow(
        order_key(
            key.contract_id,
            key.service_id,
            key.period,
            exposure.budget_consumed_percent,
            exposure.credit_at_risk,
        ),
        document,
    )


def most_exposed_first(rows: Iterable[ExposedRow]) -> list[Document]:
    return [row.document for row in sorted(rows, key=lambda row: row.order)]


def _kept(items: list[ExposedRow]) -> list[ExposedRow]:
    return items


def exposure(
    source: Source,
    period: Period | None,
    asked: datetime | None,
    contract_id: str | None,
    *,
    typed: str | None = None,
    fork: bool = False,
) -> ExposureReport:
    """The provisional rows of `period` (None: `current_period` of the moment) as of
    `asked` (None: now; `typed`: how the asker wrote it), of every contract or only
    `contract_id`'s, most exposed first. `source` and `fork` as for `report`."""
    with reading(source) as store:
        moment = as_of.moment(store, asked, typed=typed)
        position = as_of.position_at(store, moment)
        chosen = current_period(moment) if period is None else period
        closed_at = store.closes(to_us(moment)).get(chosen.label)
        contract_ids = (
            []
            if closed_at is not None
            else store.subject_ids("contract", to_us(moment))
            if contract_id is None
            else [contract_id]
        )
    if not contract_ids:
        return ExposureReport(chosen, moment, position, closed_at, [])
    parts = row_parts(
        source,
        chosen,
        moment,
        contract_ids,
        closed_at,
        every_contract=contract_id is None,
        render_part=_kept,
        fork=fork,
        present=exposed,
    )
    rows = most_exposed_first(item for part in parts.parts for item in part)
    return ExposureReport(chosen, moment, position, closed_at, rows)


def exposure_json(report: ExposureReport) -> str:
    """Like `report --format json`: period, moment, chain position and the rows."""
    return to_json(
        {
            "period": report.period.label,
            "as_of": format_utc(report.as_of),
            "chain_position": report.chain_position,
            "rows": report.rows,
        }
    )


def deadlines_earliest_first(rows: Iterable[Document]) -> list[tuple[Document, Document]]:
    """Every pending incident of these exposure rows with its row, earliest `respond_by`
    first, then by incident id: what a reader who merges the rows' deadlines (the
    table's list, the desk's next deadline) shows. Compared as instants, not as text:
    `...T06:20:00.5Z` is later than `...T06:20:00Z`, but its text sorts first."""
    found = [(pending, row) for row in rows for pending in row["pending_incidents"]]
    return sorted(
        found, key=lambda item: (parse_utc(item[0]["respond_by"]), item[0]["incident_id"])
    )


def pending_text(pending: list[Document]) -> str:
    """A row's pending incidents in one CSV cell: `incident_id priority respond_by`
    for each, earliest deadline first, separated by `; ` (priority `-` when none)."""
    return "; ".join(
        f"{p['incident_id']} {p['priority'] or '-'} {p['respond_by']}" for p in pending
    )


def exposure_csv(report: ExposureReport) -> str:
    """A header, then one line per row, the pending incidents flattened (`pending_text`)."""
    lines = [
        {**row, "pending_incidents": pending_text(row["pending_incidents"])} for row in report.rows
    ]
    return to_csv(lines, list(CSV_FIELDS))
