"""The audit page in a real browser on both stores: compliance sees the chain's head and
the checkpoint of every close as the API gives them, verifies the chain on asking (the
API's verification), and downloads a period's bundle, the very zip the API exports; a
dispute handler sees nothing of it. A chain edited behind the ledger's back: the page
names the first bad position, and the bundle is refused (409 page)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.http_server import Served
from tests.integration.web.conftest import Desk, served_ledger
from tests.ledgers import demo_ledger
from tests.tampering import tamper
from tests.web_browser import screenshot, sign_in

EDITED = 5  # the chain position whose event is edited in the tampered store

pytestmark = pytest.mark.integration


def unpacked(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def closed(desk: Desk, period: str) -> dict[str, Any]:
    periods = desk.served.get("/v1/periods", role="compliance").json()["periods"]
    found: dict[str, Any] = next(p for p in periods if p["period"] == period)
    assert found["status"] == "closed"
    return found


def test_the_page_shows_the_head_checkpoints_and_verification_of_the_api(
    desk: Desk, browser: Browser
) -> None:
    verified = desk.served.get("/v1/audit/verify", role="compliance").json()
    assert verified["ok"] is True
    october = closed(desk, "2026-10")["checkpoint"]

    page = sign_in(browser, desk.served, "compliance", then="/web/audit")
    try:
        assert page.get_by_role("heading", level=1).inner_text() == "Audit"
        assert page.locator(".head-position").inner_text() == str(verified["head"]["position"])
        assert page.locator(".head-sha").inner_text() == verified["head"]["chain_sha256"]
        # Not verified until asked: the verdict is the API's once asked.
        assert page.locator(".verdict").count() == 0
        page.get_by_role("button", name="Verify now").click()
        page.wait_for_load_state()
        assert page.url.endswith("/web/audit?verify=1")
        verdict = page.get_by_role("status").inner_text()
        assert "Verified" in verdict
        assert f"records verified {verified['records_verified']}" in verdict
        assert verified["head"]["chain_sha256"] in verdict
        shown = page.locator(".verified-position").inner_text()
        assert shown == str(verified["head"]["position"])

        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="2026-10"))
        assert row.locator(".checkpoint").inner_text() == (
            f"{october['position']}:{october['chain_sha256']}"
        )
        assert closed(desk, "2026-10")["closed_at"] in row.inner_text()
        screenshot(page, "audit")
    finally:
        page.context.close()


def test_the_bundle_download_is_the_apis_export(desk: Desk, browser: Browser) -> None:
    with desk.served.client("compliance") as client:
        exported = client.post("/v1/audit/exports", params={"period": "2026-10"})
    assert exported.status_code == 200, exported.text

    page = sign_in(browser, desk.served, "compliance", then="/web/audit")
    try:
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download the 2026-10 bundle (zip)").click()
        download = downloading.value
        assert download.suggested_filename == "sla-ledger-2026-10.zip"
        downloaded = (download.path()).read_bytes()
    finally:
        page.context.close()
    theirs, ours = unpacked(exported.content), unpacked(downloaded)
    assert sorted(ours) == sorted(theirs)
    assert "sla-ledger-2026-10/manifest.json" in ours
    assert ours == theirs


def test_a_dispute_handler_cannot_open_the_audit(desk: Desk, browser: Browser) -> None:
    head = desk.served.get("/v1/audit/verify", role="compliance").json()["head"]
    page = sign_in(browser, desk.served, "disputes", then="/web/audit")
    try:
        answer = page.goto(desk.served.base + "/web/audit?verify=1")
        assert answer is not None
        assert answer.status == 403
        assert page.get_by_role("heading", level=1).inner_text() == "Not for this key"
        assert "compliance" in page.get_by_role("alert").inner_text()
        body = page.content()
        assert head["chain_sha256"] not in body
        assert "Download" not in body
        assert page.get_by_role("link", name="Audit").count() == 0  # not in the navigation
    finally:
        page.context.close()
    # Nor its bundles, even asked for by address.
    with httpx.Client(base_url=desk.served.base) as client:
        sign = client.post(
            "/web/sign-in",
            data={"api_key": desk.served.keys["disputes"], "then": "/web/periods"},
        )
        assert sign.status_code in (200, 303)
        bundle = client.get("/web/audit/bundles/2026-10")
    assert bundle.status_code == 403
    assert bundle.headers["content-type"].startswith("text/html")
    assert "Not for this key" in bundle.text


def _tampered(url: str, directory: Path) -> None:
    demo_ledger(url, directory)
    tamper(
        url,
        f"UPDATE sla_events SET occurred_at = '2026-10-07T14:06:00Z' WHERE chain_pos = {EDITED}",
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def tampered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The demo's month with one event's indexed time edited behind the ledger's back."""
    with served_ledger(request, tmp_path_factory.mktemp("tampered"), _tampered) as (served, _, _):
        yield served


def test_a_chain_that_does_not_verify_is_said_and_not_exported(
    tampered: Served, browser: Browser
) -> None:
    verified = tampered.get("/v1/audit/verify", role="compliance").json()
    assert verified["ok"] is False
    assert verified["first_mismatch"]["position"] == EDITED

    page = sign_in(browser, tampered, "compliance", then="/web/audit?verify=1")
    try:
        verdict = page.get_by_role("alert")
        assert verdict.count() == 1
        assert "Does not verify" in verdict.inner_text()
        assert page.locator(".bad-position").inner_text() == str(EDITED)
        assert page.get_by_role("status").count() == 0
        screenshot(page, "audit-not-verified")
        refused = page.goto(tampered.base + "/web/audit/bundles/2026-10")
        assert refused is not None
        assert refused.status == 409
        assert refused.headers["content-type"].startswith("text/html")
        assert page.get_by_role("heading", level=1).inner_text() == "The chain does not verify"
    finally:
        page.context.close()
