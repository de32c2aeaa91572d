"""Bitemporal questions (sla-math §7): a history grows in steps (events, a close, late
corrections after the close); what the ledger said at each step is saved; asked later
`--as-of` each step, it answers byte for byte the same. `diff` names what changed in
between and the recorded events that caused it. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage
from tests.cli_process import run_in_process

pytestmark = pytest.mark.integration


def cli(store: str, *args: str) -> str:
    """A question to the store, asked in this process: a test of dozens of them."""
    return run_in_process(*args, "--store", store)


def ingest(store: str, path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    cli(store, "ingest", "--from-file", str(path))


def diff_json(store: str, period: str, t1: str, t2: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        cli(store, "diff", "--period", period, "--from", t1, "--to", t2, "--format", "json")
    )
    return document


# The month running now (UTC, the contract's timezone), whose figures grow with the clock
# while an outage in it is open; it began at OPEN_SINCE, so its outage has started by now.
OPEN_SINCE = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
RUNNING = Period.containing(OPEN_SINCE.date()).label

QUESTIONS = [
    ("report", "--period", "2026-03", "--format", "json"),
    ("report", "--period", RUNNING, "--format", "json"),
    ("report", "--period", "2026-03", "--format", "csv"),
    ("credits", "--format", "json"),
    ("credits", "--period", "2026-03", "--format", "csv"),
    ("explain", "--contract", "C-1", "--service", "crm", "--period", "2026-03", "--format", "json"),
    ("explain", "--contract", "C-1", "--service", "crm", "--period", RUNNING),
]


def ask_all(store: str, moment: str) -> list[str]:
    return [cli(store, *question, "--as-of", moment) for question in QUESTIONS]


def test_every_saved_answer_is_reproduced_exactly_later(store_url: str, tmp_path: Path) -> None:
    # Step 1: a contract, a March outage, and an outage in the current month still open,
    # so the running month's figures also depend on the horizon.
    retract_me = outage("O-2", "2026-03-15T00:00:00Z", "2026-03-15T10:00:00Z", impact="50")
    steps = [
        [
            contract(),
            *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"),
            *outage("O-N", format_utc(OPEN_SINCE), None),
        ],
        retract_me,  # step 2: a second March outage, while March is provisional
        "close",  # step 3
        [  # step 4: the post-incident review, after the close
            ev(
                "outage.amended",
                "2026-04-20T09:00:00Z",
                {"outage_id": "O-1", "ended_at": "2026-03-11T10:00:00Z", "reason": "review"},
            )
        ],
        [  # step 5: O-2 was a false alarm
            ev("outage.retracted", "2026-04-21T09:00:00Z", {"outage_id": "O-2", "reason": "no"})
        ],
    ]
    saved: list[tuple[str, list[str], str, str]] = []
    for number, step in enumerate(steps):
        if step == "close":
            cli(store_url, "close", "--period", "2026-03")
        else:
            assert isinstance(step, list)
            ingest(store_url, tmp_path / f"step{number}.jsonl", step)
        moment = format_utc(datetime.now(UTC))
        live = cli(store_url, "report", "--period", RUNNING, "--format", "json")
        live_as_of = json.loads(live)["as_of"]
        saved.append((moment, ask_all(store_url, moment), live, live_as_of))
        time.sleep(0.01)

    # The history did change: March's credit went 100 -> 250 (tier 25%) and back.
    march = [json.loads(answers[0])["rows"][0] for _, answers, _, _ in saved]
    assert [row["status"] for row in march] == ["provisional"] * 2 + ["closed"] * 3
    assert [row["credit_amount"] for row in march] == [
        "100.00",
        "100.00",
        "100.00",
        "250.00",
        "250.00",
    ]
    assert [row["downtime_seconds"] for row in march] == [
        "3000",
        "21000",
        "21000",
        "104400",
        "86400",
    ]
    explained = json.loads(saved[-1][1][5])
    assert [e["basis_reproduced"] for e in explained["entries"]] == [True, True, True]
    entries = json.loads(saved[-1][1][3])["entries"]
    assert [(e["kind"], e["amount"]) for e in entries] == [
        ("issue", "100.00"),
        ("reversal", "-100.00"),
        ("issue", "250.00"),
    ]

    for moment, answers, live, live_as_of in saved:
        assert ask_all(store_url, moment) == answers, moment
        # A question without --as-of is the question as of the moment it printed.
        assert (
            cli(
                store_url,
                "report",
                "--period",
                RUNNING,
                "--format",
                "json",
                "--as-of",
                live_as_of,
            )
            == live
        )

    # diff: what finance was told just after the close versus now, and why.
    after_close, now = saved[2][0], saved[-1][0]
    document = diff_json(store_url, "2026-03", after_close, now)
    [row] = document["rows"]
    assert row["fields"]["credit_amount"] == {"from": "100.00", "to": "250.00"}
    assert row["fields"]["downtime_seconds"] == {"from": "21000", "to": "86400"}
    assert row["booked_amount"] == {"from": "100.00", "to": "250.00"}
    assert [e["kind"] for e in row["entries_recorded"]] == ["reversal", "issue"]
    assert [e["type"] for e in row["caused_by_events"]] == ["outage.amended", "outage.retracted"]
    assert row["caused_by_horizon"] is False
    # The running month changed with time alone: the open outage grew.
    november = diff_json(store_url, RUNNING, saved[0][0], now)
    [grown] = november["rows"]
    assert grown["caused_by_events"] == []
    assert grown["caused_by_horizon"] is True
    assert "downtime_seconds" in grown["fields"]
    # Across the close: the status changed because of it, the figures did not move.
    closing = diff_json(store_url, "2026-03", saved[1][0], after_close)
    [closed_row] = closing["rows"]
    assert closed_row["fields"] == {"status": {"from": "provisional", "to": "closed"}}
    assert closed_row["caused_by_close"] is not None
    assert closed_row["caused_by_horizon"] is False
    assert [e["kind"] for e in closed_row["entries_recorded"]] == ["issue"]
    text = cli(store_url, "diff", "--period", "2026-03", "--from", after_close, "--to", now)
    assert "credit_amount: 100.00 -> 250.00" in text
    assert "outage.amended O-1" in text


def test_a_writer_whose_clock_runs_ahead_hides_nothing(store_url: str, tmp_path: Path) -> None:
    """A close recorded by a worker one minute ahead: what is recorded after it (at
    later record times) still shows in `report` now, and its own moment can be asked."""
    ingest(
        store_url,
        tmp_path / "a.jsonl",
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")],
    )
    with LedgerStore(store_url, access="create") as store:
        closed = close_period(store, Period(2026, 3), datetime.now(UTC) + timedelta(minutes=1))
    ingest(
        store_url,
        tmp_path / "b.jsonl",
        outage("O-2", "2026-03-12T00:00:00Z", "2026-03-13T00:00:00Z"),
    )
    now = json.loads(cli(store_url, "report", "--period", "2026-03", "--format", "json"))
    assert now["rows"][0]["downtime_seconds"] == "89400"
    at_close = format_utc(closed.closed_at)
    explained = json.loads(
        cli(
            store_url,
            "explain",
            "--contract",
            "C-1",
            "--service",
            "crm",
            "--period",
            "2026-03",
            "--as-of",
            at_close,
            "--format",
            "json",
        )
    )
    assert [e["basis_reproduced"] for e in explained["entries"]] == [True]
