"""`incidents`: each incident with the row it counts on, the priority used and its
status (met, missed or pending), or the reason it counts on no row yet, as the ledger
knew them at a moment (now by default): only what was recorded by then counts, and that
moment is the horizon a pending response is judged at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.periods import Period, to_us
from ledger.timeformat import format_utc
from projections.incident_placement import Placement, incident_placements
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.store import StoreReads


@dataclass(frozen=True)
class Incidents:
    as_of: datetime
    chain_position: int  # what the ledger knew at `as_of`: its chain up to here
    placements: list[Placement]  # by incident id


def incidents(
    store: StoreReads,
    period: Period | None,
    *,
    unplaced_only: bool,
    asked: datetime | None = None,
    typed: str | None = None,
) -> Incidents:
    """The incidents as of `asked` (None: now; `typed`: how the asker wrote it), of
    `period` if given, and with `unplaced_only` only those that count on no row."""
    moment = as_of.moment(store, asked, typed=typed)
    position = as_of.position_at(store, moment)
    placements = incident_placements(store, moment, to_us(moment))
    return Incidents(
        moment,
        position,
        [
            p
            for p in placements
            if (not unplaced_only or p.unplaced_reason is not None)
            and (period is None or _within(p.period, period))
        ],
    )


def _within(placed: str | None, period: Period) -> bool:
    """Whether an incident placed in month `placed` is asked for: `period` is that month,
    or its year (incidents count on the monthly rows, never on an annual one: sla-math
    §9; asked for a year, they are its months' incidents)."""
    if placed is None:
        return False
    return (
        Period.from_label(placed).year_period() == period
        if period.is_year
        else placed == period.label
    )


def incidents_json(result: Incidents) -> str:
    return to_json(
        {
            "as_of": format_utc(result.as_of),
            "chain_position": result.chain_position,
            "incidents": [p.as_dict() for p in result.placements],
        }
    )
