"""What a billing system needs to book a credit entry, derived from the entry alone.

Every field here is a pure function of the entry's stored, chained fields, computed
when the entry is printed or published, never stored. That choice keeps three promises
at once: entries recorded before these fields existed show every one of them; no chain
digest, record encoding or rebuilt entry changes (a stored field would make a rebuild's
entries differ from the old ones it is compared with); and a page of entries costs no
row recomputation and no read beyond the entries themselves.

Its price is what the entry does not hold: the memo names the credit percent, the
amount, the service and the month, not the measured availability or response figures
behind them (`explain` gives those, down to event ids), and the service period is the
contract's calendar month as RFC 3339 dates (`service_period_end` exclusive), in the
contract's own timezone, which the entry does not carry.

The memo is exact text (decimal strings, no floats) and the same for the same entry
every time; a reversal's memo names the entry it reverses and repeats that entry's
wording, since a reversal carries the reversed entry's percent and (negated) amount.
"""

from __future__ import annotations

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
    """E.g. "SLA credit of 10% for crm, March 2026: 1,200.00 AUD as a credit note"."""
    period = Period.from_label(entry.period)
    places = minor_units(entry.currency)
    amount = abs(entry.amount_major).quantize(Decimal(1).scaleb(-places))
    remedy = "a credit note" if entry.remedy == "credit" else entry.remedy
    text = (
        f"SLA credit of {entry.credit_percent}% for {entry.service_id}, "
        f"{_MONTHS[period.month - 1]} {period.year}: {amount:,} {entry.currency} as {remedy}"
    )
    return text if entry.supersedes is None else f"Reversal of {entry.supersedes}: {text}"


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
