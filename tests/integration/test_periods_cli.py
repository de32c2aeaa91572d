"""Periods at the edge of the calendar, as a user gives them to each command: one line,
exit 2, the valid range named; nothing written, no bundle directory left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli as run

pytestmark = pytest.mark.integration

OUTSIDE = ("0000-01", "0001-01", "1969-12", "9999-01", "9999-12")
FIRST, LAST = "1970-01", "9998-12"


def ingested(store_url: str, tmp_path: Path) -> str:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    result = run("ingest", "--from-file", str(path), store=store_url)
    assert result.returncode == 0, result.stderr
    return store_url


def period_commands(period: str, out: Path) -> dict[str, list[str]]:
    return {
        "report": ["report", "--period", period],
        "close": ["close", "--period", period],
        "explain": ["explain", "--contract", "C-1", "--service", "crm", "--period", period],
        "diff": ["diff", "--period", period, "--from", "2026-01-01T00:00:00Z"],
        "credits": ["credits", "--period", period],
        "incidents": ["incidents", "--period", period],
        "audit export": ["audit", "export", "--period", period, "--out", str(out)],
    }


def test_every_command_refuses_a_period_outside_the_calendar(
    store_url: str, tmp_path: Path
) -> None:
    store = ingested(store_url, tmp_path)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for period in OUTSIDE:
        for name, args in period_commands(period, bundles / "new" / "b").items():
            result = run(*args, store=store)
            assert result.returncode == 2, (name, period, result.stderr)
            assert result.stderr == (
                f"sla-ledger: error: --period: period {period} is outside the calendar the "
                "ledger covers: no contract can be in force in it; give a period from "
                f"{FIRST} to {LAST}\n"
            ), (name, period)
    assert list(bundles.iterdir()) == []  # no bundle directory, not even an empty one
    closes = run("credits", "--format", "json", store=store)
    assert json.loads(closes.stdout)["entries"] == []


def test_the_first_and_last_periods_are_answered(store_url: str, tmp_path: Path) -> None:
    store = ingested(store_url, tmp_path)
    for period in (FIRST, LAST):
        report = run("report", "--period", period, "--format", "json", store=store)
        assert report.returncode == 0, report.stderr
        rows = json.loads(report.stdout)["rows"]
        # The contract is in force from 2026 on, with no end: a row in the last period.
        assert len(rows) == (1 if period == LAST else 0)
        for args in (
            ["credits", "--period", period],
            ["incidents", "--period", period],
            ["diff", "--period", period, "--from", "2026-01-01T00:00:00Z"],
        ):
            result = run(*args, store=store)
            assert result.returncode == 0, (args, result.stderr)
        explained = run(
            "explain", "--contract", "C-1", "--service", "crm", "--period", period, store=store
        )
        assert explained.returncode == (1 if period == FIRST else 0), explained.stderr
        bundle = tmp_path / f"bundle-{period}"
        exported = run("audit", "export", "--period", period, "--out", str(bundle), store=store)
        assert exported.returncode == 0, exported.stderr
        checked = run("audit", "check", str(bundle), store=store)
        assert checked.returncode == 0, checked.stdout
        probe = tmp_path / f"probe-{period}"
        probe.mkdir()  # the mode any new directory of the user's gets
        assert bundle.stat().st_mode == probe.stat().st_mode
    not_ended = run("close", "--period", LAST, store=store)
    assert not_ended.returncode == 1
    assert "has not ended" in not_ended.stderr


def test_a_period_in_which_no_contract_is_in_force_is_not_closed(
    store_url: str, tmp_path: Path
) -> None:
    store = ingested(store_url, tmp_path)
    for period in (FIRST, "2025-12"):
        refused = run("close", "--period", period, store=store)
        assert refused.returncode == 1
        assert refused.stderr == (
            f"sla-ledger: error: period {period} has no rows: no contract is in force in it "
            "(as recorded now), so there is nothing to close; a close is permanent, so close "
            "it once its contracts are ingested\n"
        )
    # Nothing was recorded: a contract arriving later for that period is closed normally.
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps(contract("C-0", effective_from="2025-12-01")) + "\n")
    assert run("ingest", "--from-file", str(late), store=store).returncode == 0
    report = json.loads(
        run("report", "--period", "2025-12", "--format", "json", store=store).stdout
    )
    assert [row["status"] for row in report["rows"]] == ["provisional"]
    closed = run("close", "--period", "2025-12", "--format", "json", store=store)
    assert closed.returncode == 0, closed.stderr
    assert json.loads(closed.stdout)["newly_closed"] is True
    verified = run("audit", "verify", store=store)
    assert verified.returncode == 0, verified.stdout


def test_a_bundle_goes_into_an_empty_directory_the_user_made(
    store_url: str, tmp_path: Path
) -> None:
    store = ingested(store_url, tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    inode = mine.stat().st_ino
    exported = run("audit", "export", "--period", "2026-03", "--out", str(mine), store=store)
    assert exported.returncode == 0, exported.stderr
    assert mine.stat().st_ino == inode  # the user's directory, not a replacement
    assert (mine / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    again = run("audit", "export", "--period", "2026-03", "--out", str(mine), store=store)
    assert again.returncode == 1
    assert "is not empty" in again.stderr
    assert run("audit", "check", str(mine), store=store).returncode == 0


def test_an_empty_close_recorded_earlier_is_still_rebuilt_and_reconciled(
    store_url: str, tmp_path: Path
) -> None:
    """Before the rule, `close` recorded closes of periods without rows (e.g. 1969-12):
    such a store still rebuilds, verifies and reconciles."""
    from datetime import UTC, datetime

    from ledger.periods import Period
    from projections.credit_entries import close_period
    from projections.store import LedgerStore

    store = ingested(store_url, tmp_path)
    with LedgerStore(store, access="create") as ledger:
        earlier = close_period(ledger, Period(1969, 12), datetime.now(UTC), replaying=True)
        assert earlier.newly_closed
        assert earlier.entries == []
    for args in (["audit", "verify"], ["audit", "rebuild"]):
        result = run(*args, store=store)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps(contract("C-0")) + "\n")
    ingest = run("ingest", "--from-file", str(late), store=store)
    assert ingest.returncode == 0, ingest.stderr


def test_a_year_no_contract_measures_yearly_is_not_closed_and_says_why(
    store_url: str, tmp_path: Path
) -> None:
    # A contract in force all through 2025, measured monthly: the year has no annual
    # rows (sla-math §9), and the refusal says so rather than that no contract is in force.
    path = tmp_path / "monthly.jsonl"
    path.write_text(json.dumps(contract("C-9", effective_from="2025-01-01")) + "\n")
    assert run("ingest", "--from-file", str(path), store=store_url).returncode == 0
    refused = run("close", "--period", "2025", store=store_url)
    assert refused.returncode == 1
    assert refused.stderr == (
        "sla-ledger: error: period 2025 has no rows: no contract measures a service yearly "
        'in it (terms with "window": "year"; as recorded now), so there is nothing to '
        "close; its months are closed one by one (close --period 2025-MM)\n"
    )
    # Its months close as ever.
    assert run("close", "--period", "2025-06", store=store_url).returncode == 0
