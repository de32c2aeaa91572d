"""Alerts are raised once each and only after a whole intake, however intakes and checks
interleave (sla-math §8), on both stores.

One store holds several independent contracts. A seeded random walk interleaves file
intakes of the next few events (committed in batches as small as one event), periodic
checks (`follow_up`), re-sends of events already recorded, and, for a contract of its
own, files whose events cross its whole budget and come back (an outage started,
resolved and retracted within one file). After every step:

- no alert id is recorded twice;
- every alert the step recorded is met by the rows as that step left them (never a
  state between the events of one intake);
- every alert the rows now meet is recorded (after an intake or a check, nothing due is
  left unraised);

and the contract whose files only ever come back never has an alert. The month is the
one before the current one: ended, so its rows do not move with the clock, and not
closed, so they are provisional.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.file_ingest import Intake, ingest_file
from consumers.intake.follow_up import follow_up
from ledger.alerts import conditions
from ledger.events import Origin
from projections.alerting import FILE_INTAKE_LEASE, provisional_rows
from projections.store import LedgerStore
from tests.builders import contract, ev, outage

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
END = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
START = (END - timedelta(days=1)).replace(day=1)
CONTRACTS = 5
STEPS = 45
ROUND_TRIP = "C-X"


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(rnd: random.Random) -> list[dict[str, Any]]:
    """The contracts, then their outages, one subject's events in order, subjects mixed."""
    signed = [
        contract(f"C-{n}", f"K-{n}", effective_from=START.date().isoformat())
        for n in range(CONTRACTS)
    ]
    signed.append(contract(ROUND_TRIP, "K-X", effective_from=START.date().isoformat()))
    queues: list[list[dict[str, Any]]] = []
    for n in range(CONTRACTS):
        for k in range(rnd.randrange(3, 7)):
            start = START + timedelta(days=1 + 4 * k, hours=rnd.randrange(20))
            end = start + timedelta(seconds=rnd.randrange(200, 1500))
            queues.append(outage(f"O-{n}-{k}", _stamp(start), _stamp(end), customers=[f"K-{n}"]))
    mixed: list[dict[str, Any]] = []
    while queues:
        queue = rnd.choice(queues)
        mixed.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return signed + mixed


def _round_trip(number: int) -> list[dict[str, Any]]:
    """An outage of the round-trip contract twice its budget long, retracted: together,
    nothing."""
    start = START + timedelta(days=3, hours=number % 20)
    oid = f"O-X-{number}"
    return [
        *outage(oid, _stamp(start), _stamp(start + timedelta(hours=2)), customers=["K-X"]),
        ev(
            "outage.retracted",
            _stamp(start + timedelta(hours=3)),
            {"outage_id": oid, "reason": "false alarm"},
        ),
    ]


def _met(store: LedgerStore) -> set[str]:
    """The ids of the alerts the provisional rows meet now."""
    at = datetime.now(UTC)
    return {
        condition.alert(row, at).alert_id
        for row in provisional_rows(store, at)
        for condition in conditions(row)
    }


def _recorded(store: LedgerStore) -> list[str]:
    return [alert.alert_id for alert in store.alerts()]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_alert_once_and_only_after_a_whole_intake(
    store: LedgerStore, tmp_path: Path, seed: int
) -> None:
    rnd = random.Random(seed)
    pending = _events(rnd)
    sent: list[dict[str, Any]] = []
    files = 0
    steps: list[str] = []

    def ingest(documents: list[dict[str, Any]]) -> None:
        nonlocal files
        files += 1
        path = tmp_path / f"step-{files}.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in documents))
        ingest_file(store, path, batch_size=rnd.randrange(1, 4))

    for _ in range(STEPS):
        before = _recorded(store)
        roll = rnd.random()
        if pending and roll < 0.45:
            take = rnd.randrange(1, 9)
            chunk, pending[:take] = pending[:take], []
            ingest(chunk)
            sent += chunk
            steps.append(f"intake of {len(chunk)}")
        elif roll < 0.65:
            follow_up(store, datetime.now(UTC))
            steps.append("check")
        elif roll < 0.85 and sent:
            again = sorted(rnd.sample(range(len(sent)), min(len(sent), rnd.randrange(1, 6))))
            ingest([sent[i] for i in again])
            steps.append(f"re-send of {len(again)}")
        else:
            ingest(_round_trip(files))
            steps.append("round trip")
        after = _recorded(store)
        met = _met(store)
        where = f" after steps {steps} (seed {seed})"
        assert len(after) == len(set(after)), "an alert recorded twice" + where
        assert after[: len(before)] == before, "alerts are append-only" + where
        assert set(after[len(before) :]) <= met, "an alert of a state between events" + where
        assert met <= set(after), "an alert met and not raised" + where
    assert "round trip" in steps, "the walk never tried a round trip: pick another seed"
    assert [a for a in store.alerts() if a.contract_id == ROUND_TRIP] == []
    assert store.alerts(), "the walk raised nothing: it proves nothing"


def test_an_outage_still_open_when_a_month_begins_raises_that_months_alerts_with_no_event(
    store: LedgerStore, tmp_path: Path
) -> None:
    """Its only event is in an earlier month: the first check after a later month has
    begun (here a check told a later `now`) looks at every row of that month."""
    path = tmp_path / "open.jsonl"
    documents = [
        contract("C-1", "K-1", effective_from=START.date().isoformat()),
        *outage("O-1", _stamp(START + timedelta(days=20)), None, customers=["K-1"]),
    ]
    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    ingest_file(store, path)
    # Two days into this month the open outage has used its whole budget (the clock may
    # be only minutes into it: the check is told a moment, as a worker's timer would see it).
    follow_up(store, END + timedelta(days=2))
    raised = {(a.period, a.kind, a.threshold) for a in store.alerts()}
    this_month = END.strftime("%Y-%m")
    assert ("availability.budget", "100") in {(k, t) for p, k, t in raised if p == this_month}
    # Two months on: a month no check has seen begun anywhere (the next one may have
    # begun east of UTC already).
    later = (END + timedelta(days=63)).replace(day=1)
    assert not [p for p, _k, _t in raised if p == later.strftime("%Y-%m")]
    follow_up(store, later + timedelta(days=1))
    found = {(a.period, a.kind, a.threshold) for a in store.alerts()}
    assert (later.strftime("%Y-%m"), "availability.budget", "100") in found


def test_no_other_process_raises_alerts_between_the_transactions_of_one_file(
    store_url: str,
) -> None:
    """A file committed in several transactions is one intake: a check by another process
    (its own store connection, as a Kafka worker's timer) between two of them raises
    nothing, and the file's own follow-up, once it has committed whole, raises what the
    whole file leaves (here: nothing, the outage comes back)."""
    with LedgerStore(store_url, access="create") as store:
        follow_up(store, datetime.now(UTC))  # the contracts, checked: none breached
        intake = Intake(store, batch_size=2)
        with intake:
            signed = contract(ROUND_TRIP, "K-X", effective_from=START.date().isoformat())
            lines = [signed, *_round_trip(0)]
            for number, document in enumerate(lines, start=1):
                raw = json.dumps(document).encode()
                intake.submit(raw, Origin(file="one.jsonl", line=number))
                if number == 2:
                    intake.flush()
                    intake._writer.drain()  # the contract and the outage's start, committed
                    with LedgerStore(store_url, access="write") as other:
                        assert _met(other), "the half-committed file meets alert conditions"
                        check = follow_up(other, datetime.now(UTC)).check
                        assert (check.alerts, check.complete) == ([], False)
            summary = intake.finish()
        assert summary.alerts_raised == 0
        assert _recorded(store) == []
        assert store.open_leases(FILE_INTAKE_LEASE) == []
        # With the file whole, any process checks again.
        assert follow_up(store, datetime.now(UTC)).check.complete
