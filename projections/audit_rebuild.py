"""`audit rebuild`: every projection rebuilt from the event log, compared with the live one.

The event log is the eventsourcing table itself, read in commit order (a record's
notification id is its chain position). It is replayed into a scratch store exactly as
it happened:

- accepted events, each with its original origin and record time (its `sla_events`
  row's); the index columns (type, subject, occurred_at), the spans and the scopes are
  derived again from the envelope, parsed once, with the intake's own rules
  (`replay_derivation`), and each event's index row is compared with the live one as
  it is replayed. Consecutive events are written in large transactions (`WRITE_PAGES`
  pages), whatever transactions they came in: only the chain order and the record
  times count, and both are kept. Each event is sealed from its record as it stands
  (`event_record_sha256`), so the scratch store holds the log's very bytes;
- each close at its record time (`close_period` at that moment);
- each moment at which credit entries were recorded: the period's full reconciliation
  (`reconcile_period`) at that moment. Only the moments come from the log; which
  entries are due, their amounts, ids and `basis_sha256` are derived again from the
  replayed events. Nothing is computed at any other moment: a moment without entries
  needs none, and if one were due there, the live ledger lacks it and the comparison
  of the entries says so.

Then the scratch store is compared with the live one, table against table, as sorted
streams of pages (memory does not grow with the store): the chain (a faithful rebuild
reproduces every link, so the heads must be equal), every row of the event index
(`sla_events`) column by column, every subject's span, scopes and buckets, and the
credit entries field by field. A page equal on both sides is passed over whole; rows
are paired one by one only where the tables differ. A report reads
nothing else: the events' content (the very records replayed), their index rows and the
spans, the closes (in the chain) and the entries, so equal tables give equal report rows
for every period and moment, and the rows are not computed twice more. Any difference
is reported and the command exits non-zero: either the live projections (the event
index, the spans, the entries) were altered behind the ledger's back, or the derivation
changed since the entries were recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.chain import ChainHead
from ledger.periods import Period, from_us
from projections.credit_entries import close_period, reconcile_period
from projections.replay_derivation import INDEXED, IndexColumns, ReplayError, derive
from projections.store import LedgerStore
from projections.store.chain_append import ReplayedEvent
from projections.store.ledger_store import (
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
    Span,
)
from projections.store.schema import ENTRY_COLUMNS, EVENT_COLUMNS, SCOPE_SEP

PAGE = 5_000  # records read per round trip
WRITE_PAGES = 4  # pages of events written to the scratch store per transaction
EVENT = TOPIC_EVENT_ACCEPTED
EVENT_NAMES = [name for name, _ in EVENT_COLUMNS]
SPAN_KEY = ("subject_kind", "subject_id")
SPAN_NAMES = ("lo_us", "hi_us", "has_end", "ended_us")
BUCKET_KEY = ("subject_kind", "bucket", "subject_id")
SCOPE_TABLES = {
    "sla_subject_scopes": ("subject_kind", "subject_id", "scope"),
    "sla_contract_scopes": ("scope", "contract_id"),
}
# Every field of an entry but its key and its place in the chain (which the chain heads
# compare): `seq` is the order the rows were inserted in, no figure of the ledger.
ENTRY_NAMES = tuple(
    name for name, _ in ENTRY_COLUMNS if name not in ("entry_id", "chain_pos", "chain_sha256")
)
MAX_DIFFERENCES = 1_000  # listed; more are counted
Row = tuple[Any, ...]
LogRecord = tuple[int, str, bytes, tuple[Any, ...] | None]  # position, topic, state, index


@dataclass
class RebuildResult:
    records: int = 0
    live_head: ChainHead | None = None
    rebuilt_head: ChainHead | None = None
    events_compared: int = 0
    spans_compared: int = 0
    index_rows_compared: int = 0  # scopes and buckets of the subject index
    entries_compared: int = 0
    differences: list[str] = field(default_factory=list)
    more_differences: int = 0  # beyond the ones listed

    @property
    def ok(self) -> bool:
        return not self.differences

    def differ(self, text: str) -> None:
        if len(self.differences) < MAX_DIFFERENCES:
            self.differences.append(text)
        else:
            self.more_differences += 1


def _log(store: LedgerStore) -> Iterator[LogRecord]:
    after = 0
    while True:
        page = store.log_records(after, PAGE)
        if not page:
            return
        yield from page
        after = page[-1][0]


def replay(live: LedgerStore, scratch: LedgerStore, result: RebuildResult | None = None) -> int:
    """Replay the live event log into an empty scratch store; returns records read. The
    live index row of each event replayed is compared on the way (into `result`)."""
    result = result if result is not None else RebuildResult()
    events: list[ReplayedEvent] = []
    spans: list[Span] = []
    scopes: set[tuple[str, str, str]] = set()
    read = 0

    def flush() -> None:
        if events:
            try:
                scratch.append_replayed(events, spans, scopes)
            except ValueError as exc:  # record times going back
                raise ReplayError(str(exc)) from None
            events.clear()
            spans.clear()
            scopes.clear()

    pending_entries: tuple[str, int] | None = None  # (period, record time) being read
    for position, topic, state, index in _log(live):
        read += 1
        if topic == EVENT:
            if pending_entries is not None:
                _reconcile(scratch, *pending_entries)
                pending_entries = None
            columns, content, originator, span, scope_rows = derive(position, state, index)
            assert index is not None  # else `derive` refused it
            if columns is not None:
                _index_differs(position, index, columns, result)
            recorded_us = int(index[INDEXED])
            events.append((*(columns or index[:INDEXED]), recorded_us, content, state, originator))
            if span is not None:
                spans.append(span)
            scopes.update(scope_rows)
            result.events_compared += 1
            if len(events) >= WRITE_PAGES * PAGE:
                flush()
            continue
        moment = _moment(position, topic, state)
        if topic == TOPIC_CREDIT_ENTRY:
            flush()
            if pending_entries is not None and pending_entries != moment:
                _reconcile(scratch, *pending_entries)
            pending_entries = moment
        elif topic == TOPIC_PERIOD_CLOSED:
            # A close is chained right after the entries it issued (same period, same
            # moment): those are its own. Entries of another moment before it are a
            # reconciliation's.
            flush()
            if pending_entries is not None and pending_entries != moment:
                _reconcile(scratch, *pending_entries)
            pending_entries = None
            close_period(scratch, Period.from_label(moment[0]), from_us(moment[1]), replaying=True)
    flush()
    if pending_entries is not None:
        _reconcile(scratch, *pending_entries)
    return read


def _moment(position: int, topic: str, state: bytes) -> tuple[str, int]:
    """(period, record time) of an entry's or a close's record."""
    try:
        fields = json.loads(state)
        time_field = "recorded_us" if topic == TOPIC_CREDIT_ENTRY else "closed_us"
        moment = (str(fields["period"]), int(fields[time_field]))
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ReplayError(
            f"position {position}: the event store's record is no entry or close the "
            "ledger wrote: run `sla-ledger audit verify`"
        ) from None
    if topic not in (TOPIC_CREDIT_ENTRY, TOPIC_PERIOD_CLOSED):
        raise ReplayError(f"position {position}: the event store's record has topic {topic}")
    return moment


def _index_differs(
    position: int, index: tuple[Any, ...], derived: IndexColumns, result: RebuildResult
) -> None:
    where = f"event at position {position} ({index[0]}) in sla_events"
    for name, mine, theirs in zip(EVENT_NAMES, index, derived, strict=False):
        if mine != theirs:
            result.differ(f"{where}: {name} is {mine} live, {theirs} rebuilt")


def _reconcile(scratch: LedgerStore, period: str, recorded_us: int) -> None:
    reconcile_period(scratch, Period.from_label(period), from_us(recorded_us))


def _pages(
    store: LedgerStore, table: str, key: Sequence[str], values: Sequence[str] = ()
) -> Iterator[list[Row]]:
    """A table in pages, in key order: each row its `key` columns, then `values`."""
    after: Row | None = None
    while True:
        page = store.rows_after(table, key, after, PAGE, values)
        if not page:
            return
        yield page
        after = page[-1][: len(key)]


def _differing(
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


def _fields_differ(
    result: RebuildResult, where: str, mine: Row, theirs: Row, names: Sequence[str], skip: int
) -> None:
    """The fields that differ, of two rows whose first `skip` values (the key) agree."""
    for name, ours, rebuilt in zip(names, mine[skip:], theirs[skip:], strict=True):
        if ours != rebuilt:
            result.differ(f"{where}: {name} is {ours} live, {rebuilt} rebuilt")


def _only_in(mine: Row | None) -> str:
    return f"only in the {'rebuild' if mine is None else 'live ledger'}"


def compare(live: LedgerStore, scratch: LedgerStore, result: RebuildResult) -> None:
    live_head, rebuilt_head = live.chain_head(), scratch.chain_head()
    result.live_head, result.rebuilt_head = live_head, rebuilt_head
    if (live_head.position, live_head.sha256) != (rebuilt_head.position, rebuilt_head.sha256):
        result.differ(
            f"chain: live head {live_head.checkpoint}, rebuilt head {rebuilt_head.checkpoint}"
        )

    def differing(
        table: str, key: Sequence[str], values: Sequence[str], compared: list[int]
    ) -> Iterator[tuple[Row | None, Row | None]]:
        return _differing(
            _pages(live, table, key, values),
            _pages(scratch, table, key, values),
            len(key),
            compared,
        )

    # Each event's index row was compared as it was replayed; rows of positions that
    # hold no event in the log (inserted, or the log's record deleted) are found here.
    if live.event_count() != result.events_compared:
        for mine, theirs in differing("sla_events", ("chain_pos",), ("event_id",), [0]):
            if mine is None or theirs is None:
                position, event_id = mine or theirs or ()
                result.differ(
                    f"event at position {position} ({event_id}) in sla_events: {_only_in(mine)}"
                )

    spans = [0]
    for mine, theirs in differing("sla_subject_spans", SPAN_KEY, SPAN_NAMES, spans):
        kind, subject, *_ = mine or theirs or ()
        where = f"span of {kind} {subject} in sla_subject_spans"
        if mine is None or theirs is None:
            # Without its span a subject vanishes from every report.
            result.differ(f"{where}: {_only_in(mine)}")
        else:
            _fields_differ(result, where, mine, theirs, SPAN_NAMES, len(SPAN_KEY))
    result.spans_compared = spans[0]

    # Whose rows each subject reaches, and what each contract's terms name: the union of
    # what the events say, whatever the batches they came in.
    index_rows = [0]
    for table, key in SCOPE_TABLES.items():
        for mine, theirs in differing(table, key, (), index_rows):
            named = ", ".join(str(value).replace(SCOPE_SEP, "/") for value in mine or theirs or ())
            result.differ(f"{table} row ({named}): {_only_in(mine)}")
    # The buckets each subject's span reaches: the live ledger may hold more (a span
    # that widened past BUCKETS_MAX keeps the buckets it had), never fewer, or a report
    # of those weeks would not find the subject.
    for mine, theirs in differing("sla_subject_buckets", BUCKET_KEY, (), index_rows):
        if mine is None and theirs is not None:
            kind, bucket, subject = theirs
            result.differ(
                f"sla_subject_buckets: {kind} {subject} reaches bucket {bucket}, which only "
                "the rebuild holds"
            )
    result.index_rows_compared = index_rows[0]

    entries = [0]
    for mine, theirs in differing("sla_credit_entries", ("entry_id",), ENTRY_NAMES, entries):
        if mine is not None and theirs is not None:
            _fields_differ(result, f"entry {mine[0]}", mine, theirs, ENTRY_NAMES, 1)
            continue
        entry = dict(zip(("entry_id", *ENTRY_NAMES), mine or theirs or (), strict=True))
        described = (
            f"entry {entry['entry_id']} ({entry['kind']} r{entry['revision']} of "
            f"{entry['contract_id']}/{entry['service_id']} {entry['period']}"
        )
        if theirs is None:
            result.differ(f"{described}): in the live ledger, not in the rebuild")
        else:
            result.differ(
                f"{described}, {entry['amount']}): in the rebuild, not in the live ledger"
            )
    result.entries_compared = entries[0]


def rebuild(live: LedgerStore, scratch: LedgerStore) -> RebuildResult:
    if scratch.chain_head().position != 0:
        raise ValueError("the scratch store must be empty")
    result = RebuildResult()
    with live.snapshot():
        try:
            result.records = replay(live, scratch, result)
        except ReplayError as exc:
            result.differ(f"the log does not replay: {exc}")
        compare(live, scratch, result)
    return result
