"""Rows of the store as the domain's objects, and back: events (from their eventsourcing
record), credit entries, alerts, rejections, and the JSON the ledger wrote itself, read fast and
refused in one line when it is not what the ledger wrote."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.chain import FIELDS
from ledger.entry_bases import verified_figures
from ledger.errors import StoreError
from ledger.events import InboundEvent, Origin, RecordedEvent
from ledger.periods import from_us, to_us
from projections.chain_records import event_content
from projections.store.content_codec import unpack

if TYPE_CHECKING:
    from ledger.alerts import Alert
    from ledger.credits import CreditEntry


@dataclass(frozen=True, slots=True)
class AcceptedEvent:
    """An accepted event as the store holds it: the event with its record time and
    origin, its chain position, and `fields`, its chained row (every field the chain
    covers, in the chain's order, then `chain_pos` and `chain_sha256`: the envelope and
    origin as the exact canonical JSON texts its record embeds)."""

    recorded: RecordedEvent
    chain_position: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRejection:
    seq: int
    rejection_id: str
    rejected_at: datetime
    origin: dict[str, Any]
    raw: bytes
    field: str
    reason: str
    event_id: str | None


def stored_json(text: str | bytes) -> Any:
    """A JSON column the ledger wrote itself (canonical, checked by the hash chain), read
    with the fast parser. Edited to something it cannot read (nested a million deep), it
    is a damaged store, said in one line, not a crash: `audit verify` finds the row."""
    try:
        return parsed(text)
    except (ValueError, RecursionError):
        raise StoreError(
            "the store holds a record that is not the JSON the ledger wrote (edited or "
            "damaged): run `sla-ledger audit verify` to find it"
        ) from None


# What `json.loads` decodes a text with (its C scanner, its settings).
JSON_DECODER = json.JSONDecoder()


def parsed(text: str | bytes) -> Any:
    """`json.loads(text)`. What the ledger wrote (UTF-8, one value, no white space
    around it: every record it wrote) goes straight to the decoder, without the steps
    of `json.loads` that find the encoding of bytes and look for white space; anything
    else, or anything the decoder refuses, is left to `json.loads` itself, which then
    says why."""
    try:
        plain = text.decode() if type(text) is bytes else text
        if type(plain) is str:
            value, end = JSON_DECODER.raw_decode(plain)
            if end == len(plain):
                return value
    except (ValueError, RecursionError):
        pass
    return json.loads(text)


def record_content(state: str | bytes | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(envelope, origin) of an event's eventsourcing record (`[envelope, origin]`), as
    text or as stored (then unpacked)."""
    if state is not None and not isinstance(state, str):
        state = unpack(bytes(state))
    content = stored_json(state) if state is not None else None
    if (
        not isinstance(content, list)
        or len(content) != 2
        or not isinstance(content[0], dict)
        or not isinstance(content[1], dict)
    ):
        raise StoreError(
            "the store holds an event whose record in the event store is missing or not "
            "the JSON the ledger wrote (edited or damaged): run `sla-ledger audit verify` "
            "to find it"
        )
    return content[0], content[1]


def row_event(row: Any) -> RecordedEvent:
    envelope, origin = record_content(row["state"])
    try:
        event = InboundEvent.from_envelope(envelope)
        # event, recorded_at, origin (in order, not by name: there are tens of thousands)
        return RecordedEvent(event, from_us(int(row["recorded_us"])), Origin(**origin))
    except (KeyError, TypeError, ValueError):
        raise StoreError(
            "the store holds an event that is not the envelope the ledger wrote (edited or "
            "damaged): run `sla-ledger audit verify` to find it"
        ) from None


def row_accepted(row: Any, field_names: tuple[str, ...]) -> AcceptedEvent:
    """An `sla_events` row with its record's `state` (as stored) as an `AcceptedEvent`:
    `field_names` are the chained fields in the chain's order, each a column of the row
    except the three the record holds (`content_sha256`, `envelope`, `origin`)."""
    state = unpacked(row["state"])
    content = None if state is None else event_content(state)
    if content is None:
        raise StoreError(
            "the store holds an event whose record in the event store is missing or not "
            "the JSON the ledger wrote (edited or damaged): run `sla-ledger audit verify` "
            "to find it"
        )
    envelope, origin = content
    derived = {
        "content_sha256": hashlib.sha256(envelope.encode()).hexdigest(),
        "envelope": envelope,
        "origin": origin,
    }
    fields = {name: derived[name] if name in derived else row[name] for name in field_names}
    recorded = row_event({"state": f"[{envelope},{origin}]", "recorded_us": row["recorded_us"]})
    return AcceptedEvent(recorded, int(row["chain_pos"]), fields)


def row_rejection(r: Any) -> StoredRejection:
    return StoredRejection(
        seq=int(r["seq"]),
        rejection_id=r["rejection_id"],
        rejected_at=from_us(int(r["rejected_us"])),
        origin=stored_json(r["origin"]),
        raw=bytes(r["raw"]),
        field=r["field"],
        reason=r["reason"],
        event_id=r["event_id"],
    )


def row_entry(r: Any) -> CreditEntry:
    # Imported here: `ledger.credits` brings the whole of the SLA arithmetic (some 40 ms
    # to import), which commands that read no entries (`audit verify`) do without.
    from ledger.credits import CreditEntry

    # The figures its memo describes, when a stored basis proves them (`StoreReads`
    # selects the described basis and the digest it must hash to).
    figures = verified_figures(r["described_basis"], r["described_sha256"])
    return CreditEntry(
        entry_id=r["entry_id"],
        kind=r["kind"],
        revision=int(r["revision"]),
        supersedes=r["supersedes"],
        contract_id=r["contract_id"],
        customer_id=r["customer_id"],
        service_id=r["service_id"],
        period=r["period"],
        amount_major=Decimal(r["amount"]),
        currency=r["currency"],
        remedy=r["remedy"],
        credit_percent=Decimal(r["credit_percent"]),
        terms_version=int(r["terms_version"]),
        recorded_at=from_us(int(r["recorded_us"])),
        basis_sha256=r["basis_sha256"],
        basis_version=int(r["basis_version"]),
        memo_figures=figures,
    )


def entry_fields(e: CreditEntry) -> dict[str, Any]:
    """An entry as its table row holds it (the chain's `entry` fields)."""
    return {
        "entry_id": e.entry_id,
        "kind": e.kind,
        "revision": e.revision,
        "supersedes": e.supersedes,
        "contract_id": e.contract_id,
        "customer_id": e.customer_id,
        "service_id": e.service_id,
        "period": e.period,
        "amount": str(e.amount_major),
        "currency": e.currency,
        "remedy": e.remedy,
        "credit_percent": str(e.credit_percent),
        "terms_version": e.terms_version,
        "recorded_us": to_us(e.recorded_at),
        "basis_sha256": e.basis_sha256,
        "basis_version": e.basis_version,
    }


def alert_fields(a: Alert) -> dict[str, Any]:
    """An alert as its table row holds it (the chain's `alert` fields)."""
    held = {name: getattr(a, name) for name in FIELDS["alert"] if name != "recorded_us"}
    held["recorded_us"] = to_us(a.recorded_at)
    return held


def row_alert(r: Any) -> Alert:
    """An alert from its table row, or from its chained fields (its log record's, which a
    rebuild carries over): KeyError, TypeError or ValueError if they are not an alert's."""
    from ledger.alerts import Alert

    def text(name: str) -> str:
        value = r[name]
        if type(value) is not str:
            raise TypeError(f"{name} is not a string")
        return value

    def optional(name: str) -> str | None:
        return None if r[name] is None else text(name)

    return Alert(
        alert_id=text("alert_id"),
        kind=text("kind"),
        threshold=text("threshold"),
        contract_id=text("contract_id"),
        customer_id=text("customer_id"),
        service_id=text("service_id"),
        period=text("period"),
        observed=text("observed"),
        downtime_left_seconds=optional("downtime_left_seconds"),
        credit_at_risk=optional("credit_at_risk"),
        currency=text("currency"),
        recorded_at=from_us(int(r["recorded_us"])),
    )


def unpacked(state: Any) -> bytes | None:
    return None if state is None else unpack(bytes(state))
