"""A period's rows from its events: the fold and the computation, with no store.

`projections.attainment` reads the events from the store and hands them here; the
offline check of an audit bundle hands the bundle's events here. Both get the same rows
from the same events, to the byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from ledger.attainment import Coverage, Row, compute_row, period_coverages, row_status
from ledger.claims import ClaimState, apply_claims, fold_claim
from ledger.contracts import ContractState, fold_contract
from ledger.events import InboundEvent, RecordedEvent
from ledger.exposure import expose
from ledger.incidents import IncidentState, fold_incident
from ledger.outages import MaintenanceState, OutageState, fold_maintenance, fold_outage
from ledger.periods import Period

S = TypeVar("S")


def by_subject(events: Iterable[RecordedEvent]) -> dict[str, list[InboundEvent]]:
    grouped: dict[str, list[InboundEvent]] = defaultdict(list)
    for recorded in events:
        grouped[recorded.event.subject_id].append(recorded.event)
    return grouped


def fold_contracts(events: Iterable[RecordedEvent]) -> list[ContractState]:
    contracts = []
    for subject_events in by_subject(events).values():
        state = fold_contract(subject_events)
        if state is not None:
            contracts.append(state)
    return sorted(contracts, key=lambda c: c.contract_id)


class SubjectIndex(Generic[S]):
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
class PeriodInputs:
    """Everything a period's rows are computed from, folded, plus the events behind it.

    `rows` computes the report's rows from these; `explain` derives one row from the
    very same inputs, so the two can never disagree.
    """

    period: Period
    horizon_us: int
    contracts: list[ContractState]
    outages: SubjectIndex[OutageState]
    maintenances: SubjectIndex[MaintenanceState]
    incidents_by_contract: dict[str, list[IncidentState]]
    closed_at: datetime | None
    # (subject kind, subject id) -> its recorded events, for derivations that show history
    events: dict[tuple[str, str], list[RecordedEvent]]
    # contract -> the claims naming it (sla-math §10), whatever row they name
    claims_by_contract: dict[str, list[ClaimState]] = field(default_factory=dict)

    def subjects_for(
        self, contract: ContractState
    ) -> tuple[list[OutageState], list[MaintenanceState], list[IncidentState]]:
        """The outages, maintenance windows and incidents `compute_rows` gets for `contract`."""
        services = {s.service_id for v in contract.versions for s in v.services}
        return (
            self.outages.relevant(services, contract.customer_id),
            self.maintenances.relevant(services, contract.customer_id),
            self.incidents_by_contract.get(contract.contract_id, []),
        )

    def claims_for(self, contract: ContractState) -> list[ClaimState]:
        """The claims naming `contract` (`settle` picks each row's own)."""
        return self.claims_by_contract.get(contract.contract_id, [])

    def rows(self) -> list[Row]:
        """Every row of the period, sorted by contract then service, with its status."""
        rows: list[Row] = []
        for contract in self.contracts:
            rows += contract_rows(
                contract,
                self.period,
                *self.subjects_for(contract),
                self.horizon_us,
                self.closed_at,
                self.claims_for(contract),
            )
        rows.sort(key=lambda r: (r.contract.contract_id, r.service.service_id))
        return rows


def contract_rows(
    contract: ContractState,
    period: Period,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    incidents: Sequence[IncidentState],
    horizon_us: int,
    closed_at: datetime | None,
    claims: Sequence[ClaimState] = (),
) -> list[Row]:
    """One contract's rows of `period` with their status, claim status and payable
    amount and, while provisional, their exposure (spec: sla-math §8, §10)."""
    rows = []
    for terms, service, cover in period_coverages(contract, period):
        row = compute_row(
            contract, terms, service, period, cover, outages, maintenances, incidents, horizon_us
        )
        settle(row, cover, outages, maintenances, horizon_us, closed_at, claims)
        rows.append(row)
    return rows


def settle(
    row: Row,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
    closed_at: datetime | None,
    claims: Sequence[ClaimState] = (),
) -> None:
    """A computed row's status, its claim status and payable amount (§10, from the
    claims of its contract: those naming the row count) and, while it is provisional,
    its exposure (spec: §6, §8): what the report and `explain` both show."""
    row.status = row_status(closed_at)
    apply_claims(row, cover.window[1], claims, horizon_us)
    if row.status == "provisional":
        row.exposure = expose(row, cover, outages, maintenances, horizon_us)


def fold_period(
    period: Period,
    horizon_us: int,
    contracts: list[ContractState],
    subject_events: Sequence[RecordedEvent],
    closed_at: datetime | None,
) -> PeriodInputs:
    """Fold the outages, maintenance windows and incidents among `subject_events`."""
    # Each subject's events, subjects in the order they first appear (as `by_subject`
    # of each kind's events gives them): one look at each event's kind and subject.
    events: dict[tuple[str, str], list[RecordedEvent]] = defaultdict(list)
    for recorded in subject_events:
        event = recorded.event
        events[(event.subject_kind, event.subject_id)].append(recorded)

    def of_kind(kind: str) -> Iterator[list[InboundEvent]]:
        for (subject_kind, _), recorded_events in events.items():
            if subject_kind == kind:
                yield [recorded.event for recorded in recorded_events]

    outage_index = SubjectIndex[OutageState]()
    for evs in of_kind("outage"):
        outage = fold_outage(evs)
        outage_index.add(outage.service_id, outage.customer_ids, outage)
    maintenance_index = SubjectIndex[MaintenanceState]()
    for evs in of_kind("maintenance"):
        window = fold_maintenance(evs)
        maintenance_index.add(window.service_id, window.customer_ids, window)
    incidents_by_contract: dict[str, list[IncidentState]] = defaultdict(list)
    for evs in of_kind("incident"):
        incident = fold_incident(evs)
        if incident.contract_id is not None:
            incidents_by_contract[incident.contract_id].append(incident)
    claims_by_contract: dict[str, list[ClaimState]] = defaultdict(list)
    for evs in of_kind("claim"):
        claim = fold_claim(evs)
        if claim.contract_id is not None:
            claims_by_contract[claim.contract_id].append(claim)
    return PeriodInputs(
        period=period,
        horizon_us=horizon_us,
        contracts=contracts,
        outages=outage_index,
        maintenances=maintenance_index,
        incidents_by_contract=dict(incidents_by_contract),
        closed_at=closed_at,
        events=dict(events),
        claims_by_contract=dict(claims_by_contract),
    )
