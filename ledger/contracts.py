"""Contracts and their terms versions, folded from contract events (spec: sla-math §1).

Within one contract, events apply in `occurred_at` order, ties broken by `event_id`, so
the state never depends on arrival order. `contract.signed` defines version 1 (when a
producer re-sends a different signing, the latest one defines it); each amendment is a
new version, numbered 2, 3, ... in `occurred_at` order (ties: `event_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar, cast

from ledger.events import InboundEvent
from ledger.timeformat import parse_date, parse_duration, to_microseconds
from ledger.value_keys import value_key


@dataclass(frozen=True, slots=True)
class CreditTier:
    below_percent: Decimal
    credit_percent: Decimal


@dataclass(frozen=True, slots=True)
class AvailabilityTerms:
    target_percent: Decimal
    credit_tiers: tuple[CreditTier, ...]  # sorted by below_percent, smallest first
    excluded_causes: frozenset[str]
    maintenance_notice_us: int | None  # None: maintenance is never excluded
    min_downtime_us: int
    # "month" or "year": the window availability is measured over (sla-math §9).
    window: str = "month"

    @property
    def yearly(self) -> bool:
        return self.window == "year"


@dataclass(frozen=True, slots=True)
class ResponseTerms:
    targets: Mapping[str, timedelta]
    business_hours: Any  # "24x7" or {"weekly": ..., "holidays": [...]}
    credit_tiers: tuple[CreditTier, ...]
    # Spec §11: None when the terms set no resolution targets (nothing is measured for
    # resolution); a priority without a target is not measured either.
    resolution_targets: Mapping[str, timedelta] | None = None
    resolution_credit_tiers: tuple[CreditTier, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    service_id: str
    monthly_fee_major: Decimal
    availability: AvailabilityTerms | None
    incident_response: ResponseTerms | None
    credit_cap_percent: Decimal
    # sla-math §10: None: credits need no claim / are paid whatever their size.
    claim_deadline_days: int | None = None
    credit_threshold_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TermsVersion:
    version: int
    effective_from: date
    occurred_at: datetime
    event_id: str
    services: tuple[ServiceTerms, ...]  # sorted by service_id


@dataclass(frozen=True, slots=True)
class ContractState:
    contract_id: str
    customer_id: str
    customer_name: str
    currency: str
    timezone: str
    remedy: str
    effective_from: date
    effective_to: date | None  # exclusive; the latest termination overrides
    versions: tuple[TermsVersion, ...]
    event_ids: tuple[str, ...]

    def terms_on(self, day: date) -> TermsVersion | None:
        """The version with the greatest `effective_from <= day`.

        Ties: later `occurred_at`, then greater `event_id` (spec: sla-math §1).
        """
        candidates = [v for v in self.versions if v.effective_from <= day]
        if not candidates:
            return None
        return max(candidates, key=lambda v: (v.effective_from, v.occurred_at, v.event_id))


def tiers(raw: Iterable[Mapping[str, str]]) -> tuple[CreditTier, ...]:
    parsed = [CreditTier(Decimal(t["below_percent"]), Decimal(t["credit_percent"])) for t in raw]
    return tuple(sorted(parsed, key=lambda t: t.below_percent))


def _service_terms(raw: Mapping[str, Any]) -> ServiceTerms:
    availability = raw.get("availability")
    response = raw.get("incident_response")
    return ServiceTerms(
        service_id=raw["service_id"],
        monthly_fee_major=Decimal(raw["monthly_fee"]),
        availability=None if availability is None else _kept(_availability_terms, availability),
        incident_response=None if response is None else _kept(_response_terms, response),
        credit_cap_percent=Decimal(raw.get("credit_cap_percent") or "100"),
        claim_deadline_days=raw.get("claim_deadline_days"),
        credit_threshold_amount=None
        if raw.get("credit_threshold_amount") is None
        else Decimal(raw["credit_threshold_amount"]),
    )


def _availability_terms(availability: Mapping[str, Any]) -> AvailabilityTerms:
    return AvailabilityTerms(
        target_percent=Decimal(availability["target_percent"]),
        credit_tiers=tiers(availability["credit_tiers"]),
        excluded_causes=frozenset(availability.get("excluded_causes") or ()),
        maintenance_notice_us=None
        if availability.get("maintenance_notice") is None
        else to_microseconds(parse_duration(availability["maintenance_notice"])),
        min_downtime_us=int(availability.get("min_downtime_seconds") or 0) * 1_000_000,
        window=availability.get("window") or "month",
    )


def _response_terms(response: Mapping[str, Any]) -> ResponseTerms:
    return ResponseTerms(
        targets={p: parse_duration(d) for p, d in response["targets"].items()},
        business_hours=response["business_hours"],
        credit_tiers=tiers(response["credit_tiers"]),
        resolution_targets=None
        if response.get("resolution_targets") is None
        else {p: parse_duration(d) for p, d in response["resolution_targets"].items()},
        resolution_credit_tiers=tiers(response.get("resolution_credit_tiers") or ()),
    )


T = TypeVar("T")
_KEPT: dict[tuple[Callable[..., Any], bytes | str], Any] = {}
_KEPT_AT_MOST: Final = 4096


def _kept(parse: Callable[[Mapping[str, Any]], T], raw: Mapping[str, Any]) -> T:
    """`parse(raw)`, once per distinct `raw`: most contracts repeat a few sets of terms,
    and folding every contract of a report parsed each again. The parsed terms are
    never changed, so sharing them is safe; the key is `value_key(raw)`, which tells any
    two parsed JSON values apart. What `parse` refuses raises each time and is not kept."""
    key = (parse, value_key(raw))
    found = _KEPT.get(key)
    if found is None:
        found = parse(raw)
        if len(_KEPT) >= _KEPT_AT_MOST:
            _KEPT.clear()
        _KEPT[key] = found
    return cast(T, found)


def _version(number: int, event: InboundEvent) -> TermsVersion:
    return TermsVersion(
        version=number,
        effective_from=parse_date(event.payload["effective_from"]),
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        services=tuple(
            sorted(
                (_service_terms(s) for s in event.payload["services"]), key=lambda s: s.service_id
            )
        ),
    )


def fold_contract(events: Iterable[InboundEvent]) -> ContractState | None:
    """The contract as its events say, or None while no `contract.signed` is known."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    signed = [e for e in ordered if e.type == "contract.signed"]
    if not signed:
        return None
    signing = signed[-1]
    amendments = [e for e in ordered if e.type == "contract.amended"]
    terminations = [e for e in ordered if e.type == "contract.terminated"]
    p = signing.payload
    effective_to = p.get("effective_to")
    if terminations:
        effective_to = terminations[-1].payload["effective_to"]
    versions = [_version(1, signing)]
    versions += [_version(n, e) for n, e in enumerate(amendments, start=2)]
    return ContractState(
        contract_id=p["contract_id"],
        customer_id=p["customer_id"],
        customer_name=p.get("customer_name", ""),
        currency=p["currency"],
        timezone=p.get("timezone") or "UTC",
        remedy=p["remedy"],
        effective_from=parse_date(p["effective_from"]),
        effective_to=None if effective_to is None else parse_date(effective_to),
        versions=tuple(versions),
        event_ids=tuple(sorted(e.event_id for e in ordered)),
    )
