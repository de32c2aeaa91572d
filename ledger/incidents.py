"""Incidents: fold an incident's events, then judge it against its response targets
(sla-math.md §4) and its resolution targets with pauses (§11).

Event shapes: events.md (`incident.*`, and "Additions" for `incident.paused` and
`incident.resumed`). Pure: no I/O, no clock. The horizon and the business calendar are
arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

from ledger import intervals
from ledger.business_time import BusinessCalendar
from ledger.events import InboundEvent
from ledger.intervals import Interval
from ledger.periods import Period, local_date_of, to_us
from ledger.timeformat import exact_seconds, format_utc, parse_utc, to_microseconds

ResponseStatus = Literal["met", "missed", "pending"]

INCIDENT_EVENT_TYPES = frozenset(
    {
        "incident.opened",
        "incident.responded",
        "incident.reprioritized",
        "incident.resolved",
        "incident.paused",
        "incident.resumed",
    }
)


@dataclass(frozen=True, slots=True)
class PriorityChange:
    """A priority set by `incident.opened` (at = opened_at) or `incident.reprioritized`.

    Ordered by `at`, ties by the setting event's `occurred_at`, then `event_id`.
    """

    at: datetime
    priority: str
    occurred_at: datetime
    event_id: str

    @property
    def order_key(self) -> tuple[datetime, datetime, str]:
        return (self.at, self.occurred_at, self.event_id)


@dataclass(frozen=True, slots=True)
class PauseMark:
    """An `incident.paused` (`paused`, with its `reason`) or `incident.resumed`.

    Ordered by `at`, ties: pauses before resumes, then `occurred_at`, then `event_id`
    (spec: sla-math §11).
    """

    at: datetime
    paused: bool
    occurred_at: datetime
    event_id: str
    reason: str | None = None

    @property
    def order_key(self) -> tuple[datetime, int, datetime, str]:
        return (self.at, 0 if self.paused else 1, self.occurred_at, self.event_id)


@dataclass(frozen=True, slots=True)
class Pause:
    """One paused interval as the marks form it: the pause that opened it and the resume
    that closed it (None: still open, so it ends at the resolution or the horizon)."""

    opened_by: PauseMark
    closed_by: PauseMark | None

    @property
    def start(self) -> datetime:
        return self.opened_by.at

    @property
    def end(self) -> datetime | None:
        return None if self.closed_by is None else self.closed_by.at


@dataclass(frozen=True, slots=True)
class IncidentState:
    """The fold of one incident's events.

    `priorities` is the priority history sorted by `PriorityChange.order_key`: the
    opening priority of the `incident.opened` that won (the last one in
    (occurred_at, event_id) order) plus every `incident.reprioritized`.
    `first_response_at` is the earliest `responded_at` of all `incident.responded`.
    `resolved_at` is that of the last `incident.resolved` in application order (spec
    §11: the last one in (occurred_at, event_id) order is the resolution).
    `event_ids` lists the folded events in application order.
    `pause_marks` are its `incident.paused` / `incident.resumed` events, sorted by
    `PauseMark.order_key`; `pauses()` forms the paused intervals from them.
    """

    incident_id: str
    contract_id: str | None
    service_id: str | None
    opened_at: datetime | None
    priorities: tuple[PriorityChange, ...]
    first_response_at: datetime | None
    resolved_at: datetime | None
    event_ids: tuple[str, ...]
    pause_marks: tuple[PauseMark, ...] = ()
    resolved_by: str | None = None  # the event id of the resolution (`resolved_at`'s)

    def pauses(self) -> tuple[Pause, ...]:
        """The paused intervals (spec §11): the marks in order; a pause opens an interval
        unless one is open, a resume closes the open one (a resume with none open, and a
        pause while one is open, change nothing). Disjoint, in time order."""
        formed: list[Pause] = []
        open_by: PauseMark | None = None
        for mark in self.pause_marks:
            if mark.paused:
                if open_by is None:
                    open_by = mark
            elif open_by is not None:
                formed.append(Pause(open_by, mark))
                open_by = None
        if open_by is not None:
            formed.append(Pause(open_by, None))
        return tuple(formed)


def _application_order(event: InboundEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_id)


def fold_incident(events: Sequence[InboundEvent]) -> IncidentState:
    """Fold the events of one incident, in (occurred_at, event_id) order whatever the input order.

    The same `event_id` given twice (with identical content) is folded once. Raises
    `ValueError` for no events, a non-incident event, events of several incidents, or
    one `event_id` with two different contents.
    """
    if not events:
        raise ValueError("fold_incident needs at least one event")
    unique: dict[str, InboundEvent] = {}
    for event in events:
        if event.type not in INCIDENT_EVENT_TYPES:
            raise ValueError(f"not an incident event: {event.type} ({event.event_id})")
        seen = unique.get(event.event_id)
        if seen is None:
            unique[event.event_id] = event
        elif seen.canonical() != event.canonical():
            raise ValueError(f"event_id {event.event_id} given with two different contents")
    ordered = sorted(unique.values(), key=_application_order)
    incident_ids = {str(e.payload["incident_id"]) for e in ordered}
    if len(incident_ids) != 1:
        raise ValueError(f"events of several incidents: {sorted(incident_ids)}")

    contract_id: str | None = None
    service_id: str | None = None
    opened_at: datetime | None = None
    opening: PriorityChange | None = None
    reprioritizations: list[PriorityChange] = []
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    marks: list[PauseMark] = []
    for event in ordered:
        payload = event.payload
        if event.type == "incident.opened":
            contract_id = str(payload["contract_id"])
            service_id = str(payload["service_id"])
            opened_at = parse_utc(str(payload["opened_at"]))
            opening = PriorityChange(
                opened_at, str(payload["priority"]), event.occurred_at, event.event_id
            )
        elif event.type == "incident.reprioritized":
            reprioritizations.append(
                PriorityChange(
                    parse_utc(str(payload["at"])),
                    str(payload["priority"]),
                    event.occurred_at,
                    event.event_id,
                )
            )
        elif event.type == "incident.responded":
            responded_at = parse_utc(str(payload["responded_at"]))
            if first_response_at is None or responded_at < first_response_at:
                first_response_at = responded_at
        elif event.type == "incident.resolved":
            resolved_at = parse_utc(str(payload["resolved_at"]))
            resolved_by = event.event_id
        else:  # incident.paused / incident.resumed
            paused = event.type == "incident.paused"
            marks.append(
                PauseMark(
                    parse_utc(str(payload["at"])),
                    paused,
                    event.occurred_at,
                    event.event_id,
                    str(payload["reason"]) if paused else None,
                )
            )

    changes = [*reprioritizations, *([opening] if opening is not None else [])]
    return IncidentState(
        incident_id=incident_ids.pop(),
        contract_id=contract_id,
        service_id=service_id,
        opened_at=opened_at,
        priorities=tuple(sorted(changes, key=lambda c: c.order_key)),
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        event_ids=tuple(e.event_id for e in ordered),
        pause_marks=tuple(sorted(marks, key=lambda m: m.order_key)),
        resolved_by=resolved_by,
    )


def priority_setting(state: IncidentState) -> PriorityChange | None:
    """The priority change an incident is judged at (spec: sla-math.md section 4).

    The last priority set (by `at`, ties by `occurred_at`, then `event_id`) with
    `at <= first response`; with no response yet, the latest priority. None when no
    priority was ever set.

    Where the spec is silent: if the first response precedes every priority setting
    (a response stamped before the incident was opened), the earliest priority is used,
    the one the incident was opened with, rather than dropping the incident.
    """
    return _setting_at(state, state.first_response_at)


def resolution_priority_setting(state: IncidentState) -> PriorityChange | None:
    """The priority change an incident's resolution is judged at (spec §11): the latest
    set at or before the resolution; unresolved, the latest. As for the response, a
    resolution stamped before every priority setting takes the opening priority."""
    return _setting_at(state, state.resolved_at)


def _setting_at(state: IncidentState, moment: datetime | None) -> PriorityChange | None:
    """The last priority change with `at <= moment` (the earliest when none is; the
    latest when `moment` is None); None when no priority was ever set."""
    if not state.priorities:
        return None
    if moment is None:
        return state.priorities[-1]
    in_force = [c for c in state.priorities if c.at <= moment]
    return in_force[-1] if in_force else state.priorities[0]


def priority_used(state: IncidentState) -> str | None:
    """The priority of `priority_setting`, or None when no priority was ever set."""
    setting = priority_setting(state)
    return None if setting is None else setting.priority


def period_of(state: IncidentState, timezone: str) -> Period | None:
    """The period an incident counts in (spec §4): the one whose window W, in the
    contract's `timezone`, holds its `opened_at` (W runs from local midnight to local
    midnight, so the local date of `opened_at` names it). None before it is opened.
    The one rule of where an incident belongs; `belongs_to_row` is its test per row."""
    if state.opened_at is None:
        return None
    return Period.containing(local_date_of(to_us(state.opened_at), timezone))


def belongs_to_row(
    state: IncidentState, contract_id: str, service_id: str, window: tuple[int, int]
) -> bool:
    """Whether an incident counts on the row (contract, service, period with window
    `window`): `period_of` is that period, tested here against the row's window W (the
    same rule without converting `opened_at` to a local date, run for every row)."""
    return (
        state.opened_at is not None
        and state.contract_id == contract_id
        and state.service_id == service_id
        and window[0] <= to_us(state.opened_at) < window[1]
    )


@dataclass(frozen=True, slots=True)
class Judgement:
    """How one incident was judged, and from what (spec: sla-math.md section 4).

    `status` is met / missed / pending, or None when the incident is not counted (the
    priority used has no target). `business_pieces` are the parts of `[opened_at,
    measured_to)` within business hours; `business_us` is their total, the time the
    status is decided on. `measured_to` is the first response, or the horizon when
    there is none yet.
    """

    incident: IncidentState
    opened_at: datetime
    setting: PriorityChange | None
    target_us: int | None
    measured_to: datetime
    business_pieces: tuple[Interval, ...]
    business_us: int
    status: ResponseStatus | None

    @property
    def responded(self) -> bool:
        return self.incident.first_response_at is not None

    @property
    def priority(self) -> str | None:
        return None if self.setting is None else self.setting.priority


def judge(
    state: IncidentState,
    targets: Mapping[str, timedelta],
    calendar: BusinessCalendar,
    horizon: datetime,
) -> Judgement | None:
    """met / missed / pending for one incident, with what decided it (sla-math.md §4).

    - responded, business time from `opened_at` to the first response `<=` target: met;
    - responded and over the target: missed;
    - not responded and business time from `opened_at` to `horizon` already strictly
      over the target: missed; otherwise pending.

    None when `opened_at` is unknown (no `incident.opened` yet). The status is None (the
    incident is not counted at all: neither met, missed nor pending) when the priority
    used has no target in `targets` (e.g. a P4 under terms that only set P1..P3).

    A recorded response is judged as such whatever the horizon (the horizon only bounds
    the wait of an unanswered incident). Resolution does not stop the response clock:
    an incident resolved without any response is judged as not responded.
    """
    if state.opened_at is None:
        return None
    setting = priority_setting(state)
    target = None if setting is None else targets.get(setting.priority)
    target_us = None if target is None else to_microseconds(target)
    until = state.first_response_at if state.first_response_at is not None else horizon
    if calendar.is_24x7:
        # Elapsed time itself: no piece to build (most terms are 24x7).
        taken = calendar.business_microseconds(state.opened_at, until)
        pieces: tuple[Interval, ...] = ((to_us(state.opened_at), to_us(until)),) if taken else ()
    else:
        pieces = tuple(calendar.business_pieces(state.opened_at, until))
        taken = intervals.total(pieces)
    status: ResponseStatus | None
    if target_us is None:
        status = None
    elif state.first_response_at is not None:
        status = "met" if taken <= target_us else "missed"
    else:
        status = "missed" if taken > target_us else "pending"
    return Judgement(state, state.opened_at, setting, target_us, until, pieces, taken, status)


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    """Counts of one row's incidents and `response_attainment_percent`, exact.

    `attainment` is `100 × met / (met + missed)`, None when `met + missed == 0`.
    """

    met: int
    missed: int
    pending: int
    attainment_percent: Fraction | None
    # The earliest horizon at which a pending incident turns missed with no new event
    # (None: nothing pending): the moment these figures change by time alone.
    changes_at: datetime | None = None
    # Each pending incident's deadline (spec §8) and the ids of the missed ones, in the
    # order judged: what early warning reads.
    deadlines: tuple[Deadline, ...] = ()
    missed_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A pending incident's `respond_by`: the latest instant `t` at which the business
    time of `[opened_at, t)` does not exceed its target (spec: sla-math §8). Responding
    at `respond_by` is met; from one microsecond later it is missed (§4)."""

    incident_id: str
    priority: str | None
    opened_at: datetime
    target_us: int
    respond_by: datetime

    def as_dict(self) -> dict[str, str | None]:
        """As a pending incident is listed (`exposure`, `explain`)."""
        return {
            "incident_id": self.incident_id,
            "priority": self.priority,
            "opened_at": format_utc(self.opened_at),
            "target_seconds": exact_seconds(self.target_us),
            "respond_by": format_utc(self.respond_by),
        }


def tally(judgements: Iterable[Judgement], calendar: BusinessCalendar) -> ResponseFigures:
    """Count a row's judged incidents; uncounted ones (status None) are skipped.

    Selecting the row's incidents (`belongs_to_row`) is the caller's job.
    """
    counts: dict[ResponseStatus, int] = {"met": 0, "missed": 0, "pending": 0}
    deadlines: list[Deadline] = []
    missed_ids: list[str] = []
    for judgement in judgements:
        status = judgement.status
        if status is None:
            continue
        counts[status] += 1
        if status == "missed":
            missed_ids.append(judgement.incident.incident_id)
        elif status == "pending" and judgement.target_us is not None:
            missed_at = calendar.first_instant_over(judgement.opened_at, judgement.target_us)
            if missed_at is not None:
                deadlines.append(
                    Deadline(
                        judgement.incident.incident_id,
                        judgement.priority,
                        judgement.opened_at,
                        judgement.target_us,
                        missed_at - ONE_MICROSECOND,
                    )
                )
    met, missed = counts["met"], counts["missed"]
    judged = met + missed
    attainment = Fraction(100 * met, judged) if judged else None
    changes = min((d.respond_by for d in deadlines), default=None)
    return ResponseFigures(
        met,
        missed,
        counts["pending"],
        attainment,
        None if changes is None else changes + ONE_MICROSECOND,
        tuple(deadlines),
        tuple(missed_ids),
    )


ONE_MICROSECOND = timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------
# Resolution targets and pauses (spec: sla-math §11).


@dataclass(frozen=True, slots=True)
class PausedSpan:
    """One paused interval as it counted: `start`/`end` as formed (an interval still
    open ends at the resolution, or at the horizon while unresolved), and the business
    time it removed from `[opened_at, end of measurement)`, with its pieces."""

    pause: Pause
    start: datetime
    end: datetime
    removed_pieces: tuple[Interval, ...]
    removed_us: int


@dataclass(frozen=True, slots=True)
class ResolutionJudgement:
    """How one incident's resolution was judged, and from what (spec §11).

    `status` is met / missed / pending, or None when the priority used has no
    resolution target (not counted). `measured_to` is the resolution, or the horizon
    while unresolved; `business_us` the business time of `[opened_at, measured_to)`;
    `paused` each paused interval with what it removed (`paused_us` in all);
    `resolution_us = business_us - paused_us`, the time the status is decided on.
    """

    incident: IncidentState
    opened_at: datetime
    setting: PriorityChange | None
    target_us: int | None
    measured_to: datetime
    business_us: int
    paused: tuple[PausedSpan, ...]
    paused_us: int
    resolution_us: int
    status: ResponseStatus | None

    @property
    def resolved(self) -> bool:
        return self.incident.resolved_at is not None

    @property
    def priority(self) -> str | None:
        return None if self.setting is None else self.setting.priority


def _pieces(calendar: BusinessCalendar, a: datetime, b: datetime) -> tuple[Interval, ...]:
    """The business pieces of `[a, b)` (one piece, the range itself, for 24x7)."""
    if b <= a:
        return ()
    if calendar.is_24x7:
        return ((to_us(a), to_us(b)),)
    return tuple(calendar.business_pieces(a, b))


def judge_resolution(
    state: IncidentState,
    targets: Mapping[str, timedelta],
    calendar: BusinessCalendar,
    horizon: datetime,
) -> ResolutionJudgement | None:
    """met / missed / pending for one incident's resolution (sla-math §11).

    - resolved with resolution time `<=` target: met; resolved over it: missed;
    - unresolved and resolution time at `horizon` strictly over the target: missed;
      otherwise pending.

    Resolution time = business time of `[opened_at, end) − P`, `end` the resolution
    (the last `incident.resolved`) or `horizon` while unresolved, `P` the paused set.
    The paused intervals are disjoint, so what `P` removes is the sum of what each
    interval removes. A recorded resolution is judged as such whatever the horizon, as
    a recorded response is (§4). None when `opened_at` is unknown.
    """
    if state.opened_at is None:
        return None
    opened = state.opened_at
    setting = resolution_priority_setting(state)
    target = None if setting is None else targets.get(setting.priority)
    target_us = None if target is None else to_microseconds(target)
    end = state.resolved_at if state.resolved_at is not None else horizon
    business_us = calendar.business_microseconds(opened, end) if end > opened else 0
    spans: list[PausedSpan] = []
    for pause in state.pauses():
        until = end if pause.end is None else pause.end
        removed = _pieces(calendar, max(pause.start, opened), min(until, end))
        spans.append(PausedSpan(pause, pause.start, until, removed, intervals.total(removed)))
    paused_us = sum(span.removed_us for span in spans)
    taken = business_us - paused_us
    status: ResponseStatus | None
    if target_us is None:
        status = None
    elif state.resolved_at is not None:
        status = "met" if taken <= target_us else "missed"
    else:
        status = "missed" if taken > target_us else "pending"
    return ResolutionJudgement(
        state, opened, setting, target_us, end, business_us, tuple(spans), paused_us, taken, status
    )


def resolution_missed_at(
    judgement: ResolutionJudgement, calendar: BusinessCalendar
) -> datetime | None:
    """The earliest horizon at which a pending, unresolved incident's resolution time
    exceeds its target with no new event (the paused intervals as recorded; one still
    open never ends): the moment it turns missed. None when it never does (paused with
    no resume, or no business hours ahead), it is resolved, or there is no target."""
    state, target_us = judgement.incident, judgement.target_us
    if target_us is None or state.resolved_at is not None:
        return None
    spans = [(pause.start, pause.end) for pause in state.pauses()]
    return _first_over(calendar, judgement.opened_at, spans, target_us)


def resolution_target_at(
    judgement: ResolutionJudgement, calendar: BusinessCalendar
) -> datetime | None:
    """The instant an incident's resolution target runs out: the latest `t` at which the
    business time of `[opened_at, t)` less the paused set does not exceed the target, so
    a resolution then is met (for a resolved incident, its paused intervals as judged;
    unresolved, as recorded, one still open never ending). None without a target, or
    when it never runs out (paused with no resume, no business hours ahead)."""
    if judgement.target_us is None:
        return None
    if judgement.resolved:
        spans: list[tuple[datetime, datetime | None]] = [
            (span.start, span.end) for span in judgement.paused
        ]
        over = _first_over(calendar, judgement.opened_at, spans, judgement.target_us)
    else:
        over = resolution_missed_at(judgement, calendar)
    return None if over is None else over - ONE_MICROSECOND


def _first_over(
    calendar: BusinessCalendar,
    opened: datetime,
    paused: Sequence[tuple[datetime, datetime | None]],
    target_us: int,
) -> datetime | None:
    """The earliest `h` at which the business time of `[opened, h)` less the `paused`
    intervals (disjoint, in time order; an end of None never comes) exceeds `target_us`.
    Walks the gaps between the pauses with `BusinessCalendar.first_instant_over`."""
    remaining = target_us
    cursor = opened
    for start, end in paused:
        if end is not None and end <= cursor:
            continue
        if start > cursor:
            gap = calendar.business_microseconds(cursor, start)
            if gap > remaining:
                return calendar.first_instant_over(cursor, remaining)
            remaining -= gap
        if end is None:
            return None
        cursor = max(cursor, end)
    return calendar.first_instant_over(cursor, remaining)


@dataclass(frozen=True, slots=True)
class ResolutionFigures:
    """Counts of one row's incidents judged for resolution, and
    `resolution_attainment_percent = 100 × met / (met + missed)` (None when none),
    exact; `changes_at`: the earliest horizon at which a pending one turns missed with
    no new event (None: none does)."""

    met: int
    missed: int
    pending: int
    attainment_percent: Fraction | None
    changes_at: datetime | None = None


NO_RESOLUTIONS = ResolutionFigures(0, 0, 0, None, None)


def tally_resolutions(
    judgements: Iterable[ResolutionJudgement], calendar: BusinessCalendar
) -> ResolutionFigures:
    """Count a row's resolution judgements; uncounted ones (status None) are skipped."""
    counts: dict[ResponseStatus, int] = {"met": 0, "missed": 0, "pending": 0}
    changes: datetime | None = None
    for judgement in judgements:
        status = judgement.status
        if status is None:
            continue
        counts[status] += 1
        if status == "pending":
            missed_at = resolution_missed_at(judgement, calendar)
            if missed_at is not None and (changes is None or missed_at < changes):
                changes = missed_at
    met, missed = counts["met"], counts["missed"]
    judged = met + missed
    return ResolutionFigures(
        met, missed, counts["pending"], Fraction(100 * met, judged) if judged else None, changes
    )
