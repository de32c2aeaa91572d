"""`close`'s answer: the period closed (or found closed) and the entries it issued, as a
program reads it (`close --format json`). The close itself is `projections.credit_entries`."""

from __future__ import annotations

from ledger.timeformat import format_utc
from projections.credit_entries import CloseOutcome
from projections.queries.encoding import to_json


def close_json(outcome: CloseOutcome) -> str:
    """The close as a program reads it (`close --format json`)."""
    return to_json(
        {
            "period": outcome.period,
            "closed_at": format_utc(outcome.closed_at),
            "newly_closed": outcome.newly_closed,
            "checkpoint": outcome.checkpoint,
            "entries": [e.as_dict() for e in outcome.entries],
        }
    )
