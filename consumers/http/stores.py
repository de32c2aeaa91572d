"""The stores a server reads and writes: opened when first needed, and tried again by
the next request while opening fails, so that a server started while its database is
down answers 503 until it is back, and then answers without a restart. Once open, a
store stays open: its connection pool replaces a connection that failed, and one
request's failure never closes the store under the others.

Reads may go to their own URL (`serve --read-store`: a database role that may only
read); writes (events, closes) go to `--store`. Each request reads through a snapshot of
its own (`reader`), so it sees one moment of the ledger however long it takes and
whatever is written meanwhile. At most `READERS` snapshots are open at once, the other
requests waiting their turn: the computations hold Python's one interpreter lock anyway,
so more at once would only exhaust the connection pool. Writes in this process take
turns (`writing`): the store serialises writers anyway (the chain has one head), and a
queue in Python costs less than retries in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from projections.store import Access, LedgerStore, StoreSnapshot

# Snapshots open at once; within the pools of both kinds of store (PostgreSQL's: 4).
READERS = 3


class _Opened:
    """One store, opened on first use (and by each use until opening succeeds)."""

    def __init__(self, url: str, access: Access) -> None:
        self.url = url
        self.access = access
        self._store: LedgerStore | None = None
        self._lock = threading.Lock()

    def get(self) -> LedgerStore:
        with self._lock:
            if self._store is None:
                self._store = LedgerStore(self.url, access=self.access)
            return self._store

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()


class Stores:
    def __init__(self, url: str, read_url: str | None = None) -> None:
        self.url = url
        self._reads = _Opened(read_url or url, "read")
        self._writes = _Opened(url, "write")
        self._write_turns = threading.Lock()
        self._read_turns = threading.BoundedSemaphore(READERS)

    @contextmanager
    def reader(self) -> Iterator[StoreSnapshot]:
        """A read snapshot for one request."""
        with self._read_turns, self._reads.get().reader() as snapshot:
            yield snapshot

    def head_position(self) -> int:
        """The chain head's position now (one read, taking a reader's turn)."""
        with self._read_turns:
            return self._reads.get().chain_head().position

    @contextmanager
    def writing(self) -> Iterator[LedgerStore]:
        """The writable store, this process's writers taking turns."""
        with self._write_turns:
            yield self._writes.get()

    def ready(self) -> None:
        """Raise `StoreError` unless the read store answers a query now."""
        with self.reader() as snapshot:
            snapshot.chain_head()

    def close(self) -> None:
        self._reads.close()
        self._writes.close()
