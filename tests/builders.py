"""Envelope builders for tests: the same shapes producers send (spec: events.md)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from benchmarks.history_growth import Month, Plan, correction_lines, month_lines
from ledger.attainment import Row
from ledger.contracts import fold_contract
from ledger.events import InboundEvent
from ledger.incidents import fold_incident
from ledger.outages import fold_maintenance, fold_outage
from ledger.period_rows import contract_rows
from ledger.periods import Period

TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
    {"below_percent": "95.0", "credit_percent": "100"},
]
OFFICE_HOURS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# An alert's fields as `alerts` lists them (outputs.md "Additions", in its order, with
# the currency the amounts are in): written out here rather than read from the code, so
# that a field moved or lost fails the tests that compare with it.
ALERT_LISTED = [
    "alert_id",
    "kind",
    "threshold",
    "contract_id",
    "customer_id",
    "service_id",
    "period",
    "observed",
    "downtime_left_seconds",
    "credit_at_risk",
    "currency",
    "recorded_at",
]


def ev(
    kind: str, occurred_at: str, payload: dict[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": kind,
        "schema_version": 1,
        "occurred_at": occurred_at,
        "source": "tests",
        "payload": payload,
    }


def service(
    service_id: str = "crm",
    fee: str = "1000.00",
    target: str = "99.9",
    tiers: list[dict[str, str]] | None = None,
    notice: str | None = "PT48H",
    excluded: list[str] | None = None,
    min_downtime: int = 0,
    incident_response: dict[str, Any] | None = None,
    cap: str = "100",
    availability: bool = True,
    window: str | None = None,
) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "service_id": service_id,
        "monthly_fee": fee,
        "credit_cap_percent": cap,
    }
    if availability:
        terms["availability"] = {
            "target_percent": target,
            "credit_tiers": tiers or TIERS,
            "excluded_causes": ["customer_caused"] if excluded is None else excluded,
            "maintenance_notice": notice,
            "min_downtime_seconds": min_downtime,
        }
        if window is not None:
            terms["availability"]["window"] = window
    if incident_response is not None:
        terms["incident_response"] = incident_response
    return terms


def contract(
    contract_id: str = "C-1",
    customer_id: str = "K-1",
    tz: str = "UTC",
    effective_from: str = "2026-01-01",
    effective_to: str | None = None,
    currency: str = "USD",
    services: list[dict[str, Any]] | None = None,
    occurred_at: str = "2025-12-01T00:00:00Z",
    remedy: str = "credit",
    event_id: str | None = None,
) -> dict[str, Any]:
    return ev(
        "contract.signed",
        occurred_at,
        {
            "contract_id": contract_id,
            "customer_id": customer_id,
            "customer_name": "Example Ltd",
            "currency": currency,
            "timezone": tz,
            "remedy": remedy,
            "effective_from": effective_from,
            "effective_to": effective_to,
            "services": services or [service()],
        },
        event_id,
    )


def outage(
    oid: str,
    start: str,
    end: str | None,
    impact: str = "100",
    service_id: str = "crm",
    customers: list[str] | None = None,
) -> list[dict[str, Any]]:
    events = [
        ev(
            "outage.started",
            start,
            {
                "outage_id": oid,
                "service_id": service_id,
                "started_at": start,
                "impact_percent": impact,
                "customer_ids": customers,
            },
        )
    ]
    if end is not None:
        events.append(ev("outage.resolved", end, {"outage_id": oid, "ended_at": end}))
    return events


def incident(
    iid: str, priority: str, opened: str, responded: str | None, service_id: str = "crm"
) -> list[dict[str, Any]]:
    """An incident of C-1's service opened at `opened`, and its first response if any."""
    events = [
        ev(
            "incident.opened",
            opened,
            {
                "incident_id": iid,
                "contract_id": "C-1",
                "service_id": service_id,
                "priority": priority,
                "opened_at": opened,
            },
        )
    ]
    if responded is not None:
        events.append(
            ev("incident.responded", responded, {"incident_id": iid, "responded_at": responded})
        )
    return events


def maintenance(
    mid: str, announced: str, starts: str, ends: str, service_id: str = "crm"
) -> dict[str, Any]:
    return ev(
        "maintenance.scheduled",
        announced,
        {
            "maintenance_id": mid,
            "service_id": service_id,
            "starts_at": starts,
            "ends_at": ends,
            "customer_ids": None,
        },
    )


def period_rows(
    events: list[InboundEvent],
    period: Period,
    horizon_us: int,
    closed_at: datetime | None = None,
) -> list[Row]:
    """The rows of `period` the events give, computed as of `horizon_us` with the pure
    folds alone (no store): each subject's events folded, each contract's rows, closed
    when `closed_at` says the period was."""
    by_subject: dict[tuple[str, str], list[InboundEvent]] = defaultdict(list)
    for event in events:
        by_subject[(event.subject_kind, event.subject_id)].append(event)
    contracts = [fold_contract(v) for (k, _), v in by_subject.items() if k == "contract"]
    outages = [fold_outage(v) for (k, _), v in by_subject.items() if k == "outage"]
    windows = [fold_maintenance(v) for (k, _), v in by_subject.items() if k == "maintenance"]
    incidents = [fold_incident(v) for (k, _), v in by_subject.items() if k == "incident"]
    rows: list[Row] = []
    for state in sorted((c for c in contracts if c), key=lambda c: c.contract_id):
        rows += contract_rows(state, period, outages, windows, incidents, horizon_us, closed_at)
    return rows


def generated_history(plan: Plan) -> list[str]:
    """The lines of a whole generated history (`benchmarks.history_growth`): each month's
    events, then the late correction that follows it; the same lines for one plan."""
    months: dict[int, Month] = {}
    lines: list[str] = []
    for index in range(plan.months):
        months[index] = Month()
        lines += month_lines(plan, index, months[index])
        lines += correction_lines(plan, index, months)
    return lines


def claim_terms(*, days: int | None = 60, threshold: str | None = None) -> dict[str, Any]:
    """`service()` with the claim terms of sla-math §10: a deadline of `days` days
    (None: no claim needed) and a credit threshold (None: none)."""
    terms = service()
    terms["claim_deadline_days"] = days
    terms["credit_threshold_amount"] = threshold
    return terms


def claim_submitted(
    claim_id: str, at: str, *, period: str = "2026-03", occurred: str | None = None
) -> dict[str, Any]:
    """C-1/crm's customer claims `period`'s credit, submitted at `at` (the event occurred
    then too, unless `occurred` says otherwise)."""
    return ev(
        "claim.submitted",
        occurred or at,
        {
            "claim_id": claim_id,
            "contract_id": "C-1",
            "service_id": "crm",
            "period": period,
            "submitted_at": at,
        },
    )
