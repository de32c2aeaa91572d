"""`credits`: the credit entries (issues and reversals) in the order they were recorded,
as the ledger listed them at a moment (now by default); and the same list filtered and
in pages (`credits_page`), for an asker that reads it a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.credits import CreditEntry, EntryKind
from ledger.periods import Period, to_us
from projections.queries import as_of
from projections.queries.encoding import to_csv, to_json
from projections.store import StoreReads

# The header `credits --format csv` has always printed when there is no entry: the
# columns of the entries' table when it was written, not every field. Kept as it was,
# because the CSV is a public interface (outputs.md).
CREDITS_CSV_HEADER_WITHOUT_ENTRIES = (
    "recorded_at",
    "kind",
    "revision",
    "contract_id",
    "service_id",
    "period",
    "amount",
    "currency",
    "remedy",
    "credit_percent",
    "entry_id",
    "supersedes",
)


@dataclass(frozen=True)
class CreditFilter:
    """Which entries to list: each filter given narrows the list (None: any)."""

    period: Period | None = None
    contract_id: str | None = None
    customer_id: str | None = None
    kind: EntryKind | None = None
    recorded_from: datetime | None = None  # inclusive
    recorded_to: datetime | None = None  # exclusive


@dataclass(frozen=True)
class CreditsPage:
    entries: list[CreditEntry]  # in record order
    last_seq: int | None  # the record sequence of the page's last entry (None: no entry)
    more: bool  # whether an entry matching the filters follows, up to the page's position


@dataclass(frozen=True)
class Credits:
    entries: list[CreditEntry]  # in record order
    chain_position: int  # the chain position of the moment they were listed at

    def documents(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self.entries]


def credits(
    store: StoreReads,
    period: Period | None,
    contract_id: str | None,
    asked: datetime | None,
    *,
    typed: str | None = None,
) -> Credits:
    """The entries recorded by `asked` (None: now; `typed`: how the asker wrote it), of
    `period` and `contract_id` if given."""
    moment = as_of.moment(store, asked, typed=typed)
    return Credits(
        store.entries(
            period=None if period is None else period.label,
            contract_id=contract_id,
            recorded_by_us=to_us(moment),
        ),
        as_of.position_at(store, moment),
    )


def credits_json(result: Credits) -> str:
    return to_json({"chain_position": result.chain_position, "entries": result.documents()})


def credits_csv(result: Credits) -> str:
    documents = result.documents()
    fields = list(documents[0]) if documents else list(CREDITS_CSV_HEADER_WITHOUT_ENTRIES)
    return to_csv(documents, fields)


def credits_page(
    store: StoreReads,
    filters: CreditFilter,
    moment: datetime,
    through_position: int,
    after_seq: int,
    limit: int,
) -> CreditsPage:
    """The first `limit` entries after record sequence `after_seq` that match `filters`,
    recorded by `moment` at chain positions up to `through_position`, in record order.

    An asker walking the pages keeps `moment` and `through_position` of its first page
    and passes each page's `last_seq` on: the entries a close or a reconciliation appends
    meanwhile lie beyond that position, so the walk neither skips nor repeats an entry.
    One more entry than asked is read to tell whether another page follows, so a page
    is empty only when there is nothing at all to list.
    """
    if limit < 1:
        raise ValueError(f"a page holds at least one entry, not {limit}")
    found = store.entries_page(
        after_seq=after_seq,
        limit=limit + 1,
        through_position=through_position,
        recorded_by_us=to_us(moment),
        period=None if filters.period is None else filters.period.label,
        contract_id=filters.contract_id,
        customer_id=filters.customer_id,
        kind=filters.kind,
        recorded_from_us=None if filters.recorded_from is None else to_us(filters.recorded_from),
        recorded_before_us=None if filters.recorded_to is None else to_us(filters.recorded_to),
    )
    page = found[:limit]
    return CreditsPage(
        entries=[entry for _, entry in page],
        last_seq=page[-1][0] if page else None,
        more=len(found) > limit,
    )
