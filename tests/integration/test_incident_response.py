"""Incident response through the store: placement, late events after close (both stores)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.attainment import period_report
from projections.credit_entries import close_period
from projections.incident_placement import incident_placements
from projections.store import LedgerStore
from tests.builders import OFFICE_HOURS, contract, ev, service

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)
RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "PT1H"},
    "business_hours": {"weekly": OFFICE_HOURS, "holidays": []},
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def feed(store: LedgerStore, tmp_path: Path, name: str, docs: list[dict[str, Any]]) -> None:
    path = tmp_path / name
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)


def opened(
    iid: str, at: str, priority: str = "P1", contract_id: str = "C-1", service_id: str = "crm"
) -> dict[str, Any]:
    return ev(
        "incident.opened",
        at,
        {
            "incident_id": iid,
            "contract_id": contract_id,
            "service_id": service_id,
            "priority": priority,
            "opened_at": at,
        },
    )


def responded(iid: str, at: str) -> dict[str, Any]:
    return ev("incident.responded", at, {"incident_id": iid, "responded_at": at})


def row(store: LedgerStore) -> dict[str, Any]:
    rows = period_report(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).rows
    return rows[0].as_dict()


def test_unplaced_incidents_are_listed_with_a_reason_and_count_once_the_contract_arrives(
    store: LedgerStore, tmp_path: Path
) -> None:
    feed(
        store,
        tmp_path,
        "a.jsonl",
        [
            opened("I-1", "2026-03-13T17:55:00Z"),
            responded("I-1", "2026-03-16T08:12:00Z"),
            opened("I-2", "2026-03-10T09:00:00Z", service_id="billing"),
            responded("I-3", "2026-03-10T09:05:00Z"),
        ],
    )
    reasons = {
        p.incident.incident_id: p.unplaced_reason
        for p in incident_placements(store, datetime(2026, 4, 2, tzinfo=UTC), None)
    }
    assert "contract C-1 is not known" in (reasons["I-1"] or "")
    assert reasons["I-3"] == "no incident.opened recorded yet"

    feed(store, tmp_path, "b.jsonl", [contract(services=[service(incident_response=RESPONSE)])])
    placements = {
        p.incident.incident_id: p
        for p in incident_placements(store, datetime(2026, 4, 2, tzinfo=UTC), None)
    }
    assert placements["I-1"].unplaced_reason is None
    assert placements["I-1"].status == "missed"
    assert "service billing is not in contract C-1's terms" in (
        placements["I-2"].unplaced_reason or ""
    )
    assert (row(store)["incidents_missed"], row(store)["response_credit_percent"]) == (1, "5")


def test_late_response_after_close_posts_reversal_and_reissue(
    store: LedgerStore, tmp_path: Path
) -> None:
    feed(
        store,
        tmp_path,
        "a.jsonl",
        [
            contract(services=[service(incident_response=RESPONSE)]),
            opened("I-1", "2026-03-10T09:00:00Z"),
            responded("I-1", "2026-03-10T09:10:00Z"),
            opened("I-2", "2026-03-11T09:00:00Z", priority="P2"),
        ],
    )
    # I-2 was never answered: missed against the horizon at close.
    first = close_period(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).entries
    assert [(e.kind, str(e.amount_major)) for e in first] == [("issue", "50.00")]
    # The ITSM export catches up: I-2 was answered in 20 minutes after all.
    feed(store, tmp_path, "b.jsonl", [responded("I-2", "2026-03-11T09:20:00Z")])
    entries = store.entries(period="2026-03")
    assert [(e.kind, e.revision, str(e.amount_major)) for e in entries] == [
        ("issue", 1, "50.00"),
        ("reversal", 1, "-50.00"),
    ]
    assert row(store)["incidents_met"] == 2


def test_reprioritisation_after_close_changes_the_target_and_the_credit(
    store: LedgerStore, tmp_path: Path
) -> None:
    feed(
        store,
        tmp_path,
        "a.jsonl",
        [
            contract(services=[service(incident_response=RESPONSE)]),
            opened("I-1", "2026-03-10T09:00:00Z", priority="P2"),
            responded("I-1", "2026-03-10T09:40:00Z"),
        ],
    )
    assert close_period(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).entries == []
    # Reclassified as P1 before the response: 40 minutes is now over the 15 minute target.
    feed(
        store,
        tmp_path,
        "b.jsonl",
        [
            ev(
                "incident.reprioritized",
                "2026-04-03T00:00:00Z",
                {"incident_id": "I-1", "priority": "P1", "at": "2026-03-10T09:05:00Z"},
            )
        ],
    )
    entries = store.entries(period="2026-03")
    assert [(e.kind, e.revision, str(e.amount_major)) for e in entries] == [("issue", 1, "50.00")]


def test_closing_again_books_an_incident_that_missed_its_target_since(
    store: LedgerStore, tmp_path: Path
) -> None:
    """No event arrives, yet the row changes: the open incident's target passes after
    the close. Closing again reconciles it (a Kafka worker does so every minute)."""
    opened_at = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    seconds_left = 3
    target = int((datetime.now(UTC) - opened_at).total_seconds()) + seconds_left
    terms = {
        "targets": {"P1": f"PT{target}S"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    docs = [
        contract(services=[service(availability=False, incident_response=terms)]),
        opened("I-1", "2026-10-31T23:00:00Z"),
    ]
    feed(store, tmp_path, "a.jsonl", docs)
    october = Period(2026, 10)
    first = close_period(store, october, datetime.now(UTC))
    assert first.newly_closed
    assert first.entries == []  # pending: nothing owed yet
    time.sleep(seconds_left + 1)
    again = close_period(store, october, datetime.now(UTC))
    assert not again.newly_closed
    assert [(e.kind, str(e.amount_major)) for e in again.entries] == [("issue", "50.00")]
    assert close_period(store, october, datetime.now(UTC)).entries == []


def test_incidents_as_of_a_moment_count_only_what_was_recorded_by_then(
    store: LedgerStore, tmp_path: Path
) -> None:
    from projections.queries import as_of
    from projections.queries.incidents import incidents, incidents_json
    from tests.cli_process import run_in_process

    feed(store, tmp_path, "a.jsonl", [opened("I-1", "2026-03-13T17:55:00Z")])
    before = as_of.now(store)
    time.sleep(0.002)
    feed(
        store,
        tmp_path,
        "b.jsonl",
        [
            contract(services=[service(incident_response=RESPONSE)]),
            opened("I-2", "2026-03-14T09:00:00Z"),
        ],
    )
    then = incidents(store, None, unplaced_only=False, asked=before)
    assert [p.incident.incident_id for p in then.placements] == ["I-1"]
    assert "contract C-1 is not known" in (then.placements[0].unplaced_reason or "")
    assert then.chain_position == as_of.position_at(store, before) == 1
    now = incidents(store, None, unplaced_only=False)
    assert [p.incident.incident_id for p in now.placements] == ["I-1", "I-2"]
    assert now.chain_position == store.chain_head().position
    typed = before.isoformat().replace("+00:00", "Z")
    printed = run_in_process(
        "incidents", "--as-of", typed, "--format", "json", "--store", store.url
    )
    assert printed.strip() == incidents_json(then)
