"""`audit verify` in worker processes, on SQLite and on PostgreSQL: a store walked a page
per range by workers side by side gives exactly the result of the walk in one process
(the same first position, the same problem, the same head and closes), wherever the
tampering sits relative to the pages; what is appended or edited while the workers read
is judged as of the verify's own snapshot; and a worker that fails only costs time.

The threshold and the page size are lowered (parameters of `verify`), so that a small
store takes the path a large one takes: on SQLite it is walked by three workers, each
taking pages as it finishes one (`workers` in the result), on PostgreSQL in the process
(which these tests check just the same).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from projections.audit import verify as audit_verify
from projections.audit.verify import VerifyResult, verify
from projections.store import LedgerStore
from tests.builders import contract, outage
from tests.ledgers import ingest_docs
from tests.tampering import edit_record, library_table, record_id, tamper

pytestmark = pytest.mark.integration

WORKERS = 3
PAGE = 4
# Every store of these tests takes the workers' path (on SQLite), in pages of 4.
SIDE_BY_SIDE: dict[str, Any] = {"workers": WORKERS, "parallel_from": 1, "page_size": PAGE}


def _layout(url: str) -> list[str]:
    """The kind at each position (index 0: position 1)."""
    with LedgerStore(url, access="create") as store:
        return [kind for kind, _ in store.chain_rows(0, 10_000)]


def _both(url: str, checkpoints: dict[int, str] | None = None) -> VerifyResult:
    """The result of the walk in this process, checked to be the workers' result."""
    with LedgerStore(url, access="create") as store, store.reader() as view:
        here = verify(view, checkpoints, workers=1, page_size=PAGE)
        there = verify(view, checkpoints, **SIDE_BY_SIDE)
    assert here.workers == 0
    assert there.workers == (WORKERS if url.startswith("sqlite") else 0)
    assert replace(there, workers=0) == here
    return here


def test_the_workers_verify_what_one_process_verifies(ledger: str) -> None:
    kinds = _layout(ledger)
    # Pages of events only and pages with entries or closes: both paths run in the
    # workers, and each worker takes several pages.
    pages = [kinds[start : start + PAGE] for start in range(0, len(kinds), PAGE)]
    assert any(set(page) == {"event"} for page in pages)
    assert sum("close" in page for page in pages) == 2
    assert len(pages) > 3 * WORKERS
    result = _both(ledger)
    assert result.ok, result.finding
    assert result.records == len(kinds)
    assert result.closes == kinds.count("close") == 2


def _where(kinds: list[str], place: str) -> int:
    """A position, by its place relative to the pages (the workers' ranges) and kinds."""
    events = [p for p, kind in enumerate(kinds, start=1) if kind == "event"]
    closes = [p for p, kind in enumerate(kinds, start=1) if kind == "close"]
    middle = len(kinds) // 2 // PAGE * PAGE
    places = {
        "the first position": 1,
        "the last position of the first page": PAGE,
        "the first position of the second page": PAGE + 1,
        "the first position of a page in the middle": middle + 1,
        "the middle of a page in the middle": middle + 2,
        "the first close": closes[0],
        "an event after the first close": next(p for p in events if p > closes[0]),
        "the last event": events[-1],
        "the last position": len(kinds),
    }
    return places[place]


PLACES = [
    "the first position",
    "the last position of the first page",
    "the first position of the second page",
    "the first position of a page in the middle",
    "the middle of a page in the middle",
    "the first close",
    "an event after the first close",
    "the last event",
    "the last position",
]
INSIDE = PLACES[1:-1]


def _edit(url: str, kind: str, position: int) -> str:
    """A statement editing the record at a position without its link following."""
    if kind == "event":
        return (
            f"UPDATE sla_events SET occurred_at = occurred_at || ' ' WHERE chain_pos = {position}"
        )
    if kind == "entry":
        return f"UPDATE sla_credit_entries SET amount = '1.00' WHERE chain_pos = {position}"
    return f"UPDATE sla_closes SET closed_us = closed_us + 1 WHERE chain_pos = {position}"


@pytest.mark.parametrize("place", PLACES)
def test_an_edited_record_is_named_wherever_it_sits(ledger: str, place: str) -> None:
    kinds = _layout(ledger)
    position = _where(kinds, place)
    tamper(ledger, _edit(ledger, kinds[position - 1], position))
    result = _both(ledger)
    assert result.finding is not None
    assert result.finding.position == position, result.finding
    # An entry's or a close's row is repeated in its record: that copy differs first.
    assert "edited" in result.finding.problem or "copy differs" in result.finding.problem
    assert result.records == position - 1


@pytest.mark.parametrize("place", INSIDE)
def test_a_deleted_record_is_named_wherever_it_sits(ledger: str, place: str) -> None:
    # Deleting the last position of a page also takes the link the next page starts from.
    kinds = _layout(ledger)
    position = _where(kinds, place)
    table = {"event": "sla_events", "entry": "sla_credit_entries", "close": "sla_closes"}
    tamper(ledger, f"DELETE FROM {table[kinds[position - 1]]} WHERE chain_pos = {position}")
    result = _both(ledger)
    assert result.finding is not None
    assert (result.finding.position, result.finding.problem) == (
        position,
        "no record holds this position: a record was deleted",
    )


def test_an_edited_event_content_is_named(ledger: str) -> None:
    kinds = _layout(ledger)
    position = _where(kinds, "the last event")
    tamper(ledger, edit_record(ledger, position, '"line":', '"line":9'))
    result = _both(ledger)
    assert result.finding is not None
    assert result.finding.position == position


def test_an_event_store_record_of_another_topic_is_named(ledger: str) -> None:
    kinds = _layout(ledger)
    position = _where(kinds, "an event after the first close")
    table, key = library_table(ledger), record_id(ledger)
    tamper(ledger, f"UPDATE {table} SET topic = 'other' WHERE {key} = {position}")
    result = _both(ledger)
    assert result.finding is not None
    assert result.finding.position == position
    assert "event store's copy differs" in result.finding.problem


def test_of_two_edits_in_different_pages_the_first_is_named(ledger: str) -> None:
    kinds = _layout(ledger)
    earlier = _where(kinds, "an event after the first close")
    later = _where(kinds, "the last event")
    tamper(ledger, _edit(ledger, "event", later), _edit(ledger, "event", earlier))
    assert _both(ledger).finding.position == earlier  # type: ignore[union-attr]
    tamper(ledger, _edit(ledger, "event", 1))
    assert _both(ledger).finding.position == 1  # type: ignore[union-attr]


def test_checkpoints_are_compared_in_every_page(ledger: str) -> None:
    kinds = _layout(ledger)
    good = _both(ledger)
    with LedgerStore(ledger, access="create") as store:
        links = {
            int(fields["chain_pos"]): str(fields["chain_sha256"])
            for _, fields in store.chain_rows(0, len(kinds))
        }
    kept = {_where(kinds, place) for place in PLACES}
    matched = _both(ledger, {p: links[p] for p in kept})
    assert matched.ok
    assert matched.checkpoints_matched == tuple(sorted((p, links[p]) for p in kept))
    for place in (
        "the first position of the second page",
        "the middle of a page in the middle",
    ):
        position = _where(kinds, place)
        mismatch = _both(ledger, {**{p: links[p] for p in kept}, position: "f" * 64})
        assert mismatch.finding is not None
        assert (mismatch.finding.position, mismatch.finding.problem) == (
            position,
            "the chain here differs from the checkpoint given",
        )
    beyond = _both(ledger, {good.head.position + 1: "f" * 64})
    assert beyond.finding is not None
    assert beyond.finding.position == good.head.position + 1


def test_records_appended_while_the_workers_read_are_not_looked_at(
    ledger: str, tmp_path: Path
) -> None:
    """The workers' snapshots begin after the verify's own: the chain's end read in
    that one bounds what they check, and their ranges join up to its link there."""
    end = len(_layout(ledger))
    with LedgerStore(ledger, access="create") as store, store.reader() as view:
        assert view.chain_end() == end
        with LedgerStore(ledger, access="create") as writer:
            docs = outage("L-1", "2026-05-04T10:00:00Z", "2026-05-04T11:00:00Z")
            ingest_docs(writer, tmp_path / "later.jsonl", docs)
        result = verify(view, **SIDE_BY_SIDE)
    assert result.ok, result.finding
    assert result.records == end
    assert result.workers == (WORKERS if ledger.startswith("sqlite") else 0)
    # The outage's two events, then the five alerts its hour in May (provisional) meets:
    # budget 50, 75, 90 and 100%, and the tier below 99.9%.
    assert _layout(ledger)[end:] == ["event"] * 2 + ["alert"] * 5
    assert _both(ledger).records == end + 7


def test_an_edit_made_while_the_workers_read_is_judged_as_of_the_snapshot(
    ledger: str,
) -> None:
    """The workers see an edit the verify's own snapshot does not: it names it again in
    that snapshot, cannot, and walks the chain there itself."""
    kinds = _layout(ledger)
    position = _where(kinds, "an event after the first close")
    with LedgerStore(ledger, access="create") as store, store.reader() as view:
        tamper(ledger, _edit(ledger, "event", position))
        result = verify(view, **SIDE_BY_SIDE)
    assert result.ok, result.finding
    assert result.workers == 0
    assert _both(ledger).finding.position == position  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "boot",
    [
        "raise SystemExit(3)",  # fails
        "print('no report')",  # says something else
        # cannot start its ranges (reads another state before each)
        "import sys\nfor _ in sys.stdin: print('{\"seed\": null}', flush=True)",
    ],
)
def test_a_worker_that_fails_leaves_the_walk_to_this_process(
    ledger: str, boot: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_verify, "_BOOT", boot)
    with LedgerStore(ledger, access="create") as store, store.reader() as view:
        result = verify(view, **SIDE_BY_SIDE)
    assert result.ok, result.finding
    assert result.workers == 0
    assert result.records == len(_layout(ledger))


def test_a_damaged_file_is_reported_as_damaged_with_workers(tmp_path: Path) -> None:
    """A page of events' contents in the middle of the file overwritten: the workers fail
    reading it, the walk here fails too, and SQLite's own check names the damage."""
    path = tmp_path / "led.db"
    url = f"sqlite:///{path}"
    with LedgerStore(url, access="create") as store:
        docs = [d for n in range(40) for d in outage(f"O-{n}", "2026-03-10T10:00:00Z", None)]
        ingest_docs(store, tmp_path / "a.jsonl", [contract(), *docs])
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    page = path.read_bytes().index(b'"outage_id":"O-20"') // page_size
    with path.open("r+b") as handle:
        handle.seek(page * page_size)
        handle.write(b"\xff" * page_size)
    started: list[int] = []
    walk_in_workers = audit_verify._walk_in_workers

    def counted(*args: Any) -> Any:
        started.append(1)
        return walk_in_workers(*args)

    with (
        pytest.MonkeyPatch.context() as patch,
        LedgerStore(url, access="read") as store,
        store.reader() as view,
    ):
        patch.setattr(audit_verify, "_walk_in_workers", counted)
        result = verify(view, **SIDE_BY_SIDE)
    assert started == [1]
    assert not result.ok
    assert result.database_checked
    assert result.damage is not None
    assert result.workers == 0
