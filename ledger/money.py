"""Money: ISO 4217 minor units and the one rounding rule (spec: sla-math §5)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ledger.currencies import minor_units


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round to `places` decimals, halves away from zero (spec: sla-math §5, "half-up").

    Integer arithmetic on the exact numerator and denominator: the magnitude is
    `floor(|n| × 10**places / d + 1/2) = (2 × |n| × 10**places + d) // (2 × d)`.
    """
    exact = value if isinstance(value, Fraction) else Fraction(value)
    numerator, denominator = exact.numerator, exact.denominator
    magnitude = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    units = magnitude if numerator >= 0 else -magnitude
    return Decimal(units).scaleb(-places).quantize(_unit(places))


@lru_cache(maxsize=16)
def _unit(places: int) -> Decimal:
    """`Decimal(1).scaleb(-places)`: the exponent results are quantized to (one per
    number of places, not one per value rounded)."""
    return Decimal(1).scaleb(-places)


def to_minor_unit(value: Fraction, currency: str) -> Decimal:
    return round_half_up(value, minor_units(currency))


def round_half_even(value: Fraction, places: int) -> Decimal:
    """Display rounding of percentages (spec: outputs.md, 4 places, half-even)."""
    exact = value if isinstance(value, Fraction) else Fraction(value)
    # As Fraction.__round__ does on `value * 10**places`, with integers only: the
    # floor, then up when the remainder is over one half, or exactly half and the
    # floor odd (halves to even).
    floor, remainder = divmod(exact.numerator * 10**places, exact.denominator)
    twice, denominator = 2 * remainder, exact.denominator
    round_up = twice > denominator or (twice == denominator and floor % 2 == 1)
    units = floor + 1 if round_up else floor
    return Decimal(units).scaleb(-places).quantize(_unit(places))
