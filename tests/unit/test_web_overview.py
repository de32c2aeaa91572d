"""The period overview's own logic, without a server: what a bad filter, sort or page
is refused with (the page number read by the one reader the diff view shares), the
order rows are sorted in (ties by contract then service, missing figures first, money by
currency then amount), the pages they are cut into, and the one rule of "a row changed"
the overview shares with the diff."""

from __future__ import annotations

from typing import Any

import pytest

from consumers.http.problems import ProblemError
from consumers.http.web.pages import diff, overview
from consumers.http.web.pages.common import PAGE_ROWS, page_number, query_string
from consumers.http.web.pages.overview import Asked, _asked, _chosen, _paged
from projections.queries.diff import row_change


def asked(**given: str | None) -> Asked:
    fields: dict[str, str | None] = dict.fromkeys(
        ("contract", "customer", "service", "status", "sort", "order", "page", "as_of")
    )
    fields.update(given)
    return _asked(**fields)


def row(contract: str, service: str, credit: str | None, **rest: Any) -> dict[str, Any]:
    return {
        "contract_id": contract,
        "customer_id": rest.get("customer", "CUST-" + contract),
        "service_id": service,
        "status": rest.get("status", "closed"),
        "availability_percent": rest.get("availability"),
        "availability_target_percent": None,
        "response_attainment_percent": None,
        "credit_percent": "0",
        "credit_amount": credit,
        "currency": rest.get("currency", "USD"),
        "entries": 0,
        "changed": False,
    }


@pytest.mark.parametrize(
    ("given", "field", "detail"),
    [
        ({"sort": "amount"}, "sort", "sort: one of contract, customer, service, status,"),
        ({"order": "up"}, "order", "order: asc or desc"),
        ({"status": "open"}, "status", "status: provisional or closed"),
        ({"page": "0"}, "page", "page: a whole number from 1"),
        ({"page": "-1"}, "page", "page: a whole number from 1"),
        ({"page": "1e3"}, "page", "page: a whole number from 1"),
        ({"page": "²"}, "page", "page: a whole number from 1"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    given: dict[str, str], field: str, detail: str
) -> None:
    with pytest.raises(ProblemError) as refused:
        asked(**given)
    assert refused.value.type.status == 400
    assert refused.value.detail.startswith(detail)
    assert refused.value.field == field


def test_blank_values_mean_the_defaults() -> None:
    found = asked(contract=" ", status="", sort="", order="", page="")
    assert (found.contract, found.status, found.sort, found.order, found.page) == (
        None,
        None,
        "contract",
        "asc",
        1,
    )
    assert found.query() == "?"


def test_sorting_keeps_ties_by_contract_then_service_both_ways() -> None:
    rows = [
        row("C-2", "b", "10.00"),
        row("C-1", "b", "10.00"),
        row("C-3", "a", "2.50"),
        row("C-1", "a", "10.00"),
        row("C-4", "a", None),
    ]
    up = _chosen(rows, asked(sort="credit_amount"))
    assert [(r["contract_id"], r["service_id"]) for r in up] == [
        ("C-4", "a"),  # no figure: first
        ("C-3", "a"),
        ("C-1", "a"),
        ("C-1", "b"),
        ("C-2", "b"),
    ]
    down = _chosen(rows, asked(sort="credit_amount", order="desc"))
    assert [(r["contract_id"], r["service_id"]) for r in down] == [
        ("C-1", "a"),
        ("C-1", "b"),
        ("C-2", "b"),
        ("C-3", "a"),
        ("C-4", "a"),
    ]
    # Numbers as numbers, not as text: "10.00" after "2.50".
    assert [r["credit_amount"] for r in up][1:3] == ["2.50", "10.00"]


def test_filters_are_exact_and_combine() -> None:
    rows = [
        row("C-1", "a", "1", customer="X"),
        row("C-1", "b", "1", customer="X", status="provisional"),
        row("C-2", "a", "1", customer="Y"),
    ]
    found = _chosen(rows, asked(customer="X", status="closed"))
    assert [(r["contract_id"], r["service_id"]) for r in found] == [("C-1", "a")]
    assert _chosen(rows, asked(contract="C-")) == []


def test_pages_cut_every_row_once() -> None:
    rows = [row(f"C-{i:04}", "a", "0") for i in range(2 * PAGE_ROWS + 5)]
    seen = []
    for number in (1, 2, 3):
        shown, paging = _paged(rows, number)
        seen += shown
        assert paging.pages == 3
        assert paging.total == len(rows)
    assert seen == rows
    _, last = _paged(rows, 3)
    assert (last.first, last.last) == (2 * PAGE_ROWS + 1, 2 * PAGE_ROWS + 5)
    assert last.numbers == [1, 2, 3]
    with pytest.raises(ProblemError, match="page: a page from 1 to 3"):
        _paged(rows, 4)
    shown, empty = _paged([], 1)
    assert (shown, empty.pages, empty.first, empty.last) == ([], 1, 0, 0)


def test_links_keep_the_filters_and_flip_the_order() -> None:
    found = asked(customer="CUST ACME", sort="credit_amount", as_of="2026-11-03")
    assert found.sorted_by("credit_amount") == (
        "?customer=CUST+ACME&sort=credit_amount&order=desc&as_of=2026-11-03"
    )
    assert found.sorted_by("entries") == "?customer=CUST+ACME&sort=entries&as_of=2026-11-03"
    assert found.query(page=2) == "?customer=CUST+ACME&sort=credit_amount&page=2&as_of=2026-11-03"


# Digits `str.isdigit` accepts that no link writes: a superscript two (`int` refuses it:
# a 500 once), an Arabic-Indic one and a mathematical bold one (`int` reads both as 1).
HOSTILE_PAGES = ["²", "١", "𝟙", "0", "-1", "+1", "01", "1e3", "1.0", " 1 2", "1234567"]


@pytest.mark.parametrize("text", HOSTILE_PAGES)
def test_a_page_number_is_ascii_digits_from_1_or_refused_in_one_line(text: str) -> None:
    with pytest.raises(ProblemError) as refused:
        page_number(text)
    assert refused.value.type.status == 400
    assert refused.value.field == "page"
    assert refused.value.detail == "page: a whole number from 1 to 999999, in the digits 0-9"
    with pytest.raises(ProblemError):  # the overview reads it so
        asked(page=text)


@pytest.mark.parametrize(("text", "number"), [(None, 1), ("", 1), (" 7 ", 7), ("999999", 999999)])
def test_a_page_number_read(text: str | None, number: int) -> None:
    assert page_number(text) == number


def test_both_paged_pages_share_the_page_size_and_the_reader() -> None:
    for module in (overview, diff):
        assert module.PAGE_ROWS is PAGE_ROWS
        assert module.page_number is page_number
        assert module.query_string is query_string


def test_query_strings_leave_the_empty_values_out() -> None:
    assert query_string({}) == ""
    assert query_string({"as_of": None, "contract": ""}) == ""
    assert query_string({"from": "2026-11-03T09:00:00Z", "contract": "C 1", "page": 2}) == (
        "?from=2026-11-03T09%3A00%3A00Z&contract=C+1&page=2"
    )


def test_money_sorts_by_currency_then_amount() -> None:
    rows = [
        row("C-1", "a", "300.00", currency="AUD"),
        row("C-2", "a", "1200", currency="JPY"),
        row("C-3", "a", "10.00", currency="AUD"),
        row("C-4", "a", "50.00", currency="EUR"),
        row("C-5", "a", None, currency="JPY"),
    ]
    up = _chosen(rows, asked(sort="credit_amount"))
    # Never ¥1,200 against A$300 as bare numbers: AUD's amounts, EUR's, then JPY's.
    assert [r["contract_id"] for r in up] == ["C-3", "C-1", "C-4", "C-5", "C-2"]
    down = _chosen(rows, asked(sort="credit_amount", order="desc"))
    assert [r["contract_id"] for r in down] == ["C-2", "C-5", "C-4", "C-1", "C-3"]
    (column,) = [c for c in overview.COLUMNS if c.key == "credit_amount"]
    assert column.order_note == "by currency, then amount"


def test_a_row_changed_by_the_diffs_one_rule() -> None:
    then = row("C-1", "a", "10.00")
    assert row_change(then, dict(then), told_since=False) is None
    # The same figures, but finance was told something since: an entry recorded after.
    assert row_change(then, dict(then), told_since=True) == "changed"
    assert row_change(then, {**then, "credit_amount": "20.00"}, told_since=False) == "changed"
    assert row_change(None, then, told_since=False) == "added"
    # Gone at the later moment (a backdated termination): removed, not unchanged.
    assert row_change(then, None, told_since=False) == "removed"
    assert row_change(None, None, told_since=False) is None
