"""Where a consumer stands: the upstream positions it tracked, each under its name in
the event store's tracking table (a Kafka partition's offset, how far an outbox has
been published, the chain position reconciled through).

A Kafka offset is written with its batch's events, in the same transaction
(`appends.write`); the positions here stand alone, written with no rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking

from projections.store.failures import failed

if TYPE_CHECKING:
    from projections.store.ledger_store import LedgerStore


def tracked_position(store: LedgerStore, name: str) -> int | None:
    """The last upstream position recorded under `name` (None: nothing yet).

    Offset 0 is a real position, so callers must test `is None`, not truthiness.
    """
    try:
        return store.recorder.max_tracking_id(name)
    except PersistenceError as exc:
        raise failed(store.url, exc) from None


def record_position(store: LedgerStore, name: str, position: int) -> None:
    """Record a position with no rows (e.g. how far an outbox has been published)."""
    try:
        store.recorder.insert_tracking(Tracking(name, position))
    except IntegrityError:
        return  # already at or beyond it
    except PersistenceError as exc:
        raise failed(store.url, exc) from None
