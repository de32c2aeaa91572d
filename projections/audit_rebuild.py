"""`audit rebuild`: every projection rebuilt from the event log, compared with the live one.

The event log is the eventsourcing table itself, read in commit order. It is replayed
into a scratch store exactly as it happened:

- accepted events, each with its original origin and record time;
- each close at its record time (`close_period` at that moment);
- each moment at which credit entries were recorded: the period's reconciliation at that
  moment. Only the moments come from the log; which entries are due, their amounts,
  ids and `basis_sha256` are derived again from the replayed events.

Then the scratch store is compared with the live one: the chain (a faithful rebuild
reproduces every link, so the heads must be equal), the credit entries field by field,
and every report row of every period from the first contract's start to the last record,
as of that last record. Any difference is reported and the command exits non-zero:
either the live projections (the event index, the entries) were altered behind the
ledger's back, or the derivation changed since the entries were recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.chain import ChainHead
from ledger.events import InboundEvent, Origin
from ledger.periods import Period, from_us
from projections.attainment import load_contracts, period_report
from projections.credit_entries import close_period, reconcile_period
from projections.store import LedgerStore
from projections.store.ledger_store import (
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
)

PAGE = 2_000


@dataclass
class RebuildResult:
    records: int = 0
    live_head: ChainHead | None = None
    rebuilt_head: ChainHead | None = None
    periods: list[str] = field(default_factory=list)
    rows_compared: int = 0
    entries_compared: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _log(store: LedgerStore) -> Iterator[tuple[str, dict[str, Any]]]:
    after = 0
    while True:
        page = store.log_page(after, PAGE)
        if not page:
            return
        for notification_id, topic, state in page:
            after = notification_id
            yield topic, state


def replay(live: LedgerStore, scratch: LedgerStore) -> int:
    """Replay the live event log into an empty scratch store; returns records read."""
    batch: list[tuple[InboundEvent, Origin, bytes]] = []
    batch_us: int | None = None
    records = 0

    def flush() -> None:
        nonlocal batch, batch_us
        if batch:
            scratch.append(batch, [], recorded_us=batch_us)
        batch, batch_us = [], None

    pending_entries: tuple[str, int] | None = None  # (period, record time) being read
    for topic, state in _log(live):
        records += 1
        if topic == TOPIC_EVENT_ACCEPTED:
            if pending_entries is not None:
                _reconcile(scratch, *pending_entries)
                pending_entries = None
            if batch_us is not None and state["recorded_us"] != batch_us:
                flush()
            batch.append(
                (InboundEvent.from_envelope(state["envelope"]), Origin(**state["origin"]), b"")
            )
            batch_us = state["recorded_us"]
        elif topic == TOPIC_CREDIT_ENTRY:
            flush()
            moment = (state["period"], state["recorded_us"])
            if pending_entries is not None and pending_entries != moment:
                _reconcile(scratch, *pending_entries)
            pending_entries = moment
        elif topic == TOPIC_PERIOD_CLOSED:
            # A close is chained right after the entries it issued (same period, same
            # moment): those are its own. Entries of another moment before it are a
            # reconciliation's.
            flush()
            if pending_entries is not None and pending_entries != (
                state["period"],
                state["closed_us"],
            ):
                _reconcile(scratch, *pending_entries)
            pending_entries = None
            close_period(
                scratch,
                Period.from_label(state["period"]),
                from_us(state["closed_us"]),
                replaying=True,
            )
    flush()
    if pending_entries is not None:
        _reconcile(scratch, *pending_entries)
    return records


def _reconcile(scratch: LedgerStore, period: str, recorded_us: int) -> None:
    reconcile_period(scratch, Period.from_label(period), from_us(recorded_us))


def _periods(store: LedgerStore, until: datetime) -> list[Period]:
    contracts = load_contracts(store, None)
    if not contracts:
        return []
    first = min(c.effective_from for c in contracts)
    period, last = Period(first.year, first.month), Period(until.year, until.month)
    found = []
    while period <= last:
        found.append(period)
        period = Period(period.year + period.month // 12, period.month % 12 + 1)
    return found


def compare(live: LedgerStore, scratch: LedgerStore, result: RebuildResult) -> None:
    live_head, rebuilt_head = live.chain_head(), scratch.chain_head()
    result.live_head, result.rebuilt_head = live_head, rebuilt_head
    if (live_head.position, live_head.sha256) != (rebuilt_head.position, rebuilt_head.sha256):
        result.differences.append(
            f"chain: live head {live_head.checkpoint}, rebuilt head {rebuilt_head.checkpoint}"
        )

    live_entries = [e.as_dict() for e in live.entries()]
    rebuilt_entries = [e.as_dict() for e in scratch.entries()]
    result.entries_compared = max(len(live_entries), len(rebuilt_entries))
    rebuilt_by_id = {e["entry_id"]: e for e in rebuilt_entries}
    live_ids = {e["entry_id"] for e in live_entries}
    for entry in live_entries:
        twin = rebuilt_by_id.get(entry["entry_id"])
        if twin is None:
            result.differences.append(
                f"entry {entry['entry_id']} ({entry['kind']} r{entry['revision']} of "
                f"{entry['contract_id']}/{entry['service_id']} {entry['period']}): "
                "in the live ledger, not in the rebuild"
            )
            continue
        for name in entry:
            if entry[name] != twin[name]:
                result.differences.append(
                    f"entry {entry['entry_id']}: {name} is {entry[name]} live, {twin[name]} rebuilt"
                )
    for entry in rebuilt_entries:
        if entry["entry_id"] not in live_ids:
            result.differences.append(
                f"entry {entry['entry_id']} ({entry['kind']} r{entry['revision']} of "
                f"{entry['contract_id']}/{entry['service_id']} {entry['period']}, "
                f"{entry['amount']}): in the rebuild, not in the live ledger"
            )

    as_of = from_us(live_head.recorded_us)
    for period in _periods(scratch, as_of):
        result.periods.append(period.label)
        live_rows = _rows(live, period, as_of)
        rebuilt_rows = _rows(scratch, period, as_of)
        result.rows_compared += max(len(live_rows), len(rebuilt_rows))
        for key in sorted(set(live_rows) | set(rebuilt_rows)):
            mine, theirs = live_rows.get(key), rebuilt_rows.get(key)
            where = f"row {key[0]}/{key[1]} {period.label}"
            if mine is None or theirs is None:
                side = "rebuild" if mine is None else "live ledger"
                result.differences.append(f"{where}: only in the {side}")
                continue
            for name in mine:
                if mine[name] != theirs[name]:
                    result.differences.append(
                        f"{where}: {name} is {mine[name]} live, {theirs[name]} rebuilt"
                    )


def _rows(store: LedgerStore, period: Period, as_of: datetime) -> dict[tuple[str, str], Any]:
    report = period_report(store, period, as_of, recorded_filter=True)
    return {(r.contract.contract_id, r.service.service_id): r.as_dict() for r in report.rows}


def rebuild(live: LedgerStore, scratch: LedgerStore) -> RebuildResult:
    if scratch.chain_head().position != 0:
        raise ValueError("the scratch store must be empty")
    result = RebuildResult()
    result.records = replay(live, scratch)
    compare(live, scratch, result)
    return result
