"""One accepted event as the ledger recorded it: its envelope exactly as accepted (the
canonical JSON the hash chain covers), when it was recorded, where it came from, and its
place in the chain, as known at a moment.

A dispute handler follows the event ids a derivation names (`explain`) to the events
themselves; compliance reads any envelope by id. An event recorded after the moment
asked about was not known then: it is not found as of that moment, as an entry is not
(`lineage`).

The chain line (`record_sha256`, `chain_sha256`) is the one the audit bundle's
`chain.jsonl` and the chained log list for the same position (`chain_records.chain_line`),
computed from the stored fields: a reader can recompute the record's digest from the
envelope and origin texts given here, and check the link against the bundle's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.credits import format_utc_micro
from ledger.errors import NotFoundError
from ledger.periods import to_us
from ledger.timeformat import format_utc
from projections.chain_records import chain_line
from projections.queries.as_of import position_at
from projections.queries.encoding import to_json
from projections.store import StoreReads
from projections.store.mappers import AcceptedEvent


class EventNotFoundError(NotFoundError):
    """No event with the id asked about was accepted by the moment asked about."""


@dataclass(frozen=True)
class EventRecord:
    as_of: datetime
    chain_position: int  # the answer's: the chain as known at `as_of`
    accepted: AcceptedEvent


def event_record(store: StoreReads, event_id: str, moment: datetime) -> EventRecord:
    """The event `event_id` as recorded, if it was accepted by `moment`
    (`EventNotFoundError` if not)."""
    accepted = store.accepted_event(event_id, to_us(moment))
    if accepted is None:
        raise EventNotFoundError(f"no event {event_id} was accepted by {format_utc(moment)}")
    return EventRecord(moment, position_at(store, moment), accepted)


def event_record_document(result: EventRecord) -> dict[str, Any]:
    accepted = result.accepted
    event = accepted.recorded.event
    fields = accepted.fields
    line = chain_line("event", fields)
    return {
        "as_of": format_utc(result.as_of),
        "chain_position": result.chain_position,
        "event_id": event.event_id,
        "type": event.type,
        "subject_kind": event.subject_kind,
        "subject_id": event.subject_id,
        "occurred_at": format_utc(event.occurred_at),
        "recorded_at": format_utc_micro(accepted.recorded.recorded_at),
        "origin": accepted.recorded.origin.as_dict(),
        "chain": {
            "position": line["position"],
            "record_sha256": line["record_sha256"],
            "chain_sha256": line["chain_sha256"],
        },
        "content_sha256": fields["content_sha256"],
        # The envelope as accepted, parsed; and the very text the chain covers (its
        # SHA-256 is `content_sha256`), for a reader who recomputes the digests.
        "envelope": json.loads(fields["envelope"]),
        "canonical_envelope": fields["envelope"],
    }


def event_record_json(result: EventRecord) -> str:
    return to_json(event_record_document(result))
