"""`explain`: the full derivation of one row (contract, service, period) as of a moment,
every fact with the event ids it comes from (`projections.queries.explain.inputs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.periods import Period
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.queries.explain.inputs import explain
from projections.store import StoreReads


@dataclass(frozen=True)
class Explanation:
    # The derivation as built once, JSON-ready: the JSON form is it as is, and the text
    # for people is rendered from it, so the two can never tell different stories.
    document: dict[str, Any]
    chain_position: int  # the chain position of the moment it is as of


def explanation(
    store: StoreReads,
    contract_id: str,
    service_id: str,
    period: Period,
    asked: datetime | None,
    *,
    typed: str | None = None,
) -> Explanation:
    """The derivation of the row as of `asked` (None: now; `typed`: how the asker wrote
    it). Raises `document.RowNotFoundError` when the row does not exist then."""
    moment = as_of.moment(store, asked, typed=typed)
    position = as_of.position_at(store, moment)
    return Explanation(explain(store, contract_id, service_id, period, moment), position)


def explanation_json(result: Explanation) -> str:
    """The derivation, with the chain position it was computed at right after its
    `as_of` (a field of the answer, not of the derivation: the text form leaves it out)."""
    document: dict[str, Any] = {}
    for name, value in result.document.items():
        document[name] = value
        if name == "as_of":
            document["chain_position"] = result.chain_position
    return to_json(document)
