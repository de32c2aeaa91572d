"""A SQLite store's file: what a path holds (read without writing anything), how it is
opened without ever being written (read-only copies included), switched to WAL mode, and
how a throwaway store's connections are set up."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool

from ledger.errors import StoreError, StoreRefusedError


def sqlite_contents(path: Path) -> Literal["missing", "empty", "ledger", "foreign"]:
    """What a SQLite path holds, read without writing anything: no file, an empty one
    (0 bytes, or a database without any table: what a creation interrupted before its
    schema leaves), the ledger's tables, or anything else (another program's file)."""
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "foreign"
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        return "empty"
    if header != SQLITE_HEADER:
        return "foreign"
    # Read as a read-only copy is: a glance at the schema must not leave a -wal/-shm
    # pair beside a file that turns out not to be a ledger.
    uri = read_only_uri(path, writable=False)
    wal = path.with_name(path.name + "-wal")
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.OperationalError as exc:  # there, but it cannot be read like this
        if not sqlite_writable(path) and wal.exists():
            raise StoreRefusedError(
                f"cannot read the read-only store {path}: {wal.name} beside it holds records "
                f"not yet merged into it, which SQLite reads only with a {path.name}-shm it "
                "may create there; copy the store again once its writers have stopped (or "
                "with sqlite3's .backup), or read the copy in a writable directory"
            ) from None
        raise StoreError(f"cannot open store {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorname == "SQLITE_NOTADB":  # "file is not a database"
            return "foreign"
        raise damaged_sqlite(path, exc) from None
    if not tables:
        return "empty"
    return "ledger" if LEDGER_TABLE in tables else "foreign"


def damaged_sqlite(path: Path, exc: sqlite3.DatabaseError) -> StoreRefusedError:
    """A SQLite file with a database header whose pages do not read (truncated, or
    overwritten: "database disk image is malformed"): the user's own ledger, damaged,
    not someone else's file."""
    return StoreRefusedError(
        f"the SQLite database at {path} is damaged (SQLite: {exc}): restore it from a "
        "backup or a fresh copy; `sla-ledger audit verify` on the restored copy checks both "
        "its hash chain and its SQLite integrity"
    )


def sqlite_writable(path: Path) -> bool:
    """Whether this process may write the file and create its journal beside it."""
    directory = path.parent if str(path.parent) else Path(".")
    return os.access(directory, os.W_OK | os.X_OK) and (
        not path.exists() or os.access(path, os.W_OK)
    )


def read_only_uri(path: Path, writable: bool) -> str:
    """A SQLite URI that never writes the file.

    `mode=ro` still takes SQLite's locks, so it reads correctly beside a writer; on a WAL
    file it needs the `-shm` index, which it creates beside the file (and leaves there)
    when missing. A read-only copy (the file or its directory not writable) with no
    `-wal` beside it cannot be being written: it is opened `immutable=1`, which reads the
    file alone and creates nothing. With a `-wal` beside it, that log may hold committed
    records the file does not, so it is read with `mode=ro`.
    """
    location = quote(str(path.absolute()))
    wal = path.with_name(path.name + "-wal")
    if not writable and not wal.exists():
        return f"file:{location}?immutable=1"
    return f"file:{location}?mode=ro"


def use_wal(path: Path, wait_seconds: float = 30.0) -> None:
    """Put a SQLite file in WAL mode (it stays so) before the library opens it.

    The library switches a file that is not in WAL mode yet on each new connection;
    with another process already writing to a fresh file (two workers started together)
    that switch fails at once with "database is locked". Here it is retried.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=wait_seconds)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


THROWAWAY_CACHE_KIB = 32 * 1024


CONTENTS_SCHEMA = "contents"  # where a throwaway store reads its events' contents from


class ThrowawayPool(SQLiteConnectionPool):
    """The connections of a throwaway store (`LedgerStore(throwaway=True)`): committed
    writes are handed to the operating system without waiting for the disk. With
    `contents_uri` (`LedgerStore(contents_of=...)`), each connection also reads that
    SQLite file, never writing it, as the schema `CONTENTS_SCHEMA`."""

    contents_uri: str | None = None

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        # A larger page cache (bounded: 32 MiB) keeps the b-trees that grow in random
        # order (the event ids', the records' originator ids') from being written and
        # read again in each transaction.
        cursor.execute(f"PRAGMA cache_size = -{THROWAWAY_CACHE_KIB}")
        if self.contents_uri is not None:
            cursor.execute(f"ATTACH DATABASE ? AS {CONTENTS_SCHEMA}", [self.contents_uri])
        return connection


SQLITE_HEADER = b"SQLite format 3\x00"
LEDGER_TABLE = "sla_events"  # the ledger's tables are there when this one is


def how_path_reads(path: Path) -> str:
    """How a SQLite URL's path was read: that three slashes make a relative path
    surprises newcomers."""
    if path.is_absolute():
        return "an absolute path"
    if path.parts[0].startswith("~"):
        try:
            home = f": sqlite:///{path.expanduser()}"
        except RuntimeError:  # ~user of no such user
            home = ", with four slashes"
        return (
            f"~ is not expanded in a store URL: it names a directory {path.parts[0]} in the "
            f"current directory; for a home directory give its absolute path{home}"
        )
    return (
        f"a relative path, {path} from the current directory; an absolute path needs four "
        f"slashes: sqlite:///{Path('/') / path}"
    )
