"""Explain of an annual row whose coverage has a gap (sla-math §9: a month measured
monthly in the middle of a year measured yearly): the covered time and the measured
range it shows are the row's own, every part of them, not the span from the first
covered instant to the last, nor only the first part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, ev, outage, service
from tests.cli_process import run_in_process

pytestmark = pytest.mark.integration


def gapped_year(store: str, tmp_path: Path) -> None:
    """C-1 measured yearly all through 2025 except June (measured monthly)."""
    docs: list[dict[str, Any]] = [
        contract(
            effective_from="2025-01-01",
            occurred_at="2024-12-01T00:00:00Z",
            services=[service(window="year")],
        ),
        ev(
            "contract.amended",
            "2024-12-02T00:00:00Z",
            {"contract_id": "C-1", "effective_from": "2025-06-01", "services": [service()]},
        ),
        ev(
            "contract.amended",
            "2024-12-03T00:00:00Z",
            {
                "contract_id": "C-1",
                "effective_from": "2025-07-01",
                "services": [service(window="year")],
            },
        ),
        *outage("O-1", "2025-03-01T00:00:00Z", "2025-03-01T01:00:00Z"),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    run_in_process("ingest", "--from-file", str(path), "--store", store)


def test_explain_shows_every_covered_and_measured_part_of_a_gapped_year(
    store_url: str, tmp_path: Path
) -> None:
    gapped_year(store_url, tmp_path)
    asked = ("explain", "--contract", "C-1", "--service", "crm", "--period", "2025")
    document = json.loads(run_in_process(*asked, "--format", "json", "--store", store_url))
    row = json.loads(
        run_in_process("report", "--period", "2025", "--format", "json", "--store", store_url)
    )["rows"][0]
    june = 30 * 86_400
    assert row["covered_seconds"] == row["measured_seconds"] == str(365 * 86_400 - june)
    coverage = document["coverage"]
    assert coverage["covered_seconds"] == row["covered_seconds"]
    assert [(p["start"], p["end"]) for p in coverage["measured_parts"]] == [
        ("2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"),
        ("2025-07-01T00:00:00Z", "2026-01-01T00:00:00Z"),
    ]
    assert coverage["measured_seconds"] == row["measured_seconds"]

    text = run_in_process(*asked, "--store", store_url)
    covered = next(line for line in text.splitlines() if line.startswith("Covered C:"))
    assert covered.startswith(
        "Covered C: 2025-01-01T00:00:00Z to 2025-06-01T00:00:00Z (3,624 h = 13,046,400 s); "
        "2025-07-01T00:00:00Z to 2026-01-01T00:00:00Z (4,416 h = 15,897,600 s); "
        "in all 8,040 h = 28,944,000 s: "
    ), covered
    measured = next(line for line in text.splitlines() if line.startswith("Horizon (as of)"))
    assert measured.endswith(
        "measured range 2025-01-01T00:00:00Z to 2025-06-01T00:00:00Z (3,624 h = 13,046,400 s); "
        "2025-07-01T00:00:00Z to 2026-01-01T00:00:00Z (4,416 h = 15,897,600 s); "
        "in all 8,040 h = 28,944,000 s."
    ), measured


def test_explain_of_an_annual_row_sums_no_incident_credits(store_url: str, tmp_path: Path) -> None:
    gapped_year(store_url, tmp_path)
    text = run_in_process(
        "explain", "--contract", "C-1", "--service", "crm", "--period", "2025", "--store", store_url
    )
    assert (
        "credit = min(0%, cap 100%) = 0% (an annual row earns the availability credit only, "
        "sla-math §9)."
    ) in text
