"""The store and the producer as the Kafka worker's background work sees them: a stop
requested meanwhile (SIGTERM/SIGINT) ends a reconciliation pass or a publishing round at
its next call, between two transactions."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError

from consumers.interrupts import StopRequest
from projections.store import LedgerStore

# A publishing round waits for the broker's acknowledgements in slices this long, so a
# stop ends the wait at once.
FLUSH_SLICE_SECONDS = 0.2


class Stopping(Exception):  # noqa: N818 - a stop, not an error
    """Raised in a background pass or publishing round at its next store call (or
    acknowledgement wait) once a stop was requested: it ends there, between two
    transactions, as a crash there would end it. Nothing is lost: entries follow from the
    recorded events alone and the outboxes keep what was not sent, so the next pass or
    round does the rest."""


class StoreUntilStopped:
    """The store as a background pass sees it: every call first checks for a stop."""

    def __init__(self, store: LedgerStore, stop: StopRequest | None) -> None:
        self._store = store
        self._stop = stop

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._stop is not None and self._stop.signum is not None:
                raise Stopping
            return found(*args, **kwargs)

        return call


class ProducerUntilStopped:
    """The producer as a publishing round sees it: a stop ends its waits at once."""

    def __init__(self, producer: KafkaProducer, stop: StopRequest | None) -> None:
        self._producer = producer
        self._stop = stop

    def _check(self) -> None:
        if self._stop is not None and self._stop.signum is not None:
            raise Stopping

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        self._check()
        return self._producer.send(topic, value=value, key=key, headers=headers)

    def flush(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._check()
            left = FLUSH_SLICE_SECONDS if deadline is None else deadline - time.monotonic()
            try:
                self._producer.flush(timeout=max(0.0, min(FLUSH_SLICE_SECONDS, left)))
                return
            except KafkaTimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
