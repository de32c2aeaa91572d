"""Editing a store behind the ledger's back, as someone with direct database access could.

SQLite: whoever has the file can drop the append-only triggers. PostgreSQL: a superuser
session in `session_replication_role = replica` skips ordinary triggers. Both are what
the hash chain is for: such edits cannot be prevented, only detected.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from projections.store import parse_store_url
from projections.store.content_codec import pack, unpack


def library_table(url: str) -> str:
    """The eventsourcing events table (the event store proper) of a store URL."""
    return "stored_events" if url.startswith("sqlite") else "sla_ledger_events"


def record_id(url: str) -> str:
    """The column of the library's records that is their chain position (notification id)."""
    return "rowid" if url.startswith("sqlite") else "notification_id"


def edit_record(url: str, position: int, old: str, new: str) -> str:
    """A statement replacing `old` by `new` in the library record at a chain position (an
    event's record is its content, `[envelope, origin]`)."""
    table = library_table(url)
    if url.startswith("sqlite"):
        return (
            f"UPDATE {table} SET state = CAST(replace(CAST(state AS TEXT), '{old}', '{new}') "
            f"AS BLOB) WHERE rowid = {position}"
        )
    # PostgreSQL keeps records packed (`content_codec`): edited as the record it holds,
    # and packed again, as someone who knows the format would.
    ((stored,),) = query(url, f"SELECT state FROM {table} WHERE notification_id = {position}")
    assert isinstance(stored, bytes)
    record = unpack(stored)
    edited = pack(record.replace(old.encode(), new.encode()))
    value = f"'\\x{edited.hex()}'::bytea"
    return f"UPDATE {table} SET state = {value} WHERE notification_id = {position}"


def set_record(url: str, position: int, text: str) -> str:
    """A statement replacing the whole library record at a chain position by `text`."""
    table = library_table(url)
    value = (
        f"CAST('{text}' AS BLOB)"
        if url.startswith("sqlite")
        else f"'\\x{pack(text.encode()).hex()}'::bytea"
    )
    return f"UPDATE {table} SET state = {value} WHERE {record_id(url)} = {position}"


def tamper(url: str, *statements: str) -> None:
    """Run SQL statements directly, bypassing the ledger and its triggers."""
    dialect, params = parse_store_url(url)
    if dialect == "sqlite":
        with closing(sqlite3.connect(params["path"])) as conn:
            triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in triggers.fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement.encode())
        conn.commit()


def query(url: str, statement: str) -> list[tuple[object, ...]]:
    dialect, params = parse_store_url(url)
    if dialect == "sqlite":
        with closing(sqlite3.connect(params["path"])) as conn:
            return list(conn.execute(statement).fetchall())
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute(statement.encode()).fetchall())
