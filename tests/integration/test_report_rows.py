"""The report's rows read and computed on two cores (each part of the contracts with only
the subjects that reach it, in a forked child and here) are the rows of the whole
period computed in one process, in order; so are the outputs rendered part by part
where the rows are computed; a child that fails leaves the report whole."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.cli.main import main
from ledger.attainment import Row
from ledger.periods import Period, to_us
from ledger.timeformat import format_utc
from projections.attainment import period_report
from projections.queries import report_rows
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration

MARCH = Period(2026, 3)
CONTRACTS = 9  # odd: the halves differ in size
RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "PT4H"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def march() -> list[dict[str, Any]]:
    documents = [
        contract(
            f"C-{n}",
            f"K-{n % 7}",  # two contracts share a customer
            tz=("UTC", "Asia/Tokyo", "America/New_York")[n % 3],
            services=[
                service("api", fee="500.00"),
                service("crm", fee="1000.00", incident_response=RESPONSE),
            ],
        )
        for n in range(CONTRACTS)
    ]
    for n in range(CONTRACTS):
        documents += outage(
            f"O-{n}",
            f"2026-03-{n + 2:02d}T10:00:00Z",
            f"2026-03-{n + 2:02d}T{11 + n % 5:02d}:30:00Z",
            impact=("100", "40", "12.5")[n % 3],
            customers=[f"K-{n % 7}"],
        )
        documents.append(
            ev(
                "incident.opened",
                f"2026-03-{n + 3:02d}T09:00:00Z",
                {
                    "incident_id": f"I-{n}",
                    "contract_id": f"C-{n}",
                    "service_id": "crm",
                    "priority": "P1",
                    "opened_at": f"2026-03-{n + 3:02d}T09:00:00Z",
                },
            )
        )
    documents += outage("O-all", "2026-03-20T00:00:00Z", "2026-03-20T00:45:00Z", "100", "api")
    documents += outage("O-open", "2026-03-31T20:00:00Z", None, "50", "crm")
    return documents


@pytest.fixture
def march_store(store_url: str, tmp_path: Path) -> str:
    ingest = run("ingest", "--from-file", str(feed(tmp_path, march())), store=store_url)
    assert ingest.returncode == 0, ingest.stderr
    return store_url


def two_processes(url: str, as_of: datetime) -> list[dict[str, Any]]:
    with LedgerStore(url, access="read") as store:
        contract_ids = store.subject_ids("contract", to_us(as_of))
        closed_at = store.closes(to_us(as_of)).get(MARCH.label)
    assert contract_ids == [f"C-{n}" for n in range(CONTRACTS)]
    parts = report_rows.row_parts(
        lambda: LedgerStore(url, access="read"),
        MARCH,
        as_of,
        contract_ids,
        closed_at,
        every_contract=True,
        render_part=lambda documents: documents,
        fork=True,
        present=Row.as_dict,
    )
    return [document for part in parts.parts for document in part]


def one_process(url: str, as_of: datetime) -> list[dict[str, Any]]:
    with LedgerStore(url, access="read") as store:
        report = period_report(store, MARCH, as_of, recorded_filter=True)
    return [row.as_dict() for row in report.rows]


@pytest.fixture
def fork_from_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_rows, "FORK_FROM_CONTRACTS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_two_processes_give_the_rows_of_one_in_order(march_store: str, fork_from_two: None) -> None:
    now = datetime.now(UTC)
    expected = one_process(march_store, now)
    assert len(expected) == 2 * CONTRACTS
    assert two_processes(march_store, now) == expected


def test_a_failing_child_leaves_its_half_to_the_parent(
    march_store: str, fork_from_two: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    expected = one_process(march_store, now)
    parent = os.getpid()
    real_dumps = pickle.dumps

    def dumps_failing_in_the_child(value: Any, *args: Any, **kwargs: Any) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real_dumps(value, *args, **kwargs)

    monkeypatch.setattr(pickle, "dumps", dumps_failing_in_the_child)
    assert two_processes(march_store, now) == expected


def test_few_contracts_stay_in_one_process(
    march_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise AssertionError("forked for a small report")

    monkeypatch.setattr(os, "fork", no_fork)
    now = datetime.now(UTC)
    assert two_processes(march_store, now) == one_process(march_store, now)


def test_subject_ids_are_those_recorded_by_the_moment_sorted(march_store: str) -> None:
    with LedgerStore(march_store, access="read") as store:
        assert store.subject_ids("contract") == [f"C-{n}" for n in range(CONTRACTS)]
        assert store.subject_ids("contract", to_us(datetime.now(UTC))) == [
            f"C-{n}" for n in range(CONTRACTS)
        ]
        assert store.subject_ids("contract", 0) == []
        assert store.subject_ids("incident") == sorted(f"I-{n}" for n in range(CONTRACTS))


def report_output(url: str, output: str, as_of: str, capsys: pytest.CaptureFixture[str]) -> str:
    status = main(
        ["report", "--store", url, "--period", MARCH.label, "--format", output, "--as-of", as_of]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out


@pytest.mark.parametrize("output", ["table", "json", "csv"])
@pytest.mark.parametrize("child", ["works", "fails"])
def test_each_output_rendered_in_parts_is_the_one_rendered_whole(
    march_store: str,
    output: str,
    child: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = format_utc(datetime.now(UTC))
    whole = report_output(march_store, output, now, capsys)  # few contracts: one process
    assert "C-0" in whole
    assert "C-8" in whole
    monkeypatch.setattr(report_rows, "FORK_FROM_CONTRACTS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parent = os.getpid()
    real_dumps = pickle.dumps
    forked: list[int] = []

    def dumps_in_the_child(value: Any, *args: Any, **kwargs: Any) -> bytes:
        if os.getpid() != parent and child == "fails":
            raise RuntimeError("the child fails")
        return real_dumps(value, *args, **kwargs)

    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        forked.append(pid)
        return pid

    monkeypatch.setattr(pickle, "dumps", dumps_in_the_child)
    monkeypatch.setattr(os, "fork", fork)
    assert report_output(march_store, output, now, capsys) == whole
    assert len(forked) == 1


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_any_share_of_the_child_gives_the_same_rows(
    march_store: str, fork_from_two: None, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    now = datetime.now(UTC)
    monkeypatch.setattr(report_rows, "CHILD_SHARE", share)
    assert two_processes(march_store, now) == one_process(march_store, now)
