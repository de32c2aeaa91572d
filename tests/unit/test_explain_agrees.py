"""`explain` shows the figures `report` computes, for generated histories.

The derivation is recorded by the row computation itself (`compute_row(trace=True)`),
so `explain` cannot compute a figure of its own; this checks that what it lays out adds
up: its measured time, downtime, availability, tallies, business time and money are
the report row's, to the digit, and each total is the sum of the steps it shows.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.history_growth import Plan
from consumers.intake.validation import parse_line
from ledger.events import RecordedEvent
from ledger.period_rows import PeriodInputs, fold_contracts, fold_period
from ledger.periods import Period, to_us
from projections.queries.explain.document import explain_row, locate
from tests.builders import generated_history

FIRST = Period(2026, 2)
RECORDED = datetime(2026, 6, 1, tzinfo=UTC)


def _inputs(seed: int, contracts: int, period: Period, horizon_us: int) -> PeriodInputs:
    lines = generated_history(Plan(contracts=contracts, months=3, first=FIRST, seed=seed))
    recorded = [RecordedEvent(parse_line(line.encode()), RECORDED) for line in lines]
    folded = fold_contracts(r for r in recorded if r.event.subject_kind == "contract")
    subjects = [r for r in recorded if r.event.subject_kind != "contract"]
    return fold_period(period, horizon_us, folded, subjects, None)


def _seconds(text: str | None) -> Decimal:
    assert text is not None
    return Decimal(text)


def _check_availability(doc: dict[str, Any], row: dict[str, Any]) -> None:
    availability = doc["availability"]
    assert availability["measured_seconds"] == row["measured_seconds"]
    assert availability["exclusions"]["excluded_seconds"] == row["excluded_seconds"]
    downtime = availability["downtime"]
    assert downtime["downtime_seconds"] == row["downtime_seconds"]
    kept = [run for run in downtime["runs"] if run["kept"]]
    # Every weight here is a whole or decimal percent of whole seconds: exact decimals.
    assert sum((_seconds(r["downtime_seconds"]) for r in kept), Decimal(0)) == _seconds(
        row["downtime_seconds"]
    )
    for run in downtime["runs"]:
        weighted = sum((_seconds(s["weighted_seconds"]) for s in run["segments"]), Decimal(0))
        assert weighted == _seconds(run["downtime_seconds"])
    figure = availability["availability_percent"]
    assert (None if figure is None else figure["rounded_4dp"]) == row["availability_percent"]
    assert availability["met"] == row["availability_met"]
    assert availability["tier"]["credit_percent"] == row["availability_credit_percent"]
    assert availability["credit_percent"] == row["availability_credit_percent"]


def _check_response(doc: dict[str, Any], row: dict[str, Any]) -> None:
    response = doc["incident_response"]
    statuses = Counter(i["status"] for i in response["incidents"])
    assert (statuses["met"], statuses["missed"], statuses["pending"]) == (
        row["incidents_met"],
        row["incidents_missed"],
        row["incidents_pending"],
    )
    assert (response["met"], response["missed"], response["pending"]) == (
        row["incidents_met"],
        row["incidents_missed"],
        row["incidents_pending"],
    )
    figure = response["attainment_percent"]
    assert (None if figure is None else figure["rounded_4dp"]) == row["response_attainment_percent"]
    assert response["tier"]["credit_percent"] == row["response_credit_percent"]
    for incident in response["incidents"]:
        pieces = sum((_seconds(p["seconds"]) for p in incident["business_intervals"]), Decimal(0))
        assert pieces == _seconds(incident["business_seconds"])


def _check_money(doc: dict[str, Any], row: dict[str, Any]) -> None:
    money = doc["money"]
    assert money["credit_percent"] == row["credit_percent"]
    assert money["fee_basis"]["rounded"] == row["fee_basis"]
    assert money["credit_amount"]["rounded"] == row["credit_amount"]
    summed = Decimal(money["availability_credit_percent"]) + Decimal(
        money["response_credit_percent"]
    )
    assert Decimal(money["credit_percent"]) == min(summed, Decimal(money["cap_percent"]))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    contracts=st.integers(min_value=2, max_value=6),
    month=st.sampled_from([Period(2026, 2), Period(2026, 3), Period(2026, 4)]),
    horizon_days=st.sampled_from([3, 12, 20, 45]),
)
def test_explain_shows_the_reports_figures_for_generated_histories(
    seed: int, contracts: int, month: Period, horizon_days: int
) -> None:
    horizon = datetime.combine(month.first_day, datetime.min.time(), UTC)
    horizon_us = to_us(horizon + timedelta(days=horizon_days))
    inputs = _inputs(seed, contracts, month, horizon_us)
    rows = inputs.rows()
    assert rows
    by_id = {c.contract_id: c for c in inputs.contracts}
    for report_row in rows:
        contract = by_id[report_row.contract.contract_id]
        service_id = report_row.service.service_id
        location = locate(contract, contract.contract_id, service_id, month)
        outages, maintenances, incidents = inputs.subjects_for(contract)
        doc = explain_row(
            contract,
            location,
            month,
            outages,
            maintenances,
            incidents,
            horizon_us,
            histories=inputs.events,
        )
        assert report_row.trace is None  # a report records no derivation
        row = report_row.as_dict()
        assert doc["row"] == row
        if doc["availability"] is not None:
            _check_availability(doc, row)
        if doc["incident_response"] is not None:
            _check_response(doc, row)
        _check_money(doc, row)
