"""`diff`: what the ledger said about a period at T1 versus T2, and why it changed.

Both sides are bitemporal questions (sla-math §7): the rows as of T1 and as of T2, each
from the events and closes recorded by then with horizon T1 or T2. For each row whose
figures differ, the diff names every changed field and the causes:

- the events recorded in `(T1, T2]` about the subjects that feed the row at T1 or T2
  (its contract, the outages and maintenance windows that apply to it, its incidents),
  each with its id, type and record time;
- the horizon, when the row depends on it (provisional figures, an ongoing outage, a
  pending incident) and no recorded event explains the change alone;
- the close, when the period was closed in between (the status changes), named with
  its record time (`caused_by_close`);
- what finance was told: the credit entries recorded in between and the booked amount
  (sum of the row's entries) at T1 and at T2.

The document a diff is told in is the query layer's (`projections.queries.diff`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.attainment import Row
from ledger.credits import CreditEntry
from ledger.events import RecordedEvent
from ledger.exposure import NO_EXPOSURE
from ledger.money import to_minor_unit
from ledger.periods import Period, to_us
from ledger.row_key import RowKey
from projections.attainment import PeriodReport, period_report
from projections.store import StoreReads


@dataclass(frozen=True)
class RowDiff:
    key: RowKey
    change: str  # "changed", "added" (no row at T1) or "removed" (no row at T2)
    fields: dict[str, tuple[Any, Any]]
    events: list[RecordedEvent]
    horizon_only: bool
    closed: datetime | None  # the close recorded in between, if the status changed by it
    entries: list[CreditEntry]
    booked: tuple[Decimal, Decimal]


@dataclass(frozen=True)
class PeriodDiff:
    period: Period
    before: PeriodReport
    after: PeriodReport
    rows: list[RowDiff]


def _booked(entries: list[CreditEntry], currency: str) -> Decimal:
    """What these entries told finance in all, in the currency's minor unit (also when
    there are none: "0.00", never "0")."""
    return sum((e.amount_major for e in entries), to_minor_unit(Fraction(0), currency))


def period_diff(
    store: StoreReads,
    period: Period,
    t1: datetime,
    t2: datetime,
    contract_id: str | None = None,
) -> PeriodDiff:
    """What changed in `period`'s rows (every contract's, or only `contract_id`'s: a
    row reads only its own contract's subjects) between `t1` and `t2`."""
    only = None if contract_id is None else {contract_id}
    before = period_report(store, period, t1, recorded_filter=True, contract_ids=only)
    after = period_report(store, period, t2, recorded_filter=True, contract_ids=only)
    recorded = store.events_recorded_between(to_us(t1), to_us(t2))
    entries_by_row: dict[RowKey, list[CreditEntry]] = defaultdict(list)
    booked = store.entries(period=period.label, contract_id=contract_id, recorded_by_us=to_us(t2))
    for entry in booked:
        entries_by_row[entry.key].append(entry)

    old = {row.key: row for row in before.rows}
    new = {row.key: row for row in after.rows}
    # The subject of every event that fed any row at either moment, read once.
    subject_of = store.subjects_of(
        sorted(set().union(*(row.event_ids for row in [*before.rows, *after.rows])))
    )
    cut = to_us(t1)
    diffs = []
    for key in sorted(set(old) | set(new), key=lambda k: (k.contract_id, k.service_id)):
        old_doc = None if key not in old else _figures(old[key])
        new_doc = None if key not in new else _figures(new[key])
        row_entries = entries_by_row.get(key, [])
        told_then = [e for e in row_entries if to_us(e.recorded_at) <= cut]
        told_since = [e for e in row_entries if to_us(e.recorded_at) > cut]
        change = row_change(old_doc, new_doc, bool(told_since))
        currency = (new.get(key) or old[key]).contract.currency
        if change is None:
            continue
        fields = changed_fields(old_doc, new_doc)
        # An event counts as a cause if it is about a subject that fed the row at either
        # moment: a retraction removes its outage from the row, but still caused that.
        feeding = {
            subject_of[event_id]
            for row in (old.get(key), new.get(key))
            if row is not None
            for event_id in row.event_ids
            if event_id in subject_of
        }
        events = [r for r in recorded if (r.event.subject_kind, r.event.subject_id) in feeding]
        diffs.append(
            RowDiff(
                key=key,
                change=change,
                fields=fields,
                events=events,
                # The close explains the status; time explains figures no event does.
                horizon_only=bool(set(fields) - {"status"}) and not events,
                closed=after.closed_at if "status" in fields else None,
                entries=told_since,
                booked=(_booked(told_then, currency), _booked(row_entries, currency)),
            )
        )
    return PeriodDiff(period, before, after, diffs)


def changed_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, tuple[Any, Any]]:
    """Each field whose value differs between a row's figures `before` and `after` (None:
    no row then), with both values, in the row's field order (as finance reads a row)."""
    old, new = before or {}, after or {}
    return {
        name: (old.get(name), new.get(name))
        for name in dict.fromkeys([*new, *old])
        if old.get(name) != new.get(name)
    }


def row_change(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, told_since: bool
) -> str | None:
    """The one rule of "this row changed between two moments", for the diff and every
    page that marks a row changed: its figures differ (a row that appeared or was
    removed, e.g. by a backdated termination, differs), or finance was told something
    about it in between (`told_since`: an entry recorded after the earlier moment).
    "changed", "added" (no row before), "removed" (no row after), or None."""
    if not changed_fields(before, after) and not told_since:
        return None
    if before is not None and after is not None:
        return "changed"
    return "added" if after is not None else "removed"


def _figures(row: Row) -> dict[str, Any]:
    """The row's figures a diff compares: what it is, not where it is heading (a
    provisional row's exposure moves with the clock alone, and a close nulls it: neither
    is a change finance acts on; `exposure` answers that question)."""
    figures = row.as_dict()
    for name in ("contract_id", "service_id", "period", *NO_EXPOSURE):
        figures.pop(name)
    return figures
