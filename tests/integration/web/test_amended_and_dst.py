"""The desk on a contract amended mid-year, in a timezone whose clocks change within a
measured month (New York, 8 March 2026), on both stores: each row page against the API
and against a computation of its own here, from the events as written in
`tests.ledgers.amended_mid_year`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page

from tests.http_server import Served
from tests.integration.web.conftest import served_ledger
from tests.ledgers import amended_mid_year
from tests.web_browser import as_answered, figures, sign_in

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served_ledger(request, tmp_path_factory.mktemp("amended"), amended_mid_year) as built:
        yield built[0]


@pytest.fixture(scope="module")
def page(browser: Browser, served: Served) -> Iterator[Page]:
    signed_in = sign_in(browser, served, "disputes")
    yield signed_in
    signed_in.context.close()


def window_seconds(year: int, month: int) -> int:
    """The month's length in New York, from local midnights (as the spec defines it)."""
    start = datetime(year, month, 1, tzinfo=NEW_YORK)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=NEW_YORK)
    return int(end.timestamp() - start.timestamp())


# (period, down seconds as weighted, fee, tiers (below, credit %), terms version), from
# the events as `amended_mid_year` writes them.
Terms = tuple[Decimal, list[tuple[Decimal, int]]]
SIGNED: Terms = (
    Decimal("1000.00"),
    [(Decimal("99.9"), 10), (Decimal("99.0"), 25), (Decimal("95.0"), 100)],
)
AMENDED: Terms = (Decimal("2000.00"), [(Decimal("99.5"), 10), (Decimal("99.0"), 25)])
MONTHS = [
    ("2026-03", 3600, SIGNED, 1),  # 01:30 EST to 03:30 EDT: one hour of real time
    ("2026-06", 7200, SIGNED, 1),
    ("2026-07", Fraction(7200, 2), AMENDED, 2),  # two hours at 50% impact
]


def expected(period: str, down: int | Fraction, terms: Terms) -> dict[str, str]:
    year, month = map(int, period.split("-"))
    window = window_seconds(year, month)
    exact = (1 - Fraction(down) / window) * 100
    shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_EVEN
    )
    fee, tiers = terms
    applying = [credit for below, credit in tiers if exact < Fraction(below)]
    credit = max(applying, default=0)
    amount = (fee * credit / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "window_seconds": str(window),
        "availability_percent": str(shown),
        "credit_percent": str(credit),
        "credit_amount": str(amount),
    }


@pytest.mark.parametrize(("period", "down", "terms", "version"), MONTHS)
def test_each_row_page_equals_the_api_and_an_independent_computation(
    served: Served,
    page: Page,
    period: str,
    down: int | Fraction,
    terms: Terms,
    version: int,
) -> None:
    page.goto(f"{served.base}/web/periods/{period}/rows/C-NY/crm")
    shown = figures(page)
    api = served.get(f"/v1/rows/C-NY/crm/{period}/explain").json()["row"]
    assert {f: v for f, v in shown.items() if f in api} == {
        f: as_answered(api[f]) for f in shown if f in api
    }
    mine = expected(period, down, terms)
    assert api["window_seconds"] == mine["window_seconds"]
    for field in ("availability_percent", "credit_percent", "credit_amount"):
        assert shown[field] == api[field] == mine[field], field
    assert shown["terms_version"] == str(version)


def test_the_timeline_marks_the_new_terms_and_the_clock_change(served: Served, page: Page) -> None:
    page.goto(f"{served.base}/web/periods/2026-07/rows/C-NY/crm")
    terms = page.locator('svg.timeline-chart g.mark[data-kind="terms"]')
    assert terms.count() == 1
    assert terms.get_attribute("data-start") == "2026-07-01T04:00:00Z"  # local midnight, EDT
    assert "version 2" in (terms.locator("title").first.text_content() or "")
    page.goto(f"{served.base}/web/periods/2026-06/rows/C-NY/crm")
    assert page.locator('svg.timeline-chart g.mark[data-kind="terms"]').count() == 0

    page.goto(f"{served.base}/web/periods/2026-03/rows/C-NY/crm")
    caption = page.locator("figure.timeline figcaption").inner_text()
    assert "Sun 2026-03-08: that day has 23 hours" in caption
    outage = page.locator('svg.timeline-chart g.mark[data-kind="outage"][data-id="NY-3"]')
    assert outage.get_attribute("data-start") == "2026-03-08T06:30:00Z"
    assert outage.get_attribute("data-end") == "2026-03-08T07:30:00Z"
    row = page.locator('table.timeline-facts tr[data-kind="outage"][data-id="NY-3"]').inner_text()
    # The same hour, told in the wall time of each side of the change, zone named.
    assert "01:30 EST" in row
    assert "03:30 EDT" in row
