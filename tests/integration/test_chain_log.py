"""The chained log, paged for replaying consumers: a walk reads every record up to the
head it began at exactly once, however many records arrive meanwhile, and no page before
the end is empty. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain import GENESIS, link, record_sha256
from projections.queries.chain_log import PageRefusedError, chain_page, chain_page_json
from projections.store import LedgerStore
from tests.builders import outage
from tests.ledgers import ingest_docs

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_a_walk_reads_the_log_once_while_records_are_appended(
    ledger: str, tmp_path: Path, limit: int
) -> None:
    with LedgerStore(ledger, access="write") as store:
        page = chain_page(store, 0, limit, None)
        through = page.chain_position
        assert through == store.chain_head().position
        seen = [page]
        added = 0
        while page.next_after is not None:
            # Records arrive between the pages: the walk never reaches them.
            added += 1
            ingest_docs(
                store,
                tmp_path / f"more-{added}.jsonl",
                outage(f"LATE-{added}", "2026-05-02T10:00:00Z", "2026-05-02T10:05:00Z"),
            )
            page = chain_page(store, page.next_after, limit, through)
            seen.append(page)
        assert store.chain_head().position > through or limit >= through
    assert all(p.records and p.chain_position == through for p in seen)
    assert all(len(p.records) <= limit for p in seen)
    records = [r for p in seen for r in p.records]
    assert [r["position"] for r in records] == list(range(1, through + 1))
    # Each record carries what a consumer needs to check the chain as it replays it.
    previous = GENESIS
    for r in records:
        assert list(r)[:4] == ["position", "kind", "record_sha256", "chain_sha256"]
        assert record_sha256(r["kind"], r["position"], r["record"]) == r["record_sha256"]
        previous = link(previous, r["record_sha256"])
        assert r["chain_sha256"] == previous == r["record"]["chain_sha256"]


def test_the_last_page_ends_the_walk_and_the_document(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        head = store.chain_head().position
        whole = chain_page(store, 0, head, None)
        assert (len(whole.records), whole.next_after) == (head, None)
        split = chain_page(store, 0, head - 1, head)
        assert split.next_after == head - 1
        last = chain_page(store, head - 1, head, head)
        assert [r["position"] for r in last.records] == [head]
        assert last.next_after is None
        at_end = chain_page(store, head, 5, head)
        assert (at_end.records, at_end.next_after) == ([], None)
        document = json.loads(chain_page_json(last))
        assert list(document) == ["chain_position", "records"]
        assert document["chain_position"] == head
        assert document["records"][0]["record"]["chain_pos"] == head
        for after, limit, through in ((-1, 5, None), (0, 0, None), (0, 5, head + 1), (head, 5, 3)):
            with pytest.raises(PageRefusedError):
                chain_page(store, after, limit, through)


def test_an_empty_log_is_one_empty_last_page(store: LedgerStore) -> None:
    page = chain_page(store, 0, 10, None)
    assert (page.chain_position, page.records, page.next_after) == (0, [], None)
