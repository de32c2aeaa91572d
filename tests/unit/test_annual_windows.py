"""Annual availability windows (spec: sla-math §9, worked example 10), on the pure folds.

An annual row (`YYYY`) exists for a service when some month of that year is measured
yearly for it; it has availability figures only, over the union of those months'
coverage, and a fee basis summed month by month. The monthly rows of those months keep
their incident figures and lose their availability figures and credit.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.attainment import Row
from ledger.errors import InvalidInputError
from ledger.events import InboundEvent
from ledger.exposure import FIELDS as EXPOSURE_FIELDS
from ledger.inbound import validate_envelope
from ledger.periods import Period, to_us
from ledger.timeformat import parse_rfc3339
from tests.builders import contract, ev, incident, outage, period_rows, service

YEAR = Period.of_year(2026)
MARCH = Period(2026, 3)
AFTER = to_us(parse_rfc3339("2027-02-01T00:00:00Z"))  # after every window here ended
TIERS_10 = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]
RESPONSE = {
    "targets": {"P1": "PT15M"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}
AVAILABILITY_FIELDS = (
    "excluded_seconds",
    "measured_seconds",
    "downtime_seconds",
    "availability_percent",
    "availability_target_percent",
    "availability_met",
)
INCIDENT_FIELDS = (
    "incidents_met",
    "incidents_missed",
    "incidents_pending",
    "response_attainment_percent",
    "response_credit_percent",
)


def events(documents: list[dict[str, Any]]) -> list[InboundEvent]:
    return [validate_envelope(d) for d in documents]


def rows(documents: list[dict[str, Any]], period: Period, horizon: int = AFTER) -> list[Row]:
    return period_rows(events(documents), period, horizon)


def one(documents: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    (row,) = rows(documents, period)
    return row.as_dict()


def signed(window: str | None, effective_from: str = "2026-01-01", **kwargs: Any) -> dict[str, Any]:
    return contract(
        effective_from=effective_from,
        services=[service(tiers=TIERS_10, window=window, **kwargs)],
    )


FIVE_HOURS_IN_MARCH = outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T13:00:00Z")


def test_worked_example_10_the_year_measured_yearly() -> None:
    annual = one([signed("year"), *FIVE_HOURS_IN_MARCH], YEAR)
    assert annual["period"] == "2026"
    assert annual["window_seconds"] == "31536000"
    assert annual["covered_seconds"] == "31536000"
    assert annual["downtime_seconds"] == "18000"
    # 100 × (31,536,000 − 18,000) / 31,536,000 = 99.942922...%
    (row,) = rows([signed("year"), *FIVE_HOURS_IN_MARCH], YEAR)
    assert row.availability_percent == Fraction(100 * (31_536_000 - 18_000), 31_536_000)
    assert (
        str(row.availability_percent.numerator * 10**6 // row.availability_percent.denominator)
        == "99942922"
    )
    assert annual["availability_percent"] == "99.9429"
    assert annual["availability_met"] is True
    assert annual["availability_credit_percent"] == "0"
    assert annual["credit_percent"] == "0"
    assert annual["credit_amount"] == "0.00"
    assert annual["fee_basis"] == "12000.00"
    for field in ("incidents_met", "incidents_missed", "incidents_pending"):
        assert annual[field] is None
    assert annual["response_attainment_percent"] is None


def test_worked_example_10_the_same_terms_measured_monthly() -> None:
    march = one([signed(None), *FIVE_HOURS_IN_MARCH], MARCH)
    (row,) = rows([signed(None), *FIVE_HOURS_IN_MARCH], MARCH)
    assert row.availability_percent == Fraction(100 * (2_678_400 - 18_000), 2_678_400)
    assert (
        str(row.availability_percent.numerator * 10**6 // row.availability_percent.denominator)
        == "99327956"
    )
    assert march["availability_credit_percent"] == "10"
    assert march["credit_amount"] == "100.00"
    # Measured monthly, the year has no annual row at all.
    assert rows([signed(None), *FIVE_HOURS_IN_MARCH], YEAR) == []


def test_a_month_measured_yearly_keeps_its_incidents_and_loses_its_availability() -> None:
    documents = [
        contract(services=[service(tiers=TIERS_10, window="year", incident_response=RESPONSE)]),
        *FIVE_HOURS_IN_MARCH,
        *incident("I-1", "P1", "2026-03-11T09:00:00Z", "2026-03-11T10:00:00Z"),
    ]
    march = one(documents, MARCH)
    for field in AVAILABILITY_FIELDS:
        assert march[field] is None, field
    assert march["availability_credit_percent"] == "0"
    assert march["incidents_missed"] == 1
    assert march["response_credit_percent"] == "5"
    assert march["credit_amount"] == "50.00"  # its incident credit only, on its own fee
    annual = one(documents, YEAR)
    assert annual["incidents_missed"] is None
    assert annual["response_credit_percent"] == "0"
    assert annual["credit_amount"] == "0.00"


def test_the_cap_applies_per_row() -> None:
    documents = [
        contract(
            services=[service(tiers=TIERS_10, window="year", incident_response=RESPONSE, cap="8")]
        ),
        *outage("O-1", "2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z"),
        *incident("I-1", "P1", "2026-03-11T09:00:00Z", "2026-03-11T10:00:00Z"),
    ]
    annual = one(documents, YEAR)
    assert annual["availability_credit_percent"] == "10"
    assert annual["credit_percent"] == "8"
    assert annual["credit_amount"] == "960.00"  # 8% of 12,000.00
    march = one(documents, MARCH)
    assert march["credit_percent"] == "5"


def amended(
    switch_to: str | None, fee: str = "2000.00", month: str = "2026-07-01"
) -> list[dict[str, Any]]:
    """Signed yearly for 2026 at 1,000.00 a month; amended from `month` to `switch_to`."""
    return [
        signed("year", fee="1000.00"),
        ev(
            "contract.amended",
            "2026-05-15T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": month,
                "services": [service(tiers=TIERS_10, window=switch_to, fee=fee)],
            },
        ),
    ]


def test_switching_to_monthly_mid_year_leaves_the_annual_row_its_yearly_months() -> None:
    documents = [*amended(None), *FIVE_HOURS_IN_MARCH]
    annual = one(documents, YEAR)
    half = (
        to_us(parse_rfc3339("2026-07-01T00:00:00Z")) - to_us(parse_rfc3339("2026-01-01T00:00:00Z"))
    ) // 10**6
    assert annual["covered_seconds"] == str(half)
    assert annual["window_seconds"] == "31536000"
    assert annual["fee_basis"] == "6000.00"  # January to June at 1,000.00
    assert annual["terms_version"] == 1
    (row,) = rows(documents, YEAR)
    assert row.availability_percent == Fraction(100 * (half - 18_000), half)
    # The months measured monthly again have their own availability.
    july = one(
        [*documents, *outage("O-2", "2026-07-02T00:00:00Z", "2026-07-02T05:00:00Z")],
        Period(2026, 7),
    )
    assert july["availability_percent"] is not None
    assert july["availability_credit_percent"] == "10"


def test_switching_to_yearly_mid_year_sums_each_months_fee() -> None:
    documents = [
        signed(None, fee="1000.00"),
        ev(
            "contract.amended",
            "2026-03-15T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": "2026-04-01",
                "services": [service(tiers=TIERS_10, window="year", fee="1000.00")],
            },
        ),
        ev(
            "contract.amended",
            "2026-08-15T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": "2026-09-01",
                "services": [service(tiers=TIERS_10, window="year", fee="1500.00")],
            },
        ),
        *FIVE_HOURS_IN_MARCH,
    ]
    annual = one(documents, YEAR)
    # April to August at 1,000.00 and September to December at 1,500.00.
    assert annual["fee_basis"] == "11000.00"
    assert annual["terms_version"] == 2  # in force on 1 April, its first covered day
    assert annual["downtime_seconds"] == "0"  # March is measured monthly
    assert one(documents, MARCH)["availability_credit_percent"] == "10"


def test_a_gap_in_the_yearly_months_is_not_covered() -> None:
    """Yearly, then monthly for May and June, then yearly again: the annual row's
    coverage is the two runs of yearly months, and an outage in the gap is not its."""
    documents = [
        *amended(None, fee="1000.00", month="2026-05-01"),
        ev(
            "contract.amended",
            "2026-06-15T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": "2026-07-01",
                "services": [service(tiers=TIERS_10, window="year", fee="1000.00")],
            },
        ),
        *outage("O-2", "2026-05-20T00:00:00Z", "2026-05-21T00:00:00Z"),
    ]
    (row,) = rows(documents, YEAR)
    may_june = (61 * 86_400) * 10**6
    assert row.covered_us == 31_536_000 * 10**6 - may_june
    assert row.downtime_us == 0
    assert row.as_dict()["fee_basis"] == "10000.00"
    assert one(documents, Period(2026, 5))["downtime_seconds"] == "86400"


def test_a_partly_covered_year_pro_rates_its_months() -> None:
    documents = [signed("year", effective_from="2026-03-16")]
    annual = one(documents, YEAR)
    # March pro-rated (example 7: 516.13) plus April to December.
    assert annual["fee_basis"] == str(
        (Decimal(1000) * 1_382_400 / 2_678_400 + 9000).quantize(Decimal("0.01"))
    )


@pytest.mark.parametrize(
    ("timezone", "seconds"),
    [
        ("Europe/Berlin", 31_536_000),
        ("America/New_York", 31_536_000),
        ("Australia/Sydney", 31_536_000),
    ],
)
def test_a_year_across_dst_changes_is_the_calendar_year_in_its_timezone(
    timezone: str, seconds: int
) -> None:
    """A year's spring-forward and fall-back hours cancel: 2026 is 365 × 86,400 s in
    every zone whose offset is the same on 1 January 2026 and 1 January 2027."""
    documents = [contract(tz=timezone, services=[service(tiers=TIERS_10, window="year")])]
    annual = one(documents, YEAR)
    assert annual["window_seconds"] == str(seconds)
    (row,) = rows(documents, YEAR)
    assert row.covered_us == seconds * 10**6


def test_the_march_of_a_berlin_year_is_its_short_month() -> None:
    """Yearly from April in Berlin: the annual row covers April to December, whose
    local midnights the clocks moved between (forward on 29 March, back on 25 October)."""
    documents = [
        contract(tz="Europe/Berlin", services=[service(tiers=TIERS_10)]),
        ev(
            "contract.amended",
            "2026-03-01T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": "2026-04-01",
                "services": [service(tiers=TIERS_10, window="year")],
            },
        ),
    ]
    (row,) = rows(documents, YEAR)
    # 1 April 00:00 CEST = 31 March 22:00Z; 1 January 2027 00:00 CET = 31 December 23:00Z
    start = to_us(parse_rfc3339("2026-03-31T22:00:00Z"))
    end = to_us(parse_rfc3339("2026-12-31T23:00:00Z"))
    assert row.covered_us == end - start
    assert row.as_dict()["fee_basis"] == "9000.00"


# -- properties -----------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"])
HOURS_2026 = 365 * 24


@st.composite
def year_histories(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A contract in some zone and a few outages and incidents through 2026."""
    timezone = draw(ZONES)
    documents: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 5))):
        start_hour = draw(st.integers(0, HOURS_2026 - 1))
        length_minutes = draw(st.integers(1, 600))
        start = 1_767_225_600 + start_hour * 3600  # 2026-01-01T00:00Z
        end = start + length_minutes * 60
        impact = draw(st.sampled_from(["100", "50", "25.5"]))
        documents += outage(f"O-{index}", _utc(start), _utc(end), impact=impact)
    for index in range(draw(st.integers(0, 3))):
        opened = 1_767_225_600 + draw(st.integers(0, HOURS_2026 - 1)) * 3600
        answered = opened + draw(st.integers(1, 60)) * 60
        documents += incident(f"I-{index}", "P1", _utc(opened), _utc(answered))
    return timezone, documents


def _utc(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed(timezone: str, window: str | None) -> dict[str, Any]:
    return contract(
        tz=timezone,
        services=[service(tiers=TIERS_10, window=window, incident_response=RESPONSE)],
    )


@settings(max_examples=25, deadline=None)
@given(year_histories(), st.randoms(use_true_random=False))
def test_annual_figures_do_not_depend_on_event_order(
    history: tuple[str, list[dict[str, Any]]], shuffler: random.Random
) -> None:
    timezone, documents = history
    ordered = [_signed(timezone, "year"), *documents]
    shuffled = list(ordered)
    shuffler.shuffle(shuffled)
    assert [r.as_dict() for r in rows(ordered, YEAR)] == [r.as_dict() for r in rows(shuffled, YEAR)]


@settings(max_examples=15, deadline=None)
@given(year_histories())
def test_measured_yearly_differs_from_monthly_only_where_section_9_says(
    history: tuple[str, list[dict[str, Any]]],
) -> None:
    timezone, documents = history
    monthly = [_signed(timezone, None), *documents]
    yearly = [_signed(timezone, "year"), *documents]
    assert rows(monthly, YEAR) == []
    (annual,) = rows(yearly, YEAR)
    assert annual.covered_us == annual.window_us
    assert annual.as_dict()["fee_basis"] == "12000.00"
    downtime = Fraction(0)
    for month in YEAR.months():
        (by_month,) = [r.as_dict() for r in rows(monthly, month)]
        (in_year,) = [r.as_dict() for r in rows(yearly, month)]
        downtime += Fraction(by_month["downtime_seconds"])
        for field in INCIDENT_FIELDS:
            assert in_year[field] == by_month[field], field
        for field in AVAILABILITY_FIELDS:
            assert in_year[field] is None, field
        assert in_year["availability_credit_percent"] == "0"
        assert in_year["credit_percent"] == by_month["response_credit_percent"]
        differing = {k for k in by_month if by_month[k] != in_year[k]}
        # A month measured yearly has no projection either (§8): its availability is
        # projected on the annual row.
        projections = set(EXPOSURE_FIELDS) - {"next_response_deadline"}
        for field in projections:
            assert in_year[field] is None, field
        assert differing <= {
            *AVAILABILITY_FIELDS,
            *projections,
            "availability_credit_percent",
            "credit_percent",
            "credit_amount",
            "payable_amount",  # the credit amount, with no claim terms (§10)
        }
    # The year's downtime is the months' (no outage here crosses the year's edges
    # in a way the months miss: each month's downtime is its part of the year's).
    assert Fraction(annual.as_dict()["downtime_seconds"]) == downtime


def test_the_annual_row_names_only_the_events_in_its_coverage() -> None:
    documents = [
        *amended(None),
        *FIVE_HOURS_IN_MARCH,
        *outage("O-9", "2026-08-01T00:00:00Z", "2026-08-01T01:00:00Z"),
    ]
    (row,) = rows(documents, YEAR)
    names = {e.event_id for e in events(documents) if e.subject_id == "O-9"}
    assert not names & row.event_ids


def test_a_provisional_annual_row_projects_to_the_end_of_its_year() -> None:
    """§8 on an annual row: at 1 June, the 5 h March outage is all there is; the year
    would end at 99.942922...%, having used 18,000 s of its 31,536 s budget."""
    horizon = to_us(parse_rfc3339("2026-06-01T00:00:00Z"))
    (row,) = rows([signed("year"), *FIVE_HOURS_IN_MARCH], YEAR, horizon)
    shown = row.as_dict()
    assert shown["measured_seconds"] == str((horizon // 10**6) - 1_767_225_600)
    assert row.exposure is not None
    assert row.exposure.projected_availability_percent == Fraction(
        100 * (31_536_000 - 18_000), 31_536_000
    )
    assert shown["budget_consumed_percent"] == "57.0776"  # 100 × 18,000 / 31,536
    # Down to 99.9% is 31,536 s in all: 13,536 s more, at full impact.
    assert shown["downtime_left_seconds"] == "13536"
    assert shown["next_tier_credit_percent"] == "10"
    assert shown["credit_at_risk"] == "1200.00"
    # Its months have no projection of their own: the year carries it.
    (june,) = rows([signed("year"), *FIVE_HOURS_IN_MARCH], Period(2026, 6), horizon)
    assert june.as_dict()["projected_availability_percent"] is None
    assert june.as_dict()["budget_consumed_percent"] is None


@pytest.mark.parametrize("label", ["2026", "1970", "9998"])
def test_a_year_is_a_period(label: str) -> None:
    period = Period.parse(label)
    assert period.is_year
    assert period.label == label
    assert Period.from_label(label) == period
    assert [m.label for m in period.months()] == [f"{label}-{m:02d}" for m in range(1, 13)]
    assert period.next() == Period.of_year(int(label) + 1)
    assert Period(int(label), 5).year_period() == period


@pytest.mark.parametrize(
    "label", ["202", "20261", "2026-", "2026-1", "2026-00", "２０２６", "Y2026"]
)
def test_a_label_neither_month_nor_year_is_refused_naming_both_forms(label: str) -> None:
    with pytest.raises(InvalidInputError, match=r"YYYY-MM \(a month.*or YYYY \(a year"):
        Period.parse(label)


def test_a_year_outside_the_calendar_is_refused_naming_the_years_it_covers() -> None:
    with pytest.raises(InvalidInputError, match="give a period from 1970 to 9998"):
        Period.parse("1969")


def test_a_year_sorts_before_its_months_and_after_the_year_before() -> None:
    assert Period(2025, 12) < Period.of_year(2026) < Period(2026, 1)


def test_a_year_window_in_berlin_runs_between_local_midnights() -> None:
    start, end = YEAR.window("Europe/Berlin")
    assert start == to_us(parse_rfc3339("2025-12-31T23:00:00Z"))
    assert end == to_us(parse_rfc3339("2026-12-31T23:00:00Z"))


def test_a_window_other_than_month_or_year_is_refused_naming_field_and_rule() -> None:
    document = signed("quarter")
    with pytest.raises(InvalidInputError) as refused:
        validate_envelope(document)
    assert 'payload.services[0].availability.window: must be one of "month", "year"' in str(
        refused.value
    )


def test_the_default_window_is_not_written_into_the_normal_form() -> None:
    said = validate_envelope(signed("month")).payload["services"][0]["availability"]
    unsaid = validate_envelope(signed(None)).payload["services"][0]["availability"]
    assert said == unsaid
    assert "window" not in unsaid
    yearly = validate_envelope(signed("year")).payload["services"][0]["availability"]
    assert yearly["window"] == "year"


@st.composite
def switching_histories(draw: st.DrawFn) -> tuple[str, list[str | None], list[str]]:
    """A zone, and for each month of 2026 its window ("year" or None: monthly) and fee,
    set by an amendment from that month's first day whenever either changes."""
    timezone = draw(ZONES)
    windows = draw(st.lists(st.sampled_from(["year", None]), min_size=12, max_size=12))
    fees = draw(
        st.lists(st.sampled_from(["1000.00", "1500.00", "333.33"]), min_size=12, max_size=12)
    )
    return timezone, windows, fees


def _switching(timezone: str, windows: list[str | None], fees: list[str]) -> list[dict[str, Any]]:
    documents = [
        contract(
            tz=timezone,
            services=[service(tiers=TIERS_10, window=windows[0], fee=fees[0], notice=None)],
        )
    ]
    for index in range(1, 12):
        if (windows[index], fees[index]) != (windows[index - 1], fees[index - 1]):
            documents.append(
                ev(
                    "contract.amended",
                    "2025-12-15T00:00:00Z",
                    {
                        "contract_id": "C-1",
                        "effective_from": f"2026-{index + 1:02d}-01",
                        "services": [
                            service(
                                tiers=TIERS_10,
                                window=windows[index],
                                fee=fees[index],
                                notice=None,
                            )
                        ],
                    },
                    event_id=f"00000000-0000-4000-8000-{index:012d}",
                )
            )
    return documents


@settings(max_examples=20, deadline=None)
@given(switching_histories(), year_histories())
def test_an_annual_row_is_the_sum_of_its_yearly_months(
    switching: tuple[str, list[str | None], list[str]],
    history: tuple[str, list[dict[str, Any]]],
) -> None:
    """Whatever months are measured yearly: the annual row covers exactly those months,
    its fee basis is their fees pro-rated and summed (rounded once), and its downtime is
    what measuring those same months one by one finds (no floor: downtime adds up)."""
    timezone, windows, fees = switching
    outages = [d for d in history[1] if d["type"].startswith("outage")]
    yearly = [*_switching(timezone, windows, fees), *outages]
    monthly = [*_switching(timezone, [None] * 12, fees), *outages]
    annual = rows(yearly, YEAR)
    if "year" not in windows:
        assert annual == []
        return
    (row,) = annual
    covered = 0
    fee = Fraction(0)
    downtime = Fraction(0)
    for index, month in enumerate(YEAR.months()):
        (by_month,) = rows(monthly, month)
        if windows[index] == "year":
            covered += by_month.covered_us
            fee += by_month.fee_basis_major
            assert by_month.downtime_us is not None
            downtime += by_month.downtime_us
        (in_year,) = rows(yearly, month)
        assert (in_year.availability_percent is None) == (windows[index] == "year")
    assert row.covered_us == covered
    assert row.fee_basis_major == fee
    assert row.downtime_us == downtime
    first = windows.index("year")
    assert row.terms.version == 1 + sum(
        1 for i in range(1, first + 1) if (windows[i], fees[i]) != (windows[i - 1], fees[i - 1])
    )
