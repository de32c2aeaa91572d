"""How each chained record is kept: its table, its eventsourcing record (topic, originator
id, state) and the bytes of that record.

Pure and free of the store's code (standard library and `ledger.chain` only), so that a
process verifying part of the chain (`projections.audit.chain_walk`) starts in milliseconds;
the store and the audits import these from here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from ledger.chain import RecordKind, record_sha256, without_later_defaults

EVENT_NAMESPACE = uuid.UUID("0d6f7a52-9c1e-5b3a-8e47-2a9b6c1d4e8f")
TOPIC_EVENT_ACCEPTED = "sla_ledger:InboundEventAccepted"
TOPIC_PERIOD_CLOSED = "sla_ledger:PeriodClosed"
TOPIC_CREDIT_ENTRY = "sla_ledger:CreditEntryRecorded"
TOPIC_ALERT_RAISED = "sla_ledger:AlertRaised"
TOPICS: dict[RecordKind, str] = {
    "event": TOPIC_EVENT_ACCEPTED,
    "entry": TOPIC_CREDIT_ENTRY,
    "close": TOPIC_PERIOD_CLOSED,
    "alert": TOPIC_ALERT_RAISED,
}
# The table holding each kind's rows (their fields, position and link).
CHAINED_TABLES: dict[RecordKind, str] = {
    "event": "sla_events",
    "entry": "sla_credit_entries",
    "close": "sla_closes",
    "alert": "sla_alerts",
}
RECORD_KEY: dict[RecordKind, str] = {
    "event": "event_id",
    "entry": "entry_id",
    "close": "period",
    "alert": "alert_id",
}


def originator_of(kind: RecordKind, key: str) -> uuid.UUID:
    """The eventsourcing originator id of a chained record: its event id, entry id,
    the period it closes or its alert id."""
    return uuid.uuid5(EVENT_NAMESPACE, key if kind == "event" else f"{kind}:{key}")


_NAMESPACE = EVENT_NAMESPACE.bytes
_sha1 = hashlib.sha1
# The variant digit of a name-based UUID, by the digit of the digest it replaces: the
# digest's two low bits under the bits 10 (RFC 4122).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def event_originator_hex(event_id: str) -> str:
    """`originator_of("event", event_id).hex`, computed without building UUID objects
    (`audit verify` computes one per event): the name-based UUID (version 5) of RFC
    4122, the first 16 bytes of the SHA-1 digest with its version and variant digits set."""
    digest = _sha1(_NAMESPACE + event_id.encode()).hexdigest()
    return f"{digest[:12]}5{digest[13:16]}{_VARIANT[digest[16]]}{digest[17:32]}"


def library_state(kind: RecordKind, fields: Mapping[str, Any]) -> bytes:
    """The eventsourcing record of a chained record.

    An event's record is its content, and the only copy of it: the JSON array
    `[envelope, origin]` (both canonical JSON already, embedded as they are), so the event
    store reads as a log of the envelopes accepted. These are exactly the last bytes of
    the event's chain encoding (`ledger.chain.encoding`), so a link is computed from the
    record without parsing it. The record's notification id is its chain position: its
    row in `sla_events` (same position) holds the index columns, the record time and the
    chain's digests. An entry's, a close's or an alert's record is its fields, position
    and link, less the fields it gained later that hold their value from before
    (`LATER_FIELDS`): the bytes of the records written before those fields existed.
    """
    if kind != "event":
        kept = without_later_defaults(kind, fields)
        return json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()
    return f"[{fields['envelope']},{fields['origin']}]".encode()


# Where an event's origin starts in its record: the last `,{"` (an origin is a flat
# object, and inside a JSON string a `"` is always escaped, so none follows it).
ORIGIN_START = b',{"'


def event_content(state: bytes) -> tuple[str, str] | None:
    """(envelope, origin) of an event's record, as the texts it embeds; None when the
    bytes are not of that shape (an edited record, which its link names)."""
    cut = state.rfind(ORIGIN_START)
    if cut < 1 or state[:1] != b"[" or state[-1:] != b"]":
        return None
    try:
        return state[1:cut].decode(), state[cut + 1 : -1].decode()
    except UnicodeDecodeError:
        return None


def chain_line(kind: RecordKind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A chained record's place in the chain as the audit bundle's `chain.jsonl` lists
    it, and the chained log serves it to replaying consumers: its position, kind, digest
    (`record_sha256` of its fields) and link. `fields`: its chained row, every field the
    chain covers with its position and link (`AuditReads.chain_rows`)."""
    position = int(fields["chain_pos"])
    return {
        "position": position,
        "kind": kind,
        "record_sha256": record_sha256(kind, position, fields),
        "chain_sha256": fields["chain_sha256"],
    }
