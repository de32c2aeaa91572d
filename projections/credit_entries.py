"""Period close and the credit-entry projection (spec: sla-math §6).

`close_period` issues the first entries of a period; `reconcile_closed_periods` runs
after every intake and appends reversals and re-issues wherever a newly recorded event
changed a closed row's amount. Both only ever append; both are idempotent (a second
run finds every row's entries already summing to its amount and writes nothing), and
entry ids are deterministic, so two processes racing append the same ids and the loser's
transaction fails on the unique key instead of doubling an entry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.attainment import Row
from ledger.chain import ChainHead
from ledger.credits import CreditEntry, reconcile
from ledger.errors import ChainMovedError, NothingToCloseError, PeriodNotEndedError, StoreError
from ledger.period_rows import PeriodInputs
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc
from projections.attainment import (
    MARGIN_US,
    load_contracts,
    load_period_inputs,
    period_report,
)
from projections.reach import reaches
from projections.store import LedgerStore, StoreReads

ATTEMPTS = 20
# The tracking name under which the chain position reconciled through is kept.
RECONCILED = "sla-ledger:reconciled"


@dataclass(frozen=True)
class CloseOutcome:
    period: str
    closed_at: datetime
    newly_closed: bool
    entries: list[CreditEntry]
    checkpoint: str | None = None  # "POSITION:SHA256", the chain just before the close


def close_checkpoint(store: LedgerStore, period: str) -> str | None:
    rows = store.chained_rows("close", "period", [period], 2**62)
    return f"{rows[0]['checkpoint_pos']}:{rows[0]['checkpoint_sha256']}" if rows else None


def period_end(store: StoreReads, period: Period) -> datetime:
    """When the period's window has ended for every contract (the latest local end)."""
    timezones = {c.timezone for c in load_contracts(store, None)} or {"Etc/GMT+12"}
    return from_us(max(period.window(tz)[1] for tz in timezones))


def _computed_at(store: StoreReads, now: datetime) -> tuple[ChainHead, datetime]:
    """The chain head figures are computed at, and their record time: `now`, or just
    after the head's if the clock is behind it (record times only go forward)."""
    head = store.chain_head()
    return head, max(now, from_us(head.recorded_us + 1))


def close_period(
    store: LedgerStore,
    period: Period,
    now: datetime,
    *,
    replaying: bool = False,
    basis_version: int | None = None,
) -> CloseOutcome:
    """Close `period` at `now` and issue its first entries.

    The figures are those of the events recorded up to the chain head read first, with
    that moment as horizon, and the close and its entries are recorded at that moment:
    `--as-of` the close reproduces exactly the figures the entries were computed from.
    If an event is recorded in between, the close is computed again.

    A period without rows (no contract in force in it, as recorded now) is not closed:
    a close is permanent, and a contract recorded later for that period would then have
    its credits issued by reconciliation, with no one having closed its figures. Only a
    rebuild (`replaying`) records such a close, as an earlier version may have made one,
    with the basis version its entries were recorded with.
    """
    ends = period_end(store, period)
    already = store.closes().get(period.label)
    if already is not None:
        # Closing again reconciles: a row may have changed with no event (a pending
        # incident passed its target), and this appends what is due now.
        more = reconcile_period(store, period, now, basis_version)
        return CloseOutcome(
            period.label, already, False, more, close_checkpoint(store, period.label)
        )
    _refuse_unended(period, ends, now)
    for _attempt in range(ATTEMPTS):
        head, at = _computed_at(store, now)
        rows, entries = _first_entries(store, period, at, replaying, basis_version)
        due = due_times(rows, {row.contract.contract_id for row in rows})
        try:
            newly = store.record_close(period.label, at, entries, head, due)
        except ChainMovedError:
            continue
        checkpoint = close_checkpoint(store, period.label)
        if not newly:
            return CloseOutcome(period.label, store.closes()[period.label], False, [], checkpoint)
        return CloseOutcome(period.label, at, True, entries, checkpoint)
    raise StoreError(
        f"could not close {period.label}: events kept arriving while its figures were "
        "computed; try again when ingest is quieter"
    )


def _refuse_unended(period: Period, ends: datetime, now: datetime) -> None:
    if now < ends:
        raise PeriodNotEndedError(
            f"period {period.label} has not ended for every contract: it ends at "
            f"{format_utc(ends)}; close it after that"
        )


def _first_entries(
    store: StoreReads,
    period: Period,
    at: datetime,
    replaying: bool = False,
    basis_version: int | None = None,
) -> tuple[list[Row], list[CreditEntry]]:
    """The rows of a period being closed at `at`, and the entries its close issues."""
    report = period_report(store, period, at, recorded_filter=True)
    if not report.rows and not replaying:
        if period.is_year:
            # A year's rows are annual rows only (sla-math §9): contracts may well be in
            # force all through it, measured monthly.
            raise NothingToCloseError(
                f"period {period.label} has no rows: no contract measures a service yearly "
                'in it (terms with "window": "year"; as recorded now), so there is nothing '
                f"to close; its months are closed one by one (close --period "
                f"{period.label}-MM)"
            )
        raise NothingToCloseError(
            f"period {period.label} has no rows: no contract is in force in it (as "
            "recorded now), so there is nothing to close; a close is permanent, so "
            "close it once its contracts are ingested"
        )
    return report.rows, reconcile({row.key: row for row in report.rows}, [], at, basis_version)


def _due_entries(
    store: StoreReads,
    period: Period,
    contract_ids: Collection[str] | None,
    at: datetime,
    basis_version: int | None = None,
) -> tuple[PeriodInputs, list[Row], list[CreditEntry]]:
    """A closed period's inputs and rows at `at` (of `contract_ids`; None: all) and the
    entries that bring the rows' booked entries in line with them."""
    inputs = load_period_inputs(store, period, at, recorded_filter=True, contract_ids=contract_ids)
    rows = inputs.rows()
    booked = store.entries(
        period=period.label,
        recorded_by_us=to_us(at),
        contract_ids=None if contract_ids is None else sorted(contract_ids),
    )
    return inputs, rows, reconcile({row.key: row for row in rows}, booked, at, basis_version)


@dataclass(frozen=True)
class ClosePreview:
    """What closing a period now would record, computed and not recorded: the entries a
    close would issue or, for a closed period, those a reconciliation would append."""

    period: str
    closed_at: datetime | None  # when it was closed, if it was
    computed_at: datetime  # the moment the figures are computed as of
    chain_position: int  # the chain head they are computed from
    entries: list[CreditEntry]


def preview_close(store: StoreReads, period: Period, now: datetime) -> ClosePreview:
    """`close_period` as a dry run on a read snapshot: the same refusals, the same
    figures and entries (entry ids are deterministic), nothing recorded."""
    closed_at = store.closes().get(period.label)
    head, at = _computed_at(store, now)
    if closed_at is not None:
        entries = _due_entries(store, period, None, at)[2]
    else:
        _refuse_unended(period, period_end(store, period), now)
        entries = _first_entries(store, period, at)[1]
    return ClosePreview(period.label, closed_at, at, head.position, entries)


def reconcile_period(
    store: LedgerStore, period: Period, now: datetime, basis_version: int | None = None
) -> list[CreditEntry]:
    """Append what every row of a closed period needs, computed as `close_period`
    computes: the full reconciliation (`audit rebuild`'s reference).

    If other writers keep moving the chain, this round gives up after a few attempts
    and appends nothing: the next intake reconciles again, and nothing it would have
    appended is lost, since entries follow from the events alone.
    """
    return reconcile_rows(store, period, None, now, basis_version) or []


def reconcile_rows(
    store: LedgerStore,
    period: Period,
    contract_ids: Collection[str] | None,
    now: datetime,
    basis_version: int | None = None,
) -> list[CreditEntry] | None:
    """Append what the rows of `contract_ids` (None: every contract) in a closed period
    need, and record when those rows next change with time alone. None: the chain kept
    moving and nothing was done (see `reconcile_period`)."""
    for _attempt in range(ATTEMPTS):
        head, at = _computed_at(store, now)
        inputs, rows, new = _due_entries(store, period, contract_ids, at, basis_version)
        try:
            store.append_entries(new, head)
        except ChainMovedError:
            continue
        computed = {c.contract_id for c in inputs.contracts} | set(contract_ids or ())
        store.record_due(period.label, head.position, due_times(rows, computed))
        return new
    return None


def due_times(rows: Iterable[Row], contract_ids: Iterable[str]) -> dict[str, int | None]:
    """contract -> the earliest moment one of its rows changes with time alone (None:
    only an event can change them), for each of `contract_ids`."""
    due: dict[str, int | None] = dict.fromkeys(contract_ids)
    for row in rows:
        at, held = row.changes_at_us, due.get(row.contract.contract_id)
        if at is not None:
            due[row.contract.contract_id] = at if held is None else min(held, at)
    return due


def reconcile_closed_periods(store: LedgerStore, now: datetime) -> list[CreditEntry]:
    """After an intake: reconcile the closed rows that what was recorded since the last
    reconciliation can change, and those due to change with time alone.

    The chain position reconciled through is kept (`RECONCILED`); it moves on only once
    every row its events reach is reconciled, so an interrupted round is redone whole.
    """
    head = store.chain_head()
    mark = store.tracked_position(RECONCILED) or 0
    closes = store.closes()
    work = reconciliation_plan(store, closes, mark, head, now) if closes else {}
    appended: list[CreditEntry] = []
    complete = True
    for label in sorted(work):
        new = reconcile_rows(store, Period.from_label(label), work[label], now)
        if new is None:
            complete = False
            continue
        appended += new
    if complete and head.position > mark:
        store.record_position(RECONCILED, head.position)
    return appended


def reconciliation_plan(
    store: LedgerStore, closes: Mapping[str, datetime], mark: int, head: ChainHead, now: datetime
) -> dict[str, set[str] | None]:
    """closed period -> the contracts whose rows need reconciling (None: all of them).

    - a contract's events (its terms) reach its rows in every closed period;
    - an outage's, maintenance window's or incident's events reach the contracts of its
      scopes, in the closed periods its span reaches now or reached when last
      reconciled: the span only widens, so a span that moved covers both the old and
      the new place; a subject whose end became known since reached every later period;
    - the due-time index names the rows that change with time alone by now.
    A store never reconciled this way (no position kept) is reconciled in full.
    """
    if mark == 0:
        return dict.fromkeys(closes)
    work: dict[str, set[str]] = {}
    changed = store.changed_subjects(mark, head.position) if head.position > mark else set()
    amended = sorted(subject for kind, subject in changed if kind == "contract")
    for label in closes if amended else ():
        work.setdefault(label, set()).update(amended)
    others = [(kind, subject) for kind, subject in changed if kind != "contract"]
    windows = {label: _utc_reach(Period.from_label(label)) for label in closes}
    for reach in reaches(store, others, mark):
        for label, (first, last) in windows.items():
            if reach.lo_us < last and (reach.hi_us >= first or reach.was_open):
                work.setdefault(label, set()).update(reach.contracts)
    _, at = _computed_at(store, now)
    for label, contract in store.due_rows(to_us(at)):
        if label in closes:
            work.setdefault(label, set()).add(contract)
    return dict(work)


def _utc_reach(period: Period) -> tuple[int, int]:
    """Every contract's window of `period` lies within this (timezones reach 15 hours
    either side of UTC)."""
    lo, hi = period.window("UTC")
    return lo - MARGIN_US, hi + MARGIN_US
