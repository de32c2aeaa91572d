"""Resolution targets and pauses in the derivation (spec: sla-math §11): each incident's
business time to resolution, every paused interval and the business hours it removed,
the resolution time, its target and status, then the tally, the tier and the credit.

Lays out what `compute_row(..., trace=True)` recorded (`ledger.derivation.ResolutionTrace`);
computes nothing of its own.
"""

from __future__ import annotations

from typing import Any

from ledger.attainment import Row
from ledger.business_time import calendar_for
from ledger.contracts import ResponseTerms
from ledger.derivation import ResolutionTrace
from ledger.incidents import PausedSpan, ResolutionJudgement, resolution_target_at
from ledger.money import round_half_even
from ledger.periods import to_us
from ledger.timeformat import exact_seconds, format_utc, to_microseconds
from projections.queries.explain.wording import (
    business_hours_text,
    digits,
    duration_exact,
    ids,
    interval_shown,
    local_range_text,
    local_text,
    percent_value,
    target_verdict,
    tier_facts,
)


def resolution_clauses(terms: ResponseTerms) -> dict[str, Any] | None:
    """The terms' resolution clauses (None: the terms set no resolution targets)."""
    if terms.resolution_targets is None:
        return None
    return {
        "targets_seconds": {
            priority: exact_seconds(to_microseconds(target))
            for priority, target in sorted(terms.resolution_targets.items())
        },
        "credit_tiers": [
            {"below_percent": str(t.below_percent), "credit_percent": str(t.credit_percent)}
            for t in terms.resolution_credit_tiers
        ],
    }


def _pause_facts(span: PausedSpan, timezone: str) -> dict[str, Any]:
    pause = span.pause
    start, end = to_us(span.start), to_us(span.end)
    return {
        "start": format_utc(span.start),
        "end": format_utc(span.end),
        "local": local_range_text(start, end, timezone)
        if end > start
        else local_text(start, timezone),
        # Still open: it ends at the resolution, or at the horizon while unresolved.
        "open": pause.closed_by is None,
        "reason": pause.opened_by.reason,
        "paused_by": pause.opened_by.event_id,
        "resumed_by": None if pause.closed_by is None else pause.closed_by.event_id,
        "removed_seconds": exact_seconds(span.removed_us),
        "removed_text": duration_exact(span.removed_us),
        "removed_intervals": [
            {**interval_shown(*piece), "local": local_range_text(piece[0], piece[1], timezone)}
            for piece in span.removed_pieces
        ],
    }


def resolution_incident_facts(
    judgement: ResolutionJudgement, terms: ResponseTerms, timezone: str
) -> dict[str, Any]:
    """One incident's resolution as the computation judged it; `target_at` is the
    instant its resolution target runs out (`resolution_target_at`, over the
    computation's own calendar)."""
    deadline = resolution_target_at(judgement, calendar_for(timezone, terms.business_hours))
    state, priority, target_us = judgement.incident, judgement.priority, judgement.target_us
    taken, status = judgement.resolution_us, judgement.status
    until = judgement.measured_to
    arithmetic = (
        f"resolution time = {duration_exact(judgement.business_us)} of business time − "
        f"{duration_exact(judgement.paused_us)} paused = {duration_exact(taken)}"
    )
    so_far = "resolution time" if judgement.resolved else "resolution time so far (unresolved)"
    if target_us is None:
        verdict = f"not counted: priority {priority} has no resolution target in the terms"
    else:
        limit = f"the {priority} resolution target of {duration_exact(target_us)}"
        elapsed = f"{so_far} {duration_exact(taken)}"
        verdict = target_verdict(status, elapsed, taken, target_us, limit, "the resolution")
    return {
        "incident_id": state.incident_id,
        "opened_at": format_utc(judgement.opened_at),
        "opened_at_local": local_text(to_us(judgement.opened_at), timezone),
        "priority_used": priority,
        "priority_set_by": None if judgement.setting is None else judgement.setting.event_id,
        "target_seconds": None if target_us is None else exact_seconds(target_us),
        "target_text": None if target_us is None else duration_exact(target_us),
        "target_at": None if deadline is None else format_utc(deadline),
        "target_at_local": None if deadline is None else local_text(to_us(deadline), timezone),
        "resolved_at": None if state.resolved_at is None else format_utc(state.resolved_at),
        "resolved_at_local": None
        if state.resolved_at is None
        else local_text(to_us(state.resolved_at), timezone),
        "resolution_event_id": state.resolved_by,
        "measured_to": "resolution" if judgement.resolved else "horizon",
        "measured_to_at": format_utc(until),
        "measured_to_local": local_text(to_us(until), timezone),
        "business_seconds": exact_seconds(judgement.business_us),
        "business_text": duration_exact(judgement.business_us),
        "paused_intervals": [_pause_facts(span, timezone) for span in judgement.paused],
        "paused_seconds": exact_seconds(judgement.paused_us),
        "paused_text": duration_exact(judgement.paused_us),
        "resolution_seconds": exact_seconds(taken),
        "resolution_text": duration_exact(taken),
        "arithmetic": arithmetic,
        "status": status,
        "verdict": verdict,
        "event_ids": ids(state.event_ids),
    }


def resolution_facts(row: Row, terms: ResponseTerms, trace: ResolutionTrace) -> dict[str, Any]:
    """§11 incident by incident, as the computation judged them."""
    timezone = row.contract.timezone
    judgements = sorted(trace.judgements, key=lambda j: (j.opened_at, j.incident.incident_id))
    facts = [resolution_incident_facts(j, terms, timezone) for j in judgements]
    figures = trace.figures
    judged = figures.met + figures.missed
    attainment = figures.attainment_percent
    return {
        "business_hours": terms.business_hours,
        "business_hours_text": business_hours_text(terms.business_hours, timezone),
        "timezone": timezone,
        "rule": "resolution time is the business time from opening to the resolution (the "
        "last incident.resolved), or to the horizon while unresolved, less the paused "
        "intervals; pauses do not stop the response clock",
        "incidents": facts,
        "met": figures.met,
        "missed": figures.missed,
        "pending": figures.pending,
        "not_counted": sum(1 for f in facts if f["status"] is None),
        "attainment_percent": None if attainment is None else percent_value(attainment),
        "arithmetic": "no incident's resolution was met or missed: attainment is undefined "
        "and earns no credit"
        if attainment is None
        else f"attainment = 100 × met / (met + missed) = 100 × {figures.met} / {judged} = "
        f"{digits(attainment)}% (shown as {round_half_even(attainment, 4)}%)",
        "tier": tier_facts(trace.tier, "resolution attainment"),
        "credit_percent": str(row.resolution_credit_percent),
        "event_ids": ids(*(f["event_ids"] for f in facts)),
    }
