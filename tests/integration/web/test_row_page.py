"""The row page in a real browser, on both stores: its figures are the API's, its
timeline's outage marks are the row's outages, the as-of control shows the figures of
the close after the late correction, the lineage shows issue, reversal and re-issue with
their cause, every event id links to the event's page, and a role that may not explain
rows sees nothing of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from ledger.periods import to_us
from ledger.timeformat import parse_utc
from tests.integration.web.conftest import Desk
from tests.web_browser import as_answered, figures, screenshot, sign_in

pytestmark = pytest.mark.integration

ROW = "/web/periods/2026-10/rows/C-2002/crm"
INCIDENTS_ROW = "/web/periods/2026-10/rows/C-3003/managed-ops"
EXPLAIN = "/v1/rows/C-2002/crm/2026-10/explain"


def explained(desk: Desk, path: str = EXPLAIN, **params: Any) -> dict[str, Any]:
    answer = desk.served.get(path, **params)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def event_ids(value: object) -> set[str]:
    """Every event id a document names (fields `*event_id` and `*event_ids`)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("event_id") and isinstance(item, str):
                found.add(item)
            elif key.endswith("event_ids") and isinstance(item, list):
                found.update(item)
            else:
                found |= event_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= event_ids(item)
    return found


@pytest.fixture(scope="module")
def disputes(desk: Desk, browser: Browser) -> Iterator[Page]:
    page = sign_in(browser, desk.served, "disputes", then=ROW)
    yield page
    page.context.close()


def test_every_figure_is_the_apis(desk: Desk, disputes: Page) -> None:
    disputes.goto(desk.served.base + ROW)
    row = explained(desk)["row"]
    shown = figures(disputes)
    expected = {
        "availability_percent",
        "availability_met",
        "downtime_seconds",
        "measured_seconds",
        "excluded_seconds",
        "incidents_met",
        "incidents_missed",
        "incidents_pending",
        "response_attainment_percent",
        "credit_percent",
        "fee_basis",
        "credit_amount",
        "status",
        "terms_version",
    }
    assert expected <= shown.keys()
    assert shown == {name: as_answered(row[name]) for name in shown}
    assert shown["credit_amount"] == "300.00"
    key_figures = disputes.locator(".key-figures").inner_text()
    assert "A$300.00" in key_figures
    assert "A$1,200.00" in key_figures
    heading = disputes.get_by_role("heading", level=1).inner_text()
    for part in ("C-2002", "Acme Pty Ltd", "crm", "2026-10"):
        assert part in heading


def test_the_timelines_outage_marks_are_the_outages(desk: Desk, disputes: Page) -> None:
    disputes.goto(desk.served.base + ROW)
    document = explained(desk)
    outages = document["availability"]["outages"]
    chart = disputes.locator("svg.timeline-chart")
    window = document["coverage"]["window"]
    assert chart.get_attribute("data-window-start") == window["start"]
    assert chart.get_attribute("data-window-end") == window["end"]
    view_box = (chart.get_attribute("viewBox") or "").split()
    width = float(view_box[2])
    first, last = to_us(parse_utc(window["start"])), to_us(parse_utc(window["end"]))
    marks = disputes.locator("svg.timeline-chart g.mark-outage")
    assert marks.count() == len(outages) == 3
    for outage in outages:
        mark = marks.and_(disputes.locator(f'[data-id="{outage["outage_id"]}"]'))
        interval = outage["corrected"]
        assert mark.get_attribute("data-start") == interval["start"]
        assert mark.get_attribute("data-end") == interval["end"]
        assert mark.get_attribute("data-kind") == "outage"
        excluded = outage["status"] == "excluded"
        assert (mark.get_attribute("data-status") == "excluded") == excluded
        rect = mark.locator("rect").first
        start, end = to_us(parse_utc(interval["start"])), to_us(parse_utc(interval["end"]))
        x = float(rect.get_attribute("x") or "nan")
        assert abs(x - width * (start - first) / (last - first)) < 0.01
        drawn = float(rect.get_attribute("width") or "nan")
        assert abs(drawn - width * (end - start) / (last - first)) < 0.01
    excluded_ids = [o["outage_id"] for o in outages if o["status"] == "excluded"]
    assert excluded_ids == ["OUT-CRM-1025"]
    facts = disputes.locator('table.timeline-facts tr[data-kind="outage"]')
    assert facts.count() == len(outages)


def test_the_as_of_control_shows_the_close(desk: Desk, disputes: Page) -> None:
    disputes.goto(desk.served.base + ROW)
    assert disputes.locator(".past-banner").count() == 0
    now = figures(disputes)
    assert (now["credit_amount"], now["credit_percent"]) == ("300.00", "25")
    disputes.get_by_label("As the ledger knew it at (UTC)").fill(desk.close_moment)
    disputes.get_by_role("button", name="Show").click()
    disputes.wait_for_load_state()
    assert "as_of=" in disputes.url
    then = figures(disputes)
    assert (then["credit_amount"], then["credit_percent"]) == ("120.00", "10")
    closed = explained(desk, as_of=desk.close_moment)["row"]
    assert then == {name: as_answered(closed[name]) for name in then}
    banner = disputes.locator(".past-banner").inner_text()
    assert "past moment" in banner
    assert "A$120.00" in disputes.locator(".key-figures").inner_text()
    # At the close only the first issue was recorded.
    assert disputes.locator("section.entry").count() == 1
    # Its links keep the moment: an event as known then, the changes up to it.
    moment = quote(desk.close_moment)
    hrefs = disputes.eval_on_selector_all("a.event-id, a.id", "links => links.map(a => a.href)")
    assert hrefs
    assert all(href.endswith(f"?as_of={moment}") for href in hrefs)
    changes = disputes.get_by_role("link", name="What changed since the close")
    asked = parse_qs(urlsplit(changes.get_attribute("href") or "").query)
    assert asked["to"] == [desk.close_moment]


def test_the_lineage_shows_issue_reversal_and_reissue(desk: Desk, disputes: Page) -> None:
    disputes.goto(desk.served.base + ROW)
    entries = explained(desk)["entries"]
    sections = disputes.locator("section.entry")
    assert sections.count() == 3
    kinds = [s.get_attribute("data-kind") for s in sections.all()]
    assert kinds == ["issue", "reversal", "issue"]
    issue, reversal, reissue = (e["entry_id"] for e in entries)
    assert [s.get_attribute("data-entry-id") for s in sections.all()] == [issue, reversal, reissue]
    assert "re-issue" in sections.nth(2).locator("h3").inner_text()
    back = sections.nth(1).get_by_role("link", name=issue)
    assert back.get_attribute("href") == f"#entry-{issue}"
    assert sections.nth(0).get_by_role("link", name=reversal).is_visible()
    assert sections.nth(0).get_by_role("link", name=reissue).is_visible()
    for place, entry_id in ((1, reversal), (2, reissue)):
        lineage = desk.served.get(f"/v1/credits/{entry_id}").json()
        causes = sections.nth(place).locator("tr.cause")
        assert [c.get_attribute("data-event-id") for c in causes.all()] == [
            c["event_id"] for c in lineage["caused_by"]
        ]
        assert [c.get_attribute("data-type") for c in causes.all()] == ["outage.amended"]
    assert sections.nth(0).locator("tr.cause").count() == 0
    text = sections.nth(1).inner_text()
    assert "-A$120.00" in text


def test_every_event_id_links_to_its_event(desk: Desk, disputes: Page) -> None:
    incidents_explain = "/v1/rows/C-3003/managed-ops/2026-10/explain"
    for path, api in ((ROW, EXPLAIN), (INCIDENTS_ROW, incidents_explain)):
        disputes.goto(desk.served.base + path)
        links = disputes.locator("a.event-id")
        linked = set()
        for link in links.all():
            text = link.inner_text().strip()
            assert link.get_attribute("href") == f"/web/events/{text}"
            linked.add(text)
        named = event_ids(explained(desk, api))
        assert named <= linked
        # No event id is shown without its link.
        for code in disputes.locator("code").all():
            if code.inner_text().strip() in named:
                assert code.evaluate("c => c.closest('a.event-id') !== null")


def test_a_role_that_may_not_explain_sees_nothing(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "finance", then=ROW)
    assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
    body = page.locator("main").inner_text()
    assert "disputes" in page.get_by_role("alert").inner_text()
    for secret in ("Acme", "300.00", "A$", "OUT-CRM", "basis_sha256"):
        assert secret not in page.content()
    assert "needs the role" in body
    page.context.close()


def test_an_unknown_row_is_a_404_page(desk: Desk, disputes: Page) -> None:
    answer = disputes.goto(desk.served.base + "/web/periods/2026-10/rows/C-9999/crm")
    assert answer is not None
    assert answer.status == 404
    api = desk.served.get("/v1/rows/C-9999/crm/2026-10/explain").json()
    shown = disputes.get_by_role("alert").inner_text()
    assert shown.split(": ", 1)[1] == api["detail"].split(": ", 1)[1]


def test_a_moment_the_api_refuses_is_refused_as_a_page(desk: Desk, disputes: Page) -> None:
    answer = disputes.goto(desk.served.base + ROW + "?as_of=2026-13-45")
    assert answer is not None
    api = desk.served.get(EXPLAIN, as_of="2026-13-45")
    assert answer.status == api.status_code == 400
    assert disputes.get_by_role("alert").inner_text() == api.json()["detail"]
    assert disputes.locator("[data-field]").count() == 0


def test_screenshots(desk: Desk, disputes: Page) -> None:
    """On each store (named in the file), so a page that renders differently on one
    of them shows; the SQLite ones carry the plain names the issue asks for."""
    suffix = "" if desk.kind == "sqlite" else f"-{desk.kind}"
    disputes.goto(desk.served.base + ROW)
    screenshot(disputes, "row-page" + suffix)
    disputes.goto(desk.served.base + INCIDENTS_ROW)
    assert disputes.locator("table.incidents tbody tr").count() == 3
    screenshot(disputes, "row-page-incidents" + suffix)
    disputes.goto(desk.served.base + ROW)
    disputes.emulate_media(media="print")
    assert not disputes.locator("form.as-of").is_visible()
    assert not disputes.locator(".masthead nav").is_visible()
    screenshot(disputes, "row-page-print" + suffix)
    disputes.emulate_media(media="screen")
