"""`rejections`: every rejected input with its origin and reason, and whether it was
resubmitted since; or the raw inputs themselves, to fix and ingest again."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.periods import to_us
from ledger.timeformat import format_utc
from projections.queries.encoding import to_json
from projections.store import StoredRejection, StoreReads


@dataclass(frozen=True)
class Rejections:
    stored: list[StoredRejection]  # in the order they were rejected
    # The `seq`s of those whose input was accepted later (`StoreReads.resubmitted`).
    resubmitted: frozenset[int]

    def documents(self) -> list[dict[str, Any]]:
        return [_document(r, r.seq in self.resubmitted) for r in self.stored]


def rejections(store: StoreReads, *, with_resubmitted: bool = True) -> Rejections:
    """The rejections; `with_resubmitted=False` leaves out which were resubmitted (a
    search through the events that an export of the raw inputs does not need)."""
    stored = store.rejections()
    resubmitted = store.resubmitted(stored) if with_resubmitted else set()
    return Rejections(stored, frozenset(resubmitted))


@dataclass(frozen=True)
class RejectionsPage:
    rejections: Rejections
    more: bool  # whether a rejection of the same question follows this page


def rejections_page(
    store: StoreReads, after: int, through: int, moment: datetime, limit: int
) -> RejectionsPage:
    """The rejections kept by `moment` with `seq` in (`after`, `through`], at most
    `limit` (`through`: the last `seq` when a client began paging, so that rejections kept
    meanwhile are not in that walk: `last_rejection_seq`)."""
    stored = store.rejections_through(after, through, to_us(moment), limit + 1)
    page = stored[:limit]
    return RejectionsPage(Rejections(page, frozenset(store.resubmitted(page))), len(stored) > limit)


def _document(r: StoredRejection, resubmitted: bool) -> dict[str, Any]:
    try:
        text: str | None = r.raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "seq": r.seq,
        "rejection_id": r.rejection_id,
        "rejected_at": format_utc(r.rejected_at),
        "origin": r.origin,
        "field": r.field,
        "reason": r.reason,
        "event_id": r.event_id,
        "resubmitted": resubmitted,
        "raw": text,
        "raw_base64": base64.b64encode(r.raw).decode("ascii"),
    }


def rejections_json(result: Rejections) -> str:
    return to_json({"rejections": result.documents()})


def raw_lines(result: Rejections) -> bytes:
    """The rejected raw inputs, one per line (a newline inside one becomes a space), as
    `ingest --from-file` reads them again."""
    return b"".join(r.raw.replace(b"\n", b" ") + b"\n" for r in result.stored)
