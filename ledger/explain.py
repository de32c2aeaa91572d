"""The full derivation of one report row: what `sla-ledger explain` shows.

Dispute handlers and auditors know SLA contracts, not this code. For one (contract,
service, period) this module lays out every step from events to money: the terms in
force, each outage as first reported, as corrected, as clipped to the measured range and
what was excluded and why, each maintenance window with the notice it was given, the
down intervals and the floor, the exact arithmetic, the tiers, the incidents, the fee
pro-rating and the rounding. Every fact names the event ids it comes from.

It never computes a figure its own way: the row comes from `compute_row` (the function
`report` uses), the basis and its digest from `ledger.credits`, and each intermediate
step is recomputed with the same interval and incident functions, then checked against
the row. A derivation that disagrees with the report is a bug and raises.

Pure: no I/O, no clock. The document holds only strings, booleans, integers, None,
lists and dicts; decimals are exact strings, instants RFC 3339 UTC, lists sorted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from ledger import intervals
from ledger.attainment import (
    HUNDRED,
    Coverage,
    Row,
    above_floor,
    compute_row,
    coverage,
    tier_credit,
)
from ledger.business_time import BusinessCalendar
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
from ledger.errors import LedgerError
from ledger.events import InboundEvent, RecordedEvent
from ledger.incidents import IncidentState, PriorityChange, incident_status, priority_used
from ledger.money import round_half_even, to_minor_unit
from ledger.outages import MaintenanceState, OutageState, fold_outage
from ledger.periods import Period, from_us, local_date_of, to_us
from ledger.timeformat import decimal_text, exact_seconds, format_utc, to_microseconds

# Bumped when a field changes meaning; fields may be added without a bump.
EXPLAIN_FORMAT = 1
# How many decimal places of a non-terminating ratio are shown (truncated, with "…").
DIGITS = 10

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
    first_day = local_date_of(cover.covered[0], contract.timezone)
    terms = contract.terms_on(first_day)
    if terms is None:
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


# -- rendering of quantities ---------------------------------------------------------


def instant(microseconds: int) -> str:
    return format_utc(from_us(microseconds))


def span(start: int, end: int) -> dict[str, str]:
    return {"start": instant(start), "end": instant(end), "seconds": exact_seconds(end - start)}


def grouped(text: str) -> str:
    """`2678400` -> `2,678,400`: thousands separated for people; the digits stay exact."""
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("-").partition(".")
    return sign + f"{int(whole):,}" + dot + fraction


def seconds_text(microseconds: int | Fraction) -> str:
    return grouped(exact_seconds(microseconds)) + " s"


def duration_text(microseconds: int) -> str:
    """A duration as people say it, e.g. `72 h`, `17 min`, `1 h 30 min 15 s`."""
    hours, rest = divmod(microseconds, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    parts = [f"{hours:,} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{exact_seconds(rest)} s"] if rest or not parts else []
    return " ".join(parts)


def duration_exact(microseconds: int | Fraction) -> str:
    """A duration for people and its exact seconds, e.g. `30 min (1,800 s)`, `45 s`."""
    exact = seconds_text(microseconds)
    if isinstance(microseconds, Fraction) and microseconds.denominator != 1:
        return exact
    spoken = duration_text(int(microseconds))
    return exact if spoken == exact.replace(",", "") else f"{spoken} ({exact})"


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def local_text(microseconds: int, timezone: str) -> str:
    """An instant as the contract's local wall time, then UTC.

    E.g. `Fri 2026-10-16 17:50 CEST (2026-10-16T15:50:00Z)`; seconds are shown only
    when they are not zero. Weekday names are fixed English, not the process locale.
    """
    local = from_us(microseconds).astimezone(ZoneInfo(timezone))
    clock = f"{local:%H:%M}"
    if local.second or local.microsecond:
        clock += f":{local:%S}" + (f".{local:%f}".rstrip("0") if local.microsecond else "")
    zone = local.tzname() or timezone
    return (
        f"{_WEEKDAY_NAMES[local.weekday()]} {local.date().isoformat()} {clock} {zone} "
        f"({instant(microseconds)})"
    )


def local_range_text(start_us: int, end_us: int, timezone: str) -> str:
    """`Fri 2026-10-16 17:50–18:00 CEST`: a range of local wall time, compact on one day."""
    zone = ZoneInfo(timezone)
    first, last = from_us(start_us).astimezone(zone), from_us(end_us).astimezone(zone)
    whole = all(not (t.second or t.microsecond) for t in (first, last))
    if whole and first.date() == last.date() and first.tzname() == last.tzname():
        return (
            f"{_WEEKDAY_NAMES[first.weekday()]} {first.date().isoformat()} "
            f"{first:%H:%M}–{last:%H:%M} {first.tzname()}"
        )
    return f"{local_text(start_us, timezone)} to {local_text(end_us, timezone)}"


def business_hours_text(hours: Any, timezone: str) -> str:
    """The contract's business hours as people write them.

    `24x7 (every hour counts)`, or e.g. `Mon–Fri 08:00–18:00 Europe/Berlin, minus
    holidays 2026-10-03`: consecutive days with the same hours are grouped.
    """
    if hours == "24x7":
        return "24x7 (every hour of every day counts)"
    weekly = hours.get("weekly", {}) if isinstance(hours, Mapping) else {}
    keys = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    slots = [", ".join(f"{start}–{end}" for start, end in weekly.get(day) or ()) for day in keys]
    groups: list[tuple[int, int, str]] = []
    for index, text in enumerate(slots):
        if not text:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))
    days = [
        (
            _WEEKDAY_NAMES[first]
            if first == last
            else f"{_WEEKDAY_NAMES[first]}{'–' if last > first + 1 else ', '}{_WEEKDAY_NAMES[last]}"
        )
        + f" {text}"
        for first, last, text in groups
    ]
    holidays = sorted(hours.get("holidays") or ()) if isinstance(hours, Mapping) else []
    minus = f", minus holidays {', '.join(holidays)}" if holidays else ", no holidays listed"
    return f"{'; '.join(days) or 'no business hours'} {timezone}{minus}"


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value}"


def digits(value: Fraction, places: int = DIGITS) -> str:
    """The exact decimal if it terminates within `places`, else truncated with `…`."""
    units = math.trunc(value * 10**places)
    if Fraction(units, 10**places) == value:
        return decimal_text(value)
    return format(Decimal(units).scaleb(-places), "f") + "…"


def percent_value(value: Fraction) -> dict[str, str]:
    """A ratio in percent: exact fraction, leading digits, and the 4-place display."""
    return {
        "fraction": fraction_text(value),
        "digits": digits(value),
        "rounded_4dp": str(round_half_even(value, 4)),
    }


def money_value(value: Fraction, currency: str) -> dict[str, str]:
    return {
        "fraction": fraction_text(value),
        "digits": digits(value),
        "rounded": str(to_minor_unit(value, currency)),
    }


def weight_percent(weight: Fraction) -> str:
    return decimal_text(weight * HUNDRED)


def ids(*groups: Sequence[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted({event_id for group in groups for event_id in group})


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
    contract: ContractState, cover: Coverage, measured_range: list[Span], horizon_us: int
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


def _maintenance_matches(window: MaintenanceState, service_id: str, customer_id: str) -> bool:
    """Applies, or would apply but for a cancellation: worth showing either way."""
    return (
        window.service_id == service_id
        and window.start_us is not None
        and (window.customer_ids is None or customer_id in window.customer_ids)
    )


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
    measured_range: list[Span],
    histories: Histories,
) -> tuple[dict[str, Any], Exclusion | None]:
    """One window: notice given versus required, and whether its time is excluded."""
    assert window.start_us is not None
    assert window.end_us is not None
    notice = window.notice_us()
    required = terms.maintenance_notice_us
    exclusion: Exclusion | None = None
    if window.cancelled:
        reason = "cancelled: it excludes nothing"
    elif required is None:
        reason = "the terms set no maintenance notice, so maintenance is never excluded"
    elif notice is not None and notice >= required:
        reason = (
            f"announced {duration_text(notice)} before it started; the terms require "
            f"{duration_text(required)}: excluded from measurement"
        )
        exclusion = Exclusion(
            window.start_us,
            window.end_us,
            "maintenance",
            window.maintenance_id,
            f"maintenance {window.maintenance_id}, announced {duration_text(notice)} ahead "
            f"(required {duration_text(required)})",
            window.event_ids,
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
        "excluded": exclusion is not None,
        "excluded_measured": [span(*s) for s in effect] if exclusion is not None else [],
        "reason": reason,
        "event_ids": ids(window.event_ids),
    }, exclusion


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


def _for_customer(outage: OutageState, customer_id: str) -> bool:
    return outage.customer_ids is None or customer_id in outage.customer_ids


def excluded_cause(outage: OutageState, terms: AvailabilityTerms) -> bool:
    return outage.cause is not None and outage.cause in terms.excluded_causes


def cause_exclusion(
    outage: OutageState,
    terms: AvailabilityTerms,
    horizon_us: int,
    histories: Histories,
    service_id: str,
    customer_id: str,
) -> Exclusion | None:
    """An outage whose latest cause is an excluded cause is excluded time itself (§2)."""
    found = outage.interval(horizon_us)
    if not outage.applies_to(service_id, customer_id) or found is None:
        return None
    if not excluded_cause(outage, terms):
        return None
    classified = [
        r.event.event_id
        for r in _history(histories, "outage", outage.outage_id)
        if r.event.type == "outage.classified"
    ]
    return Exclusion(
        found[0],
        found[1],
        "outage",
        outage.outage_id,
        f"outage {outage.outage_id} has cause {outage.cause}, an excluded cause in the terms",
        tuple(classified[-1:]) or outage.event_ids,
    )


def _spans_text(spans: Sequence[Span]) -> str:
    return "; ".join(f"{instant(a)} to {instant(b)}" for a, b in spans)


def outage_facts(
    outage: OutageState,
    terms: AvailabilityTerms,
    measured_range: list[Span],
    exclusions: Sequence[Exclusion],
    horizon_us: int,
    histories: Histories,
    customer_id: str,
    floor: FloorDecisions,
) -> dict[str, Any]:
    """Raw, corrected, clipped, excluded and counted time of one outage, and why.

    Whether its time counts is read from `floor`, the fate `downtime_facts` gave each
    down interval, so the outage's headline and the Downtime section cannot disagree.
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
    for_customer = _for_customer(outage, customer_id)
    counts = for_customer and not outage.retracted and not excluded_cause(outage, terms)
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
    elif excluded_cause(outage, terms):
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


def _segment_facts(
    segment: intervals.WeightedInterval,
    pieces: Sequence[tuple[OutageState, Span]],
    *,
    kept: bool,
) -> dict[str, Any]:
    """One segment of a down interval; one the floor dropped weighs 0 s of downtime."""
    start, end, weight = segment
    setting = [
        outage
        for outage, (o_start, o_end) in pieces
        if o_start < end and o_end > start and Fraction(outage.impact_percent) / HUNDRED == weight
    ]
    return {
        "interval": span(start, end),
        "weight_percent": weight_percent(weight),
        "weighted_seconds": exact_seconds((end - start) * weight if kept else 0),
        "outage_ids": sorted(o.outage_id for o in setting),
        "event_ids": ids(*(o.event_ids for o in setting)),
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


def downtime_facts(
    pieces: Sequence[tuple[OutageState, Span]], region: list[Span], floor_us: int
) -> tuple[
    dict[str, Any], Fraction, tuple[list[Span], list[Span], list[tuple[Span, frozenset[str]]]]
]:
    """The maximal down intervals, those the floor dropped, and the integral `D` (§3)."""
    weighted = [(s, e, Fraction(o.impact_percent) / HUNDRED) for o, (s, e) in pieces]
    segments = intervals.intersect_weighted(intervals.max_weight_segments(weighted), region)
    runs: list[dict[str, Any]] = []
    terms: list[str] = []
    downtime = Fraction(0)
    kept_runs: list[Span] = []
    dropped_runs: list[Span] = []
    weight_set_by: list[tuple[Span, frozenset[str]]] = []
    for run in intervals.maximal_runs(segments):
        length = run[-1][1] - run[0][0]
        kept = above_floor(run, floor_us)
        (kept_runs if kept else dropped_runs).append((run[0][0], run[-1][1]))
        weighted_sum = sum(((e - s) * w for s, e, w in run), Fraction(0))
        facts = [_segment_facts(segment, pieces, kept=kept) for segment in run]
        if kept:
            weight_set_by += [
                ((f[0], f[1]), frozenset(x["outage_ids"])) for f, x in zip(run, facts, strict=True)
            ]
            downtime += weighted_sum
            terms += [f"{seconds_text(e - s)} × {weight_percent(w)}%" for s, e, w in run]
        runs.append(
            {
                "interval": span(run[0][0], run[-1][1]),
                "kept": kept,
                "reason": (
                    "counted: the terms set no downtime floor"
                    if floor_us == 0
                    else f"counted: {duration_exact(length)} is at least the floor of "
                    f"{duration_exact(floor_us)}"
                )
                if kept
                else f"dropped: {duration_exact(length)} is shorter than the floor of "
                f"{duration_exact(floor_us)}",
                "segments": facts,
                "downtime_seconds": exact_seconds(weighted_sum if kept else 0),
                "event_ids": ids(*(f["event_ids"] for f in facts)),
            }
        )
    arithmetic = (
        f"D = {' + '.join(terms)} = {seconds_text(downtime)}"
        if terms
        else "D = 0 s (no down time counts)"
    )
    return (
        {
            "floor_seconds": exact_seconds(floor_us),
            "runs": runs,
            "downtime_seconds": exact_seconds(downtime),
            "arithmetic": arithmetic,
            "event_ids": ids(*(r["event_ids"] for r in runs if r["kept"])),
        },
        downtime,
        (kept_runs, dropped_runs, weight_set_by),
    )


# -- tiers ---------------------------------------------------------------------------


def tier_decision(value: Fraction | None, tiers: Sequence[CreditTier], what: str) -> dict[str, Any]:
    """Which tier applies and why its neighbours do not (§3: strict `<`, exact value)."""
    credit = tier_credit(value, tiers)
    table = [
        {
            "below_percent": str(t.below_percent),
            "credit_percent": str(t.credit_percent),
            "value_is_below": None if value is None else value < Fraction(t.below_percent),
        }
        for t in tiers
    ]
    chosen = next(
        (i for i, t in enumerate(tiers) if value is not None and value < Fraction(t.below_percent)),
        None,
    )
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
            below = tiers[chosen - 1]
            lower = (
                f'the tier "below {below.below_percent}% → {below.credit_percent}% credit" '
                f"does not apply: {shown} is not below {below.below_percent}%"
            )
        if chosen + 1 < len(tiers):
            above = tiers[chosen + 1]
            higher = (
                f'the tier "below {above.below_percent}% → {above.credit_percent}% credit" '
                f"does not apply: {shown} is below {above.below_percent}% too, but when "
                "several tiers match only the one with the lowest threshold applies"
            )
    assert chosen is None or tiers[chosen].credit_percent == credit
    return {
        "tiers": table,
        "chosen": None if chosen is None else table[chosen],
        "credit_percent": str(credit),
        "reason": reason,
        "next_lower_tier": lower,
        "next_higher_tier": higher,
    }


# -- availability --------------------------------------------------------------------


def availability_facts(
    row: Row,
    terms: AvailabilityTerms,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
    histories: Histories,
) -> dict[str, Any]:
    """§2-§3 step by step; each total is checked against the report's row."""
    assert cover.covered is not None
    customer, service_id = row.contract.customer_id, row.service.service_id
    measured_range = intervals.clip([cover.covered], -(2**62), horizon_us)

    windows, exclusions = [], []
    for window in sorted(
        (m for m in maintenances if _maintenance_matches(m, service_id, customer)),
        key=lambda m: (m.start_us, m.maintenance_id),
    ):
        facts, exclusion = maintenance_facts(window, terms, measured_range, histories)
        windows.append(facts)
        exclusions += [exclusion] if exclusion is not None else []
    shown = sorted(
        (o for o in outages if _outage_of_service(o, service_id)),
        key=lambda o: (o.start_us, o.outage_id),
    )
    for outage in shown:
        found = cause_exclusion(outage, terms, horizon_us, histories, service_id, customer)
        exclusions += [found] if found is not None else []

    excluded_set = intervals.normalise(
        intervals.clip([(e.start, e.end) for e in exclusions], *cover.covered)
    )
    region = intervals.subtract(measured_range, excluded_set)
    measured = intervals.total(region)
    excluded = intervals.total(measured_range) - measured
    pieces: list[tuple[OutageState, Span]] = []
    for outage in shown:
        interval = outage.interval(horizon_us)
        counts = outage.applies_to(service_id, customer) and not excluded_cause(outage, terms)
        if interval is not None and counts:
            pieces.append((outage, interval))
    downtime, total_down, decided = downtime_facts(pieces, region, terms.min_downtime_us)
    floor = FloorDecisions(terms.min_downtime_us, *decided, cover.covered[1])
    availability = HUNDRED * (measured - total_down) / measured if measured > 0 else None
    assert (row.measured_us, row.excluded_us, row.downtime_us, row.availability) == (
        measured,
        excluded,
        total_down,
        availability,
    ), "explain disagrees with the report row: a bug"

    target = Fraction(terms.target_percent)
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
        "met": None if availability is None else availability >= target,
        "met_reason": "no availability figure"
        if availability is None
        else (
            f"met: {digits(availability)}% is at or above the target {terms.target_percent}%"
            if availability >= target
            else f"missed: {digits(availability)}% is below the target {terms.target_percent}%"
        ),
        "tier": tier_decision(availability, terms.credit_tiers, "availability"),
        "credit_percent": str(row.availability_credit),
        "event_ids": ids(
            *(w["event_ids"] for w in windows),
            *(o["event_ids"] for o in outage_list if o["applies_to_customer"]),
        ),
    }


# -- incident response ---------------------------------------------------------------


def _priority_setting(state: IncidentState) -> PriorityChange | None:
    """The priority change `priority_used` picks, to name the event that set it (§4)."""
    if not state.priorities:
        return None
    if state.first_response_at is None:
        return state.priorities[-1]
    in_force = [c for c in state.priorities if c.at <= state.first_response_at]
    return in_force[-1] if in_force else state.priorities[0]


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


def business_pieces(calendar: BusinessCalendar, a: datetime, b: datetime) -> list[Span]:
    """The pieces of `[a, b)` inside business hours, merged, as UTC microseconds (§4).

    The same construction as `BusinessCalendar.business_microseconds` (local slots on
    local dates, `fold=0`, holidays dropped), so the text can say which hours counted;
    the caller checks that the pieces add up to that function's total.
    """
    start_us, end_us = to_us(a), to_us(b)
    if end_us <= start_us:
        return []
    if calendar.is_24x7:
        return [(start_us, end_us)]
    zone = ZoneInfo(calendar.timezone)
    day = a.astimezone(zone).date() - timedelta(days=2)
    last = b.astimezone(zone).date() + timedelta(days=2)
    pieces: list[Span] = []
    while day <= last:
        if day not in calendar.holidays:
            for first_minute, end_minute in calendar.weekly_slots(day.weekday()):
                bounds = []
                for minute in (first_minute, end_minute):
                    on = day + timedelta(days=minute // 1440)
                    hours, minutes = divmod(minute % 1440, 60)
                    local = datetime(on.year, on.month, on.day, hours, minutes, tzinfo=zone)
                    bounds.append(to_us(local))
                piece = (max(bounds[0], start_us), min(bounds[1], end_us))
                if piece[0] < piece[1]:
                    pieces.append(piece)
        day += timedelta(days=1)
    return intervals.normalise(pieces)


def _local_piece(piece: Span, timezone: str) -> dict[str, str]:
    return {
        **span(*piece),
        "local": local_range_text(piece[0], piece[1], timezone),
    }


def incident_facts(
    state: IncidentState,
    terms: ResponseTerms,
    calendar: BusinessCalendar,
    horizon: datetime,
    histories: Histories,
) -> dict[str, Any]:
    assert state.opened_at is not None
    setting = _priority_setting(state)
    priority = priority_used(state)
    assert (setting.priority if setting else None) == priority
    target = terms.targets.get(priority) if priority is not None else None
    status = incident_status(state, terms.targets, calendar, horizon)
    responded = state.first_response_at is not None
    until = state.first_response_at if state.first_response_at is not None else horizon
    taken = calendar.business_microseconds(state.opened_at, until)
    pieces = business_pieces(calendar, state.opened_at, until)
    assert intervals.total(pieces) == taken, "business hours disagree with business time"
    timezone = calendar.timezone
    target_us = None if target is None else to_microseconds(target)
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
    if target is None:
        reason = f"priority {priority} has no response target in the terms: not counted"
    else:
        limit_text, took_text = duration_text(to_microseconds(target)), duration_text(taken)
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
        "opened_at": format_utc(state.opened_at),
        "opened_at_local": local_text(to_us(state.opened_at), timezone),
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
        "business_intervals": [_local_piece(p, timezone) for p in pieces],
        "resolved_at": None if state.resolved_at is None else format_utc(state.resolved_at),
        "status": status,
        "reason": reason,
        "verdict": verdict,
        "event_ids": ids(state.event_ids),
    }


def response_facts(
    row: Row,
    terms: ResponseTerms,
    cover: Coverage,
    incidents: Sequence[IncidentState],
    horizon_us: int,
    histories: Histories,
) -> dict[str, Any]:
    """§4 incident by incident; the tallies are checked against the report's row."""
    window_start, window_end = cover.window
    mine = sorted(
        (
            i
            for i in incidents
            if i.contract_id == row.contract.contract_id
            and i.service_id == row.service.service_id
            and i.opened_at is not None
            and window_start <= to_us(i.opened_at) < window_end
        ),
        key=lambda i: (i.opened_at, i.incident_id),
    )
    calendar = BusinessCalendar(row.contract.timezone, terms.business_hours)
    facts = [incident_facts(i, terms, calendar, from_us(horizon_us), histories) for i in mine]
    counts = {s: sum(1 for f in facts if f["status"] == s) for s in ("met", "missed", "pending")}
    assert (counts["met"], counts["missed"], counts["pending"]) == (
        row.incidents_met,
        row.incidents_missed,
        row.incidents_pending,
    ), "explain disagrees with the report row: a bug"
    judged = counts["met"] + counts["missed"]
    attainment = row.response_attainment
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
        "tier": tier_decision(attainment, terms.credit_tiers, "response attainment"),
        "credit_percent": str(row.response_credit),
        "event_ids": ids(*(f["event_ids"] for f in facts)),
    }


# -- money ---------------------------------------------------------------------------


def money_facts(row: Row) -> dict[str, Any]:
    """§5: the credit percent and its cap, fee pro-rating, and the one rounding."""
    currency = row.contract.currency
    places = minor_units(currency)
    fee = Fraction(row.service.monthly_fee)
    fee_basis = fee * row.covered_us / row.window_us
    summed = row.availability_credit + row.response_credit
    cap = row.service.credit_cap_percent
    percent = min(summed, cap)
    amount = fee_basis * Fraction(percent) / HUNDRED
    assert (fee_basis, percent, to_minor_unit(amount, currency)) == (
        row.fee_basis,
        row.credit_percent,
        row.credit_amount,
    ), "explain disagrees with the report row: a bug"
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
        f"{digits(amount)} → {row.credit_amount} {currency} ({rounding}; computed from "
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
        contract, terms, service, period, cover, outages, maintenances, incidents, horizon_us
    )
    row.status = "closed" if closed_at is not None else "provisional"
    measured_range = intervals.clip([cover.covered], -(2**62), horizon_us)
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
        "coverage": coverage_facts(contract, cover, measured_range, horizon_us),
        "availability": None
        if service.availability is None
        else availability_facts(
            row, service.availability, cover, outages, maintenances, horizon_us, histories
        ),
        "incident_response": None
        if service.incident_response is None
        else response_facts(
            row, service.incident_response, cover, incidents, horizon_us, histories
        ),
        "money": money_facts(row),
        "row": row.as_dict(),
        "basis": basis(row),
        "basis_sha256": basis_sha256(row),
    }
