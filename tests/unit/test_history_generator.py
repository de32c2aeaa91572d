"""The history_growth benchmark's generator: valid events, and the same bytes per seed.

A benchmark of rejected inputs would measure nothing, and one whose input changes from
run to run could not be compared with itself."""

from __future__ import annotations

import json
from collections import Counter

from benchmarks.history_growth import Month, Plan, correction_lines, month_lines
from consumers.intake.validation import parse_line
from ledger.periods import Period
from tests.builders import generated_history

PLAN = Plan(contracts=30, months=3, first=Period(2025, 11), seed=3)


def test_every_generated_event_passes_the_ledgers_validation() -> None:
    lines = generated_history(PLAN)
    events = [parse_line(line.encode()) for line in lines]  # raises on any broken rule
    assert len(events) > 300
    assert len({event.event_id for event in events}) == len(events)
    kinds = Counter(json.loads(line)["type"] for line in lines)
    assert kinds["contract.signed"] == PLAN.contracts
    for kind in (
        "outage.started",
        "outage.resolved",
        "outage.amended",
        "maintenance.scheduled",
        "incident.opened",
        "incident.responded",
        "incident.reprioritized",
        "incident.resolved",
    ):
        assert kinds[kind] > 0, kind


def test_each_correction_amends_five_outages_none_twice_earlier_ones_from_month_three() -> None:
    months: dict[int, Month] = {}
    every: list[str] = []
    for index in range(PLAN.months):
        months[index] = Month()
        list(month_lines(PLAN, index, months[index]))
        lines = correction_lines(PLAN, index, months)
        amended = [json.loads(line)["payload"]["outage_id"] for line in lines]
        assert len(amended) == 5
        known = {o.outage_id for m in range(index + 1) for o in months[m].candidates}
        earlier = {o.outage_id for m in range(index) for o in months[m].candidates}
        assert set(amended) <= (earlier if index >= 2 else known)
        every += amended
    assert len(set(every)) == len(every)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others() -> None:
    assert generated_history(PLAN) == generated_history(PLAN)
    other = Plan(PLAN.contracts, PLAN.months, PLAN.first, seed=4)
    assert generated_history(other) != generated_history(PLAN)
