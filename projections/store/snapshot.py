"""A read snapshot of a store: every read through it sees the store as of one moment,
whatever is committed meanwhile.

It owns its transaction (a read transaction; REPEATABLE READ on PostgreSQL), so any
number of snapshots of one store may be open at once, each its own moment (a server has
many readers). An audit reads the chain, the head, the event store and the spans in
several queries: without one snapshot, records appended between them would look like
tampering. Opened by `LedgerStore.reader()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ledger.errors import StoreError
from projections.store.audit_reads import AuditReads
from projections.store.failures import failed

if TYPE_CHECKING:
    from projections.store.ledger_store import LedgerStore


class StoreSnapshot(AuditReads):
    """The reads of `store` in the one transaction of `cursor` (its moment begins with
    the first read, which `LedgerStore.reader` makes at once)."""

    def __init__(self, store: LedgerStore, cursor: Any) -> None:
        self.store = store
        self.url = store.url
        self.dialect = store.dialect
        self.events_table = store.events_table
        self.contents_elsewhere = store.contents_elsewhere
        self.missing_columns = store.missing_columns
        self.missing_tables = store.missing_tables
        self._cursor = cursor

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        try:
            yield self._cursor
        except StoreError:
            raise
        except Exception as exc:  # the driver's own errors: one line, as elsewhere
            raise failed(self.url, exc) from None

    def begin(self) -> None:
        """Make the first read now, so the snapshot's moment is its opening's (a
        transaction's snapshot is taken by its first read, on SQLite and PostgreSQL)."""
        self._query("SELECT position FROM sla_chain_head")
