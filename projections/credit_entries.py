"""Period close and the credit-entry projection (spec: sla-math §6).

`close_period` issues the first entries of a period; `reconcile_closed_periods` runs
after every intake and appends reversals and re-issues wherever a newly recorded event
changed a closed row's amount. Both only ever append; both are idempotent (a second
run finds every row's entries already summing to its amount and writes nothing), and
entry ids are deterministic, so two processes racing append the same ids and the loser's
transaction fails on the unique key instead of doubling an entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.credits import CreditEntry, reconcile
from ledger.errors import PeriodNotEndedError
from ledger.periods import Period, from_us
from ledger.timeformat import format_utc
from projections.attainment import load_contracts, period_report
from projections.store import LedgerStore


@dataclass(frozen=True)
class CloseOutcome:
    period: str
    closed_at: datetime
    newly_closed: bool
    entries: list[CreditEntry]


def period_end(store: LedgerStore, period: Period) -> datetime:
    """When the period's window has ended for every contract (the latest local end)."""
    timezones = {c.timezone for c in load_contracts(store, None)} or {"Etc/GMT+12"}
    return from_us(max(period.window(tz)[1] for tz in timezones))


def close_period(store: LedgerStore, period: Period, now: datetime) -> CloseOutcome:
    ends = period_end(store, period)
    already = store.closes().get(period.label)
    if already is not None:
        return CloseOutcome(period.label, already, False, [])
    if now < ends:
        raise PeriodNotEndedError(
            f"period {period.label} has not ended for every contract: it ends at "
            f"{format_utc(ends)}; close it after that"
        )
    report = period_report(store, period, now)
    entries = reconcile({row.key: row for row in report.rows}, [], now)
    if not store.record_close(period.label, now, entries):
        closed_at = store.closes()[period.label]
        return CloseOutcome(period.label, closed_at, False, [])
    # Events recorded while we computed are caught by the reconciliation that follows.
    more = reconcile_period(store, period, now)
    return CloseOutcome(period.label, now, True, entries + more)


def reconcile_period(store: LedgerStore, period: Period, now: datetime) -> list[CreditEntry]:
    report = period_report(store, period, now)
    new = reconcile({row.key: row for row in report.rows}, store.entries(period=period.label), now)
    store.append_entries(new)
    return new


def reconcile_closed_periods(store: LedgerStore, now: datetime) -> list[CreditEntry]:
    appended: list[CreditEntry] = []
    for label in sorted(store.closes()):
        appended += reconcile_period(store, Period.parse(label), now)
    return appended
