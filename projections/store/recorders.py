"""eventsourcing process recorders that also write the ledger's side rows.

The library calls `_insert_events(cursor, stored_events, **kwargs)` inside the very
transaction that inserts the stored events and the tracking record; extending it is how
the index rows, rejections and credit entries of a batch commit or roll back together
with the events they belong to (one transaction per batch, never one per event).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.store.schema import Dialect, create_statements, span_upsert


@dataclass
class SideRows:
    """Rows of the ledger's own tables that belong to one batch: statement -> params."""

    writes: list[tuple[str, list[tuple[Any, ...]]]] = field(default_factory=list)

    def add(self, statement: str, params: list[tuple[Any, ...]]) -> None:
        if params:
            self.writes.append((statement, params))


def to_dialect(statement: str, dialect: Dialect) -> str:
    return statement.replace("?", "%s") if dialect == "postgresql" else statement


class LedgerSQLiteRecorder(SQLiteProcessRecorder):
    dialect: Dialect = "sqlite"

    def __init__(self, datastore: SQLiteDatastore) -> None:
        super().__init__(datastore)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *create_statements("sqlite")]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: SideRows | None = kwargs.get("side_rows")
        if side is not None:
            for statement, params in side.writes:
                c.executemany(statement, params)
        return super()._insert_events(c, stored_events, **kwargs)


class LedgerPostgresRecorder(PostgresProcessRecorder):
    dialect: Dialect = "postgresql"

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(
            datastore,
            events_table_name="sla_ledger_events",
            tracking_table_name="sla_ledger_tracking",
        )
        from psycopg.sql import SQL

        for statement in create_statements("postgresql"):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, without psycopg pipeline mode.

        In pipeline mode, a batch of a few thousand side rows plus the events left the
        client waiting in `Pipeline.sync()` while the server waited to read (observed
        with the 100k-event benchmark, both sides idle forever). Plain statements in one
        explicit transaction keep the same atomicity; `executemany` batches the rows.
        A retry after a connection error cannot double anything: every row has a unique
        key, so a batch that did commit fails on it and is classified again upstream.
        """
        notification_ids: Sequence[int] | None = None
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                self._insert_stored_events(curs, stored_events, **kwargs)
                notification_ids = self._fetch_ids_after_insert_events(
                    curs, stored_events, **kwargs
                )
        return notification_ids

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        side: SideRows | None = kwargs.get("side_rows")
        if side is not None and side.writes:
            # Take the events table lock first, so that concurrent writers are serialised
            # before they touch the side tables (no lock-order deadlock between them).
            self._lock_table(curs)
            for statement, params in side.writes:
                curs.executemany(to_dialect(statement, "postgresql"), params)
        super()._insert_events(curs, stored_events, **kwargs)


__all__ = [
    "LedgerPostgresRecorder",
    "LedgerSQLiteRecorder",
    "SideRows",
    "span_upsert",
    "to_dialect",
]
