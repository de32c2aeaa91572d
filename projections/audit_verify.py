"""`audit verify`: recompute the hash chain from the stored rows and name the first
position that does not match (spec: `ledger/chain.py`).

At each position, in order, exactly one row must claim it; the link recomputed from the
previous link and the record's fields must equal the stored one; record times must not
go backwards; a close's checkpoint must equal the chain just before it; and the event
store's own record at that position (the eventsourcing table, whose notification id is
the chain position) must be the record's: an event's record holds its content (envelope
and origin, whose digest is its `content_sha256`), which the link covers byte for byte;
an entry's or a close's must be the very bytes its row implies. After the last position,
the head the writers keep must agree with where the chain ends, and the event store must
hold no record the chain lacks. Checkpoints kept elsewhere (`--checkpoint POS:SHA`) are
compared too: only they can reveal a history rewritten consistently from its start by
someone who can write every table.

The chain is read in pages of positions (memory does not grow with the store), and an
event costs two digests and a few comparisons: its envelope is not parsed again, since
whether it is a valid event is the intake's question, and the link already proves it is
the one accepted. The projections derived from the events (the span table, the event
index's derived columns, the entries) are `audit rebuild`'s to compare.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from json.encoder import encode_basestring as esc
from typing import Any

from ledger.chain import GENESIS, RECORD_TIME, ChainHead, RecordKind, link, record_sha256
from ledger.errors import StoreError
from ledger.wording import counted
from projections.store import LedgerStore
from projections.store.chain_append import event_content, library_state
from projections.store.ledger_store import (
    EVENT_NAMESPACE,
    RECORD_KEY,
    TOPIC_CREDIT_ENTRY,
    TOPIC_EVENT_ACCEPTED,
    TOPIC_PERIOD_CLOSED,
    originator_of,
)
from projections.store.schema import CHAINED_TABLES

CHUNK = 5_000  # positions read per round trip


@dataclass(frozen=True)
class Finding:
    position: int
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    records: int  # positions verified before the first finding (all, if none)
    head: ChainHead  # the recomputed chain at its last good position
    closes: int  # checkpoints of closes that matched
    finding: Finding | None
    # The database's own integrity (SQLite's quick_check): None when it passed or, on
    # PostgreSQL, when there is no such check (`database_checked` False).
    damage: str | None = None
    database_checked: bool = False
    # The checkpoints given (`--checkpoint`) the chain was found to pass through.
    checkpoints_matched: tuple[tuple[int, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.finding is None and self.damage is None


TOPICS: dict[RecordKind, str] = {
    "event": TOPIC_EVENT_ACCEPTED,
    "entry": TOPIC_CREDIT_ENTRY,
    "close": TOPIC_PERIOD_CLOSED,
}
_NAMESPACE = EVENT_NAMESPACE.bytes
_sha256 = hashlib.sha256
_sha1 = hashlib.sha1
# A library record as read: state, topic, originator id (32 hex digits), version.
Record = tuple[Any, Any, Any, Any]


def event_originator_hex(event_id: str) -> str:
    """`originator_of("event", event_id).hex`, computed without building UUID objects
    (it runs once per event): the name-based UUID (version 5) of RFC 4122."""
    digest = bytearray(_sha1(_NAMESPACE + event_id.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


def _describe(kind: RecordKind, fields: Mapping[str, Any]) -> str:
    return f"{kind} {fields[RECORD_KEY[kind]]} (table {CHAINED_TABLES[kind]})"


def _library_problem(kind: RecordKind, fields: Mapping[str, Any], record: Record) -> str | None:
    """What is wrong with the event store's record of a row, if anything. An event's
    state is its content, which the link covers: here only its shape counts."""
    state, topic, originator, version = record
    what = _describe(kind, fields)
    if state is None:
        return f"{what}: missing from the event store"
    key = str(fields[RECORD_KEY[kind]])
    if (
        topic != TOPICS[kind]
        or version is None
        or int(version) != 1
        or str(originator) != originator_of(kind, key).hex
    ):
        return f"{what}: the event store's copy differs (its topic, id or version)"
    if kind != "event" and bytes(state) != library_state(kind, fields):
        return f"{what}: the event store's copy differs"
    return None


def _check(
    position: int,
    claims: list[tuple[RecordKind, dict[str, Any], Record]],
    previous: ChainHead,
) -> tuple[str | None, str]:
    """(problem or None, recomputed link) of one position: the general case, for a page
    that holds anything but consecutive events."""
    if not claims:
        return "no record holds this position: a record was deleted", previous.sha256
    if len(claims) > 1:
        named = ", ".join(_describe(kind, fields) for kind, fields, _ in claims)
        return f"{len(claims)} records claim this position ({named}): one was inserted", ""
    kind, fields, record = claims[0]
    what = _describe(kind, fields)
    problem = _library_problem(kind, fields, record)
    if problem is not None:
        return problem, ""
    if kind == "event":
        content = event_content(bytes(record[0]))
        if content is None:
            return f"{what}: its record in the event store is not [envelope, origin]", ""
        fields = {
            **fields,
            "envelope": content[0],
            "origin": content[1],
            "content_sha256": _sha256(content[0].encode()).hexdigest(),
        }
    recomputed = link(previous.sha256, record_sha256(kind, position, fields))
    if recomputed != fields["chain_sha256"]:
        return f"{what}: its fields do not give its recorded link: edited or inserted", ""
    if int(fields[RECORD_TIME[kind]]) < previous.recorded_us:
        return f"{what}: its record time is earlier than the record before it", ""
    if kind == "close" and (
        int(fields["checkpoint_pos"]) != position - 1
        or fields["checkpoint_sha256"] != previous.sha256
    ):
        return f"{what}: its checkpoint does not match the chain before it", ""
    return None, recomputed


def _event_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    pos, event_id, type_, kind, subject, occurred, recorded, chain_sha = row[:8]
    return {
        "event_id": event_id,
        "type": type_,
        "subject_kind": kind,
        "subject_id": subject,
        "occurred_at": occurred,
        "recorded_us": recorded,
        "chain_pos": pos,
        "chain_sha256": chain_sha,
    }


def _consecutive_events(
    rows: list[tuple[Any, ...]], head: ChainHead, anchors: Mapping[int, str]
) -> tuple[ChainHead, int | None]:
    """The fast path: a page of events only, at consecutive positions after `head`.

    Returns the head after the last event that verified, and the position of the first
    that did not (None: all did); the general path then names its problem. This is
    `_check` unrolled for one kind, which is nearly every record: the encoding is the
    plain fields as JSON followed by the record's own bytes (`ledger.chain.encoding`).
    """
    previous, previous_us = head.sha256, head.recorded_us
    position = head.position
    sha256, originator_hex, topic_event = _sha256, event_originator_hex, TOPIC_EVENT_ACCEPTED
    for (
        pos,
        event_id,
        type_,
        kind,
        subject,
        occurred,
        recorded,
        chain_sha,
        state,
        topic,
        originator,
        version,
    ) in rows:
        if state is None or topic != topic_event or version != 1 or type(recorded) is not int:
            break
        state = bytes(state)
        cut = state.rfind(b',{"')
        if state[:1] != b"[" or cut < 1 or originator != originator_hex(event_id):
            break
        try:
            # The chain's encoding of an event (`ledger.chain.encoding`), written out:
            # `esc` is the JSON encoder's own string escaping, and refuses a non-string.
            plain = (
                f'["event",{pos},{esc(event_id)},{esc(type_)},{esc(kind)},{esc(subject)},'
                f'{esc(occurred)},{recorded},"{sha256(state[1:cut]).hexdigest()}",'
            )
        except TypeError:
            break
        digest = sha256(plain.encode() + state[1:]).hexdigest()
        recomputed = sha256(f"{previous}\n{digest}".encode()).hexdigest()
        if recomputed != chain_sha or recorded < previous_us:
            break
        if pos in anchors and anchors[pos] != recomputed:
            break
        position, previous, previous_us = pos, recomputed, recorded
    else:
        return ChainHead(position, previous, previous_us), None
    return ChainHead(position, previous, previous_us), position + 1


def verify(store: LedgerStore, checkpoints: Mapping[int, str] | None = None) -> VerifyResult:
    """Verify the chain as the store stands at one moment (writers may go on meanwhile)."""
    # The database's own check too: a damaged file's chain may read as intact while
    # reports, rebuilds and exports stop with "database disk image is malformed". A chain
    # finding is the more precise (a row forged past a CHECK constraint fails both); a
    # file too damaged to read the chain from is reported as damaged. It runs beside the
    # chain's walk, on a connection of its own (SQLite's check does not hold the GIL).
    with ThreadPoolExecutor(max_workers=1) as beside:
        integrity = beside.submit(store.integrity, separate=True)
        with store.snapshot():
            try:
                result = _verify(store, checkpoints)
            except StoreError:
                checked, damage = integrity.result()
                if damage is None:
                    raise
                return VerifyResult(0, ChainHead(0, GENESIS, 0), 0, None, damage, checked)
        checked, damage = integrity.result()
        return replace(result, damage=damage, database_checked=checked)


def _verify(store: LedgerStore, checkpoints: Mapping[int, str] | None) -> VerifyResult:
    anchors = dict(checkpoints or {})
    end = store.chain_end()
    head = ChainHead(0, GENESIS, 0)
    closes = 0

    def result(finding: Finding | None) -> VerifyResult:
        matched = tuple(sorted((p, d) for p, d in anchors.items() if 1 <= p <= head.position))
        return VerifyResult(head.position, head, closes, finding, checkpoints_matched=matched)

    before = sorted(p for p in anchors if p < 1)
    if before:  # the parser refuses these; a caller passing one gets a finding, not a pass
        return result(Finding(before[0], "a checkpoint before position 1: no record has it"))
    start = store.min_chain_position()
    if start is not None and start < 1:
        return result(
            Finding(start, "a row claims a position before the chain's first: it was inserted")
        )

    for after in range(0, end, CHUNK):
        through = min(after + CHUNK, end)
        events, others = store.chain_page(after, through)
        if not others and len(events) == through - after and events[0][0] == after + 1:
            head, failed = _consecutive_events(events, head, anchors)
            if failed is None:
                continue
            # Only the records from the failed one on go the general way (to be named).
            events = [row for row in events if row[0] >= failed]
            after = failed - 1
        by_position: dict[int, list[tuple[RecordKind, dict[str, Any], Record]]] = defaultdict(list)
        for row in events:
            by_position[int(row[0])].append(("event", _event_fields(row), row[8:12]))
        for kind, fields, record in others:
            by_position[int(fields["chain_pos"])].append((kind, fields, record))
        for position in range(after + 1, through + 1):
            claims = by_position.get(position, [])
            problem, recomputed = _check(position, claims, head)
            if problem is None and position in anchors and anchors[position] != recomputed:
                problem = "the chain here differs from the checkpoint given"
            if problem is not None:
                return result(Finding(position, problem))
            kind, fields, _ = claims[0]
            closes += kind == "close"
            head = ChainHead(position, recomputed, int(fields[RECORD_TIME[kind]]))

    stored_head = store.chain_head()
    if (stored_head.position, stored_head.sha256) != (head.position, head.sha256):
        if stored_head.position > head.position:
            problem = (
                f"the writers' head is at position {stored_head.position} but the chain "
                f"ends at {head.position}: the records after it were deleted"
            )
            return result(Finding(head.position + 1, problem))
        problem = f"the writers' head ({stored_head.checkpoint}) does not match the chain"
        return result(Finding(head.position, problem))
    beyond = sorted(p for p in anchors if p > head.position)
    if beyond:
        return result(
            Finding(beyond[0], f"the chain ends at {head.position}, before this checkpoint")
        )
    extra = store.library_count() - head.position
    if extra > 0:
        return result(
            Finding(
                head.position + 1,
                f"the event store holds {counted(extra, 'record')} in no chained table: "
                "inserted, or their rows deleted",
            )
        )
    return result(None)
