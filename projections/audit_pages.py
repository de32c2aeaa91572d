"""How the audits read the store: pages of the hash chain, records of the event log, and
a table's rows after a key, as statements and the shapes of their rows.

The store's audit reads (`projections.store.audit_reads`) run these in a snapshot; the
audits' worker processes (`projections.audit.chain_walk`, `replay_derivation`) run the
same on a read-only connection of their own. Pure and free of the store's code (standard
library, `ledger.chain` and `chain_records` only), so that such a worker starts in
milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.chain import FIELDS, GENESIS, RecordKind
from projections.chain_records import TOPICS

# The index row (`sla_events`) holds the event's fields in the chain's order, the
# derived columns first, then the record time; then the event's place in the chain.
INDEXED = FIELDS["event"].index("recorded_us")
INDEX_NAMES = (*FIELDS["event"][: INDEXED + 1], "chain_pos", "chain_sha256")
# A record of the log: position, topic, state, index row (an event's `sla_events` row at
# that position, `INDEX_NAMES`; None: there is none).
LogRecord = tuple[int, str, bytes, tuple[Any, ...] | None]


@dataclass(frozen=True)
class PageQueries:
    """The statements that read the chain, in a store's dialect (`?` placeholders).

    `events` (parameters: the event topic, after, through): the events at positions
    `after < p <= through` in position order, each `chain_pos, event_id, type,
    subject_kind, subject_id, occurred_at, recorded_us, chain_sha256` and then its
    eventsourcing record's state and originator id (32 hex digits); the state None when
    no record has that position, the originator None also when the record's topic or
    version is not an event's (the database compares those, cheaper than Python).
    `others`: for each other kind the store holds (entries, closes, alerts), its kind,
    its statement (parameters: the kind's topic, after, through: its rows there, in any
    order, each its table's columns and then its record's state and originator, the same
    way) and its columns.
    `link` (parameters: a position, once per chained table the store holds,
    `link_tables`): the link and the record time of every row claiming that position.
    """

    events: str
    others: tuple[tuple[RecordKind, str, tuple[str, ...]], ...]
    link: str
    link_tables: int

    @staticmethod
    def from_json(spec: dict[str, Any]) -> PageQueries:
        """The queries from `dataclasses.asdict` of them, sent as JSON (to a worker)."""
        return PageQueries(
            events=str(spec["events"]),
            others=tuple(
                (kind, str(statement), tuple(columns))
                for kind, statement, columns in spec["others"]
            ),
            link=str(spec["link"]),
            link_tables=int(spec["link_tables"]),
        )


# A query: (statement, parameters) -> rows as tuples.
Rows = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
# Another kind's row (an entry's, a close's, an alert's): its kind, its fields (columns),
# its record (state, originator).
Claim = tuple[RecordKind, dict[str, Any], tuple[Any, Any]]
Page = tuple[list[tuple[Any, ...]], list[Claim]]


def read_page(rows: Rows, queries: PageQueries, after: int, through: int) -> Page:
    """What `audit verify` reads of the positions `after < p <= through`, as stored:
    the events as `queries.events` returns them, and the other records as claims.
    A row per record, whatever the rows claim: the walk judges them."""
    events = rows(queries.events, [TOPICS["event"], after, through])
    others: list[Claim] = []
    for kind, statement, columns in queries.others:
        width = len(columns)
        for row in rows(statement, [TOPICS[kind], after, through]):
            others.append(
                (kind, dict(zip(columns, row, strict=False)), (row[width], row[width + 1]))
            )
    return events, others


def read_link(rows: Rows, queries: PageQueries, position: int) -> tuple[str, int] | None:
    """The link and the record time stored at a position (the genesis at 0); None unless
    exactly one row claims it, with a link and a record time of the chain's types."""
    if position == 0:
        return GENESIS, 0
    found = rows(queries.link, [position] * queries.link_tables)
    if len(found) != 1:
        return None
    sha, recorded = found[0]
    if type(sha) is not str or type(recorded) is not int:
        return None
    return sha, recorded


def log_record(row: Sequence[Any]) -> LogRecord:
    """A log record from a row of the store's log statement: position, topic, state (as
    stored), then the index row's columns (all None: the position has no index row)."""
    index = tuple(row[3:])
    present = index[INDEX_NAMES.index("chain_pos")] is not None
    return int(row[0]), row[1], bytes(row[2]), index if present else None


def rows_after_statement(
    table: str,
    key: Sequence[str],
    values: Sequence[str],
    after_given: bool,
    ordered: Callable[[str], str] = str,
) -> str:
    """The statement of `rebuild_compare.RowsAfter` (`?` placeholders: the key after, when
    given, then the limit). `ordered` spells a key column in the ORDER BY and the
    comparison (where the database would not order its text by code point, it adds a
    collation)."""
    keys = ", ".join(ordered(c) for c in key)
    statement = f"SELECT {', '.join([*key, *values])} FROM {table}"
    if after_given:
        statement += f" WHERE ({keys}) > ({', '.join('?' * len(key))})"
    return f"{statement} ORDER BY {keys} LIMIT ?"
