"""Persistence of the event log and the ledger's tables (SQLite or PostgreSQL).

Each module has one job:

- `ledger_store`: `LedgerStore`, the front door (opens, reads, snapshots, appends).
- `urls`: a store's URL parsed, and written back without its password.
- `opening`: what may be opened as asked (layout, access), refused in one line.
- `sqlite_files`: a SQLite file: what it holds, opened read-only, WAL, throwaway setup.
- `postgres`: the PostgreSQL recorder and connection (the only module with the driver).
- `recorders`: eventsourcing recorders that also write the ledger's side rows.
- `schema`: the ledger's own tables, and columns an older store lacks.
- `immutability`: the statements that make the database refuse to change history.
- `mappers`: table rows as the domain's objects, and back.
- `content_codec`: how a record's bytes are kept (as they are, or packed).
- `reads`: `StoreReads`, the read queries a store and a snapshot share.
- `audit_reads`: `AuditReads`, the chain, log and table reads of the audits.
- `snapshot`: `StoreSnapshot`, a read snapshot (`LedgerStore.reader()`).
- `appends`: appending events, rejections, entries, closes and due times.
- `chain_append`: records sealed into the hash chain under the write lock.
- `subject_index`: each subject's buckets and scopes, so a period reads only its own.
- `positions`: tracked upstream positions (offsets, outbox and reconciliation marks).
- `leases`: the outbox leases (one publisher at a time).
- `failures`: a database failure as a one-line error.
"""

from projections.store.appends import AppendOutcome
from projections.store.audit_reads import AuditReads
from projections.store.ledger_store import LedgerStore
from projections.store.mappers import StoredRejection
from projections.store.opening import Access
from projections.store.reads import StoreReads
from projections.store.snapshot import StoreSnapshot
from projections.store.urls import DEFAULT_SQLITE_PATH, parse_store_url, redact, sqlite_url

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
    "sqlite_url",
]
