"""An event's raw envelope on the dispute desk, in a real browser on both stores: the
page shows the envelope the API answers with (`GET /v1/events/{id}`), which is the demo
file's line as the ledger accepted it; an event recorded after the moment asked about,
or an unknown id, is a 404 page; a role that may not read envelopes sees nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from consumers.intake.validation import parse_line
from ledger.timeformat import parse_rfc3339
from tests.integration.web.conftest import Desk
from tests.ledgers import DEMO
from tests.web_browser import screenshot, sign_in

pytestmark = pytest.mark.integration

LINE = 2  # the demo month's second line: Acme's contract, signed at 09:00 Sydney time


def demo_line(name: str, number: int) -> bytes:
    return (DEMO / name).read_bytes().splitlines()[number - 1]


def given_in(sent: Any, accepted: Any) -> bool:
    """Whether everything `sent` holds is in `accepted` with the same value (`accepted`
    may hold more keys: the defaults validation fills in)."""
    if isinstance(sent, dict):
        return isinstance(accepted, dict) and all(
            key in accepted and given_in(value, accepted[key]) for key, value in sent.items()
        )
    if isinstance(sent, list):
        return (
            isinstance(accepted, list)
            and len(sent) == len(accepted)
            and all(given_in(a, b) for a, b in zip(sent, accepted, strict=True))
        )
    return bool(sent == accepted)


def api_event(desk: Desk, event_id: str, role: str = "disputes", **params: str) -> httpx.Response:
    return desk.served.get(f"/v1/events/{event_id}", role=role, **params)


def test_the_page_shows_the_envelope_the_api_answers_and_the_file_held(
    desk: Desk, browser: Browser
) -> None:
    raw = demo_line("month.jsonl", LINE)
    sent: dict[str, Any] = json.loads(raw)
    event_id = sent["event_id"]
    answer = api_event(desk, event_id)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    compliance = api_event(desk, event_id, role="compliance").json()
    assert compliance | {"as_of": document["as_of"]} == document  # asked a moment later

    # The API's answer is the line as ingested: the same event, accepted from that line.
    assert document["canonical_envelope"] == parse_line(raw).canonical()
    assert (
        hashlib.sha256(document["canonical_envelope"].encode()).hexdigest()
        == (document["content_sha256"])
    )
    envelope = document["envelope"]
    for field in ("event_id", "type", "schema_version", "source"):
        assert envelope[field] == sent[field]
    assert parse_rfc3339(envelope["occurred_at"]) == parse_rfc3339(sent["occurred_at"])
    assert envelope["occurred_at"] == "2026-02-28T22:00:00Z"  # 09:00 at +11:00, in UTC
    # Every value the producer sent is accepted as sent (the ledger adds only defaults).
    assert given_in(sent["payload"], envelope["payload"])
    assert document["origin"]["line"] == LINE
    assert document["origin"]["file"].endswith("/consumers/demo/month.jsonl")
    assert document["chain"]["position"] == LINE  # the store's second record

    page = sign_in(browser, desk.served, "disputes", then=f"/web/events/{event_id}")
    try:
        assert page.url == desk.served.base + f"/web/events/{event_id}"
        assert event_id in page.get_by_role("heading", level=1).inner_text()
        assert json.loads(page.locator("#envelope").inner_text()) == envelope
        assert page.locator("#canonical").text_content() == document["canonical_envelope"]
        facts = page.locator("dl.facts").inner_text()
        for shown in (
            document["type"],
            document["subject_id"],
            document["occurred_at"],
            document["recorded_at"],
            f"line {LINE}",
            document["chain"]["record_sha256"],
            document["chain"]["chain_sha256"],
            document["content_sha256"],
        ):
            assert shown in facts, shown
        assert "UTC" in page.locator("main").inner_text()
        screenshot(page, "event")
    finally:
        page.context.close()


def test_an_event_recorded_later_is_not_found_as_of_before(desk: Desk, browser: Browser) -> None:
    late = json.loads(demo_line("late-correction.jsonl", 1))["event_id"]
    assert api_event(desk, late).status_code == 200
    before = api_event(desk, late, as_of=desk.close_moment)
    assert before.status_code == 404
    assert before.json()["type"] == "/problems/not-found"

    page = sign_in(browser, desk.served, "compliance", then=f"/web/events/{late}")
    try:
        assert json.loads(page.locator("#envelope").inner_text())["type"] == "outage.amended"
        shown = page.goto(f"{desk.served.base}/web/events/{late}?as_of={desk.close_moment}")
        assert shown is not None
        assert shown.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == "Not found"
        assert "was accepted by" in page.get_by_role("alert").inner_text()
        assert page.locator("#envelope").count() == 0
    finally:
        page.context.close()


def test_an_unknown_event_is_a_404_page(desk: Desk, browser: Browser) -> None:
    unknown = "00000000-0000-5000-8000-000000000000"
    assert api_event(desk, unknown).status_code == 404
    page = sign_in(browser, desk.served, "disputes", then=f"/web/events/{unknown}")
    try:
        shown = page.goto(f"{desk.served.base}/web/events/{unknown}")
        assert shown is not None
        assert shown.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == "Not found"
        assert unknown in page.get_by_role("alert").inner_text()
    finally:
        page.context.close()


def test_a_role_that_may_not_read_envelopes_sees_nothing(desk: Desk, browser: Browser) -> None:
    event_id = json.loads(demo_line("month.jsonl", LINE))["event_id"]
    assert api_event(desk, event_id, role="finance").status_code == 403
    page = sign_in(browser, desk.served, "finance", then=f"/web/events/{event_id}")
    try:
        assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
        assert "disputes" in page.get_by_role("alert").inner_text()
        body = page.content()
        assert "contract.signed" not in body
        assert "Acme" not in body
    finally:
        page.context.close()
