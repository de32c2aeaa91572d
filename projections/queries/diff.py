"""`diff`: what the ledger said about a period's rows at one moment versus a later one,
what finance was told, and which recorded events caused each change
(`projections.history_diff` computes it; the document it answers with is decided here).
Its rule of "a row changed" (`row_change`) is offered here too, the front door a page
marking rows changed since the close comes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.attainment import row_status
from ledger.credits import format_utc_micro
from ledger.events import RecordedEvent
from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.history_diff import PeriodDiff, RowDiff, period_diff
from projections.history_diff import row_change as row_change  # offered to the pages
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.store import StoreReads


@dataclass(frozen=True)
class Moment:
    """A moment as asked for: the instant (None: now), what the asker called it and how
    they wrote it, for a refusal."""

    asked: datetime | None
    name: str
    typed: str | None = None


@dataclass(frozen=True)
class Diff:
    """The changes between two moments, and the chain position each moment's answer
    was computed at."""

    changes: PeriodDiff
    from_chain_position: int
    to_chain_position: int


def diff(
    store: StoreReads, period: Period, first: Moment, last: Moment, contract_id: str | None
) -> Diff:
    """The changes in `period` between `first` and `last` (`last` must not be before
    `first`), of every contract or only `contract_id`'s rows."""
    t1 = as_of.moment(store, first.asked, name=first.name, typed=first.typed)
    t2 = as_of.moment(store, last.asked, name=last.name, typed=last.typed)
    as_of.ordered(t1, t2, names=(first.name, last.name))
    return Diff(
        period_diff(store, period, t1, t2, contract_id),
        as_of.position_at(store, t1),
        as_of.position_at(store, t2),
    )


def diff_document(answer: Diff) -> dict[str, Any]:
    result = answer.changes
    return {
        "period": result.period.label,
        "from": format_utc(result.before.as_of),
        "to": format_utc(result.after.as_of),
        "from_chain_position": answer.from_chain_position,
        "to_chain_position": answer.to_chain_position,
        "status": {
            "from": row_status(result.before.closed_at),
            "to": row_status(result.after.closed_at),
        },
        "closed_at": None
        if result.after.closed_at is None
        else format_utc_micro(result.after.closed_at),
        "rows_changed": len(result.rows),
        "rows": [_row_document(row) for row in result.rows],
    }


def _row_document(row: RowDiff) -> dict[str, Any]:
    return {
        "contract_id": row.key.contract_id,
        "service_id": row.key.service_id,
        "change": row.change,
        "fields": {name: {"from": old, "to": new} for name, (old, new) in row.fields.items()},
        "caused_by_events": [cause_document(r) for r in row.events],
        "caused_by_horizon": row.horizon_only,
        "caused_by_close": None if row.closed is None else format_utc_micro(row.closed),
        "booked_amount": {"from": str(row.booked[0]), "to": str(row.booked[1])},
        "entries_recorded": [e.as_dict() for e in row.entries],
    }


def cause_document(recorded: RecordedEvent) -> dict[str, Any]:
    """A recorded event named as the cause of a change (a row's, an entry's)."""
    return {
        "event_id": recorded.event.event_id,
        "type": recorded.event.type,
        "subject_id": recorded.event.subject_id,
        "occurred_at": format_utc(recorded.event.occurred_at),
        "recorded_at": format_utc_micro(recorded.recorded_at),
    }


def diff_json(answer: Diff) -> str:
    return to_json(diff_document(answer))
