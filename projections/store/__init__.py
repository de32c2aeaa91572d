"""Persistence of the event log and the ledger's tables (SQLite or PostgreSQL)."""

from projections.store.ledger_store import (
    AppendOutcome,
    LedgerStore,
    Rejection,
    StoredRejection,
    parse_store_url,
    redact,
)

__all__ = [
    "AppendOutcome",
    "LedgerStore",
    "Rejection",
    "StoredRejection",
    "parse_store_url",
    "redact",
]
