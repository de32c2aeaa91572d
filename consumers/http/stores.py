"""The stores a server reads and writes: opened when first needed, opened again after the
store was unreachable, so that a server started while its database is down answers 503
until it is back, and then answers without a restart.

Reads may go to their own URL (`serve --read-store`: a database role that may only
read); writes (events, closes) go to `--store`. Each request reads through a snapshot of
its own (`reader`), so it sees one moment of the ledger however long it takes and
whatever is written meanwhile. Writes in this process take turns (`writing`): the store
serialises writers anyway (the chain has one head), and a queue in Python costs less
than retries in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.errors import StoreError, StoreRefusedError
from projections.store import Access, LedgerStore, StoreSnapshot


class _Opened:
    """One store, opened on first use and again after it failed."""

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

    def failed(self) -> None:
        """Forget the store after an error that may mean its connections are gone: the
        next request opens it again."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def close(self) -> None:
        self.failed()


class Stores:
    def __init__(self, url: str, read_url: str | None = None) -> None:
        self.url = url
        self._reads = _Opened(read_url or url, "read")
        self._writes = _Opened(url, "write")
        self._write_turns = threading.Lock()

    @contextmanager
    def reader(self) -> Iterator[StoreSnapshot]:
        """A read snapshot for one request."""
        with self._using(self._reads) as store, store.reader() as snapshot:
            yield snapshot

    @contextmanager
    def writing(self) -> Iterator[LedgerStore]:
        """The writable store, this process's writers taking turns."""
        with self._write_turns, self._using(self._writes) as store:
            yield store

    @contextmanager
    def _using(self, opened: _Opened) -> Iterator[LedgerStore]:
        try:
            yield opened.get()
        except StoreRefusedError:
            raise
        except StoreError:
            opened.failed()
            raise

    def ready(self) -> None:
        """Raise `StoreError` unless the read store answers a query now."""
        with self.reader() as snapshot:
            snapshot.chain_head()

    def close(self) -> None:
        self._reads.close()
        self._writes.close()
