"""Every answer as of a moment names the chain position it was computed at: the last
chained record (event, entry or close) recorded by then. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from ledger.chain import RECORD_TIME
from ledger.periods import Period, from_us
from projections.queries import as_of
from projections.queries.credits import credits, credits_json
from projections.queries.diff import Moment, diff, diff_json
from projections.queries.explain.query import explanation, explanation_json
from projections.queries.incidents import incidents, incidents_json
from projections.queries.report import report, report_json, rows_json
from projections.store import LedgerStore

pytestmark = pytest.mark.integration


def _record_times(store: LedgerStore) -> list[tuple[int, int]]:
    """(position, record time) of every chained record, in chain order."""
    head = store.chain_head().position
    return [
        (int(fields["chain_pos"]), int(fields[RECORD_TIME[kind]]))
        for kind, fields in store.chain_rows(0, head)
    ]


def test_the_position_of_a_moment_is_the_last_record_recorded_by_then(ledger: str) -> None:
    with LedgerStore(ledger, access="read") as store:
        times = _record_times(store)
        head = store.chain_head()
        # Between two transactions: the last record of the earlier one.
        boundaries = [i for i in range(1, len(times)) if times[i][1] > times[i - 1][1] + 1]
        assert len(boundaries) >= 3
        for i in boundaries:
            between = from_us(times[i - 1][1] + 1)
            assert as_of.position_at(store, between) == times[i - 1][0]
            assert store.position_recorded_by(times[i][1]) >= times[i][0]
        assert as_of.position_at(store, from_us(times[0][1] - 1)) == 0
        assert as_of.position_at(store, from_us(times[0][1])) >= 1
        # At or after the head's record time: the head itself.
        assert as_of.position_at(store, from_us(head.recorded_us)) == head.position
        assert as_of.position_at(store, as_of.now(store)) == head.position
        assert store.position_recorded_by(head.recorded_us) == head.position


def test_an_empty_store_is_at_position_zero(store: LedgerStore) -> None:
    moment = as_of.now(store)
    assert as_of.position_at(store, moment) == 0
    assert store.position_recorded_by(10**18) == 0


def test_answers_as_of_a_moment_name_its_position(ledger: str) -> None:
    march = Period(2026, 3)
    with LedgerStore(ledger, access="read") as store:
        times = _record_times(store)
        # Just after March's close (its entry and close share a record time).
        closed_us = next(t for (p, t) in times if p > 1 and t > times[0][1])
        moment = from_us(closed_us + 1)
        expected = max(p for p, t in times if t <= closed_us + 1)
        assert expected < store.chain_head().position
        now = as_of.now(store)
        head = store.chain_head().position
        with store.reader() as view:
            answered = report(view, march, moment, None, render_part=rows_json)
            documents = [
                json.loads(report_json(answered)),
                json.loads(credits_json(credits(view, None, None, moment))),
                json.loads(explanation_json(explanation(view, "C-1", "crm", march, moment))),
                json.loads(
                    incidents_json(incidents(view, None, unplaced_only=False, asked=moment))
                ),
            ]
            changed = json.loads(
                diff_json(diff(view, march, Moment(moment, "--from"), Moment(now, "--to"), None))
            )
    assert [d["chain_position"] for d in documents] == [expected] * 4
    assert list(documents[0])[:4] == ["period", "as_of", "chain_position", "rows"]
    assert list(documents[1]) == ["chain_position", "entries"]
    assert list(documents[2])[4:6] == ["as_of", "chain_position"]
    assert list(documents[3]) == ["as_of", "chain_position", "incidents"]
    assert (changed["from_chain_position"], changed["to_chain_position"]) == (expected, head)
