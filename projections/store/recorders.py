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
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.sqlite import (
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteProcessRecorder,
)

from ledger.chain import ChainHead
from ledger.periods import to_us
from projections.store.chain_append import COLUMNS, ChainAppend, LibraryRecord
from projections.store.content_codec import pack
from projections.store.immutability import sqlite_statements
from projections.store.schema import (
    CHAINED_TABLES,
    LATER_COLUMNS,
    Dialect,
    add_later_column,
    create_statements,
)

SCHEMA_ATTEMPTS = 20


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
                cursor.execute(statement, arrays)
    if side.chain.replayed_records or not side.chain.replayed:
        _insert_records(cursor, dialect, library_table, head.position, stored)
    sealed = side.chain.sealed_head
    assert sealed is not None
    side.inserts = [insert.at_record_time(sealed.recorded_us) for insert in side.inserts]
    cursor.execute(
        to_dialect(HEAD_WRITE, dialect), [sealed.position, sealed.sha256, sealed.recorded_us]
    )
    return len(stored)


def _insert_records(
    cursor: Any, dialect: Dialect, library_table: str, after: int, stored: list[LibraryRecord]
) -> None:
    """The eventsourcing records of the sealed records, at the positions after `after`."""
    positions = range(after + 1, after + 1 + len(stored))
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
            f'INSERT INTO "{library_table}" (notification_id, originator_id, '
            "originator_version, topic, state) SELECT * FROM unnest(%b::bigint[], "
            "%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])",
            [
                list(positions),
                [_uuid(originator) for originator, _, _ in stored],
                [1] * len(stored),
                [topic for _, topic, _ in stored],
                [pack(state) for _, _, state in stored],
            ],
        )


def _hex(originator_id: UUID | str) -> str:
    """An originator id as the library's SQLite table holds it (32 hex digits); a
    rebuild gives it so already."""
    if isinstance(originator_id, UUID):
        return originator_id.hex
    return originator_id if len(originator_id) == 32 else UUID(originator_id).hex


def _uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def only_chained(stored_events: Sequence[StoredEvent]) -> None:
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
                self._add_later_columns()
                return
            except (IntegrityError, OperationalError) as exc:
                retry = isinstance(exc, IntegrityError) or "locked" in str(exc)
                if not retry or attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _add_later_columns(self) -> None:
        """An older store's tables gain the later columns (`schema.LATER_COLUMNS`). A
        process that finds one added meanwhile by another leaves it: the same column."""
        with self.datastore.transaction(commit=True) as c:
            for table, columns in LATER_COLUMNS.items():
                c.execute(f"PRAGMA table_info({table})")
                present = {row["name"] for row in c.fetchall()}
                for name in columns:
                    if name not in present:
                        c.execute(add_later_column("sqlite", table, name))

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: SideRows | None = kwargs.get("side_rows")
        only_chained(stored_events)
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
