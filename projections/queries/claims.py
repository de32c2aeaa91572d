"""`claims`: every claim with its row, the row's claim status and deadline, and the
claim's decision (spec: sla-math §10, outputs.md "Additions"), as known at a moment
(now by default); and the same list in pages (`claims_page`), for the HTTP API.

A claim is the fold of its events (`ledger.claims.fold_claim`); its row is computed as
the report computes it, with the same inputs, so the status and payable amount shown
here are the report's. A claim naming a row that does not exist is listed with
`row_exists` false and the row's fields null: it is accepted and has no effect.
Ordered by contract, period, service, then submission time and claim id; claims with no
submission known (only a withdrawal or a decision recorded) come last.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from ledger.attainment import Row
from ledger.claims import ClaimState, fold_claim
from ledger.errors import InvalidInputError
from ledger.periods import Period, from_us, to_us
from ledger.row_key import RowKey
from ledger.timeformat import format_utc
from projections.attainment import period_report
from projections.queries import as_of
from projections.queries.encoding import to_csv, to_json
from projections.store import StoreReads

Document = dict[str, Any]

# A listed claim's fields, in this order (the CSV's columns too).
FIELDS: Final = (
    "claim_id",
    "contract_id",
    "customer_id",
    "service_id",
    "period",
    "submitted_at",
    "withdrawn",
    "decision",
    "decision_reason",
    "counts",
    "row_exists",
    "row_status",
    "claim_status",
    "deadline",
    "deadline_local",
    "timezone",
    "currency",
    "credit_amount",
    "payable_amount",
)


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims to list: each filter given narrows the list (None: any)."""

    period: str | None = None  # a period label, `YYYY-MM` or `YYYY`
    contract_id: str | None = None


@dataclass(frozen=True)
class Claims:
    as_of: datetime
    chain_position: int
    claims: list[Document]  # in the order of the module docstring


def claim_document(claim: ClaimState, row: Row | None) -> Document:
    """One claim as listed: its own fields, whether it counts, and its row's (null
    where the claim names no existing row)."""
    deadline = None if row is None else row.claim_deadline_us
    document: Document = {
        "claim_id": claim.claim_id,
        "contract_id": claim.contract_id,
        "customer_id": None if row is None else row.contract.customer_id,
        "service_id": claim.service_id,
        "period": claim.period,
        **{k: v for k, v in claim.as_dict().items() if k != "claim_id"},
        "counts": None if deadline is None else claim.counts(deadline),
        "row_exists": row is not None,
        "row_status": None if row is None else row.status,
        "claim_status": None if row is None else row.claim_status,
        "deadline": None if deadline is None else format_utc(from_us(deadline)),
        "deadline_local": None
        if deadline is None or row is None
        else local_text(deadline, row.contract.timezone),
        "timezone": None if row is None else row.contract.timezone,
        "currency": None if row is None else row.contract.currency,
        "credit_amount": None if row is None else str(row.credit_amount_major),
        "payable_amount": None if row is None else str(row.payable_major),
    }
    return {name: document[name] for name in FIELDS}


def local_text(instant_us: int, timezone: str) -> str:
    """An instant in a contract's local time, with its offset (RFC 3339)."""
    return from_us(instant_us).astimezone(ZoneInfo(timezone)).isoformat()


def _period(label: str) -> Period | None:
    try:
        return Period.from_label(label)
    except InvalidInputError:
        return None  # a label no row of this ledger has


def _order(claim: ClaimState) -> tuple[bool, str, str, str, str, str]:
    return (
        claim.key is None,
        claim.contract_id or "",
        claim.period or "",
        claim.service_id or "",
        "" if claim.submitted_at is None else format_utc(claim.submitted_at),
        claim.claim_id,
    )


def listed_claims(store: StoreReads, filters: ClaimFilter, moment: datetime) -> list[Document]:
    """The claims recorded by `moment` that match `filters`, each with its row as of
    `moment` (see the module docstring)."""
    recorded_by = to_us(moment)
    by_subject: dict[str, list[Any]] = defaultdict(list)
    for recorded in store.events_of_kind("claim", recorded_by):
        by_subject[recorded.event.subject_id].append(recorded.event)
    claims = [fold_claim(events) for events in by_subject.values()]
    if filters.period is not None:
        claims = [c for c in claims if c.period == filters.period]
    if filters.contract_id is not None:
        claims = [c for c in claims if c.contract_id == filters.contract_id]
    claims.sort(key=_order)
    wanted: dict[str, set[str]] = defaultdict(set)
    for claim in claims:
        if claim.key is not None:
            wanted[claim.key.period].add(claim.key.contract_id)
    rows: dict[RowKey, Row] = {}
    for label, contract_ids in sorted(wanted.items()):
        period = _period(label)
        if period is None:
            continue
        report = period_report(
            store, period, moment, recorded_filter=True, contract_ids=contract_ids
        )
        rows.update((row.key, row) for row in report.rows)
    return [
        claim_document(claim, None if claim.key is None else rows.get(claim.key))
        for claim in claims
    ]


def claims_listing(
    store: StoreReads,
    period: Period | None,
    contract_id: str | None,
    moment: datetime,
) -> list[Document]:
    """`listed_claims` by a period (None: any) and contract (None: any)."""
    label = None if period is None else period.label
    return listed_claims(store, ClaimFilter(label, contract_id), moment)


def claims(
    store: StoreReads,
    filters: ClaimFilter,
    asked: datetime | None,
    *,
    typed: str | None = None,
) -> Claims:
    """The claims as of `asked` (None: now; `typed`: how the asker wrote it)."""
    moment = as_of.moment(store, asked, typed=typed)
    return Claims(moment, as_of.position_at(store, moment), listed_claims(store, filters, moment))


def claims_json(result: Claims) -> str:
    """Like `exposure --format json`: the moment, the chain position, then the claims
    (the status of a claim's row depends on the moment, so it is named)."""
    return to_json(
        {
            "as_of": format_utc(result.as_of),
            "chain_position": result.chain_position,
            "claims": result.claims,
        }
    )


def claims_csv(result: Claims) -> str:
    # Every field, always, in the order listed.
    return to_csv(result.claims, list(FIELDS))


@dataclass(frozen=True)
class ClaimsPage:
    claims: list[Document]
    last: int | None  # how many claims of the whole list this page and those before hold
    more: bool  # whether a claim follows


def claims_page(
    store: StoreReads, filters: ClaimFilter, moment: datetime, after: int, limit: int
) -> ClaimsPage:
    """The claims of `listed_claims` as of `moment` from the `after`-th on, at most
    `limit`. The list as of a fixed moment never changes (only what was recorded by
    then counts, and the horizon is that moment), so a walk that keeps its first page's
    moment neither skips nor repeats a claim."""
    if limit < 1:
        raise ValueError(f"a page holds at least one claim, not {limit}")
    listed = listed_claims(store, filters, moment)
    page = listed[after : after + limit]
    return ClaimsPage(page, after + len(page) if page else None, after + limit < len(listed))
