"""Inputs that arrive together (an HTTP request's events) appended in one transaction,
with the same validation (`validation.classify`), idempotency and kept rejections as a
file or Kafka intake, then followed up as any intake is (`follow_up`): closed periods
reconciled with them, alerts raised.

Each input's origin is a line of the request (`Origin.file` = `http:<request key>`,
`line` = its place in the request, from 1): a client that sends the same request again
under the same key (`Idempotency-Key`) finds its events duplicates and its rejections
the same ones, never doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from consumers.intake.follow_up import follow_up
from consumers.intake.validation import classify
from ledger.events import InboundEvent, Origin
from ledger.rejections import Rejection
from projections.store import LedgerStore

ORIGIN_PREFIX = "http:"


def request_origin(request_key: str, place: int) -> Origin:
    return Origin(file=ORIGIN_PREFIX + request_key, line=place)


@dataclass
class RequestOutcome:
    inputs: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # in input order
    entries_appended: int = 0
    alerts_raised: int = 0


def ingest_inputs(store: LedgerStore, inputs: Sequence[tuple[bytes, Origin]]) -> RequestOutcome:
    """Validate and append `inputs` (raw bytes, origin) in one transaction: each accepted
    once, a duplicate, or rejected and kept."""
    events: list[tuple[InboundEvent, Origin, bytes]] = []
    refused: list[Rejection] = []
    for raw, origin in inputs:
        outcome = classify(raw, origin)
        if isinstance(outcome, Rejection):
            refused.append(outcome)
        else:
            events.append((outcome, origin, raw))
    appended = store.append(events, refused)
    done = follow_up(store, datetime.now(UTC))
    return RequestOutcome(
        len(inputs),
        appended.accepted,
        appended.duplicates,
        sorted(appended.rejected, key=lambda r: r.origin.line or 0),
        len(done.entries),
        len(done.check.alerts),
    )
