"""Leases: one worker at a time publishes an outbox (how far it has published is a
tracked position, `positions`); and a file intake that commits in several transactions
says it is open, so no other process raises alerts between its events
(`projections.alerting`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.periods import to_us
from projections.store.recorders import to_dialect

if TYPE_CHECKING:
    from projections.store.ledger_store import LedgerStore


def hold_lease(store: LedgerStore, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `holder` for `seconds`; False if another
    holder has it and it has not expired. Clocks of the workers are compared, so a
    lease should be far longer than their skew (leases here last tens of seconds)."""
    now = to_us(datetime.now(UTC))
    statement = to_dialect(
        "INSERT INTO sla_outbox_leases (name, holder, expires_us) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
        "expires_us = excluded.expires_us WHERE sla_outbox_leases.holder = excluded.holder "
        "OR sla_outbox_leases.expires_us < ?",
        store.dialect,
    )
    with store.transaction(commit=True) as cursor:
        cursor.execute(statement, [name, holder, now + int(seconds * 1_000_000), now])
        cursor.execute(
            to_dialect("SELECT holder FROM sla_outbox_leases WHERE name = ?", store.dialect),
            [name],
        )
        return bool(cursor.fetchone()["holder"] == holder)


def release_lease(store: LedgerStore, name: str, holder: str) -> None:
    """Give the lease up now (a clean stop), so another worker need not wait it out."""
    statement = to_dialect(
        "DELETE FROM sla_outbox_leases WHERE name = ? AND holder = ?", store.dialect
    )
    with store.transaction(commit=True) as cursor:
        cursor.execute(statement, [name, holder])


def open_leases(store: LedgerStore, prefix: str) -> list[str]:
    """The names starting with `prefix` of the leases held now (not expired)."""
    statement = to_dialect(
        "SELECT name FROM sla_outbox_leases WHERE substr(name, 1, ?) = ? AND expires_us >= ? "
        "ORDER BY name",
        store.dialect,
    )
    with store.transaction() as cursor:
        cursor.execute(statement, [len(prefix), prefix, to_us(datetime.now(UTC))])
        return [row["name"] for row in cursor.fetchall()]
