"""The walk of `audit verify` along the hash chain (spec: `ledger/chain.py`), a page of
positions at a time, and the worker process that walks one range of it (`serve`).

At each position, in order, exactly one row must claim it; the link recomputed from the
previous link and the record's fields must equal the stored one; record times must not
go backwards; a close's checkpoint must equal the chain just before it; and the event
store's own record at that position (the eventsourcing table, whose notification id is
the chain position) must be the record's: an event's record holds its content (envelope
and origin, whose digest is its `content_sha256`), which the link covers byte for byte;
an entry's, a close's or an alert's must be the very bytes its row implies.

A range can be walked on its own, from the link and the record time stored at the
position before it: a position passes exactly when its record is sound, its stored link
is the link of the stored link before it and its record's digest, and its record time is
not earlier than the one before. When every position passes, the recomputed chain is
the stored one (by induction from the genesis); otherwise the first position that fails
is the one a single walk from the genesis names, with the same head before it. So
ranges are walked side by side, and their results joined in order (`verify`).

Pure but for `serve`, and free of the store's code (standard library, `ledger.chain`,
`chain_records` and `audit_pages` only): a worker process imports this module and starts in
milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from json.encoder import encode_basestring as esc
from typing import Any

from ledger.chain import EMPTY, RECORD_TIME, ChainHead, RecordKind, link, record_sha256
from projections.audit_pages import Claim, Page, PageQueries, Rows, read_link, read_page
from projections.chain_records import (
    CHAINED_TABLES,
    ORIGIN_START,
    RECORD_KEY,
    event_content,
    event_originator_hex,
    library_state,
    originator_of,
)


@dataclass(frozen=True)
class Finding:
    position: int
    problem: str


@dataclass(frozen=True)
class Walked:
    """Where a walk got to: the chain at the last position that verified, how many
    closes' checkpoints matched on the way, and what is wrong at the next position."""

    head: ChainHead
    closes: int
    finding: Finding | None


def _describe(kind: RecordKind, fields: Mapping[str, Any]) -> str:
    return f"{kind} {fields[RECORD_KEY[kind]]} (table {CHAINED_TABLES[kind]})"


def _library_problem(
    kind: RecordKind, fields: Mapping[str, Any], record: tuple[Any, Any]
) -> str | None:
    """What is wrong with the event store's record of a row, if anything. An event's
    state is its content, which the link covers: here only its shape counts."""
    state, originator = record
    what = _describe(kind, fields)
    if state is None:
        return f"{what}: missing from the event store"
    key = str(fields[RECORD_KEY[kind]])
    if originator is None or str(originator) != originator_of(kind, key).hex:
        return f"{what}: the event store's copy differs (its topic, id or version)"
    if kind != "event" and _bytes(state) != library_state(kind, fields):
        return f"{what}: the event store's copy differs"
    return None


def _bytes(state: Any) -> bytes | None:
    """A record's state as bytes; None if it is not binary (a value edited in as text)."""
    return bytes(state) if isinstance(state, bytes | bytearray | memoryview) else None


def check_position(
    position: int, claims: list[Claim], previous: ChainHead
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
        state = _bytes(record[0])
        content = None if state is None else event_content(state)
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


def _event_claim(row: tuple[Any, ...]) -> Claim:
    pos, event_id, type_, kind, subject, occurred, recorded, chain_sha, state, originator = row
    fields = {
        "event_id": event_id,
        "type": type_,
        "subject_kind": kind,
        "subject_id": subject,
        "occurred_at": occurred,
        "recorded_us": recorded,
        "chain_pos": pos,
        "chain_sha256": chain_sha,
    }
    return "event", fields, (state, originator)


_sha256 = hashlib.sha256
_ORIGIN = ORIGIN_START
_OPEN = b"["[0]


def consecutive_events(
    rows: list[tuple[Any, ...]], head: ChainHead, anchors: Mapping[int, str]
) -> tuple[ChainHead, int | None]:
    """The fast path: a page of events only, each at the position after the one before,
    the first right after `head`.

    Returns the head after the last event that verified, and the position of the first
    that did not (None: all did); the general path then names its problem. This is
    `check_position` unrolled for one kind, which is nearly every record: the encoding is
    the plain fields as JSON followed by the record's own bytes (`ledger.chain.encoding`),
    and the database has compared the record's topic and version already.
    """
    previous, previous_us = head.sha256, head.recorded_us
    position = head.position
    sha256, originator_hex, origin, opening = _sha256, event_originator_hex, _ORIGIN, _OPEN
    try:
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
            originator,
        ) in rows:
            if type(recorded) is not int or type(state) is not bytes:
                break
            cut = state.rfind(origin)
            if cut < 1 or state[0] != opening or originator != originator_hex(event_id):
                break
            # The chain's encoding of an event (`ledger.chain.encoding`), written out:
            # `esc` is the JSON encoder's own string escaping, and refuses a non-string.
            plain = (
                f'["event",{pos},{esc(event_id)},{esc(type_)},{esc(kind)},{esc(subject)},'
                f'{esc(occurred)},{recorded},"{sha256(state[1:cut]).hexdigest()}",'
            )
            digest = sha256(plain.encode() + state[1:]).hexdigest()
            recomputed = sha256(f"{previous}\n{digest}".encode()).hexdigest()
            if recomputed != chain_sha or recorded < previous_us:
                break
            if pos in anchors and anchors[pos] != recomputed:
                break
            position, previous, previous_us = pos, recomputed, recorded
        else:
            return ChainHead(position, previous, previous_us), None
    except (TypeError, AttributeError):  # a value not of the chain's types: named below
        pass
    return ChainHead(position, previous, previous_us), position + 1


PageReader = Callable[[int, int], Page]


def walk(
    page: PageReader,
    after: int,
    through: int,
    head: ChainHead,
    anchors: Mapping[int, str],
    page_size: int,
) -> Walked:
    """Walk the positions `after < p <= through` from `head` (the chain at `after`),
    reading `page_size` positions at a time: memory does not grow with the chain."""
    closes = 0
    for start in range(after, through, page_size):
        stop = min(start + page_size, through)
        events, others = page(start, stop)
        first = start + 1  # the first position of the page to go the general way
        if not others and [row[0] for row in events] == list(range(start + 1, stop + 1)):
            head, failed = consecutive_events(events, head, anchors)
            if failed is None:
                continue
            # Only the records from the failed one on go the general way (to be named).
            events = [row for row in events if row[0] >= failed]
            first = failed
        by_position: dict[int, list[Claim]] = defaultdict(list)
        for row in events:
            by_position[int(row[0])].append(_event_claim(row))
        for claim in others:
            by_position[int(claim[1]["chain_pos"])].append(claim)
        for position in range(first, stop + 1):
            claims = by_position.get(position, [])
            problem, recomputed = check_position(position, claims, head)
            if problem is None and position in anchors and anchors[position] != recomputed:
                problem = "the chain here differs from the checkpoint given"
            if problem is not None:
                return Walked(head, closes, Finding(position, problem))
            kind, fields, _ = claims[0]
            closes += kind == "close"
            head = ChainHead(position, recomputed, int(fields[RECORD_TIME[kind]]))
    return Walked(head, closes, None)


# -- the worker process ------------------------------------------------------------
#
# A worker reads lines of JSON on its standard input: first the database (a SQLite URI
# that never writes) with the statements and the page size, then one range a line
# (`after`, `through` and the checkpoints inside it); it answers each range with a line,
# its `RangeReport`, and stops at the end of its input. Every range it walks is read in
# one snapshot (one read transaction, begun with its first range).


def worker_header(database: str, queries: PageQueries, page_size: int) -> bytes:
    return (
        json.dumps({"database": database, "queries": asdict(queries), "page_size": page_size})
        + "\n"
    ).encode()


def worker_range(after: int, through: int, anchors: Mapping[int, str]) -> bytes:
    inside = [[p, d] for p, d in anchors.items() if after < p <= through]
    return (json.dumps([after, through, inside]) + "\n").encode()


@dataclass(frozen=True)
class RangeReport:
    """What a worker found in a range: the link and the record time it read at the
    position before it (None: not exactly one row claims that position, and it walked
    nothing), and where its walk from there got to."""

    seed: tuple[str, int] | None
    walked: Walked | None

    def dumps(self) -> str:
        walked = self.walked
        if self.seed is None or walked is None:
            return json.dumps({"seed": None}) + "\n"
        head, finding = walked.head, walked.finding
        return (
            json.dumps(
                {
                    "seed": self.seed,
                    "head": [head.position, head.sha256, head.recorded_us],
                    "closes": walked.closes,
                    "finding": None if finding is None else [finding.position, finding.problem],
                }
            )
            + "\n"
        )

    @staticmethod
    def loads(text: bytes) -> RangeReport:
        """A report a worker wrote (ValueError, KeyError or TypeError if it is not one)."""
        found = json.loads(text)
        seed = found["seed"]
        if seed is None:
            return RangeReport(None, None)
        position, sha, recorded = found["head"]
        finding = found["finding"]
        walked = Walked(
            ChainHead(int(position), str(sha), int(recorded)),
            int(found["closes"]),
            None if finding is None else Finding(int(finding[0]), str(finding[1])),
        )
        return RangeReport((str(seed[0]), int(seed[1])), walked)


def walk_range(
    rows: Rows,
    queries: PageQueries,
    after: int,
    through: int,
    anchors: Mapping[int, str],
    page_size: int,
) -> RangeReport:
    """Walk `after < p <= through` from the link stored at `after`, as a worker does."""
    seed = read_link(rows, queries, after)
    if seed is None:
        return RangeReport(None, None)
    head = ChainHead(after, *seed) if after else EMPTY

    def page(start: int, stop: int) -> Page:
        return read_page(rows, queries, start, stop)

    return RangeReport(seed, walk(page, after, through, head, anchors, page_size))


def serve() -> None:
    """A worker process's main (see above)."""
    given = json.loads(sys.stdin.buffer.readline())
    queries = PageQueries.from_json(given["queries"])
    page_size = int(given["page_size"])
    connection = sqlite3.connect(given["database"], uri=True, isolation_level=None)
    try:
        connection.execute("BEGIN")  # one snapshot for every range

        def rows(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            return connection.execute(statement, params).fetchall()

        for line in sys.stdin.buffer:
            after, through, inside = json.loads(line)
            anchors = {int(p): str(d) for p, d in inside}
            report = walk_range(rows, queries, int(after), int(through), anchors, page_size)
            sys.stdout.write(report.dumps())
            sys.stdout.flush()
    finally:
        connection.close()
