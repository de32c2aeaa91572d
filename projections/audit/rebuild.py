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
  (`event_record_sha256`), so the scratch store's chain is the log's. The command's own
  scratch store reads the events' contents from the live SQLite file at the same
  positions instead of holding a copy (`LedgerStore(contents_of=...)`): a faithful
  replay keeps the positions, and the ledger's triggers refuse any change to a chained
  record, so what it reads there is what was replayed here (only an edit behind the
  ledger's back during the command itself could differ, as for `audit verify`'s workers;
  the edit is then tampering that verify and the next rebuild name);
- each close at its record time (`close_period` at that moment);
- each moment at which credit entries were recorded: the period's full reconciliation
  (`reconcile_period`) at that moment. Only the moments come from the log; which
  entries are due, their amounts, ids and `basis_sha256` are derived again from the
  replayed events. Nothing is computed at any other moment: a moment without entries
  needs none, and if one were due there, the live ledger lacks it and the comparison
  of the entries says so;
- each alert as recorded, from its record in the log, at its position (the alerts of
  one record time in one transaction, as they were written). An alert cannot be derived
  again: it was raised when its condition was first observed, after an intake or on a
  periodic check, which the log does not replay (sla-math §8: "a rebuild compares them
  as recorded").

Then the scratch store is compared with the live one, table against table, as sorted
streams of pages (memory does not grow with the store): the chain (a faithful rebuild
reproduces every link, so the heads must be equal), every row of the event index
(`sla_events`) column by column, every subject's span, scopes and buckets, the
credit entries field by field, and the alerts (`sla_alerts`) field by field against
their records. A page equal on both sides is passed over whole; rows
are paired one by one only where the tables differ. A report reads
nothing else: the events' content (the very records replayed), their index rows and the
spans, the closes (in the chain) and the entries, so equal tables give equal report rows
for every period and moment, and the rows are not computed twice more. Any difference
is reported and the command exits non-zero: either the live projections (the event
index, the spans, the entries) were altered behind the ledger's back, or the derivation
changed since the entries were recorded.

In two processes. Reading the log and deriving its events (parsing each envelope, its
span and scopes, the digests, the index row compared) is most of the work that does not
touch the scratch store, and needs nothing but each record: the log is replayed a page at
a time (`replay_derivation.replay_page`), and a log of `PARALLEL_FROM` records or more
has its pages replayed by a worker process (`replay_worker`, a fresh interpreter
importing only `replay_derivation` and what it needs, as `audit verify`'s workers do)
while this process writes the scratch store; the two share the pages out as they go, so
that neither waits for the other, and the worker yields its CPU to anything else that
wants it. This process's snapshot decides the pages (their ranges of positions); on
SQLite the worker reads those positions itself from the live file, in a snapshot of its
own that holds the same records there (`_worker`), and on PostgreSQL it is handed the
records this process read. It derives exactly what this process would, with the same
functions: it only ever saves time (if it fails, this process replays the rest itself).
On SQLite it also compares the subject index, as soon as the log holds no more events,
while this process computes the closes and reconciliations at its end
(`_SubjectIndexByWorker`). The cycle collector is paused meanwhile: the replay makes no
reference cycles.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.chain import ChainHead
from ledger.credits import BASIS_FIELDS
from ledger.errors import ChainMovedError
from ledger.periods import Period, from_us
from projections.audit.rebuild_compare import (
    MAX_DIFFERENCES,
    Differences,
    Row,
    SubjectIndexComparison,
    differing,
    fields_differ,
    only_in,
    pages,
    subject_index_differences,
)
from projections.audit.replay_derivation import Piece, ReplayError, replay_page
from projections.chain_records import (
    TOPIC_ALERT_RAISED,
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
)
from projections.credit_entries import close_period, reconcile_period
from projections.queries.encoding import to_json
from projections.store import LedgerStore, StoreSnapshot
from projections.store.chain_append import ReplayedEvent
from projections.store.mappers import row_alert
from projections.store.schema import ALERT_COLUMNS, ENTRY_COLUMNS
from projections.subject_rules import SpanRow

if TYPE_CHECKING:
    from ledger.alerts import Alert
    from projections.audit.replay_worker import Worker

PAGE = 5_000  # records read per round trip
WRITE_PAGES = 4  # pages of events written to the scratch store per transaction
# A log of this many records or more has its pages replayed in a worker process (on a
# machine of two CPUs or more), which is handed pages up to `AHEAD` records ahead of the
# replay: it replays the next transaction's events while this process writes one. The
# pages ahead are held as ranges of positions on SQLite, as records on PostgreSQL; their
# replays wait in the worker's files until this process takes them.
PARALLEL_FROM = 20_000
AHEAD = (WRITE_PAGES + 1) * PAGE
# Every field of an entry but its key and its place in the chain (which the chain heads
# compare): `seq` is the order the rows were inserted in, no figure of the ledger.
ENTRY_NAMES = tuple(
    name for name, _ in ENTRY_COLUMNS if name not in ("entry_id", "chain_pos", "chain_sha256")
)
# Every field of an alert but its key, its place in the chain included: an alert is
# carried over as recorded, so it must sit where it sat.
ALERT_NAMES = tuple(name for name, _ in ALERT_COLUMNS if name != "alert_id")


@dataclass
class RebuildResult:
    records: int = 0
    live_head: ChainHead | None = None
    rebuilt_head: ChainHead | None = None
    events_compared: int = 0
    spans_compared: int = 0
    index_rows_compared: int = 0  # scopes and buckets of the subject index
    entries_compared: int = 0
    alerts_compared: int = 0
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


def rebuild_document(result: RebuildResult) -> dict[str, Any]:
    """The rebuild as a program reads it (`audit rebuild --format json`); of a finished
    rebuild, which has both heads."""
    assert result.live_head is not None, "not rebuilt"
    assert result.rebuilt_head is not None, "not rebuilt"
    return {
        "ok": result.ok,
        "records_replayed": result.records,
        "live_head": result.live_head.checkpoint,
        "rebuilt_head": result.rebuilt_head.checkpoint,
        "events_compared": result.events_compared,
        "spans_compared": result.spans_compared,
        "entries_compared": result.entries_compared,
        "alerts_compared": result.alerts_compared,
        "differences": result.differences,
        "differences_not_listed": result.more_differences,
    }


def rebuild_json(result: RebuildResult) -> str:
    return to_json(rebuild_document(result))


def _log_pages(live: StoreSnapshot) -> Iterator[tuple[int, int]]:
    """The log's pages in order, as ranges of positions `(after, through)` of `PAGE`
    records each (the last: what is left), as this process's snapshot holds it."""
    after = 0
    while (through := live.log_page_end(after, PAGE)) is not None:
        yield after, through
        after = through


@contextmanager
def _worker(
    live: StoreSnapshot, with_records: bool, parallel_from: int | None, workers: int | None
) -> Iterator[Worker | None]:
    """A worker for a log of `parallel_from` records or more (`PARALLEL_FROM`) when there
    are 2 CPUs or more (`workers`: how many there may be; fewer than 2: none). On SQLite
    it reads the pages itself from the live file, in a snapshot of its own: the positions
    of a page hold the same records there as in this process's snapshot, since the
    ledger only appends after the head and its triggers refuse any change to a chained
    record (only an edit behind the ledger's back in the moment between could differ, as
    for `audit verify`'s workers; that is tampering verify and the next rebuild name)."""
    threshold = PARALLEL_FROM if parallel_from is None else parallel_from
    if live.chain_head().position < threshold:
        yield None
        return
    # Its own imports (and `audit verify`'s way of starting workers): only when it is used.
    from projections.audit.replay_worker import started

    with started(
        workers, live.log_records, with_records, live.reader_uri(), live.log_statement
    ) as worker:
        yield worker


def _replayed_pages(
    live: StoreSnapshot, worker: Worker | None, with_records: bool
) -> Iterator[tuple[int, list[Piece]]]:
    """The log's pages in order, replayed (`replay_page`): each the number of records it
    holds and its pieces. With a worker, pages are handed to it up to `AHEAD` records
    before the one given out; memory holds those pages (on SQLite only their ranges),
    and no more."""
    if worker is None:
        for after, through in _log_pages(live):
            records = live.log_records(after, through)
            yield len(records), replay_page(records, with_records)
        return
    ahead = 0  # pages handed over and not received
    for after, through in _log_pages(live):
        worker.send((after, through) if worker.reads_log else live.log_records(after, through))
        ahead += 1
        while ahead * PAGE > AHEAD:
            ahead -= 1
            yield worker.receive()
    for _ in range(ahead):
        yield worker.receive()


def replay(
    live: StoreSnapshot,
    scratch: LedgerStore,
    result: RebuildResult,
    worker: Worker | None = None,
) -> tuple[int, _SubjectIndexByWorker]:
    """Replay the live event log into an empty scratch store; returns records read (and
    the worker's comparison of the subject index, if it was asked for one). The
    live index row of each event replayed is compared on the way (into `result`). With
    a worker (`_worker`), it replays the pages while this process writes the scratch
    store, and once the log holds no more events (the subject index is complete), it is
    asked to compare the subject index (`_SubjectIndexByWorker`) while this process
    replays the rest (the closes and reconciliations at the end of the log)."""
    by_worker = _SubjectIndexByWorker(live, scratch, worker)
    events: list[ReplayedEvent] = []
    spans: list[SpanRow] = []
    scopes: set[tuple[str, str, str]] = set()
    read = 0

    def flush() -> None:
        if events:
            by_worker.written()
            try:
                scratch.append_replayed(events, spans, scopes)
            except ValueError as exc:  # record times going back
                raise ReplayError(str(exc)) from None
            events.clear()
            spans.clear()
            scopes.clear()

    # (period, record time, basis version) of the entries being read
    pending_entries: tuple[str, int, int | None] | None = None
    pending_alerts: list[tuple[int, Alert]] = []  # (position, alert) of one record time

    def carry_alerts() -> None:
        if pending_alerts:
            _carry_alerts(scratch, pending_alerts)
            pending_alerts.clear()

    with_records = not scratch.contents_elsewhere
    for count, pieces in _replayed_pages(live, worker, with_records):
        read += count
        for piece in pieces:
            if isinstance(piece, str):
                raise ReplayError(piece)
            if len(piece) == 4:  # a run of events
                carry_alerts()
                if pending_entries is not None:
                    _reconcile(scratch, *pending_entries)
                    pending_entries = None
                run, run_spans, run_scopes, differences = piece
                for difference in differences:
                    result.differ(difference)
                events += run
                spans += run_spans
                scopes |= run_scopes
                result.events_compared += len(run)
                if len(events) >= WRITE_PAGES * PAGE:
                    flush()
                continue
            position, topic, state = piece
            flush()
            by_worker.ask_after(position)
            if topic == TOPIC_ALERT_RAISED:
                # Carried over as recorded (it depends on when its condition was seen,
                # which the log does not replay), at its place: after what came before.
                if pending_entries is not None:
                    _reconcile(scratch, *pending_entries)
                    pending_entries = None
                alert = _alert(position, state)
                if pending_alerts and pending_alerts[0][1].recorded_at != alert.recorded_at:
                    carry_alerts()
                pending_alerts.append((position, alert))
                continue
            carry_alerts()
            moment = _moment(position, topic, state)
            if topic == TOPIC_CREDIT_ENTRY:
                if pending_entries is not None and pending_entries != moment:
                    _reconcile(scratch, *pending_entries)
                pending_entries = moment
            elif topic == TOPIC_PERIOD_CLOSED:
                # A close is chained right after the entries it issued (same period,
                # same moment): those are its own. Entries of another moment before
                # it are a reconciliation's.
                own = pending_entries is not None and pending_entries[:2] == moment[:2]
                if pending_entries is not None and not own:
                    _reconcile(scratch, *pending_entries)
                version = pending_entries[2] if own and pending_entries is not None else None
                pending_entries = None
                close_period(
                    scratch,
                    Period.from_label(moment[0]),
                    from_us(moment[1]),
                    replaying=True,
                    basis_version=version,
                )
    flush()
    carry_alerts()
    if pending_entries is not None:
        _reconcile(scratch, *pending_entries)
    return read, by_worker


class _SubjectIndexByWorker:
    """The comparison of the subject index, asked of the worker (on SQLite, where it
    reads the live file) as soon as the log holds no event after the records replayed:
    the scratch store's subject index is then complete (closes and reconciliations do
    not touch it), and the worker compares it while this process replays the closes and
    reconciliations left. The worker compares in its own snapshot of the live file,
    which must hold the very chain head this process's snapshot holds (every write that
    changes the subject index moves the head); otherwise, or if it fails, or if events
    were written after all, this process compares it itself."""

    def __init__(self, live: StoreSnapshot, scratch: LedgerStore, worker: Worker | None) -> None:
        self._live, self._scratch = live, scratch
        self._worker = worker if worker is not None and worker.reads_log else None
        self._scratch_uri = scratch.reader_uri() if self._worker is not None else None
        self._asked = self._spoiled = False
        self._next_event = 0  # a position of an event in the log (checked up to it)

    def ask_after(self, position: int) -> None:
        """Ask the worker now if the log holds no event after `position`, all of whose
        events up to it are written."""
        if self._asked or self._scratch_uri is None or position < self._next_event:
            return
        after = self._live.next_log_position(position, TOPIC_EVENT_ACCEPTED)
        if after is not None:
            self._next_event = after
            return
        assert self._worker is not None
        self._asked = True
        head = self._live.chain_head()
        self._worker.compare_subject_index(
            self._scratch_uri, (head.position, head.sha256), self._live.HEAD_STATEMENT, PAGE
        )

    def written(self) -> None:
        """Events are being written to the scratch store: any comparison asked for
        before is of an incomplete subject index."""
        self._spoiled = self._spoiled or self._asked

    def result(self) -> SubjectIndexComparison | None:
        """The worker's comparison (None: there is none, and this process compares)."""
        if not self._asked or self._spoiled or self._worker is None:
            return None
        return self._worker.subject_index_compared()


def _moment(position: int, topic: str, state: bytes) -> tuple[str, int, int | None]:
    """(period, record time, basis version) of an entry's or a close's record; a close
    names no basis version (None), and an entry chained before versions existed was
    computed with version 1."""
    try:
        fields = json.loads(state)
        time_field = "recorded_us" if topic == TOPIC_CREDIT_ENTRY else "closed_us"
        version = int(fields.get("basis_version", 1)) if topic == TOPIC_CREDIT_ENTRY else None
        moment = (str(fields["period"]), int(fields[time_field]), version)
    except (ValueError, KeyError, TypeError, RecursionError, AttributeError):
        raise ReplayError(
            f"position {position}: the event store's record is no entry or close the "
            "ledger wrote: run `sla-ledger audit verify`"
        ) from None
    if topic not in (TOPIC_CREDIT_ENTRY, TOPIC_PERIOD_CLOSED):
        raise ReplayError(f"position {position}: the event store's record has topic {topic}")
    if version is not None and version not in BASIS_FIELDS:
        raise ReplayError(
            f"position {position}: the entry names basis version {version}, which this "
            "ledger does not know: rebuild with the version that wrote it"
        )
    return moment


def _alert(position: int, state: bytes) -> Alert:
    """The alert an alert's record holds (its chained fields)."""
    try:
        return row_alert(json.loads(state))
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
        raise ReplayError(
            f"position {position}: the event store's record is no alert the ledger wrote: "
            "run `sla-ledger audit verify`"
        ) from None


def _carry_alerts(scratch: LedgerStore, alerts: Sequence[tuple[int, Alert]]) -> None:
    """Alerts of one record time, chained into the scratch store after its head, as the
    live ledger chained them (one transaction, the same order): each must be recorded,
    at the position it has in the log."""
    first = alerts[0][0]
    try:
        recorded = scratch.append_alerts([alert for _, alert in alerts], scratch.chain_head())
    except ChainMovedError:
        raise ReplayError(
            f"position {first}: the alert's record time is not after the record before it"
        ) from None
    if len(recorded) != len(alerts):
        raise ReplayError(f"position {first}: an alert recorded twice in the log")


def _reconcile(scratch: LedgerStore, period: str, recorded_us: int, version: int | None) -> None:
    reconcile_period(scratch, Period.from_label(period), from_us(recorded_us), version)


def compare(
    live: StoreSnapshot,
    scratch: LedgerStore,
    result: RebuildResult,
    subject_index: SubjectIndexComparison | None = None,
) -> None:
    """The scratch store against the live one (see above). `subject_index`: that part of
    the comparison made already (by the worker), or None to make it here."""
    live_head, rebuilt_head = live.chain_head(), scratch.chain_head()
    result.live_head, result.rebuilt_head = live_head, rebuilt_head
    if (live_head.position, live_head.sha256) != (rebuilt_head.position, rebuilt_head.sha256):
        result.differ(
            f"chain: live head {live_head.checkpoint}, rebuilt head {rebuilt_head.checkpoint}"
        )

    def paired(
        table: str, key: Sequence[str], values: Sequence[str], compared: list[int]
    ) -> Iterator[tuple[Row | None, Row | None]]:
        return differing(
            pages(live.rows_after, table, key, values, PAGE),
            pages(scratch.rows_after, table, key, values, PAGE),
            len(key),
            compared,
        )

    # Each event's index row was compared as it was replayed; rows of positions that
    # hold no event in the log (inserted, or the log's record deleted) are found here.
    if live.event_count() != result.events_compared:
        for mine, theirs in paired("sla_events", ("chain_pos",), ("event_id",), [0]):
            if mine is None or theirs is None:
                position, event_id = mine or theirs or ()
                result.differ(
                    f"event at position {position} ({event_id}) in sla_events: {only_in(mine)}"
                )

    if subject_index is None:
        subject_index = subject_index_differences(live.rows_after, scratch.rows_after, PAGE)
    for difference in subject_index.differences.listed:
        result.differ(difference)
    result.more_differences += subject_index.differences.more
    result.spans_compared = subject_index.spans_compared
    result.index_rows_compared = subject_index.index_rows_compared

    entries = [0]
    found = Differences()
    for mine, theirs in paired("sla_credit_entries", ("entry_id",), ENTRY_NAMES, entries):
        if mine is not None and theirs is not None:
            fields_differ(found, f"entry {mine[0]}", mine, theirs, ENTRY_NAMES, 1)
            continue
        entry = dict(zip(("entry_id", *ENTRY_NAMES), mine or theirs or (), strict=True))
        described = (
            f"entry {entry['entry_id']} ({entry['kind']} r{entry['revision']} of "
            f"{entry['contract_id']}/{entry['service_id']} {entry['period']}"
        )
        if theirs is None:
            found.differ(f"{described}): in the live ledger, not in the rebuild")
        else:
            found.differ(f"{described}, {entry['amount']}): in the rebuild, not in the live ledger")
    for difference in found.listed:
        result.differ(difference)
    result.more_differences += found.more
    result.entries_compared = entries[0]

    # Alerts are carried over from the log as recorded: a live row that differs from its
    # record was edited behind the ledger's back (or its record was).
    alerts = [0]
    found = Differences()
    if "sla_alerts" in live.missing_tables:  # an older store, read as it is: none live
        pairs: Iterator[tuple[Row | None, Row | None]] = (
            (None, theirs)
            for page in pages(scratch.rows_after, "sla_alerts", ("alert_id",), ALERT_NAMES, PAGE)
            for theirs in page
        )
    else:
        pairs = paired("sla_alerts", ("alert_id",), ALERT_NAMES, alerts)
    for mine, theirs in pairs:
        if mine is not None and theirs is not None:
            fields_differ(found, f"alert {mine[0]}", mine, theirs, ALERT_NAMES, 1)
            continue
        alert = dict(zip(("alert_id", *ALERT_NAMES), mine or theirs or (), strict=True))
        found.differ(
            f"alert {alert['alert_id']} ({alert['kind']} {alert['threshold']} of "
            f"{alert['contract_id']}/{alert['service_id']} {alert['period']}): {only_in(mine)}"
        )
    for difference in found.listed:
        result.differ(difference)
    result.more_differences += found.more
    result.alerts_compared = alerts[0]


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cycle collector paused: a rebuild builds some objects per record read
    (parsed envelopes, rows, tuples), none of them in a reference cycle, so the collector
    would only walk them again and again, finding nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rebuild(
    live: LedgerStore,
    scratch: LedgerStore,
    *,
    parallel_from: int | None = None,
    workers: int | None = None,
) -> RebuildResult:
    """Replay `live`'s log into the empty `scratch` store and compare (see above). The
    events of a log of `parallel_from` records or more (`PARALLEL_FROM`) are derived in
    a worker process when `workers` (default: the CPUs) is 2 or more."""
    if scratch.chain_head().position != 0:
        raise ValueError("the scratch store must be empty")
    result = RebuildResult()
    with_records = not scratch.contents_elsewhere
    with (
        live.reader() as view,
        _collection_paused(),
        _worker(view, with_records, parallel_from, workers) as worker,
    ):
        by_worker: _SubjectIndexByWorker | None = None
        try:
            result.records, by_worker = replay(view, scratch, result, worker)
        except ReplayError as exc:
            result.differ(f"the log does not replay: {exc}")
        compare(view, scratch, result, by_worker.result() if by_worker is not None else None)
    return result
