"""Records joining the hash chain in one transaction, sealed under the write lock.

A writer prepares its records without positions; the recorder, holding the write lock,
reads the chain head and calls `seal`, which gives each record its position, its link
and (for accepted events) its record time, and returns the table rows and the
eventsourcing records to insert. Because this happens under the lock, positions follow
commit order, and record times never go backwards along the chain: a question "as of T"
is always a prefix of the chain.

Credit entries, closes and alerts carry a record time chosen by the caller, who computed
their figures from exactly the records up to a head it read (`expected_position`). If the
chain moved on in between, those figures might miss an event recorded before the
entries: `seal` refuses with `ChainMovedError`, and the caller computes again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from ledger.chain import ChainHead, RecordKind, link, record_sha256
from ledger.errors import ChainMovedError
from projections.chain_records import event_content as event_content
from projections.chain_records import library_state as library_state
from projections.store.schema import (
    ALERT_COLUMNS,
    CHAINED_TABLES,
    CLOSE_COLUMNS,
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
)

COLUMNS: dict[RecordKind, tuple[tuple[str, str], ...]] = {
    "event": EVENT_COLUMNS,
    "entry": ENTRY_COLUMNS,
    "close": CLOSE_COLUMNS,
    "alert": ALERT_COLUMNS,
}
# A record's table row, in column order, from its fields.
ROW_OF = {kind: itemgetter(*(name for name, _ in columns)) for kind, columns in COLUMNS.items()}


# An event replayed from the log by a rebuild, derived again from its record: event_id,
# type, subject_kind, subject_id, occurred_at, recorded_us (the log's record time), the
# record's digest in the chain at the position it is replayed at (`event_record_sha256`
# of these fields and the record), the record itself (`[envelope,origin]`, its bytes as
# the log holds them; None when the store does not keep them, `replayed_records`) and its
# originator id (32 hex digits). A tuple: a rebuild seals every event.
ReplayedEvent = tuple[str, str, str, str, str, int, str, bytes | None, str]
# An eventsourcing record to insert: originator id (a UUID, or 32 hex digits), topic,
# state. Its version is always 1 and its notification id its chain position.
LibraryRecord = tuple[uuid.UUID | str, str, bytes]


@dataclass(frozen=True, slots=True)
class PendingRecord:
    kind: RecordKind
    fields: dict[str, Any]  # every field of FIELDS[kind] except those `seal` fills in
    originator_id: uuid.UUID
    topic: str


@dataclass
class ChainAppend:
    """The chained records of one transaction, in chain order.

    `at_us`: the record time of entries, closes and alerts (None for a batch of events,
    which get the time of the seal). `expected_position`: the head their figures were
    computed at (None: events, which depend on nothing before them).
    """

    records: list[PendingRecord] = field(default_factory=list)
    at_us: int | None = None
    expected_position: int | None = None
    sealed_head: ChainHead | None = None
    # A rebuild replaying the log: its events instead of `records`, each keeping the
    # record time it was given (the log's), which must not go back; several original
    # transactions then seal as one. `replayed_topic`: their records' topic.
    replayed: list[ReplayedEvent] = field(default_factory=list)
    replayed_topic: str = ""
    # Whether the replayed events' eventsourcing records are written too (False: the
    # store reads their contents from the store replayed, `LedgerStore(contents_of=)`).
    replayed_records: bool = True

    def seal(
        self, head: ChainHead, now_us: int, insert: Callable[[str, tuple[Any, ...]], None]
    ) -> list[LibraryRecord]:
        """Give each record its place after `head`; `insert(table, row)` receives the rows."""
        if self.replayed:
            return self._seal_replayed(head, insert)
        if self.expected_position is not None and head.position != self.expected_position:
            raise ChainMovedError(
                f"the chain moved from position {self.expected_position} to {head.position}"
            )
        if self.at_us is not None and self.at_us <= head.recorded_us:
            raise ChainMovedError("the record time is not after the chain head's")
        # Every transaction's records come strictly after everything before them (whatever
        # the writers' clocks say): a moment is always a whole transaction boundary, so
        # "as of T" never holds half of one, nor an event an entry's figures did not see.
        # Entries and closes carry the moment they were computed for.
        at = max(now_us, head.recorded_us + 1) if self.at_us is None else self.at_us
        position, previous = head.position, head.sha256
        stored: list[LibraryRecord] = []
        for record in self.records:
            position += 1
            fields = record.fields
            if record.kind == "event":
                fields["recorded_us"] = at
            elif record.kind == "close":
                fields["checkpoint_pos"] = position - 1
                fields["checkpoint_sha256"] = previous
            previous = link(previous, record_sha256(record.kind, position, fields))
            fields["chain_pos"] = position
            fields["chain_sha256"] = previous
            insert(CHAINED_TABLES[record.kind], ROW_OF[record.kind](fields))
            stored.append((record.originator_id, record.topic, library_state(record.kind, fields)))
        self.sealed_head = ChainHead(position, previous, at)
        return stored

    def _seal_replayed(
        self, head: ChainHead, insert: Callable[[str, tuple[Any, ...]], None]
    ) -> list[LibraryRecord]:
        """`seal` of a rebuild's events: the same links, from tuples, as every event of
        the log passes here. Each record's digest (`record_sha256` of an event, which
        `event_record_sha256` computes from its fields and record) comes with it, computed
        for the position it takes here (the rebuild derives each event for the position
        it has in the log, and replays the log in order from an empty chain)."""
        position, previous, last_us = head.position, head.sha256, head.recorded_us
        table, topic = CHAINED_TABLES["event"], self.replayed_topic
        keep = self.replayed_records  # else the records are not inserted: none are kept
        stored: list[LibraryRecord] = []
        for (
            event_id,
            type_,
            kind,
            subject,
            occurred,
            recorded_us,
            digest,
            record,
            originator,
        ) in self.replayed:
            position += 1
            if recorded_us < last_us:
                raise ValueError(
                    f"the record time of position {position} is earlier than the one before"
                )
            last_us = recorded_us
            previous = link(previous, digest)
            insert(
                table, (event_id, type_, kind, subject, occurred, recorded_us, position, previous)
            )
            if keep:
                if record is None:
                    raise ValueError(f"position {position}: the event's record was not given")
                stored.append((originator, topic, record))
        self.sealed_head = ChainHead(position, previous, last_us)
        return stored
