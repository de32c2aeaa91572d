"""The availability part of `explain` (spec: sla-math §2-§3), laid out from the trace the
row computation recorded: every maintenance window with the notice given versus
required, every outage of the service as first reported and as corrected, clipped,
excluded, under the floor or counted and why, the down intervals and their weights, and
the arithmetic from measured time to the availability figure and its tier.

The figures and decisions are the computation's (`ledger.derivation`); what is decided
here is only how one outage's share of them is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ledger import intervals
from ledger.attainment import Row, meets_target, notice_sufficient
from ledger.contracts import AvailabilityTerms
from ledger.derivation import AvailabilityTrace, DownRun, DownSegment, ExcludedTime, OutageFate
from ledger.events import InboundEvent, RecordedEvent
from ledger.intervals import Interval
from ledger.money import round_half_even
from ledger.outages import MaintenanceState, OutageState, fold_outage
from ledger.timeformat import exact_seconds, format_utc
from projections.queries.explain.histories import Histories, subject_history
from projections.queries.explain.wording import (
    digits,
    duration_exact,
    duration_text,
    ids,
    instant,
    interval_shown,
    percent_value,
    seconds_text,
    tier_facts,
    weight_percent,
)

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


def _announcement_id(window: MaintenanceState, histories: Histories) -> str | None:
    """The `maintenance.scheduled` in force: the last one applied (§2 "announcement in force")."""
    scheduled = [
        r.event
        for r in subject_history(histories, "maintenance", window.maintenance_id)
        if r.event.type == "maintenance.scheduled"
    ]
    return scheduled[-1].event_id if scheduled else None


def maintenance_facts(
    window: MaintenanceState,
    terms: AvailabilityTerms,
    measured_range: Sequence[Interval],
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
        "scheduled": interval_shown(window.start_us, window.end_us),
        "announced_at": None if window.announced_us is None else instant(window.announced_us),
        "announcement_event_id": _announcement_id(window, histories),
        "notice_given_seconds": None if notice is None else exact_seconds(notice),
        "notice_required_seconds": None if required is None else exact_seconds(required),
        "cancelled": window.cancelled,
        "excluded": excluded,
        "excluded_measured": [interval_shown(*s) for s in effect] if excluded else [],
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
            source.start_us,
            source.end_us,
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
        for r in subject_history(histories, "outage", outage.outage_id)
        if r.event.type == "outage.classified"
    ]
    return Exclusion(
        source.start_us,
        source.end_us,
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
    end = state.end_at(horizon_us)
    return {
        "start": instant(state.start_us),
        "end": instant(end),
        "seconds": exact_seconds(end - state.start_us),
        "ongoing": state.end_us is None,
        "impact_percent": str(state.impact_percent),
    }


def _spans_text(spans: Sequence[Interval]) -> str:
    return "; ".join(f"{instant(a)} to {instant(b)}" for a, b in spans)


def outage_facts(
    fate: OutageFate,
    measured_range: Sequence[Interval],
    exclusions: Sequence[Exclusion],
    horizon_us: int,
    histories: Histories,
    customer_id: str,
    floor: FloorDecisions,
) -> dict[str, Any]:
    """Raw, corrected, clipped, excluded and counted time of one outage, and why.

    Whether it is down time, and its clipped and down intervals, are the computation's
    (`fate`); whether its time counts is read from `floor`, the fate the computation
    gave each down interval (the Downtime section shows the same), so the outage's
    headline and the row's downtime cannot disagree; the intervals here only apportion
    that fate to this one outage.
    """
    outage, found, clipped, down = fate.outage, fate.interval, fate.clipped, fate.down
    history = subject_history(histories, "outage", outage.outage_id)
    raw = _first_report(history)
    excluded_parts: list[dict[str, Any]] = []
    for source in exclusions:
        for start, end in intervals.clip(clipped, source.start, source.end):
            excluded_parts.append(
                {
                    "interval": interval_shown(start, end),
                    "source": source.source,
                    "subject_id": source.subject_id,
                    "reason": source.reason,
                    "event_ids": ids(source.event_ids),
                }
            )
    for_customer = fate.not_down != "other_customers"
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
    elif fate.not_down == "retracted":
        by = "" if retraction is None else f" by event {retraction.event.event_id}"
        why = "" if retraction is None else retraction.event.payload.get("reason")
        status = "retracted"
        reason = f"retracted{by}" + (f' ("{why}")' if why else "") + ": it does not count at all"
    elif found is None and outage.end_us is None:
        status, reason = "empty", "does not count yet: it starts after the horizon"
    elif found is None:
        status, reason = "empty", "does not count: it ends at or before it starts"
    elif fate.not_down == "cause_excluded":
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
        "clipped": [interval_shown(*s) for s in clipped],
        "excluded": excluded_parts,
        "counted": [interval_shown(*s) for s in counted],
        "counted_seconds": exact_seconds(intervals.total(counted)),
        "below_floor": [interval_shown(*s) for s in dropped],
        "applies_to_customer": for_customer,
        "weight_percent": str(outage.impact_percent),
        "event_ids": ids(outage.event_ids),
    }


# -- downtime ------------------------------------------------------------------------


def _segment_facts(segment: DownSegment, *, kept: bool) -> dict[str, Any]:
    """One segment of a down interval; one the floor dropped weighs 0 s of downtime."""
    weight = segment.weight
    return {
        "interval": interval_shown(segment.start_us, segment.end_us),
        "weight_percent": weight_percent(weight),
        "weighted_seconds": exact_seconds(
            (segment.end_us - segment.start_us) * weight if kept else 0
        ),
        "outage_ids": sorted(o.outage_id for o in segment.outages),
        "event_ids": ids(*(o.event_ids for o in segment.outages)),
    }


@dataclass(frozen=True, slots=True)
class FloorDecisions:
    """The maximal down intervals the floor kept and those it dropped (§3), and which
    outages set the weight of each kept segment (the highest impact at that time)."""

    floor_us: int
    kept: list[Interval]
    dropped: list[Interval]
    weight_set_by: list[tuple[Interval, frozenset[str]]]
    covered_end: int


def floor_decisions(runs: Sequence[DownRun], floor_us: int, covered_end: int) -> FloorDecisions:
    """The floor's decisions as the computation recorded them, by interval."""
    return FloorDecisions(
        floor_us,
        [(run.start, run.end) for run in runs if run.kept],
        [(run.start, run.end) for run in runs if not run.kept],
        [
            ((segment.start_us, segment.end_us), frozenset(o.outage_id for o in segment.outages))
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
                f"{seconds_text(s.end_us - s.start_us)} × {weight_percent(s.weight)}%"
                for s in run.segments
            ]
        shown.append(
            {
                "interval": interval_shown(run.start, run.end),
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


# -- availability --------------------------------------------------------------------


def availability_facts(
    row: Row,
    terms: AvailabilityTerms,
    trace: AvailabilityTrace,
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
    shown = sorted(trace.outages, key=lambda f: (f.outage.start_us, f.outage.outage_id))
    # Windows first, then outages, each by start and id: the order they are listed in.
    exclusions = [
        exclusion(source, terms, histories)
        for source in sorted(
            trace.exclusions,
            key=lambda e: (e.maintenance is None, e.start_us, e.subject_id),
        )
    ]
    excluded_set, measured, excluded = trace.excluded_set, trace.measured_us, trace.excluded_us
    total_down, availability = trace.downtime_us, trace.availability_percent
    downtime = downtime_facts(trace.runs, total_down, terms.min_downtime_us)
    floor = floor_decisions(trace.runs, terms.min_downtime_us, covered_end)
    met = None if availability is None else meets_target(availability, terms.target_percent)
    outage_list = [
        outage_facts(fate, measured_range, exclusions, horizon_us, histories, customer, floor)
        for fate in shown
    ]
    return {
        "maintenance": windows,
        "outages": outage_list,
        "exclusions": {
            "intervals": [
                {
                    "interval": interval_shown(start, end),
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
        "credit_percent": str(row.availability_credit_percent),
        "event_ids": ids(
            *(w["event_ids"] for w in windows),
            *(o["event_ids"] for o in outage_list if o["applies_to_customer"]),
        ),
    }
