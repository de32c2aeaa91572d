"""Business time (spec: sla-math.md section 4, worked example 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.business_time import BusinessCalendar, parse_slot
from ledger.errors import InvalidInputError

MINUTE = 60 * 1_000_000
HOUR = 60 * MINUTE

OFFICE = ["08:00", "18:00"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MON_FRI: dict[str, Any] = {
    "weekly": {day: [OFFICE] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": [],
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local(zone: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A local wall time (fold=0) as a UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def schedule(holidays: list[str] | None = None, **days: list[list[str]]) -> dict[str, Any]:
    return {"weekly": days, "holidays": holidays or []}


# -- worked example 8 and plain UTC schedules ------------------------------------------


def test_worked_example_8_friday_to_monday_is_17_business_minutes() -> None:
    cal = BusinessCalendar("UTC", MON_FRI)
    opened = utc("2026-03-13T17:55:00Z")  # Friday
    answered = utc("2026-03-16T08:12:00Z")  # Monday
    assert cal.business_microseconds(opened, answered) == 17 * MINUTE
    assert cal.business_microseconds(opened, answered) == 17 * MINUTE


def test_weekend_has_no_business_time() -> None:
    cal = BusinessCalendar("UTC", MON_FRI)
    assert cal.business_microseconds(utc("2026-03-14T00:00:00Z"), utc("2026-03-16T00:00:00Z")) == 0
    assert cal.business_microseconds(utc("2026-03-13T18:00:00Z"), utc("2026-03-16T08:00:00Z")) == 0


def test_empty_and_reversed_intervals_are_zero() -> None:
    cal = BusinessCalendar("UTC", MON_FRI)
    t = utc("2026-03-16T09:00:00Z")
    assert cal.business_microseconds(t, t) == 0
    assert cal.business_microseconds(t, t - timedelta(hours=1)) == 0


def test_microsecond_precision_and_half_open_ends() -> None:
    cal = BusinessCalendar("UTC", MON_FRI)
    assert (
        cal.business_microseconds(
            utc("2026-03-16T07:59:59.999999Z"), utc("2026-03-16T08:00:00.000001Z")
        )
        == 1
    )
    # [18:00, ...) is outside; [..., 08:00) is outside.
    assert cal.business_microseconds(utc("2026-03-16T18:00:00Z"), utc("2026-03-17T08:00:00Z")) == 0
    assert (
        cal.business_microseconds(utc("2026-03-16T17:59:59.5Z"), utc("2026-03-16T18:30:00Z"))
        == 500_000
    )


def test_several_slots_a_day() -> None:
    cal = BusinessCalendar(
        "UTC", schedule(mon=[["08:00", "12:00"], ["13:00", "17:30"]], tue=[["09:00", "10:00"]])
    )
    monday = utc("2026-03-16T00:00:00Z")
    assert cal.business_microseconds(monday, monday + timedelta(days=1)) == 8 * HOUR + 30 * MINUTE
    assert cal.business_microseconds(utc("2026-03-16T11:00:00Z"), utc("2026-03-16T14:00:00Z")) == (
        2 * HOUR
    )
    assert cal.business_microseconds(monday, monday + timedelta(days=7)) == 9 * HOUR + 30 * MINUTE


def test_touching_slots_of_a_day_count_once() -> None:
    cal = BusinessCalendar("UTC", schedule(mon=[["12:00", "14:00"], ["08:00", "12:00"]]))
    monday = utc("2026-03-16T00:00:00Z")
    assert cal.business_microseconds(monday, monday + timedelta(days=1)) == 6 * HOUR


def test_24_00_end_runs_to_local_midnight_and_joins_the_next_day() -> None:
    cal = BusinessCalendar("UTC", schedule(sat=[["20:00", "24:00"]], sun=[["00:00", "02:00"]]))
    saturday = utc("2026-03-14T00:00:00Z")
    assert cal.business_microseconds(saturday, saturday + timedelta(days=2)) == 6 * HOUR
    assert cal.business_microseconds(utc("2026-03-14T23:00:00Z"), utc("2026-03-15T01:00:00Z")) == (
        2 * HOUR
    )


def test_whole_day_slot() -> None:
    cal = BusinessCalendar("UTC", schedule(wed=[["00:00", "24:00"]]))
    assert cal.business_microseconds(utc("2026-03-17T12:00:00Z"), utc("2026-03-19T12:00:00Z")) == (
        24 * HOUR
    )


def test_holiday_has_no_business_time() -> None:
    cal = BusinessCalendar("UTC", {**MON_FRI, "holidays": ["2026-12-25", "2026-12-28"]})
    christmas = utc("2026-12-25T00:00:00Z")  # Friday
    assert cal.business_microseconds(christmas, christmas + timedelta(days=1)) == 0
    # Thu 24th 17:00 to Tue 29th 09:00: 1 h on Thursday, 1 h on Tuesday (Mon 28th is a holiday).
    assert cal.business_microseconds(utc("2026-12-24T17:00:00Z"), utc("2026-12-29T09:00:00Z")) == (
        2 * HOUR
    )


def test_holiday_is_a_local_date() -> None:
    cal = BusinessCalendar("Australia/Sydney", schedule(["2026-12-25"], fri=[["00:00", "24:00"]]))
    # 2026-12-24T13:00Z is Friday 2026-12-25 00:00 AEDT: the whole local Friday is a holiday.
    assert cal.business_microseconds(utc("2026-12-24T13:00:00Z"), utc("2026-12-25T13:00:00Z")) == 0
    # The next Friday (local) counts in full: 24 h.
    assert cal.business_microseconds(utc("2026-12-31T13:00:00Z"), utc("2027-01-01T13:00:00Z")) == (
        24 * HOUR
    )


def test_24x7_is_elapsed_time() -> None:
    cal = BusinessCalendar("Europe/Berlin", "24x7")
    assert cal.is_24x7
    a, b = utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00.000007Z")
    assert cal.business_microseconds(a, b) == 48 * HOUR + 7


def test_long_span_is_exact_and_fast() -> None:
    cal = BusinessCalendar("Europe/Berlin", {**MON_FRI, "holidays": ["2026-12-25"]})
    # 2026 has 261 weekdays; 10 h each whatever the DST offset; minus one holiday.
    start, end = local("Europe/Berlin", 2026, 1, 1), local("Europe/Berlin", 2027, 1, 1)
    assert cal.business_microseconds(start, end) == 260 * 10 * HOUR
    ten_years = cal.business_microseconds(start, end + timedelta(days=3653))
    assert ten_years > 0


# -- DST and month ends -------------------------------------------------------------------


def test_berlin_office_hours_follow_the_local_clock_across_both_dst_changes() -> None:
    cal = BusinessCalendar("Europe/Berlin", MON_FRI)
    # Before the March change 08:00 local is 07:00Z, after it 06:00Z.
    assert cal.business_microseconds(utc("2026-03-27T06:30:00Z"), utc("2026-03-27T07:30:00Z")) == (
        30 * MINUTE
    )
    assert cal.business_microseconds(utc("2026-03-30T06:00:00Z"), utc("2026-03-30T06:30:00Z")) == (
        30 * MINUTE
    )
    # Friday 17:00 CET to Monday 09:00 CEST: 1 h + 1 h.
    assert (
        cal.business_microseconds(
            local("Europe/Berlin", 2026, 3, 27, 17), local("Europe/Berlin", 2026, 3, 30, 9)
        )
        == 2 * HOUR
    )
    # Friday 17:00 CEST to Monday 09:00 CET across the October change.
    assert (
        cal.business_microseconds(
            local("Europe/Berlin", 2026, 10, 23, 17), local("Europe/Berlin", 2026, 10, 26, 9)
        )
        == 2 * HOUR
    )
    assert local("Europe/Berlin", 2026, 10, 26, 8) == utc("2026-10-26T07:00:00Z")


def test_slot_spanning_a_dst_change_has_its_real_length() -> None:
    cal = BusinessCalendar("Europe/Berlin", schedule(sun=[["01:00", "04:00"]]))
    spring = local("Europe/Berlin", 2026, 3, 29)
    autumn = local("Europe/Berlin", 2026, 10, 25)
    assert cal.business_microseconds(spring, spring + timedelta(days=1)) == 2 * HOUR
    assert cal.business_microseconds(autumn, autumn + timedelta(days=1)) == 4 * HOUR


def test_whole_local_day_is_23_or_25_hours_on_dst_sundays() -> None:
    cal = BusinessCalendar("America/New_York", schedule(sun=[["00:00", "24:00"]]))
    ny = "America/New_York"
    assert cal.business_microseconds(local(ny, 2026, 3, 7), local(ny, 2026, 3, 10)) == 23 * HOUR
    assert cal.business_microseconds(local(ny, 2026, 10, 31), local(ny, 2026, 11, 3)) == 25 * HOUR
    assert cal.business_microseconds(local(ny, 2026, 2, 28), local(ny, 2026, 3, 3)) == 24 * HOUR
    # A UTC week from local midnight overshoots into the next Sunday by the offset change.
    march = local(ny, 2026, 3, 8)
    assert cal.business_microseconds(march, march + timedelta(days=7)) == 24 * HOUR


def test_slot_inside_the_skipped_hour_is_empty_and_repeated_hour_counts_twice() -> None:
    cal = BusinessCalendar("Europe/Berlin", schedule(sun=[["02:00", "03:00"]]))
    spring = local("Europe/Berlin", 2026, 3, 29)
    autumn = local("Europe/Berlin", 2026, 10, 25)
    assert cal.business_microseconds(spring, spring + timedelta(days=1)) == 0
    assert cal.business_microseconds(autumn, autumn + timedelta(days=1)) == 2 * HOUR


def test_slots_made_to_overlap_by_a_dst_gap_are_counted_once() -> None:
    # With fold=0, 02:30-02:45 (non-existent on 2026-03-29) resolves to 01:30Z-01:45Z,
    # i.e. 03:30-03:45 CEST, which 03:00-04:00 already covers.
    cal = BusinessCalendar("Europe/Berlin", schedule(sun=[["02:30", "02:45"], ["03:00", "04:00"]]))
    spring = local("Europe/Berlin", 2026, 3, 29)
    assert cal.business_microseconds(spring, spring + timedelta(days=1)) == HOUR


def test_new_york_across_both_dst_changes() -> None:
    cal = BusinessCalendar(
        "America/New_York",
        {"weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}},
    )
    # Fri 2026-03-06 16:00 EST (21:00Z) to Mon 2026-03-09 10:00 EDT (14:00Z): 2 h.
    assert cal.business_microseconds(utc("2026-03-06T21:00:00Z"), utc("2026-03-09T14:00:00Z")) == (
        2 * HOUR
    )
    # Fri 2026-10-30 16:00 EDT (20:00Z) to Mon 2026-11-02 10:00 EST (15:00Z): 2 h.
    assert cal.business_microseconds(utc("2026-10-30T20:00:00Z"), utc("2026-11-02T15:00:00Z")) == (
        2 * HOUR
    )
    # 14:00Z on Monday 2026-11-02 is 09:00 EST: the day has only just begun.
    assert cal.business_microseconds(utc("2026-11-02T13:00:00Z"), utc("2026-11-02T14:00:00Z")) == 0


def test_month_end_berlin_and_new_york() -> None:
    berlin = BusinessCalendar("Europe/Berlin", MON_FRI)
    # Fri 2026-07-31 17:00 CEST to Mon 2026-08-03 09:00 CEST.
    assert (
        berlin.business_microseconds(utc("2026-07-31T15:00:00Z"), utc("2026-08-03T07:00:00Z"))
        == 2 * HOUR
    )
    # Tue 2026-03-31 17:00 to Wed 2026-04-01 09:00 CEST (month end right after DST).
    assert (
        berlin.business_microseconds(
            local("Europe/Berlin", 2026, 3, 31, 17), local("Europe/Berlin", 2026, 4, 1, 9)
        )
        == 2 * HOUR
    )
    every_day = BusinessCalendar(
        "America/New_York",
        {"weekly": {d: [["00:00", "24:00"]] for d in DAYS}},
    )
    # Saturday 2026-10-31 00:00 EDT to Monday 2026-11-02 00:00 EST: 49 real hours.
    assert (
        every_day.business_microseconds(
            local("America/New_York", 2026, 10, 31), local("America/New_York", 2026, 11, 2)
        )
        == 49 * HOUR
    )


def test_sydney_office_hours_across_both_dst_changes() -> None:
    cal = BusinessCalendar("Australia/Sydney", MON_FRI)
    # Fri 2026-04-03 17:50 AEDT (06:50Z) to Mon 2026-04-06 08:10 AEST (2026-04-05T22:10Z).
    assert cal.business_microseconds(utc("2026-04-03T06:50:00Z"), utc("2026-04-05T22:10:00Z")) == (
        20 * MINUTE
    )
    # Fri 2026-10-02 17:50 AEST (07:50Z) to Mon 2026-10-05 08:10 AEDT (2026-10-04T21:10Z).
    assert cal.business_microseconds(utc("2026-10-02T07:50:00Z"), utc("2026-10-04T21:10:00Z")) == (
        20 * MINUTE
    )
    sundays = BusinessCalendar("Australia/Sydney", schedule(sun=[["00:00", "24:00"]]))
    april, october = local("Australia/Sydney", 2026, 4, 5), local("Australia/Sydney", 2026, 10, 4)
    assert sundays.business_microseconds(april, april + timedelta(days=2)) == 25 * HOUR
    assert sundays.business_microseconds(october, october + timedelta(days=2)) == 23 * HOUR


def test_sydney_month_end() -> None:
    cal = BusinessCalendar("Australia/Sydney", MON_FRI)
    # Tue 2026-03-31 17:00 AEDT to Wed 2026-04-01 09:00 AEDT.
    assert (
        cal.business_microseconds(
            local("Australia/Sydney", 2026, 3, 31, 17), local("Australia/Sydney", 2026, 4, 1, 9)
        )
        == 2 * HOUR
    )


# -- construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "hours", "message"),
    [
        ("Mars/Olympus", "24x7", "timezone"),
        ("UTC", "24/7", "business_hours"),
        ("UTC", {"weekly": {"monday": [OFFICE]}}, "keys must be among"),
        ("UTC", {"weekly": {"mon": [["24:00", "24:00"]]}}, "weekly.mon[0][0]"),
        ("UTC", {"weekly": {"mon": [["08:00", "24:01"]]}}, "weekly.mon[0][1]"),
        ("UTC", {"weekly": {"mon": [["8:00", "18:00"]]}}, "HH:MM"),
        ("UTC", {"weekly": {"mon": [["\u0660\u0668:00", "18:00"]]}}, "HH:MM"),  # Arabic-Indic 08
        ("UTC", {"weekly": {"mon": [["08:00", "18:00\n"]]}}, "HH:MM"),
        ("UTC", {"weekly": {"mon": [["18:00", "08:00"]]}}, "mon[0][1]: must end after it starts"),
        ("UTC", {"weekly": {"mon": [["08:00", "08:00"]]}}, "mon[0][1]: must end after it starts"),
        (
            "UTC",
            {"weekly": {"mon": [["10:00", "14:00"], ["08:00", "12:00"]]}},
            "mon[1]: overlaps slot [0]",
        ),
        ("UTC", {"weekly": {"mon": [["08:00"]]}}, "pair"),
        ("UTC", {"weekly": {}, "holidays": ["2026-02-30"]}, "holidays[0]"),
        ("UTC", {"weekly": {}, "extra": 1}, "unknown field"),
        ("UTC", {"holidays": []}, "weekly"),
    ],
)
def test_invalid_calendars_are_refused(zone: str, hours: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        BusinessCalendar(zone, hours)


def test_missing_weekdays_and_holidays_default_to_nothing() -> None:
    cal = BusinessCalendar("UTC", {"weekly": {"mon": [OFFICE]}})
    assert cal.holidays == frozenset()
    tuesday = utc("2026-03-17T00:00:00Z")
    assert cal.business_microseconds(tuesday, tuesday + timedelta(days=1)) == 0
    assert cal == BusinessCalendar("UTC", {"weekly": {"mon": [OFFICE]}, "holidays": []})
    assert hash(cal) == hash(BusinessCalendar("UTC", {"weekly": {"mon": [OFFICE]}}))


def test_naive_datetimes_are_refused() -> None:
    cal = BusinessCalendar("UTC", MON_FRI)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.business_microseconds(datetime(2026, 3, 16, 8), utc("2026-03-16T09:00:00Z"))


# -- properties -------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
# DST changes of 2026 in the zones above: instants near them are drawn often.
TRANSITIONS = [
    utc("2026-03-29T01:00:00Z"),
    utc("2026-10-25T01:00:00Z"),
    utc("2026-03-08T07:00:00Z"),
    utc("2026-11-01T06:00:00Z"),
    utc("2026-04-04T16:00:00Z"),
    utc("2026-10-03T16:00:00Z"),
    utc("2026-03-31T22:00:00Z"),  # a month end
]
YEAR_START = utc("2026-01-01T00:00:00Z")
YEAR_US = 365 * 24 * HOUR


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def slot_lists(draw: st.DrawFn, step: int) -> list[list[str]]:
    """0..3 slots on a `step`-minute grid; ends may be 24:00."""
    points = draw(st.lists(st.integers(0, 24 * 60 // step), min_size=0, max_size=6, unique=True))
    points.sort()
    pairs = [points[i : i + 2] for i in range(0, len(points) - 1, 2)]
    return [[clock(s * step), clock(e * step)] for s, e in pairs]


@st.composite
def schedules(draw: st.DrawFn, step: int = 15) -> tuple[str, dict[str, Any]]:
    """A timezone and business hours in it, as contract terms write them."""
    zone = draw(st.sampled_from(ZONES))
    weekly = {d: draw(slot_lists(step)) for d in DAYS if draw(st.booleans())}
    holidays = draw(
        st.lists(
            st.integers(0, 364).map(lambda n: date(2026, 1, 1) + timedelta(days=n)), max_size=20
        )
    )
    return zone, {"weekly": weekly, "holidays": [h.isoformat() for h in holidays]}


@st.composite
def calendars(draw: st.DrawFn, step: int = 15) -> BusinessCalendar:
    return BusinessCalendar(*draw(schedules(step)))


instants = st.one_of(
    st.integers(0, YEAR_US).map(lambda us: YEAR_START + timedelta(microseconds=us)),
    st.builds(
        lambda t, us: t + timedelta(microseconds=us),
        st.sampled_from(TRANSITIONS),
        st.integers(-3 * 24 * HOUR, 3 * 24 * HOUR),
    ),
)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, instants, instants)
def test_business_time_is_additive(
    cal: BusinessCalendar, x: datetime, y: datetime, z: datetime
) -> None:
    a, b, c = sorted([x, y, z])
    assert cal.business_microseconds(a, c) == (
        cal.business_microseconds(a, b) + cal.business_microseconds(b, c)
    )


@settings(max_examples=300, deadline=None)
@given(calendars(step=1), instants, instants)
def test_business_time_never_exceeds_elapsed(
    cal: BusinessCalendar, x: datetime, y: datetime
) -> None:
    a, b = sorted([x, y])
    elapsed = (b - a) // timedelta(microseconds=1)
    assert 0 <= cal.business_microseconds(a, b) <= elapsed


@settings(max_examples=200, deadline=None)
@given(schedules(step=1), st.integers(0, 364))
def test_a_holiday_has_no_business_time_all_local_day(
    schedule: tuple[str, dict[str, Any]], n: int
) -> None:
    zone, hours = schedule
    day = date(2026, 1, 1) + timedelta(days=n)
    with_holiday = BusinessCalendar(
        zone, {**hours, "holidays": [*hours["holidays"], day.isoformat()]}
    )
    start = local(zone, day.year, day.month, day.day)
    nxt = day + timedelta(days=1)
    end = local(zone, nxt.year, nxt.month, nxt.day)
    assert with_holiday.business_microseconds(start, end) == 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), instants, instants)
def test_24x7_equals_elapsed(zone: str, x: datetime, y: datetime) -> None:
    a, b = sorted([x, y])
    cal = BusinessCalendar(zone, "24x7")
    assert cal.business_microseconds(a, b) == (b - a) // timedelta(microseconds=1)


def is_business(zone: str, hours: dict[str, Any], instant: datetime) -> bool:
    """Reference: an instant is business time if its local wall clock is in a slot."""
    wall = instant.astimezone(ZoneInfo(zone))
    if wall.date().isoformat() in hours["holidays"]:
        return False
    minute = wall.hour * 60 + wall.minute
    slots = [parse_slot(pair) for pair in hours["weekly"].get(DAYS[wall.weekday()], [])]
    return any(s <= minute < e for s, e in slots)


@settings(max_examples=60, deadline=None)
@given(
    schedules(step=60),
    st.one_of(
        st.integers(0, 364 * 24 * 60).map(lambda m: YEAR_START + timedelta(minutes=m)),
        st.builds(
            lambda t, m: t + timedelta(minutes=m),
            st.sampled_from(TRANSITIONS),
            st.integers(-2 * 24 * 60, 2 * 24 * 60),
        ),
    ),
    st.integers(0, 3 * 24 * 60),
)
def test_matches_a_minute_by_minute_reference(
    schedule: tuple[str, dict[str, Any]], a: datetime, minutes: int
) -> None:
    # Whole-hour slots and whole-hour (or half-hour, Kolkata) offsets: fold=0 conversion
    # and "is the wall clock inside a slot" agree, and every minute is wholly in or out.
    zone, hours = schedule
    expected = sum(is_business(zone, hours, a + timedelta(minutes=m)) for m in range(minutes))
    cal = BusinessCalendar(zone, hours)
    assert cal.business_microseconds(a, a + timedelta(minutes=minutes)) == expected * MINUTE


# -- when an unanswered incident turns missed ------------------------------------------


def test_first_instant_over_is_one_microsecond_past_the_target() -> None:
    berlin = BusinessCalendar("Europe/Berlin", schedule(mon=[OFFICE], fri=[OFFICE]))
    opened = local("Europe/Berlin", 2026, 3, 13, 17)  # a Friday, one office hour left
    over = berlin.first_instant_over(opened, 2 * HOUR)
    # 1 hour on Friday, the second at 09:00 on Monday: missed one microsecond later.
    assert over == local("Europe/Berlin", 2026, 3, 16, 9) + timedelta(microseconds=1)


def test_first_instant_over_a_target_ending_a_slot_waits_for_the_next_slot() -> None:
    office = BusinessCalendar("UTC", schedule(mon=[OFFICE], tue=[OFFICE]))
    over = office.first_instant_over(utc("2026-03-16T08:00:00Z"), 10 * HOUR)
    assert over == utc("2026-03-17T08:00:00Z") + timedelta(microseconds=1)


def test_first_instant_over_without_business_hours_is_never() -> None:
    assert (
        BusinessCalendar("UTC", schedule()).first_instant_over(utc("2026-03-16T08:00:00Z"), 1)
        is None
    )
    always = BusinessCalendar("UTC", "24x7")
    assert always.first_instant_over(utc("2026-03-16T08:00:00Z"), HOUR) == utc(
        "2026-03-16T09:00:00Z"
    ) + timedelta(microseconds=1)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]),
    start_minutes=st.integers(0, 60 * 24 * 400),
    target_us=st.integers(0, 80 * HOUR),
    holiday_offsets=st.lists(st.integers(0, 40), max_size=4),
)
def test_first_instant_over_agrees_with_business_microseconds(
    zone: str, start_minutes: int, target_us: int, holiday_offsets: list[int]
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minutes, microseconds=7)
    holidays = [(start.date() + timedelta(days=d)).isoformat() for d in holiday_offsets]
    calendar = BusinessCalendar(
        zone,
        schedule(
            holidays,
            mon=[OFFICE],
            tue=[["00:00", "03:00"], ["22:00", "24:00"]],
            wed=[["01:30", "04:00"]],
            fri=[OFFICE],
            sun=[["02:00", "03:30"]],
        ),
    )
    over = calendar.first_instant_over(start, target_us)
    assert over is not None
    assert calendar.business_microseconds(start, over) > target_us
    assert calendar.business_microseconds(start, over - timedelta(microseconds=1)) <= target_us
