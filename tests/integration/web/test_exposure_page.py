"""A period's exposure in a real browser, on both stores: the rows in the API's order
with the API's figures, each budget in words and a bar, the navigation's entry, a
closed period said in words, who may read it; and the overview's budget marks.

The demo's month is closed; one microsecond before its close, every row of it was
provisional, so the page as of then shows them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page

from consumers.intake.file_ingest import ingest_file
from ledger.timeformat import format_utc
from projections.store import LedgerStore
from tests.builders import contract, incident, service
from tests.http_server import ALL, Served
from tests.integration.web.conftest import Desk, served_ledger
from tests.web_browser import as_answered, screenshot, sign_in

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
PAGE = f"/web/periods/{PERIOD}/exposure"
FIGURES = (
    "contract_id",
    "service_id",
    "budget_consumed_percent",
    "downtime_left_seconds",
    "next_tier_credit_percent",
    "credit_at_risk",
    "projected_availability_percent",
    "projected_credit_amount",
    "next_response_deadline",
)


def before_close(desk: Desk) -> str:
    return format_utc(desk.closed_at - timedelta(microseconds=1))


def shown_rows(page: Page, table: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        f"table.{table} tbody tr[data-row]",
        """rows => rows.map(r => {
            const found = {};
            r.querySelectorAll('[data-field]')
              .forEach(c => found[c.dataset.field] = c.dataset.value);
            const budget = r.querySelector('.budget-words');
            found.words = budget ? budget.textContent : '';
            found.bar = r.querySelector('.budget-bar .fill') ? 'yes' : 'no';
            return found;
        })""",
    )
    return rows


def test_the_rows_are_the_apis_most_exposed_first(desk: Desk, browser: Browser) -> None:
    moment = before_close(desk)
    page = sign_in(browser, desk.served, "finance", then=f"{PAGE}?as_of={moment}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Exposure in {PERIOD}"
    api = desk.served.get(f"/v1/periods/{PERIOD}/exposure", role="finance", as_of=moment)
    assert api.status_code == 200, api.text
    expected = api.json()["rows"]
    shown = shown_rows(page, "exposure")
    assert len(shown) == len(expected) > 0
    for row, answered in zip(shown, expected, strict=True):
        for field in FIGURES:
            assert row[field] == as_answered(answered[field]), (field, row, answered)
        percent = answered["budget_consumed_percent"]
        if percent is None:
            assert row["bar"] == "no"
        else:
            # The words carry the figure: never the bar's colour alone.
            assert row["words"].startswith(f"budget {int(float(percent))}%"), row
            assert row["bar"] == "yes"
    # The most exposed first, as the API ordered them.
    budgets = [
        float(r["budget_consumed_percent"]) for r in expected if r["budget_consumed_percent"]
    ]
    assert budgets == sorted(budgets, reverse=True)
    # Finance may not open a row's derivation: no link there.
    assert page.locator("table.exposure a[href*='/rows/']").count() == 0
    navigation = page.get_by_role("navigation", name="Pages")
    current = navigation.locator("a[aria-current='page']")
    assert current.inner_text() == "Exposure"
    screenshot(page, "exposure")
    page.context.close()


def test_a_key_that_may_explain_gets_row_links(desk: Desk, browser: Browser) -> None:
    moment = before_close(desk)
    page = sign_in(browser, desk.served, ALL, then=f"{PAGE}?as_of={moment}")
    links = page.locator("table.exposure tbody a[href*='/rows/']")
    assert links.count() == len(shown_rows(page, "exposure"))
    href = links.first.get_attribute("href")
    assert href is not None
    assert href.startswith(f"/web/periods/{PERIOD}/rows/")
    assert href.endswith(f"?as_of={moment.replace(':', '%3A')}")
    page.context.close()


def test_a_closed_period_says_so_and_lists_nothing(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "operator", then=PAGE)
    facts = page.locator(".period-facts").inner_text()
    assert facts.startswith("Closed at ")
    assert "none is exposed any more" in facts
    assert page.locator("table.exposure").count() == 0
    page.context.close()


def test_the_navigation_opens_the_current_period(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "operator", then="/web/periods")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Exposure").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith("/exposure")
    assert "/web/periods/" in page.url
    assert page.get_by_role("heading", level=1).inner_text().startswith("Exposure in ")
    page.context.close()


def test_a_role_without_access_sees_nothing(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=f"{PAGE}?as_of={before_close(desk)}")
    assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
    assert "finance or operator" in page.get_by_role("alert").inner_text()
    assert "C-2002" not in page.content()
    navigation = page.get_by_role("navigation", name="Pages")
    assert navigation.get_by_role("link", name="Exposure").count() == 0
    page.context.close()


def test_the_overview_marks_provisional_rows_by_budget(desk: Desk, browser: Browser) -> None:
    moment = before_close(desk)
    page = sign_in(browser, desk.served, "disputes", then=f"/web/periods/{PERIOD}?as_of={moment}")
    report = desk.served.get(f"/v1/periods/{PERIOD}/report", as_of=moment).json()["rows"]
    shown = {r["contract_id"] + "/" + r["service_id"]: r for r in shown_rows(page, "overview")}
    marked = 0
    for answered in report:
        row = shown[answered["contract_id"] + "/" + answered["service_id"]]
        assert row["budget_consumed_percent"] == as_answered(answered["budget_consumed_percent"])
        if answered["budget_consumed_percent"] is not None:
            marked += 1
            assert row["words"].startswith("budget "), row
    assert marked > 0
    page.context.close()
    # Now the period is closed: no row has a budget left to watch.
    page = sign_in(browser, desk.served, "disputes", then=f"/web/periods/{PERIOD}")
    assert all(r["words"] == "" for r in shown_rows(page, "overview"))
    page.context.close()


# ---- A month running now, with an incident still to be answered ----

P1_SLOW = {
    "targets": {"P1": "PT100H"},
    "business_hours": {
        "weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    },
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def running_month(url: str, directory: Path) -> str:
    """A Berlin contract since last year whose P1 incident, opened a moment ago, has
    100 business hours (ten working days and more) to be answered: its period, in
    Berlin."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    opened = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    documents = [
        contract(
            tz="Europe/Berlin",
            effective_from=f"{now.year - 1}-01-01",
            services=[service(incident_response=P1_SLOW)],
        ),
        *incident("I-1", "P1", opened, None),
    ]
    path = directory / "running.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, path)
    # The contract's own month: in the last hours of a UTC month, Berlin is in the next.
    return f"{now.astimezone(ZoneInfo('Europe/Berlin')):%Y-%m}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, str]]:
    with served_ledger(request, tmp_path_factory.mktemp("running"), running_month) as (
        served,
        _,
        period,
    ):
        yield served, period


def test_a_pending_deadline_is_shown_in_the_contracts_time_and_utc(
    running: tuple[Served, str], browser: Browser
) -> None:
    served, period = running
    page = sign_in(browser, served, "operator", then=f"/web/periods/{period}/exposure")
    api = served.get(f"/v1/periods/{period}/exposure", role="operator").json()
    [row] = api["rows"]
    [pending] = row["pending_incidents"]
    due = pending["respond_by"]
    assert row["next_response_deadline"] == due
    cell = page.locator('tr[data-row="C-1/crm"] td[data-field="next_response_deadline"]')
    assert cell.get_attribute("data-value") == due
    there = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Berlin"))
    text = cell.inner_text()
    assert there.strftime("%Y-%m-%d %H:%M") in text
    zone = there.tzname()
    assert zone is not None
    assert zone in text  # CET or CEST
    assert due in text  # and UTC
    summary = page.locator("#next_deadline").inner_text()
    assert "I-1" in summary
    assert due in summary
    assert "contract's timezone" in page.inner_text("footer")
    page.context.close()


def test_the_alerts_raised_for_the_period_are_listed_below(desk: Desk, browser: Browser) -> None:
    moment = before_close(desk)
    page = sign_in(browser, desk.served, "finance", then=f"{PAGE}?as_of={moment}")
    api = desk.served.get("/v1/alerts", role="finance", period=PERIOD, as_of=moment)
    assert api.status_code == 200, api.text
    expected = api.json()["alerts"]
    assert expected, "the demo's month raised no alert"
    shown = page.eval_on_selector_all(
        "table.alerts tbody tr[data-alert]",
        """rows => rows.map(r => ({id: r.dataset.alert, kind: r.dataset.kind,
             words: r.querySelector('[data-field="threshold"]').textContent}))""",
    )
    assert [s["id"] for s in shown] == [a["alert_id"] for a in expected]
    for row, alert in zip(shown, expected, strict=True):
        assert alert["threshold"] in row["words"], (row, alert)
    page.context.close()


def test_a_method_the_page_does_not_take_is_a_page_naming_the_one_it_does(desk: Desk) -> None:
    """A 405 carries `Allow` (RFC 9110), on a page as on the API."""
    with desk.served.client() as client:
        answer = client.post(PAGE)
    assert answer.status_code == 405, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["allow"] == "GET"
    assert "POST is not taken here; the resource takes GET" in answer.text
