"""Publishing what the ledger recorded: credit entries to `sla.credits`, rejected inputs
to the dead-letter topic `sla.rejected`.

The entry and rejection tables are the outbox: a row is written in the same transaction
as whatever caused it, so it cannot be lost. A publisher sends the rows after the last
published position, waits for the broker to acknowledge them (`flush`), then records
the new position. A crash between send and record sends those rows again: delivery is
at least once, and consumers de-duplicate by `entry_id` (credits) or by the
`rejection_id` header (dead letters).

With several ingest workers, one publishes an outbox at a time: the holder of its lease
(`LedgerStore.hold_lease`), renewed before every page. A worker that dies keeps it until
it expires (`LEASE_SECONDS`); then another takes over from the recorded position, so a
crash can resend a page, never skip one, and workers never send the same rows in turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from ledger.credits import CreditEntry
from projections.store import LedgerStore, StoredRejection

CREDITS_POSITION = "outbox:credits"
DEAD_LETTER_POSITION = "outbox:dead-letters"
PAGE = 1_000
LEASE_SECONDS = 30.0


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
    send: Callable[[Any], bool],
    holder: str | None,
) -> int:
    """Send every row after the recorded position, page by page: send, wait for the
    broker's acknowledgement (`flush`), then record the page's last seq. Returns how
    many rows were sent (`send` may decline a row, which still advances the position).

    With a `holder`, only while it holds the outbox's lease (else nothing is sent)."""
    sent = 0
    position = store.tracked_position(position_name)
    while True:
        page = page_after(-1 if position is None else position)
        if not page:
            return sent
        if holder is not None and not store.hold_lease(position_name, holder, LEASE_SECONDS):
            return sent
        sent += sum(1 for _seq, row in page if send(row))
        producer.flush()
        position = page[-1][0]
        store.record_position(position_name, position)


def publish_credits(
    store: LedgerStore, producer: Producer, topic: str, holder: str | None = None
) -> int:
    def send(entry: CreditEntry) -> bool:
        producer.send(
            topic,
            key=entry.contract_id.encode(),
            value=json.dumps(entry.as_dict()).encode(),
            headers=[("entry_id", entry.entry_id.encode()), ("kind", entry.kind.encode())],
        )
        return True

    return _publish(
        store, producer, CREDITS_POSITION, lambda seq: store.entries_after(seq, PAGE), send, holder
    )


def publish_dead_letters(
    store: LedgerStore, producer: Producer, topic: str, holder: str | None = None
) -> int:
    def send(rejection: StoredRejection) -> bool:
        origin = rejection.origin
        if "topic" not in origin:
            return False  # rejected lines of files are listed by `rejections`, not streamed
        headers = [
            ("reason", rejection.reason.encode()),
            ("field", rejection.field.encode()),
            ("rejection_id", rejection.rejection_id.encode()),
        ]
        headers += [(f"origin_{k}", str(v).encode()) for k, v in sorted(origin.items())]
        key = origin.get("key")
        producer.send(
            topic,
            value=rejection.raw,
            key=None if key is None else str(key).encode(),
            headers=headers,
        )
        return True

    return _publish(
        store,
        producer,
        DEAD_LETTER_POSITION,
        lambda seq: [(r.seq, r) for r in store.rejections_after(seq, PAGE)],
        send,
        holder,
    )


def release_leases(store: LedgerStore, holder: str) -> None:
    """A clean stop: let another worker publish at once instead of after the expiry."""
    for name in (CREDITS_POSITION, DEAD_LETTER_POSITION):
        store.release_lease(name, holder)
