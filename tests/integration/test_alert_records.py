"""Alerts as chained, append-only records in the store (sla-math §8), on SQLite and on
PostgreSQL: recorded once each and read back as recorded (as of a moment, by period,
contract and since), refused any change by the database, verified with the chain,
carried over as recorded by a rebuild, bundled with their period, and added to a store
made before they existed."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import threading
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from consumers.intake.validation import classify
from ledger.alerts import Alert, alert_id
from ledger.errors import ChainMovedError
from ledger.events import Origin
from ledger.periods import Period, from_us, to_us
from ledger.rejections import Rejection
from projections.audit.rebuild import RebuildResult, rebuild
from projections.audit.verify import verify
from projections.credit_entries import close_period, reconcile_closed_periods
from projections.store import LedgerStore, parse_store_url
from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.tampering import edit_record, query, tamper

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)


def _alert(
    at: datetime,
    threshold: str = "50",
    *,
    contract_id: str = "C-1",
    period: str = "2026-03",
    kind: str = "availability.budget",
    exposure: bool = True,
) -> Alert:
    return Alert(
        alert_id=alert_id(contract_id, "crm", period, kind, Decimal(threshold)),
        kind=kind,
        threshold=threshold,
        contract_id=contract_id,
        customer_id="K-1",
        service_id="crm",
        period=period,
        observed="67.2043",
        downtime_left_seconds="878.4" if exposure else None,
        credit_at_risk="100.00" if exposure else None,
        currency="USD",
        recorded_at=at,
    )


def _next_moment(store: LedgerStore) -> datetime:
    """A record time after the chain head's (the clock's, unless the head is later)."""
    return from_us(max(to_us(datetime.now(UTC)), store.chain_head().recorded_us + 1))


def _ingest(store: LedgerStore, path: Path, docs: list[dict[str, object]]) -> None:
    """The events appended and closed periods reconciled as an intake does, without its
    alerts: these tests place their own alerts at known positions (the follow-up would
    raise the budget alerts of the same rows first; the raising is tested elsewhere)."""
    events = []
    for line, doc in enumerate(docs, start=1):
        raw = json.dumps(doc).encode()
        origin = Origin(file=str(path), line=line)
        outcome = classify(raw, origin)
        assert not isinstance(outcome, Rejection), outcome
        events.append((outcome, origin, raw))
    store.append(events, [])
    reconcile_closed_periods(store, datetime.now(UTC))


@pytest.fixture
def alerted(store_url: str, tmp_path: Path) -> str:
    """Positions: 1 contract, 2-3 outage; 4-5 two alerts of March (one record time);
    6 issue, 7 close; 8 a second outage opened (9-10 its reversal and re-issue); 11 an
    alert of April of another contract, without exposure."""
    with LedgerStore(store_url, access="create") as store:
        docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
        _ingest(store, tmp_path / "a.jsonl", docs)
        at = _next_moment(store)
        recorded = store.append_alerts([_alert(at, "50"), _alert(at, "75")], store.chain_head())
        assert len(recorded) == 2
        close_period(store, MARCH, _next_moment(store))
        _ingest(
            store,
            tmp_path / "b.jsonl",
            outage("O-2", "2026-03-20T00:00:00Z", "2026-03-20T08:00:00Z")[:1],
        )
        later = _alert(
            _next_moment(store),
            "99.9",
            contract_id="C-2",
            period="2026-04",
            kind="availability.tier",
            exposure=False,
        )
        assert store.append_alerts([later], store.chain_head()) == [later]
        kinds = [kind for kind, _ in store.chain_rows(0, 100)]
    events, march, april = ["event"] * 3, ["alert", "alert", "entry", "close"], ["event"]
    assert kinds == [*events, *march, *april, "entry", "entry", "alert"]
    return store_url


# ------------------------------------------------------------------- append and read


def test_alerts_read_back_as_recorded_in_chain_order(alerted: str) -> None:
    with LedgerStore(alerted, access="read") as store:
        everything = store.alerts()
        assert [(a.threshold, a.period) for a in everything] == [
            ("50", "2026-03"),
            ("75", "2026-03"),
            ("99.9", "2026-04"),
        ]
        first, second, third = everything
        assert first.recorded_at == second.recorded_at < third.recorded_at
        assert first.downtime_left_seconds == "878.4"
        assert third.downtime_left_seconds is None
        assert third.credit_at_risk is None
        # As of a moment: those recorded at or before it.
        assert store.alerts(to_us(first.recorded_at)) == [first, second]
        assert store.alerts(to_us(first.recorded_at) - 1) == []
        # Filters.
        assert store.alerts(period="2026-04") == [third]
        assert store.alerts(contract_id="C-1") == [first, second]
        assert store.alerts(contract_id="C-1", period="2026-04") == []
        # Since: recorded at or after the moment given (the moment itself included).
        assert store.alerts(since_us=to_us(third.recorded_at)) == [third]
        assert store.alerts(since_us=to_us(first.recorded_at)) == everything
        assert store.alerts(since_us=to_us(third.recorded_at) + 1) == []
        assert store.alert_ids(["2026-03"]) == {first.alert_id, second.alert_id}
        assert store.alert_ids(["2026-03", "2026-04"]) == {a.alert_id for a in everything}
        assert store.alert_ids([]) == set()
        # An outbox pages them by chain position.
        assert store.alerts_after(0, 2) == [(4, first), (5, second)]
        assert store.alerts_after(5, 10) == [(11, third)]
        assert store.alerts_after(11, 10) == []
        assert (store.alerts_count_after(0), store.alerts_count_after(5)) == (3, 1)
        assert store.alert_position(third.alert_id) == 11
        assert store.alert_position("no such alert") is None
        # The moment of an alert is a chain position too.
        assert store.position_recorded_by(to_us(third.recorded_at)) == 11
        with store.reader() as view:
            assert view.alerts(period="2026-03") == [first, second]


def test_an_alert_is_recorded_once(alerted: str) -> None:
    with LedgerStore(alerted, access="write") as store:
        head = store.chain_head()
        at = _next_moment(store)
        again = [_alert(at, "50"), _alert(at, "75")]
        assert store.append_alerts(again, head) == []
        assert store.chain_head() == head, "nothing was chained"
        # A new one beside known ones, and the same id twice in one call: once, new only.
        new = _alert(at, "90")
        assert store.append_alerts([*again, new, _alert(at, "90.00")], head) == [new]
        assert store.chain_head().position == head.position + 1
        assert [a.threshold for a in store.alerts(period="2026-03")] == ["50", "75", "90"]
        assert store.append_alerts([], store.chain_head()) == []


def test_two_appenders_of_the_same_alerts_record_them_once(store_url: str) -> None:
    with LedgerStore(store_url, access="create") as first:
        first.append([], [])  # the store exists
    stores = [LedgerStore(store_url, access="write") for _ in range(4)]
    try:
        head = stores[0].chain_head()
        at = _next_moment(stores[0])
        batch = [_alert(at, threshold) for threshold in ("50", "75", "90", "100")]
        start = threading.Barrier(len(stores))
        outcomes: list[object] = []

        def append(store: LedgerStore) -> None:
            start.wait()
            try:
                outcomes.append(store.append_alerts(batch, head))
            except ChainMovedError as exc:  # another one chained first: compute again
                outcomes.append(exc)

        threads = [threading.Thread(target=append, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # One records them all; each other finds them recorded, or the chain moved.
        assert len(outcomes) == len(stores)
        assert [o for o in outcomes if isinstance(o, list) and o] == [batch], outcomes
        assert all(isinstance(o, ChainMovedError) or o in ([], batch) for o in outcomes)
        assert stores[0].alerts() == batch
        assert stores[0].chain_head().position == head.position + 4
        with stores[0].reader() as view:
            assert verify(view).ok
    finally:
        for store in stores:
            store.close()


def test_alerts_computed_at_a_moved_head_are_refused(alerted: str, tmp_path: Path) -> None:
    with LedgerStore(alerted, access="write") as store:
        head = store.chain_head()
        _ingest(
            store,
            tmp_path / "c.jsonl",
            outage("O-3", "2026-04-02T00:00:00Z", "2026-04-02T01:00:00Z")[:1],
        )
        moved = store.chain_head()
        with pytest.raises(ChainMovedError, match=f"from position {head.position}"):
            store.append_alerts([_alert(_next_moment(store), "90")], head)
        # A record time not after the head's is refused too.
        with pytest.raises(ChainMovedError, match="record time"):
            store.append_alerts([_alert(from_us(moved.recorded_us), "90")], moved)
        at = _next_moment(store)
        mixed = [_alert(at, "90"), _alert(from_us(to_us(at) + 1), "100")]
        with pytest.raises(ValueError, match="one record time"):
            store.append_alerts(mixed, moved)
        assert store.chain_head() == moved
        assert len(store.alerts()) == 3


# ------------------------------------------------------------------ the database refuses


def test_the_database_refuses_to_change_or_remove_an_alert(alerted: str) -> None:
    dialect, params = parse_store_url(alerted)
    statements = ("UPDATE sla_alerts SET observed = '0'", "DELETE FROM sla_alerts")
    if dialect == "sqlite":
        with closing(sqlite3.connect(params["path"], isolation_level=None)) as conn:
            for statement in statements:
                with pytest.raises(sqlite3.Error, match="sla_alerts is append-only"):
                    conn.execute(statement)
    else:
        import psycopg

        with psycopg.connect(alerted, autocommit=True) as conn:
            for statement in (*statements, "TRUNCATE sla_alerts"):
                with pytest.raises(psycopg.Error, match="sla_alerts is append-only"):
                    conn.execute(statement.encode())
    assert len(query(alerted, "SELECT alert_id FROM sla_alerts")) == 3
    assert query(alerted, "SELECT DISTINCT observed FROM sla_alerts") == [("67.2043",)]


def test_the_alert_due_index_is_its_own_and_may_be_rewritten(alerted: str) -> None:
    with LedgerStore(alerted, access="write") as store:
        store.record_due("2026-03", 5, {"C-1": 500})
        store.record_alert_due("2026-04", 5, {"C-1": 100, "C-2": 300, "C-3": None})
        assert store.alert_due_rows(99) == []
        assert store.alert_due_rows(300) == [("2026-04", "C-1"), ("2026-04", "C-2")]
        assert store.due_rows(1_000) == [("2026-03", "C-1")]  # not mixed with closed rows
        # A later computation moves or clears a due time; an earlier one does not.
        store.record_alert_due("2026-04", 7, {"C-1": 900, "C-2": None})
        store.record_alert_due("2026-04", 6, {"C-1": 50})
        assert store.alert_due_rows(800) == []
        assert store.alert_due_rows(900) == [("2026-04", "C-1")]
        assert store.due_rows(1_000) == [("2026-03", "C-1")]


# ------------------------------------------------------------------------ audit verify


def _verified(url: str) -> tuple[int | None, str]:
    with LedgerStore(url, access="read") as store, store.reader() as view:
        result = verify(view)
    if result.finding is None:
        assert result.records == 11
        return None, "ok"
    return result.finding.position, result.finding.problem


def test_a_chain_with_alerts_verifies(alerted: str) -> None:
    assert _verified(alerted) == (None, "ok")
    # Walked by worker processes a few positions at a time too (SQLite; PostgreSQL is
    # walked here), with the other kinds' statements they are handed.
    with LedgerStore(alerted, access="read") as store, store.reader() as view:
        walked = verify(view, page_size=2, parallel_from=1, workers=3)
    assert walked.ok, walked.finding
    assert (walked.records, walked.closes) == (11, 1)
    assert walked.workers == (3 if alerted.startswith("sqlite") else 0)
    verified = run("audit", "verify", store=alerted)
    assert verified.returncode == 0, verified.stderr
    assert "chain verified: 11 records" in verified.stdout


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("observed", "'0.0000'"),
        ("threshold", "'90'"),
        ("credit_at_risk", "NULL"),
        ("recorded_us", "recorded_us + 1"),
        ("chain_sha256", "'" + "0" * 64 + "'"),
    ],
)
def test_an_alert_edited_behind_the_ledgers_back_is_named_by_its_position(
    alerted: str, column: str, value: str
) -> None:
    tamper(alerted, f"UPDATE sla_alerts SET {column} = {value} WHERE chain_pos = 5")
    position, problem = _verified(alerted)
    assert position == 5, problem
    assert "alert" in problem
    assert "sla_alerts" in problem
    failed = run("audit", "verify", store=alerted)
    assert failed.returncode != 0
    assert "position 5" in failed.stdout + failed.stderr


def test_an_alerts_record_edited_in_the_event_store_is_named(alerted: str) -> None:
    tamper(alerted, edit_record(alerted, 11, "99.9", "99.0"))
    position, problem = _verified(alerted)
    assert position == 11
    assert "event store" in problem


def test_a_deleted_alert_is_named_by_its_position(alerted: str) -> None:
    tamper(alerted, "DELETE FROM sla_alerts WHERE chain_pos = 4")
    assert _verified(alerted) == (4, "no record holds this position: a record was deleted")


# ----------------------------------------------------------------------- audit rebuild


def _rebuild(url: str, reads_live: bool = False, **options: int) -> RebuildResult:
    with (
        LedgerStore(url, access="read") as live,
        tempfile.TemporaryDirectory() as scratch_dir,
        LedgerStore(
            f"sqlite:///{Path(scratch_dir) / 'scratch.db'}",
            access="create",
            throwaway=reads_live,
            contents_of=live if reads_live else None,
        ) as scratch,
    ):
        result = rebuild(live, scratch, **options)
        if result.ok:
            assert scratch.alerts() == live.alerts()
        return result


@pytest.mark.parametrize("reads_live", [False, True], ids=["copied", "reads-live"])
def test_a_rebuild_carries_the_alerts_as_recorded(alerted: str, reads_live: bool) -> None:
    result = _rebuild(alerted, reads_live)
    assert result.differences == []
    assert result.rebuilt_head == result.live_head
    assert result.records == 11
    assert (result.alerts_compared, result.entries_compared) == (3, 3)


def test_a_rebuild_with_its_worker_carries_the_alerts_too(alerted: str) -> None:
    result = _rebuild(alerted, parallel_from=1, workers=2)
    assert result.differences == []
    assert result.rebuilt_head == result.live_head
    assert result.alerts_compared == 3


def test_an_edited_alert_row_is_named_by_the_rebuild(alerted: str) -> None:
    tamper(alerted, "UPDATE sla_alerts SET observed = '0.0000' WHERE chain_pos = 4")
    result = _rebuild(alerted)
    first = alert_id("C-1", "crm", "2026-03", "availability.budget", Decimal(50))
    assert result.differences == [f"alert {first}: observed is 0.0000 live, 67.2043 rebuilt"]
    rebuilt = run("audit", "rebuild", store=alerted)
    assert rebuilt.returncode != 0
    assert "3 entries and 3 alerts compared; 1 difference" in rebuilt.stdout


def test_a_deleted_alert_row_is_named_by_the_rebuild(alerted: str) -> None:
    tamper(alerted, "DELETE FROM sla_alerts WHERE chain_pos = 11")
    result = _rebuild(alerted)
    third = alert_id("C-2", "crm", "2026-04", "availability.tier", Decimal("99.9"))
    assert result.differences == [
        f"alert {third} (availability.tier 99.9 of C-2/crm 2026-04): only in the rebuild"
    ]


def test_an_edited_alert_record_in_the_log_changes_the_rebuilt_chain(alerted: str) -> None:
    tamper(alerted, edit_record(alerted, 11, '"observed":"67.2043"', '"observed":"1"'))
    result = _rebuild(alerted)
    assert not result.ok
    assert any(d.startswith("chain: live head") for d in result.differences)
    assert any("observed is 67.2043 live, 1 rebuilt" in d for d in result.differences)


def test_a_log_record_that_is_no_alert_stops_the_rebuild(alerted: str) -> None:
    tamper(alerted, edit_record(alerted, 4, '"alert_id":', '"alert":'))
    result = _rebuild(alerted)
    assert result.differences[0] == (
        "the log does not replay: position 4: the event store's record is no alert the "
        "ledger wrote: run `sla-ledger audit verify`"
    )


# ------------------------------------------------------------------------ audit bundle


def test_a_bundle_carries_its_periods_alerts_and_checks(alerted: str, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    exported = run("audit", "export", "--period", "2026-03", "--out", str(bundle), store=alerted)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in (bundle / "alerts.jsonl").read_text().splitlines()]
    assert [(a["threshold"], a["chain_pos"]) for a in lines] == [("50", 4), ("75", 5)]
    assert json.loads((bundle / "manifest.json").read_text())["counts"]["alerts"] == 2
    kinds = [json.loads(line)["kind"] for line in (bundle / "chain.jsonl").read_text().splitlines()]
    assert kinds.count("alert") == 3  # the whole chain, as digests
    checked = run("audit", "check", str(bundle))
    assert checked.returncode == 0, checked.stdout
    # 4 events, 3 entries, the close and 2 alerts.
    assert "ok   records: 10 records placed on the chain as bundled" in checked.stdout

    # A bundled alert edited (and its digest in the manifest with it) is not the chain's.
    forged = tmp_path / "forged"
    shutil.copytree(bundle, forged)
    text = (
        (forged / "alerts.jsonl").read_text().replace('"observed":"67.2043"', '"observed":"1"', 1)
    )
    (forged / "alerts.jsonl").write_text(text)
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["files"]["alerts.jsonl"] = hashlib.sha256(text.encode()).hexdigest()
    (forged / "manifest.json").write_text(json.dumps(manifest))
    failed = run("audit", "check", str(forged))
    assert failed.returncode == 1
    assert "FAIL records: the alert at position 4 is not the one the chain holds" in failed.stdout


# ------------------------------------------------------------ a store made before alerts


def _as_made_before_alerts(url: str) -> None:
    """Make the store one an earlier sla-ledger left: no alert tables and, on
    PostgreSQL, an earlier schema mark."""
    statements = ["DROP TABLE sla_alerts", "DROP TABLE sla_alert_due"]
    dialect, params = parse_store_url(url)
    if dialect == "sqlite":
        with closing(sqlite3.connect(params["path"])) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        for statement in statements:
            conn.execute(statement.encode())
        conn.execute(b"COMMENT ON TABLE sla_ledger_events IS 'an earlier schema'")


def _has_alert_tables(url: str) -> bool:
    try:
        query(url, "SELECT alert_id FROM sla_alerts WHERE 1 = 0")
        query(url, "SELECT due_us FROM sla_alert_due WHERE 1 = 0")
    except Exception:
        return False
    return True


def test_a_store_made_before_alerts_opens_and_gains_them(store_url: str, tmp_path: Path) -> None:
    # A store as an earlier sla-ledger left it: events, an entry and a close, no alert
    # (today's intake would have raised some; `_ingest` appends as that one did).
    ledger = store_url
    with LedgerStore(ledger, access="create") as store:
        docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
        _ingest(store, tmp_path / "a.jsonl", docs)
        close_period(store, MARCH, _next_moment(store))
        assert store.alerts() == []
        head = store.chain_head()
        entries = store.entries()
    _as_made_before_alerts(ledger)
    assert not _has_alert_tables(ledger)

    with LedgerStore(ledger, access="read") as reader:
        assert reader.alerts() == []
        assert reader.alert_ids(["2026-03"]) == set()
        assert reader.alerts_after(0, 10) == []
        assert reader.alerts_count_after(0) == 0
        assert reader.alert_due_rows(2**62) == []
        assert reader.entries() == entries
        assert reader.position_recorded_by(head.recorded_us) == head.position
        with reader.reader() as view:
            assert verify(view).ok
        assert _rebuild(ledger).ok
    assert not _has_alert_tables(ledger), "a reader changed the store"
    for command in (("audit", "verify"), ("audit", "rebuild")):
        ran = run(*command, store=ledger)
        assert ran.returncode == 0, ran.stdout + ran.stderr

    with LedgerStore(ledger, access="write") as writer:
        assert _has_alert_tables(ledger)
        at = _next_moment(writer)
        assert writer.append_alerts([_alert(at, "50", period="2026-05")], head) == [
            _alert(at, "50", period="2026-05")
        ]
        writer.record_alert_due("2026-05", head.position + 1, {"C-1": 10})
        assert writer.alert_due_rows(10) == [("2026-05", "C-1")]
        with writer.reader() as view:
            assert verify(view).ok
    # The new table is guarded like the others.
    dialect, params = parse_store_url(ledger)
    if dialect == "sqlite":
        with (
            closing(sqlite3.connect(params["path"], isolation_level=None)) as conn,
            pytest.raises(sqlite3.Error, match="append-only"),
        ):
            conn.execute("DELETE FROM sla_alerts")
    else:
        import psycopg

        with (
            psycopg.connect(ledger, autocommit=True) as conn,
            pytest.raises(psycopg.Error, match="append-only"),
        ):
            conn.execute(b"DELETE FROM sla_alerts")
    assert _rebuild(ledger).ok


# ------------------------------------------------------------- roles, the chained log


def test_the_ingest_role_records_alerts_and_cannot_change_them(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """The deployment's roles (docker/roles.sql): the ingest role records alerts and
    their due times; neither it nor the reader may change a recorded alert."""
    import psycopg

    from tests.integration.test_immutability import apply_roles, as_role

    apply_roles(fresh_postgres_url)
    LedgerStore(as_role(fresh_postgres_url, "sla_owner"), access="create").close()
    ingest = as_role(fresh_postgres_url, "sla_ingest")
    with LedgerStore(ingest, access="write") as store:
        _ingest(store, tmp_path / "a.jsonl", [contract()])
        recorded = store.append_alerts([_alert(_next_moment(store))], store.chain_head())
        assert len(recorded) == 1
        store.record_alert_due("2026-03", 1, {"C-1": 5})
        store.record_alert_due("2026-03", 2, {"C-1": None})  # the index is rewritten
    with LedgerStore(as_role(fresh_postgres_url, "sla_reader"), access="read") as reader:
        assert reader.alerts() == recorded
    for role in ("sla_ingest", "sla_reader"):
        with psycopg.connect(as_role(fresh_postgres_url, role), autocommit=True) as conn:
            for statement in ("UPDATE sla_alerts SET observed = '0'", "DELETE FROM sla_alerts"):
                with pytest.raises(psycopg.Error, match="permission denied for table sla_alerts"):
                    conn.execute(statement.encode())


def test_the_chained_log_serves_alerts_with_their_digests(alerted: str) -> None:
    from ledger.chain import link, record_sha256
    from projections.queries.chain_log import chain_page

    with LedgerStore(alerted, access="read") as store:
        page = chain_page(store, 0, 100, None)
    previous = "0" * 64
    for line in page.records:
        digest = record_sha256(line["kind"], line["position"], line["record"])
        assert digest == line["record_sha256"]
        previous = link(previous, digest)
        assert previous == line["chain_sha256"]
    alerts = [line for line in page.records if line["kind"] == "alert"]
    assert [line["position"] for line in alerts] == [4, 5, 11]
    assert alerts[2]["record"]["credit_at_risk"] is None


def test_a_bundle_exported_before_alerts_existed_still_checks(alerted: str, tmp_path: Path) -> None:
    """Its manifest names no alerts.jsonl, and it has none: checked as before. A bundle
    whose manifest names the file must hold it."""
    bundle = tmp_path / "b"
    exported = run("audit", "export", "--period", "2026-03", "--out", str(bundle), store=alerted)
    assert exported.returncode == 0, exported.stderr
    older = tmp_path / "older"
    shutil.copytree(bundle, older)
    (older / "alerts.jsonl").unlink()
    manifest = json.loads((older / "manifest.json").read_text())
    del manifest["files"]["alerts.jsonl"]
    (older / "manifest.json").write_text(json.dumps(manifest))
    checked = run("audit", "check", str(older))
    assert checked.returncode == 0, checked.stdout
    assert "ok   files: all 7 files match the manifest" in checked.stdout
    (bundle / "alerts.jsonl").unlink()
    failed = run("audit", "check", str(bundle))
    assert failed.returncode == 1
    assert "FAIL files: alerts.jsonl is missing" in failed.stdout
