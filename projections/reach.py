"""Which contracts' rows, and over what span of time, the subjects recorded since a
chain position can change: the one rule reconciliation (closed periods) and the
raising of alerts (provisional periods) both follow.

An outage's, maintenance window's, incident's or claim's events reach the contracts of
its scopes over its span (a claim's: its contract, over its period's window,
`subject_rules.claim_span`); a subject without an end, or whose end became known since the
position, reached every later period as well (its span only widens, so a span that
moved covers both its old and its new place).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from projections.store import StoreReads
from projections.store.subject_index import contract_terms_wanted, contracts_reached


@dataclass(frozen=True, slots=True)
class Reach:
    contracts: set[str]
    lo_us: int
    hi_us: int
    # Open, or open when the position was recorded: it reaches every later period too.
    was_open: bool


def reaches(store: StoreReads, subjects: Collection[tuple[str, str]], mark: int) -> Iterator[Reach]:
    """The reach of each of `subjects` (kind, id; contracts excluded) recorded after
    chain position `mark`, for those that reach any contract."""
    if not subjects:
        return
    ordered = sorted(subjects)
    spans = store.spans_of(ordered)
    held = store.scopes_of_subjects(ordered)
    terms = store.contract_terms(contract_terms_wanted(set().union(*held.values())))
    marked_us = store.recorded_at_position(mark)
    for subject in ordered:
        span = spans.get(subject)
        contracts = contracts_reached(held.get(subject, ()), terms)
        if span is None or not contracts:
            continue
        lo, hi, has_end, ended_us = span
        yield Reach(contracts, lo, hi, not has_end or ended_us > marked_us)
