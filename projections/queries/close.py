"""`close`'s answer: the period closed (or found closed) and the entries it issued, as a
program reads it (`close --format json`); and a close's dry run, what it would record.
The close itself is `projections.credit_entries`."""

from __future__ import annotations

from ledger.timeformat import format_utc
from projections.credit_entries import CloseOutcome, ClosePreview
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


def close_preview_json(preview: ClosePreview) -> str:
    """A close's dry run: the entries a close now would issue (or, for a closed period,
    a reconciliation would append), computed as of `computed_at` from the chain at
    `chain_position`. Nothing was recorded; the same ids are issued if nothing changes."""
    return to_json(
        {
            "period": preview.period,
            "recorded": False,
            "closed_at": None if preview.closed_at is None else format_utc(preview.closed_at),
            "computed_at": format_utc(preview.computed_at),
            "chain_position": preview.chain_position,
            "entries": [e.as_dict() for e in preview.entries],
        }
    )
