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
