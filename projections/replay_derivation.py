"""What `audit rebuild` derives again from each event record of the log.

Its index columns, its content digest, its eventsourcing originator id, its span and its
scopes, with the intake's own rules (`subject_rows`, `event_originator_hex`), from the
record alone: the envelope is parsed once, and nothing is built per event beyond the
tuples the scratch store is written from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ledger.events import EVENT_TYPES
from ledger.timeformat import parse_utc
from projections.chain_records import event_originator_hex
from projections.store.chain_append import event_content
from projections.store.ledger_store import Span, subject_rows
from projections.store.schema import EVENT_COLUMNS

INDEXED = [name for name, _ in EVENT_COLUMNS].index("recorded_us")  # derived columns first
IndexColumns = tuple[str, str, str, str, str]  # event_id, type, subject kind and id, occurred
# An event derived again: its index columns when they differ from the live row's (None:
# equal, and the live row's are then used as they are), content_sha256, originator id
# (32 hex digits), span (None: the event names no instant) and scopes.
Derivation = tuple[IndexColumns | None, str, str, Span | None, tuple[tuple[str, str, str], ...]]


class ReplayError(Exception):
    """The log cannot be replayed as it stands (a record that is no event the ledger
    wrote, record times going back): the rebuild stops there and says why."""


def derive(position: int, state: bytes, index: tuple[Any, ...] | None) -> Derivation:
    """An event as its log record gives it, derived as the intake derives it. The record
    time is the live index row's (the chain covers it: the heads say if it was altered)."""
    content = event_content(state)
    if content is None or index is None:
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote "
            "(or its sla_events row is missing): run `sla-ledger audit verify`"
        )
    envelope = content[0]
    recorded_us = int(index[INDEXED])
    spans: list[Span] = []
    scopes: set[tuple[str, str, str]] = set()
    try:
        # Read as `InboundEvent.from_envelope` reads an envelope (every key it needs, the
        # instant parsed), without building one per event; then derived as at intake.
        document = json.loads(envelope)
        event_id, type_, payload = document["event_id"], document["type"], document["payload"]
        occurred, _, _ = document["occurred_at"], document["schema_version"], document["source"]
        # The envelope spells its instant canonically (`format_utc`), as the index does:
        # a spelling of its own would be an envelope the ledger never wrote.
        parse_utc(occurred)
        subject_kind, subject_field = EVENT_TYPES[type_]
        subject_id = str(payload[subject_field])
        if type(event_id) is not str:  # the inbound contract's is a UUID's text
            raise TypeError
        subject_rows(subject_kind, subject_id, payload, recorded_us, spans, scopes)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote: "
            "run `sla-ledger audit verify`"
        ) from None
    derived = (event_id, type_, subject_kind, subject_id, occurred)
    return (
        None if derived == index[:INDEXED] else derived,
        hashlib.sha256(envelope.encode()).hexdigest(),
        event_originator_hex(event_id),
        spans[0] if spans else None,
        tuple(scopes),
    )
