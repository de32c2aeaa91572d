"""A real browser for the web view's tests: Playwright for Python driving Debian's
chromium (`dev.py test` installs it; Playwright's own browser download is never used),
headless, against a real `serve` process (`tests.http_server`).

Screenshots are test artifacts, written under `test-artifacts/web/` (or
`$SLA_LEDGER_TEST_ARTIFACTS/web/`) for a person to look at.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.http_server import Served

ROOT = Path(__file__).resolve().parent.parent
EXECUTABLE = os.environ.get("SLA_LEDGER_BROWSER", "/usr/bin/chromium")
# As root, without a sandbox; and never reaching out to Google's services (this
# machine's network is closed, and a test must not depend on one).
ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def artifacts() -> Path:
    base = Path(os.environ.get("SLA_LEDGER_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    directory = base / "web"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=EXECUTABLE, headless=True, args=ARGUMENTS
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: Browser, served: Served, role: str, then: str = "/web/periods") -> Page:
    """A new page (its own cookies) signed in with `role`'s key, at `then`."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(served.base + then)
    page.fill("#api_key", served.keys[role])
    page.click("form.sign-in button[type=submit]")
    page.wait_for_load_state()
    return page


def screenshot(page: Page, name: str) -> Path:
    path = artifacts() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def as_answered(value: object) -> str:
    """A figure as the API's JSON writes it: what a page's `data-value` must hold."""
    return value if isinstance(value, str) else json.dumps(value)


def figures(page: Page) -> dict[str, str]:
    """Every `data-field` on the page: its name and the exact value it holds (a field
    shown twice must hold the same value both times)."""
    found: dict[str, str] = {}
    for element in page.locator("[data-field]").all():
        name = element.get_attribute("data-field")
        value = element.get_attribute("data-value")
        assert name is not None
        assert value is not None
        assert found.setdefault(name, value) == value, name
    return found
