"""Opening a store: checking that what is at its URL may be opened as asked (a ledger of
this layout, a file or database that may be read or written), before anything is
written, and refusing in one line what may not."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteDatastore

from ledger.errors import StoreError, StoreRefusedError
from projections.store.failures import failed, first_line, postgres_errors
from projections.store.recorders import LedgerSQLiteRecorder
from projections.store.schema import LATER_COLUMNS, LATER_TABLES
from projections.store.sqlite_files import (
    LEDGER_TABLE,
    ThrowawayPool,
    how_path_reads,
    read_only_uri,
    sqlite_contents,
    sqlite_writable,
    use_wal,
)
from projections.store.urls import parse_store_url, redact

if TYPE_CHECKING:  # imported where a PostgreSQL store is opened (`postgres`), not before
    from projections.store.postgres import LedgerPostgresRecorder

    Recorder = LedgerSQLiteRecorder | LedgerPostgresRecorder

Access = Literal["read", "write", "create"]
"""How a store is opened. `read`: never written (no WAL switch, no schema, no lock files
beside a read-only SQLite file), and it must already hold a ledger. `write`: it must
already hold a ledger (`close`). `create`: a ledger is created where there is none yet
(a missing or empty file, a database without the ledger's tables: `ingest`)."""

# What an earlier layout lacks, and a query that fails on a store without it.
LAYOUT_PROBES = (
    ("the hash chain", "SELECT chain_pos FROM sla_events WHERE 1 = 0"),
    ("the hash chain", "SELECT position FROM sla_chain_head WHERE 1 = 0"),
    ("the subject index", "SELECT ended_us FROM sla_subject_spans WHERE 1 = 0"),
    ("the subject index", "SELECT scope FROM sla_contract_scopes WHERE 1 = 0"),
)


def missing_in_layout(message: str) -> bool:
    """Whether a failed probe says a table or column is not there (SQLite, PostgreSQL)."""
    return any(
        marker in message for marker in ("no such column", "no such table", "does not exist")
    )


NO_STORE_HINT = "check --store (or SLA_LEDGER_STORE); `sla-ledger ingest` creates a new one"
READ_ONLY_HINT = (
    "ingest and close write to the store and need a writable copy; the other commands "
    "read it as it is"
)


def open_recorder(
    url: str, access: Access, *, throwaway: bool = False, contents_uri: str | None = None
) -> Recorder:
    """The recorder of the store at `url`, opened as `access` asks (see `LedgerStore`
    for `throwaway` and `contents_uri`), its layout checked."""
    dialect, params = parse_store_url(url)
    recorder: Recorder | None = None
    try:
        if dialect == "sqlite":
            path = Path(params["path"])
            recorder = LedgerSQLiteRecorder(
                _sqlite_datastore(url, path, access, throwaway, contents_uri)
            )
            if access != "read":
                recorder.create_table()
        else:
            from projections.store.postgres import open_recorder as open_postgres

            recorder = open_postgres(params)
            _open_postgres(recorder, url, params["dbname"], access)
    except PersistenceError as exc:
        _close(recorder)
        if dialect == "sqlite":
            raise StoreError(f"cannot open store {url}: {first_line(exc)}") from None
        from projections.store.postgres import failure

        raise failure(redact(url), params, first_line(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        _close(recorder)
        raise StoreError(f"cannot open store {redact(url)}: {exc}") from None
    except StoreError:
        _close(recorder)
        raise
    try:
        _require_layout(recorder, url)
    except StoreError:
        _close(recorder)
        raise
    return recorder


def _close(recorder: Recorder | None) -> None:
    if recorder is not None:
        with suppress(Exception):
            recorder.datastore.close()


def _sqlite_datastore(
    url: str, path: Path, access: Access, throwaway: bool, contents_uri: str | None
) -> SQLiteDatastore:
    """The datastore of a SQLite file, after checking that what is there may be
    opened as asked: nothing is written before that (an empty or foreign file stays
    as it was)."""
    if not path.parent.exists():
        raise StoreRefusedError(
            f"cannot open store: no directory {path.parent} for {url} ({how_path_reads(path)})"
        )
    found = sqlite_contents(path)
    if found == "foreign":
        raise StoreRefusedError(
            f"{path} is not a sla-ledger store (another file or database is there): "
            "sla-ledger neither reads it nor adds its tables to it; check --store, or "
            "give a new path for a new store"
        )
    if found in ("missing", "empty") and access != "create":
        what = (
            "no file"
            if found == "missing"
            else "an empty file"
            if path.stat().st_size == 0
            else "a database without tables"
        )
        raise StoreRefusedError(f"no store at {path} ({what} there): {NO_STORE_HINT}")
    writable = sqlite_writable(path)
    if found == "ledger":
        with closing(sqlite3.connect(read_only_uri(path, writable), uri=True)) as conn:
            _probe_layout(url, conn.execute)
    if access == "read":
        datastore = SQLiteDatastore(db_name=read_only_uri(path, writable))
        # The library switches a file to WAL mode on its first connection: a reader
        # leaves the file's journal mode as it is.
        datastore.pool.is_journal_mode_wal = True
        return datastore
    if not writable and found == "missing":
        raise StoreRefusedError(
            f"cannot create store {url}: directory {path.parent} may not be "
            "written; give a path in a writable directory"
        )
    if not writable:
        raise StoreRefusedError(
            f"store {url} is read-only ({path} or its directory may not be "
            f"written): {READ_ONLY_HINT}"
        )
    use_wal(path)
    datastore = SQLiteDatastore(db_name=str(path))
    if throwaway:
        datastore.pool.close()
        pool = ThrowawayPool(db_name=str(path))
        pool.contents_uri = contents_uri
        datastore.pool = pool
    return datastore


def _open_postgres(recorder: LedgerPostgresRecorder, url: str, dbname: str, access: Access) -> None:
    """A reader only checks that the ledger is there; a writer may create or upgrade
    its schema (`create_table` runs no DDL when it is current) and must be allowed
    to write to it."""

    def one_row(statement: str) -> Any:
        """One row about the ledger's table, its errors left to the opening's handler
        (an unreachable server is "cannot open store", not a failed query)."""
        table = f'"{recorder.datastore.schema}".{LEDGER_TABLE}'
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [table])
            return cursor.fetchone()

    def has_ledger() -> bool:
        return bool(one_row("SELECT to_regclass(%s) IS NOT NULL AS found")["found"])

    def probe(statement: str) -> None:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)

    if access != "create" and not has_ledger():
        raise StoreRefusedError(
            f'no store in database "{dbname}" of {redact(url)} (it holds no '
            f"sla-ledger tables): {NO_STORE_HINT}"
        )
    if access == "read":
        recorder.datastore.register_type_adapters()
        return
    if has_ledger():
        _probe_layout(url, probe)
    recorder.create_table()
    row = one_row("SELECT current_user AS role, has_table_privilege(%s, 'INSERT') AS may_write")
    if not row["may_write"]:
        raise StoreRefusedError(
            f'permission denied: role "{row["role"]}" may not write to store '
            f"{redact(url)}; ingest and close write to the store: connect as a role "
            "that may (sla_ingest, see docker/roles.sql); the other commands only read it"
        )


def _earlier_layout(url: str, what: str) -> StoreRefusedError:
    return StoreRefusedError(
        f"store {redact(url)} was made by an earlier sla-ledger, without {what}: "
        "start a new store and ingest the original inputs into it"
    )


def _probe_layout(url: str, execute: Callable[[str], object]) -> None:
    """Before a writer's schema creation touches an existing ledger: refuse one of an
    earlier layout in one line (its DDL would fail on the missing columns)."""
    failures: tuple[type[Exception], ...] = (
        sqlite3.Error,
        PersistenceError,
        *postgres_errors(),
    )
    for what, probe in LAYOUT_PROBES:
        try:
            execute(probe)
        except failures as exc:
            if missing_in_layout(str(exc)):
                raise _earlier_layout(url, what) from None
            raise


def _require_layout(recorder: Recorder, url: str) -> None:
    """A store made by an earlier layout has tables without the columns this one
    reads, which `CREATE TABLE IF NOT EXISTS` leaves as they are: say so at once. A
    store made before each event's content was kept once (in its eventsourcing record)
    holds it in `sla_events` too, and its records' notification ids are not their chain
    positions: refused too."""

    def fails(statement: str) -> StoreError | None:
        try:
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement)
        except PersistenceError as exc:
            return failed(url, exc)
        return None

    for what, probe in LAYOUT_PROBES:
        problem = fails(probe)
        if problem is not None:
            if not missing_in_layout(str(problem)):
                raise problem  # e.g. a role without privileges: that is the message to give
            raise _earlier_layout(url, what)
    if fails("SELECT envelope FROM sla_events WHERE 1 = 0") is None:
        raise StoreRefusedError(
            f"store {redact(url)} was made by an earlier sla-ledger, which kept each "
            "event's content twice: start a new store and ingest the original inputs into it"
        )


def missing_later_columns(recorder: Recorder, url: str) -> dict[str, frozenset[str]]:
    """The columns of `LATER_COLUMNS` an older store lacks, by table, for a reader, which
    leaves the store as it is and reads their earlier value in their place
    (`StoreReads.column`). A writer never lacks them: its schema creation adds them
    (`recorders.LedgerSQLiteRecorder.create_table`, `postgres.LedgerPostgresRecorder`)."""
    missing: dict[str, frozenset[str]] = {}
    for table, columns in LATER_COLUMNS.items():
        for name in columns:
            if _lacks(recorder, url, f"SELECT {name} FROM {table} WHERE 1 = 0"):
                missing[table] = missing.get(table, frozenset()) | {name}
    return missing


def missing_later_tables(recorder: Recorder, url: str) -> frozenset[str]:
    """The tables of `LATER_TABLES` an older store lacks, for a reader, which leaves the
    store as it is and reads them as empty (`StoreReads.missing_tables`)."""
    return frozenset(
        table
        for table in LATER_TABLES
        if _lacks(recorder, url, f"SELECT 1 FROM {table} WHERE 1 = 0")
    )


def _lacks(recorder: Recorder, url: str, probe: str) -> bool:
    """Whether `probe` fails because the store's layout lacks what it names (a store of
    an earlier version); any other failure is raised, in one line."""
    try:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(probe)
    except PersistenceError as exc:
        problem = failed(url, exc)
        if not missing_in_layout(str(problem)):
            raise problem from None
        return True
    return False
