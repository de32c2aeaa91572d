"""One report row: attainment and credit for (contract, service, period).

A pure function of the folded subjects and the horizon (spec: sla-math §1-§5). Every
quantity is exact (integer microseconds, `Fraction` ratios); rounding happens once, at
the end, where the spec says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledger import intervals
from ledger.business_time import calendar_for
from ledger.contracts import (
    AvailabilityTerms,
    ContractState,
    CreditTier,
    ServiceTerms,
    TermsVersion,
)
from ledger.incidents import (
    NO_RESOLUTIONS,
    Deadline,
    IncidentState,
    ResponseFigures,
    belongs_to_row,
    judge,
    judge_resolution,
    tally,
    tally_resolutions,
)
from ledger.money import round_half_even, to_minor_unit
from ledger.outages import MaintenanceState, OutageState
from ledger.periods import Period, from_us, local_date_of, local_midnight_us, to_us
from ledger.row_key import RowKey
from ledger.timeformat import exact_seconds

if TYPE_CHECKING:
    # Loaded only to trace (`trace=True`, for explain): a report never builds one, and
    # the nine classes cost a reading command milliseconds to create at import.
    from ledger.claims import ClaimState, ClaimStatus
    from ledger.derivation import (
        AvailabilityTrace,
        DownRun,
        NotDown,
        OutageFate,
        ResolutionTrace,
        ResponseTrace,
        RowTrace,
        TierDecision,
    )
    from ledger.exposure import Exposure

HUNDRED = Fraction(100)
ZERO = Fraction(0)
NO_INCIDENTS = ResponseFigures(met=0, missed=0, pending=0, attainment_percent=None, changes_at=None)


@lru_cache(maxsize=4096)
def exact(value: Decimal) -> Fraction:
    """`Fraction(value)`, kept: the terms' few distinct percentages and fees are
    converted once, not once per row and tier."""
    return Fraction(value)


@dataclass(slots=True)
class Row:
    """Exact figures of one row; `as_dict` renders them as outputs.md says."""

    contract: ContractState
    terms: TermsVersion
    service: ServiceTerms
    period: Period
    window_us: int
    covered_us: int
    excluded_us: int | None = None
    measured_us: int | None = None
    downtime_us: Fraction | None = None
    availability_percent: Fraction | None = None
    availability_credit_percent: Decimal = Decimal(0)
    incidents_met: int | None = None
    incidents_missed: int | None = None
    incidents_pending: int | None = None
    response_attainment_percent: Fraction | None = None
    response_credit_percent: Decimal = Decimal(0)
    # Spec §11: null counts when the terms set no resolution targets.
    resolution_met: int | None = None
    resolution_missed: int | None = None
    resolution_pending: int | None = None
    resolution_attainment_percent: Fraction | None = None
    resolution_credit_percent: Decimal = Decimal(0)
    credit_percent: Decimal = Decimal(0)
    fee_basis_major: Fraction = Fraction(0)
    credit_amount_major: Decimal = Decimal(0)
    event_ids: set[str] = field(default_factory=set)
    status: str = "provisional"  # see row_status
    # When these figures change with time alone (a pending incident passing its target),
    # in microseconds; None: only a new event can change them.
    changes_at_us: int | None = None
    # How the figures were derived, step by step: recorded only when asked
    # (`compute_row(..., trace=True)`, what `explain` renders), never for a report.
    trace: RowTrace | None = None
    # Each pending incident's deadline and the missed incidents' ids (spec §8).
    response_deadlines: tuple[Deadline, ...] = ()
    missed_incidents: tuple[str, ...] = ()
    # Where a provisional row is heading (`ledger.exposure`); None for a closed row.
    exposure: Exposure | None = None
    # sla-math §10 (`ledger.claims`, set by `period_rows.settle`): the claim status
    # (None: no claim needed), the amount payable, the claim deadline (None: no claim
    # needed) and the claims naming the row.
    claim_status: ClaimStatus | None = None
    payable_amount_major: Decimal | None = None
    claim_deadline_us: int | None = None
    claims: tuple[ClaimState, ...] = ()

    @property
    def payable_major(self) -> Decimal:
        """The amount the row's entries sum to (§6 "Payable amount"): the credit amount
        until `settle` decided otherwise."""
        if self.payable_amount_major is None:
            return self.credit_amount_major
        return self.payable_amount_major

    def credit_sum(self, availability_credit: Decimal | None = None) -> Decimal:
        """The credits §5 sums before the cap (availability, response and §11's
        resolution credit); with `availability_credit`, that in place of the row's own
        (the projection of §8 keeps the row's current response and resolution credits)."""
        own = (
            self.availability_credit_percent if availability_credit is None else availability_credit
        )
        return own + self.response_credit_percent + self.resolution_credit_percent

    @property
    def key(self) -> RowKey:
        return RowKey(self.contract.contract_id, self.service.service_id, self.period.label)

    @property
    def availability_terms(self) -> AvailabilityTerms | None:
        """The availability terms this row measures: none on a monthly row of a month
        measured yearly (spec: sla-math §9), whose annual row measures them."""
        return measured_terms(self.service, self.period)

    def as_dict(self) -> dict[str, Any]:
        availability = self.availability_terms
        response = self.service.incident_response
        currency = self.contract.currency
        return {
            "contract_id": self.contract.contract_id,
            "customer_id": self.contract.customer_id,
            "service_id": self.service.service_id,
            "period": self.period.label,
            "status": self.status,
            "terms_version": self.terms.version,
            "currency": currency,
            "remedy": self.contract.remedy,
            "window_seconds": exact_seconds(self.window_us),
            "covered_seconds": exact_seconds(self.covered_us),
            "excluded_seconds": _seconds(self.excluded_us),
            "measured_seconds": _seconds(self.measured_us),
            "downtime_seconds": _seconds(self.downtime_us),
            "availability_percent": _percent(self.availability_percent),
            "availability_target_percent": None
            if availability is None
            else str(availability.target_percent),
            "availability_met": None
            if self.availability_percent is None or availability is None
            else meets_target(self.availability_percent, availability.target_percent),
            "availability_credit_percent": str(self.availability_credit_percent),
            "incidents_met": self.incidents_met,
            "incidents_missed": self.incidents_missed,
            "incidents_pending": self.incidents_pending,
            "response_attainment_percent": None
            if response is None
            else _percent(self.response_attainment_percent),
            "response_credit_percent": str(self.response_credit_percent),
            "resolution_met": self.resolution_met,
            "resolution_missed": self.resolution_missed,
            "resolution_pending": self.resolution_pending,
            "resolution_attainment_percent": None
            if response is None or response.resolution_targets is None
            else _percent(self.resolution_attainment_percent),
            "resolution_credit_percent": str(self.resolution_credit_percent),
            "credit_percent": str(self.credit_percent),
            "fee_basis": str(to_minor_unit(self.fee_basis_major, currency)),
            "credit_amount": str(self.credit_amount_major),
            "claim_status": self.claim_status,
            "payable_amount": str(self.payable_major),
            **self.exposure_fields(),
        }

    def exposure_fields(self) -> dict[str, Any]:
        """outputs.md "Additions": the exposure of a provisional row, nulls for a closed one."""
        from ledger.exposure import NO_EXPOSURE

        return NO_EXPOSURE if self.exposure is None else self.exposure.as_dict()


def measured_terms(service: ServiceTerms, period: Period) -> AvailabilityTerms | None:
    """`service`'s availability terms as a row of `period` measures them: a monthly row
    measures monthly terms only, an annual row yearly ones (spec: sla-math §9)."""
    terms = service.availability
    if terms is None or terms.yearly != period.is_year:
        return None
    return terms


def _seconds(microseconds: int | Fraction | None) -> str | None:
    return None if microseconds is None else exact_seconds(microseconds)


def _percent(value: Fraction | None) -> str | None:
    return None if value is None else str(round_half_even(value, 4))


def tier_index(value: Fraction | None, tiers: Sequence[CreditTier]) -> int | None:
    """The index of the tier with the smallest `below_percent` that the exact value is
    strictly under; None when none is (or there is no value).

    spec: sla-math §3, strict "below", decided on the exact value, not the rounded text.
    """
    if value is None:
        return None
    for index, tier in enumerate(tiers):  # sorted by below_percent, smallest first
        if below(value, exact(tier.below_percent)):
            return index
    return None


def credit_owed(row: Row, summed: Decimal) -> tuple[Decimal, Fraction, Decimal]:
    """§5 for `row` whose credits sum to `summed` percent: the credit percent (capped),
    the amount owed on its fee basis, exact, and that amount rounded once to the
    currency's minor unit. The report's amount and the exposure's projected and next-tier
    amounts are each this."""
    percent = min(summed, row.service.credit_cap_percent)
    owed = row.fee_basis_major * exact(percent) / HUNDRED if percent else ZERO
    return percent, owed, to_minor_unit(owed, row.contract.currency)


def tier_credit(value: Fraction | None, tiers: Sequence[CreditTier]) -> Decimal:
    """The credit percent of the tier `tier_index` chooses; 0 when none applies."""
    return _credit_of(tiers, tier_index(value, tiers))


def _credit_of(tiers: Sequence[CreditTier], chosen: int | None) -> Decimal:
    return Decimal(0) if chosen is None else tiers[chosen].credit_percent


def decided_tier(value: Fraction | None, tiers: Sequence[CreditTier]) -> TierDecision:
    """The tier decision as the derivation records it: the value, the tiers, the one
    chosen (`tier_index`) and its credit percent (`tier_credit`'s)."""
    from ledger.derivation import TierDecision

    chosen = tier_index(value, tiers)
    return TierDecision(value, tuple(tiers), chosen, _credit_of(tiers, chosen))


def meets_target(availability: Fraction, target_percent: Decimal) -> bool:
    """Whether availability met its target: at or above it, on the exact value."""
    return not below(availability, exact(target_percent))


def below(value: Fraction, bound: Fraction) -> bool:
    """`value < bound`, by cross-multiplying the integers (denominators are positive)."""
    return value.numerator * bound.denominator < bound.numerator * value.denominator


def row_status(closed_at: datetime | None) -> str:
    """A row is "closed" once its period is closed (whenever that was), "provisional" before."""
    return "provisional" if closed_at is None else "closed"


@dataclass(frozen=True, slots=True)
class YearlyMonth:
    """A month measured yearly for a service (spec: sla-math §9): its coverage and the
    service's terms in force that month (whose fee it contributes to the annual basis)."""

    period: Period
    cover: Coverage
    service: ServiceTerms


@dataclass(frozen=True, slots=True)
class Coverage:
    """A row's window and covered range: `covered` from its first to its last covered
    instant; `pieces`, when the coverage has gaps (an annual row whose months are not
    all measured yearly), its disjoint parts; `months`, an annual row's months."""

    window: tuple[int, int]
    covered: tuple[int, int] | None
    pieces: tuple[intervals.Interval, ...] = ()
    months: tuple[YearlyMonth, ...] = ()

    @property
    def parts(self) -> tuple[intervals.Interval, ...]:
        """The covered range as disjoint intervals."""
        if self.pieces:
            return self.pieces
        return () if self.covered is None else (self.covered,)

    @property
    def covered_us(self) -> int:
        return intervals.total(self.parts)

    def touches(self, span: tuple[int, int]) -> bool:
        """Whether a subject's time reaches into the covered range."""
        return any(_overlaps(span, part) for part in self.parts)

    def first_day(self, timezone: str) -> date:
        """The first covered local day in the contract's `timezone`: the day whose terms
        the row is computed under (spec: sla-math §1). Only for a row with coverage."""
        if self.covered is None:
            raise ValueError("a period without coverage has no first covered day")
        return local_date_of(self.covered[0], timezone)


def coverage(contract: ContractState, period: Period) -> Coverage:
    """`C = W ∩ [start of effective_from, start of effective_to)` (spec: sla-math §1): of
    a month, or of a whole year (the annual row's coverage is `annual_coverage`)."""
    window = period.window(contract.timezone)
    lo = max(window[0], local_midnight_us(contract.effective_from, contract.timezone))
    hi = window[1]
    if contract.effective_to is not None:
        hi = min(hi, local_midnight_us(contract.effective_to, contract.timezone))
    return Coverage(window, (lo, hi) if hi > lo else None)


def yearly_months(contract: ContractState, year: Period) -> dict[str, list[YearlyMonth]]:
    """The months of `year` measured yearly, per service: those whose terms in force
    (§1) say `"window": "year"` for it (spec: sla-math §9)."""
    found: dict[str, list[YearlyMonth]] = {}
    for month in year.months():
        cover = coverage(contract, month)
        terms = terms_in_force(contract, cover)
        if terms is None:
            continue
        for service in terms.services:
            if service.availability is not None and service.availability.yearly:
                found.setdefault(service.service_id, []).append(YearlyMonth(month, cover, service))
    return found


def annual_coverage(
    contract: ContractState, year: Period, months: Sequence[YearlyMonth]
) -> Coverage:
    """The annual row's coverage: the union of the covered parts of its months, in the
    window of the calendar year (spec: sla-math §9)."""
    pieces = intervals.normalise(m.cover.covered for m in months if m.cover.covered is not None)
    return Coverage(
        window=year.window(contract.timezone),
        covered=(pieces[0][0], pieces[-1][1]) if pieces else None,
        pieces=tuple(pieces),
        months=tuple(months),
    )


def row_coverage(contract: ContractState, period: Period, service_id: str) -> Coverage:
    """The coverage of one row: the month's, or the annual row's for `service_id`."""
    if not period.is_year:
        return coverage(contract, period)
    months = yearly_months(contract, period).get(service_id, [])
    return annual_coverage(contract, period, months)


def terms_in_force(contract: ContractState, cover: Coverage) -> TermsVersion | None:
    """The terms version a row is computed under: the one in force on its first covered
    local day (spec: sla-math §1); None without coverage or terms."""
    if cover.covered is None:
        return None
    return contract.terms_on(cover.first_day(contract.timezone))


def measured_range(cover: Coverage, horizon_us: int) -> list[intervals.Interval]:
    """The covered range, cut at the horizon when it falls inside (spec: §3)."""
    assert cover.covered is not None
    return intervals.clip(cover.parts, -(2**62), horizon_us)


def compute_rows(
    contract: ContractState,
    period: Period,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    incidents: Sequence[IncidentState],
    horizon_us: int,
) -> list[Row]:
    """Every row of one contract in one period: of a month, one per service in the terms
    in force; of a year, one per service with a month measured yearly (spec: §1, §9)."""
    return [
        compute_row(
            contract, terms, service, period, cover, outages, maintenances, incidents, horizon_us
        )
        for terms, service, cover in period_coverages(contract, period)
    ]


def period_coverages(
    contract: ContractState, period: Period
) -> list[tuple[TermsVersion, ServiceTerms, Coverage]]:
    """The rows `contract` has in `period`, each as its terms, service and coverage, by
    service id: a month's services in the terms in force; a year's services measured
    yearly in some month of it, each under the terms in force on its first covered day
    (spec: sla-math §9)."""
    if not period.is_year:
        cover = coverage(contract, period)
        terms = terms_in_force(contract, cover)
        return [] if terms is None else [(terms, s, cover) for s in terms.services]
    found = []
    for service_id, months in sorted(yearly_months(contract, period).items()):
        cover = annual_coverage(contract, period, months)
        terms = terms_in_force(contract, cover)
        assert terms is not None  # the terms of its first month, which name the service
        service = next(s for s in terms.services if s.service_id == service_id)
        found.append((terms, service, cover))
    return found


def compute_row(
    contract: ContractState,
    terms: TermsVersion,
    service: ServiceTerms,
    period: Period,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    incidents: Sequence[IncidentState],
    horizon_us: int,
    *,
    trace: bool = False,
) -> Row:
    """One row; with `trace`, `row.trace` records how each figure was derived."""
    assert cover.covered is not None
    window_start, window_end = cover.window
    covered_end = cover.covered[1]
    row = Row(
        contract=contract,
        terms=terms,
        service=service,
        period=period,
        window_us=window_end - window_start,
        covered_us=cover.covered_us,
    )
    row.event_ids.update(contract.event_ids)

    availability = response = resolution = None
    measured = row.availability_terms
    if measured is not None:
        availability = _availability(row, measured, cover, outages, maintenances, horizon_us, trace)
    # An annual row has availability figures only (§9): incidents stay on the months.
    if service.incident_response is not None and not period.is_year:
        response = _response(row, service, cover, incidents, horizon_us, trace)
        if service.incident_response.resolution_targets is not None:
            resolution = _resolution(row, service, cover, incidents, horizon_us, trace)

    # spec: sla-math §5, §9, with §11's resolution credit
    summed = row.credit_sum()
    row.fee_basis_major = annual_fee(cover) if period.is_year else fee_basis(service, cover)
    row.credit_percent, owed, row.credit_amount_major = credit_owed(row, summed)
    if trace:
        from ledger.derivation import MoneyTrace, RowTrace

        money = MoneyTrace(
            summed,
            service.credit_cap_percent,
            row.credit_percent,
            row.fee_basis_major,
            owed,
            row.credit_amount_major,
        )
        row.trace = RowTrace(
            tuple(measured_range(cover, horizon_us)), availability, response, money, resolution
        )
    if horizon_us < covered_end:
        # Measurement stops at the horizon inside the window (§3): until the window ends,
        # the figures change as time passes (an open outage grows, a short one passes
        # the downtime floor), with no event at all.
        moment = horizon_us + 1
        row.changes_at_us = moment if row.changes_at_us is None else min(row.changes_at_us, moment)
    return row


def fee_basis(service: ServiceTerms, cover: Coverage) -> Fraction:
    """`monthly_fee × |C| / |W|`, exact (spec: sla-math §5)."""
    fee = exact(service.monthly_fee_major)
    covered, window = cover.covered_us, cover.window[1] - cover.window[0]
    # A fully covered row's basis is the fee itself (the common case: no arithmetic).
    return fee if covered == window else fee * covered / window


def annual_fee(cover: Coverage) -> Fraction:
    """An annual row's basis: the sum over its months of `monthly_fee × |C_m| / |W_m|`,
    each month's fee from the terms in force that month (spec: sla-math §9), exact."""
    return sum((fee_basis(month.service, month.cover) for month in cover.months), ZERO)


def cause_excluded(outage: OutageState, terms: AvailabilityTerms) -> bool:
    """An outage whose latest cause is an excluded cause is excluded time, not
    downtime (spec: sla-math §2)."""
    return outage.cause is not None and outage.cause in terms.excluded_causes


def not_down(outage: OutageState, terms: AvailabilityTerms, customer_id: str) -> NotDown | None:
    """Why an outage of the row's service is not down time for `customer_id`, or None
    when it is: the one rule `_availability` applies and the trace records. An excluded
    cause is still excluded time; the other reasons leave the row untouched."""
    if not outage.names_customer(customer_id):
        return "other_customers"
    if outage.retracted:
        return "retracted"
    if cause_excluded(outage, terms):
        return "cause_excluded"
    return None


def _outage_fate(
    outage: OutageState,
    terms: AvailabilityTerms,
    customer_id: str,
    measured: Sequence[intervals.Interval],
    excluded_set: Sequence[intervals.Interval],
    horizon_us: int,
) -> OutageFate:
    """One outage's fate for the trace (never for a report)."""
    from ledger.derivation import OutageFate

    why = not_down(outage, terms, customer_id)
    found = outage.interval(horizon_us)
    clipped = [p for part in measured for p in intervals.clip([found], *part)] if found else []
    down = intervals.subtract(clipped, list(excluded_set)) if why is None else []
    return OutageFate(outage, why, found, tuple(clipped), tuple(down))


def notice_sufficient(window: MaintenanceState, terms: AvailabilityTerms) -> bool:
    """Whether a maintenance window was announced early enough to be excluded time
    (spec: sla-math §2); never when the terms set no notice."""
    required = terms.maintenance_notice_us
    notice = window.notice_us()
    return required is not None and notice is not None and notice >= required


def availability_figures(
    row: Row,
    terms: AvailabilityTerms,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
    *,
    measured_to_us: int,
) -> tuple[int, Fraction]:
    """`M` and `D` (§3) of `row`'s service with measurement cut at `measured_to_us`
    rather than at the horizon, an outage without an end still ending at the horizon:
    the projection of §8 passes the end of coverage. `row` itself is left untouched."""
    scratch = Row(row.contract, row.terms, row.service, row.period, row.window_us, row.covered_us)
    _availability(scratch, terms, cover, outages, maintenances, horizon_us, False, measured_to_us)
    assert scratch.measured_us is not None
    assert scratch.downtime_us is not None
    return scratch.measured_us, scratch.downtime_us


def _availability(
    row: Row,
    terms: AvailabilityTerms,
    cover: Coverage,
    outages: Sequence[OutageState],
    maintenances: Sequence[MaintenanceState],
    horizon_us: int,
    trace: bool,
    measured_to_us: int | None = None,
) -> AvailabilityTrace | None:
    assert cover.covered is not None
    if trace:
        from ledger.derivation import AvailabilityTrace, ExcludedTime
    customer, service_id = row.contract.customer_id, row.service.service_id
    measured = measured_range(cover, horizon_us if measured_to_us is None else measured_to_us)

    excluded: list[tuple[int, int]] = []
    sources: list[ExcludedTime] = []
    if terms.maintenance_notice_us is not None:
        for window in maintenances:
            if not window.applies_to(service_id, customer):
                continue
            if window.start_us is None or window.end_us is None:
                continue
            if not cover.touches((window.start_us, window.end_us)):
                continue
            row.event_ids.update(window.event_ids)
            if notice_sufficient(window, terms):
                excluded.append((window.start_us, window.end_us))
                if trace:
                    sources.append(ExcludedTime(window.start_us, window.end_us, maintenance=window))

    # Weighted by `impact_percent` itself; `_downtime` divides by 100 once at the end.
    pieces: list[tuple[int, int, Decimal]] = []
    down: list[tuple[OutageState, intervals.Interval]] = []
    for outage in outages:
        if outage.service_id != service_id or outage.start_us is None:
            continue
        why = not_down(outage, terms, customer)
        if why == "other_customers" or why == "retracted":
            continue
        span = outage.interval(horizon_us)
        if span is None or not cover.touches(span):
            continue
        row.event_ids.update(outage.event_ids)
        if why == "cause_excluded":
            excluded.append(span)
            if trace:
                sources.append(ExcludedTime(span[0], span[1], outage=outage))
        else:
            pieces.append((span[0], span[1], outage.impact_percent))
            if trace:
                down.append((outage, span))

    excluded_set: list[intervals.Interval] = []
    if excluded:
        merged = intervals.normalise(excluded)
        excluded_set = [piece for part in cover.parts for piece in intervals.clip(merged, *part)]
        region = intervals.subtract(measured, excluded_set)
    else:
        region = measured
    runs: list[DownRun] | None = [] if trace else None
    downtime = (
        _downtime(pieces, region, terms.min_downtime_us, runs, down) if pieces else Fraction(0)
    )

    row.measured_us = intervals.total(region)
    row.excluded_us = intervals.total(measured) - row.measured_us
    row.downtime_us = downtime
    if row.measured_us > 0:
        # 100 × (M − D) / M, as one exact fraction of integers.
        scaled = row.measured_us * downtime.denominator
        row.availability_percent = Fraction(100 * (scaled - downtime.numerator), scaled)
    row.availability_credit_percent = tier_credit(row.availability_percent, terms.credit_tiers)
    if runs is None:  # not asked to trace
        return None
    tier = decided_tier(row.availability_percent, terms.credit_tiers)
    return AvailabilityTrace(
        measured_range=tuple(measured),
        exclusions=tuple(sources),
        excluded_set=tuple(excluded_set),
        region=tuple(region),
        down=tuple(down),
        outages=tuple(
            _outage_fate(outage, terms, customer, measured, excluded_set, horizon_us)
            for outage in outages
            if outage.service_id == service_id and outage.start_us is not None
        ),
        runs=tuple(runs),
        measured_us=row.measured_us,
        excluded_us=row.excluded_us,
        downtime_us=downtime,
        availability_percent=row.availability_percent,
        tier=tier,
    )


def _downtime(
    pieces: Sequence[tuple[int, int, Decimal]],
    region: list[intervals.Interval],
    floor_us: int,
    runs: list[DownRun] | None = None,
    down: Sequence[tuple[OutageState, intervals.Interval]] = (),
) -> Fraction:
    """`D`: the integral of `w = impact_percent / 100` over the maximal down intervals
    of `region` not dropped by the floor (spec: sla-math §3).

    The sweep runs on the exact `impact_percent` values (the maximum and the runs are
    the same as on `impact / 100`); integer lengths are summed per impact, and the sum
    of `impact × length` is divided by 100 once. The same exact fraction as summing
    `length × impact / 100` segment by segment.

    With `runs`, each maximal down interval is appended to it as the floor decided it,
    each segment with the outages of `down` that set its weight.
    """
    length_by_impact: dict[Decimal, int] = {}
    segments = intervals.intersect_weighted(intervals.max_weight_segments(pieces), region)
    for run in intervals.maximal_runs(segments):
        kept = above_floor(run, floor_us)
        if runs is not None:
            from ledger.derivation import DownRun, DownSegment

            weighted = sum(((e - s) * exact(w) for s, e, w in run), ZERO) / HUNDRED
            parts = tuple(DownSegment(s, e, w, _setting(s, e, w, down)) for s, e, w in run)
            runs.append(DownRun(parts, kept, weighted if kept else ZERO))
        if not kept:
            continue
        for start, end, impact in run:
            length_by_impact[impact] = length_by_impact.get(impact, 0) + (end - start)
    # Σ length × impact / 100 over a common denominator, as one fraction of integers.
    impacts = [(exact(impact), length) for impact, length in length_by_impact.items()]
    common = math.lcm(*(impact.denominator for impact, _ in impacts))
    numerator = sum(
        length * impact.numerator * (common // impact.denominator) for impact, length in impacts
    )
    return Fraction(numerator, 100 * common)


def _setting(
    start: int,
    end: int,
    impact: Decimal,
    down: Sequence[tuple[OutageState, intervals.Interval]],
) -> tuple[OutageState, ...]:
    """The outages that set a segment's weight: those down then at its impact, the
    highest (spec §3)."""
    return tuple(
        outage
        for outage, (o_start, o_end) in down
        if o_start < end and o_end > start and outage.impact_percent == impact
    )


def above_floor(run: Sequence[tuple[int, int, object]], floor_us: int) -> bool:
    """Whether a maximal down interval counts: spec §3, down intervals shorter than
    `min_downtime_seconds` are dropped. The one place this rule is decided (`explain`
    shows each interval's fate and each outage's from it)."""
    return run[-1][1] - run[0][0] >= floor_us


def _overlaps(span: tuple[int, int], covered: tuple[int, int]) -> bool:
    """Whether a subject's time reaches into the covered range: only then is it one of
    the events a row is computed from (its basis names exactly these, whatever else a
    store happened to read)."""
    return span[0] < covered[1] and span[1] > covered[0]


def _row_incidents(
    row: Row, service: ServiceTerms, cover: Coverage, incidents: Sequence[IncidentState]
) -> list[IncidentState]:
    """The incidents of a row (spec §4): its contract's and service's, opened in its window;
    §11 judges the same ones."""
    contract_id, service_id = row.contract.contract_id, service.service_id
    return [i for i in incidents if belongs_to_row(i, contract_id, service_id, cover.window)]


def _response(
    row: Row,
    service: ServiceTerms,
    cover: Coverage,
    incidents: Sequence[IncidentState],
    horizon_us: int,
    trace: bool,
) -> ResponseTrace | None:
    terms = service.incident_response
    assert terms is not None
    mine = _row_incidents(row, service, cover, incidents)
    for incident in mine:
        row.event_ids.update(incident.event_ids)
    calendar = calendar_for(row.contract.timezone, terms.business_hours)
    horizon = from_us(horizon_us)
    judgements = [
        j for j in (judge(i, terms.targets, calendar, horizon) for i in mine) if j is not None
    ]
    # No incident (most rows): what `tally` gives for none, without the tally.
    figures = tally(judgements, calendar) if judgements else NO_INCIDENTS
    row.incidents_met = figures.met
    row.incidents_missed = figures.missed
    row.incidents_pending = figures.pending
    row.response_attainment_percent = figures.attainment_percent
    row.response_deadlines = figures.deadlines
    row.missed_incidents = figures.missed_ids
    if figures.changes_at is not None:
        row.changes_at_us = to_us(figures.changes_at)
    row.response_credit_percent = tier_credit(figures.attainment_percent, terms.credit_tiers)
    if not trace:
        return None
    from ledger.derivation import ResponseTrace

    tier = decided_tier(figures.attainment_percent, terms.credit_tiers)
    return ResponseTrace(tuple(judgements), figures, tier)


def _resolution(
    row: Row,
    service: ServiceTerms,
    cover: Coverage,
    incidents: Sequence[IncidentState],
    horizon_us: int,
    trace: bool,
) -> ResolutionTrace | None:
    """Spec §11 for the row's incidents (the same ones §4 judges: `belongs_to_row`)."""
    terms = service.incident_response
    assert terms is not None
    assert terms.resolution_targets is not None
    mine = _row_incidents(row, service, cover, incidents)
    calendar = calendar_for(row.contract.timezone, terms.business_hours)
    horizon = from_us(horizon_us)
    judgements = [
        j
        for j in (judge_resolution(i, terms.resolution_targets, calendar, horizon) for i in mine)
        if j is not None
    ]
    figures = tally_resolutions(judgements, calendar) if judgements else NO_RESOLUTIONS
    row.resolution_met = figures.met
    row.resolution_missed = figures.missed
    row.resolution_pending = figures.pending
    row.resolution_attainment_percent = figures.attainment_percent
    if figures.changes_at is not None:
        # An unresolved incident passing its resolution target changes the row with no
        # new event: reconciliation and alerting look again then.
        moment = to_us(figures.changes_at)
        row.changes_at_us = moment if row.changes_at_us is None else min(row.changes_at_us, moment)
    row.resolution_credit_percent = tier_credit(
        figures.attainment_percent, terms.resolution_credit_tiers
    )
    if not trace:
        return None
    from ledger.derivation import ResolutionTrace

    tier = decided_tier(figures.attainment_percent, terms.resolution_credit_tiers)
    return ResolutionTrace(tuple(judgements), figures, tier)
