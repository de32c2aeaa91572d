"""A closed row whose payable amount changes with no event, on the real clock (the
generalised §6 rule "Changes with time alone"), on both stores.

An incident of a closed period still pending at the close, which passes its response
target a few seconds later, makes the row owe its response credit with no new event.
The ledger reconciles it on `close` again and on the periodic check (`follow_up`, what
the Kafka worker runs every 15 s), found through the due-time index of closed rows: due
before its time, done once after it, and not looked at again.

A 24x7 target cannot serve here: a closed period has ended, so a few seconds after an
opening inside it have passed too. Business hours can: the only business hours are on
today's weekday from the next minute on, every earlier such day is a holiday, so no
business time passes between the opening (in October or November) and that minute, and
the deadline is that minute plus the target (a few seconds).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from consumers.intake.file_ingest import ingest_file
from consumers.intake.follow_up import follow_up
from ledger.business_time import WEEKDAYS
from ledger.periods import Period, to_us
from projections.credit_entries import RECONCILED, close_period, reconciliation_plan
from projections.store import LedgerStore
from tests.builders import contract, ev, service

OCTOBER, NOVEMBER = Period(2026, 10), Period(2026, 11)
TARGET_SECONDS = 3


def business_from_the_next_minute() -> tuple[datetime, dict[str, Any]]:
    """The first instant of business time (at least 10 s away) and the business hours
    that make it so (see the module docstring)."""
    now = datetime.now(UTC)
    start = (now + timedelta(seconds=70)).replace(second=0, microsecond=0)
    if start.date() != now.date():  # the next minute is tomorrow's: wait for it
        time.sleep((start - now).total_seconds() + 1)
        return business_from_the_next_minute()
    day = start.date()
    holidays = [
        (day - timedelta(weeks=n)).isoformat()
        for n in range(1, 20)
        if day - timedelta(weeks=n) >= date(2026, 9, 1)
    ]
    hours = {
        "weekly": {WEEKDAYS[day.weekday()]: [[start.strftime("%H:%M"), "24:00"]]},
        "holidays": sorted(holidays),
    }
    return start, hours


def opened(incident_id: str, contract_id: str, at: str) -> dict[str, Any]:
    return ev(
        "incident.opened",
        at,
        {
            "incident_id": incident_id,
            "contract_id": contract_id,
            "service_id": "crm",
            "priority": "P1",
            "opened_at": at,
        },
    )


def test_a_closed_row_passing_its_target_is_reconciled_once(
    store: LedgerStore, tmp_path: Path
) -> None:
    start, hours = business_from_the_next_minute()
    response = {
        "targets": {"P1": f"PT{TARGET_SECONDS}S"},
        "business_hours": hours,
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    terms = service(availability=False, incident_response=response)
    docs = [
        contract("C-1", "K-1", services=[terms]),
        opened("I-10", "C-1", "2026-10-05T10:00:00Z"),
        opened("I-11", "C-1", "2026-11-05T10:00:00Z"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)
    for period in (OCTOBER, NOVEMBER):
        outcome = close_period(store, period, datetime.now(UTC))
        assert outcome.newly_closed
        assert outcome.entries == []
    deadline = start + timedelta(seconds=TARGET_SECONDS)
    assert datetime.now(UTC) < deadline
    # Before the deadline the rows are due at it, and nothing is appended.
    due = dict(store.due_rows(to_us(deadline) + 1))
    assert due == {"2026-10": "C-1", "2026-11": "C-1"}
    assert store.due_rows(to_us(deadline) - 1) == []
    assert follow_up(store, datetime.now(UTC)).entries == []

    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)
    # Close again: October's row is reconciled, and November's is left to the check.
    again = close_period(store, OCTOBER, datetime.now(UTC))
    assert not again.newly_closed
    assert [(e.period, e.kind, str(e.amount_major)) for e in again.entries] == [
        ("2026-10", "issue", "50.00")
    ]
    # The periodic check finds November's through the due-time index.
    checked = follow_up(store, datetime.now(UTC))
    assert [(e.period, e.kind, str(e.amount_major)) for e in checked.entries] == [
        ("2026-11", "issue", "50.00")
    ]
    # Nothing is due any more: the next check looks at no row, and appends nothing.
    assert store.due_rows(to_us(datetime.now(UTC))) == []
    mark = store.tracked_position(RECONCILED) or 0
    plan = reconciliation_plan(store, store.closes(), mark, store.chain_head(), datetime.now(UTC))
    assert plan == {}
    assert follow_up(store, datetime.now(UTC)).entries == []
    assert len(store.entries()) == 2
