"""What a billing system needs to book a credit entry, derived from the entry.

Every field here is a function of the entry's stored, chained fields, computed when the
entry is printed or published, never stored: entries recorded before these fields
existed show every one of them, no chain digest, record encoding or rebuilt entry
changes, and a page of entries costs no row recomputation.

The memo also states the measured figures behind the credit ("Availability 99.41% below
99.9% target, crm, March 2026: 10% of 1,200.00 AUD"). Those come from the entry's basis
document, which the ledger stores beside the entry when it records it and which counts
only when it hashes to the entry's chained `basis_sha256` (`ledger.entry_bases`): the
entry's `memo_figures`. Where there are none (an entry recorded before bases were
stored, a reversal of a row that no longer exists, an edited basis), the memo says what
the entry alone says: "SLA credit of 10% for crm, March 2026: 1,200.00 AUD as a credit
note". The service period is the contract's calendar month as RFC 3339 dates
(`service_period_end` exclusive), in the contract's own timezone, which the entry does
not carry.

The memo is exact text (decimal strings, no floats) and the same for the same entry and
stored basis every time. A reversal's memo names the entry it reverses and describes
that entry's figures (a reversal carries its percent and, negated, its amount); a
re-issue (an issue of revision 2 or later) says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.currencies import minor_units
from ledger.periods import Period

if TYPE_CHECKING:
    from ledger.credits import CreditEntry

REASON_CODE = "sla_credit"
# The contract's `remedy` as finance books it: a credit note on a future invoice, or cash.
REMEDY_TYPES = {"credit": "credit_note", "cash": "cash"}
# Spelled out, not `calendar.month_name`, which follows the process's locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def amount_minor(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's minor units (an entry's amount is already rounded to
    them, so this is exact; anything else is refused rather than rounded again)."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def memo(entry: CreditEntry) -> str:
    """E.g. "Availability 99.41% below 99.9% target, crm, March 2026: 10% of 1,200.00
    AUD"; without figures, "SLA credit of 10% for crm, March 2026: 1,200.00 AUD as a
    credit note"."""
    period = Period.from_label(entry.period)
    # An annual row (sla-math §9) is named by its year: "crm, year 2026".
    month = (
        f"year {period.year}" if period.is_year else f"{_MONTHS[period.month - 1]} {period.year}"
    )
    figures = entry.memo_figures
    measured = None if figures is None else _measured(figures, entry.service_id, month)
    text = measured
    if text is None:
        amount = _money(abs(entry.amount_major), entry.currency)
        remedy = "a credit note" if entry.remedy == "credit" else entry.remedy
        text = (
            f"SLA credit of {entry.credit_percent}% for {entry.service_id}, "
            f"{month}: {amount} as {remedy}"
        )
    if entry.supersedes is not None:
        return f"Reversal of {entry.supersedes}: {text}"
    if entry.revision > 1 and measured is not None:
        return f"Re-issue (revision {entry.revision}): {text}"
    return text


def _measured(figures: Mapping[str, Any], service_id: str, month: str) -> str | None:
    """The memo from a basis row's figures (its names as in basis version 1, and §11's
    resolution fields where a later version lists them); None when
    they name no credit to explain (then the entry's own wording is used)."""
    try:
        by_availability = Decimal(figures["availability_credit_percent"]) > 0
        by_response = Decimal(figures["response_credit_percent"]) > 0
        # sla-math §11; a basis without resolution fields (version 1) names none.
        by_resolution = Decimal(figures.get("resolution_credit_percent") or 0) > 0
        credit = _percent(figures["credit_percent"])
        fee = _money(Decimal(figures["fee_basis"]), figures["currency"])
        if by_availability:
            measured = (
                f"Availability {_percent(figures['availability_percent'])}% below "
                f"{_percent(figures['availability_target_percent'])}% target"
            )
            if by_response:
                missed = int(figures["incidents_missed"])
                responses = "incident response" if missed == 1 else "incident responses"
                measured += f" and {missed} {responses} missed"
        elif by_response:
            measured = (
                f"Incident response {_percent(figures['response_attainment_percent'])}% of "
                f"incidents answered in time ({int(figures['incidents_missed'])} missed)"
            )
        elif by_resolution:
            measured = (
                f"Incident resolution {_percent(figures['resolution_attainment_percent'])}% "
                f"of incidents resolved in time ({int(figures['resolution_missed'])} missed)"
            )
        else:
            return None
        if by_resolution and (by_availability or by_response):
            missed = int(figures["resolution_missed"])
            measured += f" and {missed} incident resolution{'' if missed == 1 else 's'} missed"
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    return f"{measured}, {service_id}, {month}: {credit}% of {fee}"


def _percent(text: str) -> str:
    """A percent's exact decimal text without trailing zeros ("99.4100" -> "99.41")."""
    if "." not in text:
        return text
    return text.rstrip("0").rstrip(".")


def _money(amount: Decimal, currency: str) -> str:
    """E.g. "1,200.00 AUD": the currency's minor units, thousands separated (an amount
    with finer digits keeps them rather than being rounded)."""
    places = Decimal(1).scaleb(-minor_units(currency))
    shown = amount.quantize(places) if amount == amount.quantize(places) else amount
    return f"{shown:,} {currency}"


def booking_fields(entry: CreditEntry) -> dict[str, Any]:
    """The booking fields `CreditEntry.as_dict` adds after the entry's stored ones."""
    period = Period.from_label(entry.period)
    return {
        "amount_minor": amount_minor(entry.amount_major, entry.currency),
        "service_period_start": period.first_day.isoformat(),
        "service_period_end": period.next().first_day.isoformat(),
        "remedy_type": REMEDY_TYPES.get(entry.remedy, entry.remedy),
        "reason_code": REASON_CODE,
        "memo": memo(entry),
        "idempotency_key": entry.entry_id,
    }
