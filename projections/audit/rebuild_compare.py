"""How `audit rebuild` compares a table of the live ledger with the one it rebuilt: two
sorted streams of pages, passed over whole where they are equal, paired row by row by
key where they are not, and each difference named in one line.

Store-free (the standard library and `subject_rules`), so that the rebuild's worker process compares
the subject index (`subject_index_differences`) from the two SQLite files itself while
the rebuild's own process computes the closes at the end of the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from projections.audit_pages import rows_after_statement
from projections.subject_rules import SCOPE_SEP

Row = tuple[Any, ...]
# Up to `limit` rows of a table in the order of its unique `key` columns after the key
# `after` (None: from the first): each row its key's values, then those of `values`
# (`AuditReads.rows_after`, `SQLiteRows`). Arguments: table, key, after, limit, values.
RowsAfter = Callable[[str, Sequence[str], Sequence[Any] | None, int, Sequence[str]], list[Row]]

SPAN_KEY = ("subject_kind", "subject_id")
SPAN_NAMES = ("lo_us", "hi_us", "has_end", "ended_us")
BUCKET_KEY = ("subject_kind", "bucket", "subject_id")
SCOPE_TABLES = {
    "sla_subject_scopes": ("subject_kind", "subject_id", "scope"),
    "sla_contract_scopes": ("scope", "contract_id"),
}
MAX_DIFFERENCES = 1_000  # listed; more are counted


@dataclass
class Differences:
    """Differences found, in order: the first `MAX_DIFFERENCES` listed, more counted."""

    listed: list[str] = field(default_factory=list)
    more: int = 0

    def differ(self, text: str) -> None:
        if len(self.listed) < MAX_DIFFERENCES:
            self.listed.append(text)
        else:
            self.more += 1


def pages(
    rows_after: RowsAfter, table: str, key: Sequence[str], values: Sequence[str], size: int
) -> Iterator[list[Row]]:
    """A table in pages of `size` rows, in key order: each row its `key` columns, then
    `values`."""
    after: Row | None = None
    while True:
        page = rows_after(table, key, after, size, values)
        if not page:
            return
        yield page
        after = page[-1][: len(key)]


def differing(
    live: Iterator[list[Row]], rebuilt: Iterator[list[Row]], width: int, compared: list[int]
) -> Iterator[tuple[Row | None, Row | None]]:
    """The pairs of rows with equal keys (their first `width` values) from two streams of
    pages in key order that are not equal (None: no twin); `compared[0]` counts every
    pair. Equal tables give equal pages, passed over whole without walking their rows."""
    mine_page: list[Row] = []
    theirs_page: list[Row] = []
    i = j = 0
    while True:
        if i == len(mine_page):
            mine_page, i = next(live, []), 0
        if j == len(theirs_page):
            theirs_page, j = next(rebuilt, []), 0
        if not mine_page and not theirs_page:
            return
        if i == 0 and j == 0 and mine_page == theirs_page:
            compared[0] += len(mine_page)
            i = j = len(mine_page)
            continue
        compared[0] += 1
        mine = mine_page[i] if mine_page else None
        theirs = theirs_page[j] if theirs_page else None
        if theirs is None or (mine is not None and mine[:width] < theirs[:width]):
            yield mine, None
            i += 1
        elif mine is None or theirs[:width] < mine[:width]:
            yield None, theirs
            j += 1
        else:
            if mine != theirs:
                yield mine, theirs
            i += 1
            j += 1


def fields_differ(
    found: Differences, where: str, mine: Row, theirs: Row, names: Sequence[str], skip: int
) -> None:
    """The fields that differ, of two rows whose first `skip` values (the key) agree."""
    for name, ours, rebuilt in zip(names, mine[skip:], theirs[skip:], strict=True):
        if ours != rebuilt:
            found.differ(f"{where}: {name} is {ours} live, {rebuilt} rebuilt")


def only_in(mine: Row | None) -> str:
    return f"only in the {'rebuild' if mine is None else 'live ledger'}"


@dataclass
class SubjectIndexComparison:
    differences: Differences
    spans_compared: int
    index_rows_compared: int  # scopes and buckets


def subject_index_differences(
    live: RowsAfter, rebuilt: RowsAfter, page_size: int
) -> SubjectIndexComparison:
    """The subject index of the live ledger against the rebuilt one: every subject's span,
    its scopes, the contracts' scopes, and the buckets the spans reach."""
    found = Differences()

    def paired(
        table: str, key: Sequence[str], values: Sequence[str], compared: list[int]
    ) -> Iterator[tuple[Row | None, Row | None]]:
        return differing(
            pages(live, table, key, values, page_size),
            pages(rebuilt, table, key, values, page_size),
            len(key),
            compared,
        )

    spans = [0]
    for mine, theirs in paired("sla_subject_spans", SPAN_KEY, SPAN_NAMES, spans):
        kind, subject, *_ = mine or theirs or ()
        where = f"span of {kind} {subject} in sla_subject_spans"
        if mine is None or theirs is None:
            # Without its span a subject vanishes from every report.
            found.differ(f"{where}: {only_in(mine)}")
        else:
            fields_differ(found, where, mine, theirs, SPAN_NAMES, len(SPAN_KEY))

    # Whose rows each subject reaches, and what each contract's terms name: the union of
    # what the events say, whatever the batches they came in.
    index_rows = [0]
    for table, key in SCOPE_TABLES.items():
        for mine, theirs in paired(table, key, (), index_rows):
            named = ", ".join(str(value).replace(SCOPE_SEP, "/") for value in mine or theirs or ())
            found.differ(f"{table} row ({named}): {only_in(mine)}")
    # The buckets each subject's span reaches: the live ledger may hold more (a span
    # that widened past BUCKETS_MAX keeps the buckets it had), never fewer, or a report
    # of those weeks would not find the subject.
    for mine, theirs in paired("sla_subject_buckets", BUCKET_KEY, (), index_rows):
        if mine is None and theirs is not None:
            kind, bucket, subject = theirs
            found.differ(
                f"sla_subject_buckets: {kind} {subject} reaches bucket {bucket}, which only "
                "the rebuild holds"
            )
    return SubjectIndexComparison(found, spans[0], index_rows[0])


class SQLiteRows:
    """`RowsAfter` on a SQLite connection (the worker's)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def __call__(
        self,
        table: str,
        key: Sequence[str],
        after: Sequence[Any] | None,
        limit: int,
        values: Sequence[str],
    ) -> list[Row]:
        statement = rows_after_statement(table, key, values, after is not None)
        params = [*(after or ()), limit]
        return list(self._connection.execute(statement, params).fetchall())
