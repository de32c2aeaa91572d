"""Publishing what the ledger recorded: credit entries to `sla.credits`, alerts to
`sla.alerts`, rejected inputs to the dead-letter topic `sla.rejected`.

The entry, alert and rejection tables are the outboxes: a row is written in the same
transaction as whatever caused it, so it cannot be lost. A publisher sends the rows after the last
published position, waits until the broker has acknowledged every one of them, then
records the new position; a row the broker refused or did not acknowledge in time
leaves the position where it was, and the page is sent again next round. A crash between
send and record sends those rows again too: delivery is at least once, and consumers
de-duplicate by `entry_id` (credits), `alert_id` (alerts) or by the `rejection_id`
header (dead letters).

A credit entry or an alert is a CloudEvent in binary mode (`consumers.cloud_events`):
its document is the value, its attributes the `ce_*` and `content-type` headers, next to
its id (`entry_id`, `alert_id`) and `kind` headers; the key is its contract id. Credits
and alerts are one publisher over their feed (`_publish_feed`); alerts are paged by
chain position, which follows commit order, so none is skipped.

With several ingest workers, one publishes an outbox at a time: the holder of its lease
(`LedgerStore.hold_lease`), taken or renewed before every page, the position read after
it. A worker that dies keeps the lease until it expires (`LEASE_SECONDS`); then another
takes over from the recorded position, so a crash can resend a page, never skip one.

A dead letter's value is the rejected message as received, unless that is larger than a
broker accepts by default (about 1 MB; an oversize message is one of the rejections):
then it is the first `DEAD_LETTER_MAX_VALUE` bytes, with the headers `truncated: true`,
`raw_bytes` and `raw_sha256`. The whole message stays in the rejection log, where
`sla-ledger rejections` lists it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Protocol

from consumers.cloud_events import ALERTS, CREDITS, Feed, LedgerEvent, kafka_headers, ledger_source
from projections.store import LedgerStore, StoredRejection

CREDITS_POSITION = "outbox:credits"
ALERTS_POSITION = "outbox:alerts"
DEAD_LETTER_POSITION = "outbox:dead-letters"
PAGE = 1_000
LEASE_SECONDS = 30.0
# Under Kafka's default message.max.bytes (1,048,588) and kafka-python's default
# max_request_size (1,048,576), with room for the headers and the record's framing.
DEAD_LETTER_MAX_VALUE = 1_000_000


class Producer(Protocol):
    def send(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        headers: list[tuple[str, bytes]] | None = ...,
    ) -> Any: ...

    def flush(self, timeout: float | None = ...) -> None: ...


Page = list[tuple[int, Any]]  # (outbox seq, row), in seq order


def _publish(
    store: LedgerStore,
    producer: Producer,
    position_name: str,
    page_after: Callable[[int], Page],
    send: Callable[[Any], Any],
    holder: str | None,
) -> int:
    """Send every row after the recorded position, page by page: send, wait for the
    broker's acknowledgement of each row, then record the page's last seq. Returns how
    many rows were sent (`send` returns the send's future, or None for a row it
    declines, which still advances the position).

    With a `holder`, only while it holds the outbox's lease (else nothing is sent).
    A row not acknowledged raises the producer's error (a `KafkaError`) before the
    position moves."""
    sent = 0
    while True:
        position = store.tracked_position(position_name)
        page = page_after(-1 if position is None else position)
        if not page:
            return sent
        if holder is not None:
            # Reading first spares idle workers a write each round; the position is read
            # again under the lease, as the last holder may have moved it meanwhile.
            if not store.hold_lease(position_name, holder, LEASE_SECONDS):
                return sent
            if store.tracked_position(position_name) != position:
                continue
        futures = [future for _seq, row in page if (future := send(row)) is not None]
        # Well inside the lease, so another worker cannot take over during a long wait.
        producer.flush(timeout=LEASE_SECONDS / 2)
        for future in futures:
            future.get(timeout=0)  # raises if refused, or if not acknowledged in time
        sent += len(futures)
        store.record_position(position_name, page[-1][0])


def _publish_feed(
    store: LedgerStore,
    producer: Producer,
    topic: str,
    feed: Feed,
    position_name: str,
    holder: str | None,
) -> int:
    source: list[str] = []  # read once, when there is a first record to send

    def send(event: LedgerEvent) -> Any:
        if not source:
            source.append(ledger_source(store))
        return producer.send(
            topic,
            key=event.key.encode(),
            # The record's fields as `credits` / `alerts --format json` have them, but
            # compact: the bytes already published stay the wire format (README).
            value=json.dumps(event.data).encode(),
            headers=kafka_headers(event, source[0]),
        )

    return _publish(
        store, producer, position_name, lambda seq: feed.page(store, seq, PAGE), send, holder
    )


def publish_credits(
    store: LedgerStore, producer: Producer, topic: str, holder: str | None = None
) -> int:
    return _publish_feed(store, producer, topic, CREDITS, CREDITS_POSITION, holder)


def publish_alerts(
    store: LedgerStore, producer: Producer, topic: str, holder: str | None = None
) -> int:
    return _publish_feed(store, producer, topic, ALERTS, ALERTS_POSITION, holder)


def dead_letter(rejection: StoredRejection) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and headers of a rejection's dead letter (module docstring)."""
    headers = [
        ("reason", rejection.reason.encode()),
        ("field", rejection.field.encode()),
        ("rejection_id", rejection.rejection_id.encode()),
    ]
    headers += [(f"origin_{k}", str(v).encode()) for k, v in sorted(rejection.origin.items())]
    value = rejection.raw
    if len(value) > DEAD_LETTER_MAX_VALUE:
        headers += [
            ("truncated", b"true"),
            ("raw_bytes", str(len(value)).encode()),
            ("raw_sha256", hashlib.sha256(value).hexdigest().encode()),
        ]
        value = value[:DEAD_LETTER_MAX_VALUE]
    return value, headers


def publish_dead_letters(
    store: LedgerStore, producer: Producer, topic: str, holder: str | None = None
) -> int:
    def send(rejection: StoredRejection) -> Any:
        origin = rejection.origin
        if "topic" not in origin:
            return None  # rejected lines of files are listed by `rejections`, not streamed
        value, headers = dead_letter(rejection)
        key = origin.get("key")
        return producer.send(
            topic,
            value=value,
            key=None if key is None else str(key).encode(),
            headers=headers,
        )

    return _publish(
        store,
        producer,
        DEAD_LETTER_POSITION,
        lambda seq: [(r.seq, r) for r in store.rejections_after(seq, PAGE)],
        send,
        holder,
    )


def backlog(store: LedgerStore) -> dict[str, int]:
    """Rows of each outbox recorded after its published position: not yet published."""

    def after(name: str) -> int:
        position = store.tracked_position(name)
        return -1 if position is None else position

    return {
        "credits": CREDITS.count_after(store, after(CREDITS_POSITION)),
        "alerts": ALERTS.count_after(store, after(ALERTS_POSITION)),
        "dead_letters": store.rejections_count_after(after(DEAD_LETTER_POSITION)),
    }


def release_leases(store: LedgerStore, holder: str) -> None:
    """A clean stop: let another worker publish at once instead of after the expiry."""
    for name in (CREDITS_POSITION, ALERTS_POSITION, DEAD_LETTER_POSITION):
        store.release_lease(name, holder)
