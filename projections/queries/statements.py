"""A contract's statement for a period: what finance books for it.

Each of the contract's rows of the period as the report gives it (the report's own
documents, computed by `report`, not a second time), with the credit entries recorded
for it by the moment and their net: the exact sum of those entries, which after every
reconciliation equals the row's credit amount. A row whose coverage was withdrawn is no
longer in the report, but its entries were booked (its issue and the reversal of it):
they are listed apart, and count in the totals, so the totals are every entry's sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.attainment import row_status
from ledger.credits import CreditEntry
from ledger.errors import NotFoundError
from ledger.money import to_minor_unit
from ledger.periods import Period, to_us
from ledger.timeformat import format_utc
from projections.attainment import load_some_contracts
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.queries.report import Document, report
from projections.store import StoreReads


class ContractNotFoundError(NotFoundError):
    """No contract with the id asked about was recorded by the moment asked about."""


@dataclass(frozen=True)
class StatementRow:
    document: Document  # the report's row (`Row.as_dict`)
    entries: list[CreditEntry]  # the row's entries recorded by the moment, in record order


@dataclass(frozen=True)
class Statement:
    contract_id: str
    customer_id: str
    currency: str  # the contract's: its totals name it even when nothing is booked
    period: Period
    as_of: datetime
    closed_at: datetime | None  # the period's close recorded by `as_of`, if any
    rows: list[StatementRow]
    # Entries of rows no longer in the report (their coverage withdrawn), by service.
    withdrawn: dict[str, list[CreditEntry]]


def statement(
    store: StoreReads,
    contract_id: str,
    period: Period,
    asked: datetime | None,
    *,
    typed: str | None = None,
) -> Statement:
    """`contract_id`'s statement for `period` as of `asked` (None: now; `typed`: how the
    asker wrote it); `ContractNotFoundError` if the contract was not recorded by then."""
    moment = as_of.moment(store, asked, typed=typed)
    contracts = load_some_contracts(store, to_us(moment), [contract_id])
    if not contracts:
        raise ContractNotFoundError(
            f"no contract {contract_id} was recorded by {format_utc(moment)}"
        )
    rows = report(store, period, moment, contract_id, render_part=list)
    booked: dict[str, list[CreditEntry]] = defaultdict(list)
    for entry in store.entries(
        period=period.label, contract_id=contract_id, recorded_by_us=to_us(moment)
    ):
        booked[entry.service_id].append(entry)
    documents = [document for part in rows.parts for document in part]
    listed = {document["service_id"] for document in documents}
    return Statement(
        contract_id=contract_id,
        customer_id=contracts[0].customer_id,
        currency=contracts[0].currency,
        period=period,
        as_of=moment,
        closed_at=rows.closed_at,
        rows=[StatementRow(d, booked.get(d["service_id"], [])) for d in documents],
        withdrawn={s: entries for s, entries in sorted(booked.items()) if s not in listed},
    )


def net_amount(entries: Iterable[CreditEntry], currency: str) -> Decimal:
    """The exact sum of `entries` (all in `currency`), written in its minor unit."""
    total = sum((entry.amount_major for entry in entries), Decimal(0))
    # Exact: every amount is in the minor unit already, so this only sets the places.
    return to_minor_unit(Fraction(total), currency)


def statement_document(result: Statement) -> dict[str, Any]:
    booked: list[CreditEntry] = [e for row in result.rows for e in row.entries]
    booked += [e for entries in result.withdrawn.values() for e in entries]
    currencies = sorted({result.currency} | {e.currency for e in booked})
    return {
        "contract_id": result.contract_id,
        "customer_id": result.customer_id,
        "period": result.period.label,
        "as_of": format_utc(result.as_of),
        "status": row_status(result.closed_at),
        "rows": [
            {
                **row.document,
                "entries": [e.as_dict() for e in row.entries],
                "net_amount": str(net_amount(row.entries, row.document["currency"])),
            }
            for row in result.rows
        ],
        "withdrawn_rows": [
            {
                "service_id": service_id,
                "entries": [e.as_dict() for e in entries],
                "net_amount": str(net_amount(entries, entries[0].currency)),
            }
            for service_id, entries in result.withdrawn.items()
        ],
        "totals": [
            {
                "currency": currency,
                "net_amount": str(
                    net_amount((e for e in booked if e.currency == currency), currency)
                ),
            }
            for currency in currencies
        ],
    }


def statement_json(result: Statement) -> str:
    return to_json(statement_document(result))
