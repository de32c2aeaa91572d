"""Where each incident counts, and why an incident counts nowhere (yet).

An incident is placed on the row (contract, service, period of its `opened_at` in the
contract's timezone) when that row exists and its terms have response targets for the
incident's priority. Anything else is *unplaced*, with the reason; nothing is silently
ignored, and an unplaced incident counts as soon as the missing event arrives (the
placement is recomputed from the events every time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.attainment import coverage, terms_in_force
from ledger.business_time import calendar_for
from ledger.contracts import ContractState
from ledger.incidents import (
    IncidentState,
    fold_incident,
    judge,
    judge_resolution,
    period_of,
    priority_used,
)
from ledger.timeformat import format_utc
from projections.attainment import load_contracts
from projections.store import StoreReads


@dataclass(frozen=True)
class Placement:
    incident: IncidentState
    period: str | None
    priority: str | None
    status: str | None  # met / missed / pending when placed
    unplaced_reason: str | None
    # sla-math §11: met / missed / pending where the terms set a resolution target for
    # the priority used at the resolution; None otherwise.
    resolution_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        i = self.incident
        return {
            "incident_id": i.incident_id,
            "contract_id": i.contract_id,
            "service_id": i.service_id,
            "period": self.period,
            "opened_at": None if i.opened_at is None else format_utc(i.opened_at),
            "first_response_at": None
            if i.first_response_at is None
            else format_utc(i.first_response_at),
            "priority": self.priority,
            "status": self.status,
            "placed": self.unplaced_reason is None,
            "unplaced_reason": self.unplaced_reason,
            "resolved_at": None if i.resolved_at is None else format_utc(i.resolved_at),
            "resolution_status": self.resolution_status,
            "event_ids": list(i.event_ids),
        }


def place(
    incident: IncidentState, contracts: dict[str, ContractState], horizon: datetime
) -> Placement:
    """The row an incident counts on and its status there, judged as the row's
    computation judges it (`judge`); or why it counts nowhere."""
    priority = priority_used(incident)

    def unplaced(reason: str, period: str | None = None) -> Placement:
        return Placement(incident, period, priority, None, reason)

    if incident.opened_at is None or incident.contract_id is None:
        return unplaced("no incident.opened recorded yet")
    contract = contracts.get(incident.contract_id)
    if contract is None:
        return unplaced(
            f"contract {incident.contract_id} is not known (no contract.signed recorded)"
        )
    period = period_of(incident, contract.timezone)
    assert period is not None  # opened_at is set
    cover = coverage(contract, period)
    if cover.covered is None:
        return unplaced(
            f"contract {contract.contract_id} has no coverage in {period.label}", period.label
        )
    terms = terms_in_force(contract, cover)
    service = (
        None
        if terms is None
        else next((s for s in terms.services if s.service_id == incident.service_id), None)
    )
    if terms is None or service is None:
        return unplaced(
            f"service {incident.service_id} is not in contract "
            f"{contract.contract_id}'s terms for {period.label}",
            period.label,
        )
    if service.incident_response is None:
        return unplaced(
            f"service {incident.service_id} has no incident response terms in {period.label}",
            period.label,
        )
    response = service.incident_response
    calendar = calendar_for(contract.timezone, response.business_hours)
    judgement = judge(incident, response.targets, calendar, horizon)
    status = None if judgement is None else judgement.status
    if status is None:
        return unplaced(
            f"no response target for priority {priority} in the terms of {period.label}",
            period.label,
        )
    resolution = (
        None
        if response.resolution_targets is None
        else judge_resolution(incident, response.resolution_targets, calendar, horizon)
    )
    resolved = None if resolution is None else resolution.status
    return Placement(incident, period.label, priority, status, None, resolved)


def incident_placements(
    store: StoreReads, horizon: datetime, recorded_by_us: int | None
) -> list[Placement]:
    """Every incident placed as of `horizon`, from the contracts and incidents recorded
    by `recorded_by_us` (None: every record), by incident id."""
    contracts = {c.contract_id: c for c in load_contracts(store, recorded_by_us)}
    grouped: dict[str, list[Any]] = defaultdict(list)
    for recorded in store.events_of_kind("incident", recorded_by_us):
        grouped[recorded.event.subject_id].append(recorded.event)
    placements = [place(fold_incident(events), contracts, horizon) for events in grouped.values()]
    return sorted(placements, key=lambda p: p.incident.incident_id)
