"""Resolution targets and pauses (spec: sla-math.md §11, worked example 12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.business_time import BusinessCalendar
from ledger.events import InboundEvent
from ledger.incidents import (
    IncidentState,
    ResolutionJudgement,
    fold_incident,
    judge,
    judge_resolution,
    resolution_missed_at,
    tally_resolutions,
)
from ledger.timeformat import format_utc
from tests.unit.test_incidents import (
    MON_FRI,
    TARGETS,
    ev,
    opened,
    reprioritized,
    resolved,
    responded,
    t,
)

HOUR = 3_600_000_000
RESOLUTION = {"P1": timedelta(hours=4), "P2": timedelta(hours=8), "P3": timedelta(days=1)}
FAR = t("2027-01-01T00:00:00Z")
# Mon-Fri 08:00-18:00 with Friday 6 March 2026 a holiday.
WITH_HOLIDAY = BusinessCalendar(
    "UTC",
    {
        "weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-03-06"],
    },
)


def paused(
    n: int, at: str, occurred: str | None = None, reason: str = "waiting on the customer"
) -> InboundEvent:
    return ev(n, "incident.paused", occurred or at, at=at, reason=reason)


def resumed(n: int, at: str, occurred: str | None = None) -> InboundEvent:
    return ev(n, "incident.resumed", occurred or at, at=at)


def judged(
    events: list[InboundEvent],
    horizon: datetime = FAR,
    calendar: BusinessCalendar = MON_FRI,
) -> ResolutionJudgement:
    judgement = judge_resolution(fold_incident(events), RESOLUTION, calendar, horizon)
    assert judgement is not None
    return judgement


# -- worked example 12 ------------------------------------------------------------------


def example_12() -> list[InboundEvent]:
    return [
        opened(1, "2026-03-02T09:00:00Z", "P2"),
        paused(2, "2026-03-02T11:00:00Z"),
        resumed(3, "2026-03-03T10:00:00Z"),
        resolved(4, "2026-03-03T16:00:00Z"),
    ]


def test_worked_example_12_is_met() -> None:
    judgement = judged(example_12())
    assert judgement.business_us == 17 * HOUR
    assert judgement.paused_us == 9 * HOUR
    assert judgement.resolution_us == 8 * HOUR
    assert judgement.target_us == 8 * HOUR
    assert judgement.status == "met"
    [span] = judgement.paused
    assert (span.start, span.end) == (t("2026-03-02T11:00:00Z"), t("2026-03-03T10:00:00Z"))
    assert span.removed_us == 9 * HOUR
    # Monday 11:00-18:00 and Tuesday 08:00-10:00.
    assert len(span.removed_pieces) == 2


def test_worked_example_12_one_microsecond_later_is_missed() -> None:
    events = [*example_12()[:3], resolved(4, "2026-03-03T16:00:00.000001Z")]
    judgement = judged(events)
    assert judgement.resolution_us == 8 * HOUR + 1
    assert judgement.status == "missed"


def test_worked_example_12_without_the_pause_is_missed() -> None:
    events = [example_12()[0], example_12()[3]]
    assert judged(events).resolution_us == 17 * HOUR
    assert judged(events).status == "missed"


# -- the rules --------------------------------------------------------------------------


def test_the_last_resolution_in_event_order_counts() -> None:
    events = [
        opened(1, "2026-03-02T09:00:00Z", "P2"),
        resolved(2, "2026-03-02T10:00:00Z", occurred="2026-03-02T10:00:00Z"),
        # Reopened and resolved again: the later event counts, not the earlier instant.
        resolved(3, "2026-03-03T12:00:00Z", occurred="2026-03-03T12:00:00Z"),
    ]
    assert judged(events).measured_to == t("2026-03-03T12:00:00Z")
    assert judged(events).status == "missed"  # 9 h + 4 h
    # Ties on occurred_at: the greater event_id is later.
    events = [
        opened(1, "2026-03-02T09:00:00Z", "P2"),
        resolved(9, "2026-03-02T10:00:00Z", occurred="2026-03-04T00:00:00Z"),
        resolved(3, "2026-03-03T12:00:00Z", occurred="2026-03-04T00:00:00Z"),
    ]
    assert judged(events).measured_to == t("2026-03-02T10:00:00Z")
    assert judged(events).status == "met"


def test_unresolved_is_pending_until_over_target_then_missed() -> None:
    events = [opened(1, "2026-03-02T09:00:00Z", "P1")]
    assert judged(events, t("2026-03-02T13:00:00Z")).status == "pending"
    assert judged(events, t("2026-03-02T13:00:00.000001Z")).status == "missed"
    judgement = judged(events, t("2026-03-02T10:00:00Z"))
    assert resolution_missed_at(judgement, MON_FRI) == t("2026-03-02T13:00:00.000001Z")


def test_an_open_pause_ends_at_the_horizon_and_stops_the_clock() -> None:
    events = [opened(1, "2026-03-02T09:00:00Z", "P1"), paused(2, "2026-03-02T12:00:00Z")]
    judgement = judged(events, t("2026-03-20T00:00:00Z"))
    assert judgement.resolution_us == 3 * HOUR
    assert judgement.status == "pending"
    [span] = judgement.paused
    assert span.end == t("2026-03-20T00:00:00Z")
    # Paused with no resume: time alone never makes it missed.
    assert resolution_missed_at(judgement, MON_FRI) is None


def test_an_open_pause_ends_at_the_resolution() -> None:
    events = [
        opened(1, "2026-03-02T09:00:00Z", "P1"),
        paused(2, "2026-03-02T12:00:00Z"),
        resolved(3, "2026-03-03T12:00:00Z"),
    ]
    judgement = judged(events)
    assert judgement.paused[0].end == t("2026-03-03T12:00:00Z")
    assert judgement.resolution_us == 3 * HOUR
    assert judgement.status == "met"


def test_a_resume_after_the_horizon_counts_once_the_horizon_reaches_it() -> None:
    events = [
        opened(1, "2026-03-02T09:00:00Z", "P1"),
        paused(2, "2026-03-02T12:00:00Z"),
        resumed(3, "2026-03-04T08:00:00Z"),
    ]
    judgement = judged(events, t("2026-03-03T00:00:00Z"))
    assert judgement.status == "pending"
    # 3 h before the pause, 1 h after the resume: over at Wednesday 09:00 and a microsecond.
    assert resolution_missed_at(judgement, MON_FRI) == t("2026-03-04T09:00:00.000001Z")
    assert judged(events, t("2026-03-04T09:00:00Z")).status == "pending"
    assert judged(events, t("2026-03-04T09:00:00.000001Z")).status == "missed"


def test_nested_pauses_and_stray_resumes() -> None:
    events = [
        opened(1, "2026-03-02T08:00:00Z", "P2"),
        resumed(2, "2026-03-02T09:00:00Z"),  # nothing open: changes nothing
        paused(3, "2026-03-02T10:00:00Z"),
        paused(4, "2026-03-02T11:00:00Z"),  # one is open: changes nothing
        resumed(5, "2026-03-02T12:00:00Z"),
        resumed(6, "2026-03-02T13:00:00Z"),  # nothing open again
        resolved(7, "2026-03-02T18:00:00Z"),
    ]
    judgement = judged(events)
    assert [(s.start, s.end) for s in judgement.paused] == [
        (t("2026-03-02T10:00:00Z"), t("2026-03-02T12:00:00Z"))
    ]
    assert judgement.resolution_us == 8 * HOUR


def test_ties_on_at_put_pauses_before_resumes() -> None:
    # A resume and a pause at the same instant: the pause goes first, so the resume
    # closes it at once and nothing is paused, whatever order they arrived in.
    events = [
        opened(1, "2026-03-02T08:00:00Z", "P2"),
        resumed(2, "2026-03-02T10:00:00Z", occurred="2026-03-02T09:00:00Z"),
        paused(3, "2026-03-02T10:00:00Z", occurred="2026-03-02T11:00:00Z"),
        resolved(4, "2026-03-02T18:00:00Z"),
    ]
    judgement = judged(events)
    assert [(s.start, s.end) for s in judgement.paused] == [
        (t("2026-03-02T10:00:00Z"), t("2026-03-02T10:00:00Z"))
    ]
    assert judgement.paused_us == 0
    assert judgement.resolution_us == 10 * HOUR


def test_a_pause_before_opening_removes_only_what_follows_the_opening() -> None:
    events = [
        opened(1, "2026-03-02T10:00:00Z", "P2"),
        paused(2, "2026-03-02T08:00:00Z"),
        resumed(3, "2026-03-02T12:00:00Z"),
        resolved(4, "2026-03-02T18:00:00Z"),
    ]
    judgement = judged(events)
    assert judgement.paused_us == 2 * HOUR
    assert judgement.resolution_us == 6 * HOUR


def test_priority_used_is_the_latest_set_at_or_before_the_resolution() -> None:
    base = [opened(1, "2026-03-02T09:00:00Z", "P1"), resolved(2, "2026-03-02T14:00:00Z")]
    # P1 (4 h): 5 h is missed; reprioritised to P2 (8 h) before the resolution: met.
    assert judged(base).status == "missed"
    before = [*base, reprioritized(3, "2026-03-02T13:00:00Z", "P2")]
    assert judged(before).priority == "P2"
    assert judged(before).status == "met"
    exactly = [*base, reprioritized(3, "2026-03-02T14:00:00Z", "P2")]
    assert judged(exactly).priority == "P2"
    after = [*base, reprioritized(3, "2026-03-02T15:00:00Z", "P2")]
    assert judged(after).priority == "P1"
    # Unresolved: the latest.
    unresolved = [base[0], reprioritized(3, "2026-03-09T15:00:00Z", "P3")]
    assert judged(unresolved, t("2026-03-03T00:00:00Z")).priority == "P3"


def test_a_priority_without_resolution_target_is_not_counted() -> None:
    events = [opened(1, "2026-03-02T09:00:00Z", "P4"), resolved(2, "2026-03-20T09:00:00Z")]
    judgement = judged(events)
    assert judgement.status is None
    figures = tally_resolutions([judgement], MON_FRI)
    assert (figures.met, figures.missed, figures.pending) == (0, 0, 0)
    assert figures.attainment_percent is None


def test_pauses_do_not_affect_the_response_clock() -> None:
    base = [opened(1, "2026-03-02T09:00:00Z", "P1"), responded(2, "2026-03-02T09:20:00Z")]
    with_pause = [*base, paused(3, "2026-03-02T09:01:00Z"), resumed(4, "2026-03-02T09:30:00Z")]
    plain = judge(fold_incident(base), TARGETS, MON_FRI, FAR)
    paused_one = judge(fold_incident(with_pause), TARGETS, MON_FRI, FAR)
    assert plain is not None
    assert paused_one is not None
    assert plain.business_us == paused_one.business_us == 20 * 60_000_000
    assert plain.status == paused_one.status == "missed"


def test_tally_and_attainment() -> None:
    met = judged(example_12())
    missed = judged([example_12()[0], example_12()[3]])
    pending = judged([opened(1, "2026-03-02T09:00:00Z", "P3")], t("2026-03-02T10:00:00Z"))
    figures = tally_resolutions([met, missed, missed, pending], MON_FRI)
    assert (figures.met, figures.missed, figures.pending) == (1, 2, 1)
    assert figures.attainment_percent is not None
    assert figures.attainment_percent * 3 == 100
    # P3 is one (24 h) day of business time: 09:00 Monday plus 24 business hours.
    assert figures.changes_at == t("2026-03-04T13:00:00.000001Z")


def test_a_pause_across_a_weekend_and_a_holiday_removes_only_business_time() -> None:
    # Opened Thursday 5 March 16:00; paused 17:00; Friday 6 March is a holiday; resumed
    # Monday 9 March 09:00; resolved 12:00. Business time: Thursday 16:00-18:00 and
    # Monday 08:00-12:00, 6 h; the pause removes Thursday 17:00-18:00 and Monday
    # 08:00-09:00, 2 h (Friday, the weekend and the nights remove nothing): 4 h.
    events = [
        opened(1, "2026-03-05T16:00:00Z", "P1"),
        paused(2, "2026-03-05T17:00:00Z"),
        resumed(3, "2026-03-09T09:00:00Z"),
        resolved(4, "2026-03-09T12:00:00Z"),
    ]
    judgement = judged(events, calendar=WITH_HOLIDAY)
    assert judgement.business_us == 6 * HOUR
    assert judgement.paused_us == 2 * HOUR
    assert judgement.resolution_us == 4 * HOUR
    assert judgement.status == "met"


# -- properties -------------------------------------------------------------------------

START = t("2026-03-02T00:00:00Z")  # a Monday


def minutes(n: int) -> str:
    return format_utc(START + timedelta(minutes=n))


@st.composite
def histories(draw: st.DrawFn) -> list[InboundEvent]:
    """One incident's events: an opening, maybe resolutions, pauses and resumes, with
    few distinct instants so that ties are common."""
    span = 14 * 24 * 60
    events = [
        opened(
            0, minutes(draw(st.integers(0, span // 2))), draw(st.sampled_from(["P1", "P2", "P3"]))
        )
    ]
    kinds = draw(
        st.lists(st.sampled_from(["paused", "resumed", "resolved", "reprioritized"]), max_size=8)
    )
    for n, kind in enumerate(kinds, start=1):
        at = minutes(draw(st.integers(0, span // 60)) * 60)
        occurred = minutes(draw(st.integers(0, 3)))
        n_id = draw(st.integers(0, 2)) * 100 + n
        if kind == "paused":
            events.append(paused(n_id, at, occurred))
        elif kind == "resumed":
            events.append(resumed(n_id, at, occurred))
        elif kind == "resolved":
            events.append(resolved(n_id, at, occurred))
        else:
            events.append(reprioritized(n_id, at, draw(st.sampled_from(["P1", "P2"])), occurred))
    return events


@settings(max_examples=200, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.integers(0, 21 * 24))
def test_the_order_of_one_incident_s_events_does_not_matter(
    events: list[InboundEvent], rnd: Any, hours: int
) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    horizon = START + timedelta(hours=hours)
    assert fold_incident(shuffled) == fold_incident(events)
    assert judged(shuffled, horizon, WITH_HOLIDAY) == judged(events, horizon, WITH_HOLIDAY)


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(0, 21 * 24))
def test_pauses_never_increase_resolution_time(events: list[InboundEvent], hours: int) -> None:
    horizon = START + timedelta(hours=hours)
    without = [e for e in events if e.type not in ("incident.paused", "incident.resumed")]
    with_pauses = judged(events, horizon, WITH_HOLIDAY)
    plain = judged(without, horizon, WITH_HOLIDAY)
    assert 0 <= with_pauses.resolution_us <= plain.resolution_us
    assert with_pauses.business_us == plain.business_us
    assert with_pauses.resolution_us == plain.resolution_us - with_pauses.paused_us


# Non-business instants of the first two weeks of March 2026 under WITH_HOLIDAY, as
# (start, length in minutes) ranges: nights, the weekends and the holiday.
def _closed_ranges() -> list[tuple[datetime, int]]:
    ranges = []
    for day in range(14):
        midnight = START + timedelta(days=day)
        if midnight.weekday() >= 5 or midnight.date().isoformat() == "2026-03-06":
            ranges.append((midnight, 24 * 60))
        else:
            ranges.append((midnight, 8 * 60))
            ranges.append((midnight + timedelta(hours=18), 6 * 60))
    return ranges


CLOSED = _closed_ranges()


@settings(max_examples=200, deadline=None)
@given(
    histories(),
    st.integers(0, len(CLOSED) - 1),
    st.integers(0, 24 * 60),
    st.integers(0, 24 * 60),
    st.integers(0, 21 * 24),
)
def test_a_pause_in_non_business_time_removes_nothing(
    events: list[InboundEvent], which: int, a: int, b: int, hours: int
) -> None:
    start, length = CLOSED[which]
    lo, hi = sorted((min(a, length), min(b, length)))
    without = [e for e in events if e.type not in ("incident.paused", "incident.resumed")]
    extra = [
        paused(900, format_utc(start + timedelta(minutes=lo))),
        resumed(901, format_utc(start + timedelta(minutes=hi))),
    ]
    horizon = START + timedelta(hours=hours)
    with_pause = judged([*without, *extra], horizon, WITH_HOLIDAY)
    plain = judged(without, horizon, WITH_HOLIDAY)
    assert with_pause.paused_us == 0
    assert with_pause.resolution_us == plain.resolution_us
    assert with_pause.status == plain.status


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(0, 14 * 24))
def test_missed_at_is_the_first_horizon_over_the_target(
    events: list[InboundEvent], hours: int
) -> None:
    """With no new event, a pending incident is pending one microsecond before
    `resolution_missed_at` and missed at it."""
    unresolved = [e for e in events if e.type != "incident.resolved"]
    horizon = START + timedelta(hours=hours)
    judgement = judged(unresolved, horizon, WITH_HOLIDAY)
    if judgement.status != "pending":
        return
    at = resolution_missed_at(judgement, WITH_HOLIDAY)
    if at is None:
        later = judged(unresolved, horizon + timedelta(days=60), WITH_HOLIDAY)
        assert later.status == "pending"
        return
    assert at > horizon
    assert judged(unresolved, at - timedelta(microseconds=1), WITH_HOLIDAY).status == "pending"
    assert judged(unresolved, at, WITH_HOLIDAY).status == "missed"


def test_state_defaults_keep_old_constructors() -> None:
    state = IncidentState("I", "C", "S", None, (), None, None, ())
    assert state.pauses() == ()


def test_the_resolution_target_runs_out_after_the_paused_time() -> None:
    from ledger.incidents import resolution_target_at

    # Example 12: 2 h before the pause (Mon 09:00-11:00), then from Tue 10:00 six more
    # business hours: the target runs out at Tue 16:00, where the resolution came.
    assert resolution_target_at(judged(example_12()), MON_FRI) == t("2026-03-03T16:00:00Z")
    # Still paused and unresolved: it never runs out.
    events = [opened(1, "2026-03-02T09:00:00Z", "P1"), paused(2, "2026-03-02T10:00:00Z")]
    assert resolution_target_at(judged(events, t("2026-03-03T00:00:00Z")), MON_FRI) is None
    # An open pause ends at the resolution: the clock runs again after it.
    events = [*events, resolved(3, "2026-03-02T12:00:00Z")]
    assert resolution_target_at(judged(events), MON_FRI) == t("2026-03-02T15:00:00Z")


# -- the row (spec §11 with §5 and §8) --------------------------------------------------


def _row_documents(
    resolution: dict[str, Any] | None, cap: str = "100", extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    from tests.builders import OFFICE_HOURS, contract, ev, service

    terms: dict[str, Any] = {
        "targets": {"P2": "PT1H"},
        "business_hours": {"weekly": OFFICE_HOURS},
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    if resolution is not None:
        terms.update(resolution)
    tiers = [
        {"below_percent": "99.9", "credit_percent": "10"},
        {"below_percent": "99.0", "credit_percent": "25"},
    ]
    docs = [contract(services=[service(tiers=tiers, incident_response=terms, cap=cap)])]
    # Example 12's incident, answered at once, and a P2 opened Wednesday 4 March 09:00,
    # never answered nor resolved.
    for iid, day in (("I-12", "02"), ("I-W", "04")):
        opened_at = f"2026-03-{day}T09:00:00Z"
        docs.append(
            ev(
                "incident.opened",
                opened_at,
                {
                    "incident_id": iid,
                    "contract_id": "C-1",
                    "service_id": "crm",
                    "priority": "P2",
                    "opened_at": opened_at,
                },
            )
        )
    docs += [
        ev(
            "incident.responded",
            "2026-03-02T09:10:00Z",
            {"incident_id": "I-12", "responded_at": "2026-03-02T09:10:00Z"},
        ),
        ev(
            "incident.paused",
            "2026-03-02T11:00:00Z",
            {"incident_id": "I-12", "at": "2026-03-02T11:00:00Z", "reason": "logs"},
        ),
        ev(
            "incident.resumed",
            "2026-03-03T10:00:00Z",
            {"incident_id": "I-12", "at": "2026-03-03T10:00:00Z"},
        ),
        ev(
            "incident.resolved",
            "2026-03-03T16:00:00Z",
            {"incident_id": "I-12", "resolved_at": "2026-03-03T16:00:00Z"},
        ),
        *(extra or []),
    ]
    return docs


RESOLUTION_TERMS = {
    "resolution_targets": {"P2": "PT8H"},
    "resolution_credit_tiers": [
        {"below_percent": "100", "credit_percent": "10"},
        {"below_percent": "60", "credit_percent": "20"},
    ],
}


def _one_row(documents: list[dict[str, Any]], horizon: str) -> Any:
    from ledger.inbound import validate_envelope
    from ledger.periods import Period, to_us
    from tests.builders import period_rows

    [row] = period_rows(
        [validate_envelope(d) for d in documents], Period(2026, 3), to_us(t(horizon))
    )
    return row


def test_the_row_counts_resolutions_and_adds_their_credit() -> None:
    # Wednesday 12:00: I-12 met; I-W has 3 business hours of 8: pending.
    row = _one_row(_row_documents(RESOLUTION_TERMS), "2026-03-04T12:00:00Z")
    line = row.as_dict()
    fields = list(line)
    at = fields.index("response_credit_percent")
    assert fields[at + 1 : at + 7] == [
        "resolution_met",
        "resolution_missed",
        "resolution_pending",
        "resolution_attainment_percent",
        "resolution_credit_percent",
        "credit_percent",
    ]
    assert (line["resolution_met"], line["resolution_missed"], line["resolution_pending"]) == (
        1,
        0,
        1,
    )
    assert line["resolution_attainment_percent"] == "100.0000"
    assert line["resolution_credit_percent"] == "0"
    # The response of I-W missed (unanswered past 1 h): 50%, the 5% tier.
    assert line["response_credit_percent"] == "5"
    assert line["credit_percent"] == "5"
    # I-W turns missed one microsecond after 17:00 Wednesday (8 business hours).
    assert row.changes_at_us is not None
    from ledger.periods import to_us

    assert row.changes_at_us <= to_us(t("2026-03-04T17:00:00.000001Z"))
    later = _one_row(_row_documents(RESOLUTION_TERMS), "2026-03-04T17:00:00.000001Z").as_dict()
    assert (later["resolution_met"], later["resolution_missed"]) == (1, 1)
    assert later["resolution_attainment_percent"] == "50.0000"
    assert later["resolution_credit_percent"] == "20"
    assert later["credit_percent"] == "25"
    assert later["credit_amount"] == "250.00"
    # §8: the projection keeps the row's current response and resolution credits.
    assert later["projected_credit_amount"] == "250.00"
    assert later["credit_at_risk"] == "100.00"  # the 10% availability tier on top


def test_the_cap_applies_to_the_three_credits_together() -> None:
    row = _one_row(_row_documents(RESOLUTION_TERMS, cap="22"), "2026-03-31T00:00:00Z").as_dict()
    assert (row["response_credit_percent"], row["resolution_credit_percent"]) == ("5", "20")
    assert row["credit_percent"] == "22"


def test_without_resolution_targets_the_row_is_as_before() -> None:
    row = _one_row(_row_documents(None), "2026-03-31T00:00:00Z").as_dict()
    assert row["resolution_met"] is None
    assert row["resolution_missed"] is None
    assert row["resolution_pending"] is None
    assert row["resolution_attainment_percent"] is None
    assert row["resolution_credit_percent"] == "0"
    assert row["credit_percent"] == "5"
    # Tiers without targets measure nothing either.
    tiers_only = {"resolution_credit_tiers": RESOLUTION_TERMS["resolution_credit_tiers"]}
    assert _one_row(_row_documents(tiers_only), "2026-03-31T00:00:00Z").as_dict() == row


def test_a_resume_recorded_later_moves_the_row_s_change_moment() -> None:
    from tests.builders import ev

    pause = [
        ev(
            "incident.paused",
            "2026-03-04T10:00:00Z",
            {"incident_id": "I-W", "at": "2026-03-04T10:00:00Z", "reason": "x"},
        ),
    ]
    paused_row = _one_row(_row_documents(RESOLUTION_TERMS, extra=pause), "2026-03-04T12:00:00Z")
    # Paused with no resume: the resolution never turns missed by time alone; the row
    # still changes as the horizon moves through the month (measurement runs to it).
    from ledger.periods import to_us

    assert paused_row.changes_at_us == to_us(t("2026-03-04T12:00:00.000001Z"))
    after_month = _one_row(_row_documents(RESOLUTION_TERMS, extra=pause), "2026-04-02T00:00:00Z")
    assert after_month.changes_at_us is None
    assert after_month.as_dict()["resolution_pending"] == 1
    resumed = [
        *pause,
        ev(
            "incident.resumed",
            "2026-03-05T08:00:00Z",
            {"incident_id": "I-W", "at": "2026-03-05T08:00:00Z"},
        ),
    ]
    # 1 h before the pause, 7 h from Thursday 08:00: missed from 15:00 Thursday.
    row = _one_row(_row_documents(RESOLUTION_TERMS, extra=resumed), "2026-04-02T00:00:00Z")
    assert row.as_dict()["resolution_missed"] == 1
    early = _one_row(_row_documents(RESOLUTION_TERMS, extra=resumed), "2026-03-05T12:00:00Z")
    assert early.as_dict()["resolution_pending"] == 1


def _independent_resolution_minutes(
    events: list[InboundEvent], horizon: datetime
) -> tuple[int, str]:
    """§11 read anew, minute by minute (every instant of `histories` is a whole minute):
    the resolution time in minutes and the priority used, with Mon-Fri 08:00-18:00 UTC
    and 6 March 2026 a holiday."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    opened_at = next(t(e.payload["opened_at"]) for e in ordered if e.type == "incident.opened")
    resolutions = [t(e.payload["resolved_at"]) for e in ordered if e.type == "incident.resolved"]
    end = resolutions[-1] if resolutions else horizon
    marks = sorted(
        (t(e.payload["at"]), 0 if e.type == "incident.paused" else 1, e.occurred_at, e.event_id)
        for e in events
        if e.type in ("incident.paused", "incident.resumed")
    )
    paused: list[tuple[datetime, datetime]] = []
    open_at: datetime | None = None
    for at, kind, _, _ in marks:
        if kind == 0 and open_at is None:
            open_at = at
        elif kind == 1 and open_at is not None:
            paused.append((open_at, at))
            open_at = None
    if open_at is not None:
        paused.append((open_at, end))
    minutes = 0
    moment = opened_at
    while moment < end:
        working = (
            moment.weekday() < 5
            and moment.date().isoformat() != "2026-03-06"
            and 8 <= moment.hour < 18
        )
        if working and not any(a <= moment < b for a, b in paused):
            minutes += 1
        moment += timedelta(minutes=1)
    settings_ = sorted(
        [
            (
                t(e.payload["opened_at"] if e.type == "incident.opened" else e.payload["at"]),
                e.occurred_at,
                e.event_id,
                e.payload["priority"],
            )
            for e in events
            if e.type in ("incident.opened", "incident.reprioritized")
        ]
    )
    # Only the last incident.opened in event order sets the opening priority.
    last_opening = ordered[max(i for i, e in enumerate(ordered) if e.type == "incident.opened")]
    settings_ = [
        s
        for s in settings_
        if not (
            s[2] != last_opening.event_id
            and any(e.event_id == s[2] and e.type == "incident.opened" for e in events)
        )
    ]
    if resolutions:
        in_force = [s for s in settings_ if s[0] <= end]
        priority = (in_force[-1] if in_force else settings_[0])[3]
    else:
        priority = settings_[-1][3]
    return minutes, priority


@settings(max_examples=80, deadline=None)
@given(histories(), st.integers(0, 21 * 24))
def test_resolution_time_agrees_with_an_independent_reading(
    events: list[InboundEvent], hours: int
) -> None:
    horizon = START + timedelta(hours=hours)
    judgement = judged(events, horizon, WITH_HOLIDAY)
    minutes, priority = _independent_resolution_minutes(events, horizon)
    assert judgement.resolution_us == minutes * 60_000_000
    assert judgement.priority == priority
    target = RESOLUTION.get(priority)
    if target is None:
        assert judgement.status is None
    else:
        limit = int(target.total_seconds()) // 60
        resolved = any(e.type == "incident.resolved" for e in events)
        if resolved:
            assert judgement.status == ("met" if minutes <= limit else "missed")
        else:
            assert judgement.status == ("missed" if minutes > limit else "pending")


def test_a_pause_across_the_spring_clock_change_in_berlin() -> None:
    # Mon-Fri 08:00-18:00 Europe/Berlin; clocks go forward on Sunday 29 March 2026.
    # Opened Fri 27 March 09:00 CET, paused 17:00 CET, resumed Mon 30 March 09:00 CEST,
    # resolved 12:00 CEST: 9 h Friday + 4 h Monday = 13 h; the pause removes Friday
    # 17:00-18:00 and Monday 08:00-09:00, 2 h: 11 h.
    berlin = BusinessCalendar(
        "Europe/Berlin",
        {"weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}},
    )
    events = [
        opened(1, "2026-03-27T08:00:00Z", "P3"),
        paused(2, "2026-03-27T16:00:00Z"),
        resumed(3, "2026-03-30T07:00:00Z"),
        resolved(4, "2026-03-30T10:00:00Z"),
    ]
    judgement = judged(events, calendar=berlin)
    assert judgement.business_us == 13 * HOUR
    assert judgement.paused_us == 2 * HOUR
    assert judgement.resolution_us == 11 * HOUR
    assert judgement.status == "met"  # P3: one day, 24 business hours
