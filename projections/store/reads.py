"""The store's read queries: events, the subject index, credit entries, closes, alerts,
rejections and the chain's head, as the domain's objects.

`StoreReads` holds each query once; what it runs in is its subclass's: a snapshot's own
transaction (`StoreSnapshot`, for a command or request that reads several times and must
see one moment), or a transaction of its own per query (`LedgerStore`'s one-shot reads).
"""

from __future__ import annotations

import hashlib
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.sqlite import SQLiteCursor

from ledger.chain import FIELDS, RECORD_TIME, ChainHead, RecordKind
from ledger.events import RecordedEvent
from ledger.periods import from_us, to_us
from projections.chain_records import event_content, originator_of
from projections.store.failures import failed
from projections.store.mappers import (
    AcceptedEvent,
    StoredRejection,
    record_content,
    row_accepted,
    row_alert,
    row_entry,
    row_event,
    row_rejection,
    unpacked,
)
from projections.store.recorders import to_dialect
from projections.store.schema import (
    BUCKET_US,
    CHAINED_TABLES,
    EVENT_COLUMNS,
    NOT_ENDED_US,
    WIDE_SPAN,
    Dialect,
    DueTable,
    later_selected,
)
from projections.store.sqlite_files import CONTENTS_SCHEMA, read_only_uri, sqlite_writable
from projections.store.urls import parse_store_url

if TYPE_CHECKING:
    from ledger.alerts import Alert
    from ledger.credits import CreditEntry

IN_CHUNK = 500  # ids per `IN (...)` query: far below SQLite's variable limit
# An event's chained row: the fields the chain covers, in its order, then position and link.
EVENT_CHAINED_FIELDS = (*FIELDS["event"], "chain_pos", "chain_sha256")


class StoreReads(ABC):
    """The read queries of a store (`url`, `dialect`; its event store's table is
    `events_table`, its events' contents read from another SQLite file's when
    `contents_elsewhere`, see `LedgerStore`)."""

    url: str
    dialect: Dialect
    events_table: str
    contents_elsewhere: bool
    # The columns of `schema.LATER_COLUMNS` an older store lacks, by table
    # (`opening.later_columns`): read as the value their rows held before.
    missing_columns: Mapping[str, frozenset[str]]
    # The tables of `schema.LATER_TABLES` an older store lacks (`opening.missing_later_tables`):
    # read as empty.
    missing_tables: frozenset[str]

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Any]:
        """A cursor to read with, its failures said in one line: a transaction of its
        own per query (`LedgerStore`), or the snapshot's one (`StoreSnapshot`)."""

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of `statement` (`?` placeholders), each by column name."""
        with self._reading() as cursor:
            cursor.execute(to_dialect(statement, self.dialect), list(params))
            return list(cursor.fetchall())

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """`_query`'s rows as plain tuples in the statement's column order, which SQLite
        builds directly, without a row object for each (a rebuild reads every record of
        the log and every row of the projections it compares)."""
        if self.dialect != "sqlite":
            return [tuple(r.values()) for r in self._query(statement, params)]
        with self._reading() as cursor:
            return plain_rows(cursor, statement, params, self.url)

    @property
    def chained_tables(self) -> dict[RecordKind, str]:
        """Each chained kind's table that this store holds (an older store, read as it
        is, may lack a later one: `missing_tables`, read as empty)."""
        return {
            kind: table
            for kind, table in CHAINED_TABLES.items()
            if table not in self.missing_tables
        }

    def column(self, table: str, name: str, prefix: str = "") -> str:
        """A column in a SELECT list, read as its earlier value where the store lacks it."""
        return later_selected(table, name, self.missing_columns.get(table, frozenset()), prefix)

    def all_columns(self, table: str, prefix: str = "") -> str:
        """`*` in a SELECT list (of the table aliased `prefix`), with the columns the
        store lacks read as their earlier values."""
        lacking = self.missing_columns.get(table, frozenset())
        return ", ".join(
            [f"{prefix}*", *(later_selected(table, name, lacking) for name in sorted(lacking))]
        )

    def reader_uri(self) -> str | None:
        """A SQLite URI another process can read this store with, never writing it (the
        one a reader opens it with); None for PostgreSQL."""
        if self.dialect != "sqlite":
            return None
        path = Path(parse_store_url(self.url)[1]["path"])
        return read_only_uri(path, sqlite_writable(path))

    @property
    def _record_key(self) -> str:
        """The column of the event store's records that is their notification id."""
        return record_key(self.dialect)

    @property
    def _content_join(self) -> str:
        """Joins each event row `e` to its eventsourcing record `c` (its content), whose
        notification id is the event's chain position."""
        table = self.events_table
        if self.contents_elsewhere:
            table = f"{CONTENTS_SCHEMA}.{table}"
        return f"LEFT JOIN {table} c ON c.{self._record_key} = e.chain_pos"

    @property
    def _content_state(self) -> str:
        """The content `c.state` (`state`): on SQLite as text (the database decodes it,
        faster than Python's JSON parser detecting the encoding of bytes); on PostgreSQL
        as stored, packed (`content_codec`), for `mappers.record_content` to unpack."""
        if self.dialect == "sqlite":
            return "CAST(c.state AS TEXT) AS state"
        return "c.state AS state"

    def known_contents(self, event_ids: Sequence[str]) -> dict[str, str]:
        """event_id -> content_sha256 of those already accepted (the digest of the
        envelope their record holds)."""
        found: dict[str, str] = {}
        for row in self._of_event_ids("e.event_id, c.state", event_ids):
            state = unpacked(row["state"])
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
        table, key = self.events_table, self._record_key
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
                for chunk in chunks([originator.hex for originator in originators])
                for row in self._query(
                    select + f"c.originator_id IN ({placeholders(len(chunk))})", chunk
                )
            ]
        return [row for row in rows if row["event_id"] in wanted]

    def accepted_event(
        self, event_id: str, recorded_by_us: int | None = None
    ) -> AcceptedEvent | None:
        """The event accepted with this id, with its record time, origin, chain position
        and chained fields (`mappers.AcceptedEvent`); None if no such event was accepted,
        or (`recorded_by_us`) it was recorded after that moment. Found through the event
        store's own key (`_of_event_ids`): one indexed read, whatever the store's size."""
        listed = ", ".join(self.column("sla_events", name, "e.") for name, _ in EVENT_COLUMNS)
        rows = self._of_event_ids(f"{listed}, c.state", [event_id])
        if not rows or (
            recorded_by_us is not None and int(rows[0]["recorded_us"]) > recorded_by_us
        ):
            return None
        return row_accepted(rows[0], EVENT_CHAINED_FIELDS)

    def events_of_kind(self, kind: str, recorded_by_us: int | None = None) -> list[RecordedEvent]:
        statement = (
            f"SELECT {self._content_state}, e.recorded_us FROM sla_events e {self._content_join} "
            "WHERE e.subject_kind = ?"
        )
        params: list[Any] = [kind]
        if recorded_by_us is not None:
            statement += " AND e.recorded_us <= ?"
            params.append(recorded_by_us)
        return [row_event(r) for r in self._query(statement + " ORDER BY e.chain_pos", params)]

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
        return [row_event(r) for r in rows]

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
        for chunk in chunks(ids):
            found += self._query(
                f"{statement} AND {column} IN ({placeholders(len(chunk))})", [*params, *chunk]
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
        return [row_event(r) for r in rows]

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

    def position_recorded_by(self, recorded_by_us: int) -> int:
        """The highest chain position of any chained record (event, entry, close, alert)
        recorded by `recorded_by_us` (0: none). Record times never go back along the
        chain (`chain_append`), so each table's answer is its last row by position whose
        time is not later: read backwards along its position key from the end, the
        cost follows the records after the moment, not the whole history."""
        tables = self.chained_tables
        latest = ", ".join(
            f"(SELECT chain_pos FROM {table} WHERE {RECORD_TIME[kind]} <= ? "
            f"ORDER BY chain_pos DESC LIMIT 1) AS {kind}_pos"
            for kind, table in tables.items()
        )
        row = self._rows(f"SELECT {latest}", [recorded_by_us] * len(tables))[0]
        return max((int(position) for position in row if position is not None), default=0)

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
        return self._due(by_us, "sla_due")

    def alert_due_rows(self, by_us: int) -> list[tuple[str, str]]:
        """(period, contract) of the provisional rows due by `by_us` to be checked for
        alerts with time alone (`LedgerStore.record_alert_due`)."""
        return self._due(by_us, "sla_alert_due")

    def _due(self, by_us: int, table: DueTable) -> list[tuple[str, str]]:
        if table in self.missing_tables:
            return []
        return [
            (r["period"], r["contract_id"])
            for r in self._query(
                f"SELECT period, contract_id FROM {table} WHERE due_us <= ? "
                "ORDER BY period, contract_id",
                [by_us],
            )
        ]

    # -- alerts (sla-math §8) -----------------------------------------------------------

    def alerts(
        self,
        recorded_by_us: int | None = None,
        *,
        period: str | None = None,
        contract_id: str | None = None,
        since_us: int | None = None,
    ) -> list[Alert]:
        """The alerts raised, in chain order (the order recorded), filtered by any of:
        recorded at or before `recorded_by_us` (`--as-of`), period, contract, and
        recorded at or after `since_us` (`--since`: the moment itself included, as
        `--as-of` includes its own)."""
        return [
            row_alert(r)
            for r in self._alerts_where(
                [
                    ("recorded_us", "<=", recorded_by_us),
                    ("recorded_us", ">=", since_us),
                    ("period", "=", period),
                    ("contract_id", "=", contract_id),
                ],
                "",
            )
        ]

    def alert_ids(self, periods: Collection[str]) -> set[str]:
        """The ids of the alerts recorded for these periods (all of them, whenever
        recorded): what a raiser need not raise again."""
        if "sla_alerts" in self.missing_tables:
            return set()
        return {
            r["alert_id"]
            for r in self._rows_of_subjects(
                "SELECT alert_id FROM sla_alerts WHERE 1 = 1", [], "period", sorted(set(periods))
            )
        }

    def known_alert_ids(self, alert_ids: Sequence[str]) -> set[str]:
        """Those of these ids that are recorded already."""
        if "sla_alerts" in self.missing_tables:
            return set()
        return {
            r["alert_id"]
            for r in self._rows_of_subjects(
                "SELECT alert_id FROM sla_alerts WHERE 1 = 1",
                [],
                "alert_id",
                sorted(set(alert_ids)),
            )
        }

    def alerts_after(self, position: int, limit: int) -> list[tuple[int, Alert]]:
        """(chain position, alert) of the first `limit` alerts chained after `position`,
        in chain order: an outbox's page (the position is what it records as published;
        positions follow commit order, so none is ever skipped)."""
        rows = self._alerts_where([("chain_pos", ">", position)], " LIMIT ?", [limit])
        return [(int(r["chain_pos"]), row_alert(r)) for r in rows]

    def alerts_page(
        self,
        after_position: int,
        through_position: int,
        limit: int,
        *,
        recorded_by_us: int,
        period: str | None = None,
        contract_id: str | None = None,
        since_us: int | None = None,
    ) -> list[tuple[int, Alert]]:
        """(chain position, alert) of the first `limit` alerts chained in
        `(after_position, through_position]` and recorded by `recorded_by_us`, filtered
        as `alerts` filters: a page of `GET /v1/alerts`, whose walk keeps the position it
        began at, so alerts raised meanwhile are not in it."""
        rows = self._alerts_where(
            [
                ("chain_pos", ">", after_position),
                ("chain_pos", "<=", through_position),
                ("recorded_us", "<=", recorded_by_us),
                ("recorded_us", ">=", since_us),
                ("period", "=", period),
                ("contract_id", "=", contract_id),
            ],
            " LIMIT ?",
            [limit],
        )
        return [(int(r["chain_pos"]), row_alert(r)) for r in rows]

    def alerts_count_after(self, position: int) -> int:
        """How many alerts are chained after `position` (an outbox's backlog)."""
        if "sla_alerts" in self.missing_tables:
            return 0
        rows = self._query("SELECT COUNT(*) AS n FROM sla_alerts WHERE chain_pos > ?", [position])
        return int(rows[0]["n"])

    def alert_position(self, alert_id: str) -> int | None:
        """The chain position of an alert (where `alerts_after` finds it), if recorded."""
        if "sla_alerts" in self.missing_tables:
            return None
        rows = self._rows("SELECT chain_pos FROM sla_alerts WHERE alert_id = ?", [alert_id])
        return int(rows[0][0]) if rows else None

    def _alerts_where(
        self,
        conditions: Sequence[tuple[str, str, str | int | None]],
        tail: str,
        tail_params: Sequence[Any] = (),
    ) -> list[Any]:
        """The alerts' rows matching every condition whose value is given (column,
        operator: this module's own, never an asker's), in chain order, then `tail`."""
        if "sla_alerts" in self.missing_tables:
            return []
        statement = "SELECT * FROM sla_alerts WHERE 1 = 1"
        params: list[Any] = []
        for column, operator, value in conditions:
            if value is not None:
                statement += f" AND {column} {operator} ?"
                params.append(value)
        return self._query(statement + " ORDER BY chain_pos" + tail, [*params, *tail_params])

    def subjects_of(self, event_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """event_id -> (subject_kind, subject_id) of each of these events."""
        return {
            row["event_id"]: (row["subject_kind"], row["subject_id"])
            for row in self._of_event_ids("e.event_id, e.subject_kind, e.subject_id", event_ids)
        }

    def events_recorded_between(self, after_us: int, through_us: int) -> list[RecordedEvent]:
        """The events recorded in `(after, through]`, in chain order."""
        return [
            row_event(r)
            for r in self._query(
                f"SELECT {self._content_state}, e.recorded_us FROM sla_events e "
                f"{self._content_join} "
                "WHERE e.recorded_us > ? AND e.recorded_us <= ? ORDER BY e.chain_pos",
                [after_us, through_us],
            )
        ]

    def entries_after(self, seq: int, limit: int) -> list[tuple[int, CreditEntry]]:
        statement, params = self._entries_where([("seq", ">", seq)])
        rows = self._query(statement + " ORDER BY e.seq LIMIT ?", [*params, limit])
        return [(int(r["seq"]), row_entry(r)) for r in rows]

    def entry_seq(self, entry_id: str) -> int | None:
        """The outbox seq of an entry (where `entries_after` finds it), if recorded."""
        rows = self._rows("SELECT seq FROM sla_credit_entries WHERE entry_id = ?", [entry_id])
        return int(rows[0][0]) if rows else None

    def rejections_after(self, seq: int, limit: int) -> list[StoredRejection]:
        rows = self._query(
            "SELECT * FROM sla_rejections WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]
        )
        return [row_rejection(r) for r in rows]

    def rejections_through(
        self, after: int, through: int, rejected_by_us: int, limit: int
    ) -> list[StoredRejection]:
        """A page of the rejections kept by `rejected_by_us` with `seq` after `after` and
        at most `through`, in the order they were kept."""
        rows = self._query(
            "SELECT * FROM sla_rejections WHERE seq > ? AND seq <= ? AND rejected_us <= ? "
            "ORDER BY seq LIMIT ?",
            [after, through, rejected_by_us, limit],
        )
        return [row_rejection(r) for r in rows]

    def last_rejection_seq(self, rejected_by_us: int) -> int:
        """The `seq` of the last rejection kept by `rejected_by_us` (0: none)."""
        rows = self._query(
            "SELECT MAX(seq) AS seq FROM sla_rejections WHERE rejected_us <= ?", [rejected_by_us]
        )
        return int(rows[0]["seq"] or 0)

    def entries_count_after(self, seq: int) -> int:
        """How many credit entries follow `seq` (an outbox's backlog)."""
        rows = self._query("SELECT COUNT(*) AS n FROM sla_credit_entries WHERE seq > ?", [seq])
        return int(rows[0]["n"])

    def rejections_count_after(self, seq: int) -> int:
        """How many rejections follow `seq` (an outbox's backlog)."""
        rows = self._query("SELECT COUNT(*) AS n FROM sla_rejections WHERE seq > ?", [seq])
        return int(rows[0]["n"])

    def event_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM sla_events")[0]["n"])

    def rejections(self) -> list[StoredRejection]:
        return [row_rejection(r) for r in self._query("SELECT * FROM sla_rejections ORDER BY seq")]

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
            accepted[row["event_id"]] = (int(row["recorded_us"]), record_content(row["state"])[1])
        return {
            r.seq
            for r in rejections
            if r.event_id in accepted and recorded_after(*accepted[r.event_id], r)
        }

    def closes(self, recorded_by_us: int | None = None) -> dict[str, datetime]:
        rows = self._query("SELECT period, closed_us FROM sla_closes")
        return {
            r["period"]: from_us(int(r["closed_us"]))
            for r in rows
            if recorded_by_us is None or int(r["closed_us"]) <= recorded_by_us
        }

    def close_checkpoints(self, recorded_by_us: int) -> dict[str, tuple[datetime, int, str]]:
        """period -> (closed at, checkpoint position, checkpoint chain_sha256) of every
        close recorded by `recorded_by_us`."""
        rows = self._query(
            "SELECT period, closed_us, checkpoint_pos, checkpoint_sha256 FROM sla_closes "
            "WHERE closed_us <= ?",
            [recorded_by_us],
        )
        return {
            r["period"]: (
                from_us(int(r["closed_us"])),
                int(r["checkpoint_pos"]),
                r["checkpoint_sha256"],
            )
            for r in rows
        }

    def entry_counts(self, recorded_by_us: int) -> dict[str, int]:
        """period -> how many credit entries of it were recorded by `recorded_by_us`."""
        rows = self._query(
            "SELECT period, COUNT(*) AS n FROM sla_credit_entries WHERE recorded_us <= ? "
            "GROUP BY period",
            [recorded_by_us],
        )
        return {r["period"]: int(r["n"]) for r in rows}

    def entries(
        self,
        period: str | None = None,
        contract_id: str | None = None,
        recorded_by_us: int | None = None,
        contract_ids: Sequence[str] | None = None,
    ) -> list[CreditEntry]:
        """Entries in record order, filtered by any of: period, one contract, record
        time, and (`contract_ids`) a set of contracts."""
        statement, params = self._entries_where(
            [
                ("period", "=", period),
                ("contract_id", "=", contract_id),
                ("recorded_us", "<=", recorded_by_us),
            ]
        )
        if contract_ids is None:
            rows = self._query(statement + " ORDER BY e.seq", params)
        else:
            rows = self._rows_of_subjects(statement, params, "e.contract_id", sorted(contract_ids))
            rows.sort(key=lambda r: int(r["seq"]))
        return [row_entry(r) for r in rows]

    def entries_page(
        self,
        *,
        after_seq: int,
        limit: int,
        through_position: int,
        recorded_by_us: int,
        period: str | None = None,
        contract_id: str | None = None,
        customer_id: str | None = None,
        kind: str | None = None,
        recorded_from_us: int | None = None,
        recorded_before_us: int | None = None,
    ) -> list[tuple[int, CreditEntry]]:
        """(seq, entry) of the first `limit` entries after `after_seq` in record order,
        recorded by `recorded_by_us` at chain positions up to `through_position`, that
        match every filter given (record time in `[from, before)`): one query.

        The bounds fix the set a reader pages through: entries appended while it pages
        (a close, a reconciliation) lie beyond the position, so no page skips or repeats
        one, and the record order is the order of `seq`."""
        statement, params = self._entries_where(
            [
                ("seq", ">", after_seq),
                ("chain_pos", "<=", through_position),
                ("recorded_us", "<=", recorded_by_us),
                ("recorded_us", ">=", recorded_from_us),
                ("recorded_us", "<", recorded_before_us),
                ("period", "=", period),
                ("contract_id", "=", contract_id),
                ("customer_id", "=", customer_id),
                ("kind", "=", kind),
            ]
        )
        rows = self._query(statement + " ORDER BY e.seq LIMIT ?", [*params, limit])
        return [(int(r["seq"]), row_entry(r)) for r in rows]

    def entry(self, entry_id: str) -> CreditEntry | None:
        """The entry with this id, if one was recorded."""
        statement, params = self._entries_where([("entry_id", "=", entry_id)])
        rows = self._query(statement, params)
        return row_entry(rows[0]) if rows else None

    def _entries_where(
        self, conditions: Sequence[tuple[str, str, str | int | None]]
    ) -> tuple[str, list[Any]]:
        """A SELECT of the entries' rows `e` (a WHERE clause open for more conditions) and
        its parameters: each (column of `e`, operator, value) whose value is given. The
        columns and operators are this module's own, never an asker's.

        Each row comes with the stored basis its memo describes (`mappers.row_entry`):
        `described_basis`, the text of the issue's own basis or, for a reversal, of the
        issue it reverses, and `described_sha256`, the chained digest that text must
        hash to. Joined in the same query: a page of entries is one query, whatever its
        size."""
        if "sla_entry_bases" in self.missing_tables:
            described = "NULL AS described_basis, NULL AS described_sha256"
            joins = ""
        else:
            described = (
                "b.basis AS described_basis, CASE WHEN e.supersedes IS NULL "
                "THEN e.basis_sha256 ELSE r.basis_sha256 END AS described_sha256"
            )
            joins = (
                " LEFT JOIN sla_credit_entries r ON r.entry_id = e.supersedes"
                " LEFT JOIN sla_entry_bases b ON b.entry_id = COALESCE(e.supersedes, e.entry_id)"
            )
        statement = (
            f"SELECT {self.all_columns('sla_credit_entries', 'e.')}, {described} "
            f"FROM sla_credit_entries e{joins} WHERE 1 = 1"
        )
        params: list[Any] = []
        for column, operator, value in conditions:
            if value is not None:
                statement += f" AND e.{column} {operator} ?"
                params.append(value)
        return statement, params

    # The writers' head of the chain: position, link, record time.
    HEAD_STATEMENT = "SELECT position, chain_sha256, recorded_us FROM sla_chain_head"

    def chain_head(self) -> ChainHead:
        row = self._query(self.HEAD_STATEMENT)[0]
        return ChainHead(int(row["position"]), row["chain_sha256"], int(row["recorded_us"]))

    def is_empty(self) -> bool:
        """Whether the store holds nothing: no chained record (of any kind) and no
        rejection (rejections are not chained, so the chain's head alone misses them)."""
        if self.chain_head().position != 0:
            return False
        return not self._query("SELECT 1 FROM sla_rejections LIMIT 1")


def record_key(dialect: Dialect) -> str:
    """The column of the event store's records that is their notification id (the
    chain position of the record it holds)."""
    return "rowid" if dialect == "sqlite" else "notification_id"


def placeholders(n: int) -> str:
    return ",".join("?" * n)


def chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def recorded_after(recorded_us: int, origin: dict[str, Any], rejection: StoredRejection) -> bool:
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


def plain_rows(
    cursor: SQLiteCursor, statement: str, params: Sequence[Any], url: str
) -> list[tuple[Any, ...]]:
    sqlite_cursor = cursor.sqlite_cursor
    factory = sqlite_cursor.row_factory
    sqlite_cursor.row_factory = None
    try:
        sqlite_cursor.execute(statement, list(params))
        return sqlite_cursor.fetchall()
    except sqlite3.Error as exc:  # the driver's own errors: one line, as elsewhere
        raise failed(url, exc) from None
    finally:
        sqlite_cursor.row_factory = factory
