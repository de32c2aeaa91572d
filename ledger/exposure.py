"""Exposure: where a provisional row is heading, and what it stands to cost
(spec: sla-math §8).

The projection is the row's figures at the end of its window if nothing more happened
than what is recorded now: an outage without an end ends at the horizon, every other
interval counts in full, and measurement is not cut at the horizon. From it: the error
budget consumed, the next tier's threshold, the full-impact downtime left before it,
that tier's credit and the money at risk. Exact throughout; percentages are rounded for
display only (`Row.as_dict`), money once, as §5 says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.attainment import (
    Coverage,
    Row,
    availability_figures,
    below,
    credit_owed,
    exact,
    tier_credit,
)
from ledger.contracts import AvailabilityTerms, CreditTier
from ledger.incidents import Deadline
from ledger.money import round_half_even
from ledger.outages import MaintenanceState, OutageState
from ledger.periods import to_us
from ledger.timeformat import exact_seconds, format_utc


@dataclass(frozen=True, slots=True)
class Exposure:
    """A provisional row's projection (None fields: the spec's nulls)."""

    # `M_end` and `D_end`: what the projection is computed from (explain shows them).
    measured_end_us: int | None = None
    downtime_end_us: Fraction | None = None
    budget_us: Fraction | None = None  # `B`, the error budget at the target
    projected_availability_percent: Fraction | None = None
    budget_consumed_percent: Fraction | None = None
    next_threshold_percent: Decimal | None = None  # `b`
    downtime_left_us: int | None = None
    next_tier_credit_percent: Decimal | None = None
    projected_credit_amount: Decimal | None = None
    credit_at_risk: Decimal | None = None
    deadlines: tuple[Deadline, ...] = ()
    # When these figures next change with time alone, in microseconds (None: only a new
    # event can change them): a pending incident passing its deadline, or any moment at
    # all while an outage without an end grows with the horizon.
    changes_at_us: int | None = None

    @property
    def next_response_deadline(self) -> datetime | None:
        return min((d.respond_by for d in self.deadlines), default=None)

    @property
    def downtime_left_text(self) -> str | None:
        return None if self.downtime_left_us is None else exact_seconds(self.downtime_left_us)

    def as_dict(self) -> dict[str, Any]:
        """The report row's fields of outputs.md "Additions"."""
        deadline = self.next_response_deadline
        return {
            "projected_availability_percent": _percent(self.projected_availability_percent),
            "budget_consumed_percent": _percent(self.budget_consumed_percent),
            "downtime_left_seconds": self.downtime_left_text,
            "next_tier_credit_percent": _text(self.next_tier_credit_percent),
            "projected_credit_amount": _text(self.projected_credit_amount),
            "credit_at_risk": _text(self.credit_at_risk),
            "next_response_deadline": None if deadline is None else format_utc(deadline),
        }

    def pending_incidents(self) -> list[dict[str, Any]]:
        """Each pending incident with its deadline, in the order judged."""
        return [d.as_dict() for d in self.deadlines]

    def derivation(self) -> dict[str, Any]:
        """How the figures follow from `M_end` and `D_end` (spec §8), for `explain`:
        every quantity exact, as the other derivations show them."""
        measured, downtime, budget = self.measured_end_us, self.downtime_end_us, self.budget_us
        return {
            "rule": "outages without an end end at the horizon; every other interval counts "
            "in full; measurement runs to the end of the covered window",
            "measured_end_seconds": None if measured is None else exact_seconds(measured),
            "downtime_end_seconds": None if downtime is None else exact_seconds(downtime),
            "budget_seconds": None if budget is None else exact_seconds(budget),
            "next_threshold_percent": _text(self.next_threshold_percent),
            "pending_incidents": self.pending_incidents(),
            **self.as_dict(),
        }


def _percent(value: Fraction | None) -> str | None:
    return None if value is None else str(round_half_even(value, 4))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# The fields a row without a projection (a closed row) reports, all null.
NO_EXPOSURE: dict[str, Any] = dict.fromkeys(Exposure().as_dict())
# Those fields' names, in the order a report row carries them.
FIELDS: tuple[str, ...] = tuple(NO_EXPOSURE)


def expose(
    row: Row,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
) -> Exposure:
    """The exposure of a provisional `row` computed at `horizon_us` from these subjects
    (the ones its figures were computed from)."""
    deadlines = row.response_deadlines
    terms = row.availability_terms  # none on a monthly row of a month measured yearly (§9)
    changes = [to_us(d.respond_by) + 1 for d in deadlines]
    if terms is None:
        return Exposure(deadlines=deadlines, changes_at_us=min(changes, default=None))
    assert cover.covered is not None
    if any(_growing(o, row, cover, horizon_us) for o in outages):
        changes.append(horizon_us + 1)
    if horizon_us >= cover.covered[1]:
        # Nothing is cut at the horizon any more: the projection is the row itself.
        measured, downtime = row.measured_us or 0, row.downtime_us or Fraction(0)
    else:
        measured, downtime = availability_figures(
            row, terms, cover, outages, maintenances, horizon_us, measured_to_us=cover.covered[1]
        )
    return replace(
        project(row, terms, measured, downtime, deadlines), changes_at_us=min(changes, default=None)
    )


def _growing(outage: OutageState, row: Row, cover: Coverage, horizon_us: int) -> bool:
    """Whether an outage of the row's service ends at the horizon inside the covered
    range, so the projection moves as time passes (excluded or not: excluded time moves
    the measured time)."""
    assert cover.covered is not None
    return (
        outage.end_us is None
        and outage.start_us is not None
        and outage.start_us < horizon_us < cover.covered[1]
        and outage.service_id == row.service.service_id
        and not outage.retracted
        and outage.names_customer(row.contract.customer_id)
    )


def project(
    row: Row,
    terms: AvailabilityTerms,
    measured_us: int,
    downtime_us: Fraction,
    deadlines: tuple[Deadline, ...] = (),
) -> Exposure:
    """§8's figures from `M_end` and `D_end`, with the row's other credits and fee.

    Each ratio is built as one fraction of integers (`D_end = n / d`), as the row's own
    availability is: a report of thousands of rows spent its time normalising the
    intermediate fractions of the textbook forms."""
    n, d = downtime_us.numerator, downtime_us.denominator
    scaled = measured_us * d  # M_end, over D_end's denominator
    projected = None if measured_us == 0 else Fraction(100 * (scaled - n), scaled)
    amount = _owed(row, tier_credit(projected, terms.credit_tiers))
    target = exact(terms.target_percent)
    # B = M_end × (100 − target) / 100; budget consumed = 100 × D_end / B.
    spare = 100 * target.denominator - target.numerator
    budget = Fraction(measured_us * spare, 100 * target.denominator)
    consumed = (
        None
        if measured_us * spare == 0
        else Fraction(100 * n * 100 * target.denominator, d * measured_us * spare)
    )
    tier = None if projected is None else next_tier(projected, terms.credit_tiers)
    if tier is None:
        return Exposure(
            measured_us,
            downtime_us,
            budget,
            projected,
            consumed,
            projected_credit_amount=amount,
            deadlines=deadlines,
        )
    bound = exact(tier.below_percent)
    # M_end × (100 − b) / 100 − D_end, over one denominator, truncated toward zero.
    allowed = measured_us * (100 * bound.denominator - bound.numerator) * d
    taken = 100 * bound.denominator * n
    whole = abs(allowed - taken) // (100 * bound.denominator * d)
    left = whole if allowed >= taken else -whole
    return Exposure(
        measured_end_us=measured_us,
        downtime_end_us=downtime_us,
        budget_us=budget,
        projected_availability_percent=projected,
        budget_consumed_percent=consumed,
        next_threshold_percent=tier.below_percent,
        downtime_left_us=left,
        next_tier_credit_percent=tier.credit_percent,
        projected_credit_amount=amount,
        credit_at_risk=_owed(row, tier.credit_percent) - amount,
        deadlines=deadlines,
    )


def next_tier(projected: Fraction, tiers: Sequence[CreditTier]) -> CreditTier | None:
    """The tier of the next threshold `b`: the greatest `below_percent` the projected
    availability is at or above; None when the row is in its worst tier already."""
    found = None
    for tier in tiers:  # sorted by below_percent, smallest first
        if not below(projected, exact(tier.below_percent)):
            found = tier
    return found


def _owed(row: Row, availability_credit: Decimal) -> Decimal:
    """§5's amount with this availability credit and the row's other credits (its
    current response and resolution credits, §8). §8 counts what the row would owe, as
    §5 says, whether or not a claim or a threshold (§10) will let it be paid: the row's
    `claim_status` beside these figures says that."""
    return credit_owed(row, row.credit_sum(availability_credit))[2]
