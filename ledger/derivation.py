"""The derivation of one report row, as the row computation recorded it.

`compute_row(..., trace=True)` fills these as it computes the row: each step's inputs,
decisions and results, each fact with the subjects (and so the event ids) it came from.
`explain` (`projections.queries.explain`) only renders them; it never computes a
figure or takes a decision of its own, so what `explain` shows is what `report`
computed, by construction.

Facts hold exact values (integer microseconds, `Fraction`, `Decimal`) and the folded
subjects themselves; wording belongs to whoever renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from ledger.contracts import CreditTier
from ledger.incidents import Judgement, ResolutionFigures, ResolutionJudgement, ResponseFigures
from ledger.intervals import Interval
from ledger.outages import MaintenanceState, OutageState


@dataclass(frozen=True, slots=True)
class TierDecision:
    """Which credit tier applied to `value` (spec §3: strict "below", exact value).

    `chosen` indexes `tiers` (sorted by `below_percent`, smallest first); None when no
    tier applies, or there is no value at all.
    """

    value_percent: Fraction | None
    tiers: tuple[CreditTier, ...]
    chosen: int | None
    credit_percent: Decimal


@dataclass(frozen=True, slots=True)
class ExcludedTime:
    """One source of excluded time: a maintenance window announced with enough notice,
    or an outage whose cause the terms exclude (spec §2). `start`/`end` unclipped."""

    start_us: int
    end_us: int
    maintenance: MaintenanceState | None = None
    outage: OutageState | None = None

    @property
    def subject_id(self) -> str:
        if self.maintenance is not None:
            return self.maintenance.maintenance_id
        assert self.outage is not None
        return self.outage.outage_id


@dataclass(frozen=True, slots=True)
class DownSegment:
    """A stretch of a down interval at one weight: the highest `impact_percent` of the
    outages down then (spec §3), and the outages that set it."""

    start_us: int
    end_us: int
    impact_percent: Decimal
    outages: tuple[OutageState, ...]

    @property
    def weight(self) -> Fraction:
        return Fraction(self.impact_percent) / 100


@dataclass(frozen=True, slots=True)
class DownRun:
    """A maximal down interval, whether the floor kept it, and the downtime it adds
    (zero when dropped)."""

    segments: tuple[DownSegment, ...]
    kept: bool
    downtime_us: Fraction

    @property
    def start(self) -> int:
        return self.segments[0].start_us

    @property
    def end(self) -> int:
        return self.segments[-1].end_us


# Why an outage of the row's service is not down time: it names other customers only,
# it was retracted, or its cause is an excluded one (its time is excluded time then).
NotDown = Literal["other_customers", "retracted", "cause_excluded"]


@dataclass(frozen=True, slots=True)
class OutageFate:
    """How the computation took one outage of the row's service (spec §2-§3).

    `not_down` is None when its time counts as down time. `interval` is its `[start,
    end)` (an ongoing one ending at the horizon; None if empty), `clipped` that within
    the measured range, `down` what of `clipped` lies outside the excluded set (none
    unless it counts): the floor then keeps or drops it with its down interval.
    """

    outage: OutageState
    not_down: NotDown | None
    interval: Interval | None
    clipped: tuple[Interval, ...]
    down: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class AvailabilityTrace:
    """Spec §2-§3: what was excluded and measured, the down intervals, the figure."""

    measured_range: tuple[Interval, ...]
    # Maintenance windows first, then outages with an excluded cause, in input order.
    exclusions: tuple[ExcludedTime, ...]
    excluded_set: tuple[Interval, ...]  # their union, clipped to the covered range
    region: tuple[Interval, ...]  # the measured range less the excluded set
    # The outages that count as down time, with their (unclipped) spans.
    down: tuple[tuple[OutageState, Interval], ...]
    # Every outage of the service that has a start, in input order, with its fate.
    outages: tuple[OutageFate, ...]
    runs: tuple[DownRun, ...]
    measured_us: int
    excluded_us: int
    downtime_us: Fraction
    availability_percent: Fraction | None
    tier: TierDecision


@dataclass(frozen=True, slots=True)
class ResponseTrace:
    """Spec §4: the row's incidents as judged (input order), their tally, the tier."""

    judgements: tuple[Judgement, ...]
    figures: ResponseFigures
    tier: TierDecision


@dataclass(frozen=True, slots=True)
class ResolutionTrace:
    """Spec §11: the row's incidents as judged for resolution (input order), each with
    its paused intervals and the business time they removed; the tally; the tier."""

    judgements: tuple[ResolutionJudgement, ...]
    figures: ResolutionFigures
    tier: TierDecision


@dataclass(frozen=True, slots=True)
class MoneyTrace:
    """Spec §5: credit percent and its cap, the fee basis, and the one rounding."""

    summed_percent: Decimal
    cap_percent: Decimal
    credit_percent: Decimal
    fee_basis_major: Fraction
    owed_major: Fraction  # unrounded credit amount
    credit_amount_major: Decimal  # rounded half-up to the currency's minor unit


@dataclass(frozen=True, slots=True)
class RowTrace:
    measured_range: tuple[Interval, ...]  # the covered range cut at the horizon (§3)
    availability: AvailabilityTrace | None
    response: ResponseTrace | None
    money: MoneyTrace
    resolution: ResolutionTrace | None = None  # None: the terms set no resolution targets
