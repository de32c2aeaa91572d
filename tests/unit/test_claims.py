"""Claims and thresholds, pure (spec: sla-math §10; worked example 11; §8 exposure).

The deadline is local midnight `claim_deadline_days` after the local end of the period's
window: a claim submitted one microsecond before it counts, one at it does not, in any
timezone (DST included), and the payable amount does not depend on the horizon.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.attainment import Row
from ledger.claims import claim_deadline_us, fold_claim
from ledger.events import RecordedEvent
from ledger.inbound import validate_envelope
from ledger.period_rows import fold_contracts, fold_period
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc
from tests.builders import claim_submitted, claim_terms, contract, ev, outage

MARCH = Period(2026, 3)
LATER = datetime(2026, 12, 1, tzinfo=UTC)
TIMEZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "America/Havana",  # clocks go forward at midnight: some local midnights do not exist
]


def recorded(docs: list[dict[str, Any]]) -> list[RecordedEvent]:
    return [RecordedEvent(validate_envelope(d), LATER) for d in docs]


def rows(
    docs: list[dict[str, Any]],
    horizon: datetime = LATER,
    period: Period = MARCH,
    closed: datetime | None = LATER,
) -> list[Row]:
    events = recorded(docs)
    contracts = fold_contracts(e for e in events if e.event.subject_kind == "contract")
    others = [e for e in events if e.event.subject_kind != "contract"]
    return fold_period(period, to_us(horizon), contracts, others, closed).rows()


FIFTY = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")


def only(found: list[Row]) -> dict[str, Any]:
    (row,) = found
    return row.as_dict()


def test_worked_example_11() -> None:
    base = [contract(services=[claim_terms()]), *FIFTY]
    in_time = only(rows([*base, claim_submitted("CL-1", "2026-05-30T23:00:00Z")]))
    assert in_time["credit_amount"] == "100.00"
    assert (in_time["claim_status"], in_time["payable_amount"]) == ("claimed", "100.00")
    late = only(rows([*base, claim_submitted("CL-1", "2026-05-31T00:00:00Z")]))
    assert (late["claim_status"], late["payable_amount"]) == ("expired", "0.00")
    threshold = [contract(services=[claim_terms(threshold="100.00")]), *FIFTY]
    above = only(rows([*threshold, claim_submitted("CL-1", "2026-05-30T23:00:00Z")]))
    assert (above["claim_status"], above["payable_amount"]) == ("claimed", "0.00")
    (row,) = rows(base)
    assert format_utc(from_us(row.claim_deadline_us or 0)) == "2026-05-31T00:00:00Z"


def test_the_fields_follow_credit_amount_in_the_row() -> None:
    names = list(only(rows([contract(services=[claim_terms()]), *FIFTY])))
    at = names.index("credit_amount")
    assert names[at + 1 : at + 3] == ["claim_status", "payable_amount"]


def test_without_claim_terms_payable_is_the_credit() -> None:
    found = only(rows([contract(services=[claim_terms(days=None)]), *FIFTY]))
    assert (found["claim_status"], found["payable_amount"]) == (None, "100.00")
    zero = only(rows([contract(services=[claim_terms(days=None)])]))
    assert (zero["credit_amount"], zero["payable_amount"]) == ("0.00", "0.00")


def test_status_depends_on_the_horizon_and_payable_does_not() -> None:
    base = [contract(services=[claim_terms()]), *FIFTY]
    before = datetime(2026, 5, 30, 23, 59, 59, 999_999, tzinfo=UTC)
    deadline = datetime(2026, 5, 31, tzinfo=UTC)
    assert only(rows(base, before, closed=None))["claim_status"] == "unclaimed"
    assert only(rows(base, deadline, closed=None))["claim_status"] == "expired"
    for horizon in (before, deadline, LATER):
        assert only(rows(base, horizon, closed=None))["payable_amount"] == "0.00"
    # A claim submitted in time is claimed at any horizon, even before it was submitted.
    claimed = [*base, claim_submitted("CL-1", "2026-05-01T00:00:00Z")]
    for horizon in (datetime(2026, 4, 2, tzinfo=UTC), LATER):
        assert only(rows(claimed, horizon))["payable_amount"] == "100.00"


def test_denied_withdrawn_and_resubmitted() -> None:
    base = [
        contract(services=[claim_terms()]),
        *FIFTY,
        claim_submitted("CL-1", "2026-04-02T00:00:00Z"),
    ]

    def decided(decision: str, at: str, claim: str = "CL-1") -> dict[str, Any]:
        return ev("claim.decided", at, {"claim_id": claim, "decision": decision, "reason": "r"})

    denied = only(rows([*base, decided("denied", "2026-04-05T00:00:00Z")]))
    assert (denied["claim_status"], denied["payable_amount"]) == ("denied", "0.00")
    # The latest decision applies, in occurred_at order whatever the order given.
    approved_last = [
        *base,
        decided("approved", "2026-04-06T00:00:00Z"),
        decided("denied", "2026-04-05T00:00:00Z"),
    ]
    assert only(rows(approved_last))["claim_status"] == "claimed"
    # Denied, but a second claim still counts.
    second = [*base, decided("denied", "2026-04-05T00:00:00Z")]
    second.append(claim_submitted("CL-2", "2026-04-07T00:00:00Z"))
    assert only(rows(second))["claim_status"] == "claimed"
    # Withdrawn: final; a re-submission after it changes nothing.
    withdrawn = ev("claim.withdrawn", "2026-04-03T00:00:00Z", {"claim_id": "CL-1"})
    again = claim_submitted("CL-1", "2026-04-04T00:00:00Z", occurred="2026-04-04T00:00:00Z")
    found = only(rows([*base, withdrawn, again]))
    assert (found["claim_status"], found["payable_amount"]) == ("expired", "0.00")
    # Every not-withdrawn claim denied, one withdrawn: denied.
    mixed = [*second[:-1], claim_submitted("CL-2", "2026-04-07T00:00:00Z"), withdrawn]
    mixed[-1] = ev("claim.withdrawn", "2026-04-08T00:00:00Z", {"claim_id": "CL-2"})
    assert only(rows(mixed))["claim_status"] == "denied"
    # A repeated submission replaces the fields: moved to another period, it no longer
    # names March.
    moved = claim_submitted(
        "CL-1", "2026-04-02T00:00:00Z", period="2026-02", occurred="2026-04-09T00:00:00Z"
    )
    assert only(rows([*base, moved]))["claim_status"] == "expired"


def test_the_fold_ignores_arrival_order() -> None:
    docs = [
        claim_submitted("CL-1", "2026-04-02T00:00:00Z"),
        ev("claim.withdrawn", "2026-04-03T00:00:00Z", {"claim_id": "CL-1"}),
        claim_submitted("CL-1", "2026-04-04T00:00:00Z", occurred="2026-04-04T00:00:00Z"),
    ]
    events = [validate_envelope(d) for d in docs]
    forward, backward = fold_claim(events), fold_claim(list(reversed(events)))
    assert forward == backward
    assert forward.withdrawn
    assert forward.submitted_at == datetime(2026, 4, 2, tzinfo=UTC)


def independent_deadline(period: Period, timezone: str, days: int) -> datetime:
    """Local midnight `days` after the first day of the next period, by hand."""
    end = period.next().first_day + timedelta(days=days)
    local = datetime(end.year, end.month, end.day, tzinfo=ZoneInfo(timezone))  # fold=0
    return local.astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(
    timezone=st.sampled_from(TIMEZONES),
    month=st.integers(1, 12),
    days=st.integers(1, 400),
)
def test_the_deadline_is_local_midnight_after_the_window(
    timezone: str, month: int, days: int
) -> None:
    period = Period(2026, month)
    window_end = period.window(timezone)[1]
    found = from_us(claim_deadline_us(window_end, timezone, days))
    assert found == independent_deadline(period, timezone, days)
    local = found.astimezone(ZoneInfo(timezone))
    assert local.date() == period.next().first_day + timedelta(days=days) or (
        local.hour == 1  # a midnight that does not exist: the first instant of the day
    )


@settings(max_examples=40, deadline=None)
@given(
    timezone=st.sampled_from(TIMEZONES),
    month=st.integers(1, 11),
    days=st.integers(1, 120),
    step=st.sampled_from([-1, 0, 1]),
)
def test_a_claim_at_the_deadline_is_expired_and_a_microsecond_before_counts(
    timezone: str, month: int, days: int, step: int
) -> None:
    period = Period(2026, month)
    deadline = independent_deadline(period, timezone, days)
    at = deadline + timedelta(microseconds=step)
    docs = [
        contract(tz=timezone, services=[claim_terms(days=days)]),
        *FIFTY,
        claim_submitted("CL-1", format_utc(at), period=period.label),
    ]
    horizon = datetime(2027, 12, 1, tzinfo=UTC)
    found = only(rows(docs, horizon, period=period))
    assert found["claim_status"] == ("claimed" if step < 0 else "expired")
    # Before the deadline (no claim yet counted), the row is unclaimed, not expired.
    before = deadline - timedelta(microseconds=1)
    early = only(rows(docs[:-1], before, period=period, closed=None))
    assert early["claim_status"] == "unclaimed"


def test_exposure_counts_what_is_owed_whether_or_not_it_will_be_paid() -> None:
    """§8 counts the amount the row would owe as §5 says: a claim or a threshold (§10)
    changes what is payable, never the projection or the money at risk, so these stay
    as they are without claim terms while `claim_status` and `payable_amount` say the
    rest. At 20 March, a 50 min outage projects 100.00 (10%) and the next tier 250.00."""
    horizon = datetime(2026, 3, 20, tzinfo=UTC)

    def exposure(docs: list[dict[str, Any]], at: datetime = horizon) -> tuple[Any, ...]:
        found = only(rows(docs, at, closed=None))
        return (
            found["projected_credit_amount"],
            found["credit_at_risk"],
            found["claim_status"],
            found["payable_amount"],
        )

    plain = [contract(services=[claim_terms(days=None)]), *FIFTY]
    assert exposure(plain) == ("100.00", "150.00", None, "100.00")
    assert exposure([contract(services=[claim_terms()]), *FIFTY]) == (
        "100.00",
        "150.00",
        "unclaimed",
        "0.00",
    )
    # A threshold of 100.00: the projected 100.00 would not be paid; still owed by §5.
    assert exposure([contract(services=[claim_terms(days=None, threshold="100.00")]), *FIFTY]) == (
        "100.00",
        "150.00",
        None,
        "0.00",
    )
    denied = [
        contract(services=[claim_terms()]),
        *FIFTY,
        claim_submitted("CL-1", "2026-03-11T00:00:00Z"),
        ev(
            "claim.decided",
            "2026-03-12T00:00:00Z",
            {"claim_id": "CL-1", "decision": "denied", "reason": "r"},
        ),
    ]
    assert exposure(denied) == ("100.00", "150.00", "denied", "0.00")
    # Ended, not closed, past the deadline with no claim: the projection is the row.
    late = datetime(2026, 6, 1, tzinfo=UTC)
    assert exposure([contract(services=[claim_terms()]), *FIFTY], late) == (
        "100.00",
        "150.00",
        "expired",
        "0.00",
    )


def test_claims_of_other_rows_have_no_effect() -> None:
    docs = [
        contract(services=[claim_terms()]),
        *FIFTY,
        claim_submitted("CL-1", "2026-04-01T00:00:00Z", period="2026-04"),
    ]
    (row,) = rows(docs)
    assert row.claims == ()
    assert row.payable_major == Decimal("0.00")
