"""Runs an intake's batch writes beside its reading, in order, one at a time.

Both intakes use it: the file intake (`file_ingest.Intake`) for its batches, and the
Kafka worker (`kafka_ingest.KafkaIngest`) for its batches with their offsets, its
reconciliation passes, and (a second one) its outbox publishing rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BatchWriter:
    """Runs batch writes on one background thread, one batch in flight at most.

    Validation is Python work; a write is mostly waiting for the database (psycopg and
    sqlite3 release the GIL while they wait). Handing the write to a thread lets the
    next batch be validated meanwhile. Batches are written strictly in submission order,
    and each result is handed to its callback on the caller's thread at the next
    `submit` or `drain`, where a failure is raised too: nothing is silently dropped.

    Whoever opened the store closes it only after `close()`: a store closed under a
    write in flight crashed the process (sqlite3, signal 11). `close()` therefore waits
    for that write and joins the thread however the caller is leaving, exception or not.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sla-ledger-writer")
        self._pending: tuple[Future[Any], Callable[[Any], None]] | None = None

    def submit(self, write: Callable[[], T], on_done: Callable[[T], None]) -> None:
        self.drain()
        self._pending = (self._pool.submit(write), on_done)

    @property
    def busy(self) -> bool:
        """Whether a job was submitted whose result was not yet handed over."""
        return self._pending is not None

    def finished(self) -> bool:
        """Whether the job in flight (if any) has ended, so `drain` would not wait."""
        return self._pending is None or self._pending[0].done()

    def drain(self) -> None:
        if self._pending is not None:
            future, on_done = self._pending
            self._pending = None
            on_done(future.result())

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
