"""eventsourcing process recorders that also write the ledger's side rows.

The library calls `_insert_events(cursor, stored_events, **kwargs)` inside the very
transaction that inserts the stored events and the tracking record; extending it is how
the index rows, rejections and credit entries of a batch commit or roll back together
with the events they belong to (one transaction per batch, never one per event). The
ledger inserts its eventsourcing records itself, under the write lock, each with its
chain position as notification id (`seal_chain`).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.sqlite import (
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteProcessRecorder,
)
from eventsourcing.utils import retry
from psycopg import Connection, Cursor
from psycopg.errors import InsufficientPrivilege
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.chain import ChainHead
from ledger.errors import StoreError
from ledger.periods import to_us
from projections.store.chain_append import COLUMNS, ChainAppend
from projections.store.content_codec import pack
from projections.store.immutability import (
    OWNER_ROLE,
    postgres_statements,
    schema_marker,
    sqlite_statements,
)
from projections.store.schema import CHAINED_TABLES, Dialect, create_statements

SCHEMA_ATTEMPTS = 20
SCHEMA_LOCK = 0x534C_415F_4C45_4447  # "SLA_LEDG": the advisory lock key of schema creation


@dataclass(frozen=True)
class BulkInsert:
    """Rows for one table. `columns` pairs each name with its PostgreSQL type, which
    PostgreSQL needs to insert the whole batch in one statement from typed arrays.
    `on_conflict` maps a dialect to its conflict clause (empty: a conflict is an error)."""

    table: str
    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[Any, ...]]
    on_conflict: dict[Dialect, str] = field(default_factory=dict)
    # A column that takes the transaction's record time when it seals chain records
    # (a rejection's `rejected_us`): then nothing of the same transaction is "later".
    record_time_column: str | None = None

    def at_record_time(self, recorded_us: int) -> BulkInsert:
        if self.record_time_column is None:
            return self
        index = [name for name, _ in self.columns].index(self.record_time_column)
        rows = [(*row[:index], recorded_us, *row[index + 1 :]) for row in self.rows]
        return dataclasses.replace(self, rows=rows)

    def sqlite(self) -> str:
        names = ", ".join(name for name, _ in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        clause = self.on_conflict.get("sqlite", "")
        # "WHERE true" lets SQLite parse an upsert after INSERT ... VALUES unambiguously.
        return f"INSERT INTO {self.table} ({names}) VALUES ({marks}) {clause}"

    def postgresql(self) -> tuple[str, list[list[Any]]]:
        names = ", ".join(name for name, _ in self.columns)
        arrays = ", ".join(f"%b::{kind}[]" for _, kind in self.columns)
        clause = self.on_conflict.get("postgresql", "")
        statement = (
            f"INSERT INTO {self.table} AS t ({names}) SELECT * FROM unnest({arrays}) {clause}"
        )
        return statement, [list(column) for column in zip(*self.rows, strict=True)]


# Rows that depend on what the transaction's earlier statements left in the tables,
# computed under the write lock from the transaction's cursor.
FollowUp = Callable[[Any, Dialect], list[BulkInsert]]


@dataclass
class SideRows:
    """The ledger's own rows that belong to one batch."""

    inserts: list[BulkInsert] = field(default_factory=list)
    chain: ChainAppend | None = None
    follow_ups: list[FollowUp] = field(default_factory=list)

    def add(self, insert: BulkInsert) -> None:
        if insert.rows:
            self.inserts.append(insert)


def to_dialect(statement: str, dialect: Dialect) -> str:
    return statement.replace("?", "%s") if dialect == "postgresql" else statement


HEAD_READ = "SELECT position, chain_sha256, recorded_us FROM sla_chain_head WHERE id = 1"
HEAD_WRITE = (
    "UPDATE sla_chain_head SET position = ?, chain_sha256 = ?, recorded_us = ? WHERE id = 1"
)


def seal_chain(cursor: Any, side: SideRows | None, dialect: Dialect, library_table: str) -> int:
    """Under the write lock: place the transaction's chained records after the head,
    insert their rows and their eventsourcing records (each with its chain position as
    notification id), and move the head on. Returns how many records were sealed."""
    if side is None or side.chain is None or not (side.chain.records or side.chain.replayed):
        return 0
    if dialect == "sqlite":
        # SQLite's BEGIN is deferred: write first, so that the head read next cannot be
        # overtaken by another connection's commit (the write lock is held from here).
        cursor.execute("UPDATE sla_chain_head SET position = position WHERE id = 1")
    cursor.execute(HEAD_READ)
    row = cursor.fetchone()
    head = ChainHead(int(row["position"]), row["chain_sha256"], int(row["recorded_us"]))
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    stored = side.chain.seal(
        head, to_us(datetime.now(UTC)), lambda table, values: rows[table].append(values)
    )
    for kind, table in CHAINED_TABLES.items():
        if rows[table]:
            insert = BulkInsert(table, COLUMNS[kind], rows[table])
            if dialect == "sqlite":
                cursor.executemany(insert.sqlite(), insert.rows)
            else:
                statement, arrays = insert.postgresql()
                cursor.execute(Composed([SQL(statement)]), arrays)
    positions = range(head.position + 1, head.position + 1 + len(stored))
    if dialect == "sqlite":
        cursor.executemany(
            f"INSERT INTO {library_table} (rowid, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, 1, ?, ?)",
            [
                (p, _hex(originator), topic, state)
                for p, (originator, topic, state) in zip(positions, stored, strict=True)
            ],
        )
    else:
        cursor.execute(
            SQL(
                "INSERT INTO {table} (notification_id, originator_id, originator_version, "
                "topic, state) SELECT * FROM unnest(%b::bigint[], %b::uuid[], %b::bigint[], "
                "%b::text[], %b::bytea[])"
            ).format(table=Identifier(library_table)),
            [
                list(positions),
                [_uuid(originator) for originator, _, _ in stored],
                [1] * len(stored),
                [topic for _, topic, _ in stored],
                [pack(state) for _, _, state in stored],
            ],
        )
    sealed = side.chain.sealed_head
    assert sealed is not None
    side.inserts = [insert.at_record_time(sealed.recorded_us) for insert in side.inserts]
    cursor.execute(
        to_dialect(HEAD_WRITE, dialect), [sealed.position, sealed.sha256, sealed.recorded_us]
    )
    return len(stored)


def _hex(originator_id: UUID | str) -> str:
    """An originator id as the library's SQLite table holds it (32 hex digits); a
    rebuild gives it so already."""
    if isinstance(originator_id, UUID):
        return originator_id.hex
    return originator_id if len(originator_id) == 32 else UUID(originator_id).hex


def _uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def _only_chained(stored_events: Sequence[StoredEvent]) -> None:
    """Every record of the event store is chained: its notification id is its chain
    position, so a record from elsewhere would take a position the chain has not given."""
    if stored_events:
        raise ProgrammingError("the ledger's event store holds chained records only")


class LedgerSQLiteRecorder(SQLiteProcessRecorder):
    dialect: Dialect = "sqlite"

    def __init__(self, datastore: SQLiteDatastore) -> None:
        super().__init__(datastore)

    def construct_create_table_statements(self) -> list[str]:
        # The triggers come last: they need their tables.
        return [
            *super().construct_create_table_statements(),
            *create_statements("sqlite"),
            *sqlite_statements(),
        ]

    def create_table(self) -> None:
        """The library's schema creation, tolerant of another process doing it at once.

        Two processes that both find no schema both create it (`IF NOT EXISTS`), and both
        record the library's tracking migration; the second fails on that record. Its
        retry finds the migration recorded and does nothing more. A transaction that read
        the schema and then finds another process wrote first fails with "database is
        locked" at once (SQLite does not wait there); it is retried too.
        """
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                super().create_table()
                return
            except (IntegrityError, OperationalError) as exc:
                retry = isinstance(exc, IntegrityError) or "locked" in str(exc)
                if not retry or attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: SideRows | None = kwargs.get("side_rows")
        _only_chained(stored_events)
        seal_chain(c, side, self.dialect, self.events_table_name)
        if side is not None:
            for insert in side.inserts:
                c.executemany(insert.sqlite(), insert.rows)
            for follow_up in side.follow_ups:
                for insert in follow_up(c, self.dialect):
                    c.executemany(insert.sqlite(), insert.rows)
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            self._insert_tracking(c, tracking)
        return None


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
            _only_chained(stored_events)
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
