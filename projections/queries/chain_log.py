"""The chained log, paged, for consumers that replay it: every chained record (event,
credit entry, close, alert) in chain order, each with its place in the chain and its record.

A walk through the log is bounded by `through`, the head's position when its first
page was asked: a consumer pages up to it and never sees a record appended during the
walk (the next walk starts where this one ended). Positions are contiguous from 1 (each
record takes the next one, `chain_append`), so a page is the positions
`(after, min(after + limit, through)]`, read by position alone, and a page before the
end is never empty.

Each record is its chain line as the audit bundle's `chain.jsonl` lists it (position,
kind, record_sha256, chain_sha256: `chain_records.chain_line`, one rule for both), plus
`record`: the chained row as the bundle's `events.jsonl`, `entries.jsonl`,
`close.json` and `alerts.jsonl` hold it (every field the chain covers, an event's
envelope and origin as their JSON text, its position and link), so a consumer replays
the records and can recompute every digest and link from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.chain_records import chain_line
from projections.queries.as_of import MomentRefusedError
from projections.queries.encoding import to_json
from projections.store import AuditReads


class PageRefusedError(MomentRefusedError):
    """A page of the log that cannot be asked for: a negative position, a limit under
    1, or a walk beyond the head (the asker's to change)."""


@dataclass(frozen=True)
class ChainPage:
    chain_position: int  # the walk's end (`through`): the head when it began
    records: list[dict[str, Any]]  # in chain order
    next_after: int | None  # where the next page starts; None: this page ends the walk


def chain_page(store: AuditReads, after: int, limit: int, through: int | None) -> ChainPage:
    """The records at positions after `after`, at most `limit` of them and none after
    `through` (None: the head now, the start of a walk)."""
    head = store.chain_head().position
    end = head if through is None else through
    if after < 0 or end < 0:
        raise PageRefusedError("a chain position is 0 or more")
    if limit < 1:
        raise PageRefusedError(f"a page holds 1 record or more, not {limit}")
    if end > head:
        raise PageRefusedError(f"position {end} is beyond the chain's head ({head})")
    if after > end:
        raise PageRefusedError(f"position {after} is beyond the walk's end ({end})")
    last = min(after + limit, end)
    rows = store.chain_rows(after, last)
    # Only a chain with a gap (a damaged store, which `audit verify` names) holds fewer
    # records than positions: read on rather than answer an empty page before the end.
    while not rows and last < end:
        last = min(last + limit, end)
        rows = store.chain_rows(after, last)
    records = [{**chain_line(kind, fields), "record": fields} for kind, fields in rows]
    return ChainPage(end, records, last if last < end else None)


def chain_page_json(page: ChainPage) -> str:
    """The page as a program reads it: the walk's end and the records."""
    return to_json({"chain_position": page.chain_position, "records": page.records})
