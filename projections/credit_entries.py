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

from ledger.chain import ChainHead
from ledger.credits import CreditEntry, reconcile
from ledger.errors import NothingToCloseError, PeriodNotEndedError, StoreError
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc
from projections.attainment import load_contracts, period_report
from projections.store import LedgerStore
from projections.store.chain_append import ChainMovedError

ATTEMPTS = 20


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


def period_end(store: LedgerStore, period: Period) -> datetime:
    """When the period's window has ended for every contract (the latest local end)."""
    timezones = {c.timezone for c in load_contracts(store, None)} or {"Etc/GMT+12"}
    return from_us(max(period.window(tz)[1] for tz in timezones))


def _computed_at(store: LedgerStore, now: datetime) -> tuple[ChainHead, datetime]:
    """The chain head figures are computed at, and their record time: `now`, or just
    after the head's if the clock is behind it (record times only go forward)."""
    head = store.chain_head()
    return head, max(now, from_us(head.recorded_us + 1))


def close_period(
    store: LedgerStore, period: Period, now: datetime, *, replaying: bool = False
) -> CloseOutcome:
    """Close `period` at `now` and issue its first entries.

    The figures are those of the events recorded up to the chain head read first, with
    that moment as horizon, and the close and its entries are recorded at that moment:
    `--as-of` the close reproduces exactly the figures the entries were computed from.
    If an event is recorded in between, the close is computed again.

    A period without rows (no contract in force in it, as recorded now) is not closed:
    a close is permanent, and a contract recorded later for that period would then have
    its credits issued by reconciliation, with no one having closed its figures. Only a
    rebuild (`replaying`) records such a close, as an earlier version may have made one.
    """
    ends = period_end(store, period)
    already = store.closes().get(period.label)
    if already is not None:
        # Closing again reconciles: a row may have changed with no event (a pending
        # incident passed its target), and this appends what is due now.
        more = reconcile_period(store, period, now)
        return CloseOutcome(
            period.label, already, False, more, close_checkpoint(store, period.label)
        )
    if now < ends:
        raise PeriodNotEndedError(
            f"period {period.label} has not ended for every contract: it ends at "
            f"{format_utc(ends)}; close it after that"
        )
    for _attempt in range(ATTEMPTS):
        head, at = _computed_at(store, now)
        report = period_report(store, period, at, recorded_filter=True)
        if not report.rows and not replaying:
            raise NothingToCloseError(
                f"period {period.label} has no rows: no contract is in force in it (as "
                "recorded now), so there is nothing to close; a close is permanent, so "
                "close it once its contracts are ingested"
            )
        entries = reconcile({row.key: row for row in report.rows}, [], at)
        try:
            newly = store.record_close(period.label, at, entries, head)
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


def reconcile_period(store: LedgerStore, period: Period, now: datetime) -> list[CreditEntry]:
    """Append what a closed period's rows need, computed as `close_period` computes.

    If other writers keep moving the chain, this round gives up after a few attempts
    and appends nothing: the next intake reconciles again, and nothing it would have
    appended is lost, since entries follow from the events alone.
    """
    for _attempt in range(ATTEMPTS):
        head, at = _computed_at(store, now)
        report = period_report(store, period, at, recorded_filter=True)
        booked = store.entries(period=period.label, recorded_by_us=to_us(at))
        new = reconcile({row.key: row for row in report.rows}, booked, at)
        try:
            store.append_entries(new, head)
        except ChainMovedError:
            continue
        return new
    return []


def reconcile_closed_periods(store: LedgerStore, now: datetime) -> list[CreditEntry]:
    appended: list[CreditEntry] = []
    for label in sorted(store.closes()):
        appended += reconcile_period(store, Period.from_label(label), now)
    return appended
