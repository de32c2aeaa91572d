"""The row page shows the row's claim (sla-math §10) in a real browser, on both stores:
its status, deadline (the contract's local time and UTC), threshold and payable amount
are the API's explain document's, and each claim naming the row is listed with whether
it counts and its decision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service
from tests.http_server import Served
from tests.integration.web.conftest import served_ledger
from tests.web_browser import as_answered, figures, sign_in

pytestmark = pytest.mark.integration

ROW = "/web/periods/2026-03/rows/C-1/crm"
EXPLAIN = "/v1/rows/C-1/crm/2026-03/explain"


def build(url: str, directory: Path) -> None:
    terms = service()
    terms["claim_deadline_days"] = 60
    terms["credit_threshold_amount"] = "10.00"
    claim = {"contract_id": "C-1", "service_id": "crm", "period": "2026-03"}
    docs = [
        contract(tz="Europe/Berlin", services=[terms]),
        *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"),
        ev(
            "claim.submitted",
            "2026-04-02T09:00:00Z",
            {"claim_id": "CL-1", **claim, "submitted_at": "2026-04-02T09:00:00Z"},
        ),
        ev(
            "claim.submitted",
            "2026-04-03T09:00:00Z",
            {"claim_id": "CL-2", **claim, "submitted_at": "2026-04-03T09:00:00Z"},
        ),
        ev(
            "claim.decided",
            "2026-04-04T09:00:00Z",
            {"claim_id": "CL-2", "decision": "denied", "reason": "a duplicate of CL-1"},
        ),
    ]
    path = directory / "events.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, path)
        close_period(store, Period(2026, 3), datetime.now(UTC))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served_ledger(request, tmp_path_factory.mktemp("claims-desk"), build) as (
        server,
        _url,
        _built,
    ):
        yield server


@pytest.fixture(scope="module")
def disputes(served: Served, browser: Browser) -> Iterator[Page]:
    page = sign_in(browser, served, "disputes", then=ROW)
    yield page
    page.context.close()


def test_the_claim_is_the_apis(served: Served, disputes: Page) -> None:
    disputes.goto(served.base + ROW)
    answer = served.get(EXPLAIN)
    assert answer.status_code == 200, answer.text
    claims = answer.json()["claims"]
    assert claims["deadline"] == "2026-05-30T22:00:00Z"  # local midnight, 31 May
    assert (claims["claim_status"], claims["payable_amount"]) == ("claimed", "100.00")
    shown = figures(disputes)
    assert shown["claim_status"] == "claimed"
    assert shown["payable_amount"] == "100.00"
    # The claim's own facts (not row fields): `data-claim`, with the API's value.
    claim_facts = {
        element.get_attribute("data-claim"): element.get_attribute("data-value")
        for element in disputes.locator("[data-claim]").all()
    }
    assert claim_facts == {
        "deadline": as_answered(claims["deadline"]),
        "credit_threshold_amount": "10.00",
    }
    section = disputes.locator("section.claims").inner_text()
    # The deadline in the contract's local time, then UTC.
    assert "31 May 2026" in section or "2026-05-31" in section, section
    assert "22:00" in section, section
    rows = disputes.locator("table.claims-table tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "CL-1" in first
    assert "yes" in first
    assert "CL-2" in second
    assert "denied: a duplicate of CL-1" in second
