"""`diff`'s text as people read it: only what changed, in the report's order, in English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import contract, ev, outage
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration


def test_diff_lists_only_changed_fields_in_report_order_with_one_row_singular(
    store_url: str, tmp_path: Path
) -> None:
    first = feed(
        tmp_path, [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    )
    assert run("ingest", "--from-file", str(first), store=store_url).returncode == 0
    closed = run("close", "--period", "2026-03", "--format", "json", store=store_url)
    assert closed.returncode == 0, closed.stderr
    closed_at = json.loads(closed.stdout)["closed_at"]
    correction = ev(
        "outage.amended",
        "2026-04-03T09:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T18:00:00Z", "reason": "review"},
    )
    second = feed(tmp_path, [correction])
    assert run("ingest", "--from-file", str(second), store=store_url).returncode == 0

    result = run("diff", "--period", "2026-03", "--from", closed_at, store=store_url)
    assert result.returncode == 0, result.stderr
    text_lines = result.stdout.splitlines()
    # The period was closed at both moments: not a change, so no "closed -> closed".
    assert text_lines[1].startswith("status: closed (closed at ")
    assert text_lines[1].endswith(", unchanged")
    assert "->" not in text_lines[1]
    assert text_lines[2] == "1 row changed"

    report = run("report", "--period", "2026-03", "--format", "json", store=store_url)
    report_order = list(json.loads(report.stdout)["rows"][0])
    shown = [
        line.split(":")[0].strip()
        for line in text_lines
        if line.startswith("  ") and " -> " in line and not line.startswith("  told finance")
    ]
    assert len(shown) >= 3, result.stdout
    assert shown == sorted(shown, key=report_order.index), shown
    assert shown != sorted(shown), "fields must not be sorted alphabetically"
