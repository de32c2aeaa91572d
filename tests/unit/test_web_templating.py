"""How the desk writes amounts: each currency's symbol and grouping, exactly the digits
the ledger rounded to (ISO 4217 minor units), never rounded again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from consumers.http.web.templating import (
    as_answered,
    budget,
    current_entry,
    event_href,
    money,
    segment,
)


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


def test_a_budget_is_named_by_its_level_and_never_rounded_up_to_one() -> None:
    assert budget(None) is None
    low = budget("49.9999")
    assert low is not None
    assert (low.label, low.level, low.words, low.bar) == (
        "budget 49%",
        "low",
        "within budget",
        "49.9999",
    )
    for percent, level, words in (
        ("50.0000", "50", "over half"),
        ("67.2043", "50", "over half"),
        ("75.0000", "75", "over three quarters"),
        ("89.9999", "75", "over three quarters"),
        ("90.0000", "90", "nearly spent"),
        ("99.9999", "90", "nearly spent"),
        ("100.0000", "spent", "spent"),
    ):
        shown = budget(percent)
        assert shown is not None
        assert (shown.level, shown.words) == (level, words), percent
    over = budget("472.9730")
    assert over is not None
    assert (over.label, over.bar) == ("budget 472%", "100")  # the bar stops at full
    assert budget("99.9999") == budget("99.9999")
    nearly = budget("99.9999")
    assert nearly is not None
    assert nearly.label == "budget 99%"  # not "100%": the budget is not spent


def test_a_period_exposure_page_belongs_to_its_navigation_entry() -> None:
    assert current_entry("/web/periods/2026-10/exposure") == "/web/exposure"
    assert current_entry("/web/exposure") == "/web/exposure"
    assert current_entry("/web/periods/2026-10") == "/web/periods"
    assert current_entry("/web/periods/2026-10/rows/C-1/crm") == "/web/periods"
    assert current_entry("/web/audit") == "/web/audit"
    assert current_entry("/web/sign-in") is None
