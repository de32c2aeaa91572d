"""Money: ISO 4217 minor units and the one rounding rule (spec: sla-math §5)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from ledger.currencies import minor_units


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round to `places` decimals, halves away from zero (spec: sla-math §5, "half-up")."""
    scaled = value * 10**places
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    units = magnitude if scaled >= 0 else -magnitude
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def to_minor_unit(value: Fraction, currency: str) -> Decimal:
    return round_half_up(value, minor_units(currency))


def round_half_even(value: Fraction, places: int) -> Decimal:
    """Display rounding of percentages (spec: outputs.md, 4 places, half-even)."""
    units = round(value * 10**places)  # Fraction.__round__ rounds halves to even
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))
