"""Ends a Kafka worker whose `consumer.poll` never returns.

kafka-python 3.0.x can hang inside `poll` past its timeout, forever: the worker then
holds its partitions, consumes nothing and is not evicted (its heartbeat thread lives
on). Nothing inside the process can unblock that call, so the watchdog ends the process:
one line on stderr and exit status `POLL_HUNG_EXIT`, for a supervisor to restart it.

Exiting there loses nothing: a batch and its offsets are written in one transaction, so
a batch in flight is either committed or rolled back with the connection, and the next
run continues from the stored positions.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# EX_TEMPFAIL (sysexits.h): a temporary failure, worth a restart.
POLL_HUNG_EXIT = 75


def exit_hung(message: str) -> None:
    """Leave at once: the hung poll holds the main thread, so no clean path exists."""
    os.write(2, (message + "\n").encode())
    os._exit(POLL_HUNG_EXIT)


class PollWatchdog:
    """Watches the polls made inside `polling()`; calls `on_hang` once when one has
    run longer than `bound_seconds`."""

    def __init__(self, bound_seconds: float, on_hang: Callable[[str], None] = exit_hung) -> None:
        self.bound_seconds = bound_seconds
        self.on_hang = on_hang
        self._since: float | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PollWatchdog:
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._watch, name="sla-ledger-poll-watchdog", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    @contextmanager
    def polling(self) -> Iterator[None]:
        self._since = time.monotonic()
        try:
            yield
        finally:
            self._since = None

    def _watch(self) -> None:
        step = min(1.0, self.bound_seconds / 4)
        while not self._stopped.wait(step):
            since = self._since
            if since is not None and time.monotonic() - since > self.bound_seconds:
                self.on_hang(
                    f"error: a Kafka poll has not returned in {self.bound_seconds:,.0f}s "
                    f"(a known kafka-python hang): exiting with status {POLL_HUNG_EXIT} "
                    "so that a supervisor restarts the worker; every recorded batch is "
                    "kept with its offsets"
                )
                return
