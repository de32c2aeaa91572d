"""Incremental reconciliation equals reconciling everything (spec: sla-math §6).

After an intake only the closed rows that the new events can reach, and the rows due to
change with time alone, are computed again. The property: over random histories (late
outages, amendments that move an outage to another month, retractions, classifications,
maintenance, incidents answered late or never, contract amendments and terminations,
closes, and time passing without events) a store reconciled incrementally holds exactly
the entries of a store that reconciles every closed period in full after every step,
on both stores.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import NothingToCloseError
from ledger.events import Origin
from ledger.inbound import validate_envelope
from ledger.periods import Period, to_us
from projections.attainment import period_report
from projections.credit_entries import (
    close_period,
    period_end,
    reconcile_closed_periods,
    reconcile_period,
)
from projections.store import LedgerStore
from tests.builders import OFFICE_HOURS, contract, ev, outage, service
from tests.infrastructure import fresh_postgres_database, sqlite_url

MONTHS = ("2026-01", "2026-02", "2026-03")
# Just after January has ended for every contract: its close may come at once, with
# incidents opened on its last Friday still pending.
START = datetime(2026, 2, 1, 6, tzinfo=UTC)
RESPONSE = {
    "targets": {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H"},
    "business_hours": {"weekly": OFFICE_HOURS, "holidays": []},
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}
ALWAYS = {**RESPONSE, "business_hours": "24x7"}
CONTRACTS = [
    contract(
        "C-1",
        "K-1",
        services=[service("crm", incident_response=RESPONSE), service("erp", fee="400.00")],
    ),
    contract("C-2", "K-2", tz="Asia/Tokyo", services=[service("crm", fee="250.00")]),
    contract(
        "C-3",
        "K-3",
        tz="America/New_York",
        services=[service("erp", incident_response=ALWAYS, min_downtime=300)],
    ),
]
CUSTOMERS = st.sampled_from([None, ["K-1"], ["K-2"], ["K-3"], ["K-1", "K-3"]])


def stamp(month: int, day: int, minute: int) -> str:
    instant = datetime(2026, month, day, tzinfo=UTC) + timedelta(minutes=minute)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


moments = st.builds(stamp, st.integers(1, 3), st.integers(1, 28), st.integers(0, 24 * 60 - 1))


# Incidents cluster at month ends (Fridays 30 January, 27 February, 27 March 2026), so
# some are still pending when their month closes and turn missed with no new event.
month_ends = st.sampled_from([(1, 30), (1, 31), (2, 27), (2, 28), (3, 27), (3, 31)]).flatmap(
    lambda day: st.builds(
        stamp, st.just(day[0]), st.just(day[1]), st.integers(15 * 60, 24 * 60 - 1)
    )
)
incident_moments = st.one_of(moments, month_ends)


@st.composite
def outage_started(draw: st.DrawFn) -> list[dict[str, Any]]:
    oid = f"O-{draw(st.integers(1, 6))}"
    start = draw(moments)
    events = [
        ev(
            "outage.started",
            start,
            {
                "outage_id": oid,
                "service_id": draw(st.sampled_from(["crm", "erp"])),
                "started_at": start,
                "impact_percent": draw(st.sampled_from(["100", "50", "12.5"])),
                "customer_ids": draw(CUSTOMERS),
            },
        )
    ]
    if draw(st.booleans()):
        end = datetime.fromisoformat(start) + timedelta(minutes=draw(st.integers(1, 900)))
        text = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        events.append(ev("outage.resolved", text, {"outage_id": oid, "ended_at": text}))
    return events


@st.composite
def outage_changed(draw: st.DrawFn) -> list[dict[str, Any]]:
    oid = f"O-{draw(st.integers(1, 6))}"
    what = draw(st.sampled_from(["moved", "resolved", "retracted", "classified"]))
    at = draw(moments)
    if what == "moved":  # e.g. to another month, after the post-incident review
        end = datetime.fromisoformat(at) + timedelta(minutes=draw(st.integers(1, 2000)))
        payload = {
            "outage_id": oid,
            "started_at": at,
            "ended_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": "review",
        }
        return [ev("outage.amended", at, payload)]
    if what == "resolved":
        return [ev("outage.resolved", at, {"outage_id": oid, "ended_at": at})]
    if what == "retracted":
        return [ev("outage.retracted", at, {"outage_id": oid, "reason": "false alarm"})]
    cause = draw(st.sampled_from(["provider", "customer_caused", "third_party"]))
    return [ev("outage.classified", at, {"outage_id": oid, "cause": cause, "reason": "review"})]


@st.composite
def maintenance(draw: st.DrawFn) -> list[dict[str, Any]]:
    starts = draw(moments)
    ends = datetime.fromisoformat(starts) + timedelta(minutes=draw(st.integers(10, 600)))
    announced = datetime.fromisoformat(starts) - timedelta(hours=draw(st.integers(1, 100)))
    payload = {
        "maintenance_id": f"M-{draw(st.integers(1, 3))}",
        "service_id": draw(st.sampled_from(["crm", "erp"])),
        "starts_at": starts,
        "ends_at": ends.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer_ids": draw(CUSTOMERS),
    }
    return [ev("maintenance.scheduled", announced.strftime("%Y-%m-%dT%H:%M:%SZ"), payload)]


@st.composite
def incident(draw: st.DrawFn) -> list[dict[str, Any]]:
    iid = f"I-{draw(st.integers(1, 6))}"
    if draw(st.booleans()):
        at = draw(incident_moments)
        contract_id, service_id = draw(st.sampled_from([("C-1", "crm"), ("C-3", "erp")]))
        payload = {
            "incident_id": iid,
            "contract_id": contract_id,
            "service_id": service_id,
            "priority": draw(st.sampled_from(["P1", "P2", "P3"])),
            "opened_at": at,
        }
        return [ev("incident.opened", at, payload)]
    at = draw(incident_moments)
    return [ev("incident.responded", at, {"incident_id": iid, "responded_at": at})]


@st.composite
def terms_changed(draw: st.DrawFn) -> list[dict[str, Any]]:
    month = draw(st.sampled_from(["2026-02-01", "2026-03-01"]))
    if draw(st.booleans()):
        fee = draw(st.sampled_from(["100.00", "2000.00"]))
        payload = {
            "contract_id": "C-1",
            "effective_from": month,
            "services": [service("crm", fee=fee, incident_response=RESPONSE)],
        }
        return [ev("contract.amended", "2026-01-20T00:00:00Z", payload)]
    return [
        ev(
            "contract.terminated",
            "2026-01-20T00:00:00Z",
            {"contract_id": "C-2", "effective_to": month},
        )
    ]


@dataclass(frozen=True)
class Step:
    kind: str  # "events", "close", "wait"
    events: tuple[str, ...] = ()
    period: str = ""
    hours: int = 0


intakes = st.builds(
    lambda batches: Step("events", tuple(json.dumps(e) for b in batches for e in b)),
    st.lists(
        st.one_of(
            outage_started(),
            outage_started(),
            outage_changed(),
            maintenance(),
            incident(),
            incident(),
            terms_changed(),
        ),
        min_size=1,
        max_size=5,
    ),
)
steps = st.one_of(
    intakes,
    intakes,
    st.builds(lambda p: Step("close", period=p), st.sampled_from(MONTHS)),
    st.builds(
        lambda h: Step("wait", hours=h), st.one_of(st.integers(1, 48), st.integers(1, 24 * 30))
    ),
)


class Ledger:
    """One store driven on a simulated clock: every record time is chosen by the test."""

    def __init__(self, url: str, reconcile: Callable[[LedgerStore, datetime], object]) -> None:
        self.store = LedgerStore(url, access="create")
        self.reconcile = reconcile

    def record(self, documents: list[str], at: datetime) -> None:
        events = [
            (validate_envelope(json.loads(text)), Origin(file="h.jsonl", line=i + 1), text.encode())
            for i, text in enumerate(documents)
        ]
        self.store.append(events, [], recorded_us=to_us(at))
        self.reconcile(self.store, at + timedelta(milliseconds=1))

    def close(self, period: Period, at: datetime) -> None:
        with suppress(NothingToCloseError):
            close_period(self.store, period, at)

    def entries(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.store.entries()]


def reconcile_everything(store: LedgerStore, now: datetime) -> None:
    for label in sorted(store.closes()):
        reconcile_period(store, Period.from_label(label), now)


@contextmanager
def two_stores(dialect: str, tmp: Path, postgres: Callable[[], str]) -> Iterator[tuple[str, str]]:
    if dialect == "sqlite":
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        yield sqlite_url(tmp / "a"), sqlite_url(tmp / "b")
        return
    with fresh_postgres_database(postgres()) as a, fresh_postgres_database(postgres()) as b:
        yield a, b


# Examples per store: a PostgreSQL example creates two databases, so it runs fewer.
EXAMPLES = {"sqlite": 60, "postgresql": 15}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_incremental_reconciliation_equals_reconciling_everything(
    dialect: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    examples = int(os.environ.get("SLA_LEDGER_TEST_EXAMPLES", EXAMPLES[dialect]))

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        before=st.lists(steps, max_size=6),
        history=st.lists(steps, min_size=3, max_size=20),
    )
    def incremental_equals_full(before: list[Step], history: list[Step]) -> None:
        one_history(dialect, before, history, tmp_path_factory, request)

    incremental_equals_full()


def one_history(
    dialect: str,
    before: list[Step],
    history: list[Step],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    tmp = tmp_path_factory.mktemp("history")
    with two_stores(dialect, tmp, lambda: str(request.getfixturevalue("postgres_url"))) as (
        url_a,
        url_b,
    ):
        incremental = Ledger(url_a, reconcile_closed_periods)
        full = Ledger(url_b, reconcile_everything)
        try:
            clock = START
            contracts = [json.dumps(c) for c in CONTRACTS]
            for ledger in (incremental, full):
                ledger.record(contracts, clock)
            # Some history, then January closed (closable from the start), then more.
            for step in [*before, Step("close", period="2026-01"), *history]:
                clock += timedelta(seconds=1)
                if step.kind == "events":
                    for ledger in (incremental, full):
                        ledger.record(list(step.events), clock)
                elif step.kind == "close":
                    period = Period.from_label(step.period)
                    if clock >= period_end(incremental.store, period):
                        for ledger in (incremental, full):
                            ledger.close(period, clock)
                else:
                    clock += timedelta(hours=step.hours)
                    for ledger in (incremental, full):
                        ledger.reconcile(ledger.store, clock)
                assert incremental.entries() == full.entries()
            import sys

            print(
                "STATS",
                len(incremental.store.closes()),
                len(incremental.entries()),
                file=sys.stderr,
            )
        finally:
            incremental.store.close()
            full.store.close()


# -- the cases the property covers, spelled out ------------------------------------------


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    opened = Ledger(store_url, reconcile_closed_periods)
    yield opened
    opened.store.close()


def credit(ledger: Ledger, period: str) -> list[tuple[str, str]]:
    return [(e["kind"], e["amount"]) for e in ledger.entries() if e["period"] == period]


def only_c1() -> str:
    return json.dumps(contract("C-1", "K-1", services=[service("crm", incident_response=RESPONSE)]))


def test_an_outage_moved_to_another_month_reconciles_both(ledger: Ledger) -> None:
    clock = datetime(2026, 4, 2, tzinfo=UTC)
    start, end = outage("O-1", "2026-02-10T00:00:00Z", "2026-02-10T02:00:00Z")
    ledger.record([only_c1(), json.dumps(start), json.dumps(end)], clock)
    for month in ("2026-02", "2026-03"):
        ledger.close(Period.from_label(month), clock + timedelta(seconds=1))
    assert credit(ledger, "2026-02") == [("issue", "100.00")]
    assert credit(ledger, "2026-03") == []
    moved = {
        "outage_id": "O-1",
        "started_at": "2026-03-10T00:00:00Z",
        "ended_at": "2026-03-10T02:00:00Z",
        "reason": "the review found the real dates",
    }
    ledger.record(
        [json.dumps(ev("outage.amended", "2026-03-20T00:00:00Z", moved))],
        clock + timedelta(seconds=2),
    )
    assert credit(ledger, "2026-02") == [("issue", "100.00"), ("reversal", "-100.00")]
    assert credit(ledger, "2026-03") == [("issue", "100.00")]


def test_an_outage_open_at_the_close_and_resolved_later_reconciles_every_month_it_reached(
    ledger: Ledger,
) -> None:
    clock = datetime(2026, 4, 2, tzinfo=UTC)
    (start,) = outage("O-1", "2026-02-27T00:00:00Z", None)
    ledger.record([only_c1(), json.dumps(start)], clock)
    for month in ("2026-02", "2026-03"):
        ledger.close(Period.from_label(month), clock + timedelta(seconds=1))
    before_end = clock + timedelta(seconds=2)
    assert credit(ledger, "2026-03") == [("issue", "1000.00")]  # all of March down
    end = ev(
        "outage.resolved",
        "2026-02-27T01:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-02-27T01:00:00Z"},
    )
    ledger.record([json.dumps(end)], clock + timedelta(seconds=3))
    assert credit(ledger, "2026-03") == [("issue", "1000.00"), ("reversal", "-1000.00")]
    # As of before the end was known, March still reads the outage as open.
    as_of = period_report(
        ledger.store, Period.from_label("2026-03"), before_end, recorded_filter=True
    )
    assert [row.credit_amount_major for row in as_of.rows] == [Decimal("1000.00")]


def test_a_pending_incident_passing_its_target_is_reconciled_with_no_new_event(
    ledger: Ledger,
) -> None:
    # Opened on Friday 27 February at 17:50 (P3: 4 business hours), still unanswered when
    # February closes on Sunday 1 March; missed from Monday 2 March 11:50.
    opened = {
        "incident_id": "I-1",
        "contract_id": "C-1",
        "service_id": "crm",
        "priority": "P3",
        "opened_at": "2026-02-27T17:50:00Z",
    }
    clock = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ledger.record(
        [only_c1(), json.dumps(ev("incident.opened", "2026-02-27T17:50:00Z", opened))], clock
    )
    ledger.close(Period.from_label("2026-02"), clock + timedelta(seconds=1))
    assert credit(ledger, "2026-02") == []
    due = datetime(2026, 3, 2, 11, 50, tzinfo=UTC)
    reconcile_closed_periods(ledger.store, due)
    assert credit(ledger, "2026-02") == []  # exactly at the target: not over it yet
    reconcile_closed_periods(ledger.store, due + timedelta(microseconds=1))
    assert credit(ledger, "2026-02") == [("issue", "50.00")]


def test_a_closed_row_whose_window_has_not_ended_is_reconciled_as_time_passes(
    ledger: Ledger,
) -> None:
    # January closes once it has ended for the contracts known (UTC). A contract recorded
    # later in UTC-12 has a January window running to 1 February 12:00Z: its row grows
    # with an open outage as time passes, with no event reaching it.
    (start,) = outage("O-1", "2026-01-31T23:00:00Z", None)
    clock = datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC)
    ledger.record([only_c1(), json.dumps(start)], clock)
    ledger.close(Period.from_label("2026-01"), clock + timedelta(seconds=1))
    west = contract("C-9", "K-9", tz="Etc/GMT+12", services=[service("crm")])
    ledger.record([json.dumps(west)], datetime(2026, 2, 1, 1, tzinfo=UTC))
    c9 = [e for e in ledger.entries() if e["contract_id"] == "C-9"]
    assert [(e["kind"], e["amount"]) for e in c9] == [("issue", "100.00")]  # 2 h down
    other = contract("C-5", "K-5", services=[service("erp")])
    ledger.record([json.dumps(other)], datetime(2026, 2, 1, 11, tzinfo=UTC))
    c9 = [e for e in ledger.entries() if e["contract_id"] == "C-9"]
    assert [(e["kind"], e["amount"]) for e in c9] == [
        ("issue", "100.00"),
        ("reversal", "-100.00"),
        ("issue", "250.00"),  # 12 h down by 11:00Z
    ]
