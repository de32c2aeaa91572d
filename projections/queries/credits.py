"""`credits`: the credit entries (issues and reversals) in the order they were recorded,
as the ledger listed them at a moment (now by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.credits import CreditEntry
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
