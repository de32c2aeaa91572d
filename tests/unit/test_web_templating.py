"""How the desk writes amounts: each currency's symbol and grouping, exactly the digits
the ledger rounded to (ISO 4217 minor units), never rounded again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from consumers.http.web.templating import as_answered, event_href, money, segment


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("1200.00", "USD", "$1,200.00"),
        ("300.00", "AUD", "A$300.00"),
        ("-120.00", "AUD", "-A$120.00"),
        ("400.00", "EUR", "€400.00"),
        ("1200", "JPY", "¥1,200"),
        ("1234567", "JPY", "¥1,234,567"),
        ("-1200", "JPY", "-¥1,200"),
        ("1.500", "BHD", "BHD1.500"),
        ("1234.567", "BHD", "BHD1,234.567"),
        ("-0.50", "EUR", "-€0.50"),
        # CLDR writes these without decimals; their ISO 4217 minor units are 2 and 3,
        # and the ledger's amounts have them: shown, never rounded away.
        ("12345.67", "HUF", "HUF12,345.67"),
        ("1234.567", "IQD", "IQD1,234.567"),
        ("0.00", "USD", "$0.00"),
    ],
)
def test_amounts_are_written_per_currency_with_exactly_their_digits(
    amount: str, currency: str, written: str
) -> None:
    assert money(amount, currency) == written
    assert money(Decimal(amount), currency) == written


def test_an_amount_with_finer_digits_keeps_them() -> None:
    assert money("1.005", "USD") == "$1.005"


def test_no_amount_is_a_dash() -> None:
    assert money(None, "USD") == "–"


def test_figures_are_kept_as_the_api_answers_them() -> None:
    assert as_answered("99.8315") == "99.8315"
    assert [as_answered(v) for v in (None, True, False, 3)] == ["null", "true", "false", "3"]


def test_an_id_in_a_link_stays_one_segment_of_its_path() -> None:
    assert segment("a/b#c?d e%") == "a%2Fb%23c%3Fd%20e%25"
    assert event_href("e/1#x") == "/web/events/e%2F1%23x"
    assert (
        event_href("e1", "2026-03-05T09:00:00Z") == "/web/events/e1?as_of=2026-03-05T09%3A00%3A00Z"
    )
