"""Publishing what the ledger recorded: credit entries to `sla.credits`, rejected inputs
to the dead-letter topic `sla.rejected`.

The entry and rejection tables are the outbox: a row is written in the same transaction
as whatever caused it, so it cannot be lost. A publisher sends the rows after the last
published position, waits for the broker to acknowledge them (`flush`), then records
the new position. A crash between send and record sends those rows again: delivery is
at least once, and consumers de-duplicate by `entry_id` (credits) or by the
`rejection_id` header (dead letters).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from projections.store import LedgerStore

CREDITS_POSITION = "outbox:credits"
DEAD_LETTER_POSITION = "outbox:dead-letters"
PAGE = 1_000


class Producer(Protocol):
    def send(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        headers: list[tuple[str, bytes]] | None = ...,
    ) -> Any: ...

    def flush(self, timeout: float | None = ...) -> None: ...


def publish_credits(store: LedgerStore, producer: Producer, topic: str) -> int:
    sent = 0
    position = store.tracked_position(CREDITS_POSITION)
    while True:
        page = store.entries_after(-1 if position is None else position, PAGE)
        if not page:
            return sent
        for _seq, entry in page:
            producer.send(
                topic,
                key=entry.contract_id.encode(),
                value=json.dumps(entry.as_dict()).encode(),
                headers=[("entry_id", entry.entry_id.encode()), ("kind", entry.kind.encode())],
            )
        producer.flush()
        position = page[-1][0]
        store.record_position(CREDITS_POSITION, position)
        sent += len(page)


def publish_dead_letters(store: LedgerStore, producer: Producer, topic: str) -> int:
    sent = 0
    position = store.tracked_position(DEAD_LETTER_POSITION)
    while True:
        page = store.rejections_after(-1 if position is None else position, PAGE)
        if not page:
            return sent
        for rejection in page:
            origin = rejection.origin
            if "topic" not in origin:
                continue  # rejected lines of files are listed by `rejections`, not streamed
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
        producer.flush()
        position = page[-1].seq
        store.record_position(DEAD_LETTER_POSITION, position)
        sent += len(page)
