"""The diff view in a real browser, on both stores: from the close to now it shows the
late correction of C-2002/crm, its figures before and after as the API's diff gives
them, and the event that caused it with its reason, linking to the event's page (and
C-1001/api, whose claim came after the close)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.integration.web.conftest import Desk
from tests.web_browser import as_answered, screenshot, sign_in

pytestmark = pytest.mark.integration

OVERVIEW = "/web/periods/2026-10"


def test_changes_since_the_close_with_their_causes(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW)
    page.get_by_role("link", name="Changes since the close, with their causes").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Changes in 2026-10"
    assert page.get_by_label("From (UTC)").input_value() == desk.close_moment
    api = desk.served.get("/v1/periods/2026-10/diff", **{"from": desk.close_moment}).json()
    assert [(r["contract_id"], r["service_id"]) for r in api["rows"]] == [
        ("C-1001", "api"),  # its claim, after the close, made its credit payable
        ("C-2002", "crm"),
    ]
    row = api["rows"][1]
    section = page.locator('section.diff-row[data-row="C-2002/crm"]')
    assert section.count() == 1
    assert page.locator("section.diff-row").count() == 2
    for name, change in row["fields"].items():
        shown = section.locator(f'tr[data-field="{name}"]')
        assert shown.get_attribute("data-from") == as_answered(change["from"])
        assert shown.get_attribute("data-to") == as_answered(change["to"])
    booked = section.locator('tr[data-field="booked_amount"]')
    assert booked.get_attribute("data-from") == as_answered(row["booked_amount"]["from"])
    assert booked.get_attribute("data-to") == as_answered(row["booked_amount"]["to"])
    credit = section.locator('tr[data-field="credit_amount"]')
    assert credit.get_attribute("data-from") == "120.00"
    assert credit.get_attribute("data-to") == "300.00"
    assert "A$120.00" in credit.inner_text()
    assert "A$300.00" in credit.inner_text()

    causes = row["caused_by_events"]
    assert [c["type"] for c in causes] == ["outage.amended"]
    for cause in causes:
        shown = section.locator(f'tr[data-event="{cause["event_id"]}"]')
        assert shown.get_by_role("link").get_attribute("href") == (
            f"/web/events/{cause['event_id']}"
        )
        assert "outage.amended" in shown.inner_text()
        assert "post-incident review" in shown.inner_text()  # the producer's reason
        assert "AEDT" in shown.inner_text()  # Sydney's time, its zone named
    # What finance was told: the reversal and the re-issue.
    kinds = section.locator("table.entries tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds == [e["kind"] for e in row["entries_recorded"]] == ["reversal", "issue"]
    row_link = section.get_by_role("heading", level=2).get_by_role("link")
    assert row_link.get_attribute("href") == "/web/periods/2026-10/rows/C-2002/crm"
    screenshot(page, "diff")
    page.context.close()


def test_a_contract_and_a_moment_narrow_it(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW + "/diff")
    assert page.locator("section.diff-row").count() == 0  # the form alone: from is needed
    page.get_by_label("From (UTC)").fill(desk.close_moment)
    page.get_by_label("Contract").fill("C-4004")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    assert "No row changed between these moments." in page.content()
    assert "0 rows changed" in page.locator("#diff_summary").inner_text()
    page.get_by_label("Contract").fill("C-2002")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    assert page.locator("section.diff-row").count() == 1
    page.context.close()


def test_bad_moments_are_refused_in_one_line(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then=OVERVIEW + "/diff?from=yesterday")
    assert page.get_by_role("heading", level=1).inner_text() == "A parameter is invalid"
    assert page.get_by_role("alert").inner_text().startswith("from ")
    response = page.goto(desk.served.base + OVERVIEW + "/diff?from=2026-11-03&to=2026-11-01")
    assert response is not None
    assert response.status == 422
    assert "Traceback" not in page.content()
    # A page number `str.isdigit` accepts but `int` refuses: a one-line 400, not a 500.
    for number in ("²", "١", "0"):
        response = page.goto(
            desk.served.base + OVERVIEW + "/diff?from=" + desk.close_moment + "&page=" + number
        )
        assert response is not None
        assert response.status == 400
        assert page.get_by_role("alert").inner_text().startswith("page: a whole number from 1")
    page.context.close()


def test_a_role_without_access_sees_no_diff(desk: Desk, browser: Browser) -> None:
    # Finance reads the report, not the diff (disputes' alone).
    page = sign_in(browser, desk.served, "finance", then=OVERVIEW + "/diff?from=2026-11-01")
    assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
    body = page.content()
    assert "C-2002" not in body
    assert "outage.amended" not in body
    page.context.close()
