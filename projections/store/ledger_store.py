"""The ledger's store: the eventsourcing event log plus the ledger's own tables.

SQLite is the embedded default (one file); PostgreSQL is production. Both go through
the same eventsourcing recorder API; the only dialect differences are placeholders and
a few functions, handled in `schema` and `recorders`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent, Tracking
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
)

from ledger.chain import FIELDS, RECORD_TIME, ChainHead, RecordKind
from ledger.errors import StoreError, StoreRefusedError
from ledger.events import InboundEvent, Origin, RecordedEvent
from ledger.periods import from_us, to_us
from ledger.timeformat import format_utc
from projections.audit.chain_walk import Page, PageQueries, read_link, read_page
from projections.audit.rebuild_compare import rows_after_statement
from projections.audit.replay_derivation import LogRecord, log_record
from projections.chain_records import EVENT_NAMESPACE as EVENT_NAMESPACE
from projections.chain_records import RECORD_KEY as RECORD_KEY
from projections.chain_records import TOPIC_CREDIT_ENTRY as TOPIC_CREDIT_ENTRY
from projections.chain_records import TOPIC_EVENT_ACCEPTED as TOPIC_EVENT_ACCEPTED
from projections.chain_records import TOPIC_PERIOD_CLOSED as TOPIC_PERIOD_CLOSED
from projections.chain_records import originator_of as originator_of
from projections.store.chain_append import (
    COLUMNS,
    ChainAppend,
    PendingRecord,
    ReplayedEvent,
    event_content,
)
from projections.store.content_codec import unpack
from projections.store.recorders import (
    BulkInsert,
    LedgerSQLiteRecorder,
    SideRows,
    to_dialect,
)
from projections.store.schema import (
    ADD_LATER_COLUMN,
    BUCKET_US,
    CHAINED_TABLES,
    CONTRACT_SCOPE_COLUMNS,
    DUE_COLUMNS,
    DUE_NEWER,
    EVENT_COLUMNS,
    KEEP_FIRST,
    LATER_COLUMNS,
    NOT_ENDED_US,
    REJECTION_COLUMNS,
    SCOPE_COLUMNS,
    SPAN_COLUMNS,
    SPAN_WIDENING,
    WIDE_SPAN,
    Dialect,
    later_selected,
)
from projections.store.subject_index import bucket_rows
from projections.subject_rules import Span as Span
from projections.subject_rules import payload_span as payload_span
from projections.subject_rules import subject_rows as subject_rows

if TYPE_CHECKING:  # imported where a PostgreSQL store is opened (`postgres`), not before
    from ledger.credits import CreditEntry
    from projections.store.postgres import LedgerPostgresRecorder

DEFAULT_SQLITE_PATH = "sla-ledger.db"
IN_CHUNK = 500  # ids per `IN (...)` query: far below SQLite's variable limit
NUMERIC_KEYS = ("chain_pos", "bucket")  # key columns that are numbers, not text
EVENT_FIELDS = (*FIELDS["event"], "chain_pos", "chain_sha256")


@dataclass(frozen=True, slots=True)
class Rejection:
    raw: bytes
    origin: Origin
    field: str
    reason: str
    event_id: str | None = None

    @property
    def rejection_id(self) -> str:
        """Same input from the same place is one rejection, however often it is re-read."""
        digest = hashlib.sha256()
        digest.update(json.dumps(self.origin.as_dict(), sort_keys=True).encode())
        digest.update(b"\x00")
        digest.update(self.raw)
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRejection:
    seq: int
    rejection_id: str
    rejected_at: datetime
    origin: dict[str, Any]  # `Origin.as_dict()` (`ledger.events.Origin`)
    raw: bytes
    field: str
    reason: str
    event_id: str | None


@dataclass(slots=True)
class AppendOutcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # True when the tracking position was already recorded: another consumer (or an
    # earlier life of this one) stored this batch, so nothing was written.
    already_tracked: bool = False


POSTGRES_FORM = (
    "postgresql://user:password@host:port/database (a unix-socket directory as ?host=/dir, "
    "an IPv6 host in brackets: [::1])"
)
# The URL's own parts; every other query parameter is a libpq connection parameter
# (sslmode, sslrootcert, application_name, ...), passed to the connection as given.
URL_PARAMETERS = ("host", "port", "user", "password", "dbname")


def parse_store_url(url: str) -> tuple[Dialect, dict[str, Any]]:
    """`sqlite:///path/to/ledger.db` or `postgresql://user:pass@host:port/db?param=value`.

    A PostgreSQL URL's query parameters other than its own parts are libpq connection
    parameters (`libpq` in the result); a name libpq does not know is refused, never
    dropped (a dropped `sslmode=verify-full` would connect without checking anything).
    """
    if url.startswith("sqlite:///") or url == "sqlite://":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreRefusedError(
                f'store URL "{url}" names no file: use sqlite:///relative/path.db or '
                "sqlite:////absolute/path.db"
            )
        return "sqlite", {"path": unquote(path)}
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", _postgres_parameters(url)
    raise StoreRefusedError(
        f'unsupported store URL "{redact(url)}": use sqlite:///relative/path.db, '
        "sqlite:////absolute/path.db or postgresql://user:password@host:port/database"
    )


def _postgres_parameters(url: str) -> dict[str, Any]:
    def refuse(problem: str, hint: str = f"use {POSTGRES_FORM}") -> StoreRefusedError:
        return StoreRefusedError(f'store URL "{redact(url)}" {problem}: {hint}')

    try:
        parsed = urlsplit(url)
        hostname = parsed.hostname
    except ValueError:  # "Invalid IPv6 URL": an unclosed [
        raise refuse("has an unclosed [ in its host") from None
    query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    port_text = parsed.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    port = port_text or query.get("port") or "5432"
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise refuse(f'has port "{port}", not a number from 1 to 65535')
    libpq = {k: v for k, v in query.items() if k not in URL_PARAMETERS}
    from projections.store.postgres import is_libpq_parameter

    for name in libpq:
        if not is_libpq_parameter(name, libpq[name]):
            raise refuse(
                f'has the parameter "{name}", which is no libpq connection parameter',
                "besides host, port, user, password and dbname, a query parameter is "
                "passed to libpq as it is (sslmode, sslrootcert, application_name, ...)",
            )
    return {
        "dbname": unquote(parsed.path.lstrip("/")) or query.get("dbname", "postgres"),
        "host": query.get("host") or hostname or "localhost",
        "port": port,
        "user": unquote(parsed.username or query.get("user", "postgres")),
        "password": unquote(parsed.password or query.get("password", "")),
        "libpq": libpq,
    }


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def _chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _input_position(rejection: Rejection) -> tuple[str, int, str, int, int]:
    """Where an input stood in what was read: its file and line, or its Kafka topic,
    partition and offset (a batch holds inputs of one source)."""
    o = rejection.origin
    return (o.file or "", o.line or 0, o.topic or "", o.partition or 0, o.offset or 0)


def _stored_json(text: str | bytes) -> Any:
    """A JSON column the ledger wrote itself (canonical, checked by the hash chain), read
    with the fast parser. Edited to something it cannot read (nested a million deep), it
    is a damaged store, said in one line, not a crash: `audit verify` finds the row."""
    try:
        return _parsed(text)
    except (ValueError, RecursionError):
        raise StoreError(
            "the store holds a record that is not the JSON the ledger wrote (edited or "
            "damaged): run `sla-ledger audit verify` to find it"
        ) from None


# What `json.loads` decodes a text with (its C scanner, its settings).
_JSON_DECODER = json.JSONDecoder()


def _parsed(text: str | bytes) -> Any:
    """`json.loads(text)`. What the ledger wrote (UTF-8, one value, no white space
    around it: every record it wrote) goes straight to the decoder, without the steps
    of `json.loads` that find the encoding of bytes and look for white space; anything
    else, or anything the decoder refuses, is left to `json.loads` itself, which then
    says why."""
    try:
        plain = text.decode() if type(text) is bytes else text
        if type(plain) is str:
            value, end = _JSON_DECODER.raw_decode(plain)
            if end == len(plain):
                return value
    except (ValueError, RecursionError):
        pass
    return json.loads(text)


def _content(state: str | bytes | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(envelope, origin) of an event's eventsourcing record (`[envelope, origin]`), as
    text or as stored (then unpacked)."""
    if state is not None and not isinstance(state, str):
        state = unpack(bytes(state))
    content = _stored_json(state) if state is not None else None
    if (
        not isinstance(content, list)
        or len(content) != 2
        or not isinstance(content[0], dict)
        or not isinstance(content[1], dict)
    ):
        raise StoreError(
            "the store holds an event whose record in the event store is missing or not "
            "the JSON the ledger wrote (edited or damaged): run `sla-ledger audit verify` "
            "to find it"
        )
    return content[0], content[1]


def _row_event(row: Any) -> RecordedEvent:
    envelope, origin = _content(row["state"])
    try:
        event = InboundEvent.from_envelope(envelope)
        # event, recorded_at, origin (in order, not by name: there are tens of thousands)
        return RecordedEvent(event, from_us(int(row["recorded_us"])), Origin(**origin))
    except (KeyError, TypeError, ValueError):
        raise StoreError(
            "the store holds an event that is not the envelope the ledger wrote (edited or "
            "damaged): run `sla-ledger audit verify` to find it"
        ) from None


def _row_rejection(r: Any) -> StoredRejection:
    return StoredRejection(
        seq=int(r["seq"]),
        rejection_id=r["rejection_id"],
        rejected_at=from_us(int(r["rejected_us"])),
        origin=_stored_json(r["origin"]),
        raw=bytes(r["raw"]),
        field=r["field"],
        reason=r["reason"],
        event_id=r["event_id"],
    )


def _recorded_after(recorded_us: int, origin: dict[str, Any], rejection: StoredRejection) -> bool:
    """Whether an event recorded at `recorded_us` from `origin` came after `rejection`."""
    rejected_us = to_us(rejection.rejected_at)
    if recorded_us != rejected_us:
        return recorded_us > rejected_us
    before = rejection.origin
    if "file" in origin:
        return bool(origin["file"] == before.get("file") and origin["line"] > before.get("line", 0))
    return (origin.get("topic"), origin.get("partition")) == (
        before.get("topic"),
        before.get("partition"),
    ) and int(origin.get("offset", -1)) > int(before.get("offset", -1))


def _row_entry(r: Any) -> CreditEntry:
    # Imported here: `ledger.credits` brings the whole of the SLA arithmetic (some 40 ms
    # to import), which commands that read no entries (`audit verify`) do without.
    from ledger.credits import CreditEntry

    return CreditEntry(
        entry_id=r["entry_id"],
        kind=r["kind"],
        revision=int(r["revision"]),
        supersedes=r["supersedes"],
        contract_id=r["contract_id"],
        customer_id=r["customer_id"],
        service_id=r["service_id"],
        period=r["period"],
        amount=Decimal(r["amount"]),
        currency=r["currency"],
        remedy=r["remedy"],
        credit_percent=r["credit_percent"],
        terms_version=int(r["terms_version"]),
        recorded_at=from_us(int(r["recorded_us"])),
        basis_sha256=r["basis_sha256"],
        basis_version=int(r["basis_version"]),
    )


def span_of(event: InboundEvent) -> tuple[int, int, int] | None:
    """(lo, hi, has_end) over the instants an event names: a superset of the time its
    subject can matter to (an outage with no end yet matters up to any horizon)."""
    return payload_span(event.subject_kind, event.payload)


def _sqlite_contents(path: Path) -> Literal["missing", "empty", "ledger", "foreign"]:
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
    uri = _read_only_uri(path, writable=False)
    wal = path.with_name(path.name + "-wal")
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.OperationalError as exc:  # there, but it cannot be read like this
        if not _sqlite_writable(path) and wal.exists():
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


def _sqlite_writable(path: Path) -> bool:
    """Whether this process may write the file and create its journal beside it."""
    directory = path.parent if str(path.parent) else Path(".")
    return os.access(directory, os.W_OK | os.X_OK) and (
        not path.exists() or os.access(path, os.W_OK)
    )


def _read_only_uri(path: Path, writable: bool) -> str:
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


def _use_wal(path: Path, wait_seconds: float = 30.0) -> None:
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


def _missing_in_layout(message: str) -> bool:
    """Whether a failed probe says a table or column is not there (SQLite, PostgreSQL)."""
    return any(
        marker in message for marker in ("no such column", "no such table", "does not exist")
    )


SQLITE_HEADER = b"SQLite format 3\x00"
LEDGER_TABLE = "sla_events"  # the ledger's tables are there when this one is
NO_STORE_HINT = "check --store (or SLA_LEDGER_STORE); `sla-ledger ingest` creates a new one"
READ_ONLY_HINT = (
    "ingest and close write to the store and need a writable copy; the other commands "
    "read it as it is"
)


def _how_path_reads(path: Path) -> str:
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


class LedgerStore:
    def __init__(
        self,
        url: str,
        *,
        access: Access = "create",
        throwaway: bool = False,
        contents_of: LedgerStore | None = None,
    ) -> None:
        """`throwaway`: a store its caller deletes after use, which nothing else reads (a
        rebuild's temporary scratch file): SQLite then writes it without waiting for the
        disk (`synchronous = OFF`), since a crash would lose nothing worth keeping.

        `contents_of`: for a throwaway SQLite store into which that SQLite store's log is
        replayed (a rebuild's scratch store). The replayed events' contents are not
        copied: their records are read from that store's file, at the same chain
        positions (a faithful replay keeps them), and `contents_elsewhere` is True.
        Ignored unless both are SQLite files."""
        self.url = url
        self.access = access
        self.throwaway = throwaway
        self.dialect, params = parse_store_url(url)
        contents_uri = None if contents_of is None else contents_of.reader_uri()
        self._contents_uri = contents_uri if throwaway and self.dialect == "sqlite" else None
        self.contents_elsewhere = self._contents_uri is not None
        self._snapshot: Any = None
        self.recorder: LedgerSQLiteRecorder | LedgerPostgresRecorder
        try:
            if self.dialect == "sqlite":
                self.recorder = LedgerSQLiteRecorder(self._sqlite_datastore(Path(params["path"])))
                if access != "read":
                    self.recorder.create_table()
            else:
                from projections.store.postgres import open_recorder

                self.recorder = open_recorder(params)
                self._open_postgres(params["dbname"])
        except PersistenceError as exc:
            self.close()
            if self.dialect == "sqlite":
                raise StoreError(f"cannot open store {url}: {_first_line(exc)}") from None
            from projections.store.postgres import failure

            raise failure(redact(url), params, _first_line(exc)) from None
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise StoreError(f"cannot open store {redact(url)}: {exc}") from None
        except StoreError:
            self.close()
            raise
        self._require_chain()
        self._require_content_layout()
        self._missing = self._later_columns()

    def _sqlite_datastore(self, path: Path) -> SQLiteDatastore:
        """The datastore of a SQLite file, after checking that what is there may be
        opened as asked: nothing is written before that (an empty or foreign file stays
        as it was)."""
        if not path.parent.exists():
            raise StoreRefusedError(
                f"cannot open store: no directory {path.parent} for {self.url} "
                f"({_how_path_reads(path)})"
            )
        found = _sqlite_contents(path)
        if found == "foreign":
            raise StoreRefusedError(
                f"{path} is not a sla-ledger store (another file or database is there): "
                "sla-ledger neither reads it nor adds its tables to it; check --store, or "
                "give a new path for a new store"
            )
        if found in ("missing", "empty") and self.access != "create":
            what = (
                "no file"
                if found == "missing"
                else "an empty file"
                if path.stat().st_size == 0
                else "a database without tables"
            )
            raise StoreRefusedError(f"no store at {path} ({what} there): {NO_STORE_HINT}")
        writable = _sqlite_writable(path)
        if found == "ledger":
            with closing(sqlite3.connect(_read_only_uri(path, writable), uri=True)) as conn:
                self._probe_layout(conn.execute)
        if self.access == "read":
            datastore = SQLiteDatastore(db_name=_read_only_uri(path, writable))
            # The library switches a file to WAL mode on its first connection: a reader
            # leaves the file's journal mode as it is.
            datastore.pool.is_journal_mode_wal = True
            return datastore
        if not writable and found == "missing":
            raise StoreRefusedError(
                f"cannot create store {self.url}: directory {path.parent} may not be "
                "written; give a path in a writable directory"
            )
        if not writable:
            raise StoreRefusedError(
                f"store {self.url} is read-only ({path} or its directory may not be "
                f"written): {READ_ONLY_HINT}"
            )
        _use_wal(path)
        datastore = SQLiteDatastore(db_name=str(path))
        if self.throwaway:
            datastore.pool.close()
            pool = ThrowawayPool(db_name=str(path))
            pool.contents_uri = self._contents_uri
            datastore.pool = pool
        return datastore

    def _open_postgres(self, dbname: str) -> None:
        """A reader only checks that the ledger is there; a writer may create or upgrade
        its schema (`create_table` runs no DDL when it is current) and must be allowed
        to write to it."""
        assert not isinstance(self.recorder, LedgerSQLiteRecorder)
        if self.access != "create" and not self._postgres_has_ledger():
            raise StoreRefusedError(
                f'no store in database "{dbname}" of {redact(self.url)} (it holds no '
                f"sla-ledger tables): {NO_STORE_HINT}"
            )
        if self.access == "read":
            self.recorder.datastore.register_type_adapters()
            return
        if self._postgres_has_ledger():
            self._probe_layout(self._opening_probe)
        self.recorder.create_table()
        row = self._opening_query(
            "SELECT current_user AS role, has_table_privilege(%s, 'INSERT') AS may_write"
        )
        if not row["may_write"]:
            raise StoreRefusedError(
                f'permission denied: role "{row["role"]}" may not write to store '
                f"{redact(self.url)}; ingest and close write to the store: connect as a role "
                "that may (sla_ingest, see docker/roles.sql); the other commands only read it"
            )

    def _opening_probe(self, statement: str) -> None:
        assert not isinstance(self.recorder, LedgerSQLiteRecorder)
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)

    def _postgres_has_ledger(self) -> bool:
        return bool(self._opening_query("SELECT to_regclass(%s) IS NOT NULL AS found")["found"])

    def _opening_query(self, statement: str) -> Any:
        """One row about the ledger's table, its errors left to the opening's handler
        (an unreachable server is "cannot open store", not a failed query)."""
        assert not isinstance(self.recorder, LedgerSQLiteRecorder)
        table = f'"{self.recorder.datastore.schema}".{LEDGER_TABLE}'
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [table])
            return cursor.fetchone()

    def _require_chain(self) -> None:
        """A store made by an earlier layout has tables without the columns this one
        reads, which `CREATE TABLE IF NOT EXISTS` leaves as they are: say so at once."""
        for what, probe in LAYOUT_PROBES:
            try:
                self._query(probe)
            except StoreError as exc:
                self.close()
                if not _missing_in_layout(str(exc)):
                    raise  # e.g. a role without privileges: that is the message to give
                raise self._earlier_layout(what) from None

    def _later_columns(self) -> dict[str, frozenset[str]]:
        """The columns of `LATER_COLUMNS` this store lacks, by table. A writer adds them
        (each existing row taking the value it held before the column existed); a reader
        leaves the store as it is and reads that value in their place (`_column`)."""
        missing: dict[str, frozenset[str]] = {}
        for table, columns in LATER_COLUMNS.items():
            for name, before in columns.items():
                try:
                    self._query(f"SELECT {name} FROM {table} WHERE 1 = 0")
                    continue
                except StoreError as exc:
                    if not _missing_in_layout(str(exc)):
                        raise
                if self.access == "read":
                    missing[table] = missing.get(table, frozenset()) | {name}
                    continue
                statement = ADD_LATER_COLUMN.format(table=table, name=name, before=before)
                with self._transaction(commit=True) as cursor:
                    cursor.execute(statement)
        return missing

    def _column(self, table: str, name: str, prefix: str = "") -> str:
        """A column in a SELECT list, read as its earlier value where the store lacks it."""
        return later_selected(table, name, self._missing.get(table, frozenset()), prefix)

    def _all_columns(self, table: str) -> str:
        """`*` in a SELECT list, with the columns the store lacks read as their earlier
        values."""
        lacking = self._missing.get(table, frozenset())
        return ", ".join(["*", *(later_selected(table, name, lacking) for name in sorted(lacking))])

    def _earlier_layout(self, what: str) -> StoreRefusedError:
        return StoreRefusedError(
            f"store {redact(self.url)} was made by an earlier sla-ledger, without {what}: "
            "start a new store and ingest the original inputs into it"
        )

    def _probe_layout(self, execute: Callable[[str], object]) -> None:
        """Before a writer's schema creation touches an existing ledger: refuse one of an
        earlier layout in one line (its DDL would fail on the missing columns)."""
        failures: tuple[type[Exception], ...] = (
            sqlite3.Error,
            PersistenceError,
            *_postgres_errors(),
        )
        for what, probe in LAYOUT_PROBES:
            try:
                execute(probe)
            except failures as exc:
                if _missing_in_layout(str(exc)):
                    raise self._earlier_layout(what) from None
                raise

    @property
    def _record_key(self) -> str:
        """The column of the event store's records that is their notification id."""
        return "rowid" if self.dialect == "sqlite" else "notification_id"

    @property
    def _content_join(self) -> str:
        """Joins each event row `e` to its eventsourcing record `c` (its content), whose
        notification id is the event's chain position."""
        table = self.recorder.events_table_name
        if self.contents_elsewhere:
            table = f"{CONTENTS_SCHEMA}.{table}"
        return f"LEFT JOIN {table} c ON c.{self._record_key} = e.chain_pos"

    @property
    def _content_state(self) -> str:
        """The content `c.state` (`state`): on SQLite as text (the database decodes it,
        faster than Python's JSON parser detecting the encoding of bytes); on PostgreSQL
        as stored, packed (`content_codec`), for `_content` to unpack."""
        if self.dialect == "sqlite":
            return "CAST(c.state AS TEXT) AS state"
        return "c.state AS state"

    def _require_content_layout(self) -> None:
        """A store made before each event's content was kept once (in its eventsourcing
        record) holds it in `sla_events` too, and its records' notification ids are not
        their chain positions: refused, in one line."""
        try:
            self._query("SELECT envelope FROM sla_events WHERE 1 = 0")
        except StoreError:
            return
        self.close()
        raise StoreRefusedError(
            f"store {redact(self.url)} was made by an earlier sla-ledger, which kept each "
            "event's content twice: start a new store and ingest the original inputs into it"
        )

    def close(self) -> None:
        with suppress(Exception):
            self.recorder.datastore.close()

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, commit: bool = False) -> Iterator[Any]:
        try:
            with self.recorder.datastore.transaction(commit=commit) as cursor:
                yield cursor
        except PersistenceError as exc:
            raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._snapshot is not None:
            try:
                self._snapshot.execute(to_dialect(statement, self.dialect), list(params))
                return list(self._snapshot.fetchall())
            except Exception as exc:  # the driver's own errors: one line, as elsewhere
                raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None
        with self._transaction() as cursor:
            cursor.execute(to_dialect(statement, self.dialect), list(params))
            return list(cursor.fetchall())

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """`_query`'s rows as plain tuples in the statement's column order, which SQLite
        builds directly, without a row object for each (a rebuild reads every record of
        the log and every row of the projections it compares)."""
        if self.dialect != "sqlite":
            return [tuple(r.values()) for r in self._query(statement, params)]
        if self._snapshot is not None:
            return _plain_rows(self._snapshot, statement, params, self.url)
        with self._transaction() as cursor:
            return _plain_rows(cursor, statement, params, self.url)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the store as of one moment, whatever is committed
        meanwhile (one read transaction; REPEATABLE READ on PostgreSQL). An audit reads
        the chain, the head, the event store and the spans in several queries: without
        one snapshot, records appended between them would look like tampering."""
        if self._snapshot is not None:
            yield
            return
        with self._transaction() as cursor:
            if self.dialect == "postgresql":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self._snapshot = cursor
            try:
                yield
            finally:
                self._snapshot = None

    def known_contents(self, event_ids: Sequence[str]) -> dict[str, str]:
        """event_id -> content_sha256 of those already accepted (the digest of the
        envelope their record holds)."""
        found: dict[str, str] = {}
        for row in self._of_event_ids("e.event_id, c.state", event_ids):
            state = _unpacked(row["state"])
            content = None if state is None else event_content(state)
            # A record gone or edited out of shape: nothing a new event could duplicate.
            found[row["event_id"]] = (
                "" if content is None else hashlib.sha256(content[0].encode()).hexdigest()
            )
        return found

    def _of_event_ids(self, columns: str, event_ids: Sequence[str]) -> list[Any]:
        """`columns` of the events with these ids: each `sla_events` row `e` with its
        record `c`. Found through the event store's own key, (originator id, version 1),
        whose originator id is the event id's name-based UUID: `sla_events` keeps no index
        of its own on event_id (it would repeat that key, about 80 bytes an event). An
        event whose record is gone (a damaged store, which `audit verify` names) is not
        found."""
        wanted = set(event_ids)
        if not wanted:
            return []
        table, key = self.recorder.events_table_name, self._record_key
        select = (
            f"SELECT {columns} FROM {table} c JOIN sla_events e ON e.chain_pos = c.{key} "
            "WHERE c.originator_version = 1 AND "
        )
        originators = [originator_of("event", event_id) for event_id in sorted(wanted)]
        if self.dialect == "postgresql":
            # One round trip for the whole batch: the ids go as one typed array.
            rows = self._query(select + "c.originator_id = ANY(%b::uuid[])", [originators])
        else:
            rows = [
                row
                for chunk in _chunks([originator.hex for originator in originators])
                for row in self._query(
                    select + f"c.originator_id IN ({_placeholders(len(chunk))})", chunk
                )
            ]
        return [row for row in rows if row["event_id"] in wanted]

    def events_of_kind(self, kind: str, recorded_by_us: int | None = None) -> list[RecordedEvent]:
        statement = (
            f"SELECT {self._content_state}, e.recorded_us FROM sla_events e {self._content_join} "
            "WHERE e.subject_kind = ?"
        )
        params: list[Any] = [kind]
        if recorded_by_us is not None:
            statement += " AND e.recorded_us <= ?"
            params.append(recorded_by_us)
        return [_row_event(r) for r in self._query(statement + " ORDER BY e.chain_pos", params)]

    def events_near(
        self,
        kind: str,
        lo_us: int,
        hi_us: int,
        recorded_by_us: int | None = None,
        scopes: set[str] | None = None,
    ) -> list[RecordedEvent]:
        """Every event of the subjects whose span reaches into `[lo, hi)`, in chain order;
        with `scopes`, only of the subjects with one of those scopes (see subject_index).

        A span touching `lo` counts too: an incident opened exactly at a window's start
        belongs to that window, and its span is that single instant. The subjects are
        found by the buckets `[lo, hi)` reaches, plus the wide ones, so the cost follows
        the period's own activity, not the length of the history around it.
        """
        subjects = self._subjects_near(kind, lo_us, hi_us, scopes, recorded_by_us)
        statement = (
            f"SELECT {self._content_state}, e.recorded_us, e.chain_pos FROM sla_events e "
            "JOIN sla_subject_spans s ON s.subject_kind = e.subject_kind "
            f"AND s.subject_id = e.subject_id {self._content_join} "
            "WHERE e.subject_kind = ? AND s.lo_us < ? AND (s.hi_us >= ? OR s.has_end = 0"
        )
        params: list[Any] = [kind, hi_us, lo_us]
        if recorded_by_us is None:
            statement += ")"
        else:
            # As of then, a subject whose end became known later was still open.
            statement += " OR s.ended_us > ?) AND e.recorded_us <= ?"
            params += [recorded_by_us, recorded_by_us]
        rows = self._rows_of_subjects(statement, params, "e.subject_id", sorted(subjects))
        rows.sort(key=lambda r: int(r["chain_pos"]))
        return [_row_event(r) for r in rows]

    def _subjects_near(
        self,
        kind: str,
        lo_us: int,
        hi_us: int,
        scopes: set[str] | None,
        recorded_by_us: int | None,
    ) -> set[str]:
        """The ids of the subjects that may reach into `[lo, hi)`: those of its buckets,
        the wide ones, and (as of a moment) those still open then (a superset;
        `events_near` applies the exact span test)."""
        first, last = lo_us // BUCKET_US, (hi_us - 1) // BUCKET_US
        if scopes is None:
            bucketed = self._query(
                "SELECT DISTINCT subject_id FROM sla_subject_buckets "
                "WHERE subject_kind = ? AND bucket >= ? AND bucket <= ?",
                [kind, first, last],
            )
            found = {r["subject_id"] for r in bucketed}
        else:
            bucketed = self._query(
                "SELECT b.subject_id, c.scope FROM sla_subject_buckets b "
                "JOIN sla_subject_scopes c ON c.subject_kind = b.subject_kind "
                "AND c.subject_id = b.subject_id "
                "WHERE b.subject_kind = ? AND b.bucket >= ? AND b.bucket <= ?",
                [kind, first, last],
            )
            found = {r["subject_id"] for r in bucketed if r["scope"] in scopes}
        wide = {
            r["subject_id"]
            for r in self._query(
                f"SELECT subject_id FROM sla_subject_spans WHERE subject_kind = ? "
                f"AND {WIDE_SPAN} AND lo_us < ?",
                [kind, hi_us],
            )
        }
        if recorded_by_us is not None:
            wide |= {
                r["subject_id"]
                for r in self._query(
                    "SELECT subject_id FROM sla_subject_spans WHERE subject_kind = ? "
                    "AND ended_us > ? AND ended_us < ? AND lo_us < ?",
                    [kind, recorded_by_us, NOT_ENDED_US, hi_us],
                )
            }
        if scopes is not None and wide:
            held = self.scopes_of_subjects([(kind, subject) for subject in wide])
            wide = {subject for subject in wide if held.get((kind, subject), set()) & scopes}
        return found | wide

    def _rows_of_subjects(
        self, statement: str, params: list[Any], column: str, ids: Sequence[str]
    ) -> list[Any]:
        """`statement` (a WHERE clause open for one more condition) restricted to rows
        whose `column` is one of `ids`: one query on PostgreSQL, chunks on SQLite."""
        if not ids:
            return []
        if self.dialect == "postgresql":
            return self._query(f"{statement} AND {column} = ANY(%b::text[])", [*params, list(ids)])
        found: list[Any] = []
        for chunk in _chunks(ids):
            found += self._query(
                f"{statement} AND {column} IN ({_placeholders(len(chunk))})", [*params, *chunk]
            )
        return found

    def events_of_subjects(
        self, kind: str, subject_ids: Sequence[str], recorded_by_us: int | None = None
    ) -> list[RecordedEvent]:
        """Every event of these subjects of `kind`, in chain order."""
        statement = (
            f"SELECT {self._content_state}, e.recorded_us, e.chain_pos FROM sla_events e "
            f"{self._content_join} WHERE e.subject_kind = ?"
        )
        params: list[Any] = [kind]
        if recorded_by_us is not None:
            statement += " AND e.recorded_us <= ?"
            params.append(recorded_by_us)
        rows = self._rows_of_subjects(statement, params, "e.subject_id", sorted(set(subject_ids)))
        rows.sort(key=lambda r: int(r["chain_pos"]))
        return [_row_event(r) for r in rows]

    def subject_ids(self, kind: str, recorded_by_us: int | None = None) -> list[str]:
        """The ids of the subjects of `kind` with an event recorded (by then), sorted."""
        statement = "SELECT DISTINCT subject_id FROM sla_events WHERE subject_kind = ?"
        params: list[Any] = [kind]
        if recorded_by_us is not None:
            statement += " AND recorded_us <= ?"
            params.append(recorded_by_us)
        return sorted(r["subject_id"] for r in self._query(statement, params))

    def changed_subjects(self, after: int, through: int) -> set[tuple[str, str]]:
        """(kind, subject) of every event at a chain position in `(after, through]`."""
        return {
            (r["subject_kind"], r["subject_id"])
            for r in self._query(
                "SELECT DISTINCT subject_kind, subject_id FROM sla_events "
                "WHERE chain_pos > ? AND chain_pos <= ?",
                [after, through],
            )
        }

    def spans_of(
        self, subjects: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, int, int, int]]:
        """(kind, subject) -> (lo, hi, has_end, ended_us) of these subjects, where they
        have a span."""
        found: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        for kind in sorted({k for k, _ in subjects}):
            ids = sorted({subject for k, subject in subjects if k == kind})
            for r in self._rows_of_subjects(
                "SELECT subject_id, lo_us, hi_us, has_end, ended_us FROM sla_subject_spans "
                "WHERE subject_kind = ?",
                [kind],
                "subject_id",
                ids,
            ):
                found[(kind, r["subject_id"])] = (
                    int(r["lo_us"]),
                    int(r["hi_us"]),
                    int(r["has_end"]),
                    int(r["ended_us"]),
                )
        return found

    def recorded_at_position(self, position: int) -> int:
        """The record time of the last event at or before chain `position` (0: none)."""
        rows = self._query(
            "SELECT recorded_us FROM sla_events WHERE chain_pos <= ? "
            "ORDER BY chain_pos DESC LIMIT 1",
            [position],
        )
        return int(rows[0]["recorded_us"]) if rows else 0

    def scopes_of_subjects(
        self, subjects: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], set[str]]:
        """(kind, subject) -> the scopes its events gave it."""
        found: dict[tuple[str, str], set[str]] = {}
        for kind in sorted({k for k, _ in subjects}):
            ids = sorted({subject for k, subject in subjects if k == kind})
            for r in self._rows_of_subjects(
                "SELECT subject_id, scope FROM sla_subject_scopes WHERE subject_kind = ?",
                [kind],
                "subject_id",
                ids,
            ):
                found.setdefault((kind, r["subject_id"]), set()).add(r["scope"])
        return found

    def contract_terms(self, wanted: set[str]) -> dict[str, set[str]]:
        """contract scope -> the contracts whose terms name it, for the `wanted` ones."""
        found: dict[str, set[str]] = {}
        for r in self._rows_of_subjects(
            "SELECT scope, contract_id FROM sla_contract_scopes WHERE 1 = 1",
            [],
            "scope",
            sorted(wanted),
        ):
            found.setdefault(r["scope"], set()).add(r["contract_id"])
        return found

    def due_rows(self, by_us: int) -> list[tuple[str, str]]:
        """(period, contract) of the closed rows due to change by `by_us` with time alone."""
        return [
            (r["period"], r["contract_id"])
            for r in self._query(
                "SELECT period, contract_id FROM sla_due WHERE due_us <= ? "
                "ORDER BY period, contract_id",
                [by_us],
            )
        ]

    def record_due(self, period: str, computed_pos: int, due: dict[str, int | None]) -> None:
        """Set the due times of these contracts' rows of a closed `period`, computed at
        chain position `computed_pos` (None: none due). A due time computed at a later
        position is never replaced by one computed earlier."""
        cleared = sorted(c for c, us in due.items() if us is None)
        with self._transaction(commit=True) as cursor:
            for chunk in _chunks(cleared):
                cursor.execute(
                    to_dialect(
                        "DELETE FROM sla_due WHERE period = ? AND computed_pos <= ? AND "
                        f"contract_id IN ({_placeholders(len(chunk))})",
                        self.dialect,
                    ),
                    [period, computed_pos, *chunk],
                )
            insert = _due_insert(period, computed_pos, due)
            if insert.rows:
                if self.dialect == "sqlite":
                    cursor.executemany(insert.sqlite(), insert.rows)
                else:
                    statement, arrays = insert.postgresql()
                    cursor.execute(statement, arrays)

    def subjects_of(self, event_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """event_id -> (subject_kind, subject_id) of each of these events."""
        return {
            row["event_id"]: (row["subject_kind"], row["subject_id"])
            for row in self._of_event_ids("e.event_id, e.subject_kind, e.subject_id", event_ids)
        }

    def events_recorded_between(self, after_us: int, through_us: int) -> list[RecordedEvent]:
        """The events recorded in `(after, through]`, in chain order."""
        return [
            _row_event(r)
            for r in self._query(
                f"SELECT {self._content_state}, e.recorded_us FROM sla_events e "
                f"{self._content_join} "
                "WHERE e.recorded_us > ? AND e.recorded_us <= ? ORDER BY e.chain_pos",
                [after_us, through_us],
            )
        ]

    def log_page(self, after: int, limit: int) -> list[tuple[int, str, dict[str, Any]]]:
        """The event store itself, in commit order: (notification id, topic, state) of
        the records after notification id `after`."""
        try:
            page = self.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
        except PersistenceError as exc:
            raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None
        return [(n.id, n.topic, _stored_json(unpack(n.state))) for n in page]

    def tracked_position(self, name: str) -> int | None:
        """The last upstream position recorded under `name` (None: nothing yet).

        Offset 0 is a real position, so callers must test `is None`, not truthiness.
        """
        try:
            return self.recorder.max_tracking_id(name)
        except PersistenceError as exc:
            raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None

    def record_position(self, name: str, position: int) -> None:
        """Record a position with no rows (e.g. how far an outbox has been published)."""
        try:
            self.recorder.insert_tracking(Tracking(name, position))
        except IntegrityError:
            return  # already at or beyond it
        except PersistenceError as exc:
            raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None

    def hold_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease `name` for `holder` for `seconds`; False if another
        holder has it and it has not expired. Clocks of the workers are compared, so a
        lease should be far longer than their skew (leases here last tens of seconds)."""
        now = to_us(datetime.now(UTC))
        statement = to_dialect(
            "INSERT INTO sla_outbox_leases (name, holder, expires_us) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_us = excluded.expires_us WHERE sla_outbox_leases.holder = excluded.holder "
            "OR sla_outbox_leases.expires_us < ?",
            self.dialect,
        )
        with self._transaction(commit=True) as cursor:
            cursor.execute(statement, [name, holder, now + int(seconds * 1_000_000), now])
            cursor.execute(
                to_dialect("SELECT holder FROM sla_outbox_leases WHERE name = ?", self.dialect),
                [name],
            )
            return bool(cursor.fetchone()["holder"] == holder)

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up now (a clean stop), so another worker need not wait it out."""
        statement = to_dialect(
            "DELETE FROM sla_outbox_leases WHERE name = ? AND holder = ?", self.dialect
        )
        with self._transaction(commit=True) as cursor:
            cursor.execute(statement, [name, holder])

    def entries_after(self, seq: int, limit: int) -> list[tuple[int, CreditEntry]]:
        rows = self._query(
            f"SELECT {self._all_columns('sla_credit_entries')} FROM sla_credit_entries "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            [seq, limit],
        )
        return [(int(r["seq"]), _row_entry(r)) for r in rows]

    def rejections_after(self, seq: int, limit: int) -> list[StoredRejection]:
        rows = self._query(
            "SELECT * FROM sla_rejections WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]
        )
        return [_row_rejection(r) for r in rows]

    def event_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM sla_events")[0]["n"])

    def rejections(self) -> list[StoredRejection]:
        return [_row_rejection(r) for r in self._query("SELECT * FROM sla_rejections ORDER BY seq")]

    def resubmitted(self, rejections: Sequence[StoredRejection]) -> set[int]:
        """The `seq`s of the rejections whose input was later accepted as its own.

        A rejection is resubmitted when an event with the `event_id` it claims was
        recorded after it: in a later transaction (a rejection that shares a transaction
        with accepted events carries that transaction's record time), or in the same one
        from a later line of the same file or a later offset of the same partition. So a
        conflict, whose id was accepted before it, or an invalid copy of an accepted event,
        is never resubmitted; a fix sent with a new `event_id` cannot be told from a new
        event and is not linked to the rejection.
        """
        claimed = sorted({r.event_id for r in rejections if r.event_id is not None})
        accepted: dict[str, tuple[int, dict[str, Any]]] = {}
        columns = f"e.event_id, e.recorded_us, {self._content_state}"
        for row in self._of_event_ids(columns, claimed):
            accepted[row["event_id"]] = (int(row["recorded_us"]), _content(row["state"])[1])
        return {
            r.seq
            for r in rejections
            if r.event_id in accepted and _recorded_after(*accepted[r.event_id], r)
        }

    def closes(self, recorded_by_us: int | None = None) -> dict[str, datetime]:
        rows = self._query("SELECT period, closed_us FROM sla_closes")
        return {
            r["period"]: from_us(int(r["closed_us"]))
            for r in rows
            if recorded_by_us is None or int(r["closed_us"]) <= recorded_by_us
        }

    def entries(
        self,
        period: str | None = None,
        contract_id: str | None = None,
        recorded_by_us: int | None = None,
        contract_ids: Sequence[str] | None = None,
    ) -> list[CreditEntry]:
        """Entries in record order, filtered by any of: period, one contract, record
        time, and (`contract_ids`) a set of contracts."""
        statement = (
            f"SELECT {self._all_columns('sla_credit_entries')} FROM sla_credit_entries WHERE 1 = 1"
        )
        params: list[Any] = []
        for column, value in (("period", period), ("contract_id", contract_id)):
            if value is not None:
                statement += f" AND {column} = ?"
                params.append(value)
        if recorded_by_us is not None:
            statement += " AND recorded_us <= ?"
            params.append(recorded_by_us)
        if contract_ids is None:
            rows = self._query(statement + " ORDER BY seq", params)
        else:
            rows = self._rows_of_subjects(statement, params, "contract_id", sorted(contract_ids))
            rows.sort(key=lambda r: int(r["seq"]))
        return [_row_entry(r) for r in rows]

    # -- writing ------------------------------------------------------------------

    def _write(
        self, stored: list[StoredEvent], side: SideRows, tracking: Tracking | None = None
    ) -> None:
        try:
            self.recorder.insert_events(stored, side_rows=side, tracking=tracking)
        except IntegrityError:
            raise
        except PersistenceError as exc:
            raise StoreError(f"store {redact(self.url)} failed: {_first_line(exc)}") from None

    def append(
        self,
        events: Sequence[tuple[InboundEvent, Origin, bytes]],
        rejections: Sequence[Rejection],
        tracking: Tracking | None = None,
        *,
        recorded_us: int | None = None,
    ) -> AppendOutcome:
        """Store a batch in one transaction: new events once, rejections once.

        `events` pairs each validated event with its origin and the raw bytes received,
        kept verbatim if the event turns out to be a conflict. An `event_id` already
        accepted with the same content is a duplicate (no-op); with different content it
        is a conflict, rejected naming `event_id`. A concurrent writer that stored the
        same id first makes the transaction fail on the unique key; the batch is then
        classified again and retried.

        With `tracking` (an upstream position, e.g. a Kafka partition's offset), the
        position is recorded in the same transaction; a position not beyond the stored
        one fails the whole transaction, which is reported as `already_tracked`.
        """
        for _attempt in range(5):
            try:
                return self._append_once(events, rejections, tracking, recorded_us)
            except IntegrityError:
                if tracking is not None:
                    stored = self.tracked_position(tracking.application_name)
                    if stored is not None and stored >= tracking.notification_id:
                        return AppendOutcome(already_tracked=True)
                continue
        raise StoreError("could not append a batch: it kept conflicting with a concurrent writer")

    def _append_once(
        self,
        events: Sequence[tuple[InboundEvent, Origin, bytes]],
        rejections: Sequence[Rejection],
        tracking: Tracking | None,
        recorded_us: int | None = None,
    ) -> AppendOutcome:
        outcome = AppendOutcome(rejected=list(rejections))
        known = self.known_contents([e.event_id for e, _, _ in events])
        rejected_us = to_us(datetime.now(UTC))
        # The record time is the seal's, under the write lock; only a rebuild replaying
        # the log gives it (`recorded_us`, each event's original record time).
        chain = ChainAppend(at_us=recorded_us)
        side = SideRows(chain=chain)
        spans: list[Span] = []
        scopes: set[tuple[str, str, str]] = set()
        for event, origin, raw in events:
            envelope = event.canonical()
            digest = hashlib.sha256(envelope.encode()).hexdigest()
            seen = known.get(event.event_id)
            if seen == digest:
                outcome.duplicates += 1
                continue
            if seen is not None:
                outcome.rejected.append(
                    Rejection(
                        raw=raw,
                        origin=origin,
                        field="event_id",
                        reason=f"event_id: {event.event_id} was already accepted with different "
                        "content (a conflicting re-use of the id)",
                        event_id=event.event_id,
                    )
                )
                continue
            known[event.event_id] = digest
            outcome.accepted += 1
            chain.records.append(
                PendingRecord(
                    kind="event",
                    fields={
                        "event_id": event.event_id,
                        "type": event.type,
                        "subject_kind": event.subject_kind,
                        "subject_id": event.subject_id,
                        "occurred_at": format_utc(event.occurred_at),
                        "content_sha256": digest,
                        "envelope": envelope,
                        "origin": origin.canonical(),
                    },
                    originator_id=originator_of("event", event.event_id),
                    topic=TOPIC_EVENT_ACCEPTED,
                )
            )
            subject_of(event, None, spans, scopes)
        _add_subject_rows(side, spans, scopes, chain)
        # Conflicts are found here, after the batch's validation rejections: the rows
        # (and their `seq`) go in input order, so an exported fix file keeps it too.
        outcome.rejected.sort(key=_input_position)
        rejected_rows = [
            (
                r.rejection_id,
                rejected_us,
                json.dumps(r.origin.as_dict(), sort_keys=True),
                r.raw,
                r.field,
                r.reason,
                r.event_id,
            )
            for r in outcome.rejected
        ]
        side.add(
            BulkInsert(
                "sla_rejections",
                REJECTION_COLUMNS,
                list({row[0]: row for row in rejected_rows}.values()),
                KEEP_FIRST,
                record_time_column="rejected_us",
            )
        )
        if chain.records or side.inserts or tracking is not None:
            self._write([], side, tracking)
        return outcome

    def chain_end(self) -> int:
        """The greatest position any chained row claims (the head, unless tampered)."""
        ends = [
            self._query(f"SELECT MAX(chain_pos) AS p FROM {table}")[0]["p"]
            for table in CHAINED_TABLES.values()
        ]
        return max((int(end) for end in ends if end is not None), default=0)

    def chain_rows(self, after: int, through: int) -> list[tuple[RecordKind, dict[str, Any]]]:
        """The chained rows with `after < chain_pos <= through`, in position order, with
        every field the chain covers (an event's envelope and origin from its record)."""
        found: list[tuple[RecordKind, dict[str, Any]]] = []
        kinds: tuple[RecordKind, ...] = ("event", "entry", "close")
        for kind in kinds:
            found += [
                (kind, fields)
                for fields in self._chained(
                    kind, "e.chain_pos > ? AND e.chain_pos <= ?", [after, through]
                )
            ]
        return sorted(found, key=lambda item: int(item[1]["chain_pos"]))

    def _chained(
        self, kind: RecordKind, condition: str, params: Sequence[Any]
    ) -> list[dict[str, Any]]:
        table = CHAINED_TABLES[kind]
        columns = [name for name, _ in COLUMNS[kind]]
        listed = ", ".join(self._column(table, name, "e.") for name in columns)
        if kind != "event":
            return [
                {name: r[name] for name in columns}
                for r in self._query(f"SELECT {listed} FROM {table} e WHERE {condition}", params)
            ]
        found = []
        for r in self._query(
            f"SELECT {listed}, c.state FROM {table} e {self._content_join} WHERE {condition}",
            params,
        ):
            state = _unpacked(r["state"])
            content = None if state is None else event_content(state)
            envelope, origin = content or ("", "")
            derived = {
                "content_sha256": hashlib.sha256(envelope.encode()).hexdigest(),
                "envelope": envelope,
                "origin": origin,
            }
            # In the chain's field order, then position and link, as the columns were.
            found.append(
                {name: derived[name] if name in derived else r[name] for name in EVENT_FIELDS}
            )
        return found

    def chained_rows(
        self, kind: RecordKind, column: str, values: Sequence[str], recorded_by_us: int
    ) -> list[dict[str, Any]]:
        """The chained rows of `kind` whose `column` is one of `values`, recorded by then,
        with every field the chain covers plus position and link, in chain order."""
        found: list[dict[str, Any]] = []
        for chunk in _chunks(list(values)):
            found += self._chained(
                kind,
                f"e.{column} IN ({_placeholders(len(chunk))}) AND e.{RECORD_TIME[kind]} <= ?",
                [*chunk, recorded_by_us],
            )
        return sorted(found, key=lambda fields: int(fields["chain_pos"]))

    def min_chain_position(self) -> int | None:
        """The smallest position any chained row claims (1, unless rows were forged)."""
        starts = [
            self._query(f"SELECT MIN(chain_pos) AS p FROM {table}")[0]["p"]
            for table in CHAINED_TABLES.values()
        ]
        return min((int(start) for start in starts if start is not None), default=None)

    def subject_spans(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """(kind, subject) -> (lo, hi, has_end) as the span table holds it."""
        return {
            (r["subject_kind"], r["subject_id"]): (
                int(r["lo_us"]),
                int(r["hi_us"]),
                int(r["has_end"]),
            )
            for r in self._query(
                "SELECT subject_kind, subject_id, lo_us, hi_us, has_end FROM sla_subject_spans"
            )
        }

    def library_states(self, originator_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        """The eventsourcing records (the event store proper) of these originators."""
        table = self.recorder.events_table_name
        found: dict[uuid.UUID, bytes] = {}
        for chunk in _chunks(
            [str(i) if self.dialect == "postgresql" else i.hex for i in originator_ids]
        ):
            for r in self._query(
                f"SELECT originator_id, state FROM {table} "
                f"WHERE originator_id IN ({_placeholders(len(chunk))})",
                chunk,
            ):
                found[uuid.UUID(str(r["originator_id"]))] = unpack(bytes(r["state"]))
        return found

    @functools.cached_property
    def chain_queries(self) -> PageQueries:
        """The statements `audit verify` reads the chain with (`chain_walk.PageQueries`)."""
        table = self.recorder.events_table_name
        key = "rowid" if self.dialect == "sqlite" else "notification_id"
        originator = (
            "c.originator_id"
            if self.dialect == "sqlite"
            else "replace(CAST(c.originator_id AS TEXT), '-', '')"
        )
        # The record's originator only when its topic (the parameter) and version are
        # the kind's: one value to fetch instead of three.
        library = (
            f"c.state, CASE WHEN c.topic = ? AND c.originator_version = 1 THEN {originator} END"
        )
        join = f"LEFT JOIN {table} c ON c.{key} = e.chain_pos"
        within = "WHERE e.chain_pos > ? AND e.chain_pos <= ?"
        names = ["chain_pos", *(name for name, _ in EVENT_COLUMNS if name != "chain_pos")]
        kinds: tuple[RecordKind, ...] = ("entry", "close")
        columns = {kind: tuple(name for name, _ in COLUMNS[kind]) for kind in kinds}
        statements = {
            kind: "SELECT "
            + ", ".join(self._column(CHAINED_TABLES[kind], n, "e.") for n in columns[kind])
            + f", {library} "
            f"FROM {CHAINED_TABLES[kind]} e {join} {within}"
            for kind in columns
        }
        return PageQueries(
            events=f"SELECT {', '.join(f'e.{n}' for n in names)}, {library} FROM sla_events e "
            f"{join} {within} ORDER BY e.chain_pos",
            entry=statements["entry"],
            close=statements["close"],
            link=" UNION ALL ".join(
                f"SELECT chain_sha256, {RECORD_TIME[kind]} FROM {chained} WHERE chain_pos = ?"
                for kind, chained in CHAINED_TABLES.items()
            ),
            entry_columns=columns["entry"],
            close_columns=columns["close"],
        )

    def chain_page(self, after: int, through: int) -> Page:
        """What `audit verify` reads of the positions `after < p <= through`, as stored
        (`chain_walk.read_page`), each record's state unpacked (`content_codec`)."""
        events, others = read_page(self._tuples, self.chain_queries, after, through)
        if self.dialect != "postgresql":  # only PostgreSQL packs records
            return events, others
        state = len(EVENT_COLUMNS)  # the record's state follows the event's columns
        return (
            [(*row[:state], _unpacked(row[state]), *row[state + 1 :]) for row in events],
            [(kind, fields, (_unpacked(record[0]), record[1])) for kind, fields, record in others],
        )

    def chain_link(self, position: int) -> tuple[str, int] | None:
        """The link and the record time stored at a position, if exactly one row claims
        it (`chain_walk.read_link`)."""
        return read_link(self._tuples, self.chain_queries, position)

    def reader_uri(self) -> str | None:
        """A SQLite URI another process can read this store with, never writing it (the
        one a reader opens it with); None for PostgreSQL."""
        if self.dialect != "sqlite":
            return None
        path = Path(parse_store_url(self.url)[1]["path"])
        return _read_only_uri(path, _sqlite_writable(path))

    def _tuples(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows = self._query(statement, params)
        if self.dialect == "sqlite":
            return [tuple(r) for r in rows]
        return [tuple(r.values()) for r in rows]

    def log_records(self, after: int, through: int) -> list[LogRecord]:
        """The event store itself, in commit order, for a rebuild: the records at
        positions `after < p <= through` (a record's notification id is its position),
        each with the `sla_events` row at its position (`replay_derivation.log_record`).
        Records are read as stored, as `audit verify` reads them: unpacked only where
        the store packs them (PostgreSQL)."""
        rows = self._rows(self.log_statement, [after, through])
        if self.dialect == "sqlite":
            return [log_record(row) for row in rows]
        return [
            (position, topic, unpack(state), index)
            for position, topic, state, index in map(log_record, rows)
        ]

    @property
    def log_statement(self) -> str:
        """The statement `log_records` reads with (parameters: after, through; `?`
        placeholders): each row a record's position, topic and state, then the
        columns of the `sla_events` row at that position (`EVENT_COLUMNS`, all NULL
        without one)."""
        table = self.recorder.events_table_name
        key = "rowid" if self.dialect == "sqlite" else "notification_id"
        columns = ", ".join(f"e.{name}" for name, _ in EVENT_COLUMNS)
        return (
            f"SELECT c.{key}, c.topic, c.state, {columns} "
            f"FROM {table} c LEFT JOIN sla_events e ON e.chain_pos = c.{key} "
            f"WHERE c.{key} > ? AND c.{key} <= ? ORDER BY c.{key}"
        )

    def next_log_position(self, after: int, topic: str) -> int | None:
        """The position of the event store's first record of `topic` after position
        `after` (None: there is none)."""
        table = self.recorder.events_table_name
        key = "rowid" if self.dialect == "sqlite" else "notification_id"
        found = self._rows(
            f"SELECT {key} FROM {table} WHERE {key} > ? AND topic = ? ORDER BY {key} LIMIT 1",
            [after, topic],
        )
        return int(found[0][0]) if found else None

    def log_page_end(self, after: int, size: int) -> int | None:
        """The position of the `size`-th record of the event store after position
        `after`, or of its last if there are fewer; None if there is none."""
        table = self.recorder.events_table_name
        key = "rowid" if self.dialect == "sqlite" else "notification_id"
        found = self._rows(
            f"SELECT {key} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT 1 OFFSET ?",
            [after, size - 1],
        ) or self._rows(f"SELECT MAX({key}) FROM {table} WHERE {key} > ?", [after])
        return None if found[0][0] is None else int(found[0][0])

    def append_replayed(
        self,
        events: Sequence[ReplayedEvent],
        spans: list[Span],
        scopes: set[tuple[str, str, str]],
    ) -> None:
        """A rebuild's events, in one transaction: each keeps the record time it gives
        (the log's), and the subject index grows as at intake, from `spans` and `scopes`
        (`subject_of` of each event with its record time)."""
        chain = ChainAppend(
            replayed=list(events),
            replayed_topic=TOPIC_EVENT_ACCEPTED,
            replayed_records=not self.contents_elsewhere,
        )
        side = SideRows(chain=chain)
        _add_subject_rows(side, spans, scopes, chain)
        self._write([], side)

    def rows_after(
        self,
        table: str,
        key: Sequence[str],
        after: Sequence[Any] | None,
        limit: int,
        values: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """Up to `limit` rows of a ledger table in the order of its unique `key` columns
        (strings in code-point order, as Python orders them), after the key `after`: each
        row its key's values, then those of the columns `values`."""

        def ordered(column: str) -> str:
            if self.dialect == "postgresql" and column not in NUMERIC_KEYS:
                return f'{column} COLLATE "C"'
            return column

        selected = [self._column(table, name) for name in values]
        statement = rows_after_statement(table, key, selected, after is not None, ordered)
        return self._rows(statement, [*(after or ()), limit])

    def library_count(self) -> int:
        table = self.recorder.events_table_name
        return int(self._query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])

    def integrity(self, *, separate: bool = False) -> tuple[bool, str | None]:
        """(checked, problem): the database's own check of its file, where there is a
        cheap one. SQLite's `PRAGMA quick_check` reads every page and b-tree (read-only,
        also on an immutable copy) and finds a truncated or overwritten file; its first
        problem is returned. PostgreSQL has no cheap equivalent (amcheck and checksums are
        the server administrator's), so it is not checked: (False, None). `separate`: on
        a connection of its own, never the snapshot's (so it may run in another thread
        while the snapshot is read: SQLite checks without holding Python's lock)."""
        if self.dialect != "sqlite":
            return False, None
        try:
            if separate:
                with self._transaction() as cursor:
                    cursor.execute("PRAGMA quick_check(5)")
                    rows = list(cursor.fetchall())
            else:
                rows = self._query("PRAGMA quick_check(5)")
        except StoreError as exc:
            return True, str(exc)
        except sqlite3.DatabaseError as exc:  # the driver's own, on a connection of its own
            return True, _first_line(exc)
        lines = [
            line.strip()
            for row in rows
            for line in str(row[0]).splitlines()
            if line.strip() and not line.startswith("*** in database")
        ]
        return True, None if lines == ["ok"] else "; ".join(lines)

    # The writers' head of the chain: position, link, record time.
    HEAD_STATEMENT = "SELECT position, chain_sha256, recorded_us FROM sla_chain_head"

    def chain_head(self) -> ChainHead:
        row = self._query(self.HEAD_STATEMENT)[0]
        return ChainHead(int(row["position"]), row["chain_sha256"], int(row["recorded_us"]))

    def record_close(
        self,
        period: str,
        closed_at: datetime,
        entries: Sequence[CreditEntry],
        head: ChainHead,
        due: dict[str, int | None] | None = None,
    ) -> bool:
        """Close a period and append its first entries, in one transaction.

        The entries were computed at chain head `head`, and `closed_at` is their record
        time: if anything was recorded since, `ChainMovedError` says to compute again.
        The close is chained after its entries, with the head before it as checkpoint,
        and the due times of its rows (see `record_due`) go in the same transaction.
        Returns False (and writes nothing) when the period was already closed.
        """
        if period in self.closes():
            return False
        chain = self._entry_chain(entries, closed_at, head)
        chain.records.append(
            PendingRecord(
                kind="close",
                fields={"period": period, "closed_us": to_us(closed_at)},
                originator_id=originator_of("close", period),
                topic=TOPIC_PERIOD_CLOSED,
            )
        )
        side = SideRows(chain=chain)
        side.add(_due_insert(period, head.position, due or {}))
        try:
            self._write([], side)
        except IntegrityError:
            return False
        return True

    def append_entries(self, entries: Sequence[CreditEntry], head: ChainHead) -> None:
        """Append entries computed at chain head `head` (see `record_close`)."""
        if not entries:
            return
        try:
            self._write(
                [], SideRows(chain=self._entry_chain(entries, entries[0].recorded_at, head))
            )
        except IntegrityError:
            # Another process appended the same deterministic entries first.
            return

    @staticmethod
    def _entry_chain(entries: Sequence[CreditEntry], at: datetime, head: ChainHead) -> ChainAppend:
        if any(e.recorded_at != at for e in entries):
            raise ValueError("the entries of one transaction share one record time")
        return ChainAppend(
            records=[
                PendingRecord(
                    kind="entry",
                    fields=entry_fields(e),
                    originator_id=originator_of("entry", e.entry_id),
                    topic=TOPIC_CREDIT_ENTRY,
                )
                for e in entries
            ],
            at_us=to_us(at),
            expected_position=head.position,
        )


def _due_insert(period: str, computed_pos: int, due: dict[str, int | None]) -> BulkInsert:
    """The due-time rows of a period's contracts that have one."""
    rows = [(period, c, us, computed_pos) for c, us in sorted(due.items()) if us is not None]
    return BulkInsert("sla_due", DUE_COLUMNS, rows, DUE_NEWER)


def entry_fields(e: CreditEntry) -> dict[str, Any]:
    """An entry as its table row holds it (the chain's `entry` fields)."""
    return {
        "entry_id": e.entry_id,
        "kind": e.kind,
        "revision": e.revision,
        "supersedes": e.supersedes,
        "contract_id": e.contract_id,
        "customer_id": e.customer_id,
        "service_id": e.service_id,
        "period": e.period,
        "amount": str(e.amount),
        "currency": e.currency,
        "remedy": e.remedy,
        "credit_percent": e.credit_percent,
        "terms_version": e.terms_version,
        "recorded_us": to_us(e.recorded_at),
        "basis_sha256": e.basis_sha256,
        "basis_version": e.basis_version,
    }


def subject_of(
    event: InboundEvent,
    recorded_us: int | None,
    spans: list[Span],
    scopes: set[tuple[str, str, str]],
) -> None:
    """Add what `event` says about where its subject matters: its span (with the record
    time its end became known, if it names one and that time is given) and its scopes."""
    subject_rows(event.subject_kind, event.subject_id, event.payload, recorded_us, spans, scopes)


def _add_subject_rows(
    side: SideRows, spans: list[Span], scopes: set[tuple[str, str, str]], chain: ChainAppend
) -> None:
    """The subject index rows of a batch: scopes, spans widened (an end named in a batch
    without record times given is known from the seal's), and then the buckets of the
    spans as widened, both under the write lock."""
    side.add(
        BulkInsert(
            "sla_subject_scopes",
            SCOPE_COLUMNS,
            sorted(row for row in scopes if row[0] != "contract"),
            KEEP_FIRST,
        )
    )
    side.add(
        BulkInsert(
            "sla_contract_scopes",
            CONTRACT_SCOPE_COLUMNS,
            sorted((scope, subject) for kind, subject, scope in scopes if kind == "contract"),
            KEEP_FIRST,
        )
    )
    widest = _widest(spans)
    if not widest:
        return
    subjects = [(kind, subject) for kind, subject, *_ in widest]
    side.follow_ups += [
        lambda _cursor, _dialect: [_span_insert(widest, chain)],
        lambda cursor, dialect: bucket_rows(cursor, dialect, subjects),
    ]


def _span_insert(widest: Sequence[Span], chain: ChainAppend) -> BulkInsert:
    """The spans of a sealed batch: an end known with no record time given is known from
    the batch's."""
    assert chain.sealed_head is not None
    at = chain.sealed_head.recorded_us
    rows = [(*span[:5], at if span[4] and span[5] == NOT_ENDED_US else span[5]) for span in widest]
    return BulkInsert("sla_subject_spans", SPAN_COLUMNS, rows, SPAN_WIDENING)


def _widest(spans: Sequence[Span]) -> list[Span]:
    """One span per subject: the union of a batch's spans, sorted for a stable lock order."""
    merged: dict[tuple[str, str], Span] = {}
    for kind, subject, lo, hi, has_end, ended in spans:
        seen = merged.get((kind, subject))
        if seen is not None:
            lo, hi = min(lo, seen[2]), max(hi, seen[3])
            has_end, ended = max(has_end, seen[4]), min(ended, seen[5])
        merged[(kind, subject)] = (kind, subject, lo, hi, has_end, ended)
    return [merged[key] for key in sorted(merged)]


def redact(url: str) -> str:
    """A store URL fit for an error message: the password replaced, in the user part or
    as a query parameter. Never fails, even on a URL that does not parse."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    user, at, host = netloc.rpartition("@")
    if at and ":" in user and user.partition(":")[2]:
        netloc = f"{user.partition(':')[0]}:***@{host}"
    tail = re.sub(r"([?&]password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{netloc}{tail}"


def _unpacked(state: Any) -> bytes | None:
    return None if state is None else unpack(bytes(state))


def _plain_rows(
    cursor: SQLiteCursor, statement: str, params: Sequence[Any], url: str
) -> list[tuple[Any, ...]]:
    sqlite_cursor = cursor.sqlite_cursor
    factory = sqlite_cursor.row_factory
    sqlite_cursor.row_factory = None
    try:
        sqlite_cursor.execute(statement, list(params))
        return sqlite_cursor.fetchall()
    except sqlite3.Error as exc:  # the driver's own errors: one line, as elsewhere
        raise StoreError(f"store {redact(url)} failed: {_first_line(exc)}") from None
    finally:
        sqlite_cursor.row_factory = factory


def _postgres_errors() -> tuple[type[Exception], ...]:
    """The PostgreSQL driver's errors, once a PostgreSQL store has loaded it (before,
    none can be raised)."""
    postgres = sys.modules.get("projections.store.postgres")
    return () if postgres is None else (postgres.DRIVER_ERROR,)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
