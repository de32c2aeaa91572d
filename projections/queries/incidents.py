"""`incidents`: each incident with the row it counts on, the priority used and its
status (met, missed or pending), or the reason it counts on no row yet."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.periods import Period
from projections.incident_placement import Placement, incident_placements
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.store import StoreReads


@dataclass(frozen=True)
class Incidents:
    placements: list[Placement]  # by incident id


def incidents(store: StoreReads, period: Period | None, *, unplaced_only: bool) -> Incidents:
    """The incidents as of now (`as_of.now`: the horizon of a pending response), of
    `period` if given, and with `unplaced_only` only those that count on no row."""
    placements = incident_placements(store, as_of.now(store))
    return Incidents(
        [
            p
            for p in placements
            if (not unplaced_only or p.unplaced_reason is not None)
            and (period is None or p.period == period.label)
        ]
    )


def incidents_json(result: Incidents) -> str:
    return to_json({"incidents": [p.as_dict() for p in result.placements]})
