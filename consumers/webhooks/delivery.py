"""Delivering credit entries and alerts to a webhook subscription, from their outboxes.

Each subscription has its own tracked position in the store per feed it wants
(`Subscription.feed_position`: `webhooks:NAME` for credit entries, as the Kafka outbox
has `outbox:credits`, and `webhooks:NAME:alerts` for alerts) and its own lease on each,
so any number of deliverers may run: one delivers a subscription's feed at a time, and
one that dies hands over when its lease expires. A feed's records go one at a time, in
outbox order (alerts: chain order); the position moves past a record only after the
receiver answered it 2xx, and is recorded at the end of each page and wherever delivery
stops. Delivery is therefore at least once, never skipping: a crash re-sends the records
after the last recorded position, and receivers de-duplicate by `webhook-id` (the entry
or alert id). A feed holding no type the subscription wants is not read at all (so a
subscription that asks for alerts later receives them from the first one); within a
feed it reads, records of a type it does not want are passed over (the position moves).

A failed attempt (no answer, or not 2xx) is retried with exponential backoff
(`RetryPolicy`); when the attempts are spent the record stays pending, delivery of that
feed stops there for the round (the subscription's other feeds are still delivered),
and a later round starts again from it.

`redeliver` sends a range again on request, whatever the position; it never moves it.
Logs name the subscription and the record, never the secret or the URL (which may carry
a token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from consumers.cloud_events import CREDITS, Feed, LedgerEvent
from consumers.webhooks.config import Subscription
from consumers.webhooks.signing import body, signed_headers
from ledger.errors import LedgerError
from projections.store import LedgerStore

log = logging.getLogger("sla_ledger.webhooks")

PAGE = 100
# Renewed before every attempt once a quarter of it has passed, so it outlasts one attempt
# and the wait before the next (REQUEST_TIMEOUT_SECONDS + RetryPolicy.max_delay).
LEASE_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0


class DeliveryFailedError(LedgerError):
    """A receiver did not accept a record within the attempts of one round."""


class Stopped(Exception):  # noqa: N818 - a stop, not an error
    """A stop was requested between two attempts."""


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` per record and round, `first_delay` seconds before the second, each
    next delay doubled up to `max_delay`: bounded, so a dead receiver holds a round for
    at most about a minute before the record is left pending for a later round."""

    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 16.0

    def delays(self) -> list[float]:
        """The waits between the attempts."""
        return [min(self.first_delay * 2**n, self.max_delay) for n in range(self.attempts - 1)]


def post(
    client: httpx.Client,
    subscription: Subscription,
    event: LedgerEvent,
    source: str,
    policy: RetryPolicy,
    stop: threading.Event,
    renew: Callable[[], None],
) -> None:
    """Send one record until the receiver answers 2xx; DeliveryFailedError when the
    attempts are spent, Stopped when a stop is requested while waiting to retry.
    `renew` runs before each attempt (the lease's renewal)."""
    text = body(event, source)
    problem = ""
    for delay in [*policy.delays(), None]:
        renew()
        headers = signed_headers(subscription, event.id, text, datetime.now(UTC))
        try:
            answer = client.post(subscription.url, content=text.encode(), headers=headers)
            if answer.is_success:
                return
            problem = f"answered {answer.status_code}"
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}"
        log.warning("webhook %s: %s not delivered (%s)", subscription.name, event.named, problem)
        if delay is None:
            break
        if stop.wait(delay):
            raise Stopped
    raise DeliveryFailedError(
        f"webhook {subscription.name}: {event.named} not delivered after "
        f"{policy.attempts} attempts (last: {problem}); it stays pending"
    )


def _send_all(
    client: httpx.Client,
    subscription: Subscription,
    page: Sequence[tuple[int, LedgerEvent]],
    source: str,
    policy: RetryPolicy,
    stop: threading.Event,
    done: Callable[[int], None],
    renew: Callable[[], None],
) -> int:
    """Send a page's wanted records in order, calling `done(seq)` after each one the
    receiver accepted or does not want; how many were sent."""
    sent = 0
    for seq, event in page:
        if stop.is_set():
            raise Stopped
        if subscription.wants(event.type):
            post(client, subscription, event, source, policy, stop, renew)
            sent += 1
        done(seq)
    return sent


def deliver_pending(
    store: LedgerStore,
    subscription: Subscription,
    client: httpx.Client,
    *,
    source: str,
    holder: str,
    policy: RetryPolicy = RetryPolicy(),
    stop: threading.Event | None = None,
) -> int:
    """Deliver every record after the subscription's position in each feed it wants,
    while `holder` holds that feed's lease; how many were sent. Raises the first
    DeliveryFailedError (after every feed was tried and how far each got recorded) when
    a record stays pending; returns early on a stop."""
    stop = stop or threading.Event()
    sent = 0
    failed: DeliveryFailedError | None = None
    for feed in subscription.feeds():
        if stop.is_set():
            break
        try:
            sent += _deliver_feed(store, subscription, feed, client, source, holder, policy, stop)
        except DeliveryFailedError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed
    return sent


def _deliver_feed(
    store: LedgerStore,
    subscription: Subscription,
    feed: Feed,
    client: httpx.Client,
    source: str,
    holder: str,
    policy: RetryPolicy,
    stop: threading.Event,
) -> int:
    name = subscription.feed_position(feed)
    sent = 0
    reached: list[int] = []  # the seqs done in the current page
    renewed = 0.0

    def renew() -> None:
        # Well before the lease expires, so no other deliverer takes over while a
        # record's retries run; one that lost it (a long pause) stops at once.
        nonlocal renewed
        if time.monotonic() - renewed > LEASE_SECONDS / 4:
            if not store.hold_lease(name, holder, LEASE_SECONDS):
                raise Stopped
            renewed = time.monotonic()

    while not stop.is_set():
        position = store.tracked_position(name)
        page = feed.page(store, -1 if position is None else position, PAGE)
        if not page:
            return sent
        if not store.hold_lease(name, holder, LEASE_SECONDS):
            return sent
        if store.tracked_position(name) != position:
            continue  # another deliverer moved it before this one took the lease
        reached.clear()
        renewed = time.monotonic()
        try:
            sent += _send_all(
                client, subscription, page, source, policy, stop, reached.append, renew
            )
        except Stopped:
            return sent
        finally:
            if reached:
                store.record_position(name, reached[-1])
    return sent


def redeliver(
    store: LedgerStore,
    subscription: Subscription,
    from_seq: int,
    to_seq: int,
    *,
    client: httpx.Client | None = None,
    source: str,
    feed: Feed = CREDITS,
    policy: RetryPolicy = RetryPolicy(),
    stop: threading.Event | None = None,
) -> int:
    """Send the subscription's records of `feed` at positions `from_seq`..`to_seq`
    (both included) again, in order, whatever its position (which stays); how many were
    sent. DeliveryFailedError names the record a receiver kept refusing."""
    stop = stop or threading.Event()
    own = client is None
    client = client or new_client()
    sent = 0
    try:
        after = from_seq - 1
        while True:
            page = [(s, e) for s, e in feed.page(store, after, PAGE) if s <= to_seq]
            if not page:
                return sent
            sent += _send_all(
                client, subscription, page, source, policy, stop, lambda _s: None, lambda: None
            )
            after = page[-1][0]
    except Stopped:
        return sent
    finally:
        if own:
            client.close()


def new_client() -> httpx.Client:
    """The HTTP client deliveries use: no redirects followed (a webhook URL is final),
    one timeout for connecting and for the answer."""
    return httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, follow_redirects=False)
