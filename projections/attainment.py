"""The attainment read model: report rows of one period, derived from the stored events.

Only the subjects whose recorded span reaches into the period are read and folded, so
the cost of a report grows with the period's activity, not with the whole history.
With `as_of`, only events and closes recorded at or before it count, and the horizon
is `as_of` (spec: sla-math §6, §7).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ledger.attainment import Row, compute_rows, coverage
from ledger.contracts import ContractState, fold_contract
from ledger.events import InboundEvent, RecordedEvent
from ledger.incidents import IncidentState, fold_incident
from ledger.outages import MaintenanceState, OutageState, fold_maintenance, fold_outage
from ledger.periods import Period, to_us
from projections.store import LedgerStore

# Timezones reach from UTC-12 to UTC+14: any window of a period lies within this margin
# of the period's UTC month, which bounds the subjects worth reading before contracts
# are known.
MARGIN_US = 15 * 3600 * 1_000_000

S = TypeVar("S")


def _by_subject(events: Sequence[RecordedEvent]) -> dict[str, list[InboundEvent]]:
    grouped: dict[str, list[InboundEvent]] = defaultdict(list)
    for recorded in events:
        grouped[recorded.event.subject_id].append(recorded.event)
    return grouped


def load_contracts(store: LedgerStore, recorded_by_us: int | None) -> list[ContractState]:
    contracts = []
    for events in _by_subject(store.events_of_kind("contract", recorded_by_us)).values():
        state = fold_contract(events)
        if state is not None:
            contracts.append(state)
    return sorted(contracts, key=lambda c: c.contract_id)


class _SubjectIndex(Generic[S]):
    """Subjects by service, split into service-wide ones and per-customer ones, so that
    a row only looks at what can apply to its customer."""

    def __init__(self) -> None:
        self.everyone: dict[str | None, list[S]] = defaultdict(list)
        self.by_customer: dict[tuple[str | None, str], list[S]] = defaultdict(list)

    def add(self, service_id: str | None, customers: frozenset[str] | None, subject: S) -> None:
        if customers is None:
            self.everyone[service_id].append(subject)
        else:
            for customer in customers:
                self.by_customer[(service_id, customer)].append(subject)

    def relevant(self, services: set[str], customer_id: str) -> list[S]:
        found: list[S] = []
        for service in sorted(services):
            found += self.everyone.get(service, [])
            found += self.by_customer.get((service, customer_id), [])
        return found


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    as_of: datetime
    rows: list[Row]
    closed_at: datetime | None


def period_report(
    store: LedgerStore, period: Period, as_of: datetime, *, recorded_filter: bool = False
) -> PeriodReport:
    """The rows of `period` with horizon `as_of`.

    `recorded_filter` restricts the inputs to what was recorded by `as_of` (a question
    about the past); without it every recorded event counts (the ledger now).
    """
    horizon_us = to_us(as_of)
    recorded_by = horizon_us if recorded_filter else None
    contracts = load_contracts(store, recorded_by)
    windows = [coverage(c, period).window for c in contracts]
    if windows:
        lo = min(w[0] for w in windows)
        hi = max(w[1] for w in windows)
    else:
        lo, hi = Period.window(period, "UTC")
        lo, hi = lo - MARGIN_US, hi + MARGIN_US
    outages = [
        fold_outage(evs)
        for evs in _by_subject(store.events_near("outage", lo, hi, recorded_by)).values()
    ]
    maintenances = [
        fold_maintenance(evs)
        for evs in _by_subject(store.events_near("maintenance", lo, hi, recorded_by)).values()
    ]
    incidents = [
        fold_incident(evs)
        for evs in _by_subject(store.events_near("incident", lo, hi, recorded_by)).values()
    ]

    outage_index = _SubjectIndex[OutageState]()
    for outage in outages:
        outage_index.add(outage.service_id, outage.customer_ids, outage)
    maintenance_index = _SubjectIndex[MaintenanceState]()
    for window in maintenances:
        maintenance_index.add(window.service_id, window.customer_ids, window)
    incidents_by_contract: dict[str, list[IncidentState]] = defaultdict(list)
    for incident in incidents:
        if incident.contract_id is not None:
            incidents_by_contract[incident.contract_id].append(incident)

    closed_at = store.closes(recorded_by).get(period.label)
    rows: list[Row] = []
    for contract in contracts:
        services = {s.service_id for v in contract.versions for s in v.services}
        contract_rows = compute_rows(
            contract,
            period,
            outage_index.relevant(services, contract.customer_id),
            maintenance_index.relevant(services, contract.customer_id),
            incidents_by_contract.get(contract.contract_id, []),
            horizon_us,
        )
        for row in contract_rows:
            row.status = "closed" if closed_at is not None else "provisional"
        rows.extend(contract_rows)
    rows.sort(key=lambda r: (r.contract.contract_id, r.service.service_id))
    return PeriodReport(period=period, as_of=as_of, rows=rows, closed_at=closed_at)
