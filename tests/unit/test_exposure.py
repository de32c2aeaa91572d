"""Exposure of provisional rows (sla-math §8, outputs.md "Additions"), on pure folds.

Worked example 9 as the spec gives it; the projection's rules one by one; each pending
incident's `respond_by`; and, on generated months, the figures against an independent
reading of §8, the promise of `downtime_left_seconds` (exactly that much more full-impact
downtime keeps the projected tier, one microsecond more crosses it) and budget consumed
never falling as downtime grows.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from ledger.alerts import conditions
from ledger.attainment import Row
from ledger.business_time import BusinessCalendar
from ledger.exposure import Exposure
from ledger.inbound import validate_envelope
from ledger.incidents import fold_incident, judge, tally
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc, parse_rfc3339
from tests.builders import (
    OFFICE_HOURS,
    contract,
    ev,
    incident,
    maintenance,
    outage,
    period_rows,
    service,
)

MARCH = Period(2026, 3)
SECOND = 10**6
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
OFFICE = {"weekly": OFFICE_HOURS}  # Mon-Fri 08:00-18:00
TWO_TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]
FIELDS = (
    "projected_availability_percent",
    "budget_consumed_percent",
    "downtime_left_seconds",
    "next_tier_credit_percent",
    "projected_credit_amount",
    "credit_at_risk",
    "next_response_deadline",
)


def at(text: str) -> int:
    return to_us(parse_rfc3339(text))


def stamp(us: int) -> str:
    return format_utc(from_us(us))


def rows_at(
    documents: list[dict[str, Any]],
    horizon: str | int,
    period: Period = MARCH,
    closed_at: datetime | None = None,
) -> list[Row]:
    events = [validate_envelope(d) for d in documents]
    horizon_us = at(horizon) if isinstance(horizon, str) else horizon
    return period_rows(events, period, horizon_us, closed_at)


def one(documents: list[dict[str, Any]], horizon: str | int, **kwargs: Any) -> Row:
    rows = rows_at(documents, horizon, **kwargs)
    assert len(rows) == 1
    return rows[0]


def shown(row: Row) -> dict[str, Any]:
    """The seven exposure fields of the row's report line."""
    line = row.as_dict()
    return {name: line[name] for name in FIELDS}


def exposure(row: Row) -> Exposure:
    assert row.exposure is not None
    return row.exposure


def response_terms(hours: Any, targets: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "targets": targets or {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H"},
        "business_hours": hours,
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }


def classified(oid: str, occurred: str, cause: str) -> dict[str, Any]:
    return ev("outage.classified", occurred, {"outage_id": oid, "cause": cause, "reason": "RCA"})


# -- worked example 9 -------------------------------------------------------------------

H9 = "2026-03-10T12:00:00Z"
EXAMPLE_9 = [
    contract(services=[service(target="99.9", tiers=TWO_TIERS)]),
    *outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z"),
]


def test_worked_example_9() -> None:
    row = one(EXAMPLE_9, H9)
    assert shown(row) == {
        "projected_availability_percent": "99.9328",
        "budget_consumed_percent": "67.2043",
        "downtime_left_seconds": "878.4",
        "next_tier_credit_percent": "10",
        "projected_credit_amount": "0.00",
        "credit_at_risk": "100.00",
        "next_response_deadline": None,
    }
    # The exact values behind the text: M_end = 2,678,400 s, D_end = 1,800 s, B = 2,678.4 s.
    figures = exposure(row)
    assert figures.projected_availability_percent == Fraction(100 * (2_678_400 - 1_800), 2_678_400)
    assert figures.budget_consumed_percent == Fraction(100 * 1_800) / Fraction("2678.4")
    assert figures.next_threshold_percent == Decimal("99.9")
    assert figures.downtime_left_us == 878_400_000
    # The row itself is measured to the horizon only: its own figures are not the projection.
    assert row.as_dict()["measured_seconds"] == "820800"
    # Budget 50 is raised, 75 is not, and no tier is crossed.
    assert [(c.kind, c.threshold) for c in conditions(row)] == [("availability.budget", "50")]


# -- the projection's rules -------------------------------------------------------------


def test_an_outage_without_an_end_ends_at_the_horizon() -> None:
    terms = contract(services=[service(tiers=TWO_TIERS)])
    documents = [terms, *outage("O-1", "2026-03-10T11:30:00Z", None)]
    assert shown(one(documents, H9)) == shown(one(EXAMPLE_9, H9))
    # Ten minutes later it has grown to 40 minutes: 2,678.4 - 2,400 s left.
    later = shown(one(documents, "2026-03-10T12:10:00Z"))
    assert (later["budget_consumed_percent"], later["downtime_left_seconds"]) == (
        "89.6057",
        "278.4",
    )


def test_an_excluded_outage_without_an_end_is_excluded_up_to_the_horizon() -> None:
    documents = [
        *EXAMPLE_9,
        *outage("O-2", "2026-03-10T11:00:00Z", None),
        classified("O-2", "2026-03-10T11:05:00Z", "customer_caused"),
    ]
    figures = exposure(one(documents, H9))
    measured = 2_678_400 - 3_600
    assert figures.projected_availability_percent == Fraction(100 * (measured - 1_800), measured)
    assert figures.downtime_left_us == math.trunc(
        (Fraction(measured) * Fraction("0.1") / 100 - 1_800) * SECOND
    )


def test_an_outage_after_the_horizon_counts_in_full() -> None:
    terms = contract(services=[service(tiers=TWO_TIERS)])
    documents = [terms, *outage("O-1", "2026-03-20T08:00:00Z", "2026-03-20T08:30:00Z")]
    row = one(documents, H9)
    assert row.as_dict()["downtime_seconds"] == "0"
    assert shown(row) == shown(one(EXAMPLE_9, H9))


def test_measurement_is_not_cut_at_the_horizon() -> None:
    # Maintenance announced with notice for later in the month is excluded in full now.
    documents = [
        *EXAMPLE_9,
        maintenance("M-1", "2026-03-09T00:00:00Z", "2026-03-20T02:00:00Z", "2026-03-20T04:00:00Z"),
    ]
    figures = exposure(one(documents, H9))
    measured = 2_678_400 - 7_200
    assert figures.projected_availability_percent == Fraction(100 * (measured - 1_800), measured)
    assert figures.budget_consumed_percent == Fraction(100 * 1_800 * 1000, measured)


def test_a_partly_covered_month_is_projected_over_its_coverage() -> None:
    # Worked example 7's coverage (|C| = 1,382,400 s, fee basis 516.13), a 30 min outage
    # still to come: 99.8698% projected, already below 99.9 (10%), 99.0 next (25%).
    documents = [
        contract(effective_from="2026-03-16", services=[service(tiers=TWO_TIERS)]),
        *outage("O-1", "2026-03-20T08:00:00Z", "2026-03-20T08:30:00Z"),
    ]
    row = one(documents, "2026-03-17T00:00:00Z")
    assert shown(row) == {
        "projected_availability_percent": "99.8698",
        "budget_consumed_percent": "130.2083",
        "downtime_left_seconds": "12024",
        "next_tier_credit_percent": "25",
        "projected_credit_amount": "51.61",
        "credit_at_risk": "77.42",
        "next_response_deadline": None,
    }


def test_a_period_ended_but_not_closed_projects_its_actual_figures() -> None:
    # The open outage ends at the horizon, past the window: an hour counts in March.
    documents = [*EXAMPLE_9, *outage("O-2", "2026-03-31T23:00:00Z", None)]
    row = one(documents, "2026-04-02T00:00:00Z")
    line = row.as_dict()
    assert row.status == "provisional"
    assert line["downtime_seconds"] == "5400"
    assert exposure(row).projected_availability_percent == row.availability_percent
    assert line["projected_availability_percent"] == line["availability_percent"] == "99.7984"
    assert line["projected_credit_amount"] == line["credit_amount"] == "100.00"
    assert shown(row)["downtime_left_seconds"] == "21384"  # 26,784 - 5,400 s to 99.0
    assert (line["next_tier_credit_percent"], line["credit_at_risk"]) == ("25", "150.00")


def test_a_closed_row_reports_every_exposure_field_null() -> None:
    incidents = incident("I-1", "P1", "2026-03-31T17:45:00Z", None)
    documents = [
        contract(services=[service(tiers=TWO_TIERS, incident_response=response_terms("24x7"))]),
        *EXAMPLE_9[1:],
        *incidents,
    ]
    closed = one(documents, "2026-04-02T00:00:00Z", closed_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert closed.status == "closed"
    assert closed.exposure is None
    assert shown(closed) == dict.fromkeys(FIELDS)
    # The same row while provisional, its incident still pending, has every one of them.
    open_row = shown(one(documents, "2026-03-31T17:50:00Z"))
    assert None not in open_row.values()


def test_a_row_without_availability_terms_has_only_its_response_deadline() -> None:
    terms = service(availability=False, incident_response=response_terms(OFFICE))
    documents = [
        contract(services=[terms]),
        *incident("I-1", "P1", "2026-03-13T17:45:00Z", None),
    ]
    row = one(documents, "2026-03-14T00:00:00Z")
    assert shown(row) == {**dict.fromkeys(FIELDS), "next_response_deadline": "2026-03-16T08:00:00Z"}


def test_a_target_of_100_has_no_budget() -> None:
    tiers = [
        {"below_percent": "100", "credit_percent": "10"},
        {"below_percent": "99.0", "credit_percent": "25"},
    ]
    documents = [contract(services=[service(target="100", tiers=tiers)])]
    clean = shown(one(documents, H9))
    assert clean == {
        "projected_availability_percent": "100.0000",
        "budget_consumed_percent": None,  # B = 0
        "downtime_left_seconds": "0",  # not one microsecond more before 100 is crossed
        "next_tier_credit_percent": "10",
        "projected_credit_amount": "0.00",
        "credit_at_risk": "100.00",
        "next_response_deadline": None,
    }
    down = shown(one([*documents, *EXAMPLE_9[1:]], H9))
    assert down["budget_consumed_percent"] is None
    assert (down["next_tier_credit_percent"], down["downtime_left_seconds"]) == ("25", "24984")


def test_a_row_in_its_worst_tier_has_no_next_threshold() -> None:
    terms = contract(services=[service(tiers=TWO_TIERS)])
    documents = [terms, *outage("O-1", "2026-03-05T00:00:00Z", "2026-03-05T08:00:00Z")]
    row = one(documents, H9)
    assert exposure(row).next_threshold_percent is None
    assert shown(row) == {
        "projected_availability_percent": "98.9247",
        "budget_consumed_percent": "1075.2688",
        "downtime_left_seconds": None,
        "next_tier_credit_percent": None,
        "projected_credit_amount": "250.00",
        "credit_at_risk": None,
        "next_response_deadline": None,
    }


def test_no_measured_time_at_all_projects_nothing() -> None:
    # Maintenance with notice over the whole month: M_end = 0.
    documents = [
        *EXAMPLE_9,
        maintenance("M-1", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
    ]
    assert shown(one(documents, H9)) == {
        **dict.fromkeys(FIELDS),
        "projected_credit_amount": "0.00",  # §5 with no availability credit
    }


# -- respond_by -------------------------------------------------------------------------


def deadlines_of(row: Row) -> dict[str, str]:
    return {d.incident_id: format_utc(d.respond_by) for d in row.response_deadlines}


def response_row(
    hours: Any,
    incidents: list[tuple[str, str, str, str | None]],
    horizon: str,
    tz: str = "UTC",
    period: Period = MARCH,
) -> Row:
    documents = [
        contract(tz=tz, services=[service(incident_response=response_terms(hours))]),
        *(e for iid, p, opened, answered in incidents for e in incident(iid, p, opened, answered)),
    ]
    return one(documents, horizon, period=period)


def test_respond_by_waits_for_the_next_business_hours() -> None:
    # The spec's example: P1 PT15M, Mon-Fri 08:00-18:00, opened Friday 17:45.
    row = response_row(
        OFFICE, [("I-1", "P1", "2026-03-13T17:45:00Z", None)], "2026-03-14T00:00:00Z"
    )
    assert deadlines_of(row) == {"I-1": "2026-03-16T08:00:00Z"}
    assert row.as_dict()["next_response_deadline"] == "2026-03-16T08:00:00Z"


def test_respond_by_skips_holidays() -> None:
    hours = {"weekly": OFFICE_HOURS, "holidays": ["2026-12-25", "2026-12-28"]}
    # Thursday 24 December 17:50: ten minutes that day, then Friday 25 and Monday 28 are
    # holidays: five more minutes on Tuesday 29.
    row = response_row(
        hours,
        [("I-1", "P1", "2026-12-24T17:50:00Z", None)],
        "2026-12-24T18:00:00Z",
        period=Period(2026, 12),
    )
    assert deadlines_of(row) == {"I-1": "2026-12-29T08:05:00Z"}


def test_respond_by_across_the_spring_clock_change_in_berlin() -> None:
    # Friday 27 March 17:45 CET (16:45Z); Monday 08:00 is CEST after the 29th (06:00Z).
    row = response_row(
        OFFICE,
        [("I-1", "P1", "2026-03-27T16:45:00Z", None)],
        "2026-03-28T00:00:00Z",
        tz="Europe/Berlin",
    )
    assert deadlines_of(row) == {"I-1": "2026-03-30T06:00:00Z"}


def test_respond_by_across_the_autumn_clock_change_in_new_york() -> None:
    # Friday 30 October 17:45 EDT (21:45Z); Monday 2 November 08:00 is EST (13:00Z).
    row = response_row(
        OFFICE,
        [("I-1", "P1", "2026-10-30T21:45:00Z", None)],
        "2026-10-31T00:00:00Z",
        tz="America/New_York",
        period=Period(2026, 10),
    )
    assert deadlines_of(row) == {"I-1": "2026-11-02T13:00:00Z"}


def test_respond_by_in_24x7_is_elapsed_time_even_across_a_clock_change() -> None:
    # Berlin's night of 29 March has a 23-hour day: an hour of P2 is an hour of real time.
    row = response_row(
        "24x7",
        [("I-1", "P2", "2026-03-29T00:50:00Z", None), ("I-2", "P1", "2026-03-29T00:45:00Z", None)],
        "2026-03-29T00:55:00Z",
        tz="Europe/Berlin",
    )
    assert deadlines_of(row) == {"I-1": "2026-03-29T01:50:00Z", "I-2": "2026-03-29T01:00:00Z"}


def test_next_response_deadline_is_the_earliest_pending_one() -> None:
    row = response_row(
        OFFICE,
        [
            ("I-1", "P2", "2026-03-16T09:00:00Z", None),  # by 10:00
            ("I-2", "P1", "2026-03-16T09:30:00Z", None),  # by 09:45
            ("I-3", "P1", "2026-03-16T08:00:00Z", "2026-03-16T08:05:00Z"),  # met
            ("I-4", "P1", "2026-03-16T08:10:00Z", None),  # missed at 08:25
            ("I-5", "P3", "2026-03-16T09:35:00Z", None),  # by 13:35
            ("I-6", "P4", "2026-03-16T09:00:00Z", None),  # no P4 target: not measured
        ],
        "2026-03-16T09:40:00Z",
    )
    assert deadlines_of(row) == {
        "I-1": "2026-03-16T10:00:00Z",
        "I-2": "2026-03-16T09:45:00Z",
        "I-5": "2026-03-16T13:35:00Z",
    }
    assert row.missed_incidents == ("I-4",)
    assert row.as_dict()["next_response_deadline"] == "2026-03-16T09:45:00Z"


def test_respond_by_follows_the_latest_priority() -> None:
    # Opened as a P3 at 09:00 (by 13:00), raised to P1 at 09:05: by 09:15 from opening.
    raised = ev(
        "incident.reprioritized",
        "2026-03-16T09:05:00Z",
        {"incident_id": "I-1", "priority": "P1", "at": "2026-03-16T09:05:00Z"},
    )
    documents = [
        contract(services=[service(incident_response=response_terms(OFFICE))]),
        *incident("I-1", "P3", "2026-03-16T09:00:00Z", None),
    ]
    assert deadlines_of(one(documents, "2026-03-16T09:01:00Z")) == {"I-1": "2026-03-16T13:00:00Z"}
    row = one([*documents, raised], "2026-03-16T09:06:00Z")
    assert deadlines_of(row) == {"I-1": "2026-03-16T09:15:00Z"}
    assert [d.priority for d in row.response_deadlines] == ["P1"]


CALENDARS = [
    ("UTC", "24x7"),
    ("UTC", OFFICE),
    ("Europe/Berlin", {"weekly": OFFICE_HOURS, "holidays": ["2026-03-30", "2026-10-26"]}),
    ("America/New_York", {"weekly": {"sun": [["00:00", "24:00"]], "wed": [["09:30", "12:00"]]}}),
    ("Europe/Berlin", "24x7"),
]
TARGETS = {"P1": timedelta(minutes=15), "P2": timedelta(hours=1), "P3": timedelta(hours=4)}
YEAR_2026 = (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(CALENDARS),
    st.integers(*YEAR_2026),
    st.sampled_from(sorted(TARGETS)),
)
def test_answering_at_respond_by_is_met_and_a_microsecond_later_missed(
    calendar_terms: tuple[str, Any], opened_us: int, priority: str
) -> None:
    tz, hours = calendar_terms
    calendar = BusinessCalendar(tz, hours)
    opened = stamp(opened_us)

    def judged(answered: datetime | None, horizon: datetime) -> str | None:
        answer = None if answered is None else format_utc(answered)
        documents = incident("I-1", priority, opened, answer)
        state = fold_incident([validate_envelope(d) for d in documents])
        judgement = judge(state, TARGETS, calendar, horizon)
        assert judgement is not None
        return judgement.status

    state = fold_incident([validate_envelope(d) for d in incident("I-1", priority, opened, None)])
    start = from_us(opened_us)
    pending = judge(state, TARGETS, calendar, start)
    assert pending is not None
    assert pending.status == "pending"
    [deadline] = tally([pending], calendar).deadlines
    respond_by = deadline.respond_by
    tick = timedelta(microseconds=1)
    # The definition: the latest t whose business time from opened_at is within target.
    target_us = TARGETS[priority] // tick
    assert calendar.business_microseconds(start, respond_by) <= target_us
    assert calendar.business_microseconds(start, respond_by + tick) > target_us
    assert judged(respond_by, respond_by) == "met"
    assert judged(respond_by + tick, respond_by + tick) == "missed"
    # Unanswered: still pending at respond_by, missed one microsecond after.
    assert judged(None, respond_by) == "pending"
    assert judged(None, respond_by + tick) == "missed"


# -- generated months -------------------------------------------------------------------

PERIODS = [Period(2026, 2), Period(2026, 3), Period(2026, 10), Period(2026, 11)]
ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
THRESHOLDS = ["99.99", "99.95", "99.9", "99.5", "99", "97.5", "95", "90"]
NOTICE_TERM = 48 * HOUR


@dataclass(frozen=True)
class Down:
    start: int
    end: int | None  # None: still going, ends at the horizon
    impact: str = "100"
    excluded: bool = False  # classified `customer_caused`, an excluded cause
    # Counts for nothing at all: "retracted" (a false alarm) or "other" (another customer's)
    ignored: str | None = None


@dataclass(frozen=True)
class Scenario:
    period: Period
    tz: str
    effective_from: str
    target: str
    tiers: tuple[tuple[str, str], ...]
    floor_seconds: int
    cap: str
    horizon: int
    outages: tuple[Down, ...]
    maintenances: tuple[tuple[int, int, int, bool], ...]  # start, end, notice, cancelled
    incidents: tuple[tuple[int, int | None], ...]  # opened, answered after
    extra: tuple[Down, ...] = field(default=())

    @property
    def window(self) -> tuple[int, int]:
        return self.period.window(self.tz)

    @property
    def covered(self) -> tuple[int, int]:
        year, month, day = (int(part) for part in self.effective_from.split("-"))
        start = to_us(datetime(year, month, day, tzinfo=ZoneInfo(self.tz)))
        return max(start, self.window[0]), self.window[1]

    def documents(self) -> list[dict[str, Any]]:
        terms = service(
            target=self.target,
            tiers=[{"below_percent": b, "credit_percent": c} for b, c in self.tiers],
            min_downtime=self.floor_seconds,
            cap=self.cap,
            incident_response=response_terms("24x7", {"P1": "PT15M"}),
        )
        documents = [contract(tz=self.tz, effective_from=self.effective_from, services=[terms])]
        for n, down in enumerate((*self.outages, *self.extra)):
            end = None if down.end is None else stamp(down.end)
            customers = ["K-2"] if down.ignored == "other" else None
            documents += outage(f"O-{n}", stamp(down.start), end, down.impact, customers=customers)
            if down.excluded:
                documents.append(classified(f"O-{n}", stamp(down.start), "customer_caused"))
            if down.ignored == "retracted":
                retraction = {"outage_id": f"O-{n}", "reason": "false alarm"}
                documents.append(ev("outage.retracted", stamp(down.start + 1), retraction))
        for n, (begins, ends, notice, cancelled) in enumerate(self.maintenances):
            announced = stamp(begins - notice)
            documents.append(maintenance(f"M-{n}", announced, stamp(begins), stamp(ends)))
            if cancelled:
                cancel = {"maintenance_id": f"M-{n}"}
                documents.append(ev("maintenance.cancelled", stamp(begins - notice + 1), cancel))
        for n, (opened, after) in enumerate(self.incidents):
            answered = None if after is None else stamp(opened + after)
            documents += incident(f"I-{n}", "P1", stamp(opened), answered)
        return documents

    def row(self) -> Row:
        return one(self.documents(), self.horizon, period=self.period)

    def span(self, down: Down) -> tuple[int, int]:
        return down.start, self.horizon if down.end is None else down.end


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    period = draw(st.sampled_from(PERIODS))
    tz = draw(st.sampled_from(ZONES))
    start, end = period.window(tz)
    horizon = draw(st.integers(start - DAY, end + DAY))
    outages = []
    for _ in range(draw(st.integers(0, 5))):
        begins = draw(st.integers(start - 6 * HOUR, end))
        ongoing = begins < horizon and draw(st.booleans())
        length = draw(st.integers(1, 8 * HOUR))
        outages.append(
            Down(
                begins,
                None if ongoing else begins + length,
                draw(st.sampled_from(["100", "50", "25.5", "0.01"])),
                draw(st.integers(0, 4)) == 0,
                draw(st.sampled_from([None, None, None, None, "retracted", "other"])),
            )
        )
    maintenances = []
    for _ in range(draw(st.integers(0, 2))):
        begins = draw(st.integers(start - HOUR, end))
        notice = draw(st.sampled_from([24 * HOUR, NOTICE_TERM, 72 * HOUR]))
        ends = begins + draw(st.integers(MINUTE, 4 * HOUR))
        maintenances.append((begins, ends, notice, draw(st.integers(0, 3)) == 0))
    incidents = []
    for _ in range(draw(st.integers(0, 2))):
        opened = draw(st.integers(start, end - 1))
        incidents.append((opened, draw(st.none() | st.integers(0, 40 * MINUTE))))
    bounds = draw(st.lists(st.sampled_from(THRESHOLDS), min_size=1, max_size=3, unique=True))
    credits = st.sampled_from(["5", "10", "25", "50", "100"])
    return Scenario(
        period=period,
        tz=tz,
        effective_from=draw(st.sampled_from(["2026-01-01", f"{period.label}-10"])),
        target=draw(st.sampled_from(["99.9", "99.95", "99", "99.99", "100"])),
        tiers=tuple((b, draw(credits)) for b in bounds),
        floor_seconds=draw(st.sampled_from([0, 1, 30, 300])),
        cap=draw(st.sampled_from(["100", "30"])),
        horizon=horizon,
        outages=tuple(outages),
        maintenances=tuple(maintenances),
        incidents=tuple(incidents),
    )


def independent_projection(s: Scenario) -> tuple[int, Fraction]:
    """`M_end` and `D_end` as §8 reads, computed here on elementary segments (not with
    the ledger's interval code): open outages end at the horizon, everything else counts
    in full, nothing is cut at the horizon, runs shorter than the floor are dropped."""
    lo, hi = s.covered
    counted = [d for d in s.outages + s.extra if d.ignored is None]
    excluded = [s.span(d) for d in counted if d.excluded]
    excluded += [
        (b, e) for b, e, notice, off in s.maintenances if notice >= NOTICE_TERM and not off
    ]
    down = [(*s.span(d), Fraction(d.impact) / 100) for d in counted if not d.excluded]
    cuts = {lo, hi}
    for a, b in [*excluded, *((x, y) for x, y, _ in down)]:
        cuts.update(min(max(x, lo), hi) for x in (a, b))
    points = sorted(cuts)
    measured = 0
    runs: list[list[tuple[int, int, Fraction]]] = []
    for a, b in itertools.pairwise(points):
        if any(x <= a and b <= y for x, y in excluded):
            continue
        measured += b - a
        weight = max((w for x, y, w in down if x <= a and b <= y), default=Fraction(0))
        if weight == 0:
            continue
        if runs and runs[-1][-1][1] == a:
            runs[-1].append((a, b, weight))
        else:
            runs.append([(a, b, weight)])
    downtime = sum(
        (
            sum((Fraction(e - a) * w for a, e, w in run), Fraction(0))
            for run in runs
            if run[-1][1] - run[0][0] >= s.floor_seconds * SECOND
        ),
        Fraction(0),
    )
    return measured, downtime


def cents(value: Fraction) -> Decimal:
    """Half-up to the cent, for the positive amounts here (§5)."""
    return Decimal(math.floor(value * 100 + Fraction(1, 2))) / 100


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_the_projection_agrees_with_an_independent_reading_of_section_8(s: Scenario) -> None:
    row = s.row()
    figures = exposure(row)
    measured, downtime = independent_projection(s)
    note(f"M_end={measured} D_end={downtime}")
    projected = None if measured == 0 else 100 * (measured - downtime) / measured
    assert figures.projected_availability_percent == projected
    budget = measured * (100 - Fraction(s.target)) / 100
    assert figures.budget_consumed_percent == (None if budget == 0 else 100 * downtime / budget)

    def owed(percent: Fraction) -> Decimal:
        lo, hi = s.covered
        window = s.window[1] - s.window[0]
        total = min(percent + Fraction(row.response_credit_percent), Fraction(s.cap))
        return cents(Fraction(1000) * (hi - lo) / window * total / 100)

    tiers = sorted((Fraction(b), Fraction(c)) for b, c in s.tiers)
    credit = next((c for b, c in tiers if projected is not None and projected < b), Fraction(0))
    assert figures.projected_credit_amount == owed(credit)
    reachable = [(b, c) for b, c in tiers if projected is not None and projected >= b]
    if not reachable:
        assert (figures.downtime_left_us, figures.credit_at_risk) == (None, None)
        assert figures.next_tier_credit_percent is None
        return
    b, c = reachable[-1]
    assert figures.downtime_left_us == math.trunc(measured * (100 - b) / 100 - downtime)
    assert figures.next_tier_credit_percent == c
    assert figures.credit_at_risk == owed(c) - owed(credit)


def free_gaps(s: Scenario, length: int) -> list[tuple[int, int]]:
    """Where an outage of `length` fits in the covered range touching nothing else (no
    other outage, no maintenance window): a microsecond apart, so it is a run of its own
    and counts fully as downtime, not as excluded time."""
    taken = sorted(
        [(a - 1, b + 1) for a, b in map(s.span, s.outages) if b > a]
        + [(a - 1, b + 1) for a, b, *_ in s.maintenances]
    )
    gaps, cursor = [], s.covered[0]
    for a, b in [*taken, (s.covered[1], s.covered[1])]:
        if min(a, s.covered[1]) - cursor >= length:
            gaps.append((cursor, min(a, s.covered[1])))
        cursor = max(cursor, b)
    return gaps


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_downtime_left_is_exactly_what_the_projected_tier_can_take(
    s: Scenario, data: st.DataObject
) -> None:
    figures = exposure(s.row())
    assume(figures.downtime_left_us is not None)
    left = figures.downtime_left_us
    assert left is not None
    if left < s.floor_seconds * SECOND:
        # `downtime_left` ignores the floor (§8): an extra outage shorter than the floor
        # would be dropped and could not cross anything, so take the same month with no
        # floor (its own downtime left, as the floor changes the downtime already had).
        s = replace(s, floor_seconds=0)
        figures = exposure(s.row())
        left = figures.downtime_left_us
        assert left is not None
    assert figures.next_threshold_percent is not None
    bound = Fraction(figures.next_threshold_percent)
    gaps = free_gaps(s, left + 1)
    assume(gaps)
    lo, hi = data.draw(st.sampled_from(gaps))
    begins = data.draw(st.integers(lo, hi - left - 1))

    def with_extra(length: int) -> Exposure:
        return exposure(replace(s, extra=(Down(begins, begins + length),)).row())

    if left:
        kept = with_extra(left)
        assert kept.projected_availability_percent is not None
        assert kept.projected_availability_percent >= bound
        assert kept.projected_credit_amount == figures.projected_credit_amount
    crossed = with_extra(left + 1)
    assert crossed.projected_availability_percent is not None
    assert crossed.projected_availability_percent < bound
    # Crossing b owes exactly what was at risk: the next tier's credit, no more.
    owed, at_risk = figures.projected_credit_amount, figures.credit_at_risk
    assert owed is not None
    assert at_risk is not None
    assert crossed.projected_credit_amount == owed + at_risk


@st.composite
def more_downtime(draw: st.DrawFn, s: Scenario) -> Scenario:
    """The same month with more downtime: one more outage, or one of its own (not an
    excluded one: that would change measured time, not downtime) longer or heavier."""
    own = [n for n, d in enumerate(s.outages) if not d.excluded and d.ignored is None]
    how = draw(st.sampled_from(["add", "longer", "heavier"] if own else ["add"]))
    if how == "add":
        start, end = s.window
        begins = draw(st.integers(start - HOUR, end))
        impact = draw(st.sampled_from(["100", "50", "0.01"]))
        return replace(s, extra=(Down(begins, begins + draw(st.integers(1, 6 * HOUR)), impact),))
    n = draw(st.sampled_from(own))
    down = s.outages[n]
    if how == "longer":
        grown = down.end if down.end is None else down.end + draw(st.integers(1, 6 * HOUR))
        changed = replace(down, end=grown, start=down.start - draw(st.integers(0, HOUR)))
    else:
        changed = replace(down, impact="100")
    return replace(s, outages=(*s.outages[:n], changed, *s.outages[n + 1 :]))


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_budget_consumed_never_falls_as_downtime_grows(s: Scenario, data: st.DataObject) -> None:
    before = exposure(s.row())
    after = exposure(data.draw(more_downtime(s)).row())
    if before.budget_consumed_percent is None:
        assert after.budget_consumed_percent is None  # B = 0 either way: M is unchanged
        return
    assert after.budget_consumed_percent is not None
    assert after.budget_consumed_percent >= before.budget_consumed_percent
    assert before.projected_availability_percent is not None
    assert after.projected_availability_percent is not None
    assert after.projected_availability_percent <= before.projected_availability_percent
