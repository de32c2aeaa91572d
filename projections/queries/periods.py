"""`periods`: every period the ledger knows as of a moment (now by default), newest
first, each open or closed, with its close time, the chain checkpoint its close
recorded, and how many credit entries of it were recorded by then.

Which periods are known, as of the moment T (only what was recorded by T counts):

- every month from the first month any contract's coverage starts in (the month of
  its `effective_from`, a local date; a contract whose termination leaves it no
  coverage at all starts none) through the latest month that has begun by T in any
  contract's timezone (a contract in Sydney is in its next month hours before UTC is,
  and its row of that month is already provisional). A month inside that range where
  no contract happens to be covered is listed too: the calendar of periods has no
  holes, and such a month simply has no rows;
- every year in which a month so listed is measured yearly by some contract (the
  period of its annual rows, sla-math §9);
- plus every period with a close or a credit entry recorded by T, wherever it lies
  (what the ledger recorded is always listed).

A contract that starts after T's month does not extend the list into the future: a
period is listed once it has begun (or holds a record). Newest first, because the
periods a finance system asks about are the recent ones. Cheap: the contracts are
folded, but no row is computed; closes and entry counts are one query each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.attainment import yearly_months
from ledger.contracts import ContractState
from ledger.periods import Period, local_date_of, to_us
from ledger.timeformat import format_utc
from projections.attainment import load_contracts, yearly_somewhere
from projections.queries import as_of
from projections.queries.encoding import to_json
from projections.store import StoreReads


@dataclass(frozen=True)
class PeriodState:
    period: str
    closed_at: datetime | None  # None: open
    checkpoint: tuple[int, str] | None  # (position, chain_sha256) its close recorded
    entries: int  # credit entries of the period recorded by the moment

    @property
    def status(self) -> str:
        return "open" if self.closed_at is None else "closed"


@dataclass(frozen=True)
class Periods:
    as_of: datetime
    chain_position: int  # what the ledger knew at `as_of`: its chain up to here
    periods: list[PeriodState]  # newest first


def periods(store: StoreReads, asked: datetime | None, *, typed: str | None = None) -> Periods:
    """The periods known as of `asked` (None: now; `typed`: how the asker wrote it)."""
    moment = as_of.moment(store, asked, typed=typed)
    moment_us = to_us(moment)
    position = as_of.position_at(store, moment)
    closes = store.close_checkpoints(moment_us)
    counts = store.entry_counts(moment_us)
    labels = set(closes) | set(counts)
    labels |= {p.label for p in _calendar(load_contracts(store, moment_us), moment_us)}
    states = [
        PeriodState(
            label,
            closes[label][0] if label in closes else None,
            closes[label][1:] if label in closes else None,
            counts.get(label, 0),
        )
        for label in sorted(labels, reverse=True)
    ]
    return Periods(moment, position, states)


def _calendar(contracts: list[ContractState], moment_us: int) -> list[Period]:
    """The months from the first one any contract is covered in through the latest one
    begun by `moment_us` in any contract's timezone."""
    starts = [
        Period.containing(c.effective_from)
        for c in contracts
        if c.effective_to is None or c.effective_to > c.effective_from
    ]
    if not starts:
        return []
    current = max(Period.containing(local_date_of(moment_us, c.timezone)) for c in contracts)
    months: list[Period] = []
    month = min(starts)
    while month <= current:
        months.append(month)
        month = month.next()
    # A year is a period too once a month of it listed is measured yearly by some
    # contract (its annual rows, sla-math §9); listed right after its January.
    years = {
        Period.of_year(year)
        for contract in contracts
        if yearly_somewhere(contract)
        for year in range(min(starts).year, current.year + 1)
        if any(
            m <= current and m >= min(starts)
            for ms in yearly_months(contract, Period.of_year(year)).values()
            for m in (y.period for y in ms)
        )
    }
    return months + sorted(years)


def periods_json(result: Periods) -> str:
    """The periods as a program reads them: the moment, its chain position, and each
    period (newest first) with its status, close time, checkpoint and entry count."""
    return to_json(
        {
            "as_of": format_utc(result.as_of),
            "chain_position": result.chain_position,
            "periods": [
                {
                    "period": p.period,
                    "status": p.status,
                    "closed_at": None if p.closed_at is None else format_utc(p.closed_at),
                    "checkpoint": None
                    if p.checkpoint is None
                    else {"position": p.checkpoint[0], "chain_sha256": p.checkpoint[1]},
                    "entries": p.entries,
                }
                for p in result.periods
            ],
        }
    )
