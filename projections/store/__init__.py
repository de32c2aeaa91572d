"""Persistence of the event log and the ledger's tables (SQLite or PostgreSQL).

Where each job is: `urls` (a store's URL), `opening` and `sqlite_files` (opening it as
asked), `mappers` (rows as the domain's objects), `reads` and `audit_reads` (the read
queries), `snapshot` (a read snapshot, `LedgerStore.reader()`), `appends` (events,
rejections, entries, closes), `positions` (tracked positions), `leases` (outbox
leases), `ledger_store` (the `LedgerStore` front door).
"""

from projections.store.appends import AppendOutcome
from projections.store.audit_reads import AuditReads
from projections.store.ledger_store import LedgerStore
from projections.store.mappers import StoredRejection
from projections.store.opening import Access
from projections.store.reads import StoreReads
from projections.store.snapshot import StoreSnapshot
from projections.store.urls import DEFAULT_SQLITE_PATH, parse_store_url, redact

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "Access",
    "AppendOutcome",
    "AuditReads",
    "LedgerStore",
    "StoreReads",
    "StoreSnapshot",
    "StoredRejection",
    "parse_store_url",
    "redact",
]
