"""The shape of an audit bundle's files, checked before `audit check` uses any value.

A bundle is handed over by someone else: every file is untrusted. Each document is
checked here, field by field, against what `audit export` writes (the chained records'
fields follow the store's columns, `projections.store.schema`); the first value out of
shape is a `MalformedBundleError` that says, in words, which field of which file is
wrong, what was expected and what was found. So the check that follows never meets a
string where an object belongs, and no Python message ever reaches the auditor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ledger.chain import KINDS
from ledger.credits import BASIS_FIELDS
from ledger.errors import LedgerError
from ledger.events import Origin
from ledger.inbound import RejectedInputError, validate_envelope
from ledger.periods import from_us
from ledger.timeformat import parse_utc
from projections.store.schema import (
    ALERT_COLUMNS,
    CLOSE_COLUMNS,
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
    EVENT_CONTENT_FIELDS,
)

__all__ = [
    "ALERT",
    "CHAIN_LINE",
    "CLOSE",
    "CREDITS",
    "ENTRY",
    "EVENT",
    "MANIFEST",
    "MalformedBundleError",
    "Shape",
    "check_credits",
    "check_envelope",
    "check_origin",
    "check_shape",
    "found",
]


class MalformedBundleError(LedgerError):
    """A bundle file that is not strict JSON of the bundle's shape."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What a field must hold, in words, and the test of a value."""

    words: str
    test: Callable[[Any], bool]
    # A field a record gained later (`ledger.chain.LATER_FIELDS`): a bundle exported
    # before it existed lacks it, and its record then holds the earlier value.
    may_be_absent: bool = False


# A document's shape: each field and what it must hold; a nested `dict` is an object of
# that shape. Fields not named are not read by the check and may hold anything.
Shape = Mapping[str, "Kind | Shape"]


def _is_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate, written as \ud800 in JSON
        return False
    return True


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_record_time(value: Any) -> bool:
    if not _is_integer(value) or value < 0:
        return False
    try:
        from_us(value)
    except OverflowError:
        return False
    return True


def _is_decimal(value: Any) -> bool:
    if not _is_text(value) or not re.fullmatch(r"-?\d{1,30}(\.\d{1,30})?", value):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return False


def _is_instant(value: Any) -> bool:
    if not _is_text(value) or not re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", value
    ):
        return False
    try:
        parse_utc(value)
    except ValueError:  # e.g. a 31st of February
        return False
    return True


TEXT: Final = Kind("a string", _is_text)
OPTIONAL_TEXT: Final = Kind("a string or null", lambda v: v is None or _is_text(v))
INTEGER: Final = Kind("an integer", _is_integer)
OPTIONAL_INTEGER: Final = Kind("an integer or null", lambda v: v is None or _is_integer(v))
POSITION: Final = Kind(
    "a chain position (an integer of at least 1)", lambda v: _is_integer(v) and v >= 1
)
COUNT: Final = Kind("a chain position or 0 (an integer)", lambda v: _is_integer(v) and v >= 0)
SHA256: Final = Kind(
    "a SHA-256 (64 lower-case hex digits)",
    lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None,
)
RECORD_TIME: Final = Kind(
    "a record time (microseconds since 1970-01-01T00:00:00Z, before the year 10000)",
    _is_record_time,
)
DECIMAL: Final = Kind('a decimal string such as "12.50"', _is_decimal)
OPTIONAL_DECIMAL: Final = Kind(
    'a decimal string such as "12.50", or null', lambda v: v is None or _is_decimal(v)
)
PERIOD: Final = Kind(
    'a period such as "2026-03" (a month) or "2026" (a year)',
    lambda v: isinstance(v, str) and re.fullmatch(r"[0-9]{4}(-(0[1-9]|1[0-2]))?", v) is not None,
)
INSTANT: Final = Kind('a UTC instant such as "2026-04-01T00:00:00Z"', _is_instant)
LIST: Final = Kind("a list", lambda v: isinstance(v, list))

# The chained records' fields: the store's columns, each with its column's kind, some
# narrowed to what the check relies on.
_BY_COLUMN_TYPE = {"text": TEXT, "bigint": INTEGER, "integer": INTEGER}
_NARROWER: dict[str, Kind] = {
    "chain_pos": POSITION,
    "chain_sha256": SHA256,
    "content_sha256": SHA256,
    "basis_sha256": SHA256,
    "checkpoint_pos": COUNT,
    "checkpoint_sha256": SHA256,
    "recorded_us": RECORD_TIME,
    "closed_us": RECORD_TIME,
    "amount": DECIMAL,
    "period": PERIOD,
    "supersedes": OPTIONAL_TEXT,  # null for a first issue (the column may be NULL)
    # An alert's exposure when it was raised: null where the row had none.
    "downtime_left_seconds": OPTIONAL_DECIMAL,
    "credit_at_risk": OPTIONAL_DECIMAL,
    "basis_version": Kind(
        f"a basis version ({', '.join(map(str, sorted(BASIS_FIELDS)))})",
        lambda v: _is_integer(v) and v in BASIS_FIELDS,
        may_be_absent=True,
    ),
}


def _record(columns: tuple[tuple[str, str], ...]) -> dict[str, Kind]:
    return {name: _NARROWER.get(name, _BY_COLUMN_TYPE[kind]) for name, kind in columns}


# An event's bundled record is every field the chain covers: its index columns and the
# content its eventsourcing record holds (envelope, origin and their digest).
EVENT: Final[Shape] = _record(
    (
        *EVENT_COLUMNS[:-2],
        *((name, "text") for name in EVENT_CONTENT_FIELDS),
        *EVENT_COLUMNS[-2:],
    )
)
ENTRY: Final[Shape] = _record(ENTRY_COLUMNS)
CLOSE: Final[Shape] = _record(CLOSE_COLUMNS)
ALERT: Final[Shape] = _record(ALERT_COLUMNS)
CHAIN_LINE: Final[Shape] = {
    "position": POSITION,
    "kind": Kind(
        ", ".join(f'"{kind}"' for kind in KINDS[:-1]) + f' or "{KINDS[-1]}"',
        lambda v: v in KINDS,
    ),
    "record_sha256": SHA256,
    "chain_sha256": SHA256,
}
MANIFEST: Final[Shape] = {
    "period": PERIOD,
    "as_of": INSTANT,
    "head": {"position": COUNT, "chain_sha256": SHA256},
    "files": Kind(
        "an object of file names and their SHA-256",
        lambda v: isinstance(v, dict) and all(isinstance(d, str) for d in v.values()),
    ),
}
# A bundle exported before answers named their chain position has none (same format).
CREDITS: Final[Shape] = {
    "chain_position": Kind(COUNT.words, COUNT.test, may_be_absent=True),
    "entries": LIST,
}
CREDITS_ENTRY: Final[Shape] = {"entry_id": TEXT}
# An event's origin: the fields of `ledger.events.Origin`, each of its type.
_BY_ORIGIN_TYPE: Final = {"str | None": OPTIONAL_TEXT, "int | None": OPTIONAL_INTEGER}
ORIGIN: Final[Shape] = {f.name: _BY_ORIGIN_TYPE[str(f.type)] for f in fields(Origin)}


def found(value: Any) -> str:
    """A value as the message names it: its JSON kind, and a short text when it is one."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}... (a huge number)"
        return f"the integer {shown}"
    if isinstance(value, Decimal):  # pragma: no cover - bundles are parsed integers only
        return "a number"
    if isinstance(value, str):
        if not _is_text(value):
            return "a string holding an unpaired surrogate"
        text = value if len(value) <= 40 else value[:40] + "..."
        return "the string " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in f'"{text}"')
    if isinstance(value, list):
        return "a list"
    return "an object"


def check_shape(document: Mapping[str, Any], shape: Shape, where: str, prefix: str = "") -> None:
    """Raise `MalformedBundleError` at the first field of `document` out of `shape`."""
    for name, kind in shape.items():
        path = f"{prefix}{name}"
        if name not in document:
            if isinstance(kind, Kind) and kind.may_be_absent:
                continue
            raise MalformedBundleError(f"{where}: field {path} is missing")
        value = document[name]
        if isinstance(kind, Kind):
            if not kind.test(value):
                raise MalformedBundleError(
                    f"{where}: {path} must be {kind.words}, got {found(value)}"
                )
        elif not isinstance(value, dict):
            raise MalformedBundleError(f"{where}: {path} must be an object, got {found(value)}")
        else:
            check_shape(value, kind, where, f"{path}.")


def check_credits(document: Mapping[str, Any], where: str) -> None:
    """credits.json: an object with `entries`, a list of objects with an `entry_id`, and
    a `chain_position` (absent from bundles exported before answers named it)."""
    check_shape(document, CREDITS, where)
    for number, entry in enumerate(document["entries"], start=1):
        if not isinstance(entry, dict):
            raise MalformedBundleError(
                f"{where}: entries item {number} must be an object, got {found(entry)}"
            )
        check_shape(entry, CREDITS_ENTRY, f"{where} entries item {number}")


def check_origin(document: object, where: str) -> None:
    """An event's origin: an object of the fields `Origin` has, each of its kind."""
    if not isinstance(document, dict):
        raise MalformedBundleError(f"{where}: must be an object, got {found(document)}")
    unknown = sorted(set(document) - set(ORIGIN))
    if unknown:
        raise MalformedBundleError(
            f"{where}: unexpected field {found(unknown[0])[len('the string ') :]}; an origin "
            f"has only {', '.join(ORIGIN)}"
        )
    check_shape(document, {k: v for k, v in ORIGIN.items() if k in document}, where)


def check_envelope(document: object, where: str) -> None:
    """An event's envelope: it must pass the ledger's own inbound contract, as it did
    when it was accepted; else the broken rule, in the contract's words."""
    try:
        validate_envelope(document)
    except RejectedInputError as exc:
        raise MalformedBundleError(f"{where}: {exc.field}: {exc.rule}") from None
