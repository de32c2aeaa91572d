"""What `audit rebuild` derives again from each event record of the log.

Its index columns, its eventsourcing originator id, its span, its scopes and its record's
digest in the chain, with the intake's own rules (`subject_rows`, `event_originator_hex`,
`event_record_sha256`), from the record alone: the envelope is parsed once, and nothing
is built per event beyond the tuples the scratch store is written from.

Pure and light (the standard library, `ledger`, and the store-free `chain_records` and
`subject_rules`), so that a rebuild derives the events in a worker process (`serve`)
that starts in milliseconds, beside the process writing the scratch store. The worker is
handed the very records that process read from the log, in its snapshot, and derives
them with these same functions.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from ledger.chain import FIELDS, event_record_sha256
from ledger.events import EVENT_TYPES
from ledger.timeformat import parse_utc
from projections.chain_records import TOPIC_EVENT_ACCEPTED as EVENT
from projections.chain_records import event_content, event_originator_hex
from projections.subject_rules import Span, subject_rows

# The index row (`sla_events`) holds the event's fields in the chain's order: the
# derived columns first, then the record time.
INDEXED = FIELDS["event"].index("recorded_us")
IndexColumns = tuple[str, str, str, str, str]  # event_id, type, subject kind and id, occurred
# An event derived again: its index columns when they differ from the live row's (None:
# equal, and the live row's are then used as they are), its record's digest in the chain
# at its position (`event_record_sha256`, over the columns derived and the record as it
# stands), originator id (32 hex digits), span (None: the event names no instant) and
# scopes.
Derivation = tuple[IndexColumns | None, str, str, Span | None, tuple[tuple[str, str, str], ...]]
# A record of the log: position, topic, state, index row (an event's `sla_events` row at
# that position; None: there is none).
LogRecord = tuple[int, str, bytes, tuple[Any, ...] | None]
# An event record of the log: position, state, index row.
EventRecord = tuple[int, bytes, tuple[Any, ...] | None]


class ReplayError(Exception):
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
    spans: list[Span] = []
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


def derive_page(records: Sequence[EventRecord]) -> list[Derivation | str | None]:
    """`derive` of each record: its derivation, or the message of the `ReplayError` it
    raises, or None if it raises anything else (the caller derives that one again, and
    so raises it itself)."""
    derived: list[Derivation | str | None] = []
    for position, state, index in records:
        try:
            derived.append(derive(position, state, index))
        except ReplayError as exc:
            derived.append(str(exc))
        except Exception:  # raised again where it is derived again
            derived.append(None)
    return derived


def serve() -> None:
    """A worker process's main. Its first line of input names a directory; each line
    after it, a page `N`, whose records (a pickled list of log records: position,
    topic, state, index row) the file `in-N` there holds. The worker takes the file (a
    rename: the process that handed it over may have taken it back to derive the page
    itself, and the worker then answers `N -`), writes the derivations of the page's
    events (`derive_page`, pickled) to `out-N`, and answers `N` on its output. It stops
    at the end of its input. It runs at the lowest priority: it only uses a CPU nothing
    else wants."""
    if hasattr(os, "nice"):
        with suppress(OSError):
            os.nice(19)
    gc.disable()  # a derivation makes no reference cycles: nothing for it to collect
    lines = iter(sys.stdin.buffer.readline, b"")
    directory = Path(next(lines).decode().strip())
    for line in lines:
        page = line.strip().decode()
        given, taken = directory / f"in-{page}", directory / f"work-{page}"
        try:
            given.rename(taken)
        except FileNotFoundError:
            sys.stdout.buffer.write(f"{page} -\n".encode())
            sys.stdout.buffer.flush()
            continue
        records = pickle.loads(taken.read_bytes())
        taken.unlink()
        derived = derive_page(
            [(pos, state, index) for pos, kind, state, index in records if kind == EVENT]
        )
        (directory / f"out-{page}").write_bytes(pickle.dumps(derived, pickle.HIGHEST_PROTOCOL))
        sys.stdout.buffer.write(f"{page}\n".encode())
        sys.stdout.buffer.flush()
