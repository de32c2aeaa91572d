"""Appending to the store: a batch of events and rejections (the admission rule of
`ledger.admission` applied to what is already accepted), a rebuild's replayed events,
credit entries and closes, alerts, and the due times of closed and of provisional rows.
Each is one transaction, its chained records sealed under the write lock (`chain_append`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking

from ledger.admission import admit, conflict_reason
from ledger.chain import ChainHead
from ledger.errors import StoreError
from ledger.events import InboundEvent, Origin
from ledger.periods import to_us
from ledger.rejections import Rejection
from ledger.timeformat import format_utc
from projections.chain_records import (
    TOPIC_ALERT_RAISED,
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
    originator_of,
)
from projections.store.chain_append import ChainAppend, PendingRecord, ReplayedEvent
from projections.store.failures import failed
from projections.store.mappers import alert_fields, entry_fields
from projections.store.reads import chunks, placeholders
from projections.store.recorders import BulkInsert, SideRows, to_dialect
from projections.store.schema import (
    CONTRACT_SCOPE_COLUMNS,
    DUE_COLUMNS,
    ENTRY_BASIS_COLUMNS,
    KEEP_FIRST,
    NOT_ENDED_US,
    REJECTION_COLUMNS,
    SCOPE_COLUMNS,
    SPAN_COLUMNS,
    SPAN_WIDENING,
    DueTable,
    due_newer,
)
from projections.store.subject_index import bucket_rows
from projections.subject_rules import SpanRow, subject_rows

if TYPE_CHECKING:
    from ledger.alerts import Alert
    from ledger.credits import CreditEntry
    from projections.store.ledger_store import LedgerStore


@dataclass(slots=True)
class AppendOutcome:
    """What an append did with a batch: events accepted, duplicates, rejections."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # True when the tracking position was already recorded: another consumer (or an
    # earlier life of this one) stored this batch, so nothing was written.
    already_tracked: bool = False


def input_position(rejection: Rejection) -> tuple[str, int, str, int, int]:
    """Where an input stood in what was read: its file and line, or its Kafka topic,
    partition and offset (a batch holds inputs of one source)."""
    o = rejection.origin
    return (o.file or "", o.line or 0, o.topic or "", o.partition or 0, o.offset or 0)


def write(store: LedgerStore, side: SideRows, tracking: Tracking | None = None) -> None:
    """Insert `side`'s rows (its chained records sealed) and `tracking`, in one
    transaction. A unique key taken meanwhile (`IntegrityError`) is the caller's to judge."""
    try:
        store.recorder.insert_events([], side_rows=side, tracking=tracking)
    except IntegrityError:
        raise
    except PersistenceError as exc:
        raise failed(store.url, exc) from None


def append(
    store: LedgerStore,
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
    is a conflict, rejected naming `event_id` (`ledger.admission`). A concurrent writer
    that stored the same id first makes the transaction fail on the unique key; the
    batch is then classified again and retried.

    With `tracking` (an upstream position, e.g. a Kafka partition's offset), the
    position is recorded in the same transaction; a position not beyond the stored
    one fails the whole transaction, which is reported as `already_tracked`.
    """
    for _attempt in range(5):
        try:
            return _append_once(store, events, rejections, tracking, recorded_us)
        except IntegrityError:
            if tracking is not None:
                stored = store.tracked_position(tracking.application_name)
                if stored is not None and stored >= tracking.notification_id:
                    return AppendOutcome(already_tracked=True)
            continue
    raise StoreError("could not append a batch: it kept conflicting with a concurrent writer")


def _append_once(
    store: LedgerStore,
    events: Sequence[tuple[InboundEvent, Origin, bytes]],
    rejections: Sequence[Rejection],
    tracking: Tracking | None,
    recorded_us: int | None = None,
) -> AppendOutcome:
    outcome = AppendOutcome(rejected=list(rejections))
    rejected_us = to_us(datetime.now(UTC))
    # The record time is the seal's, under the write lock; only a rebuild replaying
    # the log gives it (`recorded_us`, each event's original record time).
    chain = ChainAppend(at_us=recorded_us)
    side = SideRows(chain=chain)
    spans: list[SpanRow] = []
    scopes: set[tuple[str, str, str]] = set()
    envelopes = [event.canonical() for event, _, _ in events]
    digests = [hashlib.sha256(envelope.encode()).hexdigest() for envelope in envelopes]
    offered = [
        (event.event_id, digest) for (event, _, _), digest in zip(events, digests, strict=True)
    ]
    verdicts = admit(offered, store.known_contents([event_id for event_id, _ in offered]))
    for (event, origin, raw), envelope, digest, verdict in zip(
        events, envelopes, digests, verdicts, strict=True
    ):
        if verdict == "duplicate":
            outcome.duplicates += 1
            continue
        if verdict == "conflict":
            outcome.rejected.append(
                Rejection(
                    raw=raw,
                    origin=origin,
                    field="event_id",
                    reason=conflict_reason(event.event_id),
                    event_id=event.event_id,
                )
            )
            continue
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
    add_subject_rows(side, spans, scopes, chain)
    # Conflicts are found here, after the batch's validation rejections: the rows
    # (and their `seq`) go in input order, so an exported fix file keeps it too.
    outcome.rejected.sort(key=input_position)
    rejected_rows = [
        (
            r.rejection_id,
            rejected_us,
            r.origin.rejection_json(),
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
        write(store, side, tracking)
    return outcome


def append_replayed(
    store: LedgerStore,
    events: Sequence[ReplayedEvent],
    spans: list[SpanRow],
    scopes: set[tuple[str, str, str]],
) -> None:
    """A rebuild's events, in one transaction: each keeps the record time it gives
    (the log's), and the subject index grows as at intake, from `spans` and `scopes`
    (`subject_of` of each event with its record time)."""
    chain = ChainAppend(
        replayed=list(events),
        replayed_topic=TOPIC_EVENT_ACCEPTED,
        replayed_records=not store.contents_elsewhere,
    )
    side = SideRows(chain=chain)
    add_subject_rows(side, spans, scopes, chain)
    write(store, side)


def record_close(
    store: LedgerStore,
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
    if period in store.closes():
        return False
    chain = _entry_chain(entries, closed_at, head)
    chain.records.append(
        PendingRecord(
            kind="close",
            fields={"period": period, "closed_us": to_us(closed_at)},
            originator_id=originator_of("close", period),
            topic=TOPIC_PERIOD_CLOSED,
        )
    )
    side = _with_bases(chain, entries)
    side.add(due_insert(period, head.position, due or {}))
    try:
        write(store, side)
    except IntegrityError:
        return False
    return True


def append_entries(store: LedgerStore, entries: Sequence[CreditEntry], head: ChainHead) -> None:
    """Append entries computed at chain head `head` (see `record_close`)."""
    if not entries:
        return
    try:
        chain = _entry_chain(entries, entries[0].recorded_at, head)
        write(store, _with_bases(chain, entries))
    except IntegrityError:
        # Another process appended the same deterministic entries first.
        return


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


def _with_bases(chain: ChainAppend, entries: Sequence[CreditEntry]) -> SideRows:
    """`chain`'s records and, beside them, the basis document of each entry that carries
    one (`sla_entry_bases`): committed together or not at all."""
    side = SideRows(chain=chain)
    bases = [(e.entry_id, e.basis_document) for e in entries if e.basis_document is not None]
    side.add(BulkInsert("sla_entry_bases", ENTRY_BASIS_COLUMNS, bases))
    return side


def append_alerts(store: LedgerStore, alerts: Sequence[Alert], head: ChainHead) -> list[Alert]:
    """Record alerts raised from figures computed at chain head `head`, in one
    transaction, chained in the order given; returns those this call recorded.

    They share one record time, which must be after the head's; if anything was recorded
    since `head`, `ChainMovedError` says to compute again (as for entries). An alert is
    raised once: one whose id is already recorded (or repeated in `alerts`) is left out.
    The unique key on `alert_id` is the last guard: should another process record one of
    these ids in between, this transaction fails on it and records nothing (an empty
    list; the other process has recorded them)."""
    if not alerts:
        return []
    at = alerts[0].recorded_at
    if any(a.recorded_at != at for a in alerts):
        raise ValueError("the alerts of one transaction share one record time")
    known = store.known_alert_ids([a.alert_id for a in alerts])
    fresh: dict[str, Alert] = {}
    for a in alerts:
        if a.alert_id not in known and a.alert_id not in fresh:
            fresh[a.alert_id] = a
    if not fresh:
        return []
    chain = ChainAppend(
        records=[
            PendingRecord(
                kind="alert",
                fields=alert_fields(a),
                originator_id=originator_of("alert", a.alert_id),
                topic=TOPIC_ALERT_RAISED,
            )
            for a in fresh.values()
        ],
        at_us=to_us(at),
        expected_position=head.position,
    )
    try:
        write(store, SideRows(chain=chain))
    except IntegrityError:
        return []
    return list(fresh.values())


def record_due(
    store: LedgerStore,
    period: str,
    computed_pos: int,
    due: dict[str, int | None],
    table: DueTable = "sla_due",
) -> None:
    """Set the due times of these contracts' rows of `period` in the due-time index
    `table` (`sla_due`: closed rows; `sla_alert_due`: provisional rows), computed at chain
    position `computed_pos` (None: none due). A due time computed at a later position is
    never replaced by one computed earlier."""
    cleared = sorted(c for c, us in due.items() if us is None)
    with store.transaction(commit=True) as cursor:
        for chunk in chunks(cleared):
            cursor.execute(
                to_dialect(
                    f"DELETE FROM {table} WHERE period = ? AND computed_pos <= ? AND "
                    f"contract_id IN ({placeholders(len(chunk))})",
                    store.dialect,
                ),
                [period, computed_pos, *chunk],
            )
        insert = due_insert(period, computed_pos, due, table)
        if insert.rows:
            if store.dialect == "sqlite":
                cursor.executemany(insert.sqlite(), insert.rows)
            else:
                statement, arrays = insert.postgresql()
                cursor.execute(statement, arrays)


def due_insert(
    period: str, computed_pos: int, due: dict[str, int | None], table: DueTable = "sla_due"
) -> BulkInsert:
    """The due-time rows of a period's contracts that have one, for the index `table`."""
    rows = [(period, c, us, computed_pos) for c, us in sorted(due.items()) if us is not None]
    return BulkInsert(table, DUE_COLUMNS, rows, due_newer(table))


def subject_of(
    event: InboundEvent,
    recorded_us: int | None,
    spans: list[SpanRow],
    scopes: set[tuple[str, str, str]],
) -> None:
    """Add what `event` says about where its subject matters: its span (with the record
    time its end became known, if it names one and that time is given) and its scopes."""
    subject_rows(event.subject_kind, event.subject_id, event.payload, recorded_us, spans, scopes)


def add_subject_rows(
    side: SideRows, spans: list[SpanRow], scopes: set[tuple[str, str, str]], chain: ChainAppend
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


def _span_insert(widest: Sequence[SpanRow], chain: ChainAppend) -> BulkInsert:
    """The spans of a sealed batch: an end known with no record time given is known from
    the batch's."""
    assert chain.sealed_head is not None
    at = chain.sealed_head.recorded_us
    rows = [(*span[:5], at if span[4] and span[5] == NOT_ENDED_US else span[5]) for span in widest]
    return BulkInsert("sla_subject_spans", SPAN_COLUMNS, rows, SPAN_WIDENING)


def _widest(spans: Sequence[SpanRow]) -> list[SpanRow]:
    """One span per subject: the union of a batch's spans, sorted for a stable lock order."""
    merged: dict[tuple[str, str], SpanRow] = {}
    for kind, subject, lo, hi, has_end, ended in spans:
        seen = merged.get((kind, subject))
        if seen is not None:
            lo, hi = min(lo, seen[2]), max(hi, seen[3])
            has_end, ended = max(has_end, seen[4]), min(ended, seen[5])
        merged[(kind, subject)] = (kind, subject, lo, hi, has_end, ended)
    return [merged[key] for key in sorted(merged)]
