"""The recorded events of each subject, as `explain` reads them: the history behind an
outage as first reported versus as corrected, the announcement of a maintenance window
in force, and the event that recorded an incident's first response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.events import RecordedEvent

# Keyed by (subject kind, subject id).
Histories = Mapping[tuple[str, str], Sequence[RecordedEvent]]


def subject_history(histories: Histories, kind: str, subject_id: str) -> list[RecordedEvent]:
    """One subject's recorded events in the order they apply: `occurred_at`, then id."""
    events = histories.get((kind, subject_id), ())
    return sorted(events, key=lambda r: (r.event.occurred_at, r.event.event_id))
