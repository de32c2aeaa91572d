"""The store's audit reads: the hash chain's rows and pages, the event log's records, a
table's rows in key order, and the database's own check of its file, for `audit verify`,
`audit rebuild` and the audit bundle (run in one snapshot, `StoreSnapshot`).

The statements' shapes are `projections.audit_pages`', which the audits' worker
processes run too, without the store's code.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from ledger.chain import KINDS, RECORD_TIME, RecordKind
from ledger.errors import StoreError
from projections.audit_pages import (
    LogRecord,
    Page,
    PageQueries,
    log_record,
    read_link,
    read_page,
    rows_after_statement,
)
from projections.chain_records import event_content
from projections.store.chain_append import COLUMNS
from projections.store.content_codec import unpack
from projections.store.failures import first_line
from projections.store.mappers import unpacked
from projections.store.reads import (
    EVENT_CHAINED_FIELDS,
    StoreReads,
    chunks,
    placeholders,
    record_key,
)
from projections.store.schema import CHAINED_TABLES, EVENT_COLUMNS, Dialect, later_selected

NUMERIC_KEYS = ("chain_pos", "bucket")  # key columns that are numbers, not text


class AuditReads(StoreReads):
    """The audit reads of a store, on top of its other reads."""

    def chain_end(self) -> int:
        """The greatest position any chained row claims (the head, unless tampered)."""
        ends = [
            self._query(f"SELECT MAX(chain_pos) AS p FROM {table}")[0]["p"]
            for table in self.chained_tables.values()
        ]
        return max((int(end) for end in ends if end is not None), default=0)

    def entry_bases_page(
        self, after: str, limit: int
    ) -> list[tuple[str, int | None, str | None, str]]:
        """(entry_id, its entry's chain_pos, its entry's basis_sha256, stored basis text)
        of the first `limit` stored bases with an entry id after `after`, by entry id;
        the entry's columns None where no entry has that id. Empty in a store without
        the table (`missing_tables`)."""
        if "sla_entry_bases" in self.missing_tables:
            return []
        return [
            (str(entry_id), None if position is None else int(position), digest, str(text))
            for entry_id, position, digest, text in self._rows(
                "SELECT b.entry_id, e.chain_pos, e.basis_sha256, b.basis FROM sla_entry_bases b "
                "LEFT JOIN sla_credit_entries e ON e.entry_id = b.entry_id "
                "WHERE b.entry_id > ? ORDER BY b.entry_id LIMIT ?",
                [after, limit],
            )
        ]

    def chain_rows(self, after: int, through: int) -> list[tuple[RecordKind, dict[str, Any]]]:
        """The chained rows with `after < chain_pos <= through`, in position order, with
        every field the chain covers (an event's envelope and origin from its record)."""
        found: list[tuple[RecordKind, dict[str, Any]]] = []
        for kind in self.chained_tables:
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
        listed = ", ".join(self.column(table, name, "e.") for name in columns)
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
            state = unpacked(r["state"])
            content = None if state is None else event_content(state)
            envelope, origin = content or ("", "")
            derived = {
                "content_sha256": hashlib.sha256(envelope.encode()).hexdigest(),
                "envelope": envelope,
                "origin": origin,
            }
            # In the chain's field order, then position and link, as the columns were.
            found.append(
                {
                    name: derived[name] if name in derived else r[name]
                    for name in EVENT_CHAINED_FIELDS
                }
            )
        return found

    def chained_rows(
        self, kind: RecordKind, column: str, values: Sequence[str], recorded_by_us: int
    ) -> list[dict[str, Any]]:
        """The chained rows of `kind` whose `column` is one of `values`, recorded by then,
        with every field the chain covers plus position and link, in chain order."""
        found: list[dict[str, Any]] = []
        if kind not in self.chained_tables:
            return found
        for chunk in chunks(list(values)):
            found += self._chained(
                kind,
                f"e.{column} IN ({placeholders(len(chunk))}) AND e.{RECORD_TIME[kind]} <= ?",
                [*chunk, recorded_by_us],
            )
        return sorted(found, key=lambda fields: int(fields["chain_pos"]))

    def min_chain_position(self) -> int | None:
        """The smallest position any chained row claims (1, unless rows were forged)."""
        starts = [
            self._query(f"SELECT MIN(chain_pos) AS p FROM {table}")[0]["p"]
            for table in self.chained_tables.values()
        ]
        return min((int(start) for start in starts if start is not None), default=None)

    @property
    def chain_queries(self) -> PageQueries:
        """The statements `audit verify` reads the chain with (`audit_pages.PageQueries`)."""
        lacking = frozenset(
            (table, name) for table, names in self.missing_columns.items() for name in names
        )
        return chain_queries(self.dialect, self.events_table, lacking, tuple(self.chained_tables))

    def chain_page(self, after: int, through: int) -> Page:
        """What `audit verify` reads of the positions `after < p <= through`, as stored
        (`audit_pages.read_page`), each record's state unpacked (`content_codec`)."""
        events, others = read_page(self._rows, self.chain_queries, after, through)
        if self.dialect != "postgresql":  # only PostgreSQL packs records
            return events, others
        state = len(EVENT_COLUMNS)  # the record's state follows the event's columns
        return (
            [(*row[:state], unpacked(row[state]), *row[state + 1 :]) for row in events],
            [(kind, fields, (unpacked(record[0]), record[1])) for kind, fields, record in others],
        )

    def chain_link(self, position: int) -> tuple[str, int] | None:
        """The link and the record time stored at a position, if exactly one row claims
        it (`audit_pages.read_link`)."""
        return read_link(self._rows, self.chain_queries, position)

    def log_records(self, after: int, through: int) -> list[LogRecord]:
        """The event store itself, in commit order, for a rebuild: the records at
        positions `after < p <= through` (a record's notification id is its position),
        each with the `sla_events` row at its position (`audit_pages.log_record`).
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
        table, key = self.events_table, self._record_key
        columns = ", ".join(f"e.{name}" for name, _ in EVENT_COLUMNS)
        return (
            f"SELECT c.{key}, c.topic, c.state, {columns} "
            f"FROM {table} c LEFT JOIN sla_events e ON e.chain_pos = c.{key} "
            f"WHERE c.{key} > ? AND c.{key} <= ? ORDER BY c.{key}"
        )

    def next_log_position(self, after: int, topic: str) -> int | None:
        """The position of the event store's first record of `topic` after position
        `after` (None: there is none)."""
        table, key = self.events_table, self._record_key
        found = self._rows(
            f"SELECT {key} FROM {table} WHERE {key} > ? AND topic = ? ORDER BY {key} LIMIT 1",
            [after, topic],
        )
        return int(found[0][0]) if found else None

    def log_page_end(self, after: int, size: int) -> int | None:
        """The position of the `size`-th record of the event store after position
        `after`, or of its last if there are fewer; None if there is none."""
        table, key = self.events_table, self._record_key
        found = self._rows(
            f"SELECT {key} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT 1 OFFSET ?",
            [after, size - 1],
        ) or self._rows(f"SELECT MAX({key}) FROM {table} WHERE {key} > ?", [after])
        return None if found[0][0] is None else int(found[0][0])

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

        selected = [self.column(table, name) for name in values]
        statement = rows_after_statement(table, key, selected, after is not None, ordered)
        return self._rows(statement, [*(after or ()), limit])

    def library_count(self) -> int:
        table = self.events_table
        return int(self._query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])

    def integrity(self) -> tuple[bool, str | None]:
        """(checked, problem): the database's own check of its file, where there is a
        cheap one. SQLite's `PRAGMA quick_check` reads every page and b-tree (read-only,
        also on an immutable copy) and finds a truncated or overwritten file; its first
        problem is returned. PostgreSQL has no cheap equivalent (amcheck and checksums are
        the server administrator's), so it is not checked: (False, None). On the store
        itself (not a snapshot) it runs on a connection of its own, so it may run in
        another thread while a snapshot is read: SQLite checks without holding Python's
        lock."""
        if self.dialect != "sqlite":
            return False, None
        try:
            rows = self._query("PRAGMA quick_check(5)")
        except StoreError as exc:
            return True, str(exc)
        except sqlite3.DatabaseError as exc:  # the driver's own
            return True, first_line(exc)
        lines = [
            line.strip()
            for row in rows
            for line in str(row[0]).splitlines()
            if line.strip() and not line.startswith("*** in database")
        ]
        return True, None if lines == ["ok"] else "; ".join(lines)


@functools.cache
def chain_queries(
    dialect: Dialect,
    table: str,
    lacking: frozenset[tuple[str, str]] = frozenset(),
    kinds: tuple[RecordKind, ...] = KINDS,
) -> PageQueries:
    """The statements `audit verify` reads the chain with (`audit_pages.PageQueries`),
    in `dialect`, the event store's records in `table`, the (table, column) pairs of an
    older store's `lacking` read as their earlier values, the chained tables those of
    `kinds` (an older store, read as it is, may lack a later one)."""
    key = record_key(dialect)
    originator = (
        "c.originator_id"
        if dialect == "sqlite"
        else "replace(CAST(c.originator_id AS TEXT), '-', '')"
    )
    # The record's originator only when its topic (the parameter) and version are
    # the kind's: one value to fetch instead of three.
    library = f"c.state, CASE WHEN c.topic = ? AND c.originator_version = 1 THEN {originator} END"
    join = f"LEFT JOIN {table} c ON c.{key} = e.chain_pos"
    within = "WHERE e.chain_pos > ? AND e.chain_pos <= ?"
    names = ["chain_pos", *(name for name, _ in EVENT_COLUMNS if name != "chain_pos")]
    others: list[tuple[RecordKind, str, tuple[str, ...]]] = []
    for kind in kinds:
        if kind == "event":
            continue
        chained = CHAINED_TABLES[kind]
        columns = tuple(name for name, _ in COLUMNS[kind])
        missing = frozenset(name for owner, name in lacking if owner == chained)
        listed = ", ".join(later_selected(chained, n, missing, "e.") for n in columns)
        others.append(
            (kind, f"SELECT {listed}, {library} FROM {chained} e {join} {within}", columns)
        )
    return PageQueries(
        events=f"SELECT {', '.join(f'e.{n}' for n in names)}, {library} FROM sla_events e "
        f"{join} {within} ORDER BY e.chain_pos",
        others=tuple(others),
        link=" UNION ALL ".join(
            f"SELECT chain_sha256, {RECORD_TIME[kind]} FROM {CHAINED_TABLES[kind]} "
            "WHERE chain_pos = ?"
            for kind in kinds
        ),
        link_tables=len(kinds),
    )
