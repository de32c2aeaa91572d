"""Alerts: the early warnings the ledger raises once each (spec: sla-math §8).

An alert is a record, not a derived figure: raised once, when a provisional row is first
seen to meet its condition after an intake or on a periodic check, then kept (chained,
append-only) whatever later corrections do to the row. Its id is deterministic, so
observing the same condition again, in any process, names the same alert.

Pure: which conditions a row meets (`conditions`) and what the record holds (`Alert`).
Recording them is `projections.alerting`'s job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from ledger.chain import FIELDS as CHAINED
from ledger.credits import ENTRY_NAMESPACE, format_utc_micro
from ledger.money import round_half_even
from ledger.timeformat import decimal_text

if TYPE_CHECKING:
    from ledger.attainment import Row

AlertKind = Literal["availability.budget", "availability.tier", "response.missed"]
KINDS: tuple[AlertKind, ...] = ("availability.budget", "availability.tier", "response.missed")

# spec §8: budget alerts at these percentages of the error budget consumed.
BUDGET_THRESHOLDS: tuple[Decimal, ...] = (Decimal(50), Decimal(75), Decimal(90), Decimal(100))

# What `observed` holds for a missed incident: the condition itself (the business time
# it took grows with the horizon, so a number would depend on when the check ran).
MISSED = "missed"


def normalised_threshold(threshold: Decimal | str) -> str:
    """A threshold as the id hashes it: a decimal without exponent or trailing zeros
    (`99.90` and `99.9` are one threshold), an incident id as it is."""
    if isinstance(threshold, Decimal):
        return decimal_text(threshold)
    return threshold


def alert_id(
    contract_id: str, service_id: str, period: str, kind: str, threshold: Decimal | str
) -> str:
    """uuid5, in the namespace of entry ids, of
    `alert|contract_id|service_id|period|kind|threshold` (spec §8)."""
    name = "|".join(
        ("alert", contract_id, service_id, period, kind, normalised_threshold(threshold))
    )
    return str(uuid.uuid5(ENTRY_NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class Alert:
    """One raised alert, as recorded (and chained) and as `alerts` lists it."""

    alert_id: str
    kind: str
    threshold: str
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    observed: str
    # The row's exposure when the alert was raised (None where the row had none).
    downtime_left_seconds: str | None
    credit_at_risk: str | None
    currency: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """As `alerts` lists it (and its CloudEvent carries it): every field, in `FIELDS`
        order, its record time in UTC to the microsecond."""
        listed = {name: getattr(self, name) for name in FIELDS}
        listed["recorded_at"] = format_utc_micro(self.recorded_at)
        return listed


# An alert's fields in the order it is listed (`alerts` and its CSV columns): the fields
# it is chained with (`chain.FIELDS`, frozen there), its record time as a moment rather
# than microseconds. The record holds each, once.
FIELDS: tuple[str, ...] = tuple(
    "recorded_at" if name == "recorded_us" else name for name in CHAINED["alert"]
)
assert tuple(field.name for field in fields(Alert)) == FIELDS


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition a row meets now: what an alert would record, less its record time."""

    kind: AlertKind
    threshold: str
    observed: str

    def alert(self, row: Row, recorded_at: datetime) -> Alert:
        key = row.key
        exposure = row.exposure
        return Alert(
            alert_id=alert_id(
                key.contract_id, key.service_id, key.period, self.kind, self.threshold
            ),
            kind=self.kind,
            threshold=self.threshold,
            contract_id=key.contract_id,
            customer_id=row.contract.customer_id,
            service_id=key.service_id,
            period=key.period,
            observed=self.observed,
            downtime_left_seconds=None if exposure is None else exposure.downtime_left_text,
            credit_at_risk=None
            if exposure is None or exposure.credit_at_risk is None
            else str(exposure.credit_at_risk),
            currency=row.contract.currency,
            recorded_at=recorded_at,
        )


def conditions(row: Row) -> Iterator[Condition]:
    """Every alert condition a provisional row meets now (spec §8); none for a closed row."""
    if row.status != "provisional":
        return
    exposure = row.exposure
    availability = row.availability_terms
    if exposure is not None and availability is not None:
        consumed = exposure.budget_consumed_percent
        if consumed is not None:
            shown = str(round_half_even(consumed, 4))
            for threshold in BUDGET_THRESHOLDS:
                if consumed >= Fraction(threshold):
                    yield Condition("availability.budget", decimal_text(threshold), shown)
        projected = exposure.projected_availability_percent
        if projected is not None:
            shown = str(round_half_even(projected, 4))
            for tier in availability.credit_tiers:
                if projected < Fraction(tier.below_percent):
                    yield Condition("availability.tier", decimal_text(tier.below_percent), shown)
    for incident_id in row.missed_incidents:
        yield Condition("response.missed", incident_id, MISSED)
