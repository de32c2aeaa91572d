"""`periods`: every period the ledger knows as of a moment, open or closed, with its
close's checkpoint and its entry count, newest first. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ledger.periods import Period, from_us
from projections.queries import as_of
from projections.queries.periods import periods, periods_json
from projections.store import LedgerStore

pytestmark = pytest.mark.integration


def test_every_known_period_newest_first_with_its_close(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        now = as_of.now(store)
        head = store.chain_head().position
        document = json.loads(periods_json(periods(store, None)))
        closes = store.close_checkpoints(store.chain_head().recorded_us)
        march_closed = closes["2026-03"][0]
        before_april_closed = json.loads(
            periods_json(periods(store, march_closed + timedelta(microseconds=1)))
        )
        position_then = as_of.position_at(store, march_closed)
    assert document["chain_position"] == head
    labels = [p["period"] for p in document["periods"]]
    # The contract is covered from January 2026 (UTC); the moment is in November 2026.
    months, month = [], Period(2026, 1)
    while month <= Period.containing(now.date()):
        months.append(month.label)
        month = month.next()
    assert labels == months[::-1]
    by_label = {p["period"]: p for p in document["periods"]}
    for label in ("2026-03", "2026-04"):
        closed = by_label[label]
        assert closed["status"] == "closed"
        position, digest = closes[label][1:]
        assert closed["checkpoint"] == {"position": position, "chain_sha256": digest}
        assert closed["closed_at"] is not None
    # March: an issue, then (April's amendment) a reversal and a re-issue.
    assert by_label["2026-03"]["entries"] == 3
    assert by_label["2026-02"] == {
        "period": "2026-02",
        "status": "open",
        "closed_at": None,
        "checkpoint": None,
        "entries": 0,
    }
    # As of just after March's close: April still open, March's later entries unknown.
    then = {p["period"]: p for p in before_april_closed["periods"]}
    assert before_april_closed["chain_position"] == position_then
    assert then["2026-04"]["status"] == "open"
    assert then["2026-03"]["status"] == "closed"
    assert then["2026-03"]["entries"] == 1


def test_an_empty_ledger_knows_no_period(store: LedgerStore) -> None:
    answer = periods(store, None)
    assert (answer.chain_position, answer.periods) == (0, [])
    assert from_us(0) <= answer.as_of
