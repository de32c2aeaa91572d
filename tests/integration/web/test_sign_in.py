"""Signing in to the dispute desk in a real browser, on both stores: nothing is shown
without a session, a wrong key is refused on the form, and a role without access to a
page sees nothing of the ledger."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.integration.web.conftest import Desk
from tests.web_browser import sign_in

pytestmark = pytest.mark.integration


def test_nothing_is_shown_without_a_session(desk: Desk) -> None:
    answer = httpx.get(desk.served.base + "/web/periods", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/web/sign-in?then=/web/periods"
    assert "2026-10" not in answer.text


def test_a_key_signs_in_and_back_to_the_page_asked_for(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "disputes", then="/web/periods")
    assert page.url == desk.served.base + "/web/periods"
    assert page.get_by_role("link", name="2026-10").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.goto(desk.served.base + "/web/periods")
    assert "/web/sign-in" in page.url
    page.context.close()


def test_a_wrong_key_is_refused_on_the_form(desk: Desk, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(desk.served.base + "/web/sign-in")
    page.fill("#api_key", "slk_not-a-key-of-this-server")
    page.click("form.sign-in button[type=submit]")
    assert "not configured on this server" in page.get_by_role("alert").inner_text()
    assert "/web/sign-in" in page.url
    page.close()


def test_a_role_without_access_sees_nothing(desk: Desk, browser: Browser) -> None:
    page = sign_in(browser, desk.served, "ingest", then="/web/periods")
    assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
    body = page.content()
    assert "2026-10" not in body
    assert "needs the role" in page.get_by_role("alert").inner_text()
    page.context.close()


def test_the_key_is_never_in_the_page_or_the_log(desk: Desk, browser: Browser) -> None:
    key = desk.served.keys["disputes"]
    page = sign_in(browser, desk.served, "disputes")
    assert key not in page.content()
    assert all(key not in c["value"] for c in page.context.cookies())
    assert key not in desk.served.log()
    page.context.close()


def test_a_form_from_another_site_neither_signs_in_nor_out(desk: Desk) -> None:
    key = desk.served.keys["disputes"]
    with httpx.Client(base_url=desk.served.base) as client:
        for header in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}):
            answer = client.post("/web/sign-in", data={"api_key": key}, headers=header)
            assert answer.status_code == 403
            assert "another site" in answer.text
            assert "set-cookie" not in answer.headers
        signed = client.post("/web/sign-in", data={"api_key": key})
        assert signed.status_code == 303
        refused = client.post("/web/sign-out", headers={"Sec-Fetch-Site": "cross-site"})
        assert refused.status_code == 403
        assert client.get("/web/periods").status_code == 200  # still signed in


def test_signing_out_or_in_again_ends_the_old_session_on_the_server(desk: Desk) -> None:
    key = desk.served.keys["disputes"]
    with httpx.Client(base_url=desk.served.base) as client:
        client.post("/web/sign-in", data={"api_key": key})
        first = client.cookies["sla_ledger_session"]
        client.post("/web/sign-in", data={"api_key": key})
        second = client.cookies["sla_ledger_session"]
        assert second != first
        client.post("/web/sign-out")
    for token in (first, second):  # replayed, as a copied cookie would be
        with httpx.Client(
            base_url=desk.served.base, cookies={"sla_ledger_session": token}
        ) as replay:
            assert replay.get("/web/periods").status_code == 303


def test_hostile_paths_and_values_are_one_line_4xx_pages(desk: Desk) -> None:
    key = desk.served.keys["all"]
    with httpx.Client(base_url=desk.served.base) as client:
        client.post("/web/sign-in", data={"api_key": key})
        for path in (
            "/web/periods/2026-10/rows/" + "C" * 5000 + "/crm",
            "/web/events/" + "e" * 5000,
            "/web/sign-in?then=" + "x" * 5000,
            "/web/periods/2026-10/rows/C-2002/crm?as_of=" + "9" * 100,
        ):
            answer = client.get(path)
            assert 400 <= answer.status_code < 500, (path[:60], answer.status_code)
            assert "Traceback" not in answer.text
            assert "C" * 300 not in answer.text
            assert "e" * 300 not in answer.text


def test_the_assets_are_the_ledgers_own_and_never_sniffed(desk: Desk) -> None:
    for asset, kind in (("desk.css", "text/css"), ("desk.js", "javascript")):
        answer = httpx.get(f"{desk.served.base}/web/static/{asset}")
        assert answer.status_code == 200
        assert kind in answer.headers["content-type"]
        assert answer.headers["x-content-type-options"] == "nosniff"
