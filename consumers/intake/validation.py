"""Raw bytes of one inbound message (a JSON Lines line, a Kafka value) to an `InboundEvent`.

Decoding and parsing are strict (`ledger.strict_json`: UTF-8 only, one JSON text, no NaN
or Infinity, no key twice in one object, bounded nesting), and a message is at most
1 MiB. What parses is then checked against the contract by
`ledger.inbound.validate_envelope`. Every refusal is a `RejectedInputError` that names the
field (`(document)` for the whole input) and the rule; `classify` turns it into a
`Rejection` to keep, so that every input ends as an event or a rejection, never nothing.
"""

from __future__ import annotations

import contextlib
from typing import Final

from ledger.events import InboundEvent, Origin
from ledger.inbound import DOCUMENT, RejectedInputError, validate_envelope, validate_event_id
from ledger.rejections import Rejection
from ledger.strict_json import MAX_NESTING, parse_strict_json

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_NESTING",
    "classify",
    "event_id_of",
    "oversize_reason",
    "parse_document",
    "parse_line",
]

MAX_EVENT_BYTES: Final = 1_048_576


def oversize_reason(size: int, sha256: str) -> str:
    """Why a line too large to hold was refused, naming the whole line (its size and
    digest) since only its first `MAX_EVENT_BYTES` bytes are kept."""
    return (
        f"larger than {MAX_EVENT_BYTES} bytes ({size:,} bytes, SHA-256 {sha256}); only its "
        f"first {MAX_EVENT_BYTES:,} bytes are kept"
    )


def parse_line(raw: bytes) -> InboundEvent:
    """Decode, parse and validate one inbound message; raise `RejectedInputError` if bad."""
    return validate_envelope(parse_document(raw))


def event_id_of(document: object) -> str | None:
    """The `event_id` a parsed document claims, as the ledger spells accepted ones
    (a UUID in lower case), or None: only a well-formed id is kept with a rejection,
    so no stored hint carries bytes a database refuses (NUL, lone surrogates)."""
    if isinstance(document, dict):
        with contextlib.suppress(RejectedInputError):
            return validate_event_id(document.get("event_id"))
    return None


def parse_document(raw: bytes) -> object:
    """Decode and parse one inbound message into a JSON value; `RejectedInputError` if
    the bytes are not one strict JSON text of at most `MAX_EVENT_BYTES`."""
    if len(raw) > MAX_EVENT_BYTES:
        raise RejectedInputError(DOCUMENT, f"larger than {MAX_EVENT_BYTES} bytes")
    return parse_strict_json(raw)


def classify(raw: bytes, origin: Origin) -> InboundEvent | Rejection:
    """A raw input becomes an event to append or a rejection to keep: never nothing.

    The bytes are parsed once; a rejection of a document that parsed keeps the
    `event_id` it claims (when well-formed), so `rejections` can tell a later fix.
    """
    document: object = None
    try:
        document = parse_document(raw)
        return validate_envelope(document)
    except RejectedInputError as exc:
        return Rejection(
            raw=raw, origin=origin, field=exc.field, reason=str(exc), event_id=event_id_of(document)
        )
