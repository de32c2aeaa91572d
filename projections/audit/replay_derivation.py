"""What `audit rebuild` derives again from each event record of the log.

Its index columns, its eventsourcing originator id, its span, its scopes and its record's
digest in the chain, with the intake's own rules (`subject_rows`, `event_originator_hex`,
`event_record_sha256`), from the record alone: the envelope is parsed once, and nothing
is built per event beyond the tuples the scratch store is written from.

A page of the log is replayed whole (`replay_page`): its events derived, their live index
rows compared, the rows the scratch store is written with built. Pure and light (the
standard library, `ledger`, and the store-free `chain_records`, `audit_pages` and
`subject_rules`), so that a rebuild replays pages in a worker process (`serve`) that
starts in milliseconds, beside the process writing the scratch store. The worker replays
the very positions that process chose, as it would, with these same functions.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from ledger.chain import event_record_sha256
from ledger.errors import LedgerError
from ledger.events import EVENT_TYPES
from ledger.timeformat import parse_utc
from projections.audit.rebuild_compare import (
    Row,
    SQLiteRows,
    SubjectIndexComparison,
    subject_index_differences,
)
from projections.audit_pages import INDEX_NAMES, INDEXED, LogRecord, log_record
from projections.chain_records import TOPIC_EVENT_ACCEPTED as EVENT
from projections.chain_records import event_content, event_originator_hex
from projections.subject_rules import SpanRow, subject_rows

IndexColumns = tuple[str, str, str, str, str]  # event_id, type, subject kind and id, occurred
# An event derived again: its index columns when they differ from the live row's (None:
# equal, and the live row's are then used as they are), its record's digest in the chain
# at its position (`event_record_sha256`, over the columns derived and the record as it
# stands), originator id (32 hex digits), span (None: the event names no instant) and
# scopes.
ScopeRow = tuple[str, str, str]
Derivation = tuple[IndexColumns | None, str, str, SpanRow | None, tuple[ScopeRow, ...]]
# An event as the scratch store is written with it: its index columns, record time,
# record's digest, record (None: the scratch store does not hold the records) and
# originator id (`chain_append.ReplayedEvent`).
ReplayedRow = tuple[str, str, str, str, str, int, str, bytes | None, str]
# A run of consecutive events of the log, replayed: their rows, spans, scopes, and how
# their live index rows differ from the columns derived again.
EventRun = tuple[list[ReplayedRow], list[SpanRow], set[ScopeRow], list[str]]
# A record of the log that is no event (an entry's or a close's): position, topic, state.
OtherRecord = tuple[int, str, bytes]
# A piece of a page replayed: a run of events, another record, or why the replay stops.
Piece = EventRun | OtherRecord | str


class ReplayError(LedgerError):
    """The log cannot be replayed as it stands (a record that is no event the ledger
    wrote, record times going back): the rebuild stops there and says why."""


def derive(position: int, state: bytes, index: tuple[Any, ...] | None) -> Derivation:
    """An event as its log record gives it, derived as the intake derives it. The record
    time is the live index row's (the chain covers it: the heads say if it was altered)."""
    content = event_content(state)
    if content is None or index is None:
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote "
            "(or its sla_events row is missing): run `sla-ledger audit verify`"
        )
    envelope = content[0]
    recorded_us = int(index[INDEXED])
    spans: list[SpanRow] = []
    scopes: set[tuple[str, str, str]] = set()
    try:
        # Read as `InboundEvent.from_envelope` reads an envelope (every key it needs, the
        # instant parsed), without building one per event; then derived as at intake.
        document = json.loads(envelope)
        event_id, type_, payload = document["event_id"], document["type"], document["payload"]
        occurred, _, _ = document["occurred_at"], document["schema_version"], document["source"]
        # The envelope spells its instant canonically (`format_utc`), as the index does:
        # a spelling of its own would be an envelope the ledger never wrote.
        parse_utc(occurred)
        subject_kind, subject_field = EVENT_TYPES[type_]
        subject_id = str(payload[subject_field])
        if type(event_id) is not str:  # the inbound contract's is a UUID's text
            raise TypeError
        subject_rows(subject_kind, subject_id, payload, recorded_us, spans, scopes)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote: "
            "run `sla-ledger audit verify`"
        ) from None
    derived = (event_id, type_, subject_kind, subject_id, occurred)
    record_sha256 = event_record_sha256(
        position,
        *derived,
        recorded_us,
        hashlib.sha256(envelope.encode()).hexdigest(),
        state,
    )
    return (
        None if derived == index[:INDEXED] else derived,
        record_sha256,
        event_originator_hex(event_id),
        spans[0] if spans else None,
        tuple(scopes),
    )


def replay_page(records: Sequence[LogRecord], with_records: bool) -> list[Piece]:
    """A page of the log made ready to replay, in position order: each run of events
    derived (`derive`), their index rows compared with the live ones, and the rows to
    write the scratch store with built (`with_records`: each with its record, for a
    scratch store that holds the event store's records; otherwise None); each other
    record as it is (`OtherRecord`); and where an event cannot be derived, the reason,
    after which nothing of the page counts (the replay stops there)."""
    pieces: list[Piece] = []
    run: EventRun = ([], [], set(), [])
    for position, topic, state, index in records:
        if topic != EVENT:
            if run[0]:
                pieces.append(run)
                run = ([], [], set(), [])
            pieces.append((position, topic, state))
            continue
        try:
            columns, record_sha256, originator, span, scope_rows = derive(position, state, index)
        except ReplayError as exc:
            if run[0]:
                pieces.append(run)
            pieces.append(str(exc))
            return pieces
        assert index is not None  # else `derive` refused it
        events, spans, scopes, differences = run
        if columns is not None:
            differences += index_differences(position, index, columns)
        events.append(
            (
                *(columns or index[:INDEXED]),
                int(index[INDEXED]),
                record_sha256,
                state if with_records else None,
                originator,
            )
        )
        if span is not None:
            spans.append(span)
        scopes.update(scope_rows)
    if run[0]:
        pieces.append(run)
    return pieces


def index_differences(position: int, index: Sequence[Any], derived: IndexColumns) -> list[str]:
    """How an event's live index row differs from the columns derived again."""
    where = f"event at position {position} ({index[0]}) in sla_events"
    return [
        f"{where}: {name} is {mine} live, {theirs} rebuilt"
        for name, mine, theirs in zip(INDEX_NAMES, index, derived, strict=False)
        if mine != theirs
    ]


def serve() -> None:
    """A worker process's main. Its first line of input is a JSON object: the directory
    the pages are handed over in (`directory`), whether the rows it builds carry the
    records (`with_records`), and, when it reads the log itself, the live SQLite store
    (`database`, a URI that never writes) and the statement that reads a range of it
    (`statement`: positions after, through; rows as `LogRecord`s, the index row's
    columns following the state). Each line after it is a page `N`, which the file
    `in-N` there holds, pickled: a list of log records, or the range `(after, through)`
    of positions to read in the worker's own snapshot (one read transaction, begun with
    its first range). The worker takes the file (a rename: the process that handed it
    over may have taken it back to replay the page itself, and the worker then answers
    `N -`), writes `(records read, replay_page of them)` pickled to `out-N`, and answers
    `N` on its output (`N !` if the page raised anything: the other process replays it
    itself, and so raises it). A line `compare {...}` asks it to compare the subject
    index once the log is replayed (`_compare`). It stops at the end of its input. It
    runs at the lowest priority: it only uses a CPU nothing else wants."""
    if hasattr(os, "nice"):
        with suppress(OSError):
            os.nice(19)
    gc.disable()  # a derivation makes no reference cycles: nothing for it to collect
    lines = iter(sys.stdin.buffer.readline, b"")
    given = json.loads(next(lines))
    directory, with_records = Path(given["directory"]), bool(given["with_records"])
    reader = _LogReader(given["database"], given["statement"]) if given.get("database") else None
    try:
        for line in lines:
            if line.startswith(b"compare "):
                _answer(_compare(reader, json.loads(line[len(b"compare ") :]), directory))
                continue
            page = line.strip().decode()
            handed, taken = directory / f"in-{page}", directory / f"work-{page}"
            try:
                handed.rename(taken)
            except FileNotFoundError:
                _answer(f"{page} -")
                continue
            try:
                what = pickle.loads(taken.read_bytes())
                taken.unlink()
                if isinstance(what, list):
                    records = what
                elif reader is not None:
                    records = reader.read(*what)
                else:
                    raise ValueError("a range of the log, and no store to read it from")
                replayed = (len(records), replay_page(records, with_records))
                (directory / f"out-{page}").write_bytes(
                    pickle.dumps(replayed, pickle.HIGHEST_PROTOCOL)
                )
            except Exception:  # replayed by the other process, which names the problem
                _answer(f"{page} !")
                continue
            _answer(page)
    finally:
        if reader is not None:
            reader.close()


def _compare(reader: _LogReader | None, request: dict[str, Any], directory: Path) -> str:
    """A `compare` request: the subject index of the live store (in the snapshot the
    pages were read in, which must hold the chain head given) against the scratch
    store's (`rebuild_compare.subject_index_differences`), pickled to `out-compare`.
    The answer: `compare` (done), or `compare !` (not done: the other process compares);
    meanwhile `compare .` for each page of the live store read."""
    try:
        if reader is None:
            return "compare !"
        head = (int(request["head"][0]), str(request["head"][1]))
        comparison = reader.compare(
            str(request["scratch"]), head, str(request["head_statement"]), int(request["page"])
        )
        if comparison is None:
            return "compare !"
        (directory / "out-compare").write_bytes(pickle.dumps(comparison, pickle.HIGHEST_PROTOCOL))
    except Exception:  # compared by the other process, which names the problem
        return "compare !"
    return "compare"


def _answer(line: str) -> None:
    sys.stdout.buffer.write(f"{line}\n".encode())
    sys.stdout.buffer.flush()


class _LogReader:
    """The worker's reads of the live SQLite store: one snapshot for every range."""

    def __init__(self, database: str, statement: str) -> None:
        self._connection = sqlite3.connect(database, uri=True, isolation_level=None)
        self._statement = statement
        self._begun = False

    def _begin(self) -> None:
        if not self._begun:
            self._connection.execute("BEGIN")
            self._begun = True

    def read(self, after: int, through: int) -> list[LogRecord]:
        self._begin()
        rows = self._connection.execute(self._statement, [after, through]).fetchall()
        return [log_record(row) for row in rows]

    def compare(
        self, scratch: str, head: tuple[int, str], head_statement: str, page: int
    ) -> SubjectIndexComparison | None:
        """The subject index compared with the scratch store's (`scratch`, a SQLite URI
        that never writes) in this snapshot; None if it does not hold the chain head
        `head` (position, link)."""
        self._begin()
        found = self._connection.execute(head_statement).fetchall()
        if len(found) != 1 or (found[0][0], found[0][1]) != head:
            return None
        rebuilt = sqlite3.connect(scratch, uri=True, isolation_level=None)
        try:
            rebuilt.execute("BEGIN")
            live = SQLiteRows(self._connection)

            def read_live(*args: Any) -> list[Row]:
                _answer("compare .")  # one more page: still at work
                return live(*args)

            return subject_index_differences(read_live, SQLiteRows(rebuilt), page)
        finally:
            rebuilt.close()

    def close(self) -> None:
        self._connection.close()
