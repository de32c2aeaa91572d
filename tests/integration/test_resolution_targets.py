"""Resolution targets and pauses through the store and the command line (sla-math §11,
worked example 12), on both stores."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.periods import Period
from projections.credit_entries import close_period, reconcile_closed_periods
from projections.store import LedgerStore
from tests.builders import OFFICE_HOURS, contract, ev, service
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed
from tests.integration.test_incident_response import feed as feed_store

pytestmark = pytest.mark.integration

RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "PT1H"},
    "business_hours": {"weekly": OFFICE_HOURS, "holidays": []},
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    "resolution_targets": {"P1": "PT4H", "P2": "PT8H"},
    "resolution_credit_tiers": [{"below_percent": "100", "credit_percent": "10"}],
}
REPORT = ("report", "--period", "2026-03")
ROW = ("--contract", "C-1", "--service", "crm", "--period", "2026-03")


def incident_event(kind: str, occurred: str, **payload: Any) -> dict[str, Any]:
    return ev(f"incident.{kind}", occurred, {"incident_id": "I-12", **payload})


# Worked example 12: P2, Mon-Fri 08:00-18:00 UTC; opened Mon 2 March 09:00, paused 11:00,
# resumed Tue 10:00, resolved Tue 16:00: 17 h of business time, 9 h paused, 8 h: met.
EXAMPLE_12 = [
    ev(
        "incident.opened",
        "2026-03-02T09:00:00Z",
        {
            "incident_id": "I-12",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P2",
            "opened_at": "2026-03-02T09:00:00Z",
        },
    ),
    incident_event("responded", "2026-03-02T09:30:00Z", responded_at="2026-03-02T09:30:00Z"),
    incident_event(
        "paused",
        "2026-03-02T11:00:00Z",
        at="2026-03-02T11:00:00Z",
        reason="waiting on the customer",
    ),
    incident_event("resumed", "2026-03-03T10:00:00Z", at="2026-03-03T10:00:00Z"),
    incident_event("resolved", "2026-03-03T16:00:00Z", resolved_at="2026-03-03T16:00:00Z"),
]
# A P1 (4 h) opened Wed 4 March 09:00, paused at 10:00 and never resumed: one business hour.
OPEN_PAUSE = [
    ev(
        "incident.opened",
        "2026-03-04T09:00:00Z",
        {
            "incident_id": "I-13",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": "2026-03-04T09:00:00Z",
        },
    ),
    ev(
        "incident.paused",
        "2026-03-04T10:00:00Z",
        {"incident_id": "I-13", "at": "2026-03-04T10:00:00Z", "reason": "customer on holiday"},
    ),
]
# A P1 opened Thu 5 March 09:00, resolved at 14:00: 5 h, missed.
MISSED = [
    ev(
        "incident.opened",
        "2026-03-05T09:00:00Z",
        {
            "incident_id": "I-14",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": "2026-03-05T09:00:00Z",
        },
    ),
    ev(
        "incident.resolved",
        "2026-03-05T14:00:00Z",
        {"incident_id": "I-14", "resolved_at": "2026-03-05T14:00:00Z"},
    ),
]


def signed(response: dict[str, Any] | None = RESPONSE) -> dict[str, Any]:
    return contract(services=[service(incident_response=response)])


def ingest(store: str, tmp_path: Path, documents: list[dict[str, Any]]) -> dict[str, Any]:
    result = run("ingest", "--from-file", str(feed(tmp_path, documents)), store=store)
    assert result.returncode == 0, result.stderr
    return {"stdout": result.stdout}


def report_row(store: str) -> dict[str, Any]:
    result = run(*REPORT, "--format", "json", store=store)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["rows"]
    return dict(row)


def test_example_12_and_friends_in_the_report(store_url: str, tmp_path: Path) -> None:
    ingest(store_url, tmp_path, [signed(), *EXAMPLE_12, *OPEN_PAUSE, *MISSED])
    row = report_row(store_url)
    fields = list(row)
    at = fields.index("response_credit_percent")
    assert fields[at + 1 : at + 6] == [
        "resolution_met",
        "resolution_missed",
        "resolution_pending",
        "resolution_attainment_percent",
        "resolution_credit_percent",
    ]
    assert fields[at + 6] == "credit_percent"
    # I-12 met, I-14 missed, I-13 still paused at the end of March: pending.
    assert (row["resolution_met"], row["resolution_missed"], row["resolution_pending"]) == (1, 1, 1)
    assert row["resolution_attainment_percent"] == "50.0000"
    assert row["resolution_credit_percent"] == "10"
    # Responses: I-12 in 30 min of a 1 h P2 target (met); the others never answered.
    assert row["response_credit_percent"] == "5"
    assert row["credit_percent"] == "15"
    assert row["credit_amount"] == "150.00"

    table = run(*REPORT, store=store_url)
    assert table.returncode == 0, table.stderr
    assert "resolution %" in table.stdout
    assert "50.0000" in table.stdout

    text = run(*REPORT, "--format", "csv", store=store_url)
    assert text.returncode == 0, text.stderr
    [csv_row] = list(csv.DictReader(io.StringIO(text.stdout)))
    assert csv_row["resolution_met"] == "1"
    assert csv_row["resolution_pending"] == "1"
    assert csv_row["resolution_attainment_percent"] == "50.0000"
    assert csv_row["resolution_credit_percent"] == "10"


def test_without_resolution_targets_the_fields_are_null(store_url: str, tmp_path: Path) -> None:
    plain = {k: v for k, v in RESPONSE.items() if not k.startswith("resolution")}
    ingest(store_url, tmp_path, [signed(plain), *EXAMPLE_12])
    row = report_row(store_url)
    assert row["resolution_met"] is None
    assert row["resolution_missed"] is None
    assert row["resolution_pending"] is None
    assert row["resolution_attainment_percent"] is None
    assert row["resolution_credit_percent"] == "0"
    assert row["credit_percent"] == "0"


def test_explain_names_every_pause_and_what_it_removed(store_url: str, tmp_path: Path) -> None:
    ingest(store_url, tmp_path, [signed(), *EXAMPLE_12, *OPEN_PAUSE, *MISSED])
    result = run("explain", *ROW, "--format", "json", store=store_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    resolution = document["incident_resolution"]
    by_id = {i["incident_id"]: i for i in resolution["incidents"]}
    example = by_id["I-12"]
    assert example["business_seconds"] == "61200"  # 17 h
    assert example["paused_seconds"] == "32400"  # 9 h
    assert example["resolution_seconds"] == "28800"  # 8 h
    assert example["target_seconds"] == "28800"
    assert example["status"] == "met"
    [pause] = example["paused_intervals"]
    assert pause["start"] == "2026-03-02T11:00:00Z"
    assert pause["end"] == "2026-03-03T10:00:00Z"
    assert pause["reason"] == "waiting on the customer"
    assert pause["removed_seconds"] == "32400"
    assert len(pause["removed_intervals"]) == 2
    still = by_id["I-13"]
    assert still["status"] == "pending"
    assert still["paused_intervals"][0]["open"] is True
    assert still["resolution_seconds"] == "3600"
    assert by_id["I-14"]["status"] == "missed"
    assert resolution["credit_percent"] == "10"
    assert document["money"]["resolution_credit_percent"] == "10"
    assert document["row"]["resolution_met"] == 1

    text = run("explain", *ROW, store=store_url)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "Incident resolution" in out
    assert "I-12: met: resolution time 8 h" in out
    assert "removed 9 h (32,400 s) of business time" in out
    assert '"waiting on the customer"' in out
    assert "resolution time = 17 h (61,200 s) of business time − 9 h (32,400 s) paused" in out
    assert "still paused" in out
    assert "credit = min(0% + 5% + 10% = 15%, cap 100%) = 15%" in out


def test_a_closed_row_is_reconciled_when_an_unresolved_incident_passes_its_target(
    store: LedgerStore, tmp_path: Path
) -> None:
    """No event arrives, yet the closed row changes: the unresolved incident passes its
    resolution target after the close. The periodic check finds the row due (its
    `changes_at`) and issues the resolution credit; the response, met, owes nothing."""
    opened_at = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    seconds_left = 3
    target = int((datetime.now(UTC) - opened_at).total_seconds()) + seconds_left
    terms = {
        "targets": {"P1": "PT15M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
        "resolution_targets": {"P1": f"PT{target}S"},
        "resolution_credit_tiers": [{"below_percent": "100", "credit_percent": "10"}],
    }
    docs = [
        contract(services=[service(availability=False, incident_response=terms)]),
        ev(
            "incident.opened",
            "2026-10-31T23:00:00Z",
            {
                "incident_id": "I-1",
                "contract_id": "C-1",
                "service_id": "crm",
                "priority": "P1",
                "opened_at": "2026-10-31T23:00:00Z",
            },
        ),
        ev(
            "incident.responded",
            "2026-10-31T23:05:00Z",
            {"incident_id": "I-1", "responded_at": "2026-10-31T23:05:00Z"},
        ),
    ]
    feed_store(store, tmp_path, "a.jsonl", docs)
    october = Period(2026, 10)
    first = close_period(store, october, datetime.now(UTC))
    assert first.newly_closed
    assert first.entries == []  # pending: nothing owed yet
    assert reconcile_closed_periods(store, datetime.now(UTC)) == []
    time.sleep(seconds_left + 1)
    again = reconcile_closed_periods(store, datetime.now(UTC))
    assert [(e.kind, str(e.amount_major), str(e.credit_percent)) for e in again] == [
        ("issue", "100.00", "10")
    ]
    assert reconcile_closed_periods(store, datetime.now(UTC)) == []


def test_incidents_lists_each_resolution_status(store_url: str, tmp_path: Path) -> None:
    ingest(store_url, tmp_path, [signed(), *EXAMPLE_12, *OPEN_PAUSE, *MISSED])
    listed = run("incidents", "--period", "2026-03", "--format", "json", store=store_url)
    assert listed.returncode == 0, listed.stderr
    found = {
        i["incident_id"]: (i["resolved_at"], i["resolution_status"])
        for i in json.loads(listed.stdout)["incidents"]
    }
    assert found == {
        "I-12": ("2026-03-03T16:00:00Z", "met"),
        "I-13": (None, "pending"),
        "I-14": ("2026-03-05T14:00:00Z", "missed"),
    }
    table = run("incidents", "--period", "2026-03", store=store_url)
    assert table.returncode == 0, table.stderr
    assert "resolution" in table.stdout
