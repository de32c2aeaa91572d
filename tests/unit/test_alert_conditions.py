"""The alert conditions a provisional row meets and the alerts' ids (sla-math §8), pure.

Budget thresholds 50/75/90/100 on `>=` of the exact budget consumed, tier thresholds on
strict "below" of the exact projected availability, one `response.missed` per missed
incident, nothing for a closed row; ids uuid5 of the spec's key with thresholds
normalised, recomputed here without the ledger's code.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.alerts import Alert, alert_id, conditions, normalised_threshold
from ledger.attainment import Row
from ledger.credits import entry_id
from ledger.inbound import validate_envelope
from ledger.money import round_half_even
from ledger.periods import Period, from_us, to_us
from ledger.row_key import RowKey
from ledger.timeformat import format_utc, parse_rfc3339
from tests.builders import contract, incident, outage, period_rows, service

MARCH = Period(2026, 3)
SECOND = 10**6
MARCH_SECONDS = 2_678_400
# B of a 99.9 target over March, in microseconds: 2,678.4 s.
BUDGET_US = MARCH_SECONDS * SECOND // 1000
HORIZON = "2026-03-10T12:00:00Z"
TWO_TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]
# The namespace of entry ids, written out here rather than imported: the ids below are
# recomputed independently of `ledger.alerts`.
ENTRY_NAMESPACE = uuid.UUID("6f2b8e4c-3a1d-5e7f-9b0c-1d2e3f4a5b6c")


def at(text: str) -> int:
    return to_us(parse_rfc3339(text))


def one(
    documents: list[dict[str, Any]], horizon: str = HORIZON, closed_at: datetime | None = None
) -> Row:
    events = [validate_envelope(d) for d in documents]
    rows = period_rows(events, MARCH, at(horizon), closed_at)
    assert len(rows) == 1
    return rows[0]


def down_for(microseconds: int, tiers: list[dict[str, str]] | None = None) -> Row:
    """March with one full outage of this many microseconds (on the 20th: still to come
    at the horizon, so it counts in full in the projection)."""
    start = at("2026-03-20T00:00:00Z")
    documents = [contract(services=[service(target="99.9", tiers=tiers or TWO_TIERS)])]
    if microseconds:
        end = format_utc(from_us(start + microseconds))
        documents += outage("O-1", "2026-03-20T00:00:00Z", end)
    return one(documents)


def met(row: Row) -> list[tuple[str, str]]:
    return [(c.kind, c.threshold) for c in conditions(row)]


def budget(*thresholds: str) -> list[tuple[str, str]]:
    return [("availability.budget", t) for t in thresholds]


# -- ids --------------------------------------------------------------------------------


def test_the_namespace_is_the_one_of_entry_ids() -> None:
    key = RowKey("C-1", "crm", "2026-03")
    expected = uuid.uuid5(ENTRY_NAMESPACE, "C-1\x1fcrm\x1f2026-03\x1fissue\x1f1")
    assert entry_id(key, "issue", 1) == str(expected)


def test_an_alert_id_is_uuid5_of_the_spec_key() -> None:
    name = "alert|C-1|crm|2026-03|availability.budget|50"
    assert alert_id("C-1", "crm", "2026-03", "availability.budget", Decimal(50)) == str(
        uuid.uuid5(ENTRY_NAMESPACE, name)
    )
    missed = "alert|C-1|crm|2026-03|response.missed|INC-7"
    assert alert_id("C-1", "crm", "2026-03", "response.missed", "INC-7") == str(
        uuid.uuid5(ENTRY_NAMESPACE, missed)
    )


@pytest.mark.parametrize(
    ("threshold", "text"),
    [
        (Decimal("99.90"), "99.9"),
        (Decimal("99.9"), "99.9"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("100.000"), "100"),
        (Decimal("50"), "50"),
        (Decimal("5E+1"), "50"),
        (Decimal("99.995"), "99.995"),
        ("INC-7", "INC-7"),
    ],
)
def test_thresholds_are_normalised(threshold: Decimal | str, text: str) -> None:
    assert normalised_threshold(threshold) == text
    name = f"alert|C-1|crm|2026-03|availability.tier|{text}"
    assert alert_id("C-1", "crm", "2026-03", "availability.tier", threshold) == str(
        uuid.uuid5(ENTRY_NAMESPACE, name)
    )


def test_every_part_of_the_key_names_another_alert() -> None:
    key = ("C-1", "crm", "2026-03", "availability.budget", Decimal(50))
    others = [
        ("C-2", "crm", "2026-03", "availability.budget", Decimal(50)),
        ("C-1", "api", "2026-03", "availability.budget", Decimal(50)),
        ("C-1", "crm", "2026-04", "availability.budget", Decimal(50)),
        ("C-1", "crm", "2026-03", "availability.tier", Decimal(50)),
        ("C-1", "crm", "2026-03", "availability.budget", Decimal(75)),
    ]
    ids = {alert_id(*k) for k in [key, *others]}
    assert len(ids) == 1 + len(others)


def test_a_tier_written_with_trailing_zeros_is_the_same_alert() -> None:
    tiers = [{"below_percent": "99.90", "credit_percent": "10"}]
    row = down_for(BUDGET_US + 1, tiers)
    [tier] = [c for c in conditions(row) if c.kind == "availability.tier"]
    assert tier.threshold == "99.9"
    recorded = tier.alert(row, datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert recorded.alert_id == alert_id(
        "C-1", "crm", "2026-03", "availability.tier", Decimal("99.9")
    )


# -- availability -----------------------------------------------------------------------


def test_worked_example_9_raises_budget_50_only() -> None:
    documents = [
        contract(services=[service(target="99.9", tiers=TWO_TIERS)]),
        *outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z"),
    ]
    row = one(documents)
    [condition] = conditions(row)
    recorded = condition.alert(row, datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert recorded == Alert(
        alert_id=str(uuid.uuid5(ENTRY_NAMESPACE, "alert|C-1|crm|2026-03|availability.budget|50")),
        kind="availability.budget",
        threshold="50",
        contract_id="C-1",
        customer_id="K-1",
        service_id="crm",
        period="2026-03",
        observed="67.2043",
        downtime_left_seconds="878.4",
        credit_at_risk="100.00",
        currency="USD",
        recorded_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
    )
    assert recorded.as_dict()["recorded_at"] == "2026-03-10T12:00:00.000000Z"


@pytest.mark.parametrize(
    ("downtime_us", "expected"),
    [
        (0, []),
        (BUDGET_US // 2 - 1, []),
        (BUDGET_US // 2, budget("50")),  # exactly 50%: 1,339.2 s
        (BUDGET_US * 3 // 4 - 1, budget("50")),
        (BUDGET_US * 3 // 4, budget("50", "75")),
        (BUDGET_US * 9 // 10 - 1, budget("50", "75")),
        (BUDGET_US * 9 // 10, budget("50", "75", "90")),
        (BUDGET_US - 1, budget("50", "75", "90")),
        # Exactly 100%: the projection is exactly 99.9, not below it: no tier yet.
        (BUDGET_US, budget("50", "75", "90", "100")),
        (BUDGET_US + 1, [*budget("50", "75", "90", "100"), ("availability.tier", "99.9")]),
        (
            MARCH_SECONDS * SECOND // 100 + 1,
            [
                *budget("50", "75", "90", "100"),
                ("availability.tier", "99"),  # the terms write it "99.0": one threshold
                ("availability.tier", "99.9"),
            ],
        ),
    ],
)
def test_thresholds_are_met_on_the_exact_value(
    downtime_us: int, expected: list[tuple[str, str]]
) -> None:
    assert BUDGET_US % 20 == 0  # every threshold above is a whole number of microseconds
    assert sorted(met(down_for(downtime_us))) == sorted(expected)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3 * BUDGET_US), st.sampled_from(["99.95", "99.9", "99", "99.999"]))
def test_conditions_follow_the_exact_figures(downtime_us: int, low: str) -> None:
    tiers = [{"below_percent": "99.99", "credit_percent": "5"}]
    if low != "99.99":
        tiers.append({"below_percent": low, "credit_percent": "20"})
    row = down_for(downtime_us, tiers)
    consumed = Fraction(100 * downtime_us, BUDGET_US)
    projected = Fraction(100 * (MARCH_SECONDS * SECOND - downtime_us), MARCH_SECONDS * SECOND)
    expected = {
        ("availability.budget", str(t), str(round_half_even(consumed, 4)))
        for t in (50, 75, 90, 100)
        if consumed >= t
    }
    expected |= {
        ("availability.tier", t["below_percent"], str(round_half_even(projected, 4)))
        for t in tiers
        if projected < Fraction(t["below_percent"])
    }
    found = [(c.kind, c.threshold, c.observed) for c in conditions(row)]
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_a_target_of_100_raises_no_budget_alert() -> None:
    tiers = [{"below_percent": "100", "credit_percent": "10"}]
    documents = [
        contract(services=[service(target="100", tiers=tiers)]),
        *outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z"),
    ]
    assert met(one(documents)) == [("availability.tier", "100")]


# -- incidents --------------------------------------------------------------------------


def test_each_missed_incident_raises_its_own_alert() -> None:
    response = {
        "targets": {"P1": "PT15M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    documents = [
        contract(services=[service(availability=False, incident_response=response)]),
        *incident("I-late", "P1", "2026-03-10T08:00:00Z", "2026-03-10T08:15:00.000001Z"),
        *incident("I-silent", "P1", "2026-03-10T11:00:00Z", None),  # past 11:15 at noon
        *incident("I-pending", "P1", "2026-03-10T11:50:00Z", None),  # until 12:05
        *incident("I-met", "P1", "2026-03-10T09:00:00Z", "2026-03-10T09:15:00Z"),
        *incident("I-unmeasured", "P4", "2026-03-10T09:00:00Z", None),  # no P4 target
    ]
    row = one(documents)
    found = list(conditions(row))
    assert {(c.kind, c.threshold, c.observed) for c in found} == {
        ("response.missed", "I-late", "missed"),
        ("response.missed", "I-silent", "missed"),
    }
    assert len(found) == 2
    recorded = found[0].alert(row, datetime(2026, 3, 10, 12, tzinfo=UTC))
    name = f"alert|C-1|crm|2026-03|response.missed|{found[0].threshold}"
    assert recorded.alert_id == str(uuid.uuid5(ENTRY_NAMESPACE, name))
    # A row without availability terms has no exposure figures to report with it.
    assert (recorded.downtime_left_seconds, recorded.credit_at_risk) == (None, None)
    # The silent one is not missed yet one microsecond before its deadline passes.
    before = one(documents, "2026-03-10T11:15:00Z")
    assert [c.threshold for c in conditions(before)] == ["I-late"]


def test_a_closed_row_raises_nothing() -> None:
    response = {
        "targets": {"P1": "PT15M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    documents = [
        contract(services=[service(tiers=TWO_TIERS, incident_response=response)]),
        *outage("O-1", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),
        *incident("I-1", "P1", "2026-03-10T08:00:00Z", None),
    ]
    horizon = "2026-04-02T00:00:00Z"
    provisional = one(documents, horizon)
    assert len(met(provisional)) == 7  # four budget, two tier, one missed incident
    closed = one(documents, horizon, closed_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert closed.status == "closed"
    assert met(closed) == []
