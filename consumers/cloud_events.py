"""What the ledger records, as CloudEvents 1.0: the one mapping of a credit entry or an
alert to its event attributes, for the outbox topics (`sla.credits`, `sla.alerts`:
binary mode, `ce_*` headers, the record's document as the value) and for webhooks
(structured mode: one JSON document).

- `id`: the entry id or the alert id (a record is one event; a re-sent record is the
  same event).
- `source`: `urn:sla-ledger:` and the link at chain position 1, the first record's
  chain digest. It names this ledger, not the machine it runs on: every copy, backup or
  rebuild of the store has the same first link, any other ledger a different one, and a
  store URL (a path, a host, a password) says nothing a consumer should depend on.
- `type`: `sla.credit.issued` or `sla.credit.reversed` for an entry; `sla.alert.raised`
  for an alert, whatever its kind (the kind is in the data and in the `kind` header, so
  one subscription or one topic filter takes every alert).
- `time`: when the record was recorded; `subject`: `CONTRACT/SERVICE/PERIOD`, the row.
- `datacontenttype`: `application/json`; the data is the record's document (`as_dict`,
  as `credits --format json` and `alerts --format json` print it).

A `Feed` is one kind of record as an ordered outbox (credit entries by outbox seq,
alerts by chain position): the Kafka outbox and webhook delivery page through the same
feeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.alerts import Alert
from ledger.credits import CreditEntry, format_utc_micro
from projections.store import LedgerStore, StoreReads

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
CREDIT_TYPES = {"issue": "sla.credit.issued", "reversal": "sla.credit.reversed"}
ALERT_TYPE = "sla.alert.raised"
# Every type the ledger sends, in the order help and errors list them.
EVENT_TYPES = (*CREDIT_TYPES.values(), ALERT_TYPE)


@dataclass(frozen=True)
class LedgerEvent:
    """A recorded credit entry or alert, as an event: its attributes, less the
    ledger's `source`, its document, and the Kafka record's key and own headers."""

    id: str
    type: str
    time: datetime
    subject: str
    data: dict[str, Any]
    key: str  # the contract id: one contract's events stay in one partition, in order
    # The record's own headers beside the `ce_*` ones: its id and kind, by name.
    headers: tuple[tuple[str, str], ...]

    @property
    def named(self) -> str:
        """What it is, for a log line or an error: `entry ID` or `alert ID`."""
        return f"{'alert' if self.type == ALERT_TYPE else 'entry'} {self.id}"


def row_subject(contract_id: str, service_id: str, period: str) -> str:
    return f"{contract_id}/{service_id}/{period}"


def entry_event(entry: CreditEntry) -> LedgerEvent:
    return LedgerEvent(
        id=entry.entry_id,
        type=CREDIT_TYPES[entry.kind],
        time=entry.recorded_at,
        subject=row_subject(entry.contract_id, entry.service_id, entry.period),
        data=entry.as_dict(),
        key=entry.contract_id,
        headers=(("entry_id", entry.entry_id), ("kind", entry.kind)),
    )


def alert_event(alert: Alert) -> LedgerEvent:
    return LedgerEvent(
        id=alert.alert_id,
        type=ALERT_TYPE,
        time=alert.recorded_at,
        subject=row_subject(alert.contract_id, alert.service_id, alert.period),
        data=alert.as_dict(),
        key=alert.contract_id,
        headers=(("alert_id", alert.alert_id), ("kind", alert.kind)),
    )


def ledger_source(store: LedgerStore) -> str:
    """The `source` of this store's events (module docstring); its chain must hold a
    record, as any store with an entry or an alert does."""
    first = store.chain_link(1)
    if first is None:
        raise ValueError("the store's chain has no record at position 1: no events to source")
    return f"urn:sla-ledger:{first[0]}"


def attributes(event: LedgerEvent, source: str) -> dict[str, str]:
    """The event's CloudEvents context attributes, `datacontenttype` included."""
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": source,
        "type": event.type,
        "time": format_utc_micro(event.time),
        "subject": event.subject,
        "datacontenttype": CONTENT_TYPE,
    }


def kafka_headers(event: LedgerEvent, source: str) -> list[tuple[str, bytes]]:
    """Binary mode on Kafka: the record's own headers (its id and kind), then each
    attribute as a `ce_` header, except the content type, which is the `content-type`
    header (CloudEvents Kafka protocol binding §3.2)."""
    ce = [
        ("content-type" if name == "datacontenttype" else f"ce_{name}", value.encode())
        for name, value in attributes(event, source).items()
    ]
    return [(name, value.encode()) for name, value in event.headers] + sorted(ce)


def structured(event: LedgerEvent, source: str) -> dict[str, Any]:
    """Structured mode: the attributes and the record's document as `data`."""
    return {**attributes(event, source), "data": event.data}


Page = list[tuple[int, LedgerEvent]]  # (position in its feed, event), in feed order


@dataclass(frozen=True)
class Feed:
    """One kind of record as an ordered outbox: `page(store, after, limit)` the events
    after a position, `position_of(store, id)` where a record's id is in it."""

    name: str
    types: frozenset[str]
    page: Callable[[StoreReads, int, int], Page]
    position_of: Callable[[StoreReads, str], int | None]
    count_after: Callable[[StoreReads, int], int]


CREDITS = Feed(
    "credits",
    frozenset(CREDIT_TYPES.values()),
    lambda store, after, limit: [(s, entry_event(e)) for s, e in store.entries_after(after, limit)],
    lambda store, entry_id: store.entry_seq(entry_id),
    lambda store, after: store.entries_count_after(after),
)
ALERTS = Feed(
    "alerts",
    frozenset({ALERT_TYPE}),
    lambda store, after, limit: [(p, alert_event(a)) for p, a in store.alerts_after(after, limit)],
    lambda store, alert_id: store.alert_position(alert_id),
    lambda store, after: store.alerts_count_after(after),
)
FEEDS = (CREDITS, ALERTS)
