"""The report's rows computed on two cores are the rows computed in one process, in order,
and a child that fails leaves the report whole (pure logic, a real fork)."""

from __future__ import annotations

import os
import pickle
from typing import Any

import pytest

from consumers import report_rows
from ledger.events import RecordedEvent
from ledger.inbound import validate_envelope
from ledger.period_rows import PeriodInputs, fold_contracts, fold_period
from ledger.periods import Period, to_us
from ledger.timeformat import parse_rfc3339
from tests.builders import contract, outage, service

MARCH = Period(2026, 3)
RECORDED = parse_rfc3339("2026-04-01T12:00:00Z")
CONTRACTS = 9  # odd: the halves differ in size


def recorded(documents: list[dict[str, Any]]) -> list[RecordedEvent]:
    return [RecordedEvent(validate_envelope(d), RECORDED) for d in documents]


def march_inputs() -> PeriodInputs:
    signed = recorded(
        [
            contract(
                f"C-{n}",
                f"K-{n}",
                tz=("UTC", "Asia/Tokyo", "America/New_York")[n % 3],
                services=[service("api", fee="500.00"), service("crm", fee="1000.00")],
            )
            for n in range(CONTRACTS)
        ]
    )
    subjects = recorded(
        [
            event
            for n in range(CONTRACTS)
            for event in outage(
                f"O-{n}",
                f"2026-03-{n + 2:02d}T10:00:00Z",
                f"2026-03-{n + 2:02d}T{11 + n % 5:02d}:30:00Z",
                impact=("100", "40", "12.5")[n % 3],
                customers=[f"K-{n}"],
            )
        ]
        + outage("O-all", "2026-03-20T00:00:00Z", "2026-03-20T00:45:00Z", service_id="api")
    )
    horizon = to_us(parse_rfc3339("2026-04-02T00:00:00Z"))
    return fold_period(MARCH, horizon, fold_contracts(signed), subjects, None)


def one_process(inputs: PeriodInputs) -> list[dict[str, Any]]:
    return [row.as_dict() for row in inputs.rows()]


@pytest.fixture
def fork_from_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_rows, "FORK_FROM_CONTRACTS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_two_processes_give_the_rows_of_one_in_order(fork_from_two: None) -> None:
    inputs = march_inputs()
    expected = one_process(inputs)
    assert len(expected) == 2 * CONTRACTS
    assert report_rows.row_documents(inputs) == expected
    assert [(r["contract_id"], r["service_id"]) for r in expected] == sorted(
        (r["contract_id"], r["service_id"]) for r in expected
    )


def test_a_failing_child_leaves_its_half_to_the_parent(
    fork_from_two: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = march_inputs()
    expected = one_process(inputs)
    parent = os.getpid()
    real_dumps = pickle.dumps

    def dumps_failing_in_the_child(value: Any, *args: Any, **kwargs: Any) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real_dumps(value, *args, **kwargs)

    monkeypatch.setattr(pickle, "dumps", dumps_failing_in_the_child)
    assert report_rows.row_documents(inputs) == expected


def test_few_contracts_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked for a small report")

    monkeypatch.setattr(os, "fork", no_fork)
    inputs = march_inputs()
    assert report_rows.row_documents(inputs) == one_process(inputs)
