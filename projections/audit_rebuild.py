"""`audit rebuild`: every projection rebuilt from the event log, compared with the live one.

The event log is the eventsourcing table itself, read in commit order (a record's
notification id is its chain position). It is replayed into a scratch store exactly as
it happened:

- accepted events, each with its original origin and record time (its `sla_events`
  row's); the index columns (type, subject, occurred_at) and the spans are derived again
  from the envelope. Consecutive events are written in large transactions, whatever
  transactions they came in: only the chain order and the record times count, and both
  are kept;
- each close at its record time (`close_period` at that moment);
- each moment at which credit entries were recorded: the period's full reconciliation
  (`reconcile_period`) at that moment. Only the moments come from the log; which
  entries are due, their amounts, ids and `basis_sha256` are derived again from the
  replayed events. Nothing is computed at any other moment: a moment without entries
  needs none, and if one were due there, the live ledger lacks it and the comparison
  of the entries says so.

Then the scratch store is compared with the live one, table against table, in pages
(memory does not grow with the store): the chain (a faithful rebuild reproduces every
link, so the heads must be equal), every row of the event index (`sla_events`) column by
column, every subject's span, and the credit entries field by field. A report reads
nothing else: the events' content (the very records replayed), their index rows and the
spans, the closes (in the chain) and the entries, so equal tables give equal report rows
for every period and moment, and the rows are not computed twice more. Any difference
is reported and the command exits non-zero: either the live projections (the event
index, the spans, the entries) were altered behind the ledger's back, or the derivation
changed since the entries were recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.chain import ChainHead
from ledger.events import EVENT_TYPES, InboundEvent
from ledger.periods import Period, from_us
from ledger.timeformat import format_utc
from projections.credit_entries import close_period, reconcile_period
from projections.store import LedgerStore
from projections.store.chain_append import PendingRecord, event_content
from projections.store.ledger_store import (
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
    event_originator,
)
from projections.store.schema import EVENT_COLUMNS, SCOPE_SEP

PAGE = 5_000  # records read, and events written, per round trip
EVENT_NAMES = [name for name, _ in EVENT_COLUMNS]
INDEXED = EVENT_NAMES.index("recorded_us")  # the index columns derived from the envelope
SPAN_KEY = ("subject_kind", "subject_id")
BUCKET_KEY = ("subject_kind", "bucket", "subject_id")
SCOPE_TABLES = {
    "sla_subject_scopes": ("subject_kind", "subject_id", "scope"),
    "sla_contract_scopes": ("scope", "contract_id"),
}
SPAN_NAMES = ("lo_us", "hi_us", "has_end", "ended_us")
MAX_DIFFERENCES = 1_000  # listed; more are counted


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


class ReplayError(Exception):
    """The log cannot be replayed as it stands (a record that is no event the ledger
    wrote, record times going back): the rebuild stops there and says why."""


def _log(store: LedgerStore) -> Iterator[tuple[int, str, bytes, tuple[Any, ...] | None]]:
    after = 0
    while True:
        page = store.log_records(after, PAGE)
        if not page:
            return
        yield from page
        after = page[-1][0]


def _event_record(
    position: int, state: bytes, index: tuple[Any, ...] | None, result: RebuildResult
) -> tuple[PendingRecord, InboundEvent]:
    """An event's chained record derived again from its log record, and the event; the
    live index row at its position is compared with it on the way. The record time is
    the index row's (the chain covers it: the heads say if it was altered)."""
    content = event_content(state)
    if content is None or index is None:
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote "
            "(or its sla_events row is missing): run `sla-ledger audit verify`"
        )
    envelope, origin = content
    try:
        document = json.loads(envelope)
        event = InboundEvent.from_envelope(document)
        subject_kind, subject_field = EVENT_TYPES[event.type]
        # The envelope spells its instant canonically (`format_utc`), as the index does:
        # a spelling of its own would be an envelope the ledger never wrote.
        occurred = document["occurred_at"]
        derived = (
            event.event_id,
            event.type,
            subject_kind,
            str(event.payload[subject_field]),
            occurred if type(occurred) is str else format_utc(event.occurred_at),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ReplayError(
            f"position {position}: the event store's record is no event the ledger wrote: "
            "run `sla-ledger audit verify`"
        ) from None
    if derived != index[:INDEXED]:
        where = f"event at position {position} ({index[0]}) in sla_events"
        for name, mine, theirs in zip(EVENT_NAMES, index, derived, strict=False):
            if mine != theirs:
                result.differ(f"{where}: {name} is {mine} live, {theirs} rebuilt")
    fields: dict[str, Any] = dict(zip(EVENT_NAMES[:INDEXED], derived, strict=True))
    fields["recorded_us"] = int(index[INDEXED])
    fields["content_sha256"] = hashlib.sha256(envelope.encode()).hexdigest()
    fields["envelope"] = envelope
    fields["origin"] = origin
    record = PendingRecord(
        kind="event",
        fields=fields,
        originator_id=event_originator(event.event_id),
        topic=TOPIC_EVENT_ACCEPTED,
    )
    return record, event


def replay(live: LedgerStore, scratch: LedgerStore, result: RebuildResult | None = None) -> int:
    """Replay the live event log into an empty scratch store; returns records read. The
    live index row of each event replayed is compared on the way (into `result`)."""
    result = result if result is not None else RebuildResult()
    records: list[PendingRecord] = []
    events: list[tuple[InboundEvent, int]] = []
    read = 0

    def flush() -> None:
        if records:
            try:
                scratch.append_replayed(records, events)
            except ValueError as exc:  # record times going back
                raise ReplayError(str(exc)) from None
            records.clear()
            events.clear()

    pending_entries: tuple[str, int] | None = None  # (period, record time) being read
    for position, topic, state, index in _log(live):
        read += 1
        if topic == TOPIC_EVENT_ACCEPTED:
            if pending_entries is not None:
                _reconcile(scratch, *pending_entries)
                pending_entries = None
            record, event = _event_record(position, state, index, result)
            result.events_compared += 1
            records.append(record)
            events.append((event, int(record.fields["recorded_us"])))
            if len(records) >= PAGE:
                flush()
            continue
        try:
            fields = json.loads(state)
            time_field = "recorded_us" if topic == TOPIC_CREDIT_ENTRY else "closed_us"
            moment = (str(fields["period"]), int(fields[time_field]))
        except (ValueError, KeyError, TypeError, RecursionError):
            raise ReplayError(
                f"position {position}: the event store's record is no entry or close the "
                "ledger wrote: run `sla-ledger audit verify`"
            ) from None
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
        else:
            raise ReplayError(f"position {position}: the event store's record has topic {topic}")
    flush()
    if pending_entries is not None:
        _reconcile(scratch, *pending_entries)
    return read


def _reconcile(scratch: LedgerStore, period: str, recorded_us: int) -> None:
    reconcile_period(scratch, Period.from_label(period), from_us(recorded_us))


def _pages(store: LedgerStore, table: str, key: Sequence[str]) -> Iterator[dict[str, Any]]:
    after: list[Any] | None = None
    while True:
        page = store.rows_after(table, key, after, PAGE)
        if not page:
            return
        yield from page
        after = [page[-1][c] for c in key]


def _merge(
    live: Iterator[dict[str, Any]],
    rebuilt: Iterator[dict[str, Any]],
    key: Callable[[dict[str, Any]], Any],
) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Pairs of rows with equal keys from two streams in key order (None: no twin)."""
    mine, theirs = next(live, None), next(rebuilt, None)
    while mine is not None or theirs is not None:
        if theirs is None or (mine is not None and key(mine) < key(theirs)):
            yield mine, None
            mine = next(live, None)
        elif mine is None or key(theirs) < key(mine):
            yield None, theirs
            theirs = next(rebuilt, None)
        else:
            yield mine, theirs
            mine, theirs = next(live, None), next(rebuilt, None)


def _fields_differ(
    result: RebuildResult,
    where: str,
    mine: dict[str, Any],
    theirs: dict[str, Any],
    names: Sequence[str],
) -> None:
    for name in names:
        if mine[name] != theirs[name]:
            result.differ(f"{where}: {name} is {mine[name]} live, {theirs[name]} rebuilt")


def compare(live: LedgerStore, scratch: LedgerStore, result: RebuildResult) -> None:
    live_head, rebuilt_head = live.chain_head(), scratch.chain_head()
    result.live_head, result.rebuilt_head = live_head, rebuilt_head
    if (live_head.position, live_head.sha256) != (rebuilt_head.position, rebuilt_head.sha256):
        result.differ(
            f"chain: live head {live_head.checkpoint}, rebuilt head {rebuilt_head.checkpoint}"
        )

    # Each event's index row was compared as it was replayed; rows of positions that
    # hold no event in the log (inserted, or the log's record deleted) are found here.
    if live.event_count() != result.events_compared:
        for mine, theirs in _merge(
            _pages(live, "sla_events", ("chain_pos",)),
            _pages(scratch, "sla_events", ("chain_pos",)),
            lambda row: int(row["chain_pos"]),
        ):
            if mine is None or theirs is None:
                row = mine or theirs
                assert row is not None
                side = "rebuild" if mine is None else "live ledger"
                result.differ(
                    f"event at position {row['chain_pos']} ({row['event_id']}) in sla_events: "
                    f"only in the {side}"
                )

    for mine, theirs in _merge(
        _pages(live, "sla_subject_spans", SPAN_KEY),
        _pages(scratch, "sla_subject_spans", SPAN_KEY),
        lambda row: (row["subject_kind"], row["subject_id"]),
    ):
        result.spans_compared += 1
        row = mine or theirs
        assert row is not None
        where = f"span of {row['subject_kind']} {row['subject_id']} in sla_subject_spans"
        if mine is None or theirs is None:
            # Without its span a subject vanishes from every report.
            result.differ(f"{where}: only in the {'rebuild' if mine is None else 'live ledger'}")
        else:
            _fields_differ(result, where, mine, theirs, SPAN_NAMES)

    # Whose rows each subject reaches, and what each contract's terms name: the union of
    # what the events say, whatever the batches they came in.
    for table, key in SCOPE_TABLES.items():
        for mine, theirs in _merge(
            _pages(live, table, key),
            _pages(scratch, table, key),
            lambda row: tuple(row[k] for k in key),  # noqa: B023
        ):
            result.index_rows_compared += 1
            if mine is None or theirs is None:
                row = mine or theirs
                assert row is not None
                named = ", ".join(str(row[k]).replace(SCOPE_SEP, "/") for k in key)
                side = "rebuild" if mine is None else "live ledger"
                result.differ(f"{table} row ({named}): only in the {side}")
    # The buckets each subject's span reaches: the live ledger may hold more (a span
    # that widened past BUCKETS_MAX keeps the buckets it had), never fewer, or a report
    # of those weeks would not find the subject.
    for mine, theirs in _merge(
        _pages(live, "sla_subject_buckets", BUCKET_KEY),
        _pages(scratch, "sla_subject_buckets", BUCKET_KEY),
        lambda row: (row["subject_kind"], row["bucket"], row["subject_id"]),
    ):
        result.index_rows_compared += 1
        if mine is None and theirs is not None:
            result.differ(
                f"sla_subject_buckets: {theirs['subject_kind']} {theirs['subject_id']} "
                f"reaches bucket {theirs['bucket']}, which only the rebuild holds"
            )

    for mine, theirs in _merge(
        _pages(live, "sla_credit_entries", ("entry_id",)),
        _pages(scratch, "sla_credit_entries", ("entry_id",)),
        lambda row: row["entry_id"],
    ):
        result.entries_compared += 1
        if mine is not None and theirs is not None:
            _fields_differ(
                result,
                f"entry {mine['entry_id']}",
                mine,
                theirs,
                [name for name in mine if name not in ("seq", "chain_pos", "chain_sha256")],
            )
            continue
        entry = mine or theirs
        assert entry is not None
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
