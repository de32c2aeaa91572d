"""Store-level behaviour, each test run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.file_ingest import ingest_file
from ledger.credits import basis_sha256
from ledger.errors import PeriodNotEndedError, StoreError
from ledger.periods import Period
from projections import credit_entries
from projections.attainment import period_report
from projections.audit.verify import verify
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)


def write(path: Path, documents: list[dict[str, Any]], extra: list[bytes] | None = None) -> Path:
    lines = [json.dumps(d).encode() for d in documents] + (extra or [])
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def report(store: LedgerStore) -> list[dict[str, Any]]:
    return [r.as_dict() for r in period_report(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).rows]


def test_each_event_is_stored_once_and_identical_duplicates_are_no_ops(
    store: LedgerStore, tmp_path: Path
) -> None:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    first = ingest_file(store, write(tmp_path / "a.jsonl", docs + docs[1:2]))
    assert (first.accepted, first.duplicates, first.rejected) == (3, 1, 0)
    again = ingest_file(store, write(tmp_path / "b.jsonl", docs))
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, 0)
    assert store.event_count() == 3
    assert report(store)[0]["downtime_seconds"] == "3000"


def test_conflicting_event_id_is_rejected_naming_the_field(
    store: LedgerStore, tmp_path: Path
) -> None:
    started = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    changed = json.loads(json.dumps(started[0]))
    changed["payload"]["impact_percent"] = "50"
    summary = ingest_file(store, write(tmp_path / "a.jsonl", [contract(), *started, changed]))
    assert (summary.accepted, summary.rejected) == (3, 1)
    [rejection] = store.rejections()
    assert rejection.raw == json.dumps(changed).encode()  # the bytes as received
    assert rejection.field == "event_id"
    assert rejection.reason.startswith("event_id:")
    assert rejection.event_id == started[0]["event_id"]


def test_rejected_input_is_kept_with_raw_bytes_origin_and_reason_once(
    store: LedgerStore, tmp_path: Path
) -> None:
    bad = outage("O-1", "2026-03-10T10:00:00Z", None, impact="120")[0]
    raw_bad = json.dumps(bad).encode()
    path = write(tmp_path / "in.jsonl", [contract()], [raw_bad, b"{not json", b"\xff\xfe"])
    summary = ingest_file(store, path)
    assert (summary.accepted, summary.rejected) == (1, 3)
    ingest_file(store, path)  # re-reading the same file records nothing new
    rejections = store.rejections()
    assert [r.origin["line"] for r in rejections] == [2, 3, 4]
    assert rejections[0].raw == raw_bad
    assert rejections[0].field == "payload.impact_percent"
    assert '"120"' in rejections[0].reason
    assert rejections[2].raw == b"\xff\xfe"


def test_resubmitted_fix_is_accepted(store: LedgerStore, tmp_path: Path) -> None:
    bad = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", impact="120")
    ingest_file(store, write(tmp_path / "in.jsonl", [contract(), *bad]))
    fixed = json.loads(store.rejections()[0].raw)
    fixed["payload"]["impact_percent"] = "100"
    summary = ingest_file(store, write(tmp_path / "fixed.jsonl", [fixed]))
    assert summary.accepted == 1
    assert report(store)[0]["downtime_seconds"] == "3000"


def test_close_issues_entries_and_late_correction_posts_reversal_and_reissue(
    store: LedgerStore, tmp_path: Path
) -> None:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    ingest_file(store, write(tmp_path / "a.jsonl", docs))
    outcome = close_period(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC))
    assert [(e.kind, e.revision, str(e.amount_major)) for e in outcome.entries] == [
        ("issue", 1, "100.00")
    ]
    assert close_period(store, MARCH, datetime(2026, 4, 3, tzinfo=UTC)).newly_closed is False

    longer = ev(
        "outage.amended",
        "2026-04-05T00:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T20:00:00Z", "reason": "review"},
    )
    summary = ingest_file(store, write(tmp_path / "late.jsonl", [longer]))
    assert summary.entries_appended == 2
    entries = store.entries(period="2026-03")
    assert [(e.kind, e.revision, str(e.amount_major)) for e in entries] == [
        ("issue", 1, "100.00"),
        ("reversal", 1, "-100.00"),
        ("issue", 2, "250.00"),
    ]
    assert entries[1].supersedes == entries[0].entry_id
    assert sum(e.amount_major for e in entries) == 250
    assert report(store)[0]["status"] == "closed"
    # idempotent: nothing new when the same events arrive again
    assert ingest_file(store, write(tmp_path / "late2.jsonl", [longer])).entries_appended == 0


def test_entry_ids_are_deterministic_across_stores(store: LedgerStore, tmp_path: Path) -> None:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    ingest_file(store, write(tmp_path / "a.jsonl", docs))
    first = close_period(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).entries
    other = LedgerStore(f"sqlite:///{tmp_path / 'other.db'}", access="create")
    try:
        ingest_file(other, write(tmp_path / "b.jsonl", list(reversed(docs))))
        second = close_period(other, MARCH, datetime(2026, 4, 9, tzinfo=UTC)).entries
    finally:
        other.close()
    assert [(e.entry_id, e.basis_sha256) for e in first] == [
        (e.entry_id, e.basis_sha256) for e in second
    ]


def test_close_is_refused_before_the_period_ends(store: LedgerStore, tmp_path: Path) -> None:
    ingest_file(store, write(tmp_path / "a.jsonl", [contract(tz="Pacific/Honolulu")]))
    with pytest.raises(PeriodNotEndedError, match="2026-04-01T10:00:00Z"):
        close_period(store, MARCH, datetime(2026, 4, 1, 9, tzinfo=UTC))


def test_as_of_sees_only_what_was_recorded_by_then(store: LedgerStore, tmp_path: Path) -> None:
    ingest_file(store, write(tmp_path / "a.jsonl", [contract()]))
    between = datetime.now(UTC)
    ingest_file(
        store,
        write(tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")),
    )
    then = period_report(store, MARCH, between, recorded_filter=True).rows[0].as_dict()
    assert then["downtime_seconds"] == "0"
    assert then["measured_seconds"] == "2678400"


def test_unreachable_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        LedgerStore("postgresql://nobody:secret@127.0.0.1:1/none", access="create")
    with pytest.raises(StoreError, match="no directory"):
        LedgerStore(f"sqlite:///{tmp_path}/missing/dir/ledger.db", access="create")


def test_incident_opened_exactly_at_the_window_start_belongs_to_that_period(
    store: LedgerStore, tmp_path: Path
) -> None:
    response = {
        "targets": {"P1": "PT30M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    docs = [
        contract(services=[service(availability=False, incident_response=response)]),
        ev(
            "incident.opened",
            "2026-03-01T00:00:00Z",
            {
                "incident_id": "I-1",
                "contract_id": "C-1",
                "service_id": "crm",
                "priority": "P1",
                "opened_at": "2026-03-01T00:00:00Z",
            },
        ),
    ]
    ingest_file(store, write(tmp_path / "a.jsonl", docs))
    row = report(store)[0]
    assert (row["incidents_missed"], row["response_credit_percent"]) == (1, "5")


def test_workers_starting_at_once_on_a_fresh_store_all_open_it(
    store_url: str, tmp_path: Path
) -> None:
    # Several ingest workers started together each create the schema if it is missing;
    # PostgreSQL fails concurrent `CREATE TYPE`/`CREATE ... IF NOT EXISTS` ("tuple
    # concurrently updated") unless they take turns, and on SQLite a worker that opens a
    # fresh file while another writes to it could not switch it to WAL ("locked").
    feed = write(tmp_path / "feed.jsonl", [contract()])

    def open_and_ingest(_n: int) -> int:
        with LedgerStore(store_url, access="create") as opened:
            ingest_file(opened, feed)
            return opened.event_count()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(open_and_ingest, range(4))) == [1, 1, 1, 1]


def test_an_event_recorded_while_a_close_computes_makes_it_compute_again(
    store: LedgerStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries of a close are computed from exactly the events recorded by their
    record time: one recorded in between (another worker) moves the chain, the write is
    refused, and the close computes again with it."""
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    ingest_file(store, write(tmp_path / "a.jsonl", docs))
    late = outage("O-2", "2026-03-12T00:00:00Z", "2026-03-13T00:00:00Z")
    computed = []
    real_report = period_report  # the name close_period calls, replaced below

    def report_then_interfere(*args: Any, **kwargs: Any) -> Any:
        result = real_report(*args, **kwargs)
        computed.append(len(result.rows))
        if len(computed) == 1:  # another writer records an event right now
            with LedgerStore(store.url, access="create") as other:
                ingest_file(other, write(tmp_path / "late.jsonl", late))
        return result

    monkeypatch.setattr(credit_entries, "period_report", report_then_interfere)
    # This worker's clock runs a minute ahead of the other writer's: the event is
    # recorded "before" the close's moment, so only the chain position reveals it.
    outcome = close_period(store, MARCH, datetime.now(UTC) + timedelta(minutes=1))
    assert len(computed) == 2
    # 3,000 s + 86,400 s down: below 99.0 but not 95.0, so 25%, not the first attempt's 10%.
    assert [str(e.amount_major) for e in outcome.entries] == ["250.00"]
    with LedgerStore(store.url, access="create") as fresh:
        with fresh.reader() as view:
            assert verify(view).ok
        [entry] = fresh.entries(period="2026-03")
        then = period_report(fresh, MARCH, entry.recorded_at, recorded_filter=True)
        assert basis_sha256(then.rows[0]) == entry.basis_sha256


def test_events_after_a_close_from_a_clock_ahead_are_recorded_after_it(
    store: LedgerStore, tmp_path: Path
) -> None:
    """The closing worker's clock runs ahead; the amendment that follows is recorded
    strictly after the close, so the close's moment still shows exactly its figures."""
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    ingest_file(store, write(tmp_path / "a.jsonl", docs))
    outcome = close_period(store, MARCH, datetime.now(UTC) + timedelta(seconds=2))
    amended = ev(
        "outage.amended",
        "2026-04-05T00:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T20:00:00Z", "reason": "review"},
    )
    ingest_file(store, write(tmp_path / "late.jsonl", [amended]))
    entries = store.entries(period="2026-03")
    assert [e.kind for e in entries] == ["issue", "reversal", "issue"]
    assert outcome.closed_at < entries[1].recorded_at
    for entry in entries:
        then = period_report(store, MARCH, entry.recorded_at, recorded_filter=True)
        assert basis_sha256(then.rows[0]) == entry.basis_sha256
    assert period_report(store, MARCH, outcome.closed_at, recorded_filter=True).rows[
        0
    ].credit_amount_major == Decimal("100.00")
