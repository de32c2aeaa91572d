"""`audit verify`: recompute the hash chain from the stored rows and name the first
position that does not match (spec: `ledger/chain.py`).

At each position, in order, exactly one row must claim it; an event's envelope must
still hash to its `content_sha256`; the link recomputed from the previous link and the
row's fields must equal the stored one; record times must not go backwards; a close's
checkpoint must equal the chain just before it; and the event store's own copy of the
record (the eventsourcing table) must be the very bytes the row implies. After the last
position, the head the writers keep must agree with where the chain ends, and the
event store must hold no record the chain lacks, and the span table (which decides
what a report reads) must hold exactly the spans the events give. Checkpoints kept elsewhere
(`--checkpoint POS:SHA`) are compared too: only they can reveal a history rewritten
consistently from its start by someone who can write every table.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ledger.chain import GENESIS, RECORD_TIME, ChainHead, RecordKind, link, record_sha256
from ledger.errors import StoreError
from ledger.events import InboundEvent
from ledger.inbound import RejectedInputError, require_object
from ledger.strict_json import parse_strict_json
from ledger.wording import counted
from projections.store import LedgerStore
from projections.store.chain_append import library_state
from projections.store.ledger_store import RECORD_KEY, originator_of, span_of
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


def _describe(kind: RecordKind, fields: Mapping[str, Any]) -> str:
    return f"{kind} {fields[RECORD_KEY[kind]]} (table {CHAINED_TABLES[kind]})"


def _check(
    position: int, claims: list[tuple[RecordKind, dict[str, Any]]], previous: ChainHead
) -> tuple[str | None, str]:
    """(problem or None, recomputed link) of one position."""
    if not claims:
        return "no record holds this position: a record was deleted", previous.sha256
    if len(claims) > 1:
        named = ", ".join(_describe(kind, fields) for kind, fields in claims)
        return f"{len(claims)} records claim this position ({named}): one was inserted", ""
    kind, fields = claims[0]
    what = _describe(kind, fields)
    if kind == "event":
        actual = hashlib.sha256(str(fields["envelope"]).encode()).hexdigest()
        if actual != fields["content_sha256"]:
            return f"{what}: its envelope no longer hashes to its content_sha256: edited", ""
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


class _Spans:
    """The span each subject's events give (what `sla_subject_spans` must hold, since
    reports read only the subjects it places near a period), and where each subject
    first appears in the chain."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], tuple[int, int, int]] = {}
        self.first: dict[tuple[str, str], int] = {}

    def add(self, position: int, envelope: str) -> None:
        # A tampered store is untrusted input: the strict parser (no recursion into
        # a nested forgery), and an envelope that is not one fails its link anyway.
        try:
            event = InboundEvent.from_envelope(require_object(parse_strict_json(envelope.encode())))
            span = span_of(event)
        except (RejectedInputError, ValueError, KeyError, TypeError, ArithmeticError):
            return
        if span is None:
            return
        key = (event.subject_kind, event.subject_id)
        seen = self.expected.get(key)
        if seen is not None:
            span = (min(span[0], seen[0]), max(span[1], seen[1]), max(span[2], seen[2]))
        self.expected[key] = span
        self.first.setdefault(key, position)

    def finding(self, stored: Mapping[tuple[str, str], tuple[int, int, int]]) -> Finding | None:
        wrong = [key for key, span in self.expected.items() if stored.get(key) != span]
        if not wrong:
            return None
        key = min(wrong, key=lambda k: self.first[k])
        return Finding(
            self.first[key],
            f"the span of {key[0]} {key[1]} in sla_subject_spans is {stored.get(key)}, "
            f"its events give {self.expected[key]}: reports would miss or misplace it "
            "(the span was deleted or narrowed); the position is its first event",
        )


def verify(store: LedgerStore, checkpoints: Mapping[int, str] | None = None) -> VerifyResult:
    """Verify the chain as the store stands at one moment (writers may go on meanwhile)."""
    with store.snapshot():
        # The database's own check too: a damaged file's chain may read as intact while
        # reports, rebuilds and exports stop with "database disk image is malformed". A
        # chain finding is the more precise (a row forged past a CHECK constraint fails
        # both); a file too damaged to read the chain from is reported as damaged.
        checked, damage = store.integrity()
        try:
            result = _verify(store, checkpoints)
        except StoreError:
            if damage is None:
                raise
            return VerifyResult(0, ChainHead(0, GENESIS, 0), 0, None, damage, checked)
        return replace(result, damage=damage, database_checked=checked)


def _verify(store: LedgerStore, checkpoints: Mapping[int, str] | None) -> VerifyResult:
    anchors = dict(checkpoints or {})
    end = store.chain_end()
    head = ChainHead(0, GENESIS, 0)
    closes = 0
    spans = _Spans()

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
        rows = store.chain_rows(after, through)
        by_position: dict[int, list[tuple[RecordKind, dict[str, Any]]]] = defaultdict(list)
        for kind, fields in rows:
            by_position[int(fields["chain_pos"])].append((kind, fields))
        copies = store.library_states(
            [originator_of(kind, str(fields[RECORD_KEY[kind]])) for kind, fields in rows]
        )
        for position in range(after + 1, through + 1):
            claims = by_position.get(position, [])
            problem, recomputed = _check(position, claims, head)
            if problem is None:
                kind, fields = claims[0]
                copy = copies.get(originator_of(kind, str(fields[RECORD_KEY[kind]])))
                if copy is None:
                    problem = f"{_describe(kind, fields)}: missing from the event store"
                elif copy != library_state(kind, fields):
                    problem = f"{_describe(kind, fields)}: the event store's copy differs"
                elif position in anchors and anchors[position] != recomputed:
                    problem = "the chain here differs from the checkpoint given"
            if problem is not None:
                return result(Finding(position, problem))
            kind, fields = claims[0]
            closes += kind == "close"
            if kind == "event":
                spans.add(position, str(fields["envelope"]))
            head = ChainHead(position, recomputed, int(fields[RECORD_TIME[kind]]))

    span_finding = spans.finding(store.subject_spans())
    if span_finding is not None:
        return result(span_finding)
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
