"""`projections.queries.exposure`: which rows it lists, in which order, and how it writes
them (spec: sla-math §8, outputs.md "Additions")."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.attainment import Row
from ledger.inbound import validate_envelope
from ledger.periods import FIRST_PERIOD, LAST_PERIOD, Period, to_us
from ledger.timeformat import parse_rfc3339
from projections.queries.exposure import (
    CSV_FIELDS,
    ExposedRow,
    ExposureReport,
    current_period,
    deadlines_earliest_first,
    exposed,
    exposure_csv,
    exposure_json,
    most_exposed_first,
    order_key,
)
from tests.builders import TIERS, contract, incident, outage, period_rows, service

MARCH = Period(2026, 3)
P1_OFFICE = {
    "targets": {"P1": "PT15M"},
    "business_hours": {
        "weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    },
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def row(
    contract_id: str,
    consumed: Fraction | None,
    at_risk: str | None,
    service_id: str = "crm",
    period: str = "2026-03",
) -> ExposedRow:
    """An exposure row with these figures, its document naming it."""
    risk = None if at_risk is None else Decimal(at_risk)
    return ExposedRow(
        order_key(contract_id, service_id, period, consumed, risk),
        {"contract_id": contract_id, "service_id": service_id, "period": period},
    )


def names(rows: list[ExposedRow]) -> list[str]:
    return [f"{d['contract_id']}/{d['service_id']}" for d in most_exposed_first(rows)]


def test_most_budget_consumed_first_then_most_at_risk_nulls_last() -> None:
    rows = [
        row("C-nobudget-risk", None, "500.00"),
        row("C-low", Fraction(10), "900.00"),
        row("C-high", Fraction(80), "1.00"),
        row("C-nobudget-norisk", None, None),
        row("C-low-norisk", Fraction(10), None),
        row("C-low-lessrisk", Fraction(10), "100.00"),
        row("C-over", Fraction(250), None),
    ]
    assert names(rows) == [
        "C-over/crm",
        "C-high/crm",
        "C-low/crm",
        "C-low-lessrisk/crm",
        "C-low-norisk/crm",
        "C-nobudget-risk/crm",
        "C-nobudget-norisk/crm",
    ]


def test_the_order_is_decided_on_the_exact_budget_not_its_rounded_text() -> None:
    # 33.33334 % and 100/3 % both show as "33.3333": the larger one, exactly, comes first
    # even though its credit at risk is smaller.
    rows = [
        row("C-a", Fraction(100, 3), "900.00"),
        row("C-b", Fraction(3333334, 100000), "1.00"),
    ]
    assert names(rows) == ["C-b/crm", "C-a/crm"]


def test_budgets_equal_to_a_billionth_are_told_apart_exactly() -> None:
    base = Fraction(50)
    rows = [
        row("C-a", base + Fraction(1, 10**12), "1.00"),
        row("C-b", base + Fraction(2, 10**12), "1.00"),
        row("C-c", base, "900.00"),
    ]
    assert names(rows) == ["C-b/crm", "C-a/crm", "C-c/crm"]


def test_full_ties_go_by_contract_then_service_then_period() -> None:
    rows = [
        row("C-2", Fraction(50), "10.00", "api"),
        row("C-1", Fraction(50), "10.00", "portal"),
        row("C-1", Fraction(50), "10.00", "api", "2026-04"),
        row("C-1", Fraction(50), "10.00", "api", "2026-03"),
    ]
    ordered = most_exposed_first(rows)
    assert [(d["contract_id"], d["service_id"], d["period"]) for d in ordered] == [
        ("C-1", "api", "2026-03"),
        ("C-1", "api", "2026-04"),
        ("C-1", "portal", "2026-03"),
        ("C-2", "api", "2026-03"),
    ]


def test_the_current_period_is_the_utc_month_of_the_moment() -> None:
    assert current_period(datetime(2026, 3, 31, 23, 59, tzinfo=UTC)) == MARCH
    assert current_period(datetime(2026, 4, 1, tzinfo=UTC)) == Period(2026, 4)


def rows_at(documents: list[dict[str, Any]], horizon: str) -> list[Row]:
    events = [validate_envelope(d) for d in documents]
    return period_rows(events, MARCH, to_us(parse_rfc3339(horizon)))


def example_nine() -> list[dict[str, Any]]:
    """sla-math worked example 9: target 99.9, tiers 99.9 -> 10 and 99.0 -> 25, one
    30 min outage that ended the morning of 10 March; and an open P1 incident."""
    tiers = [t for t in TIERS if t["below_percent"] in ("99.9", "99.0")]
    terms = service(tiers=tiers, incident_response=P1_OFFICE)
    return [
        contract(services=[terms]),
        *outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z"),
        # Friday 17:45: 15 business minutes end on Monday 08:00 (sla-math §8).
        *incident("I-1", "P1", "2026-03-06T17:45:00Z", None),
    ]


def test_a_provisional_row_carries_its_exposure_and_its_pending_deadlines() -> None:
    [found] = rows_at(example_nine(), "2026-03-10T12:00:00Z")
    item = exposed(found)
    assert item is not None
    document = item.document
    assert document["status"] == "provisional"
    assert document["budget_consumed_percent"] == "67.2043"
    assert document["downtime_left_seconds"] == "878.4"
    assert document["next_tier_credit_percent"] == "10"
    assert document["credit_at_risk"] == "100.00"
    assert document["pending_incidents"] == []  # Monday 9 March 08:00 has passed: missed
    # Sorted on the exact figure: 100 x D_end / B, B = M_end x 0.1 / 100.
    assert item.order[2] == -Fraction(100 * 1800 * 1000, 2_678_400)


def test_a_pending_incident_shows_its_respond_by() -> None:
    [found] = rows_at(example_nine(), "2026-03-07T12:00:00Z")  # Saturday
    item = exposed(found)
    assert item is not None
    assert item.document["pending_incidents"] == [
        {
            "incident_id": "I-1",
            "priority": "P1",
            "opened_at": "2026-03-06T17:45:00Z",
            "target_seconds": "900",
            "respond_by": "2026-03-09T08:00:00Z",
        }
    ]
    assert item.document["next_response_deadline"] == "2026-03-09T08:00:00Z"
    # Its fields are the report row's own.
    report_row = found.as_dict()
    assert all(item.document[k] == report_row[k] for k in item.document if k in report_row)


def test_a_closed_row_is_not_listed() -> None:
    [found] = rows_at(example_nine(), "2026-03-10T12:00:00Z")
    found.status = "closed"
    assert exposed(found) is None


def report_of(rows: list[Row]) -> ExposureReport:
    documents = [item.document for item in map(exposed, rows) if item is not None]
    moment = datetime(2026, 3, 7, 12, tzinfo=UTC)
    return ExposureReport(MARCH, moment, 42, None, documents)


def test_json_is_like_the_reports_document() -> None:
    rows = rows_at(example_nine(), "2026-03-07T12:00:00Z")
    document = json.loads(exposure_json(report_of(rows)))
    assert list(document) == ["period", "as_of", "chain_position", "rows"]
    assert document["period"] == "2026-03"
    assert document["as_of"] == "2026-03-07T12:00:00Z"
    assert document["chain_position"] == 42
    assert document["rows"][0]["pending_incidents"][0]["incident_id"] == "I-1"


def test_csv_is_one_line_per_row_with_the_pending_incidents_in_one_cell() -> None:
    rows = rows_at(example_nine(), "2026-03-07T12:00:00Z")
    lines = list(csv.reader(io.StringIO(exposure_csv(report_of(rows)))))
    assert lines[0] == list(CSV_FIELDS)
    assert len(lines) == 2
    cells = dict(zip(lines[0], lines[1], strict=True))
    assert cells["pending_incidents"] == "I-1 P1 2026-03-09T08:00:00Z"
    assert cells["contract_id"] == "C-1"
    empty = ExposureReport(MARCH, datetime(2026, 3, 7, tzinfo=UTC), 1, None, [])
    assert exposure_csv(empty) == ",".join(CSV_FIELDS) + "\n"


def test_the_default_period_stays_within_the_calendar_the_ledger_covers() -> None:
    """A moment asked about before 1970 (or after 9998) names no period a user could ask
    for with `--period`: the default is the nearest one that exists."""
    assert current_period(datetime(1, 1, 1, tzinfo=UTC)) == FIRST_PERIOD
    assert current_period(datetime(9999, 12, 31, tzinfo=UTC)) == LAST_PERIOD
    assert current_period(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == Period(2026, 10)


def _pending_row(contract_id: str, *deadlines: tuple[str, str]) -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "service_id": "crm",
        "timezone": "UTC",
        "pending_incidents": [
            {
                "incident_id": incident_id,
                "priority": "P1",
                "opened_at": "2026-03-09T08:00:00Z",
                "target_seconds": "900",
                "respond_by": respond_by,
            }
            for incident_id, respond_by in deadlines
        ],
    }


def test_deadlines_of_several_rows_are_merged_as_instants_not_as_text() -> None:
    """A deadline with microseconds is later than the whole second before it, though its
    text sorts first ("." before "Z"): the table and the desk once put it first."""
    rows = [
        _pending_row("C-1", ("I-A", "2026-03-09T08:15:00.500000Z")),
        _pending_row("C-2", ("I-B", "2026-03-09T08:15:00Z"), ("I-C", "2026-03-09T08:15:01Z")),
        _pending_row("C-3", ("I-0", "2026-03-09T08:15:00Z")),
    ]
    merged = deadlines_earliest_first(rows)
    assert [(p["incident_id"], row["contract_id"]) for p, row in merged] == [
        ("I-0", "C-3"),
        ("I-B", "C-2"),
        ("I-A", "C-1"),
        ("I-C", "C-2"),
    ]
    assert deadlines_earliest_first([_pending_row("C-1")]) == []
