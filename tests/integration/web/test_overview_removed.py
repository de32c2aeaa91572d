"""A row at the close that is gone now, on both stores: the demo's month, closed, then
C-3003 terminated backdated (its end moved to 1 October, recorded after the close), so
its October rows no longer exist. The overview counts and lists them as the diff does
(one rule of "a row changed": `row_change`), links each to the diff for that contract,
and a finance key sees them without the link it may not open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from ledger.timeformat import format_utc
from projections.store import LedgerStore
from tests.builders import ev
from tests.http_server import Served, serving
from tests.infrastructure import fresh_postgres_database, sqlite_url
from tests.ledgers import demo_ledger, ingest_docs
from tests.web_browser import as_answered, screenshot, sign_in

pytestmark = pytest.mark.integration

OVERVIEW = "/web/periods/2026-10"
GONE = "C-3003"


def terminated_after_the_close(url: str, directory: Path) -> str:
    """The demo's month, closed and corrected late; then C-3003's termination, its end
    backdated to the start of the closed month. The close's moment."""
    closed = demo_ledger(url, directory)
    ended = ev(
        "contract.terminated",
        "2026-11-20T09:00:00Z",
        {"contract_id": GONE, "effective_to": "2026-10-01"},
    )
    with LedgerStore(url, access="write") as store:
        ingest_docs(store, directory / "terminated.jsonl", [ended])
    return format_utc(closed)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, str]]:
    directory = tmp_path_factory.mktemp("removed")
    if request.param == "sqlite":
        url = sqlite_url(directory)
        close = terminated_after_the_close(url, directory)
        with serving(url, directory) as served:
            yield served, close
        return
    postgres: str = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(postgres) as url:
        close = terminated_after_the_close(url, directory)
        with serving(url, directory) as served:
            yield served, close


def test_rows_gone_since_the_close_are_counted_and_listed(
    store: tuple[Served, str], browser: Browser
) -> None:
    served, close = store
    report = served.get("/v1/periods/2026-10/report").json()
    diff = served.get("/v1/periods/2026-10/diff", **{"from": close}).json()
    removed = [r for r in diff["rows"] if r["change"] == "removed"]
    assert removed, "the termination removes C-3003's October rows"
    assert {r["contract_id"] for r in removed} == {GONE}
    assert GONE not in {r["contract_id"] for r in report["rows"]}
    at_close = served.get("/v1/periods/2026-10/report", as_of=close).json()["rows"]
    gone = [r for r in at_close if r["contract_id"] == GONE]
    assert [(r["contract_id"], r["service_id"]) for r in gone] == [
        (r["contract_id"], r["service_id"]) for r in removed
    ]

    page = sign_in(browser, served, "disputes", then=OVERVIEW)
    marks = page.eval_on_selector_all(
        "table.overview tbody tr[data-row] [data-mark]", "cells => cells.map(c => c.dataset.mark)"
    )
    changed = marks.count("changed")
    # The diff's rows, one rule: the changed rows still here and the removed ones.
    assert changed + len(removed) == diff["rows_changed"]
    assert changed == len([r for r in diff["rows"] if r["change"] != "removed"])
    facts = page.locator("#changed_count").inner_text()
    assert facts == (
        f"{changed} of {len(report['rows'])} rows changed, {len(removed)} removed since the close."
    )
    table = page.get_by_role("table", name=re.compile("^Rows at the close that are gone now"))
    assert table.count() == 1
    listed = table.locator("tbody tr")
    assert listed.count() == len(gone)
    for shown, expected in zip(listed.all(), gone, strict=True):
        assert shown.get_attribute("data-row") == f"{GONE}/{expected['service_id']}"
        amount = shown.locator('[data-field="credit_amount"]')
        assert amount.get_attribute("data-value") == as_answered(expected["credit_amount"])
        assert "removed" in shown.locator("[data-mark]").inner_text()
    screenshot(page, "overview-removed")

    # Each links to the diff of its contract since the close, which tells it removed.
    with page.expect_navigation():
        listed.first.get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Changes in 2026-10"
    assert page.get_by_label("Contract").input_value() == GONE
    sections = page.locator("section.diff-row")
    assert sections.count() == len(gone)
    assert sections.first.locator(".change-kind").inner_text() == "removed"
    page.context.close()

    # Finance sees the rows gone, not a link to the diff it may not open.
    page = sign_in(browser, served, "finance", then=OVERVIEW)
    table = page.get_by_role("table", name=re.compile("^Rows at the close that are gone now"))
    assert table.locator("tbody tr").count() == len(gone)
    assert table.get_by_role("link").count() == 0
    assert page.locator("table.overview a").count() == len(page.locator("th a.sort").all())
    screenshot(page, "overview-removed-finance")
    page.context.close()
