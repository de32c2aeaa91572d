"""How the pages write money (`templating.money`): each currency as it is written, with
its own number of decimals (CLDR's, through Babel), its symbol, thousands grouped, and a
negative amount (a reversal) with its sign before the symbol."""

from __future__ import annotations

from decimal import Decimal

import pytest

from consumers.http.web.templating import money


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("1200.00", "USD", "$1,200.00"),
        ("300.00", "AUD", "A$300.00"),
        ("400.00", "EUR", "€400.00"),
        # The yen has no minor unit: no decimals at all.
        ("1200", "JPY", "¥1,200"),
        ("1234567", "JPY", "¥1,234,567"),
        # The Bahraini dinar has three decimals.
        ("1.500", "BHD", "BHD1.500"),
        ("1234.567", "BHD", "BHD1,234.567"),
        # A reversal's negative amount: the sign first, then the symbol.
        ("-300.00", "AUD", "-A$300.00"),
        ("-0.50", "EUR", "-€0.50"),
        ("-1200", "JPY", "-¥1,200"),
        ("0.00", "AUD", "A$0.00"),
    ],
)
def test_each_currency_as_it_is_written(amount: str, currency: str, written: str) -> None:
    assert money(amount, currency) == written
    assert money(Decimal(amount), currency) == written


def test_no_amount_is_a_dash() -> None:
    assert money(None, "EUR") == "–"
