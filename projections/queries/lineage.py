"""A credit entry's lineage: which entry it reverses or replaces, which entry reversed
or replaced it, and which recorded events caused it, as known at a moment.

A row's entries (spec: sla-math §6) form one line: an issue, its reversal when a later
record changed the row's amount, the re-issue at the next revision recorded after that
reversal, and so on. An entry that reverses or replaces an issue was caused by what was
recorded after that issue and by the entry's own recording, about the row: the very
question `diff` answers for a row between two moments, so it is asked of the diff
(`projections.history_diff`) from the issue's record time to the entry's, not decided
again here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.credits import CreditEntry, format_utc_micro
from ledger.errors import NotFoundError
from ledger.events import RecordedEvent
from ledger.periods import Period, to_us
from ledger.row_key import RowKey
from ledger.timeformat import format_utc
from projections.history_diff import period_diff
from projections.queries.diff import cause_document
from projections.queries.encoding import to_json
from projections.store import StoreReads


class EntryNotFoundError(NotFoundError):
    """No credit entry with the id asked about was recorded by the moment asked about."""


@dataclass(frozen=True)
class Lineage:
    as_of: datetime
    entry: CreditEntry
    reverses: str | None  # a reversal's: the issue it reverses
    reversed_by: CreditEntry | None  # an issue's reversal, if recorded
    reissue_of: str | None  # a re-issue's: the issue it replaces
    reissued_by: CreditEntry | None  # the issue recorded after this one's reversal
    # What was recorded about the row between the issue this entry reverses or replaces
    # and this entry (none for a row's first issue), in chain order.
    caused_by: list[RecordedEvent]
    # The row changed with time alone (a pending incident passed its target, an outage
    # went on): no recorded event explains the change.
    caused_by_horizon: bool


# The causes found between two record times of a row (see `_causes`), by the row's key
# and those times: the lineages of one row's entries (a reversal and the re-issue
# recorded with it replace the same issue) may share them instead of asking the diff
# again.
Causes = dict[tuple[RowKey, datetime, datetime], tuple[list[RecordedEvent], bool]]


def credit_lineage(
    store: StoreReads, entry_id: str, moment: datetime, *, shared: Causes | None = None
) -> Lineage:
    """The lineage of entry `entry_id` as known at `moment` (`EntryNotFoundError` if no
    such entry was recorded by then). `shared`: causes already found for the same row
    in the same read (the lineages of one row's entries asked together)."""
    entry = store.entry(entry_id)
    if entry is None or entry.recorded_at > moment:
        raise EntryNotFoundError(f"no credit entry {entry_id} was recorded by {format_utc(moment)}")
    row = [
        e
        for e in store.entries(
            period=entry.period, contract_id=entry.contract_id, recorded_by_us=to_us(moment)
        )
        if e.service_id == entry.service_id
    ]
    place = [e.entry_id for e in row].index(entry.entry_id)
    if entry.kind == "reversal":
        replaced = next((e for e in row if e.entry_id == entry.supersedes), None)
        reversal: CreditEntry | None = entry
    else:
        replaced = next((e for e in reversed(row[:place]) if e.kind == "issue"), None)
        reversal = next(
            (e for e in row if e.kind == "reversal" and e.supersedes == entry.entry_id), None
        )
    causes: list[RecordedEvent] = []
    horizon = False
    if replaced is not None:
        key = (entry.key, replaced.recorded_at, entry.recorded_at)
        found = shared.get(key) if shared is not None else None
        causes, horizon = found or _causes(store, entry, replaced)
        if shared is not None:
            shared[key] = (causes, horizon)
    return Lineage(
        as_of=moment,
        entry=entry,
        reverses=entry.supersedes if entry.kind == "reversal" else None,
        reversed_by=reversal if entry.kind == "issue" else None,
        reissue_of=replaced.entry_id if entry.kind == "issue" and replaced else None,
        reissued_by=None if reversal is None else _issue_after(row, reversal),
        caused_by=causes,
        caused_by_horizon=horizon,
    )


def _issue_after(row: Sequence[CreditEntry], reversal: CreditEntry) -> CreditEntry | None:
    """The first issue of the row recorded after `reversal`: the one that replaced the
    issue it reversed."""
    later = row[[e.entry_id for e in row].index(reversal.entry_id) + 1 :]
    return next((e for e in later if e.kind == "issue"), None)


def _causes(
    store: StoreReads, entry: CreditEntry, replaced: CreditEntry
) -> tuple[list[RecordedEvent], bool]:
    """The events that changed the row between `replaced` (the issue `entry` reverses or
    replaces) and `entry`, and whether time alone changed it, as the diff of the row's
    contract between their record times says."""
    changes = period_diff(
        store,
        Period.from_label(entry.period),
        replaced.recorded_at,
        entry.recorded_at,
        entry.contract_id,
    )
    found = next((row for row in changes.rows if row.key == entry.key), None)
    return ([], False) if found is None else (found.events, found.horizon_only)


def _link(entry: CreditEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "entry_id": entry.entry_id,
        "kind": entry.kind,
        "revision": entry.revision,
        "amount": str(entry.amount_major),
        "recorded_at": format_utc_micro(entry.recorded_at),
    }


def lineage_document(result: Lineage) -> dict[str, Any]:
    return {
        "as_of": format_utc(result.as_of),
        "entry": result.entry.as_dict(),
        "reverses": result.reverses,
        "reversed_by": _link(result.reversed_by),
        "reissue_of": result.reissue_of,
        "reissued_by": _link(result.reissued_by),
        "caused_by": [cause_document(r) for r in result.caused_by],
        "caused_by_horizon": result.caused_by_horizon,
    }


def lineage_json(result: Lineage) -> str:
    return to_json(lineage_document(result))
