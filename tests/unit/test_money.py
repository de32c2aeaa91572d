"""`ledger.money`: the one rounding of money (half-up, to the currency's minor unit) and
of displayed percentages (half-even, spec: outputs.md), on exact fractions.

Each rounds once, from the exact value: never a float, never a rounding of a rounding.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import round_half_even, round_half_up, to_minor_unit

fractions = st.fractions(max_denominator=10**6).filter(lambda f: abs(f) < 10**12)
places = st.integers(min_value=0, max_value=6)


def exactly(value: Fraction, digits: int, rounding: str) -> Decimal:
    """The same rounding by `decimal`, at a precision far beyond the places asked for:
    a fraction of denominator up to 10**6 that is not a tie differs from one by at least
    10**-18 of a unit, so 80 digits decide as the exact value does."""
    with localcontext() as context:
        context.prec = 80
        scaled = Decimal(value.numerator) / Decimal(value.denominator)
        return scaled.quantize(Decimal(1).scaleb(-digits), rounding=rounding)


@given(fractions, places)
def test_half_up_rounds_the_exact_value_once(value: Fraction, digits: int) -> None:
    assert round_half_up(value, digits) == exactly(value, digits, ROUND_HALF_UP)


@given(fractions, places)
def test_half_even_rounds_the_exact_value_once(value: Fraction, digits: int) -> None:
    assert round_half_even(value, digits) == exactly(value, digits, ROUND_HALF_EVEN)


@given(fractions, places)
def test_results_carry_exactly_the_places_asked_for(value: Fraction, digits: int) -> None:
    assert round_half_up(value, digits).as_tuple().exponent == -digits
    assert round_half_even(value, digits).as_tuple().exponent == -digits


@given(fractions, places)
def test_half_up_is_symmetric_about_zero(value: Fraction, digits: int) -> None:
    assert round_half_up(-value, digits) == -round_half_up(value, digits)


@pytest.mark.parametrize(
    ("value", "digits", "half_up", "half_even"),
    [
        (Fraction(5, 1000), 2, "0.01", "0.00"),
        (Fraction(15, 1000), 2, "0.02", "0.02"),
        (Fraction(25, 1000), 2, "0.03", "0.02"),
        (Fraction(-25, 1000), 2, "-0.03", "-0.02"),
        (Fraction(1, 3), 4, "0.3333", "0.3333"),
        (Fraction(2, 3), 0, "1", "1"),
        (Fraction(999_995, 10_000_000), 4, "0.1000", "0.1000"),
        (Fraction(9_985, 100_000), 4, "0.0999", "0.0998"),
    ],
)
def test_ties_go_away_from_zero_for_money_and_to_even_for_percentages(
    value: Fraction, digits: int, half_up: str, half_even: str
) -> None:
    assert str(round_half_up(value, digits)) == half_up
    assert str(round_half_even(value, digits)) == half_even


def test_a_value_just_under_a_tie_is_not_rounded_as_the_tie() -> None:
    """Rounding once, from the exact value: 0.004999... is not first made 0.005."""
    under = Fraction(5, 1000) - Fraction(1, 10**12)
    assert str(round_half_up(under, 2)) == "0.00"


@pytest.mark.parametrize(
    ("currency", "shown"),
    [("USD", "12.35"), ("EUR", "12.35"), ("JPY", "12"), ("BHD", "12.345"), ("KWD", "12.345")],
)
def test_money_has_the_minor_unit_of_its_currency(currency: str, shown: str) -> None:
    assert str(to_minor_unit(Fraction(123_45, 1000), currency)) == shown


def test_a_plain_integer_is_taken_as_the_exact_value() -> None:
    assert str(round_half_up(Fraction(7), 2)) == "7.00"
