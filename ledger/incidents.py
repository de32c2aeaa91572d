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

from ledger.business_time import BusinessCalendar
from ledger.events import InboundEvent
from ledger.timeformat import parse_utc, to_microseconds

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


def priority_used(state: IncidentState) -> str | None:
    """The priority an incident is judged at (spec: sla-math.md section 4).

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
        return state.priorities[-1].priority
    first_response = state.first_response_at
    in_force = [c for c in state.priorities if c.at <= first_response]
    return (in_force[-1] if in_force else state.priorities[0]).priority


def incident_status(
    state: IncidentState,
    targets: Mapping[str, timedelta],
    calendar: BusinessCalendar,
    horizon: datetime,
) -> ResponseStatus | None:
    """met / missed / pending for one incident (spec: sla-math.md section 4).

    - responded, business time from `opened_at` to the first response `<=` target: met;
    - responded and over the target: missed;
    - not responded and business time from `opened_at` to `horizon` already strictly
      over the target: missed; otherwise pending.

    Returns None (the incident is not counted at all: neither met, missed nor pending)
    when `opened_at` is unknown (no `incident.opened` yet) or when the priority used has
    no target in `targets` (e.g. a P4 under terms that only set P1..P3).

    A recorded response is judged as such whatever the horizon (the horizon only bounds
    the wait of an unanswered incident). Resolution does not stop the response clock:
    an incident resolved without any response is judged as not responded.
    """
    if state.opened_at is None:
        return None
    priority = priority_used(state)
    if priority is None or priority not in targets:
        return None
    target = to_microseconds(targets[priority])
    if state.first_response_at is not None:
        taken = calendar.business_microseconds(state.opened_at, state.first_response_at)
        return "met" if taken <= target else "missed"
    waited = calendar.business_microseconds(state.opened_at, horizon)
    return "missed" if waited > target else "pending"


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    """Counts of one row's incidents and `response_attainment_percent`, exact.

    `attainment` is `100 × met / (met + missed)`, None when `met + missed == 0`.
    """

    met: int
    missed: int
    pending: int
    attainment: Fraction | None
    # The earliest horizon at which a pending incident turns missed with no new event
    # (None: nothing pending): the moment these figures change by time alone.
    changes_at: datetime | None = None


def response_figures(
    states: Iterable[IncidentState],
    targets: Mapping[str, timedelta],
    calendar: BusinessCalendar,
    horizon: datetime,
) -> ResponseFigures:
    """Tally `incident_status` over a row's incidents; uncounted (None) incidents are skipped.

    Selecting the row's incidents (contract, service, `opened_at` in the period window)
    is the caller's job.
    """
    counts: dict[ResponseStatus, int] = {"met": 0, "missed": 0, "pending": 0}
    changes: list[datetime] = []
    for state in states:
        status = incident_status(state, targets, calendar, horizon)
        if status is not None:
            counts[status] += 1
        if status == "pending":
            missed_at = missed_from(state, targets, calendar)
            if missed_at is not None:
                changes.append(missed_at)
    met, missed = counts["met"], counts["missed"]
    judged = met + missed
    attainment = Fraction(100 * met, judged) if judged else None
    return ResponseFigures(met, missed, counts["pending"], attainment, min(changes, default=None))


def missed_from(
    state: IncidentState, targets: Mapping[str, timedelta], calendar: BusinessCalendar
) -> datetime | None:
    """The first horizon at which `incident_status` calls this unanswered incident
    missed (its business time strictly over the target), or None when it is answered,
    not counted, or can never be over (a schedule without business hours)."""
    if state.opened_at is None or state.first_response_at is not None:
        return None
    priority = priority_used(state)
    if priority is None or priority not in targets:
        return None
    return calendar.first_instant_over(state.opened_at, to_microseconds(targets[priority]))
