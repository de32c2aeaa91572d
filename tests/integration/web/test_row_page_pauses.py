"""The row page in a real browser, on both stores, for a row whose terms set resolution
targets (sla-math §11): each pause is drawn on its incident's lane where the API's
explain document puts it, with the same facts in words in the table under the chart,
and the resolution figures are the API's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.builders import contract, incident, service
from tests.cli_process import succeeded
from tests.http_server import Served
from tests.integration.web.conftest import served_ledger
from tests.unit.test_web_timeline_pauses import TERMS, pause, resolve, resume
from tests.web_browser import as_answered, figures, sign_in

pytestmark = pytest.mark.integration

ROW = "/web/periods/2026-10/rows/C-1/crm"
EXPLAIN = "/v1/rows/C-1/crm/2026-10/explain"


def build(url: str, directory: Path) -> None:
    """Worked example 12 in October 2026, and an incident paused and never resumed."""
    docs: list[dict[str, Any]] = [
        contract(services=[service(incident_response=TERMS)]),
        *incident("INC-1", "P2", "2026-10-05T09:00:00Z", "2026-10-05T09:30:00Z"),
        pause("INC-1", "2026-10-05T11:00:00Z"),
        resume("INC-1", "2026-10-06T10:00:00Z"),
        resolve("INC-1", "2026-10-06T16:00:00Z"),
        *incident("INC-2", "P2", "2026-10-08T09:00:00Z", None),
        pause("INC-2", "2026-10-08T10:00:00Z", "customer away"),
    ]
    path = directory / "pauses.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    succeeded("ingest", "--store", url, "--from-file", str(path))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served_ledger(request, tmp_path_factory.mktemp("pauses"), build) as (server, _, _):
        yield server


@pytest.fixture(scope="module")
def page(served: Served, browser: Browser) -> Iterator[Page]:
    opened = sign_in(browser, served, "disputes", then=ROW)
    yield opened
    opened.context.close()


def test_pauses_are_drawn_where_the_api_puts_them_and_said_in_words(
    served: Served, page: Page
) -> None:
    page.goto(served.base + ROW)
    answer = served.get(EXPLAIN)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    shown = figures(page)
    for name in ("resolution_met", "resolution_pending", "resolution_credit_percent"):
        assert shown[name] == as_answered(document["row"][name])
    incidents = {i["incident_id"]: i for i in document["incident_resolution"]["incidents"]}
    marks = page.locator('svg.timeline-chart g.mark[data-kind="incident-paused"]')
    assert marks.count() == 2
    for ident, number in (("INC-1", 1), ("INC-2", 1)):
        [interval] = incidents[ident]["paused_intervals"]
        mark = marks.and_(page.locator(f'[data-id="{ident} pause {number}"]'))
        assert mark.get_attribute("data-start") == interval["start"]
        if interval["open"]:
            # Still paused: the interval runs to the horizon, the moment each answer
            # was computed at (the page's and this API call's differ).
            assert mark.get_attribute("data-ongoing") == "true"
        else:
            assert mark.get_attribute("data-end") == interval["end"]
        assert mark.get_attribute("data-status") == incidents[ident]["status"]
        # The band is a bar filled with the pause pattern, reachable from the keyboard.
        assert mark.locator("rect.bar").count() == 1
        assert mark.get_attribute("tabindex") == "0"
        label = mark.get_attribute("aria-label") or ""
        if interval["open"]:
            # What an open pause removes grows with the horizon in business hours: the
            # page's and this API call's moments differ, so only its words are compared.
            assert re.search(r"removed [^()]+ \([\d,.]+ s\) of business time", label), label
        else:
            assert f"removed {interval['removed_text']} of business time" in label
        assert incidents[ident]["status"] in ("met", "pending")
    facts = page.locator('table.timeline-facts tr[data-kind="incident-paused"]')
    assert facts.count() == 2
    first = facts.first.inner_text()
    assert "Paused (resolution clock stopped)" in first
    assert "removed 9 h (32,400 s) of business time" in first
    resolved = page.locator('svg.timeline-chart g.mark[data-kind="incident-resolved"]')
    assert resolved.count() == 1
    assert resolved.get_attribute("data-status") == "met"
    target = page.locator('svg.timeline-chart g.mark[data-kind="incident-resolution-target"]')
    assert target.get_attribute("data-start") == incidents["INC-1"]["target_at"]
    assert page.locator(".timeline-legend").inner_text().count("upright strokes") == 1
