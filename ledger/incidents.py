"""Incident response: fold an incident's events, then judge it against response targets.

Spec: sla-math.md section 4; event shapes: events.md (`incident.*`). Pure: no I/O, no
clock. The horizon and the business calendar are arguments.
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
    {"incident.opened", "incident.responded", "incident.reprioritized", "incident.resolved"}
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
class IncidentState:
    """The fold of one incident's events.

    `priorities` is the priority history sorted by `PriorityChange.order_key`: the
    opening priority of the `incident.opened` that won (the last one in
    (occurred_at, event_id) order) plus every `incident.reprioritized`.
    `first_response_at` is the earliest `responded_at` of all `incident.responded`.
    `resolved_at` is that of the last `incident.resolved` in application order.
    `event_ids` lists the folded events in application order.
    """

    incident_id: str
    contract_id: str | None
    service_id: str | None
    opened_at: datetime | None
    priorities: tuple[PriorityChange, ...]
    first_response_at: datetime | None
    resolved_at: datetime | None
    event_ids: tuple[str, ...]


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
        else:  # incident.resolved
            resolved_at = parse_utc(str(payload["resolved_at"]))

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
    if not state.priorities:
        return None
    if state.first_response_at is None:
        return state.priorities[-1]
    first_response = state.first_response_at
    in_force = [c for c in state.priorities if c.at <= first_response]
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
