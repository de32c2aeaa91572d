"""The period overview in a real browser, on both stores: every figure is the API's
report's, the row the late correction changed is marked and the others are not, the
filters, the sort and the row links work, and as of the close the page shows the
close's figures. A period of 3,000 rows is paged (one store is enough for that)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Browser, Page

from benchmarks.history_growth import Plan, month_lines
from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.store import LedgerStore
from tests.http_server import Served, serving
from tests.infrastructure import sqlite_url
from tests.integration.web.conftest import Desk
from tests.web_browser import as_answered, screenshot, sign_in

pytestmark = pytest.mark.integration

OVERVIEW = "/web/periods/2026-10"
# The report's fields each row of the page carries, exactly as the API writes them.
FIGURES = (
    "contract_id",
    "customer_id",
    "service_id",
    "status",
    "availability_percent",
    "availability_target_percent",
    "response_attainment_percent",
    "credit_percent",
    "credit_amount",
)


def shown_rows(page: Page) -> list[dict[str, str]]:
    """Each row of the table: its data-field values, and its mark."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "table.overview tbody tr[data-row]",
        """rows => rows.map(r => {
            const found = {mark: r.querySelector('[data-mark]').dataset.mark};
            r.querySelectorAll('[data-field]')
              .forEach(c => found[c.dataset.field] = c.dataset.value);
            return found;
        })""",
    )
    return rows


def entries_per_row(served: Served, **params: str) -> Counter[tuple[str, str]]:
    listed = served.get("/v1/credits", period="2026-10", limit=1000, **params).json()
    return Counter((e["contract_id"], e["service_id"]) for e in listed["entries"])


def test_every_figure_is_the_apis_and_the_corrected_row_is_marked(
    desk: Desk, browser: Browser
) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    assert page.get_by_role("heading", level=1).inner_text() == "Period 2026-10"
    api = desk.served.get("/v1/periods/2026-10/report").json()
    shown = shown_rows(page)
    assert len(shown) == len(api["rows"]) == 5
    entries = entries_per_row(desk.served)
    for row, expected in zip(shown, api["rows"], strict=True):
        for field in FIGURES:
            assert row[field] == as_answered(expected[field]), (field, row, expected)
        key = (expected["contract_id"], expected["service_id"])
        assert row["entries"] == str(entries[key])
        # C-2002/crm by its correction; C-1001/api by its claim, recorded after the close.
        changed = key in (("C-2002", "crm"), ("C-1001", "api"))
        assert row["mark"] == ("changed" if changed else "same")
    # The corrected row: issue, reversal and re-issue; its amount written as AUD is.
    assert entries[("C-2002", "crm")] == 3
    corrected = page.locator('tr[data-row="C-2002/crm"]')
    assert "changed" in corrected.locator("[data-mark]").inner_text()
    assert corrected.locator('[data-field="credit_amount"]').inner_text() == "A$300.00"
    assert "Rows 1–5 of 5" in page.locator("#rows_count").inner_text()
    screenshot(page, "overview")
    page.context.close()


def test_filters_by_customer_and_status(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    api = desk.served.get("/v1/periods/2026-10/report").json()["rows"]
    page.get_by_label("Customer").fill("CUST-ACME")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert "customer=CUST-ACME" in page.url
    shown = shown_rows(page)
    wanted = [r for r in api if r["customer_id"] == "CUST-ACME"]
    assert 0 < len(shown) < len(api)
    assert [(r["contract_id"], r["service_id"]) for r in shown] == [
        (r["contract_id"], r["service_id"]) for r in wanted
    ]
    assert page.get_by_label("Customer").input_value() == "CUST-ACME"

    page.get_by_label("Customer").fill("")
    page.get_by_label("Status").select_option("provisional")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert shown_rows(page) == []
    assert "No row matches these filters" in page.locator("table.overview").inner_text()
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert len(shown_rows(page)) == len([r for r in api if r["status"] == "closed"]) == 5
    page.context.close()


def keys_of(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(r["contract_id"], r["service_id"]) for r in rows]


def test_sorts_by_credit_amount_both_ways(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    header = page.locator('thead th[data-column="credit_amount"]')
    assert header.get_attribute("aria-sort") is None
    assert header.locator("a").get_attribute("title") == "Sorts by currency, then amount"
    header.locator("a").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the headers are links: keyboard reachable
    # The API's rows in the order asked: by currency (A$, EUR, US$ are not comparable
    # as bare numbers), then amount; ties by contract, then service.
    api = desk.served.get("/v1/periods/2026-10/report").json()["rows"]
    expected = sorted(api, key=lambda r: (r["currency"], Decimal(r["credit_amount"])))
    assert len({r["currency"] for r in api}) > 1
    assert keys_of(shown_rows(page)) == keys_of(expected)
    assert header.get_attribute("aria-sort") == "ascending"
    # A screen reader hears how it sorts, the order and what the link does next.
    named = "Credit (by currency, then amount; sorted ascending; sort descending)"
    assert page.get_by_role("link", name=named, exact=True).count() == 1
    with page.expect_navigation():
        header.locator("a").click()
    assert keys_of(shown_rows(page)) == keys_of(expected[::-1])
    assert header.get_attribute("aria-sort") == "descending"
    # Ties (none here by amount) would stay by contract, then service: check the
    # secondary order on a column with ties, the status.
    page.goto(desk.served.base + OVERVIEW + "?sort=status&order=desc")
    keys = [(r["contract_id"], r["service_id"]) for r in shown_rows(page)]
    assert keys == sorted(keys)
    page.context.close()


def test_a_row_links_to_its_page_keeping_the_moment(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    link = page.locator('tr[data-row="C-2002/crm"] th a')
    assert link.get_attribute("href") == "/web/periods/2026-10/rows/C-2002/crm"
    link.click()
    page.wait_for_load_state()
    assert page.url == desk.served.base + "/web/periods/2026-10/rows/C-2002/crm"
    page.goto(desk.served.base + OVERVIEW + "?as_of=" + desk.close_moment)
    href = page.locator('tr[data-row="C-2002/crm"] th a').get_attribute("href")
    assert href is not None
    assert href.startswith("/web/periods/2026-10/rows/C-2002/crm?as_of=")
    page.context.close()


def test_as_of_the_close_shows_the_closes_figures(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW + "?customer=CUST-ACME")
    page.get_by_label("As the ledger knew it at (UTC)").fill(desk.close_moment)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "customer=CUST-ACME" in page.url  # the filters are kept
    api = desk.served.get("/v1/periods/2026-10/report", as_of=desk.close_moment).json()
    shown = {(r["contract_id"], r["service_id"]): r for r in shown_rows(page)}
    for expected in api["rows"]:
        key = (expected["contract_id"], expected["service_id"])
        if expected["customer_id"] != "CUST-ACME":
            assert key not in shown
            continue
        for field in FIGURES:
            assert shown[key][field] == as_answered(expected[field])
        assert shown[key]["mark"] == "same"  # as of the close nothing changed since it
    assert shown[("C-2002", "crm")]["credit_amount"] == "120.00"
    corrected = page.locator('tr[data-row="C-2002/crm"] [data-field="credit_amount"]')
    assert corrected.inner_text() == "A$120.00"
    closing = entries_per_row(desk.served, as_of=desk.close_moment)
    assert shown[("C-2002", "crm")]["entries"] == str(closing[("C-2002", "crm")]) == "1"
    page.context.close()


def test_bad_filter_and_sort_values_are_refused_in_one_line(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW + "?sort=amount")
    assert page.get_by_role("heading", level=1).inner_text() == "A parameter is invalid"
    assert page.get_by_role("alert").inner_text().startswith("sort: one of contract, customer")
    for query, field in (
        ("status=open", "status"),
        ("page=x", "page"),
        ("page=²", "page"),  # `str.isdigit` says yes, `int` refuses: a 500 once
        ("order=up", "order"),
    ):
        response = page.goto(desk.served.base + OVERVIEW + "?" + query)
        assert response is not None
        assert response.status == 400
        assert page.get_by_role("alert").inner_text().startswith(field + ":")
        assert "Traceback" not in page.content()
    page.context.close()


def test_finance_reads_the_overview_without_links_it_may_not_open(
    desk: Desk, browser: Browser
) -> None:
    # Finance may read the report, not a row's derivation nor the diff (403 for it):
    # the page shows no link there, the contract as plain text.
    page = sign_in(browser, desk.served, "finance", then=OVERVIEW)
    assert page.get_by_role("heading", level=1).inner_text() == "Period 2026-10"
    corrected = page.locator('tr[data-row="C-2002/crm"]')
    assert corrected.locator("th").inner_text() == "C-2002"
    assert page.locator("table.overview a[href*='/rows/']").count() == 0
    assert page.locator("a[href*='/diff']").count() == 0
    assert "rows changed" in page.locator(".period-facts").inner_text()
    for path in ("/web/periods/2026-10/rows/C-2002/crm", OVERVIEW + "/diff"):
        response = page.goto(desk.served.base + path)
        assert response is not None
        assert response.status == 403  # why the links are not shown
    page.context.close()
    # The dispute handler's page has both.
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    assert page.locator("table.overview a[href*='/rows/']").count() == 5
    assert page.locator(".period-facts a[href*='/diff']").count() == 1
    page.context.close()


def test_a_role_without_access_sees_nothing_of_the_period(desk: Desk, browser: Browser) -> None:
    # The operator may list the periods, not read a period's report.
    page = sign_in(browser, desk.served, "operator", then=OVERVIEW)
    assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
    body = page.content()
    assert "C-2002" not in body
    assert "CUST-ACME" not in body
    assert "300.00" not in body
    assert "disputes or finance" in page.get_by_role("alert").inner_text()
    page.context.close()


# ---- Paging: 3,000 rows (1,000 contracts of 3 services), one store is enough ----

BIG_PERIOD = Period(2026, 9)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("big")
    url = sqlite_url(directory)
    plan = Plan(contracts=1000, months=1, first=BIG_PERIOD, seed=5)
    month = directory / "month.jsonl"
    month.write_text("".join(line + "\n" for line in month_lines(plan, 0)))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, month)
    with serving(url, directory) as served:
        yield served


@contextmanager
def signed_client(served: Served, role: str = "disputes") -> Iterator[httpx.Client]:
    """An httpx client signed in on the form, keeping the session's cookie."""
    with httpx.Client(base_url=served.base, timeout=60) as client:
        answer = client.post("/web/sign-in", data={"api_key": served.keys[role]})
        assert answer.status_code == 303
        yield client


def page_rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-row="([^"]+)"', html)


def next_link(html: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    return None if found is None else found.group(1).replace("&amp;", "&")


def test_a_period_of_3000_rows_is_paged(big: Served, browser: Browser) -> None:
    path = f"/web/periods/{BIG_PERIOD.label}"
    api = big.get(f"/v1/periods/{BIG_PERIOD.label}/report").json()["rows"]
    assert len(api) == 3000
    expected = [f"{r['contract_id']}/{r['service_id']}" for r in api]

    page = sign_in(browser, big, "disputes", then=path)
    assert len(shown_rows(page)) == 100
    assert "Rows 1–100 of 3,000" in page.locator("#rows_count").inner_text()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_load_state()
    assert "Rows 101–200 of 3,000" in page.locator("#rows_count").inner_text()
    assert [f"{r['contract_id']}/{r['service_id']}" for r in shown_rows(page)] == expected[100:200]
    page.context.close()

    # Every page by its next link, with httpx signed in: all rows once, in report order.
    with signed_client(big) as client:
        walked: list[str] = []
        target: str | None = path
        pages = 0
        while target is not None:
            answer = client.get(target if target.startswith("/") else path + target)
            assert answer.status_code == 200
            assert len(answer.content) < 300_000, len(answer.content)
            rows = page_rows(answer.text)
            assert len(rows) == 100
            walked += rows
            pages += 1
            target = next_link(answer.text)
        assert pages == 30
        assert walked == expected
        last = client.get(path, params={"page": "30"}).text
        assert "Rows 2,901–3,000 of 3,000" in last
        refused = client.get(path, params={"page": "31"})
        assert refused.status_code == 400
        assert "page: a page from 1 to 30" in refused.text
