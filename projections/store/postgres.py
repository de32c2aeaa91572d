"""The PostgreSQL side of the store: its eventsourcing recorder, how a store URL's
connection is made and checked, and why one could not be opened.

Only a PostgreSQL store imports this module, and with it the driver (psycopg and the
library's PostgreSQL recorder, about a quarter of a second to load): every command on
the embedded SQLite default starts without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import psycopg
from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Connection, Cursor
from psycopg.conninfo import make_conninfo
from psycopg.errors import InsufficientPrivilege
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.errors import StoreError, StoreRefusedError
from projections.store.immutability import OWNER_ROLE, postgres_statements, schema_marker
from projections.store.recorders import SideRows, only_chained, seal_chain
from projections.store.schema import LATER_COLUMNS, Dialect, add_later_column, create_statements

SCHEMA_LOCK = 0x534C_415F_4C45_4447  # "SLA_LEDG": the advisory lock key of schema creation
# The driver's own errors, for a caller that catches them beside SQLite's.
DRIVER_ERROR = psycopg.Error


def is_libpq_parameter(name: str, value: str) -> bool:
    """Whether libpq takes `name` as a connection parameter."""
    try:
        make_conninfo("", **{name: value})
    except psycopg.ProgrammingError:
        return False
    return True


class LedgerPostgresDatastore(PostgresDatastore):
    """The library's datastore, collected quietly. Its `__del__` closes the pool, which
    joins the pool's threads; a datastore left for the garbage collector (a reference
    cycle through a failed opening's traceback) may be collected in one of those very
    threads, where the join raises "cannot join current thread" and Python prints a
    traceback on the command's standard error. The pool's threads have been told to stop
    by then, so nothing is left that a clean close would do: that failure is dropped.
    An explicit `close()` is unchanged."""

    def __del__(self) -> None:
        with suppress(RuntimeError):
            self.close()


def open_recorder(params: dict[str, Any]) -> LedgerPostgresRecorder:
    """The recorder of the database `params` name (`parse_store_url`); it connects
    lazily, so an unreachable server shows at the first use (`failure` says why)."""
    # No pool_open_timeout: with one, every checkout calls the pool's wait(), which
    # blocks until the pool is full again (serialising the writer thread with readers)
    # and asserts when two threads wait at once.
    datastore = LedgerPostgresDatastore(
        dbname=params["dbname"],
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        pool_size=2,
        max_overflow=2,
        connect_timeout=3,
        lock_timeout=30,
    )
    # The pool's background reconnection backs off exponentially up to this limit, so
    # after an outage of a minute its next try could come a minute later. Giving up
    # after a few seconds instead makes every later checkout start a fresh attempt:
    # reconnection follows the server's return closely.
    datastore.pool.reconnect_timeout = 8.0
    # The URL's libpq parameters (sslmode, ...): the library takes only the five above,
    # and its pool connects with these keyword arguments.
    assert isinstance(datastore.pool.kwargs, dict)
    datastore.pool.kwargs.update(params["libpq"])
    return LedgerPostgresRecorder(datastore)


# What libpq says when it never reached a server (nothing listens, no such socket, no
# such host, no answer in time): only then is "is the server running" the question.
UNREACHABLE = (
    "Is the server running",
    "Connection refused",
    "No such file or directory",
    "could not translate host name",
    "timeout expired",
    "Network is unreachable",
    "No route to host",
)
# A server that answered but cannot take a connection now: worth retrying.
BUSY = ("starting up", "shutting down", "in recovery mode", "too many clients", "remaining")


def failure(shown_url: str, params: dict[str, Any], said: str) -> StoreError:
    """Why a PostgreSQL store could not be opened, in the server's (or libpq's) own words
    (`shown_url`: the URL with its password hidden; `said`: what the pool said, the
    answer when a direct connection succeeds).

    The pool only says it got no connection in time. One direct connection with the same
    parameters gets the real answer: a database or role that does not exist, a failed
    password, a bad sslmode is a refusal (a Kafka worker does not retry it); a server
    that could not be reached, or is busy, is a plain StoreError (retried).
    """
    try:
        psycopg.connect(
            dbname=params["dbname"],
            host=params["host"],
            port=params["port"],
            user=params["user"],
            password=params["password"],
            **{"connect_timeout": "3", **params["libpq"]},
        ).close()
    except psycopg.Error as probe:
        text = str(probe).strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else type(probe).__name__
        reason = first.partition("FATAL:")[2].strip() if "FATAL:" in first else first
        for prefix in ("connection failed: ", "connection is bad: "):
            reason = reason.removeprefix(prefix)
        if any(marker in text for marker in UNREACHABLE):
            return StoreError(
                f"cannot open store {shown_url}: {reason}; check the host and port in "
                "--store (or SLA_LEDGER_STORE) and that the database server is running"
            )
        if any(marker in text for marker in BUSY):
            return StoreError(f"cannot open store {shown_url}: the server says: {reason}")
        if "FATAL:" in text:
            return StoreRefusedError(
                f"cannot open store {shown_url}: the server says: {reason}; check the "
                "database, user and password in --store (or SLA_LEDGER_STORE)"
            )
        return StoreRefusedError(
            f"cannot open store {shown_url}: {reason}; check --store (or SLA_LEDGER_STORE)"
        )
    return StoreError(f"cannot open store {shown_url}: {said}")


class LedgerPostgresRecorder(PostgresProcessRecorder):
    dialect: Dialect = "postgresql"

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(
            datastore,
            events_table_name="sla_ledger_events",
            tracking_table_name="sla_ledger_tracking",
        )
        for statement in create_statements("postgresql"):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def create_table(self) -> None:
        """The library's schema creation and the ledger's, one process at a time, and
        only when the schema is missing or older than this code.

        Its `CREATE TYPE`, `CREATE ... IF NOT EXISTS` and function statements are not
        safe to run concurrently (PostgreSQL fails one side with "tuple concurrently
        updated"), and several ingest workers may start at once: a session advisory lock
        on a connection of its own serialises them.

        A complete schema is marked (the comment of the events table names its version,
        `immutability.schema_marker`). A store whose mark is current opens without any
        DDL, so roles that own nothing (the ingest and reader roles of docker/roles.sql)
        can open it. One that finds no schema, or an older one, and may not create it
        fails with one line naming the owner role.
        """
        marker = self.schema_marker()
        with self.datastore.get_connection() as conn:
            autocommit = conn.autocommit
            conn.autocommit = True
            try:
                if self._stored_marker(conn) != marker:
                    conn.execute("SELECT pg_advisory_lock(%s)", [SCHEMA_LOCK])
                    try:
                        if self._stored_marker(conn) != marker:
                            self._create_schema(conn)
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(%s)", [SCHEMA_LOCK])
            finally:
                conn.autocommit = autocommit
        self.datastore.register_type_adapters()

    def _immutability_statements(self) -> list[str]:
        return postgres_statements(
            self.datastore.schema, self.events_table_name, self.tracking_table_name
        )

    def schema_marker(self) -> str:
        return schema_marker([*create_statements("postgresql"), *self._immutability_statements()])

    def _stored_marker(self, conn: Connection[DictRow]) -> str | None:
        row = conn.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class') AS marker",
            [f'"{self.datastore.schema}"."{self.events_table_name}"'],
        ).fetchone()
        return None if row is None else row["marker"]

    def _create_schema(self, conn: Connection[DictRow]) -> None:
        try:
            super().create_table()
        except ProgrammingError as exc:
            if not isinstance(exc.__cause__, InsufficientPrivilege):
                raise
            reason = str(exc).strip().splitlines()[0]
            raise StoreError(
                f'cannot open store: database "{conn.info.dbname}" has no ledger schema of '
                f'this version and role "{conn.info.user}" may not create it ({reason}): '
                f"create or upgrade it first as the owner role ({OWNER_ROLE}; see "
                "docker/roles.sql), then open the store with this role"
            ) from None

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        """The tables, then their triggers and grants, then the mark, in one transaction."""
        super()._create_table(curs)
        for statement in self._immutability_statements():
            curs.execute(SQL(statement), prepare=False)
        # An older store's tables gain the later columns before it is marked current.
        for table, columns in LATER_COLUMNS.items():
            for name in columns:
                curs.execute(SQL(add_later_column("postgresql", table, name)), prepare=False)
        curs.execute(
            SQL("COMMENT ON TABLE {schema}.{table} IS {marker}").format(
                schema=Identifier(self.datastore.schema),
                table=Identifier(self.events_table_name),
                marker=Literal(self.schema_marker()),
            )
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, without psycopg pipeline mode.

        In pipeline mode, a batch of a few thousand side rows plus the events left the
        client waiting in `Pipeline.sync()` while the server waited to read (observed
        with the 100k-event benchmark, both sides idle forever). Plain statements in one
        explicit transaction keep the same atomicity. A retry after a connection error
        cannot double anything: every row has a unique key, so a batch that did commit
        fails on it and is classified again upstream.
        """
        notification_ids: Sequence[int] | None = None
        side: SideRows | None = kwargs.get("side_rows")
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            if stored_events or (side is not None and (side.inserts or side.chain)):
                # Once, first: concurrent writers are serialised before they touch any
                # table, so they cannot deadlock on each other's side rows, and the
                # notification ids are assigned in commit order (the library's reason).
                # The chain is sealed under this lock too.
                self._lock_table(curs)
            only_chained(stored_events)
            sealed = seal_chain(curs, side, self.dialect, self.events_table_name)
            self._insert_events(curs, [], **kwargs)
            if sealed:
                self._notify_channel(curs)
                sealed_head = side.chain.sealed_head if side and side.chain else None
                assert sealed_head is not None
                notification_ids = list(
                    range(sealed_head.position - sealed + 1, sealed_head.position + 1)
                )
        return notification_ids

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        side: SideRows | None = kwargs.get("side_rows")
        if side is not None:
            for insert in side.inserts:
                statement, arrays = insert.postgresql()
                curs.execute(Composed([SQL(statement)]), arrays)
            for follow_up in side.follow_ups:
                for insert in follow_up(curs, self.dialect):
                    statement, arrays = insert.postgresql()
                    curs.execute(Composed([SQL(statement)]), arrays)
        super()._insert_events(curs, stored_events, **kwargs)
