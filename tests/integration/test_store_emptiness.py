"""One answer to "is this store empty?" (`StoreReads.is_empty`) and one way to write a
SQLite path as a store URL (`sqlite_url`), which the demo and the CLI share."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.store import LedgerStore, parse_store_url, sqlite_url
from tests.builders import contract
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration


def test_a_sqlite_url_names_its_path_even_with_a_percent_sign() -> None:
    for path in ("ledger.db", "/tmp/100%/ledger.db", "a%20b.db"):
        assert parse_store_url(sqlite_url(path)) == ("sqlite", {"path": path})


def test_a_store_holding_only_a_rejection_is_not_empty(tmp_path: Path) -> None:
    # Rejections are not chained: the chain's head alone would call this store empty.
    url = sqlite_url(str(tmp_path / "ledger.db"))
    result = run("ingest", "--from-file", str(feed(tmp_path, [], [b'{"broken": '])), store=url)
    assert result.returncode == 0, result.stderr
    with LedgerStore(url, access="create") as store:
        assert store.chain_head().position == 0
        assert not store.is_empty()


def test_a_new_store_is_empty_and_one_with_an_event_is_not(store_url: str, tmp_path: Path) -> None:
    with LedgerStore(store_url, access="create") as store:
        assert store.is_empty()
    result = run("ingest", "--from-file", str(feed(tmp_path, [contract()])), store=store_url)
    assert result.returncode == 0, result.stderr
    with LedgerStore(store_url, access="create") as store:
        assert not store.is_empty()
