"""The web view's fixtures: one headless chromium per module, and the demo's
month (closed, then corrected late) served by a real `serve` process on each store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser

from ledger.timeformat import format_utc
from tests.http_server import Served, serving
from tests.infrastructure import fresh_postgres_database, sqlite_url
from tests.ledgers import demo_ledger
from tests.web_browser import chromium

T = TypeVar("T")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per module, not per session: Playwright's synchronous API keeps an
    event loop running on this thread while it is open, and a later test's
    `asyncio.run` would then refuse to start."""
    with chromium() as launched:
        yield launched


@dataclass(frozen=True)
class Desk:
    served: Served
    store_url: str
    closed_at: datetime  # the close of 2026-10, before the late correction
    kind: str  # "sqlite" or "postgresql"

    @property
    def close_moment(self) -> str:
        return format_utc(self.closed_at)


@contextmanager
def served_ledger(
    request: pytest.FixtureRequest,
    directory: Path,
    build: Callable[[str, Path], T],
) -> Iterator[tuple[Served, str, T]]:
    """A store of the kind `request.param` names ("sqlite" or "postgresql", a new
    database), filled by `build(url, directory)`, then served: the server, the store's
    URL and what `build` returned."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_url(directory)
        else:
            postgres: str = request.getfixturevalue("postgres_url")
            url = stack.enter_context(fresh_postgres_database(postgres))
        built = build(url, directory)
        served = stack.enter_context(serving(url, directory))
        yield served, url, built


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """The demo's month on each store, served (read-only use: tests must not write)."""
    with served_ledger(request, tmp_path_factory.mktemp("desk"), demo_ledger) as (
        served,
        url,
        closed,
    ):
        yield Desk(served, url, closed, request.param)
