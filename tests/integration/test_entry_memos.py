"""Memos of new entries state the measured figures, from the basis stored beside each
entry, and fall back to the entry's own wording where no stored basis proves them: an
edited basis (which `audit verify` names) or a store read as it was made before bases
were stored (both stores)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.file_ingest import ingest_file
from ledger.credits import CreditEntry
from ledger.errors import StoreError
from ledger.periods import Period
from projections.attainment import period_report
from projections.audit.rebuild import rebuild
from projections.audit.verify import verify
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service
from tests.tampering import query, tamper

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)
CLOSED_AT = datetime(2026, 4, 2, tzinfo=UTC)
RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "PT1H"},
    "business_hours": {"weekly": {"mon": [["00:00", "24:00"]]}, "holidays": []},
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def feed(store: LedgerStore, tmp_path: Path, name: str, docs: list[dict[str, Any]]) -> None:
    path = tmp_path / name
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)


def incidents(answered: int = 1, missed: int = 1) -> list[dict[str, Any]]:
    """P1 incidents on Mondays in March 2026 (the 9th, 16th, ...), each answered in 5
    minutes or never."""
    docs = []
    for n, day in enumerate([9, 16, 23, 30][: answered + missed]):
        at = f"2026-03-{day:02}T09:00:00Z"
        iid = f"I-{n}"
        payload = {
            "incident_id": iid,
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": at,
        }
        docs.append(ev("incident.opened", at, payload))
        if n < answered:
            answer = f"2026-03-{day:02}T09:05:00Z"
            docs.append(
                ev("incident.responded", answer, {"incident_id": iid, "responded_at": answer})
            )
    return docs


def outages() -> list[dict[str, Any]]:
    """Twelve 20-minute outages in March: 99.4624% against a 99.9% target, 10% credit."""
    return [
        doc
        for day in range(2, 14)
        for doc in outage(f"M-{day}", f"2026-03-{day:02}T10:00:00Z", f"2026-03-{day:02}T10:20:00Z")
    ]


def memos(store: LedgerStore) -> list[str]:
    return [str(e.as_dict()["memo"]) for e in store.entries()]


def closed(store: LedgerStore) -> list[CreditEntry]:
    return close_period(store, MARCH, CLOSED_AT).entries


def test_an_availability_credit_states_the_availability(store: LedgerStore, tmp_path: Path) -> None:
    feed(store, tmp_path, "a.jsonl", [contract(), *outages()])
    entries = closed(store)
    memo = "Availability 99.4624% below 99.9% target, crm, March 2026: 10% of 1,000.00 USD"
    # As recorded (what close prints) and as read back, by every read of entries.
    assert [e.as_dict()["memo"] for e in entries] == [memo]
    assert memos(store) == [memo]
    (entry,) = entries
    found = store.entry(entry.entry_id)
    assert found is not None
    assert found.as_dict()["memo"] == memo
    assert [e.as_dict()["memo"] for _, e in store.entries_after(0, 10)] == [memo]
    head = store.chain_head()
    page = store.entries_page(
        after_seq=0, limit=10, through_position=head.position, recorded_by_us=head.recorded_us
    )
    assert [e.as_dict()["memo"] for _, e in page] == [memo]


def test_a_response_credit_states_the_responses(store: LedgerStore, tmp_path: Path) -> None:
    terms = service(availability=False, incident_response=RESPONSE)
    feed(store, tmp_path, "a.jsonl", [contract(services=[terms]), *incidents(1, 1)])
    closed(store)
    assert memos(store) == [
        "Incident response 50% of incidents answered in time (1 missed), crm, March 2026: "
        "5% of 1,000.00 USD"
    ]


def test_both_credits_are_stated(store: LedgerStore, tmp_path: Path) -> None:
    terms = service(incident_response=RESPONSE)
    feed(store, tmp_path, "a.jsonl", [contract(services=[terms]), *outages(), *incidents(2, 2)])
    closed(store)
    assert memos(store) == [
        "Availability 99.4624% below 99.9% target and 2 incident responses missed, crm, "
        "March 2026: 15% of 1,000.00 USD"
    ]


def test_a_reversal_and_a_reissue(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        march = store.entries(period="2026-03")
    issue, reversal, reissue = march
    assert (reversal.kind, reversal.supersedes, reissue.revision) == ("reversal", issue.entry_id, 2)
    availability = "Availability 99.4624% below 99.9% target, crm, March 2026: 10% of 1,000.00 USD"
    assert issue.as_dict()["memo"] == availability
    assert reversal.as_dict()["memo"] == f"Reversal of {issue.entry_id}: {availability}"
    assert reissue.as_dict()["memo"] == (
        "Re-issue (revision 2): Availability 96.2814% below 99.9% target, crm, March 2026: "
        "25% of 1,000.00 USD"
    )


def test_each_stored_basis_hashes_to_its_entry_and_a_rebuild_agrees(ledger: str) -> None:
    rows = query(
        ledger,
        "SELECT e.basis_sha256, b.basis FROM sla_credit_entries e "
        "JOIN sla_entry_bases b ON b.entry_id = e.entry_id",
    )
    assert len(rows) == 4  # March's issue, reversal and re-issue; April's issue
    assert all(hashlib.sha256(str(text).encode()).hexdigest() == digest for digest, text in rows)
    with (
        LedgerStore(ledger, access="read") as live,
        tempfile.TemporaryDirectory() as scratch_dir,
        LedgerStore(f"sqlite:///{Path(scratch_dir) / 's.db'}", access="create") as scratch,
    ):
        assert rebuild(live, scratch).differences == []
        assert query(scratch.url, "SELECT COUNT(*) FROM sla_entry_bases") == [(4,)]


def test_an_edited_basis_is_not_believed_and_verify_names_it(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        issue = store.entries(period="2026-03")[0]
    tamper(
        ledger,
        "UPDATE sla_entry_bases SET basis = replace(basis, '99.4624', '99.9999') "
        f"WHERE entry_id = '{issue.entry_id}'",
    )
    with LedgerStore(ledger, access="read") as store, store.reader() as view:
        issue_memo, reversal_memo = (str(e.as_dict()["memo"]) for e in view.entries()[:2])
        result = verify(view)
    wording = "SLA credit of 10% for crm, March 2026: 100.00 USD as a credit note"
    assert issue_memo == wording
    assert reversal_memo == f"Reversal of {issue.entry_id}: {wording}"
    assert not result.ok
    assert result.finding_in_basis
    assert result.finding is not None
    assert f"the stored basis of entry {issue.entry_id} does not hash" in result.finding.problem
    position = query(
        ledger, f"SELECT chain_pos FROM sla_credit_entries WHERE entry_id = '{issue.entry_id}'"
    )
    assert result.finding.position == position[0][0]


def test_the_table_refuses_changes(ledger: str) -> None:
    with (
        LedgerStore(ledger, access="write") as store,
        pytest.raises(StoreError, match="append-only"),
        store.transaction(commit=True) as cursor,
    ):
        cursor.execute("UPDATE sla_entry_bases SET basis = 'x'")


def test_a_store_made_before_bases_reads_as_it_is_and_a_writer_adds_them(
    ledger: str, tmp_path: Path
) -> None:
    # As an earlier sla-ledger left it: no table, and (PostgreSQL) its schema's mark.
    earlier = ["DROP TABLE sla_entry_bases"]
    if ledger.startswith("postgresql"):
        earlier.append("COMMENT ON TABLE sla_ledger_events IS 'an earlier schema'")
    tamper(ledger, *earlier)
    with LedgerStore(ledger, access="read") as store:
        assert store.missing_tables == frozenset({"sla_entry_bases"})
        assert (
            memos(store)[0] == "SLA credit of 10% for crm, March 2026: 100.00 USD as a credit note"
        )
        with store.reader() as view:
            assert verify(view).ok
    with LedgerStore(ledger, access="write") as store:
        assert store.missing_tables == frozenset()
        assert store.entry_bases_page("", 10) == []
        # New entries of the upgraded store get their bases (and their memos) again.
        feed(store, tmp_path, "c.jsonl", [*outages_in_may()])
        close_period(store, Period(2026, 5), datetime.now(UTC))
        assert memos(store)[-1].startswith("Availability ")


def outages_in_may() -> list[dict[str, Any]]:
    return [
        doc
        for day in range(2, 14)
        for doc in outage(f"Y-{day}", f"2026-05-{day:02}T10:00:00Z", f"2026-05-{day:02}T10:20:00Z")
    ]


def test_the_report_row_is_what_the_memo_states(store: LedgerStore, tmp_path: Path) -> None:
    feed(store, tmp_path, "a.jsonl", [contract(), *outages()])
    closed(store)
    row = period_report(store, MARCH, CLOSED_AT).rows[0].as_dict()
    assert (row["availability_percent"], row["fee_basis"]) == ("99.4624", "1000.00")
