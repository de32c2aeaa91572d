"""Read snapshots (`LedgerStore.reader()`): each owns its transaction, so one store has
any number open at once, each seeing the store as of its opening. Run on SQLite and on a
real PostgreSQL server."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.file_ingest import ingest_file
from ledger.admission import conflict_reason
from ledger.errors import StoreError
from ledger.periods import Period
from projections.queries import as_of
from projections.queries.credits import credits, credits_json
from projections.queries.diff import Moment, diff, diff_json
from projections.queries.explain.query import explanation, explanation_json
from projections.queries.incidents import incidents, incidents_json
from projections.queries.rejections import rejections, rejections_json
from projections.queries.report import report, report_json, rows_json
from projections.store import LedgerStore, StoreReads, StoreSnapshot
from tests.builders import contract, ev, outage

pytestmark = pytest.mark.integration


def _ingest(store: LedgerStore, path: Path, documents: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    ingest_file(store, path)


def _ended() -> dict[str, Any]:
    """A contract that ended before the outages these tests record: they reach no row, so
    no alert follows an intake and the chain holds the events alone (an open outage on a
    live contract would raise the alerts of every month since it began)."""
    return contract(effective_to="2026-02-28")


def _seen(view: StoreSnapshot) -> tuple[int, int, list[str]]:
    """What a snapshot holds: events, the chain's head, outage ids."""
    return view.event_count(), view.chain_head().position, view.subject_ids("outage")


def test_a_snapshot_opened_before_an_append_does_not_see_it(
    store: LedgerStore, tmp_path: Path
) -> None:
    _ingest(store, tmp_path / "a.jsonl", [_ended()])
    with store.reader() as before:
        _ingest(store, tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", None))
        assert _seen(before) == (1, 1, [])
        assert before.chain_rows(0, 100)[-1][1]["chain_pos"] == 1
    assert store.event_count() == 2  # a one-shot read: the store as it is now


def test_a_snapshot_opened_after_an_append_sees_it(store: LedgerStore, tmp_path: Path) -> None:
    _ingest(store, tmp_path / "a.jsonl", [_ended()])
    _ingest(store, tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", None))
    with store.reader() as after:
        assert _seen(after) == (2, 2, ["O-1"])


def test_two_snapshots_of_one_store_open_at_once_each_keep_their_moment(
    store: LedgerStore, tmp_path: Path
) -> None:
    _ingest(store, tmp_path / "a.jsonl", [_ended()])
    with store.reader() as first:
        _ingest(store, tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", None))
        with store.reader() as second:
            _ingest(store, tmp_path / "c.jsonl", outage("O-2", "2026-03-11T10:00:00Z", None))
            assert _seen(first) == (1, 1, [])
            assert _seen(second) == (2, 2, ["O-1"])
            with store.reader() as third:
                assert _seen(third) == (3, 3, ["O-1", "O-2"])
            assert _seen(first) == (1, 1, [])  # still, after another closed


def test_snapshots_read_side_by_side_in_threads(store: LedgerStore, tmp_path: Path) -> None:
    """Readers of one store at once (a server's requests): each thread its own snapshot."""
    _ingest(store, tmp_path / "a.jsonl", [_ended()])
    _ingest(store, tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", None))

    def read(_: int) -> tuple[int, int, list[str]]:
        with store.reader() as view:
            return _seen(view)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(read, range(8))) == [(2, 2, ["O-1"])] * 8


def test_a_snapshot_and_the_store_read_the_same_answers(store: LedgerStore, tmp_path: Path) -> None:
    _ingest(store, tmp_path / "a.jsonl", [_ended()])
    _ingest(store, tmp_path / "b.jsonl", outage("O-1", "2026-03-10T10:00:00Z", None))
    with store.reader() as view:
        assert view.chain_head() == store.chain_head()
        assert view.chain_rows(0, 10) == store.chain_rows(0, 10)
        assert view.events_of_kind("outage") == store.events_of_kind("outage")
        assert view.log_records(0, 10) == store.log_records(0, 10)
        assert view.integrity() == store.integrity()


def test_a_failed_read_in_a_snapshot_is_one_line(store: LedgerStore) -> None:
    with store.reader() as view, pytest.raises(StoreError) as raised:
        view.rows_after("no_such_table", ["id"], None, 10)
    assert "failed:" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_conflict_is_rejected_with_the_admission_rule_reason(
    store: LedgerStore, tmp_path: Path
) -> None:
    started = outage("O-1", "2026-03-10T10:00:00Z", None)
    changed = json.loads(json.dumps(started[0]))
    changed["payload"]["impact_percent"] = "50"
    _ingest(store, tmp_path / "a.jsonl", [contract(), *started, changed, started[0]])
    [rejection] = store.rejections()
    assert rejection.reason == conflict_reason(started[0]["event_id"])
    assert store.event_count() == 2


def _answers(
    reads: StoreReads, moments: tuple[datetime, datetime], source: StoreReads | None = None
) -> list[str]:
    """Every query's answer read through `reads` (a report from `source`, else opening
    stores of its own like the command line), as the documents they print, as of the
    `moments` (between April's close and now: "now" itself moves with the clock)."""
    march, april = Period(2026, 3), Period(2026, 4)
    first, last = moments
    url = reads.url
    opened = report(
        (lambda: LedgerStore(url, access="read")) if source is None else source,
        march,
        last,
        None,
        render_part=rows_json,
    )
    return [
        report_json(opened),
        credits_json(credits(reads, None, None, last)),
        credits_json(credits(reads, april, "C-1", first)),
        rejections_json(rejections(reads)),
        incidents_json(incidents(reads, None, unplaced_only=False, asked=last)),
        diff_json(diff(reads, march, Moment(first, "--from"), Moment(last, "--to"), None)),
        explanation_json(explanation(reads, "C-1", "crm", march, last)),
    ]


def test_every_query_answers_the_same_through_a_snapshot(ledger: str, tmp_path: Path) -> None:
    """The query layer reads through any `StoreReads`: a request's own snapshot gives the
    answers the store's one-shot reads give (the report from the snapshot alone, never
    forked, and from stores it opens itself)."""
    with LedgerStore(ledger, access="create") as store:
        closed = as_of.now(store)
        opened = ev(
            "incident.opened",
            "2026-03-05T09:00:00Z",
            {
                "incident_id": "INC-1",
                "contract_id": "C-1",
                "service_id": "crm",
                "priority": "P1",
                "opened_at": "2026-03-05T09:00:00Z",
            },
        )
        path = tmp_path / "c.jsonl"
        path.write_text(json.dumps(opened) + "\nnot json\n")
        ingest_file(store, path)
        moments = (closed, as_of.now(store))
        with store.reader() as view:
            through_snapshot = _answers(view, moments, view)
        assert _answers(store, moments) == through_snapshot
    assert '"INC-1"' in through_snapshot[4]
    assert '"not json"' in through_snapshot[3]
