"""Outages and maintenance windows, folded from their events (spec: sla-math §2).

Each subject's events apply in `occurred_at` order, ties by `event_id`; a retraction is
final (a false alarm never counts again, whatever arrives after it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ledger.events import InboundEvent
from ledger.periods import to_us
from ledger.timeformat import parse_utc


def _us(text: str) -> int:
    return to_us(parse_utc(text))


def names_customer(customer_ids: frozenset[str] | None, customer_id: str) -> bool:
    """Whether an outage or maintenance window scoped to `customer_ids` concerns the
    customer: every customer of the service (None), or the customer among those named."""
    return customer_ids is None or customer_id in customer_ids


@dataclass(frozen=True, slots=True)
class OutageState:
    outage_id: str
    service_id: str | None
    start_us: int | None
    end_us: int | None  # None: ongoing, extends to the horizon
    impact_percent: Decimal
    customer_ids: frozenset[str] | None  # None: every customer of the service
    retracted: bool
    cause: str | None
    event_ids: tuple[str, ...]

    def names_customer(self, customer_id: str) -> bool:
        return names_customer(self.customer_ids, customer_id)

    def end_at(self, horizon_us: int) -> int:
        """Its end: an ongoing outage ends at the horizon."""
        return self.end_us if self.end_us is not None else horizon_us

    def interval(self, horizon_us: int) -> tuple[int, int] | None:
        """`[start, end)` (see `end_at`); None if empty."""
        if self.start_us is None:
            return None
        end = self.end_at(horizon_us)
        return (self.start_us, end) if end > self.start_us else None


def fold_outage(events: Iterable[InboundEvent]) -> OutageState:
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    service_id: str | None = None
    start: int | None = None
    end: int | None = None
    impact = Decimal(100)
    customers: frozenset[str] | None = None
    retracted = False
    cause: str | None = None
    for event in ordered:
        p = event.payload
        if event.type == "outage.started":
            service_id = p["service_id"]
            start = _us(p["started_at"])
            impact = Decimal(p["impact_percent"])
            ids = p.get("customer_ids")
            customers = None if ids is None else frozenset(ids)
        elif event.type == "outage.resolved":
            end = _us(p["ended_at"])
        elif event.type == "outage.amended":
            if p.get("started_at") is not None:
                start = _us(p["started_at"])
            if p.get("ended_at") is not None:
                end = _us(p["ended_at"])
            if p.get("impact_percent") is not None:
                impact = Decimal(p["impact_percent"])
        elif event.type == "outage.retracted":
            retracted = True
        elif event.type == "outage.classified":
            cause = p["cause"]
    return OutageState(
        outage_id=ordered[0].subject_id if ordered else "",
        service_id=service_id,
        start_us=start,
        end_us=end,
        impact_percent=impact,
        customer_ids=customers,
        retracted=retracted,
        cause=cause,
        event_ids=tuple(sorted(e.event_id for e in ordered)),
    )


@dataclass(frozen=True, slots=True)
class MaintenanceState:
    maintenance_id: str
    service_id: str | None
    start_us: int | None
    end_us: int | None
    announced_us: int | None  # `occurred_at` of the announcement in force
    customer_ids: frozenset[str] | None
    cancelled: bool
    event_ids: tuple[str, ...]

    def applies_to(self, service_id: str, customer_id: str) -> bool:
        return not self.cancelled and self.would_apply_to(service_id, customer_id)

    def would_apply_to(self, service_id: str, customer_id: str) -> bool:
        """Applies, or would but for a cancellation."""
        return (
            self.service_id == service_id
            and self.start_us is not None
            and names_customer(self.customer_ids, customer_id)
        )

    def notice_us(self) -> int | None:
        if self.start_us is None or self.announced_us is None:
            return None
        return self.start_us - self.announced_us


def fold_maintenance(events: Iterable[InboundEvent]) -> MaintenanceState:
    """A later `maintenance.scheduled` reschedules (its `occurred_at` is the new notice);
    a cancellation holds until a later scheduling revives the window."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    service_id: str | None = None
    start = end = announced = None
    customers: frozenset[str] | None = None
    cancelled = False
    for event in ordered:
        p = event.payload
        if event.type == "maintenance.scheduled":
            service_id = p["service_id"]
            start, end = _us(p["starts_at"]), _us(p["ends_at"])
            announced = to_us(event.occurred_at)
            ids = p.get("customer_ids")
            customers = None if ids is None else frozenset(ids)
            cancelled = False
        elif event.type == "maintenance.cancelled":
            cancelled = True
    return MaintenanceState(
        maintenance_id=ordered[0].subject_id if ordered else "",
        service_id=service_id,
        start_us=start,
        end_us=end,
        announced_us=announced,
        customer_ids=customers,
        cancelled=cancelled,
        event_ids=tuple(sorted(e.event_id for e in ordered)),
    )
