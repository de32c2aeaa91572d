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
`ledger.credits`. This module only lays those facts out, in words; the wording of
quantities is `ledger.explain_format`'s.

Pure: no I/O, no clock. The document holds only strings, booleans, integers, None,
lists and dicts; decimals are exact strings, instants RFC 3339 UTC, lists sorted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from ledger import intervals
from ledger.attainment import (
    Coverage,
    Row,
    below,
    cause_excluded,
    compute_row,
    coverage,
    exact,
    meets_target,
    notice_sufficient,
    terms_in_force,
)
from ledger.contracts import (
    AvailabilityTerms,
    ContractState,
    CreditTier,
    ResponseTerms,
    ServiceTerms,
    TermsVersion,
)
from ledger.credits import basis, basis_sha256
from ledger.currencies import minor_units
from ledger.derivation import (
    AvailabilityTrace,
    DownRun,
    DownSegment,
    ExcludedTime,
    MoneyTrace,
    ResponseTrace,
    TierDecision,
)
from ledger.errors import LedgerError
from ledger.events import InboundEvent, RecordedEvent
from ledger.explain_format import (
    business_hours_text,
    digits,
    duration_exact,
    duration_text,
    ids,
    instant,
    local_range_text,
    local_text,
    money_value,
    percent_value,
    seconds_text,
    span,
    weight_percent,
)
from ledger.incidents import IncidentState, Judgement
from ledger.money import round_half_even, to_minor_unit
from ledger.outages import MaintenanceState, OutageState, fold_outage
from ledger.periods import Period, local_date_of, to_us
from ledger.timeformat import exact_seconds, format_utc, to_microseconds

# Bumped when a field changes meaning; fields may be added without a bump.
EXPLAIN_FORMAT = 1

# The recorded events of each subject, keyed by (subject kind, subject id): the history
# behind raw versus corrected outages and the announcement of a maintenance window.
Histories = Mapping[tuple[str, str], Sequence[RecordedEvent]]
Span = tuple[int, int]


class RowNotFoundError(LedgerError):
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
    cover = coverage(contract, period)
    if cover.covered is None:
        raise RowNotFoundError(f"contract {contract_id} has no coverage in {period.label}")
    terms = terms_in_force(contract, cover)
    if terms is None:
        first_day = local_date_of(cover.covered[0], contract.timezone)
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
    }


def _response_clauses(terms: ResponseTerms) -> dict[str, Any]:
    return {
        "targets_seconds": {
            priority: exact_seconds(to_microseconds(target))
            for priority, target in sorted(terms.targets.items())
        },
        "business_hours": terms.business_hours,
        "credit_tiers": _tiers(terms.credit_tiers),
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
            "monthly_fee": str(service.monthly_fee),
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
    contract: ContractState, cover: Coverage, measured_range: Sequence[Span], horizon_us: int
) -> dict[str, Any]:
    assert cover.covered is not None
    window, covered = cover.window, cover.covered
    if covered == window:
        reason = "the contract covers the whole month"
    else:
        reason = (
            f"the contract is in effect from {contract.effective_from.isoformat()}"
            + ("" if contract.effective_to is None else f" to {contract.effective_to.isoformat()}")
            + f" ({contract.timezone}), so only part of the month is covered"
        )
    if not measured_range:
        measured_note = "the horizon is before the covered period: nothing is measured yet"
    elif measured_range[0] != covered:
        measured_note = "the horizon falls inside the period: measurement stops at the horizon"
    else:
        measured_note = "the whole covered period is measured"
    return {
        "timezone": contract.timezone,
        "window": span(*window),
        "covered": span(*covered),
        "pro_rated": covered != window,
        "reason": reason,
        "horizon": instant(horizon_us),
        "measured_range": span(*measured_range[0]) if measured_range else None,
        "measured_range_reason": measured_note,
        "event_ids": ids(contract.event_ids),
    }


# -- maintenance and exclusions ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One source of excluded time: a noticed maintenance window or an excluded cause."""

    start: int
    end: int
    source: str  # "maintenance" or "outage"
    subject_id: str
    reason: str
    event_ids: tuple[str, ...]


def _history(histories: Histories, kind: str, subject_id: str) -> list[RecordedEvent]:
    events = histories.get((kind, subject_id), ())
    return sorted(events, key=lambda r: (r.event.occurred_at, r.event.event_id))


def _announcement_id(window: MaintenanceState, histories: Histories) -> str | None:
    """The `maintenance.scheduled` in force: the last one applied (§2 "announcement in force")."""
    scheduled = [
        r.event
        for r in _history(histories, "maintenance", window.maintenance_id)
        if r.event.type == "maintenance.scheduled"
    ]
    return scheduled[-1].event_id if scheduled else None


def maintenance_facts(
    window: MaintenanceState,
    terms: AvailabilityTerms,
    measured_range: Sequence[Span],
    histories: Histories,
) -> dict[str, Any]:
    """One window: notice given versus required, and whether its time is excluded."""
    assert window.start_us is not None
    assert window.end_us is not None
    notice = window.notice_us()
    required = terms.maintenance_notice_us
    excluded = not window.cancelled and notice_sufficient(window, terms)
    if window.cancelled:
        reason = "cancelled: it excludes nothing"
    elif required is None:
        reason = "the terms set no maintenance notice, so maintenance is never excluded"
    elif excluded:
        assert notice is not None
        reason = (
            f"announced {duration_text(notice)} before it started; the terms require "
            f"{duration_text(required)}: excluded from measurement"
        )
    else:
        given = "no" if notice is None else duration_text(max(notice, 0))
        reason = (
            f"announced only {given} before it started; the terms require "
            f"{duration_text(required)}: not excluded, outages in it count as downtime"
        )
    effect = intervals.clip(measured_range, window.start_us, window.end_us)
    return {
        "maintenance_id": window.maintenance_id,
        "scheduled": span(window.start_us, window.end_us),
        "announced_at": None if window.announced_us is None else instant(window.announced_us),
        "announcement_event_id": _announcement_id(window, histories),
        "notice_given_seconds": None if notice is None else exact_seconds(notice),
        "notice_required_seconds": None if required is None else exact_seconds(required),
        "cancelled": window.cancelled,
        "excluded": excluded,
        "excluded_measured": [span(*s) for s in effect] if excluded else [],
        "reason": reason,
        "event_ids": ids(window.event_ids),
    }


def exclusion(source: ExcludedTime, terms: AvailabilityTerms, histories: Histories) -> Exclusion:
    """The excluded time the computation recorded, with its reason and its events: a
    window's announcement, or the classification that gave an outage its cause."""
    if source.maintenance is not None:
        window = source.maintenance
        notice, required = window.notice_us(), terms.maintenance_notice_us
        assert notice is not None
        assert required is not None
        return Exclusion(
            source.start,
            source.end,
            "maintenance",
            window.maintenance_id,
            f"maintenance {window.maintenance_id}, announced {duration_text(notice)} ahead "
            f"(required {duration_text(required)})",
            window.event_ids,
        )
    outage = source.outage
    assert outage is not None
    classified = [
        r.event.event_id
        for r in _history(histories, "outage", outage.outage_id)
        if r.event.type == "outage.classified"
    ]
    return Exclusion(
        source.start,
        source.end,
        "outage",
        outage.outage_id,
        f"outage {outage.outage_id} has cause {outage.cause}, an excluded cause in the terms",
        tuple(classified[-1:]) or outage.event_ids,
    )


# -- outages -------------------------------------------------------------------------


def _first_events(history: list[RecordedEvent]) -> dict[str, InboundEvent]:
    """The first `outage.started` and the first `outage.resolved`, by type."""
    first: dict[str, InboundEvent] = {}
    for recorded in history:
        if recorded.event.type in ("outage.started", "outage.resolved"):
            first.setdefault(recorded.event.type, recorded.event)
    return first


def _first_report(history: list[RecordedEvent]) -> OutageState | None:
    """The outage as first reported: its first `outage.started` and first `outage.resolved`."""
    first = _first_events(history)
    if "outage.started" not in first:
        return None
    return fold_outage(first.values())


def _correction(event: InboundEvent) -> str:
    p = event.payload
    if event.type == "outage.started":
        return (
            f"restarted: start set to {p['started_at']}, impact {p['impact_percent']}% "
            "(replaces the first start)"
        )
    if event.type == "outage.resolved":
        return f"resolved again: end set to {p['ended_at']} (replaces the first resolution)"
    if event.type == "outage.amended":
        names = {"started_at": "start", "ended_at": "end", "impact_percent": "impact"}
        changes = [
            f"{label} changed to {p[name]}{'%' if name == 'impact_percent' else ''}"
            for name, label in names.items()
            if p.get(name) is not None
        ]
        return "amended: " + (", ".join(changes) or "no figure changed")
    if event.type == "outage.classified":
        return f"classified: cause set to {p['cause']}"
    return "retracted: a false alarm, the outage no longer counts"


def _corrections(history: list[RecordedEvent], raw: OutageState | None) -> list[dict[str, Any]]:
    """Every event after the first report, in the order they apply, with its reason."""
    firsts = set() if raw is None else set(raw.event_ids)
    return [
        {
            "event_id": r.event.event_id,
            "type": r.event.type,
            "occurred_at": format_utc(r.event.occurred_at),
            "recorded_at": format_utc(r.recorded_at),
            "change": _correction(r.event),
            "reason": r.event.payload.get("reason"),
        }
        for r in history
        if r.event.event_id not in firsts
    ]


def _outage_interval(state: OutageState, horizon_us: int) -> dict[str, Any] | None:
    if state.start_us is None:
        return None
    end = state.end_us if state.end_us is not None else horizon_us
    return {
        "start": instant(state.start_us),
        "end": instant(end),
        "seconds": exact_seconds(end - state.start_us),
        "ongoing": state.end_us is None,
        "impact_percent": str(state.impact_percent),
    }


def _outage_of_service(outage: OutageState, service_id: str) -> bool:
    """An outage of the row's service: shown whether or not it counts, with the reason
    (another customer's, retracted, outside the coverage, excluded, under the floor)."""
    return outage.service_id == service_id and outage.start_us is not None


def _spans_text(spans: Sequence[Span]) -> str:
    return "; ".join(f"{instant(a)} to {instant(b)}" for a, b in spans)


def outage_facts(
    outage: OutageState,
    terms: AvailabilityTerms,
    measured_range: Sequence[Span],
    exclusions: Sequence[Exclusion],
    horizon_us: int,
    histories: Histories,
    customer_id: str,
    floor: FloorDecisions,
) -> dict[str, Any]:
    """Raw, corrected, clipped, excluded and counted time of one outage, and why.

    Whether its time counts is read from `floor`, the fate the computation gave each
    down interval (the Downtime section shows the same), so the outage's headline and
    the row's downtime cannot disagree; the intervals here only apportion that fate to
    this one outage.
    """
    history = _history(histories, "outage", outage.outage_id)
    raw = _first_report(history)
    found = outage.interval(horizon_us)
    clipped = intervals.clip([found], *measured_range[0]) if found and measured_range else []
    excluded_parts: list[dict[str, Any]] = []
    for source in exclusions:
        for start, end in intervals.clip(clipped, source.start, source.end):
            excluded_parts.append(
                {
                    "interval": span(start, end),
                    "source": source.source,
                    "subject_id": source.subject_id,
                    "reason": source.reason,
                    "event_ids": ids(source.event_ids),
                }
            )
    removed = intervals.normalise((s.start, s.end) for s in exclusions)
    for_customer = outage.names_customer(customer_id)
    counts = for_customer and not outage.retracted and not cause_excluded(outage, terms)
    down = intervals.subtract(clipped, removed) if counts else []
    counted = intervals.normalise(p for kept in floor.kept for p in intervals.clip(down, *kept))
    dropped = intervals.normalise(
        p for short in floor.dropped for p in intervals.clip(down, *short)
    )
    retraction = next((r for r in reversed(history) if r.event.type == "outage.retracted"), None)
    if not for_customer:
        # Named customers only, and not this one: which others is theirs to know.
        status = "other_customers"
        reason = (
            f"does not count: it was reported for other customers of the service only, "
            f"not for {customer_id}"
        )
    elif outage.retracted:
        by = "" if retraction is None else f" by event {retraction.event.event_id}"
        why = "" if retraction is None else retraction.event.payload.get("reason")
        status = "retracted"
        reason = f"retracted{by}" + (f' ("{why}")' if why else "") + ": it does not count at all"
    elif found is None and outage.end_us is None:
        status, reason = "empty", "does not count yet: it starts after the horizon"
    elif found is None:
        status, reason = "empty", "does not count: it ends at or before it starts"
    elif cause_excluded(outage, terms):
        status = "excluded"
        reason = (
            f"does not count as downtime: its cause {outage.cause} is an excluded cause in "
            "the terms, so its time is removed from measurement"
        )
    elif not clipped:
        status = "outside"
        if measured_range and found[0] >= measured_range[0][1] and found[0] < floor.covered_end:
            reason = f"does not count yet: it starts after the horizon {instant(horizon_us)}"
        else:
            reason = "does not count: it lies outside the measured range" + (
                f", the contract's coverage up to the horizon ({_spans_text(measured_range)})"
                if measured_range
                else " (nothing is measured yet)"
            )
    elif not down:
        sources = sorted({part["subject_id"] for part in excluded_parts})
        status = "excluded"
        reason = "does not count as downtime: all of its measured time is excluded time" + (
            f" ({', '.join(sources)})" if sources else ""
        )
    elif not counted:
        status = "below_floor"
        reason = (
            f"does not count as downtime: its down time ({_spans_text(dropped)}) lies in "
            f"down intervals shorter than the floor of {duration_exact(floor.floor_us)}, "
            "which are dropped"
        )
    else:
        status = "counted"
        less = ["the parts that fall in excluded time"] if excluded_parts else []
        less += ["the parts in down intervals under the floor"] if dropped else []
        # Where an overlapping outage has a higher impact, that impact counts (§3).
        higher = sorted(
            {
                other
                for (start, end), setters in floor.weight_set_by
                if outage.outage_id not in setters and intervals.clip(counted, start, end)
                for other in setters
            }
        )
        own = any(
            outage.outage_id in setters and intervals.clip(counted, start, end)
            for (start, end), setters in floor.weight_set_by
        )
        by = f"outage{'s' if len(higher) > 1 else ''} {', '.join(higher)}"
        if not own:
            reason = (
                f"its time counts as downtime, but at the higher impact of overlapping {by}, "
                f"not at its own {outage.impact_percent}%"
            )
        else:
            reason = f"counts as downtime at {outage.impact_percent}% impact" + (
                f" (where overlapping {by} has a higher impact, that counts instead)"
                if higher
                else ""
            )
        reason += f", less {' and '.join(less)}" if less else ""
    firsts = _first_events(history)
    return {
        "outage_id": outage.outage_id,
        "status": status,
        "reason": reason,
        "cause": outage.cause,
        "raw": None
        if raw is None
        else {
            **(_outage_interval(raw, horizon_us) or {}),
            "started_event_id": firsts["outage.started"].event_id,
            "resolved_event_id": firsts["outage.resolved"].event_id
            if "outage.resolved" in firsts
            else None,
            "event_ids": ids(raw.event_ids),
        },
        "retraction": None
        if retraction is None or not outage.retracted
        else {
            "event_id": retraction.event.event_id,
            "occurred_at": format_utc(retraction.event.occurred_at),
            "recorded_at": format_utc(retraction.recorded_at),
            "reason": retraction.event.payload.get("reason"),
        },
        "corrected": _outage_interval(outage, horizon_us),
        "corrections": _corrections(history, raw),
        "clipped": [span(*s) for s in clipped],
        "excluded": excluded_parts,
        "counted": [span(*s) for s in counted],
        "counted_seconds": exact_seconds(intervals.total(counted)),
        "below_floor": [span(*s) for s in dropped],
        "applies_to_customer": for_customer,
        "weight_percent": str(outage.impact_percent),
        "event_ids": ids(outage.event_ids),
    }


# -- downtime ------------------------------------------------------------------------


def _segment_facts(segment: DownSegment, *, kept: bool) -> dict[str, Any]:
    """One segment of a down interval; one the floor dropped weighs 0 s of downtime."""
    weight = segment.weight
    return {
        "interval": span(segment.start, segment.end),
        "weight_percent": weight_percent(weight),
        "weighted_seconds": exact_seconds((segment.end - segment.start) * weight if kept else 0),
        "outage_ids": sorted(o.outage_id for o in segment.outages),
        "event_ids": ids(*(o.event_ids for o in segment.outages)),
    }


@dataclass(frozen=True, slots=True)
class FloorDecisions:
    """The maximal down intervals the floor kept and those it dropped (§3), and which
    outages set the weight of each kept segment (the highest impact at that time)."""

    floor_us: int
    kept: list[Span]
    dropped: list[Span]
    weight_set_by: list[tuple[Span, frozenset[str]]]
    covered_end: int


def floor_decisions(runs: Sequence[DownRun], floor_us: int, covered_end: int) -> FloorDecisions:
    """The floor's decisions as the computation recorded them, by interval."""
    return FloorDecisions(
        floor_us,
        [(run.start, run.end) for run in runs if run.kept],
        [(run.start, run.end) for run in runs if not run.kept],
        [
            ((segment.start, segment.end), frozenset(o.outage_id for o in segment.outages))
            for run in runs
            if run.kept
            for segment in run.segments
        ],
        covered_end,
    )


def downtime_facts(runs: Sequence[DownRun], downtime: Fraction, floor_us: int) -> dict[str, Any]:
    """The maximal down intervals, those the floor dropped, and the integral `D` (§3)."""
    shown: list[dict[str, Any]] = []
    terms: list[str] = []
    for run in runs:
        length = run.end - run.start
        facts = [_segment_facts(segment, kept=run.kept) for segment in run.segments]
        if run.kept:
            terms += [
                f"{seconds_text(s.end - s.start)} × {weight_percent(s.weight)}%"
                for s in run.segments
            ]
        shown.append(
            {
                "interval": span(run.start, run.end),
                "kept": run.kept,
                "reason": (
                    "counted: the terms set no downtime floor"
                    if floor_us == 0
                    else f"counted: {duration_exact(length)} is at least the floor of "
                    f"{duration_exact(floor_us)}"
                )
                if run.kept
                else f"dropped: {duration_exact(length)} is shorter than the floor of "
                f"{duration_exact(floor_us)}",
                "segments": facts,
                "downtime_seconds": exact_seconds(run.downtime_us),
                "event_ids": ids(*(f["event_ids"] for f in facts)),
            }
        )
    arithmetic = (
        f"D = {' + '.join(terms)} = {seconds_text(downtime)}"
        if terms
        else "D = 0 s (no down time counts)"
    )
    return {
        "floor_seconds": exact_seconds(floor_us),
        "runs": shown,
        "downtime_seconds": exact_seconds(downtime),
        "arithmetic": arithmetic,
        "event_ids": ids(*(r["event_ids"] for r in shown if r["kept"])),
    }


# -- tiers ---------------------------------------------------------------------------


def tier_facts(decision: TierDecision, what: str) -> dict[str, Any]:
    """Which tier applied and why its neighbours did not (§3: strict `<`, exact value)."""
    value, tiers, chosen = decision.value, decision.tiers, decision.chosen
    table = [
        {
            "below_percent": str(t.below_percent),
            "credit_percent": str(t.credit_percent),
            "value_is_below": None if value is None else below(value, exact(t.below_percent)),
        }
        for t in tiers
    ]
    lower = higher = None
    shown = None if value is None else f"{what} {digits(value)}%"
    if value is None:
        reason = f"no tier applies: there is no {what} figure, so the {what} credit is 0%"
    elif chosen is None:
        top = f"{tiers[-1].below_percent}%" if tiers else "none"
        reason = (
            f"no tier applies: {shown} is not below any tier threshold (the highest is "
            f"{top}), so the {what} credit is 0%"
        )
    else:
        tier = tiers[chosen]
        reason = (
            f'the tier "below {tier.below_percent}% → {tier.credit_percent}% credit" applies: '
            f"{shown} is below {tier.below_percent}%, and no tier with a lower threshold "
            "matches"
        )
        if chosen > 0:
            under = tiers[chosen - 1]
            lower = (
                f'the tier "below {under.below_percent}% → {under.credit_percent}% credit" '
                f"does not apply: {shown} is not below {under.below_percent}%"
            )
        if chosen + 1 < len(tiers):
            above = tiers[chosen + 1]
            higher = (
                f'the tier "below {above.below_percent}% → {above.credit_percent}% credit" '
                f"does not apply: {shown} is below {above.below_percent}% too, but when "
                "several tiers match only the one with the lowest threshold applies"
            )
    return {
        "tiers": table,
        "chosen": None if chosen is None else table[chosen],
        "credit_percent": str(decision.credit_percent),
        "reason": reason,
        "next_lower_tier": lower,
        "next_higher_tier": higher,
    }


# -- availability --------------------------------------------------------------------


def availability_facts(
    row: Row,
    terms: AvailabilityTerms,
    trace: AvailabilityTrace,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
    histories: Histories,
    covered_end: int,
) -> dict[str, Any]:
    """§2-§3 step by step, as the computation recorded them.

    Every maintenance window and outage of the service is shown (with why it does not
    count, when it does not), not only those the computation used."""
    customer, service_id = row.contract.customer_id, row.service.service_id
    measured_range = trace.measured_range
    windows = [
        maintenance_facts(window, terms, measured_range, histories)
        for window in sorted(
            (m for m in maintenances if m.would_apply_to(service_id, customer)),
            key=lambda m: (m.start_us, m.maintenance_id),
        )
    ]
    shown = sorted(
        (o for o in outages if _outage_of_service(o, service_id)),
        key=lambda o: (o.start_us, o.outage_id),
    )
    # Windows first, then outages, each by start and id: the order they are listed in.
    exclusions = [
        exclusion(source, terms, histories)
        for source in sorted(
            trace.exclusions,
            key=lambda e: (e.maintenance is None, e.start, e.subject_id),
        )
    ]
    excluded_set, measured, excluded = trace.excluded_set, trace.measured_us, trace.excluded_us
    total_down, availability = trace.downtime_us, trace.availability
    downtime = downtime_facts(trace.runs, total_down, terms.min_downtime_us)
    floor = floor_decisions(trace.runs, terms.min_downtime_us, covered_end)
    met = None if availability is None else meets_target(availability, terms.target_percent)
    outage_list = [
        outage_facts(o, terms, measured_range, exclusions, horizon_us, histories, customer, floor)
        for o in shown
    ]
    return {
        "maintenance": windows,
        "outages": outage_list,
        "exclusions": {
            "intervals": [
                {
                    "interval": span(start, end),
                    "sources": [
                        {"source": e.source, "subject_id": e.subject_id, "reason": e.reason}
                        for e in exclusions
                        if e.start < end and e.end > start
                    ],
                    "event_ids": ids(
                        *(e.event_ids for e in exclusions if e.start < end and e.end > start)
                    ),
                }
                for start, end in excluded_set
            ],
            "excluded_seconds": exact_seconds(excluded),
            "arithmetic": f"excluded = {seconds_text(excluded)} of the measured range "
            f"{seconds_text(intervals.total(measured_range))}",
        },
        "downtime": downtime,
        "measured_seconds": exact_seconds(measured),
        "arithmetic_measured": f"M = {seconds_text(intervals.total(measured_range))} − "
        f"{seconds_text(excluded)} excluded = {seconds_text(measured)}",
        "availability_percent": None if availability is None else percent_value(availability),
        "arithmetic": "M = 0: availability is undefined and earns no credit"
        if availability is None
        else f"availability = 100 × (M − D) / M = 100 × ({seconds_text(measured)} − "
        f"{seconds_text(total_down)}) / {seconds_text(measured)} = {digits(availability)}% "
        f"(shown as {round_half_even(availability, 4)}%)",
        "target_percent": str(terms.target_percent),
        "met": met,
        "met_reason": "no availability figure"
        if availability is None
        else (
            f"met: {digits(availability)}% is at or above the target {terms.target_percent}%"
            if met
            else f"missed: {digits(availability)}% is below the target {terms.target_percent}%"
        ),
        "tier": tier_facts(trace.tier, "availability"),
        "credit_percent": str(row.availability_credit),
        "event_ids": ids(
            *(w["event_ids"] for w in windows),
            *(o["event_ids"] for o in outage_list if o["applies_to_customer"]),
        ),
    }


# -- incident response ---------------------------------------------------------------


def _response_event(state: IncidentState, histories: Histories) -> str | None:
    if state.first_response_at is None:
        return None
    stamp = format_utc(state.first_response_at)
    found = [
        r.event.event_id
        for r in _history(histories, "incident", state.incident_id)
        if r.event.type == "incident.responded" and r.event.payload["responded_at"] == stamp
    ]
    return found[0] if found else None


def _local_piece(piece: Span, timezone: str) -> dict[str, str]:
    return {
        **span(*piece),
        "local": local_range_text(piece[0], piece[1], timezone),
    }


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
        if status == "met":
            spare = target_us - taken
            margin = f"{duration_exact(spare)} within" if spare else "exactly"
            verdict = f"met: {elapsed}, {margin} {limit}"
        elif status == "missed":
            verdict = f"missed: {elapsed}, {duration_exact(taken - target_us)} over {limit}"
        else:
            verdict = (
                f"pending: {elapsed}, still within {limit}; it is decided by the first "
                "response or when the target runs out"
            )
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
    return {
        "incident_id": state.incident_id,
        "opened_at": format_utc(judgement.opened_at),
        "opened_at_local": local_text(to_us(judgement.opened_at), timezone),
        "priority_used": priority,
        "priority_set_by": None if setting is None else setting.event_id,
        "target_seconds": None if target_us is None else exact_seconds(target_us),
        "target_text": None if target_us is None else duration_exact(target_us),
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
    attainment = figures.attainment
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
        "credit_percent": str(row.response_credit),
        "event_ids": ids(*(f["event_ids"] for f in facts)),
    }


# -- money ---------------------------------------------------------------------------


def money_facts(row: Row, money: MoneyTrace) -> dict[str, Any]:
    """§5: the credit percent and its cap, fee pro-rating, and the one rounding."""
    currency = row.contract.currency
    places = minor_units(currency)
    fee_basis, amount = money.fee_basis, money.owed
    summed, cap, percent = money.summed_percent, money.cap_percent, money.credit_percent
    rounding = f"half-up to {places} decimal places, the minor unit of {currency}"
    return {
        "currency": currency,
        "minor_units": places,
        "rounding": rounding,
        "availability_credit_percent": str(row.availability_credit),
        "response_credit_percent": str(row.response_credit),
        "sum_percent": str(summed),
        "cap_percent": str(cap),
        "capped": summed > cap,
        "credit_percent": str(percent),
        "arithmetic_percent": f"credit = min({row.availability_credit}% + "
        f"{row.response_credit}% = {summed}%, cap {cap}%) = {percent}%",
        "monthly_fee": str(row.service.monthly_fee),
        "fee_basis": money_value(fee_basis, currency),
        "arithmetic_fee_basis": f"fee basis = {row.service.monthly_fee} {currency} × covered "
        f"{seconds_text(row.covered_us)} / window {seconds_text(row.window_us)} = "
        f"{digits(fee_basis)} → {to_minor_unit(fee_basis, currency)} {currency}",
        "credit_amount": money_value(amount, currency),
        "arithmetic_amount": f"credit amount = {digits(fee_basis)} {currency} × {percent}% = "
        f"{digits(amount)} → {money.credit_amount} {currency} ({rounding}; computed from "
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
    row.status = "closed" if closed_at is not None else "provisional"
    first_day = local_date_of(cover.covered[0], contract.timezone)
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
        if service.availability is None or derivation.availability is None
        else availability_facts(
            row,
            service.availability,
            derivation.availability,
            outages,
            maintenances,
            horizon_us,
            histories,
            cover.covered[1],
        ),
        "incident_response": None
        if service.incident_response is None or derivation.response is None
        else response_facts(row, service.incident_response, derivation.response, histories),
        "money": money_facts(row, derivation.money),
        "row": row.as_dict(),
        **basis_facts(row),
    }


def basis_facts(row: Row) -> dict[str, Any]:
    """The basis a credit entry of this row is computed from, and its digest: what
    `explain` shows for the row now and for each entry as of its recording."""
    return {"basis": basis(row), "basis_sha256": basis_sha256(row)}
