"""Incident response (spec: sla-math.md section 4, worked example 8)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.business_time import BusinessCalendar
from ledger.events import InboundEvent
from ledger.incidents import (
    ONE_MICROSECOND,
    Deadline,
    IncidentState,
    ResponseFigures,
    ResponseStatus,
    fold_incident,
    judge,
    priority_used,
    tally,
)
from ledger.timeformat import format_utc, parse_rfc3339

TARGETS = {
    "P1": timedelta(minutes=15),
    "P2": timedelta(hours=1),
    "P3": timedelta(hours=4),
}
OFFICE = ["08:00", "18:00"]
MON_FRI = BusinessCalendar(
    "UTC", {"weekly": {d: [OFFICE] for d in ("mon", "tue", "wed", "thu", "fri")}}
)
ALWAYS = BusinessCalendar("UTC", "24x7")


def t(text: str) -> datetime:
    return parse_rfc3339(text)


def incident_status(
    state: IncidentState, calendar: BusinessCalendar, horizon: datetime
) -> ResponseStatus | None:
    """The status `judge` gives against `TARGETS`; None when not counted at all."""
    judgement = judge(state, TARGETS, calendar, horizon)
    return None if judgement is None else judgement.status


def response_figures(
    states: list[IncidentState], calendar: BusinessCalendar, horizon: datetime
) -> ResponseFigures:
    """The tally of a row's incidents, judged against `TARGETS`."""
    judgements = [judge(state, TARGETS, calendar, horizon) for state in states]
    return tally([j for j in judgements if j is not None], calendar)


def event_id(n: int) -> str:
    return str(uuid.UUID(int=n))


def ev(n: int, type_: str, occurred: str, incident: str = "INC-1", **payload: Any) -> InboundEvent:
    normalised = {
        k: (format_utc(t(v)) if k in ("opened_at", "responded_at", "at", "resolved_at") else v)
        for k, v in payload.items()
    }
    return InboundEvent(
        event_id=event_id(n),
        type=type_,
        schema_version=1,
        occurred_at=t(occurred),
        source="itsm",
        payload={"incident_id": incident, **normalised},
    )


def opened(
    n: int,
    at: str,
    priority: str = "P1",
    occurred: str | None = None,
    incident: str = "INC-1",
    contract: str = "C-1",
    service: str = "crm",
) -> InboundEvent:
    return ev(
        n,
        "incident.opened",
        occurred or at,
        incident,
        contract_id=contract,
        service_id=service,
        priority=priority,
        opened_at=at,
    )


def responded(
    n: int, at: str, occurred: str | None = None, incident: str = "INC-1"
) -> InboundEvent:
    return ev(n, "incident.responded", occurred or at, incident, responded_at=at)


def reprioritized(
    n: int, at: str, priority: str, occurred: str | None = None, incident: str = "INC-1"
) -> InboundEvent:
    return ev(n, "incident.reprioritized", occurred or at, incident, priority=priority, at=at)


def resolved(n: int, at: str, occurred: str | None = None, incident: str = "INC-1") -> InboundEvent:
    return ev(n, "incident.resolved", occurred or at, incident, resolved_at=at)


def status(
    state: IncidentState,
    horizon: str = "2027-01-01T00:00:00Z",
    calendar: BusinessCalendar = MON_FRI,
) -> str | None:
    return incident_status(state, calendar, t(horizon))


# -- worked example 8 ---------------------------------------------------------------------


def test_worked_example_8_is_missed() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-13T17:55:00Z", "P1"),  # Friday
            responded(2, "2026-03-16T08:12:00Z"),  # Monday: 17 business minutes
        ]
    )
    assert priority_used(state) == "P1"
    assert status(state) == "missed"


def test_response_exactly_at_target_is_met() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-13T17:55:00Z", "P1"),
            responded(2, "2026-03-16T08:10:00Z"),  # 5 + 10 = 15 business minutes
        ]
    )
    assert status(state) == "met"
    late = fold_incident(
        [
            opened(1, "2026-03-13T17:55:00Z", "P1"),
            responded(2, "2026-03-16T08:10:00.000001Z"),
        ]
    )
    assert status(late) == "missed"


def test_24x7_calendar_uses_elapsed_time() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-13T17:55:00Z", "P2"),
            responded(2, "2026-03-13T18:55:00Z"),
        ]
    )
    assert status(state, calendar=ALWAYS) == "met"
    assert status(state, calendar=MON_FRI) == "met"  # only 5 business minutes


# -- fold ---------------------------------------------------------------------------------


def test_fold_collects_the_incident() -> None:
    events = [
        resolved(4, "2026-03-16T10:00:00Z"),
        reprioritized(3, "2026-03-16T09:00:00Z", "P2"),
        responded(2, "2026-03-16T08:30:00Z"),
        opened(1, "2026-03-16T08:00:00Z", "P1"),
    ]
    state = fold_incident(events)
    assert state.incident_id == "INC-1"
    assert state.contract_id == "C-1"
    assert state.service_id == "crm"
    assert state.opened_at == t("2026-03-16T08:00:00Z")
    assert [(c.at, c.priority) for c in state.priorities] == [
        (t("2026-03-16T08:00:00Z"), "P1"),
        (t("2026-03-16T09:00:00Z"), "P2"),
    ]
    assert state.first_response_at == t("2026-03-16T08:30:00Z")
    assert state.resolved_at == t("2026-03-16T10:00:00Z")
    assert state.event_ids == tuple(event_id(n) for n in (1, 2, 3, 4))


def test_first_response_is_the_earliest_of_several() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T08:00:00Z", "P1"),
            responded(2, "2026-03-16T09:00:00Z", occurred="2026-03-16T09:00:00Z"),
            # Reported last, but it happened first.
            responded(3, "2026-03-16T08:10:00Z", occurred="2026-03-16T11:00:00Z"),
            responded(4, "2026-03-16T08:40:00Z"),
        ]
    )
    assert state.first_response_at == t("2026-03-16T08:10:00Z")
    assert status(state) == "met"


def test_last_opened_wins() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T08:00:00Z", "P1", contract="C-1"),
            opened(
                2,
                "2026-03-16T09:00:00Z",
                "P3",
                occurred="2026-03-16T10:00:00Z",
                contract="C-2",
                service="erp",
            ),
        ]
    )
    assert (state.contract_id, state.service_id) == ("C-2", "erp")
    assert state.opened_at == t("2026-03-16T09:00:00Z")
    assert [c.priority for c in state.priorities] == ["P3"]
    # Same occurred_at: the greater event_id is applied last and wins.
    tie = fold_incident(
        [
            opened(7, "2026-03-16T08:00:00Z", "P2", occurred="2026-03-16T10:00:00Z"),
            opened(5, "2026-03-16T07:00:00Z", "P1", occurred="2026-03-16T10:00:00Z"),
        ]
    )
    assert tie.opened_at == t("2026-03-16T08:00:00Z")
    assert priority_used(tie) == "P2"


def test_last_resolution_in_application_order_wins() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T08:00:00Z"),
            resolved(2, "2026-03-16T12:00:00Z", occurred="2026-03-16T12:00:00Z"),
            resolved(3, "2026-03-16T11:00:00Z", occurred="2026-03-16T13:00:00Z"),  # a correction
        ]
    )
    assert state.resolved_at == t("2026-03-16T11:00:00Z")


def test_duplicate_events_are_folded_once() -> None:
    first = opened(1, "2026-03-16T08:00:00Z")
    state = fold_incident([first, responded(2, "2026-03-16T08:05:00Z"), first])
    assert state.event_ids == (event_id(1), event_id(2))


def test_fold_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        fold_incident([])
    with pytest.raises(ValueError, match="several incidents"):
        fold_incident(
            [
                opened(1, "2026-03-16T08:00:00Z"),
                responded(2, "2026-03-16T08:05:00Z", incident="INC-2"),
            ]
        )
    with pytest.raises(ValueError, match="different contents"):
        fold_incident([opened(1, "2026-03-16T08:00:00Z"), opened(1, "2026-03-16T08:00:00Z", "P2")])
    not_incident = InboundEvent(
        event_id(9), "outage.started", 1, t("2026-03-16T08:00:00Z"), "mon", {"outage_id": "O-1"}
    )
    with pytest.raises(ValueError, match="not an incident event"):
        fold_incident([not_incident])


# -- priority used ------------------------------------------------------------------------


def test_reprioritised_before_first_response_is_used() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T10:00:00Z", "P3"),
            reprioritized(2, "2026-03-16T10:05:00Z", "P1"),
            responded(3, "2026-03-16T10:30:00Z"),  # 30 min: fine for P3, over for P1
        ]
    )
    assert priority_used(state) == "P1"
    assert status(state) == "missed"


def test_reprioritised_after_first_response_is_ignored() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T10:00:00Z", "P3"),
            responded(2, "2026-03-16T10:30:00Z"),
            reprioritized(3, "2026-03-16T11:00:00Z", "P1"),
        ]
    )
    assert priority_used(state) == "P3"
    assert status(state) == "met"


def test_reprioritised_exactly_at_first_response_is_used() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T10:00:00Z", "P3"),
            reprioritized(2, "2026-03-16T10:30:00Z", "P1"),
            responded(3, "2026-03-16T10:30:00Z"),
        ]
    )
    assert priority_used(state) == "P1"


def test_priority_ties_on_at_go_by_occurred_at_then_event_id() -> None:
    base = [opened(1, "2026-03-16T10:00:00Z", "P3"), responded(9, "2026-03-16T11:00:00Z")]
    by_occurred = fold_incident(
        [
            *base,
            reprioritized(3, "2026-03-16T10:20:00Z", "P1", occurred="2026-03-16T10:50:00Z"),
            reprioritized(2, "2026-03-16T10:20:00Z", "P2", occurred="2026-03-16T10:40:00Z"),
        ]
    )
    assert priority_used(by_occurred) == "P1"
    by_event_id = fold_incident(
        [
            *base,
            reprioritized(3, "2026-03-16T10:20:00Z", "P1", occurred="2026-03-16T10:40:00Z"),
            reprioritized(4, "2026-03-16T10:20:00Z", "P2", occurred="2026-03-16T10:40:00Z"),
        ]
    )
    assert priority_used(by_event_id) == "P2"


def test_without_response_the_latest_priority_is_used() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T10:00:00Z", "P3"),
            # Reported late, but set later than the other change: latest by `at`.
            reprioritized(2, "2026-03-16T12:00:00Z", "P1", occurred="2026-03-16T12:00:00Z"),
            reprioritized(3, "2026-03-16T11:00:00Z", "P2", occurred="2026-03-16T13:00:00Z"),
        ]
    )
    assert priority_used(state) == "P1"


def test_response_before_any_priority_uses_the_opening_priority() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T10:00:00Z", "P1"),
            responded(2, "2026-03-16T09:59:00Z"),  # clock skew between systems
            reprioritized(3, "2026-03-16T10:30:00Z", "P3"),
        ]
    )
    assert priority_used(state) == "P1"
    assert status(state) == "met"


def test_no_priority_at_all() -> None:
    state = fold_incident([responded(1, "2026-03-16T10:00:00Z")])
    assert priority_used(state) is None
    assert state.opened_at is None
    assert status(state) is None


# -- status against the horizon ------------------------------------------------------------


def test_unanswered_is_pending_until_business_time_exceeds_the_target() -> None:
    state = fold_incident([opened(1, "2026-03-13T17:55:00Z", "P1")])  # Friday
    assert status(state, "2026-03-13T17:58:00Z") == "pending"
    assert status(state, "2026-03-15T23:00:00Z") == "pending"  # weekend: still 5 min
    assert status(state, "2026-03-16T08:10:00Z") == "pending"  # exactly 15 min: not over
    assert status(state, "2026-03-16T08:10:00.000001Z") == "missed"
    assert status(state, "2026-03-13T17:00:00Z") == "pending"  # horizon before opening


def test_resolution_does_not_stop_the_response_clock() -> None:
    state = fold_incident(
        [
            opened(1, "2026-03-16T08:00:00Z", "P1"),
            resolved(2, "2026-03-16T08:05:00Z"),
        ]
    )
    assert status(state, "2026-03-16T08:10:00Z") == "pending"
    assert status(state, "2026-03-16T09:00:00Z") == "missed"


def test_a_response_is_judged_whatever_the_horizon() -> None:
    state = fold_incident([opened(1, "2026-03-16T08:00:00Z"), responded(2, "2026-03-16T08:05:00Z")])
    assert status(state, "2026-03-16T08:01:00Z") == "met"


def test_priority_without_target_is_not_counted() -> None:
    state = fold_incident([opened(1, "2026-03-16T08:00:00Z", "P4")])
    assert status(state) is None


def test_status_in_berlin_across_the_spring_change() -> None:
    berlin = BusinessCalendar("Europe/Berlin", {"weekly": {"fri": [OFFICE], "mon": [OFFICE]}})
    state = fold_incident(
        [
            opened(1, "2026-03-27T16:50:00Z", "P1"),  # Fri 17:50 CET
            responded(2, "2026-03-30T06:05:00Z"),  # Mon 08:05 CEST: 10 + 5 = 15 min
        ]
    )
    assert status(state, calendar=berlin) == "met"


# -- figures ------------------------------------------------------------------------------


def test_response_figures() -> None:
    met = fold_incident(
        [opened(1, "2026-03-16T08:00:00Z", "P1"), responded(2, "2026-03-16T08:05:00Z")]
    )
    met2 = fold_incident(
        [
            opened(3, "2026-03-16T08:00:00Z", "P2", incident="INC-2"),
            responded(4, "2026-03-16T08:55:00Z", incident="INC-2"),
        ]
    )
    missed = fold_incident(
        [
            opened(5, "2026-03-16T08:00:00Z", "P1", incident="INC-3"),
            responded(6, "2026-03-16T09:00:00Z", incident="INC-3"),
        ]
    )
    pending = fold_incident([opened(7, "2026-03-16T16:00:00Z", "P3", incident="INC-4")])
    uncounted = fold_incident([opened(8, "2026-03-16T08:00:00Z", "P4", incident="INC-5")])
    horizon = t("2026-03-16T17:00:00Z")
    figures = response_figures([met, met2, missed, pending, uncounted], MON_FRI, horizon)
    # The pending P3 (4 business hours) has 2 on Monday (16:00-18:00) and reaches its
    # target at 10:00 on Tuesday: missed from one microsecond later, with no new event.
    missed_from = t("2026-03-17T10:00:00Z") + timedelta(microseconds=1)
    # Its deadline is 10:00 itself (sla-math §8: answering then is still met), and the
    # late P1 is the one missed.
    deadline = Deadline(
        "INC-4", "P3", t("2026-03-16T16:00:00Z"), 4 * 3600 * 10**6, missed_from - ONE_MICROSECOND
    )
    assert figures == ResponseFigures(
        met=2,
        missed=1,
        pending=1,
        attainment_percent=Fraction(200, 3),
        changes_at=missed_from,
        deadlines=(deadline,),
        missed_ids=("INC-3",),
    )
    assert isinstance(figures.attainment_percent, Fraction)
    assert response_figures([met, missed], MON_FRI, horizon).changes_at is None


def test_attainment_is_null_with_nothing_judged() -> None:
    pending = fold_incident([opened(1, "2026-03-16T08:00:00Z", "P3")])
    horizon = t("2026-03-16T09:00:00Z")
    noon = t("2026-03-16T12:00:00Z")
    assert response_figures([pending], MON_FRI, horizon) == ResponseFigures(
        0,
        0,
        1,
        None,
        noon + ONE_MICROSECOND,
        (Deadline("INC-1", "P3", t("2026-03-16T08:00:00Z"), 4 * 3600 * 10**6, noon),),
    )
    assert response_figures([], MON_FRI, horizon) == ResponseFigures(0, 0, 0, None)


def test_all_met_is_100_and_all_missed_is_0() -> None:
    met = fold_incident([opened(1, "2026-03-16T08:00:00Z"), responded(2, "2026-03-16T08:01:00Z")])
    missed = fold_incident(
        [
            opened(3, "2026-03-16T08:00:00Z", incident="I-2"),
            responded(4, "2026-03-16T09:00:00Z", incident="I-2"),
        ]
    )
    horizon = t("2026-04-01T00:00:00Z")
    assert response_figures([met], MON_FRI, horizon).attainment_percent == 100
    assert response_figures([missed], MON_FRI, horizon).attainment_percent == 0


# -- property: input order does not matter ----------------------------------------------------

START = t("2026-03-13T06:00:00Z")


@st.composite
def incident_histories(draw: st.DrawFn) -> list[InboundEvent]:
    def instant() -> str:
        return format_utc(START + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60))))

    kinds = draw(
        st.lists(
            st.sampled_from(["opened", "responded", "reprioritized", "resolved"]),
            min_size=1,
            max_size=8,
        )
    )
    events: list[InboundEvent] = []
    for n, kind in enumerate(kinds):
        # Few distinct event ids and occurred_at values, so ties are common.
        n_id = draw(st.integers(0, 3)) * 100 + n
        occurred = draw(st.one_of(st.just(format_utc(START)), st.builds(instant)))
        priority = draw(st.sampled_from(["P1", "P2", "P3", "P4"]))
        at = instant()
        if kind == "opened":
            events.append(
                opened(
                    n_id,
                    at,
                    priority,
                    occurred=occurred,
                    contract=draw(st.sampled_from(["C-1", "C-2"])),
                )
            )
        elif kind == "responded":
            events.append(responded(n_id, at, occurred=occurred))
        elif kind == "reprioritized":
            events.append(reprioritized(n_id, at, priority, occurred=occurred))
        else:
            events.append(resolved(n_id, at, occurred=occurred))
    return events


@settings(max_examples=300, deadline=None)
@given(incident_histories(), st.randoms(use_true_random=False))
def test_fold_is_independent_of_input_order(events: list[InboundEvent], rnd: Any) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    state = fold_incident(events)
    assert fold_incident(shuffled) == state
    horizon = START + timedelta(days=3)
    assert priority_used(fold_incident(shuffled)) == priority_used(state)
    assert incident_status(fold_incident(shuffled), MON_FRI, horizon) == incident_status(
        state, MON_FRI, horizon
    )
