"""The attainment read model: report rows of one period, derived from the stored events.

Only the subjects whose recorded span reaches into the period are read and folded, so
the cost of a report grows with the period's activity, not with the whole history.
With `as_of`, only events and closes recorded at or before it count, and the horizon
is `as_of` (spec: sla-math §6, §7). The fold and the computation are the store-free
`ledger.period_rows`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from ledger.attainment import Row, coverage
from ledger.contracts import ContractState
from ledger.period_rows import PeriodInputs, fold_contracts, fold_period
from ledger.periods import Period, to_us
from projections.store import StoreReads
from projections.store.subject_index import contract_scopes
from projections.subject_rules import WINDOW_MARGIN_US

# Any window of a period lies within this margin of the period's UTC window, which
# bounds the subjects worth reading before contracts are known.
MARGIN_US = WINDOW_MARGIN_US
SUBJECT_KINDS = ("outage", "maintenance", "incident", "claim")


def load_contracts(store: StoreReads, recorded_by_us: int | None) -> list[ContractState]:
    return fold_contracts(store.events_of_kind("contract", recorded_by_us))


def load_some_contracts(
    store: StoreReads, recorded_by_us: int | None, contract_ids: Collection[str] | None
) -> list[ContractState]:
    """The contracts `contract_ids` names (every contract for None), folded, by id."""
    if contract_ids is None:
        return load_contracts(store, recorded_by_us)
    return fold_contracts(
        store.events_of_subjects("contract", sorted(contract_ids), recorded_by_us)
    )


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    as_of: datetime
    rows: list[Row]
    closed_at: datetime | None


def load_period_inputs(
    store: StoreReads,
    period: Period,
    as_of: datetime,
    *,
    recorded_filter: bool = False,
    contract_ids: Collection[str] | None = None,
) -> PeriodInputs:
    """The folded inputs of `period` with horizon `as_of` (see `period_report`); with
    `contract_ids`, of those contracts only (their rows are the same as in the whole
    period's: a row only ever reads its own contract's subjects)."""
    recorded_by = to_us(as_of) if recorded_filter else None
    contracts = load_some_contracts(store, recorded_by, contract_ids)
    scoped = contract_ids is not None
    if period.is_year:
        # Only a contract with terms measured yearly has annual rows (sla-math §9): the
        # others are left out, and so are the subjects only they could see.
        contracts = [c for c in contracts if yearly_somewhere(c)]
        scoped = True
    closed_at = store.closes(recorded_by).get(period.label)
    return load_subjects(
        store,
        period,
        as_of,
        contracts,
        closed_at,
        recorded_filter=recorded_filter,
        scoped=scoped,
    )


def yearly_somewhere(contract: ContractState) -> bool:
    """Whether any terms version of `contract` measures a service yearly."""
    return any(
        service.availability is not None and service.availability.yearly
        for version in contract.versions
        for service in version.services
    )


def load_subjects(
    store: StoreReads,
    period: Period,
    as_of: datetime,
    contracts: list[ContractState],
    closed_at: datetime | None,
    *,
    recorded_filter: bool = False,
    scoped: bool = True,
) -> PeriodInputs:
    """`contracts` (folded already) with the subjects near `period` folded beside them;
    `scoped`: only the subjects that can reach these contracts' rows, which are then the
    same rows as in the whole period's report (a row only ever reads its own contract's
    subjects)."""
    horizon_us = to_us(as_of)
    recorded_by = horizon_us if recorded_filter else None
    scopes = set().union(*(contract_scopes(c) for c in contracts)) if scoped else None
    windows = [coverage(c, period).window for c in contracts]
    if windows:
        lo = min(w[0] for w in windows)
        hi = max(w[1] for w in windows)
    else:
        lo, hi = Period.window(period, "UTC")
        lo, hi = lo - MARGIN_US, hi + MARGIN_US
    # Scoped to no contract at all (a year no contract measures yearly): nothing to read.
    near = [
        e
        for kind in (SUBJECT_KINDS if scopes is None or scopes else ())
        for e in store.events_near(kind, lo, hi, recorded_by, scopes)
    ]
    return fold_period(period, horizon_us, contracts, near, closed_at)


def period_report(
    store: StoreReads,
    period: Period,
    as_of: datetime,
    *,
    recorded_filter: bool = False,
    contract_ids: Collection[str] | None = None,
) -> PeriodReport:
    """The rows of `period` with horizon `as_of`, of every contract or `contract_ids`'.

    `recorded_filter` restricts the inputs to what was recorded by `as_of` (a question
    about the past); without it every recorded event counts (the ledger now).
    """
    inputs = load_period_inputs(
        store, period, as_of, recorded_filter=recorded_filter, contract_ids=contract_ids
    )
    return PeriodReport(period=period, as_of=as_of, rows=inputs.rows(), closed_at=inputs.closed_at)
