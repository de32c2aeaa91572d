"""Which access to the store each command gets: the open-store rule.

Every command but `ingest` and `close` only reads, and opens the store read-only (a
read-only copy is read as it is, never written). Only `ingest` creates a store: any
other command given a path with no store there (a typo, an empty file) says so instead
of answering from a new, empty ledger. A question asked over HTTP is a reader.
"""

from __future__ import annotations

from projections.store import Access, LedgerStore

# What each command does to the store; every other command only reads it.
# (`webhooks` records how far each subscription was delivered.)
WRITERS: dict[str, Access] = {"ingest": "create", "close": "write", "webhooks": "write"}


def access_for(command: str) -> Access:
    """The access `command` gets: create for `ingest`, write for `close`, else read."""
    return WRITERS.get(command, "read")


def open_store(url: str, command: str) -> LedgerStore:
    """The store at `url`, opened as `command` needs it."""
    return LedgerStore(url, access=access_for(command))
