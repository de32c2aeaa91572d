"""The audit against rows edited, deleted and inserted behind the ledger's back, on SQLite
and on PostgreSQL: `audit verify` names exactly the first tampered chain position, and
`audit rebuild` replays the event log and names what differs from the live projections."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.intake.file_ingest import ingest_file
from consumers.intake.validation import classify
from ledger.chain import link, record_sha256
from ledger.events import Origin
from ledger.periods import Period
from ledger.rejections import Rejection
from projections.audit import rebuild as audit_rebuild
from projections.audit import verify as audit_verify
from projections.audit.rebuild import RebuildResult, rebuild
from projections.audit.verify import verify
from projections.credit_entries import close_checkpoint, close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage
from tests.cli_process import run_cli as run
from tests.infrastructure import fresh_postgres_database
from tests.tampering import edit_record, library_table, query, record_id, set_record, tamper

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)


@pytest.fixture
def history(store_url: str, tmp_path: Path) -> str:
    """Positions: 1 contract, 2-3 outage, 4-8 the alerts its March row meets, 9 issue,
    10 close, 11 amendment, 12 reversal, 13 re-issue, 14 a second outage, 15-16 its
    reversal and re-issue, then from 17 the alerts of every later month it reaches
    (`_later_alerts`: their number depends on today's date)."""
    with LedgerStore(store_url, access="create") as store:
        docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
        _ingest(store, tmp_path / "a.jsonl", docs)
        close_period(store, MARCH, datetime.now(UTC))
        amended = ev(
            "outage.amended",
            "2026-04-20T09:00:00Z",
            {"outage_id": "O-1", "ended_at": "2026-03-11T10:00:00Z", "reason": "review"},
        )
        _ingest(store, tmp_path / "b.jsonl", [amended])
        _ingest(
            store,
            tmp_path / "c.jsonl",
            outage("O-2", "2026-03-20T00:00:00Z", "2026-03-20T08:00:00Z")[:1],
        )
    return store_url


CHAIN_TABLES = ("sla_events", "sla_credit_entries", "sla_closes", "sla_alerts")
CHAIN = (
    "("
    + " UNION ALL ".join(f"SELECT chain_pos, chain_sha256 FROM {t}" for t in CHAIN_TABLES)
    + ") AS chain"
)
# The positions of the history before the alerts of the months after March.
BEFORE_LATER_ALERTS = 16
# The alerts a month meets: budget 50, 75, 90, 100, and the tiers below 99.9, 99, 95.
MARCH_ALERTS = [("availability.budget", t) for t in ("50", "75", "90", "100")] + [
    ("availability.tier", "99.9")
]
FULL_MONTH_ALERTS = [("availability.budget", t) for t in ("50", "75", "90", "100")] + [
    ("availability.tier", t) for t in ("95", "99", "99.9")
]


def _last(url: str) -> int:
    return int(str(query(url, f"SELECT MAX(chain_pos) FROM {CHAIN}")[0][0]))


def _later_alerts(url: str) -> int:
    """How many alerts follow the history's last entry: O-2, still open, reaches every
    month since March up to today's, so their number grows with the date."""
    return _last(url) - BEFORE_LATER_ALERTS


def _ingest(store: LedgerStore, path: Path, docs: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)


def _verify(url: str, checkpoints: dict[int, str] | None = None) -> tuple[int | None, str]:
    with LedgerStore(url, access="create") as store, store.reader() as view:
        result = verify(view, checkpoints)
    if result.finding is None:
        return None, f"ok {result.records}"
    return result.finding.position, result.finding.problem


def test_an_untouched_history_verifies_with_its_checkpoint(history: str) -> None:
    with LedgerStore(history, access="create") as store, store.reader() as view:
        result = verify(view)
        kinds = [kind for kind, _ in store.chain_rows(0, 10_000)]
        alerts = [(a.period, a.kind, a.threshold) for a in store.alerts()]
    assert result.ok, result.finding
    # O-1 (50 minutes, beyond March's 44.64-minute budget) raises its alerts when ingested,
    # before the close. The amendment moves the credit from the 10% to the 25% tier; the
    # outage O-2, still open, runs to the horizon and reaches the 100% tier: two reversals,
    # two re-issues; it takes every later month down whole, each month's alerts raised once.
    later = _later_alerts(history)
    march = ["event"] * 3 + ["alert"] * 5 + ["entry", "close"]
    corrections = ["event", "entry", "entry"] * 2
    assert kinds == march + corrections + ["alert"] * later
    assert alerts[:5] == [("2026-03", kind, threshold) for kind, threshold in MARCH_ALERTS]
    months = sorted({period for period, _, _ in alerts[5:]})
    assert months[0] == "2026-04"
    # Every month that has ended is down whole: all its alerts, month by month. The month
    # running now (UTC, the contract's zone) has those its part so far meets, once each.
    today = datetime.now(UTC).date()
    ended = [m for m in months if Period.from_label(m).next().first_day <= today]
    assert len(ended) >= 7  # April to October at least
    whole = [(m, kind, threshold) for m in ended for kind, threshold in FULL_MONTH_ALERTS]
    assert alerts[5 : 5 + len(whole)] == whole
    running = alerts[5 + len(whole) :]
    assert {m for m, _, _ in running} <= {Period.containing(today).label}
    assert len(running) == len(set(running))
    assert {(k, t) for _, k, t in running} <= set(FULL_MONTH_ALERTS)
    assert result.records == BEFORE_LATER_ALERTS + later
    assert result.closes == 1


def test_an_edited_event_is_named_by_its_position(history: str) -> None:
    # The envelope is kept once, in the event's record of the event store.
    tamper(history, edit_record(history, 3, "10:50", "10:40"))
    position, problem = _verify(history)
    assert position == 3
    assert "sla_events" in problem
    assert "edited" in problem


def test_an_edit_that_keeps_the_content_hash_is_still_caught_by_the_link(history: str) -> None:
    tamper(history, edit_record(history, 2, '"line":2', '"line":9'))
    assert _verify(history)[0] == 2


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event_id", "'forged'"),
        ("type", "'outage.resolved'"),
        ("subject_kind", "'incident'"),
        ("subject_id", "'O-9'"),
        ("occurred_at", "'2026-03-10T10:00:01Z'"),
        ("recorded_us", "recorded_us + 1"),
        ("chain_sha256", "'" + "0" * 64 + "'"),
    ],
)
def test_every_edited_index_column_of_an_event_is_named(
    history: str, column: str, value: str
) -> None:
    tamper(history, f"UPDATE sla_events SET {column} = {value} WHERE chain_pos = 11")
    position, problem = _verify(history)
    assert position == 11, problem
    assert "sla_events" in problem


def test_an_event_record_edited_out_of_its_shape_is_named(history: str) -> None:
    tamper(history, set_record(history, 2, "[]"))
    position, problem = _verify(history)
    assert position == 2
    assert "not [envelope, origin]" in problem


def test_an_event_record_deleted_from_the_event_store_is_named(history: str) -> None:
    tamper(history, f"DELETE FROM {library_table(history)} WHERE {record_id(history)} = 3")
    position, problem = _verify(history)
    assert position == 3
    assert "missing from the event store" in problem


def test_an_event_record_of_another_topic_or_originator_is_named(history: str) -> None:
    tamper(
        history,
        f"UPDATE {library_table(history)} SET topic = 'other' WHERE {record_id(history)} = 2",
    )
    position, problem = _verify(history)
    assert position == 2
    assert "event store's copy differs" in problem


def test_an_edited_credit_amount_is_named_by_its_position(history: str) -> None:
    tamper(history, "UPDATE sla_credit_entries SET amount = '1.00' WHERE chain_pos = 13")
    position, problem = _verify(history)
    assert position == 13
    assert "sla_credit_entries" in problem


def test_only_the_first_of_two_edits_is_named(history: str) -> None:
    tamper(
        history,
        "UPDATE sla_credit_entries SET amount = '1.00' WHERE chain_pos = 13",
        "UPDATE sla_credit_entries SET basis_sha256 = 'x' WHERE chain_pos = 9",
    )
    assert _verify(history)[0] == 9


def test_a_deleted_event_is_named_by_its_position(history: str) -> None:
    tamper(history, "DELETE FROM sla_events WHERE chain_pos = 11")
    position, problem = _verify(history)
    assert position == 11
    assert "deleted" in problem


def test_deleting_the_newest_records_everywhere_is_caught_by_the_head(history: str) -> None:
    last = _last(history)
    table = library_table(history)
    # The newest record is an alert; deleted from whichever table holds it.
    tamper(
        history,
        *(f"DELETE FROM {chained} WHERE chain_pos = {last}" for chained in CHAIN_TABLES),
        f"DELETE FROM {table} WHERE {record_id(history)} = {last}",
    )
    position, problem = _verify(history)
    assert position == last
    assert "deleted" in problem


def _forged_entry_at(url: str, position: int) -> str:
    """An entry row at `position` whose link is computed correctly, as a forger who
    knows the algorithm would: only the event store's copy is missing."""
    previous = str(
        query(url, f"SELECT chain_sha256 FROM {CHAIN} WHERE chain_pos = {position - 1}")[0][0]
    )
    fields = {
        "entry_id": "forged",
        "kind": "issue",
        "revision": 9,
        "supersedes": None,
        "contract_id": "C-1001",
        "customer_id": "CUST-7",
        "service_id": "crm",
        "period": "2026-03",
        "amount": "5000.00",
        "currency": "USD",
        "remedy": "credit",
        "credit_percent": "100",
        "terms_version": 1,
        "recorded_us": 2**52,
        "basis_sha256": "0" * 64,
    }
    sha = link(previous, record_sha256("entry", position, fields))
    values = ", ".join("NULL" if v is None else repr(v) for v in fields.values())
    return (
        f"INSERT INTO sla_credit_entries ({', '.join(fields)}, chain_pos, chain_sha256) "
        f"VALUES ({values}, {position}, '{sha}')"
    )


def test_an_inserted_entry_after_the_head_is_named(history: str) -> None:
    last = _last(history)
    tamper(history, _forged_entry_at(history, last + 1))
    position, problem = _verify(history)
    assert position == last + 1
    assert "missing from the event store" in problem


def test_an_inserted_row_claiming_a_taken_position_is_named(history: str) -> None:
    tamper(
        history,
        "INSERT INTO sla_events (event_id, type, subject_kind, subject_id, occurred_at, "
        "recorded_us, chain_pos, chain_sha256) "
        "SELECT 'forged', type, subject_kind, subject_id, occurred_at, recorded_us, "
        "12, chain_sha256 FROM sla_events WHERE chain_pos = 11",
    )
    position, problem = _verify(history)
    assert position == 12
    assert "2 records claim" in problem


def test_an_edited_event_store_copy_is_named(history: str) -> None:
    # Position 9 is the close's entry: its record repeats its row, byte for byte.
    tamper(history, edit_record(history, 9, '"kind":"issue"', '"kind":"forged"'))
    position, problem = _verify(history)
    assert position == 9
    assert "event store's copy differs" in problem


def test_a_checkpoint_kept_elsewhere_must_be_on_the_chain(history: str) -> None:
    with LedgerStore(history, access="create") as store, store.reader() as view:
        good = verify(view).head
    assert _verify(history, {good.position: good.sha256})[0] is None
    assert _verify(history, {3: "f" * 64})[0] == 3
    assert _verify(history, {good.position + 5: "f" * 64})[0] == good.position + 5


def test_the_command_exits_non_zero_naming_the_position(history: str) -> None:
    ok = run("audit", "verify", store=history)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("chain verified: ")
    tamper(
        history, "UPDATE sla_events SET occurred_at = '2026-03-01T00:00:00Z' WHERE chain_pos = 1"
    )
    broken = run("audit", "verify", "--format", "json", store=history)
    assert broken.returncode == 1
    document = json.loads(broken.stdout)
    assert document["ok"] is False
    assert document["first_mismatch"]["position"] == 1
    assert broken.stderr.strip() == "sla-ledger: audit verify failed at position 1"


@pytest.fixture(params=["copied", "read from the live file"])
def scratch_reads_live(request: pytest.FixtureRequest) -> bool:
    """Whether the scratch store reads the replayed events' contents from the live store
    (`audit rebuild`'s own temporary scratch, `contents_of`; on a SQLite live store
    only) rather than holding a copy (a `--scratch` store)."""
    return bool(request.param != "copied")


def _rebuild(url: str, reads_live: bool) -> RebuildResult:
    with (
        LedgerStore(url, access="create") as live,
        tempfile.TemporaryDirectory() as scratch_dir,
        LedgerStore(
            f"sqlite:///{Path(scratch_dir) / 'scratch.db'}",
            access="create",
            throwaway=reads_live,
            contents_of=live if reads_live else None,
        ) as scratch,
    ):
        assert scratch.contents_elsewhere == (reads_live and live.dialect == "sqlite")
        return rebuild(live, scratch)


def test_a_rebuild_reproduces_the_chain_entries_and_rows(
    history: str, scratch_reads_live: bool
) -> None:
    result = _rebuild(history, scratch_reads_live)
    assert result.differences == []
    assert result.rebuilt_head == result.live_head
    assert result.records == BEFORE_LATER_ALERTS + _later_alerts(history)
    assert result.entries_compared == 5
    assert result.events_compared == 5
    assert result.spans_compared == 2


def test_the_commands_own_scratch_store_holds_no_copy_of_the_events(history: str) -> None:
    """Its events' contents are read from the live SQLite file at the same positions (a
    PostgreSQL live store's are copied): only the entries' and closes' records are its
    own, and the rebuild is as complete."""
    with (
        LedgerStore(history, access="create") as live,
        tempfile.TemporaryDirectory() as scratch_dir,
        LedgerStore(
            f"sqlite:///{Path(scratch_dir) / 'scratch.db'}",
            access="create",
            throwaway=True,
            contents_of=live,
        ) as scratch,
    ):
        result = rebuild(live, scratch)
        events = live.event_count()
        own_records = scratch.library_count()
        copied = not scratch.contents_elsewhere
    assert result.ok, result.differences
    assert result.rebuilt_head == result.live_head
    assert events == 5
    records = BEFORE_LATER_ALERTS + _later_alerts(history)
    assert own_records == (records if copied else records - events)
    assert copied == history.startswith("postgresql")


def test_a_rebuild_into_a_postgresql_scratch_store(history: str, postgres_url: str) -> None:
    with (
        fresh_postgres_database(postgres_url) as scratch_url,
        LedgerStore(history, access="create") as live,
        LedgerStore(scratch_url, access="create") as scratch,
    ):
        result = rebuild(live, scratch)
    assert result.ok, result.differences


def test_an_edited_event_index_is_named_by_the_rebuild(
    history: str, scratch_reads_live: bool
) -> None:
    # Reports select events by the index (sla_events); the log says O-2.
    tamper(history, "UPDATE sla_events SET subject_id = 'O-3' WHERE chain_pos = 14")
    result = _rebuild(history, scratch_reads_live)
    assert not result.ok
    assert any(
        d.startswith("event at position 14 (")
        and d.endswith("in sla_events: subject_id is O-3 live, O-2 rebuilt")
        for d in result.differences
    ), result.differences


def test_an_edited_event_content_is_named_by_the_rebuild(
    history: str, scratch_reads_live: bool
) -> None:
    tamper(history, edit_record(history, 14, "2026-03-20T00:00:00Z", "2026-03-31T00:00:00Z"))
    result = _rebuild(history, scratch_reads_live)
    assert any(d.startswith("chain: live head ") for d in result.differences), result.differences


def test_a_deleted_and_an_edited_entry_are_reported(history: str, scratch_reads_live: bool) -> None:
    tamper(
        history,
        "DELETE FROM sla_credit_entries WHERE chain_pos = 16",
        "UPDATE sla_credit_entries SET amount = '99.00' WHERE chain_pos = 9",
    )
    result = _rebuild(history, scratch_reads_live)
    assert any("amount is 99.00 live, 100.00 rebuilt" in d for d in result.differences)
    assert any("in the rebuild, not in the live ledger" in d for d in result.differences)


def test_the_rebuild_command_exits_non_zero_on_a_difference(history: str) -> None:
    ok = run("audit", "rebuild", store=history)
    assert ok.returncode == 0, ok.stderr
    assert "chain head reproduced" in ok.stdout
    assert "0 differences" in ok.stdout
    tamper(history, "UPDATE sla_credit_entries SET amount = '99.00' WHERE chain_pos = 9")
    broken = run("audit", "rebuild", "--format", "json", store=history)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["ok"] is False


def _as_of(bundle: Path) -> str:
    return str(json.loads((bundle / "manifest.json").read_text())["as_of"])


def _rewrite(bundle: Path, name: str, old: str, new: str) -> None:
    """Edit a bundle file and, like a careful forger, fix its digest in the manifest."""
    path = bundle / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_a_bundle_checks_offline_on_another_machine(history: str, tmp_path: Path) -> None:
    exported = run(
        "audit", "export", "--period", "2026-03", "--out", str(tmp_path / "b"), store=history
    )
    assert exported.returncode == 0, exported.stderr
    bundle = tmp_path / "b"
    # The files a user would get from `report` and `credits` as of the same moment.
    report = run(
        "report",
        "--period",
        "2026-03",
        "--as-of",
        _as_of(bundle),
        "--format",
        "json",
        store=history,
    )
    assert (bundle / "report.json").read_text() == report.stdout
    credits = run(
        "credits",
        "--period",
        "2026-03",
        "--as-of",
        _as_of(bundle),
        "--format",
        "json",
        store=history,
    )
    assert (bundle / "credits.json").read_text() == credits.stdout
    events = [json.loads(line) for line in (bundle / "events.jsonl").read_text().splitlines()]
    # Every event of the subjects that fed the row at some point, the retracted... here:
    # the contract, both outages (all events), and nothing else.
    assert sorted({(e["subject_kind"], e["subject_id"]) for e in events}) == [
        ("contract", "C-1"),
        ("outage", "O-1"),
        ("outage", "O-2"),
    ]
    assert len(events) == 5
    # Another machine: a copy of the directory, no store reachable at all.
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(bundle, elsewhere)
    checked = run("audit", "check", str(elsewhere), store="postgresql://nobody@127.0.0.1:1/none")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == "bundle verified"
    assert "ok   entries: 5 entries: every basis_sha256 recomputed" in checked.stdout
    # The checkpoint the close printed, kept by finance, must lie on the bundle's chain.
    with LedgerStore(history, access="create") as store:
        kept = close_checkpoint(store, "2026-03")
    assert kept is not None
    anchored = run("audit", "check", str(elsewhere), "--checkpoint", kept)
    assert anchored.returncode == 0, anchored.stdout
    assert "passes through the 1 checkpoint given" in anchored.stdout
    wrong_digit = "1" if kept.endswith("0") else "0"
    wrong = run("audit", "check", str(elsewhere), "--checkpoint", kept[:-1] + wrong_digit)
    assert wrong.returncode == 1
    assert "FAIL chain: the chain does not pass through checkpoint" in wrong.stdout


def test_questions_about_the_future_and_unwritable_bundles_are_one_line_errors(
    history: str, tmp_path: Path
) -> None:
    future = run("report", "--period", "2026-03", "--as-of", "2099-01-01", store=history)
    assert future.returncode == 2
    assert "--as-of 2099-01-01 is in the future" in future.stderr
    assert len(future.stderr.strip().splitlines()) == 1
    blocked = tmp_path / "file"
    blocked.write_text("")
    unwritable = run(
        "audit", "export", "--period", "2026-03", "--out", str(blocked / "b"), store=history
    )
    assert unwritable.returncode == 1
    assert unwritable.stderr.startswith("sla-ledger: error: cannot write the bundle to ")
    assert len(unwritable.stderr.strip().splitlines()) == 1


def test_a_forged_bundle_fails_its_check(history: str, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    assert (
        run(
            "audit", "export", "--period", "2026-03", "--out", str(bundle), store=history
        ).returncode
        == 0
    )
    pristine = tmp_path / "pristine"
    shutil.copytree(bundle, pristine)

    (bundle / "report.json").write_text(
        (bundle / "report.json").read_text().replace('"1000.00"', '"10.00"')
    )
    failed = run("audit", "check", str(bundle))
    assert failed.returncode == 1
    assert "FAIL files: report.json differs from its digest in the manifest" in failed.stdout
    assert failed.stderr.strip() == "sla-ledger: audit check failed: files"

    shutil.rmtree(bundle)
    shutil.copytree(pristine, bundle)
    _rewrite(bundle, "report.json", '"credit_amount": "1000.00"', '"credit_amount": "10.00"')
    failed = run("audit", "check", "--format", "json", str(bundle))
    verdict = {c["check"]: c["ok"] for c in json.loads(failed.stdout)["checks"]}
    assert verdict == {
        "files": True,
        "chain": True,
        "records": True,
        "close checkpoint": True,
        "report": False,
        "entries": True,
    }

    # Each answer names the chain position of the bundle's moment: its head.
    head = json.loads((pristine / "manifest.json").read_text())["head"]["position"]
    for name, check in (("report.json", "report"), ("credits.json", "entries")):
        shutil.rmtree(bundle)
        shutil.copytree(pristine, bundle)
        _rewrite(bundle, name, f'"chain_position": {head},', f'"chain_position": {head - 1},')
        failed = run("audit", "check", "--format", "json", str(bundle))
        assert failed.returncode == 1
        assert [c["check"] for c in json.loads(failed.stdout)["checks"] if not c["ok"]] == [check]

    shutil.rmtree(bundle)
    shutil.copytree(pristine, bundle)
    _rewrite(bundle, "events.jsonl", "2026-03-10T10:00:00Z", "2026-03-10T10:30:00Z")
    failed = run("audit", "check", str(bundle))
    assert failed.returncode == 1
    assert "FAIL records: " in failed.stdout


def test_no_bundle_is_exported_from_a_tampered_store(history: str, tmp_path: Path) -> None:
    tamper(history, "UPDATE sla_credit_entries SET amount = '1.00' WHERE chain_pos = 13")
    refused = run(
        "audit", "export", "--period", "2026-03", "--out", str(tmp_path / "b"), store=history
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("sla-ledger: error: audit verify fails at position 13")
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists()


def test_a_row_forged_before_the_first_position_is_named(history: str) -> None:
    # The table refuses positions below 1; a superuser drops that rule first.
    unchecked = (
        ["PRAGMA ignore_check_constraints = ON"]
        if history.startswith("sqlite")
        else ["ALTER TABLE sla_credit_entries DROP CONSTRAINT sla_credit_entries_chain_pos_check"]
    )
    forged = _forged_entry_at(history, 2).replace(", 2, '", ", 0, '")
    tamper(history, *unchecked, forged)
    position, problem = _verify(history)
    assert position == 0
    assert "inserted" in problem


def test_a_deleted_or_narrowed_span_is_named_by_the_rebuild(
    history: str, scratch_reads_live: bool
) -> None:
    # Without its span, O-2 would vanish from every report: the span table is a
    # projection of the events, which the rebuild derives again and compares.
    tamper(history, "DELETE FROM sla_subject_spans WHERE subject_id = 'O-2'")
    result = _rebuild(history, scratch_reads_live)
    assert "span of outage O-2 in sla_subject_spans: only in the rebuild" in result.differences
    tamper(history, "UPDATE sla_subject_spans SET hi_us = lo_us WHERE subject_id = 'O-1'")
    result = _rebuild(history, scratch_reads_live)
    assert any(
        d.startswith("span of outage O-1 in sla_subject_spans: hi_us is ")
        for d in result.differences
    ), result.differences


def test_a_deleted_bucket_or_scope_is_named_by_the_rebuild(
    history: str, scratch_reads_live: bool
) -> None:
    # A bucket or a scope decides whether a report or a reconciliation finds a subject.
    tamper(
        history,
        "DELETE FROM sla_subject_buckets WHERE subject_id = 'O-1'",
        "DELETE FROM sla_subject_scopes WHERE subject_id = 'O-2'",
        "UPDATE sla_subject_spans SET ended_us = ended_us - 1 WHERE subject_id = 'O-1'",
    )
    result = _rebuild(history, scratch_reads_live)
    assert any(
        d.startswith("sla_subject_buckets: outage O-1 reaches bucket ") for d in result.differences
    ), result.differences
    assert any(
        d.startswith("sla_subject_scopes row (outage, O-2, s/")
        and d.endswith("only in the rebuild")
        for d in result.differences
    ), result.differences
    assert any(
        d.startswith("span of outage O-1 in sla_subject_spans: ended_us is ")
        for d in result.differences
    ), result.differences


def test_a_store_of_the_earlier_layout_is_refused_in_one_line(history: str) -> None:
    # The earlier layout kept each event's envelope and origin in sla_events too.
    tamper(history, "ALTER TABLE sla_events ADD COLUMN envelope TEXT")
    opened = run("report", "--period", "2026-03", store=history)
    assert opened.returncode != 0
    [line] = opened.stderr.splitlines()
    assert "was made by an earlier sla-ledger, which kept each event's content twice" in line


def test_a_rebuild_tells_a_reconciliation_from_the_close_that_follows_it(
    store_url: str, tmp_path: Path, scratch_reads_live: bool
) -> None:
    """February's reversal and re-issue are followed directly by March's close, which
    issues nothing: the rebuild must not take them for the close's own entries."""
    with LedgerStore(store_url, access="create") as store:
        docs = [
            contract(effective_from="2026-02-01"),
            *outage("O-F", "2026-02-10T10:00:00Z", "2026-02-10T10:50:00Z"),
        ]
        _ingest(store, tmp_path / "a.jsonl", docs)
        close_period(store, Period(2026, 2), datetime.now(UTC))
        amended = ev(
            "outage.amended",
            "2026-03-02T09:00:00Z",
            {"outage_id": "O-F", "ended_at": "2026-02-11T10:00:00Z", "reason": "review"},
        )
        _ingest(store, tmp_path / "b.jsonl", [amended])
        close_period(store, MARCH, datetime.now(UTC))
        kinds = [kind for kind, _ in store.chain_rows(0, 100)]
    assert kinds[-4:] == ["event", "entry", "entry", "close"]
    result = _rebuild(store_url, scratch_reads_live)
    assert result.differences == []
    assert result.entries_compared == 3


def test_a_bundle_taken_before_reconciliation_passes_with_a_note(
    history: str, tmp_path: Path
) -> None:
    """Between an intake and its reconciliation the ledger owes what it has not booked
    yet: the bundle is authentic, and the check says so instead of failing it."""
    retracted = ev("outage.retracted", "2026-04-22T00:00:00Z", {"outage_id": "O-2", "reason": "x"})
    event = classify(json.dumps(retracted).encode(), Origin(file="late", line=1))
    assert not isinstance(event, Rejection)
    with LedgerStore(history, access="create") as store:
        store.append([(event, Origin(file="late", line=1), b"")], [])  # no reconciliation
    bundle = tmp_path / "b"
    assert (
        run(
            "audit", "export", "--period", "2026-03", "--out", str(bundle), store=history
        ).returncode
        == 0
    )
    checked = run("audit", "check", str(bundle))
    assert checked.returncode == 0, checked.stdout
    assert (
        "note not reconciled at the bundle's moment: "
        "C-1/crm: entries sum to 1000.00, the row owes 250.00" in checked.stdout
    )


def test_a_malformed_bundle_fails_its_check_in_words(history: str, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    assert (
        run(
            "audit", "export", "--period", "2026-03", "--out", str(bundle), store=history
        ).returncode
        == 0
    )
    _rewrite(bundle, "chain.jsonl", '"record_sha256"', '"record_digest"')
    broken = run("audit", "check", str(bundle))
    assert broken.returncode == 1
    assert (
        "FAIL structure: a file is not in the bundle format: chain.jsonl line 1: "
        "field record_sha256 is missing" in broken.stdout
    )
    assert "Traceback" not in broken.stderr
    (bundle / "manifest.json").write_text("[]")
    listed = run("audit", "check", str(bundle))
    assert listed.returncode == 1
    assert listed.stderr.startswith("sla-ledger: error: ")
    assert "not a bundle manifest" in listed.stderr


def test_the_audits_read_and_write_in_pages(
    history: str, monkeypatch: pytest.MonkeyPatch, scratch_reads_live: bool
) -> None:
    """Pages of two positions: every page boundary of the small history is crossed."""
    monkeypatch.setattr(audit_verify, "CHUNK", 2)
    monkeypatch.setattr(audit_rebuild, "PAGE", 2)
    assert _verify(history) == (None, f"ok {BEFORE_LATER_ALERTS + _later_alerts(history)}")
    result = _rebuild(history, scratch_reads_live)
    assert result.differences == []
    assert (result.events_compared, result.spans_compared, result.entries_compared) == (5, 2, 5)
    tamper(history, edit_record(history, 11, "review", "reviewed"))
    assert _verify(history)[0] == 11
