"""A store written before entries carried `basis_version` (its entries table without the
column) on SQLite and PostgreSQL: a reader reads its entries as version 1 and leaves the
store as it is; a writer adds the column, every existing row taking 1; either way the
chain verifies and its head does not move, since a version-1 entry is chained exactly as
before the field existed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.credits import BASIS_VERSION
from ledger.periods import Period
from projections.audit.verify import verify
from projections.credit_entries import close_period
from projections.store import LedgerStore, parse_store_url
from tests.tampering import query

pytestmark = pytest.mark.integration

ENTRIES = "sla_credit_entries"


def _without_the_column(url: str) -> None:
    """Make the store one an earlier sla-ledger left: no `basis_version` column (its
    triggers kept) and, on PostgreSQL, an earlier schema mark."""
    statement = f"ALTER TABLE {ENTRIES} DROP COLUMN basis_version"
    dialect, params = parse_store_url(url)
    if dialect == "sqlite":
        with closing(sqlite3.connect(params["path"])) as conn:
            conn.execute(statement)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(statement.encode())
        # An older schema carries an older mark (`postgres.LedgerPostgresRecorder`):
        # a writer upgrades only a store whose mark is not this code's.
        conn.execute(b"COMMENT ON TABLE sla_ledger_events IS 'an earlier schema'")


@pytest.fixture
def older(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`store_url` holding two closed months with a correction between, every entry
    computed with basis version 1, as an sla-ledger before versions computed them."""
    from tests.ledgers import two_closed_months

    with monkeypatch.context() as patched:
        patched.setattr("ledger.credits.BASIS_VERSION", 1)
        return two_closed_months(store_url, tmp_path)


def _has_the_column(url: str) -> bool:
    try:
        query(url, f"SELECT basis_version FROM {ENTRIES} WHERE 1 = 0")
    except Exception:
        return False
    return True


def test_an_older_store_reads_as_version_1_and_is_upgraded_by_a_writer(older: str) -> None:
    ledger = older
    with LedgerStore(ledger, access="create") as store:
        head = store.chain_head()
        entries = store.entries()
    assert entries
    assert {e.basis_version for e in entries} == {1}
    _without_the_column(ledger)

    with LedgerStore(ledger, access="read") as reader:
        assert reader.entries() == entries
        assert reader.chain_head() == head
        with reader.reader() as view:
            assert verify(view).ok
    assert not _has_the_column(ledger), "a reader changed the store"

    with LedgerStore(ledger, access="create") as writer:
        assert writer.entries() == entries
        with writer.reader() as view:
            assert verify(view).ok
        # It goes on working: April closed again appends nothing, a new month closes.
        close_period(writer, Period(2026, 4), datetime.now(UTC))
        close_period(writer, Period(2026, 5), datetime.now(UTC))
        with writer.reader() as view:
            assert verify(view).ok
    assert _has_the_column(ledger)
    # What it wrote itself carries the current version; what was there stays version 1.
    versions = query(ledger, f"SELECT DISTINCT basis_version FROM {ENTRIES} ORDER BY 1")
    assert versions in ([(1,)], [(1,), (BASIS_VERSION,)])
