"""The command line as a user runs it: a real process, real stores, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli as run

pytestmark = pytest.mark.integration


def feed(tmp_path: Path, documents: list[dict[str, Any]], extra: list[bytes] | None = None) -> Path:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(d).encode() for d in documents] + (extra or [])
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_ingest_report_close_credits_round_trip(store_url: str, tmp_path: Path) -> None:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    path = feed(tmp_path, docs, [b'{"broken": '])
    ingest = run("ingest", "--from-file", str(path), store=store_url)
    assert ingest.returncode == 0, ingest.stderr
    assert "accepted 3, duplicates 0, rejected 1" in ingest.stdout

    report = run("report", "--period", "2026-03", "--format", "json", store=store_url)
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["period"] == "2026-03"
    assert document["as_of"].endswith("Z")
    # Asked about a moment before anything was recorded, the ledger knew nothing.
    before = run(
        "report",
        "--period",
        "2026-03",
        "--as-of",
        "2026-04-02T00:00:00Z",
        "--format",
        "json",
        store=store_url,
    )
    assert json.loads(before.stdout) == {
        "period": "2026-03",
        "as_of": "2026-04-02T00:00:00Z",
        "chain_position": 0,
        "rows": [],
    }
    [row] = document["rows"]
    assert row["availability_percent"] == "99.8880"
    assert row["credit_amount"] == "100.00"
    assert row["status"] == "provisional"

    table = run("report", "--period", "2026-03", store=store_url)
    assert "99.8880" in table.stdout
    as_csv = run("report", "--period", "2026-03", "--format", "csv", store=store_url)
    [csv_row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert csv_row["credit_amount"] == "100.00"

    closed = run("close", "--period", "2026-03", store=store_url)
    assert closed.returncode == 0, closed.stderr
    credits = json.loads(run("credits", "--format", "json", store=store_url).stdout)
    [entry] = credits["entries"]
    assert (entry["kind"], entry["amount"], entry["revision"]) == ("issue", "100.00", 1)
    assert len(entry["basis_sha256"]) == 64

    rejections = json.loads(run("rejections", "--format", "json", store=store_url).stdout)
    [rejected] = rejections["rejections"]
    assert rejected["origin"]["line"] == 4
    assert rejected["raw"] == '{"broken": '
    assert rejected["reason"].startswith("(document): malformed JSON")


def test_rejected_lines_can_be_exported_fixed_and_ingested_again(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    bad = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", impact="120")
    run("ingest", "--from-file", str(feed(tmp_path, [contract(), *bad])), store=store)
    export = tmp_path / "rejected.jsonl"
    listed = run("rejections", "--export", str(export), store=store)
    assert listed.returncode == 0, listed.stderr
    export.write_text(export.read_text().replace('"120"', '"100"'))
    again = run("ingest", "--from-file", str(export), store=store)
    assert "accepted 1, duplicates 0, rejected 0" in again.stdout
    listing = json.loads(run("rejections", "--format", "json", store=store).stdout)
    assert listing["rejections"][0]["resubmitted"] is True


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report"], "--period"),
        (["report", "--period", "2026-13"], "period must be YYYY-MM"),
        (["report", "--period", "2026-03", "--format", "xml"], "invalid choice"),
        (["report", "--period", "2026-03", "--as-of", "yesterday"], "--as-of"),
        (["ingest", "--from-file", "/no/such/file.jsonl"], "no such file"),
        (["report", "--period", "2026-03", "--store", "mysql://x"], "unsupported store URL"),
        (
            ["report", "--period", "2026-03", "--store", "postgresql://u:secret@127.0.0.1:1/db"],
            "cannot open store",
        ),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_usage_is_one_line_on_stderr_without_traceback(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = run(*args, store=f"sqlite:///{tmp_path / 'ledger.db'}", cwd=tmp_path)
    assert result.returncode != 0
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr


def test_close_before_the_period_ends_is_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    run("ingest", "--from-file", str(feed(tmp_path, [contract()])), store=store)
    result = run("close", "--period", "2999-01", store=store)
    assert result.returncode == 1
    assert "has not ended" in result.stderr


def test_demo_runs_and_leaves_a_store_to_query(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reversal" in result.stdout
    store = f"sqlite:///{tmp_path / 'demo' / 'ledger.db'}"
    credits = json.loads(run("credits", "--format", "json", store=store).stdout)["entries"]
    kinds = [(e["contract_id"], e["service_id"], e["kind"], e["revision"]) for e in credits]
    assert ("C-2002", "crm", "reversal", 1) in kinds
    assert ("C-2002", "crm", "issue", 2) in kinds
    assert sum(float(e["amount"]) for e in credits if e["service_id"] == "crm") == 300.0
    incidents = json.loads(run("incidents", "--format", "json", store=store).stdout)["incidents"]
    assert {(i["incident_id"], i["status"]) for i in incidents} >= {("INC-77", "missed")}
    unplaced = run("incidents", "--unplaced", store=store)
    assert unplaced.returncode == 0
    assert "0 incidents that count on no row" in unplaced.stdout


def test_a_mistyped_store_path_is_an_error_not_an_empty_ledger(tmp_path: Path) -> None:
    typo = f"sqlite:///{tmp_path / 'ledgr.db'}"
    for args in (("report", "--period", "2026-03"), ("audit", "verify"), ("credits",)):
        result = run(*args, store=typo)
        assert result.returncode == 1, args
        assert result.stderr.startswith(f"sla-ledger: error: no store at {tmp_path / 'ledgr.db'}")
    assert not (tmp_path / "ledgr.db").exists()


@pytest.mark.parametrize("option", ["--retry-seconds", "--idle-timeout-seconds"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e400", "ten"])
def test_an_option_in_seconds_must_be_a_finite_number_in_range(
    tmp_path: Path, option: str, value: str
) -> None:
    """NaN, infinity and negatives were taken, and meant "retry for ever"."""
    store = f"sqlite:///{tmp_path / 'never.db'}"
    result = run("ingest", "--bootstrap-servers", "127.0.0.1:9", f"{option}={value}", store=store)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"sla-ledger: error: ingest: argument {option}: "), line
    assert "is not a number of seconds" in line
    assert not (tmp_path / "never.db").exists()
