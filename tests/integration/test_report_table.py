"""`report`'s table as people read it: every figure a dispute turns on, as in the JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import contract, incident, maintenance, outage, service
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed
from tests.integration.test_human_output import json_of, table_cells, text_of

pytestmark = pytest.mark.integration

RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "P365D"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def test_the_report_table_shows_met_missed_pending_and_excluded_time_under_1_row(
    store_url: str, tmp_path: Path
) -> None:
    documents = [
        contract(services=[service(incident_response=RESPONSE)]),
        maintenance("M-1", "2026-03-01T00:00:00Z", "2026-03-05T02:00:00Z", "2026-03-05T03:00:00Z"),
        *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"),
        *incident("I-met", "P1", "2026-03-10T10:00:00Z", "2026-03-10T10:05:00Z"),
        *incident("I-missed", "P1", "2026-03-11T10:00:00Z", "2026-03-11T11:00:00Z"),
        *incident("I-pending", "P2", "2026-03-12T10:00:00Z", None),
    ]
    ingested = run("ingest", "--from-file", str(feed(tmp_path, documents)), store=store_url)
    assert ingested.returncode == 0, ingested.stderr
    report = json_of("report", "--period", "2026-03", store=store_url)
    [row] = report["rows"]
    assert (row["incidents_met"], row["incidents_missed"], row["incidents_pending"]) == (1, 1, 1)
    assert row["excluded_seconds"] == "3600"

    table = text_of("report", "--period", "2026-03", "--as-of", report["as_of"], store=store_url)
    assert table.splitlines()[0].endswith(": 1 row")
    [cells] = table_cells(table, "contract")
    shown = dict(zip(_headings(table), cells, strict=True))
    assert shown["excluded s"] == row["excluded_seconds"]
    assert shown["measured s"] == row["measured_seconds"]
    assert (shown["met"], shown["missed"], shown["pending"]) == ("1", "1", "1")
    assert shown["credit"] == row["credit_amount"]


def _headings(table: str) -> list[str]:
    """The table's headings, cut by its rule line (a heading may hold a space)."""
    text_lines = table.splitlines()
    start = next(i for i, line in enumerate(text_lines) if line.startswith("contract"))
    header, rule = text_lines[start], text_lines[start + 1]
    spans, column = [], 0
    for dashes in rule.split("  "):
        spans.append((column, column + len(dashes)))
        column += len(dashes) + 2
    return [header[a:b].strip() for a, b in spans]
