"""The hash chain: tamper evidence over every accepted event, close, credit entry and alert.

Every record the ledger keeps as history gets a position `1, 2, 3, ...` in one chain, in
commit order. Its link is

    record_sha256(p) = SHA-256( encoding(p) )
    chain_sha256(p)  = SHA-256( chain_sha256(p - 1) || "\\n" || record_sha256(p) )

(hex digests as ASCII text), with `chain_sha256(0)` = 64 zeros, where `encoding(p)` is
the record's canonical encoding: a JSON array (no spaces, UTF-8) of its kind, its
position and its stored fields in the order `FIELDS[kind]` gives (an event's envelope
and origin, stored as canonical JSON text, are embedded as JSON values; a field the kind
gained later, such as an entry's `basis_version`, only where it differs from the value
records held before it existed, `LATER_FIELDS`). Linking the record's
digest rather than the record lets an audit bundle carry the whole chain as digests and
the content of only the records that concern it. Editing, deleting or inserting a
record changes the links from its position on, so recomputing the chain names the first
position that does not match. A close records the chain head just before it (`checkpoint_pos`,
`checkpoint_sha256`), so a copy of that pair kept anywhere else (the close's output, an
audit bundle) anchors everything up to it.

Pure: the store computes links under its write lock; `audit verify` and the offline
bundle check recompute them with these same functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, Literal

RecordKind = Literal["event", "entry", "close", "alert"]
KINDS: tuple[RecordKind, ...] = ("event", "entry", "close", "alert")

GENESIS = "0" * 64

# The stored fields of each kind, in encoding order (the table columns, less the chain's).
FIELDS: dict[RecordKind, tuple[str, ...]] = {
    "event": (
        "event_id",
        "type",
        "subject_kind",
        "subject_id",
        "occurred_at",
        "recorded_us",
        "content_sha256",
        "envelope",
        "origin",
    ),
    "entry": (
        "entry_id",
        "kind",
        "revision",
        "supersedes",
        "contract_id",
        "customer_id",
        "service_id",
        "period",
        "amount",
        "currency",
        "remedy",
        "credit_percent",
        "terms_version",
        "recorded_us",
        "basis_sha256",
        "basis_version",
    ),
    "close": ("period", "closed_us", "checkpoint_pos", "checkpoint_sha256"),
    # An early warning raised once (sla-math §8, `ledger.alerts.Alert`): the row's
    # exposure fields are JSON null where the row had none.
    "alert": (
        "alert_id",
        "kind",
        "threshold",
        "contract_id",
        "customer_id",
        "service_id",
        "period",
        "observed",
        "downtime_left_seconds",
        "credit_at_risk",
        "currency",
        "recorded_us",
    ),
}

# Fields a kind gained after records of it were chained, each with the value a record
# without it holds: an entry recorded before basis versions existed was computed with
# basis version 1 (`ledger.credits.BASIS_FIELDS`). They come last in FIELDS, and the
# encoding leaves out those that hold that value at its end (`encoding`), so every
# record chained before the field existed keeps its digest, and so does every later one
# that holds the same value.
LATER_FIELDS: dict[RecordKind, dict[str, Any]] = {"entry": {"basis_version": 1}}
assert all(FIELDS[kind][-len(later) :] == tuple(later) for kind, later in LATER_FIELDS.items())

# Fields holding canonical JSON text, embedded as they are (they come last in FIELDS).
JSON_TEXT_FIELDS: dict[RecordKind, tuple[str, ...]] = {"event": ("envelope", "origin")}
assert all(FIELDS[kind][-len(names) :] == names for kind, names in JSON_TEXT_FIELDS.items())
assert not set(LATER_FIELDS) & set(JSON_TEXT_FIELDS)

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_escape = encode_basestring  # what `_compact` writes for a string


def _getters(
    kind: RecordKind,
) -> tuple[Callable[[Mapping[str, Any]], tuple[Any, ...]], Callable[[Any], Any] | None]:
    """Fast field pickers for `encoding` (it runs once per event on the write path)."""
    embedded = JSON_TEXT_FIELDS.get(kind, ())
    later = LATER_FIELDS.get(kind, {})
    plain = FIELDS[kind][: len(FIELDS[kind]) - len(embedded) - len(later)]
    pick = itemgetter(*plain)
    return (lambda fields: pick(fields)), (itemgetter(*embedded) if embedded else None)


_GETTERS = {kind: _getters(kind) for kind in FIELDS}

# The field holding each kind's record time (microseconds since the epoch, UTC).
RECORD_TIME: dict[RecordKind, str] = {
    "event": "recorded_us",
    "entry": "recorded_us",
    "close": "closed_us",
    "alert": "recorded_us",
}


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last position, its link and its record time (0, zeros, 0 for an empty chain)."""

    position: int
    sha256: str
    recorded_us: int

    @property
    def checkpoint(self) -> str:
        return f"{self.position}:{self.sha256}"


EMPTY = ChainHead(0, GENESIS, 0)


def later_values(kind: RecordKind, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of the kind's `LATER_FIELDS` that its encoding holds: all of them up to
    the last one that differs from its value before it existed (a missing one holds that
    value), so the trailing ones that do not are left out."""
    later = LATER_FIELDS.get(kind)
    if not later:
        return ()
    values = [fields.get(name, before) for name, before in later.items()]
    kept = len(values)
    while kept and values[kept - 1] == list(later.values())[kept - 1]:
        kept -= 1
    return tuple(values[:kept])


def with_later_fields(kind: RecordKind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` with every one of the kind's `LATER_FIELDS` it lacks, at its value before
    it existed: a record as the current layout reads it, whenever it was chained."""
    return {**LATER_FIELDS.get(kind, {}), **fields}


def without_later_defaults(kind: RecordKind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` without those of the kind's `LATER_FIELDS` that hold their value before
    they existed: a record as it was written before them (its eventsourcing record)."""
    later = LATER_FIELDS.get(kind, {})
    return {k: v for k, v in fields.items() if k not in later or v != later[k]}


def encoding(kind: RecordKind, position: int, fields: Mapping[str, Any]) -> bytes:
    """`[kind, position, field, ...]` as compact JSON. Fields that hold canonical JSON
    text already (an event's envelope and origin, the last two) are embedded as JSON
    values, not as strings: the same bytes, without escaping half a kilobyte per event.
    Fields a kind gained later follow only where they differ from before (`later_values`)."""
    plain, embedded = _GETTERS[kind]
    values = plain(fields)
    if embedded is None:
        return _compact([kind, position, *values, *later_values(kind, fields)]).encode()
    if all(type(v) is str or type(v) is int for v in values) and type(position) is int:
        # The same text, written out (an event's fields are strings and integers): the
        # encoder's own string escaping, without building a list for it to walk.
        text = ",".join(_escape(v) if type(v) is str else str(v) for v in values)
        return f'["{kind}",{position},{text},{",".join(embedded(fields))}]'.encode()
    text = _compact([kind, position, *values])
    return f"{text[:-1]},{','.join(embedded(fields))}]".encode()


def record_sha256(kind: RecordKind, position: int, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(encoding(kind, position, fields)).hexdigest()


def event_record_sha256(
    position: int,
    event_id: str,
    type_: str,
    subject_kind: str,
    subject_id: str,
    occurred_at: str,
    recorded_us: int,
    content_sha256: str,
    record: bytes,
) -> str:
    """`record_sha256("event", position, fields)` from an event's plain fields and its
    event store record `[envelope,origin]` (`chain_append.library_state`), whose bytes
    after the `[` are the encoding's last ones: `encoding` written out for one kind, for a
    rebuild that seals every event of the log again. The strings are escaped by the JSON
    encoder's own escaping, which refuses anything but a string (TypeError)."""
    head = (
        f'["event",{position},{_escape(event_id)},{_escape(type_)},{_escape(subject_kind)},'
        f'{_escape(subject_id)},{_escape(occurred_at)},{int(recorded_us)},"{content_sha256}",'
    )
    return hashlib.sha256(head.encode() + record[1:]).hexdigest()


def link(previous: str, record_digest: str) -> str:
    return hashlib.sha256(f"{previous}\n{record_digest}".encode("ascii")).hexdigest()


CHECKPOINT = re.compile(r"([0-9]+):([0-9a-f]{64})")


def parse_checkpoint(text: str) -> tuple[int, str]:
    """`POSITION:SHA256`, as `close` and `audit verify` print a checkpoint: the one
    parser of `--checkpoint`, for `audit verify` and `audit check` alike.

    ASCII digits only (`str.isdigit` also takes `²` and other digits `int` refuses), and
    a position of the chain, 1 or more: position 0 is the genesis, which no record has,
    so a checkpoint there could match nothing and would pass unchecked.
    """
    found = CHECKPOINT.fullmatch(text)
    if found is None:
        raise ValueError(
            "a checkpoint is POSITION:SHA256 (digits 0-9, a colon, 64 lower-case hex), "
            f'got "{text}"'
        )
    position = int(found[1])
    if position < 1:
        raise ValueError(
            f'a checkpoint\'s position is 1 or more (the chain starts at 1), got "{text}"'
        )
    return position, found[2]
