"""A year's pages in a real browser, on both stores (sla-math §9): the period overview
of 2025 lists the annual row with the API's figures, and its row page draws the year
banded by month (alternate months shaded, each named) with each outage at its true
place in the year, in Berlin, whose clocks change twice in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, outage, service
from tests.http_server import Served
from tests.integration.web.conftest import served_ledger
from tests.web_browser import as_answered, figures, screenshot, sign_in

pytestmark = pytest.mark.integration

TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def yearly_in_berlin(url: str, directory: Path) -> None:
    """C-Y, measured yearly in Berlin through 2025: a day down in March, ten hours
    in October; 2025 closed."""
    from datetime import UTC, datetime

    docs = [
        contract(
            "C-Y",
            tz="Europe/Berlin",
            effective_from="2025-01-01",
            occurred_at="2024-12-01T00:00:00Z",
            services=[service(tiers=TIERS, window="year")],
        ),
        *outage("Y-1", "2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"),
        *outage("Y-2", "2025-10-20T08:00:00Z", "2025-10-20T18:00:00Z"),
    ]
    path = directory / "year.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, path)
        close_period(store, Period.of_year(2025), datetime.now(UTC))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served_ledger(request, tmp_path_factory.mktemp("year"), yearly_in_berlin) as built:
        yield built[0]


@pytest.fixture(scope="module")
def page(browser: Browser, served: Served) -> Iterator[Page]:
    signed_in = sign_in(browser, served, "disputes")
    yield signed_in
    signed_in.context.close()


def test_a_years_overview_and_row_page(served: Served, page: Page) -> None:
    page.goto(f"{served.base}/web/periods/2025")
    listed = page.locator("table.overview tbody tr[data-row]")
    assert listed.count() == 1
    row_text = listed.first.inner_text()
    assert "C-Y" in row_text

    page.goto(f"{served.base}/web/periods/2025/rows/C-Y/crm")
    shown = figures(page)
    api = served.get("/v1/rows/C-Y/crm/2025/explain").json()["row"]
    assert api["period"] == "2025"
    assert {f: v for f, v in shown.items() if f in api} == {
        f: as_answered(api[f]) for f in shown if f in api
    }
    # 34 hours down in 365 days (Berlin's year is 365 × 24 hours: its two clock
    # changes cancel): 99.6119%, a 10% credit of 12,000.00.
    assert api["window_seconds"] == str(365 * 86_400)
    assert api["availability_percent"] == "99.6119"
    assert api["credit_amount"] == "1200.00"

    screenshot(page, "year-row-page")
    chart = page.locator("svg.timeline-chart")
    caption = page.locator("figure.timeline figcaption").inner_text()
    assert "the year 2025" in caption
    labels = chart.locator("text.month-label")
    # Each label's own text (its <title> names the month in full, for a pointer).
    names = labels.evaluate_all("ls => ls.map(l => l.lastChild.textContent)")
    assert names == MONTH_NAMES
    titles = labels.evaluate_all("ls => ls.map(l => l.querySelector('title').textContent)")
    assert titles[2] == "March 2025"
    bands = chart.locator("rect.month-band")
    assert bands.count() == 12
    shaded = ["shaded" in (bands.nth(i).get_attribute("class") or "") for i in range(bands.count())]
    assert shaded == [i % 2 == 1 for i in range(12)]
    # No day is ticked on a year: 365 labels would be unreadable.
    assert chart.locator("text.day-label").count() == 0

    def band(index: int) -> tuple[Decimal, Decimal]:
        found = bands.nth(index)
        x = Decimal(found.get_attribute("x") or "")
        return x, x + Decimal(found.get_attribute("width") or "")

    for outage_id, month, start in (
        ("Y-1", 2, "2025-03-10T00:00:00Z"),
        ("Y-2", 9, "2025-10-20T08:00:00Z"),
    ):
        mark = chart.locator(f'g.mark[data-kind="outage"][data-id="{outage_id}"]')
        assert mark.get_attribute("data-start") == start
        bar = Decimal(mark.locator("rect.bar").get_attribute("x") or "")
        lo, hi = band(month)
        assert lo <= bar < hi, (outage_id, bar, lo, hi)


def test_a_month_measured_yearly_points_to_its_year(served: Served, page: Page) -> None:
    page.goto(f"{served.base}/web/periods/2025-03/rows/C-Y/crm")
    api = served.get("/v1/rows/C-Y/crm/2025-03/explain").json()["row"]
    assert api["availability_percent"] is None
    assert api["credit_amount"] == "0.00"
    text = page.locator("section.derivation").inner_text()
    assert "Measured yearly: this month's availability counts on the annual row 2025" in text
    page.click("section.derivation a[href='/web/periods/2025/rows/C-Y/crm']")
    page.wait_for_load_state()
    assert page.url.endswith("/web/periods/2025/rows/C-Y/crm")
    assert figures(page)["availability_percent"] == "99.6119"
