"""Raising alerts: after each committed intake and on each periodic check (sla-math §8).

`raise_alerts` looks at the provisional rows that what was recorded since its last
check can change, and at those due to change with time alone (a pending incident
passing its deadline, an outage without an end growing), and records, once, each alert
whose condition one of them now meets. It runs only after an intake has committed,
never between the events of one, and never for an `--as-of` question: an alert is a
record of what the ledger saw, not a figure derived again.

Which rows: the chain position checked through is kept (`ALERTED`), like the position
reconciled through. A contract's events reach its rows in every provisional period of
its coverage; an outage's, maintenance window's or incident's events reach its
contracts' rows in the provisional periods its span reaches. A store never checked
before is checked in full. The rows' next moment of change with time alone is kept in
a due-time index (`record_alert_due`), so a periodic check reads only those.

Provisional periods are the months not closed, from the first covered month to the
latest month any window has begun in (`latest_begun`), and the years of those months not
closed (their annual rows, sla-math §9: whatever reaches a month reaches its year); a
month not begun yet has no measured time, and nothing in it can be late. When a month
begins, the first check after looks at all its rows (the latest month checked in full is
kept, `ALERTED_MONTH`): an outage still open when it began reaches it with no event at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ledger.alerts import Alert, conditions
from ledger.attainment import Row, coverage
from ledger.contracts import ContractState
from ledger.errors import ChainMovedError
from ledger.periods import Period, from_us, to_us
from projections.attainment import MARGIN_US, load_period_inputs, load_some_contracts
from projections.reach import reaches
from projections.store import LedgerStore, StoreReads

# A file intake that commits in several transactions holds a lease named so while it
# does (`consumers.intake.file_ingest`): no alert is raised between its events.
FILE_INTAKE_LEASE = "intake:file:"
# The tracking name under which the chain position checked for alerts through is kept.
ALERTED = "sla-ledger:alerted"
# The latest begun month checked in full, as `year * 12 + month - 1`.
ALERTED_MONTH = "sla-ledger:alerted-month"
ATTEMPTS = 20
# The most easterly offset there is (UTC+14): a month has begun somewhere once UTC is
# this close to its first day.
EARLIEST_OFFSET = timedelta(hours=14)


@dataclass
class AlertCheck:
    """What one check did: the alerts it recorded and the rows it looked at (the gauges
    of money at risk read these)."""

    alerts: list[Alert] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    complete: bool = True


def latest_begun(now: datetime) -> Period:
    """The latest period whose window has begun somewhere by `now`."""
    return Period.containing((now + EARLIEST_OFFSET).date())


def months(first: Period, last: Period) -> Iterator[Period]:
    period = first
    while period <= last:
        yield period
        period = period.next()


def raise_alerts(store: LedgerStore, now: datetime) -> AlertCheck:
    """Record each alert a provisional row now meets and none has raised before.

    If other writers keep moving the chain, the check gives up after a few attempts and
    records nothing: the next check does it again, and since an alert's id is its
    condition's, nothing it would have raised is lost or doubled.
    """
    for _attempt in range(ATTEMPTS):
        head = store.chain_head()
        at = max(now, from_us(head.recorded_us + 1))
        mark = store.tracked_position(ALERTED) or 0
        begun = _month_index(latest_begun(at))
        new_month = begun > (store.tracked_position(ALERTED_MONTH) or -1)
        work = alert_plan(store, mark, head.position, at, new_month=new_month)
        check = AlertCheck()
        due: dict[str, dict[str, int | None]] = {}
        known = store.alert_ids(list(work)) if work else set()
        for label in sorted(work):
            rows = _provisional_rows(store, Period.from_label(label), work[label], at)
            check.rows += rows
            due[label] = _due_times(rows, work[label])
            for row in rows:
                for condition in conditions(row):
                    alert = condition.alert(row, at)
                    if alert.alert_id not in known:
                        known.add(alert.alert_id)
                        check.alerts.append(alert)
        if store.open_leases(FILE_INTAKE_LEASE):
            # A file intake is between two of its transactions: what was read may hold
            # part of it. Its own follow-up checks once it has committed whole (and an
            # intake that committed since read moves the chain: the append refuses).
            return AlertCheck(complete=False)
        try:
            recorded = store.append_alerts(check.alerts, head) if check.alerts else []
        except ChainMovedError:
            continue
        if len(recorded) < len(check.alerts):
            # Another process recorded some of them first (the store refused the batch
            # whole): look again, knowing those, rather than leave the rest for later.
            continue
        check.alerts = recorded
        for label, times in due.items():
            store.record_alert_due(label, head.position, times)
        if head.position > mark:
            store.record_position(ALERTED, head.position)
        if new_month:
            store.record_position(ALERTED_MONTH, begun)
        return check
    return AlertCheck(complete=False)


def provisional_rows(store: StoreReads, at: datetime) -> list[Row]:
    """Every provisional row as of `at`, with its exposure: what a full check looks at
    (the gauges of money at risk are seeded and refreshed from these)."""
    rows: list[Row] = []
    for label, contracts in sorted(alert_plan(store, 0, 0, at).items()):
        rows += _provisional_rows(store, Period.from_label(label), contracts, at)
    return rows


def _provisional_rows(
    store: StoreReads, period: Period, contract_ids: set[str] | None, at: datetime
) -> list[Row]:
    inputs = load_period_inputs(store, period, at, contract_ids=contract_ids)
    if inputs.closed_at is not None:
        return []
    return inputs.rows()


def _due_times(rows: Iterable[Row], contract_ids: Collection[str] | None) -> dict[str, int | None]:
    """contract -> the earliest moment one of its rows' alert conditions can change with
    time alone (None: only an event can change them), for every contract looked at."""
    due: dict[str, int | None] = dict.fromkeys(contract_ids or ())
    for row in rows:
        contract = row.contract.contract_id
        at = None if row.exposure is None else row.exposure.changes_at_us
        held = due.get(contract)
        if at is None:
            due.setdefault(contract, None)
        else:
            due[contract] = at if held is None else min(held, at)
    return due


def _month_index(period: Period) -> int:
    return period.year * 12 + period.month - 1


def alert_plan(
    store: StoreReads, mark: int, head_position: int, at: datetime, *, new_month: bool = False
) -> dict[str, set[str] | None]:
    """provisional period -> the contracts whose rows to look at (None: all of them);
    with `new_month`, every row of the latest begun month."""
    closes = store.closes()
    last = latest_begun(at)
    work: dict[str, set[str] | None] = {}

    def add(period: Period, contracts: Iterable[str] | None) -> None:
        if not period.is_year:
            add(period.year_period(), contracts)
        label = period.label
        if label in closes or period > last:
            return
        if contracts is None:
            work[label] = None
        elif label not in work or work[label] is not None:
            held = work.setdefault(label, set())
            assert held is not None
            held.update(contracts)

    if mark == 0:
        for contract in load_some_contracts(store, None, None):
            for period in covered_months(contract, last):
                add(period, None)
        return work
    if new_month:
        add(last, None)
    changed = store.changed_subjects(mark, head_position) if head_position > mark else set()
    amended = sorted(subject for kind, subject in changed if kind == "contract")
    if amended:
        for contract in load_some_contracts(store, None, amended):
            for period in covered_months(contract, last):
                add(period, [contract.contract_id])
    others = [(kind, subject) for kind, subject in changed if kind != "contract"]
    for reach in reaches(store, others, mark):
        first = Period.containing(from_us(reach.lo_us - MARGIN_US).date())
        end = last if reach.was_open else Period.containing(from_us(reach.hi_us + MARGIN_US).date())
        for period in months(first, min(end, last)):
            add(period, reach.contracts)
    for label, contract_id in store.alert_due_rows(to_us(at)):
        add(Period.from_label(label), [contract_id])
    return work


def covered_months(contract: ContractState, last: Period) -> Iterator[Period]:
    """The months of `contract`'s coverage up to `last`."""
    first = Period.containing(contract.effective_from)
    if contract.effective_to is not None:
        last = min(last, Period.containing(contract.effective_to))
    for period in months(first, last):
        if coverage(contract, period).covered is not None:
            yield period
