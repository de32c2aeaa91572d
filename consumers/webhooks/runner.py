"""`WebhookDeliverer`: delivery to every subscription in a background thread, for
`sla-ledger webhooks deliver` and for `sla-ledger serve` when subscriptions are set.

The thread opens its own store (a store object is not shared across threads), and
runs rounds: each subscription's pending entries and alerts
(`delivery.deliver_pending`), then a short wait (`poll_seconds`) for new ones. A
subscription whose receiver keeps failing is tried again after a wait that doubles from
`RetryPolicy.max_delay` up to `MAX_PENDING_SECONDS`, its records pending meanwhile; a
store failure (the database restarting) is logged and the round tried again after
`RetryPolicy.max_delay`, as is any other failure (with its traceback): the thread never
dies while the process runs.
`stop()` ends the wait or the backoff at once, lets a request in flight finish, records
how far delivery got and gives the leases up so another deliverer may take over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

import httpx

from consumers.cloud_events import ledger_source
from consumers.webhooks.config import Subscription
from consumers.webhooks.delivery import (
    DeliveryFailedError,
    RetryPolicy,
    deliver_pending,
    new_client,
)
from ledger.errors import LedgerError
from projections.store import LedgerStore

log = logging.getLogger("sla_ledger.webhooks")

MAX_PENDING_SECONDS = 300.0


@dataclass
class _Backoff:
    failures: int = 0
    not_before: float = 0.0


class WebhookDeliverer:
    """Deliver credit entries and alerts of the store at `store_url` to `subscriptions`
    until `stop()`. `delivered` counts the records sent since `start()`."""

    def __init__(
        self,
        store_url: str,
        subscriptions: Sequence[Subscription],
        *,
        poll_seconds: float = 1.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.store_url = store_url
        self.subscriptions = list(subscriptions)
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy()
        self.holder = f"webhooks:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.delivered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this deliverer was started already")
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop and wait for the thread (at most one request in flight, bounded by its
        timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = {s.name: _Backoff() for s in self.subscriptions}
        store: LedgerStore | None = None
        source: str | None = None
        with new_client() as client:
            try:
                while not self._stop.is_set():
                    try:
                        if store is None:
                            store = LedgerStore(self.store_url, access="write")
                        if source is None and store.chain_head().position > 0:
                            source = ledger_source(store)
                        if source is not None:
                            self._round(store, client, source, backoff)
                    except Exception as exc:  # the thread must outlive any one failure
                        if isinstance(exc, LedgerError):
                            log.warning("webhook delivery: %s; trying again", exc)
                        else:  # a bug: its traceback, once per round it happens in
                            log.exception("webhook delivery: internal error; trying again")
                        if store is not None:
                            store.close()
                            store = None
                        self._stop.wait(self.policy.max_delay)
                        continue
                    self._stop.wait(self.poll_seconds)
            finally:
                if store is not None:
                    for subscription in self.subscriptions:
                        for feed in subscription.feeds():
                            with suppress(LedgerError):  # else it expires
                                store.release_lease(subscription.feed_position(feed), self.holder)
                    store.close()

    def _round(
        self, store: LedgerStore, client: httpx.Client, source: str, backoff: dict[str, _Backoff]
    ) -> None:
        for subscription in self.subscriptions:
            state = backoff[subscription.name]
            if self._stop.is_set() or time.monotonic() < state.not_before:
                continue
            try:
                self.delivered += deliver_pending(
                    store,
                    subscription,
                    client,
                    source=source,
                    holder=self.holder,
                    policy=self.policy,
                    stop=self._stop,
                )
                state.failures = 0
            except DeliveryFailedError as exc:
                state.failures += 1
                wait = min(self.policy.max_delay * 2**state.failures, MAX_PENDING_SECONDS)
                state.not_before = time.monotonic() + wait
                log.warning("%s; next try in %.0f s", exc, wait)
