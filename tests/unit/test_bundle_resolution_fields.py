"""A bundle exported before report rows carried sla-math §11's resolution fields still
checks: the recomputed report is compared with those fields left out only where they
have the value every row had then (no resolution targets)."""

from __future__ import annotations

import json

from projections.audit.bundle import _before_resolution, _without_resolution
from projections.queries.encoding import to_json

ABSENT = {
    "resolution_met": None,
    "resolution_missed": None,
    "resolution_pending": None,
    "resolution_attainment_percent": None,
    "resolution_credit_percent": "0",
}


def report(*rows: dict[str, object]) -> str:
    return to_json({"period": "2026-03", "rows": list(rows)}) + "\n"


def test_an_old_report_is_recognised_and_a_new_one_is_not() -> None:
    old = report({"contract_id": "C-1", "credit_percent": "5"})
    new = report({"contract_id": "C-1", **ABSENT, "credit_percent": "5"})
    assert _before_resolution(old)
    assert not _before_resolution(new)
    assert not _before_resolution(report())  # no row: nothing to tell apart


def test_only_the_absent_values_are_left_out() -> None:
    recomputed = report({"contract_id": "C-1", **ABSENT, "credit_percent": "5"})
    assert _without_resolution(recomputed) == report({"contract_id": "C-1", "credit_percent": "5"})
    measured = {**ABSENT, "resolution_met": 1, "resolution_credit_percent": "10"}
    kept = json.loads(_without_resolution(report({"contract_id": "C-1", **measured})))
    # A row that measured resolutions keeps those fields: an old bundle cannot match it.
    assert kept["rows"][0]["resolution_met"] == 1
    assert kept["rows"][0]["resolution_credit_percent"] == "10"
    assert "resolution_missed" not in kept["rows"][0]
