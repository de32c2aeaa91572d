"""The credit queries an API serves: the entries filtered and in pages, an entry's
lineage, and a contract's statement for a period, on both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.credits import CreditEntry
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.queries.credits import CreditFilter, credits_page
from projections.queries.lineage import EntryNotFoundError, credit_lineage, lineage_json
from projections.queries.report import report
from projections.queries.statements import ContractNotFoundError, statement, statement_json
from projections.store import LedgerStore, StoreReads
from tests.builders import contract, ev, outage
from tests.ledgers import ingest_docs

MARCH, APRIL, MAY = Period(2026, 3), Period(2026, 4), Period(2026, 5)


@pytest.fixture
def two_customers(ledger: str, tmp_path: Path) -> str:
    """The shared ledger (C-1 of K-1: March issued, reversed and re-issued, April issued)
    and a contract C-2 of K-2 recorded after both closes: its March and April entries
    are issued by the reconciliation."""
    with LedgerStore(ledger, access="write") as store:
        ingest_docs(store, tmp_path / "c2.jsonl", [contract("C-2", "K-2")])
    return ledger


def walk(
    store: StoreReads,
    filters: CreditFilter,
    moment: datetime,
    position: int,
    limit: int,
    after: int = 0,
) -> list[CreditEntry]:
    """Every page of `filters` after `after` in turn, none empty before the end."""
    found: list[CreditEntry] = []
    more = True
    while more:
        page = credits_page(store, filters, moment, position, after, limit)
        assert page.entries, "an empty page before the end"
        assert len(page.entries) <= limit
        found += page.entries
        after, more = page.last_seq or after, page.more
    return found


def everything(store: StoreReads) -> tuple[list[CreditEntry], datetime, int]:
    return store.entries(), datetime.now(UTC), store.chain_head().position


def ids(entries: list[CreditEntry]) -> list[str]:
    return [e.entry_id for e in entries]


def test_each_filter_alone_and_combined(two_customers: str) -> None:
    with LedgerStore(two_customers, access="read") as store:
        entries, now, position = everything(store)
        assert len(entries) == 6
        first_close = entries[0].recorded_at
        cases: dict[CreditFilter, Callable[[CreditEntry], bool]] = {
            CreditFilter(period=MARCH): lambda e: e.period == "2026-03",
            CreditFilter(contract_id="C-2"): lambda e: e.contract_id == "C-2",
            CreditFilter(customer_id="K-1"): lambda e: e.customer_id == "K-1",
            CreditFilter(kind="reversal"): lambda e: e.kind == "reversal",
            CreditFilter(kind="issue"): lambda e: e.kind == "issue",
            # Inclusive from, exclusive to: the first close's entry is in the first
            # case and not in the second.
            CreditFilter(recorded_from=first_close): lambda e: True,
            CreditFilter(recorded_to=first_close): lambda e: False,
            CreditFilter(recorded_to=entries[1].recorded_at): lambda e: e == entries[0],
            CreditFilter(
                period=MARCH, customer_id="K-1", kind="issue", recorded_from=entries[1].recorded_at
            ): lambda e: e.period == "2026-03" and e.contract_id == "C-1" and e.revision == 2,
            CreditFilter(period=APRIL, contract_id="C-2", customer_id="K-1"): lambda e: False,
        }
        for filters, wanted in cases.items():
            page = credits_page(store, filters, now, position, 0, 100)
            assert ids(page.entries) == ids([e for e in entries if wanted(e)]), filters
            assert page.more is False
            assert (page.last_seq is None) == (not page.entries)
        for single in list(cases)[:4]:
            found = credits_page(store, single, now, position, 0, 100).entries
            assert 0 < len(found) < len(entries), single


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_through_equals_the_unpaged_list(two_customers: str, limit: int) -> None:
    with LedgerStore(two_customers, access="read") as store:
        entries, now, position = everything(store)
        assert walk(store, CreditFilter(), now, position, limit) == entries
        march = [e for e in entries if e.period == "2026-03"]
        assert walk(store, CreditFilter(period=MARCH), now, position, limit) == march
        empty = credits_page(store, CreditFilter(contract_id="C-9"), now, position, 0, limit)
        assert (empty.entries, empty.last_seq, empty.more) == ([], None, False)


def test_entries_appended_between_pages_are_not_seen(two_customers: str, tmp_path: Path) -> None:
    with LedgerStore(two_customers, access="write") as store:
        entries, then, position = everything(store)
        first = credits_page(store, CreditFilter(), then, position, 0, 2)
        # While the client pages: a close and a reconciliation append entries.
        may = outage("Y-1", "2026-05-04T10:00:00Z", "2026-05-04T12:00:00Z")
        ingest_docs(store, tmp_path / "may.jsonl", may)
        assert len(close_period(store, MAY, datetime.now(UTC)).entries) == 2
        ingest_docs(store, tmp_path / "c3.jsonl", [contract("C-3", "K-1")])
        assert len(store.entries()) == len(entries) + 2 + 3
        # Even asked as of a later moment, the walk's position bounds it.
        later = datetime.now(UTC) + timedelta(seconds=1)
        rest = walk(store, CreditFilter(), later, position, 2, after=first.last_seq or 0)
        assert first.entries + rest == entries


def test_a_page_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        credits_page(None, CreditFilter(), datetime.now(UTC), 1, 0, 0)  # type: ignore[arg-type]


def test_lineage_of_a_late_correction(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        now = datetime.now(UTC)
        issue, reversal, reissue, april = store.entries()
        assert (issue.kind, reversal.kind, reissue.kind) == ("issue", "reversal", "issue")

        first = credit_lineage(store, issue.entry_id, now)
        assert first.reversed_by == reversal
        assert first.reissued_by == reissue
        assert (first.reverses, first.reissue_of, first.caused_by) == (None, None, [])

        undone = credit_lineage(store, reversal.entry_id, now)
        assert undone.reverses == issue.entry_id
        assert undone.reissued_by == reissue
        assert undone.reversed_by is None
        assert undone.reissue_of is None
        # The amendment of March's outage M-2, and none of April's outages.
        causes = [(r.event.type, r.event.subject_id) for r in undone.caused_by]
        assert causes == [("outage.amended", "M-2")]
        assert undone.caused_by_horizon is False

        again = credit_lineage(store, reissue.entry_id, now)
        assert again.reissue_of == issue.entry_id
        assert again.caused_by == undone.caused_by
        assert again.reversed_by is None
        assert again.reissued_by is None

        document = json.loads(lineage_json(undone))
        assert document["entry"] == reversal.as_dict()
        assert document["reverses"] == issue.entry_id
        assert document["reissued_by"]["entry_id"] == reissue.entry_id
        assert document["reversed_by"] is None
        assert document["reissue_of"] is None
        assert [c["type"] for c in document["caused_by"]] == ["outage.amended"]
        assert set(document["caused_by"][0]) == {
            "event_id",
            "type",
            "subject_id",
            "occurred_at",
            "recorded_at",
        }

        # As known when March closed, the issue had no reversal yet.
        at_close = credit_lineage(store, issue.entry_id, issue.recorded_at)
        assert at_close.reversed_by is None
        assert at_close.reissued_by is None
        assert credit_lineage(store, april.entry_id, now).caused_by == []


def test_lineages_asked_together_share_their_causes(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row's reversal and its re-issue replace the same issue: asked together (the
    row page), their causes are found once and are the ones each finds alone."""
    from projections.queries import lineage

    with LedgerStore(ledger, access="read") as store:
        now = datetime.now(UTC)
        entries = store.entries()
        alone = [credit_lineage(store, e.entry_id, now) for e in entries]
        asked: list[str] = []
        found_alone = lineage._causes

        def counted(store: StoreReads, entry: CreditEntry, replaced: CreditEntry) -> object:
            asked.append(entry.entry_id)
            return found_alone(store, entry, replaced)

        monkeypatch.setattr(lineage, "_causes", counted)
        shared: lineage.Causes = {}
        together = [credit_lineage(store, e.entry_id, now, shared=shared) for e in entries]
        assert together == alone
        # The reversal asks; the re-issue, recorded with it, reuses its answer.
        assert asked == [entries[1].entry_id]


def test_an_entry_not_recorded_by_the_moment_is_not_found(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        issue, reversal, *_ = store.entries()
        with pytest.raises(EntryNotFoundError, match="no credit entry nope was recorded by"):
            credit_lineage(store, "nope", datetime.now(UTC))
        with pytest.raises(EntryNotFoundError, match=reversal.entry_id):
            credit_lineage(store, reversal.entry_id, issue.recorded_at)


def test_statement_nets_the_entries_of_the_report_rows(two_customers: str) -> None:
    with LedgerStore(two_customers, access="read") as store:
        now = datetime.now(UTC)
        result = statement(store, "C-1", MARCH, now)
        rows = report(store, MARCH, now, "C-1", render_part=list)
        assert [row.document for row in result.rows] == [d for part in rows.parts for d in part]
        document = json.loads(statement_json(result))
        assert (document["contract_id"], document["customer_id"]) == ("C-1", "K-1")
        assert (document["period"], document["status"]) == ("2026-03", "closed")
        (row,) = document["rows"]
        assert [e["kind"] for e in row["entries"]] == ["issue", "reversal", "issue"]
        net = sum((Decimal(e["amount"]) for e in row["entries"]), Decimal(0))
        assert row["net_amount"] == str(net) == row["credit_amount"] == "250.00"
        assert document["totals"] == [{"currency": "USD", "net_amount": "250.00"}]
        assert document["withdrawn_rows"] == []

        # As of March's close: the first issue alone.
        issue = store.entries()[0]
        then = json.loads(statement_json(statement(store, "C-1", MARCH, issue.recorded_at)))
        assert [e["entry_id"] for e in then["rows"][0]["entries"]] == [issue.entry_id]
        assert then["totals"] == [{"currency": "USD", "net_amount": "100.00"}]

        # An open period: its rows, nothing booked, the net written in cents.
        open_month = json.loads(statement_json(statement(store, "C-2", MAY, None)))
        assert open_month["status"] == "provisional"
        assert [r["entries"] for r in open_month["rows"]] == [[]]
        assert open_month["rows"][0]["net_amount"] == "0.00"
        assert open_month["totals"] == [{"currency": "USD", "net_amount": "0.00"}]


def test_a_contract_not_recorded_by_the_moment_is_not_found(two_customers: str) -> None:
    with LedgerStore(two_customers, access="read") as store:
        march_issue = store.entries()[0]
        with pytest.raises(ContractNotFoundError, match="no contract C-9 was recorded by"):
            statement(store, "C-9", MARCH, None)
        # C-2 was recorded after both closes.
        with pytest.raises(ContractNotFoundError, match="C-2"):
            statement(store, "C-2", MARCH, march_issue.recorded_at)


def test_entries_of_a_withdrawn_row_count_in_the_totals(two_customers: str, tmp_path: Path) -> None:
    with LedgerStore(two_customers, access="write") as store:
        ended = ev(
            "contract.terminated",
            "2026-06-01T00:00:00Z",
            {"contract_id": "C-2", "effective_to": "2026-04-01"},
        )
        ingest_docs(store, tmp_path / "end.jsonl", [ended])
        document = json.loads(statement_json(statement(store, "C-2", APRIL, None)))
        assert document["rows"] == []
        (withdrawn,) = document["withdrawn_rows"]
        assert withdrawn["service_id"] == "crm"
        assert [e["kind"] for e in withdrawn["entries"]] == ["issue", "reversal"]
        assert withdrawn["net_amount"] == "0.00"
        assert document["totals"] == [{"currency": "USD", "net_amount": "0.00"}]
