"""The full derivation of one report row: what `sla-ledger explain` shows.

Dispute handlers and auditors know SLA contracts, not this code. For one (contract,
service, period) this module lays out every step from events to money: the terms in
force, each outage as first reported, as corrected, as clipped to the measured range and
what was excluded and why, each maintenance window with the notice it was given, the
down intervals and the floor, the exact arithmetic, the tiers, the incidents, the fee
pro-rating and the rounding. Every fact names the event ids it comes from.

It computes no figure and takes no decision of its own: the row and every step of its
derivation come from `compute_row(..., trace=True)` (the computation `report` runs, which
records what it did: `ledger.derivation`), the basis and its digest from
`ledger.credits`. This module only lays those facts out, in words (the availability part
in `availability`); the wording of quantities is `wording`'s.

Pure: no I/O, no clock. The document holds only strings, booleans, integers, None,
lists and dicts; decimals are exact strings, instants RFC 3339 UTC, lists sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger import intervals
from ledger.attainment import (
    Coverage,
    Row,
    compute_row,
    coverage,
    row_coverage,
    terms_in_force,
)
from ledger.business_time import calendar_for
from ledger.claims import ClaimState, above_threshold
from ledger.contracts import (
    AvailabilityTerms,
    ContractState,
    CreditTier,
    ResponseTerms,
    ServiceTerms,
    TermsVersion,
)
from ledger.credits import BASIS_VERSION, basis, entry_basis_sha256
from ledger.currencies import minor_units
from ledger.derivation import MoneyTrace, ResponseTrace
from ledger.errors import NotFoundError
from ledger.incidents import IncidentState, Judgement
from ledger.intervals import Interval
from ledger.money import round_half_even, to_minor_unit
from ledger.outages import MaintenanceState, OutageState
from ledger.period_rows import settle
from ledger.periods import Period, to_us
from ledger.row_key import RowKey
from ledger.timeformat import exact_seconds, format_utc, to_microseconds
from projections.queries.explain.availability import availability_facts
from projections.queries.explain.histories import Histories, subject_history
from projections.queries.explain.resolution import resolution_clauses, resolution_facts
from projections.queries.explain.wording import (
    business_hours_text,
    digits,
    duration_exact,
    duration_text,
    ids,
    instant,
    interval_shown,
    local_range_text,
    local_text,
    money_value,
    percent_value,
    seconds_text,
    target_verdict,
    tier_facts,
)

# Bumped when a field changes meaning; fields may be added without a bump.
EXPLAIN_FORMAT = 1


class RowNotFoundError(NotFoundError):
    """The asked row does not exist: unknown contract, no coverage, service not in terms."""


@dataclass(frozen=True, slots=True)
class RowLocation:
    """Where a row's terms come from: its coverage and the terms version in force."""

    cover: Coverage
    terms: TermsVersion
    service: ServiceTerms


def locate(
    contract: ContractState | None, contract_id: str, service_id: str, period: Period
) -> RowLocation:
    """The coverage, terms and service of a row, as `compute_rows` finds them (§1).

    Raises `RowNotFoundError` naming what is missing, in one line.
    """
    if contract is None:
        raise RowNotFoundError(f"contract {contract_id} is not known (no contract.signed recorded)")
    cover = row_coverage(contract, period, service_id)
    if cover.covered is None:
        if period.is_year and coverage(contract, period).covered is not None:
            raise RowNotFoundError(
                f"contract {contract_id} has no annual row for service {service_id} in "
                f"{period.label}: no month of it is measured yearly for that service"
            )
        raise RowNotFoundError(f"contract {contract_id} has no coverage in {period.label}")
    terms = terms_in_force(contract, cover)
    if terms is None:
        first_day = cover.first_day(contract.timezone)
        raise RowNotFoundError(
            f"contract {contract_id} has no terms in force on {first_day.isoformat()}"
        )
    service = next((s for s in terms.services if s.service_id == service_id), None)
    if service is None:
        known = ", ".join(s.service_id for s in terms.services) or "none"
        raise RowNotFoundError(
            f"service {service_id} is not in contract {contract_id}'s terms for "
            f"{period.label} (terms version {terms.version} has: {known})"
        )
    return RowLocation(cover, terms, service)


# -- contract and terms --------------------------------------------------------------


def _tiers(tiers: Sequence[CreditTier]) -> list[dict[str, str]]:
    return [
        {"below_percent": str(t.below_percent), "credit_percent": str(t.credit_percent)}
        for t in tiers
    ]


def _availability_clauses(terms: AvailabilityTerms) -> dict[str, Any]:
    return {
        "target_percent": str(terms.target_percent),
        "credit_tiers": _tiers(terms.credit_tiers),
        "excluded_causes": sorted(terms.excluded_causes),
        "maintenance_notice_seconds": None
        if terms.maintenance_notice_us is None
        else exact_seconds(terms.maintenance_notice_us),
        "min_downtime_seconds": exact_seconds(terms.min_downtime_us),
        # Said only when yearly (sla-math §9), as the terms themselves say it.
        **({"window": terms.window} if terms.yearly else {}),
    }


def _response_clauses(terms: ResponseTerms) -> dict[str, Any]:
    return {
        "targets_seconds": {
            priority: exact_seconds(to_microseconds(target))
            for priority, target in sorted(terms.targets.items())
        },
        "business_hours": terms.business_hours,
        "credit_tiers": _tiers(terms.credit_tiers),
        "resolution": resolution_clauses(terms),
    }


def contract_facts(contract: ContractState) -> dict[str, Any]:
    return {
        "contract_id": contract.contract_id,
        "customer_id": contract.customer_id,
        "customer_name": contract.customer_name,
        "currency": contract.currency,
        "timezone": contract.timezone,
        "remedy": contract.remedy,
        "effective_from": contract.effective_from.isoformat(),
        "effective_to": None
        if contract.effective_to is None
        else contract.effective_to.isoformat(),
        "event_ids": ids(contract.event_ids),
    }


def terms_facts(terms: TermsVersion, service: ServiceTerms, first_day: date) -> dict[str, Any]:
    kind = "the signing" if terms.version == 1 else f"amendment {terms.version - 1}"
    return {
        "version": terms.version,
        "effective_from": terms.effective_from.isoformat(),
        "occurred_at": format_utc(terms.occurred_at),
        "reason": f"version {terms.version} ({kind}) has the greatest effective_from "
        f"({terms.effective_from.isoformat()}) on or before the first covered day "
        f"({first_day.isoformat()})",
        "service": {
            "service_id": service.service_id,
            "monthly_fee": str(service.monthly_fee_major),
            "credit_cap_percent": str(service.credit_cap_percent),
            "availability": None
            if service.availability is None
            else _availability_clauses(service.availability),
            "incident_response": None
            if service.incident_response is None
            else _response_clauses(service.incident_response),
        },
        "event_ids": [terms.event_id],
    }


def coverage_facts(
    contract: ContractState,
    cover: Coverage,
    measured_range: Sequence[Interval],
    horizon_us: int,
) -> dict[str, Any]:
    assert cover.covered is not None
    window, covered = cover.window, cover.covered
    parts = list(cover.parts)
    if cover.months:
        labels = ", ".join(m.period.label for m in cover.months)
        reason = (
            "an annual row covers the covered parts of the months of its year measured "
            f"yearly for its service (sla-math §9): {labels}"
        )
    elif covered == window:
        reason = "the contract covers the whole month"
    else:
        reason = (
            f"the contract is in effect from {contract.effective_from.isoformat()}"
            + ("" if contract.effective_to is None else f" to {contract.effective_to.isoformat()}")
            + f" ({contract.timezone}), so only part of the month is covered"
        )
    if not measured_range:
        measured_note = "the horizon is before the covered period: nothing is measured yet"
    elif list(measured_range) != parts:
        measured_note = "the horizon falls inside the period: measurement stops at the horizon"
    else:
        measured_note = "the whole covered period is measured"
    return {
        "timezone": contract.timezone,
        "window": interval_shown(*window),
        "covered": interval_shown(*covered),
        "pro_rated": cover.covered_us != window[1] - window[0],
        "reason": reason,
        **(
            {
                # An annual row's coverage may have gaps (months measured monthly): its
                # parts, and what they and the measured range hold in all (sla-math §9).
                "covered_parts": [interval_shown(*part) for part in parts],
                "covered_seconds": exact_seconds(cover.covered_us),
                "months_measured_yearly": [m.period.label for m in cover.months],
                "measured_parts": [interval_shown(*part) for part in measured_range],
                "measured_seconds": exact_seconds(intervals.total(measured_range)),
            }
            if cover.months
            else {}
        ),
        "horizon": instant(horizon_us),
        "measured_range": interval_shown(*measured_range[0]) if measured_range else None,
        "measured_range_reason": measured_note,
        "event_ids": ids(contract.event_ids),
    }


# -- incident response ---------------------------------------------------------------


def _response_event(state: IncidentState, histories: Histories) -> str | None:
    if state.first_response_at is None:
        return None
    stamp = format_utc(state.first_response_at)
    found = [
        r.event.event_id
        for r in subject_history(histories, "incident", state.incident_id)
        if r.event.type == "incident.responded" and r.event.payload["responded_at"] == stamp
    ]
    return found[0] if found else None


def _local_piece(piece: Interval, timezone: str) -> dict[str, str]:
    return {
        **interval_shown(*piece),
        "local": local_range_text(piece[0], piece[1], timezone),
    }


def _target_at(judgement: Judgement, terms: ResponseTerms, timezone: str) -> int | None:
    """The deadline of an incident's first response, in microseconds: the last instant at
    which business time since it opened has not passed the target, so a first response
    then is still met, and one microsecond later an unanswered incident is missed.

    The moment `BusinessCalendar.first_instant_over` finds (the rule `tally` uses for
    when a pending incident turns missed, over the computation's own calendar), one
    microsecond earlier. None when the priority has no target or the business hours
    never reach it (a schedule without any business hours).
    """
    if judgement.target_us is None:
        return None
    calendar = calendar_for(timezone, terms.business_hours)
    missed_at = calendar.first_instant_over(judgement.opened_at, judgement.target_us)
    return None if missed_at is None else to_us(missed_at) - 1


def incident_facts(
    judgement: Judgement, terms: ResponseTerms, timezone: str, histories: Histories
) -> dict[str, Any]:
    """One incident as the computation judged it: priority, target, business time."""
    state, setting, priority = judgement.incident, judgement.setting, judgement.priority
    target_us, status, responded = judgement.target_us, judgement.status, judgement.responded
    until, taken = judgement.measured_to, judgement.business_us
    took = duration_exact(taken)
    if responded:
        elapsed = f"the first response came after {took} of business time"
    else:
        elapsed = f"no response yet: {took} of business time had passed by the horizon"
    if target_us is None:
        verdict = f"not counted: priority {priority} has no response target in the terms"
    else:
        limit = f"the {priority} target of {duration_exact(target_us)}"
        verdict = target_verdict(status, elapsed, taken, target_us, limit, "the first response")
    # Kept word for word from format 1 (a field's meaning does not change without a bump).
    if target_us is None:
        reason = f"priority {priority} has no response target in the terms: not counted"
    else:
        limit_text, took_text = duration_text(target_us), duration_text(taken)
        if responded:
            reason = (
                f"first response after {took_text} of business time, target {limit_text}: {status}"
            )
        else:
            reason = (
                f"no response yet; {took_text} of business time has passed by the horizon, "
                f"target {limit_text}: {status}"
            )
    until_us = to_us(until)
    deadline = _target_at(judgement, terms, timezone)
    return {
        "incident_id": state.incident_id,
        "opened_at": format_utc(judgement.opened_at),
        "opened_at_local": local_text(to_us(judgement.opened_at), timezone),
        "priority_used": priority,
        "priority_set_by": None if setting is None else setting.event_id,
        "target_seconds": None if target_us is None else exact_seconds(target_us),
        "target_text": None if target_us is None else duration_exact(target_us),
        "target_at": None if deadline is None else instant(deadline),
        "target_at_local": None if deadline is None else local_text(deadline, timezone),
        "first_response_at": None if not responded else format_utc(until),
        "first_response_at_local": None if not responded else local_text(until_us, timezone),
        "first_response_event_id": _response_event(state, histories),
        "business_seconds": exact_seconds(taken),
        "business_text": took,
        "measured_to": "first response" if responded else "horizon",
        "measured_to_at": format_utc(until),
        "measured_to_local": local_text(until_us, timezone),
        "business_intervals": [_local_piece(p, timezone) for p in judgement.business_pieces],
        "resolved_at": None if state.resolved_at is None else format_utc(state.resolved_at),
        "status": status,
        "reason": reason,
        "verdict": verdict,
        "event_ids": ids(state.event_ids),
    }


def response_facts(
    row: Row, terms: ResponseTerms, trace: ResponseTrace, histories: Histories
) -> dict[str, Any]:
    """§4 incident by incident, as the computation judged them."""
    timezone = row.contract.timezone
    judgements = sorted(trace.judgements, key=lambda j: (j.opened_at, j.incident.incident_id))
    facts = [incident_facts(j, terms, timezone, histories) for j in judgements]
    figures = trace.figures
    counts = {"met": figures.met, "missed": figures.missed, "pending": figures.pending}
    judged = counts["met"] + counts["missed"]
    attainment = figures.attainment_percent
    return {
        "business_hours": terms.business_hours,
        "business_hours_text": business_hours_text(terms.business_hours, row.contract.timezone),
        "timezone": row.contract.timezone,
        "incidents": facts,
        "met": counts["met"],
        "missed": counts["missed"],
        "pending": counts["pending"],
        "not_counted": sum(1 for f in facts if f["status"] is None),
        "attainment_percent": None if attainment is None else percent_value(attainment),
        "arithmetic": "no incident was met or missed: attainment is undefined and earns no credit"
        if attainment is None
        else f"attainment = 100 × met / (met + missed) = 100 × {counts['met']} / {judged} = "
        f"{digits(attainment)}% (shown as {round_half_even(attainment, 4)}%)",
        "tier": tier_facts(trace.tier, "response attainment"),
        "credit_percent": str(row.response_credit_percent),
        "event_ids": ids(*(f["event_ids"] for f in facts)),
    }


# -- money ---------------------------------------------------------------------------


def money_facts(row: Row, money: MoneyTrace, cover: Coverage | None = None) -> dict[str, Any]:
    """§5: the credit percent and its cap, fee pro-rating, and the one rounding; an
    annual row's fee basis summed over its months (§9)."""
    currency = row.contract.currency
    places = minor_units(currency)
    fee_basis, amount = money.fee_basis_major, money.owed_major
    summed, cap, percent = money.summed_percent, money.cap_percent, money.credit_percent
    rounding = f"half-up to {places} decimal places, the minor unit of {currency}"
    response = row.service.incident_response
    # The resolution credit is named only where the terms set resolution targets (§11).
    resolution = (
        ""
        if response is None or response.resolution_targets is None
        else f" + {row.resolution_credit_percent}%"
    )
    return {
        "currency": currency,
        "minor_units": places,
        "rounding": rounding,
        "availability_credit_percent": str(row.availability_credit_percent),
        "response_credit_percent": str(row.response_credit_percent),
        "resolution_credit_percent": str(row.resolution_credit_percent),
        "sum_percent": str(summed),
        "cap_percent": str(cap),
        "capped": summed > cap,
        "credit_percent": str(percent),
        "arithmetic_percent": f"credit = min({row.availability_credit_percent}%, cap {cap}%) "
        f"= {percent}% (an annual row earns the availability credit only, sla-math §9)"
        if row.period.is_year
        else f"credit = min({row.availability_credit_percent}% + "
        f"{row.response_credit_percent}%{resolution} = {summed}%, cap {cap}%) = {percent}%",
        "monthly_fee": str(row.service.monthly_fee_major),
        "fee_basis": money_value(fee_basis, currency),
        "arithmetic_fee_basis": (
            f"fee basis = {row.service.monthly_fee_major} {currency} × covered "
            f"{seconds_text(row.covered_us)} / window {seconds_text(row.window_us)}"
            if cover is None or not cover.months
            else "fee basis = Σ over the months measured yearly of monthly fee × covered / "
            "window: "
            + " + ".join(
                f"{m.service.monthly_fee_major} × {seconds_text(m.cover.covered_us)} / "
                f"{seconds_text(m.cover.window[1] - m.cover.window[0])} ({m.period.label})"
                for m in cover.months
            )
        )
        + f" = {digits(fee_basis)} → {to_minor_unit(fee_basis, currency)} {currency}",
        "credit_amount": money_value(amount, currency),
        "arithmetic_amount": f"credit amount = {digits(fee_basis)} {currency} × {percent}% = "
        f"{digits(amount)} → {money.credit_amount_major} {currency} ({rounding}; computed from "
        "the unrounded fee basis)",
    }


# -- the whole derivation ------------------------------------------------------------


def explain_row(
    contract: ContractState,
    location: RowLocation,
    period: Period,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    incidents: Sequence[IncidentState],
    horizon_us: int,
    *,
    histories: Histories,
    closed_at: datetime | None = None,
    claims: Sequence[ClaimState] = (),
) -> dict[str, Any]:
    """The derivation of one row from exactly the inputs `compute_row` gets.

    The result holds the row as `report` shows it, its basis and `basis_sha256`, and
    every step in between. Entries are added by the caller (they live in the store).
    """
    cover, terms, service = location.cover, location.terms, location.service
    assert cover.covered is not None
    row = compute_row(
        contract,
        terms,
        service,
        period,
        cover,
        outages,
        maintenances,
        incidents,
        horizon_us,
        trace=True,
    )
    derivation = row.trace
    assert derivation is not None
    settle(row, cover, outages, maintenances, horizon_us, closed_at, claims)
    first_day = cover.first_day(contract.timezone)
    return {
        "explain_format": EXPLAIN_FORMAT,
        "contract_id": contract.contract_id,
        "service_id": service.service_id,
        "period": period.label,
        "as_of": instant(horizon_us),
        "status": row.status,
        "closed_at": None if closed_at is None else format_utc(closed_at),
        "contract": contract_facts(contract),
        "terms": terms_facts(terms, service, first_day),
        "coverage": coverage_facts(contract, cover, derivation.measured_range, horizon_us),
        "availability": None
        if row.availability_terms is None or derivation.availability is None
        else availability_facts(
            row,
            row.availability_terms,
            derivation.availability,
            maintenances,
            horizon_us,
            histories,
            cover.covered[1],
        ),
        "incident_response": None
        if service.incident_response is None or derivation.response is None
        else response_facts(row, service.incident_response, derivation.response, histories),
        "incident_resolution": None
        if service.incident_response is None or derivation.resolution is None
        else resolution_facts(row, service.incident_response, derivation.resolution),
        "money": money_facts(row, derivation.money, cover),
        "exposure": None if row.exposure is None else row.exposure.derivation(),
        "claims": claim_facts(row),
        "row": row.as_dict(),
        **basis_facts(row.key, row),
    }


def claim_facts(row: Row) -> dict[str, Any]:
    """§10 for the row: its claim terms, its deadline (null: no claim needed), its claim
    status and payable amount, and each claim naming it with whether it counts."""
    service, deadline = row.service, row.claim_deadline_us
    threshold = service.credit_threshold_amount
    return {
        "claim_deadline_days": service.claim_deadline_days,
        "credit_threshold_amount": None if threshold is None else str(threshold),
        "deadline": None if deadline is None else instant(deadline),
        "claim_status": row.claim_status,
        "credit_amount": str(row.credit_amount_major),
        "above_threshold": above_threshold(row.credit_amount_major, threshold),
        "payable_amount": str(row.payable_major),
        "claims": [
            {**claim.as_dict(), "counts": None if deadline is None else claim.counts(deadline)}
            for claim in row.claims
        ],
    }


def basis_facts(key: RowKey, row: Row | None, version: int = BASIS_VERSION) -> dict[str, Any]:
    """The basis a credit entry of row `key` is computed from under basis `version`, and
    its digest (`ledger.credits.entry_basis_sha256`): what `basis_sha256` on an entry
    proves. A row that no longer exists has no basis, only the vanished digest."""
    return {
        "basis": None if row is None else basis(row, version),
        "basis_sha256": entry_basis_sha256(key, row, version),
    }
