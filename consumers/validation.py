"""Raw bytes of one inbound message (a JSON Lines line, a Kafka value) to an `InboundEvent`.

Decoding and parsing are strict: UTF-8 only, one JSON object, no NaN or Infinity, no key
twice in one object. What parses is then checked against the contract by
`ledger.inbound.validate_envelope`. Every refusal is a `RejectedInputError` that names the
field (`(document)` for the whole input) and the rule.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final, NoReturn

from ledger.events import InboundEvent
from ledger.inbound import DOCUMENT, RejectedInputError, field_path, validate_envelope

__all__ = ["MAX_EVENT_BYTES", "parse_line"]

MAX_EVENT_BYTES: Final = 1_048_576
_JSON_WHITESPACE: Final = b" \t\r\n"


class _Duplicated(dict[str, Any]):
    """A JSON object in which `key` appeared more than once (the last value is kept)."""

    key: str


class _NotJsonError(Exception):
    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _duplicated(obj: dict[str, Any], pairs: list[tuple[str, Any]]) -> _Duplicated:
    marked = _Duplicated(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def _constant(name: str) -> NoReturn:
    raise _NotJsonError(f"malformed JSON: {name} is not a JSON value")


def _first_duplicate(document: object) -> str | None:
    """The path of the first key repeated within one object, in document order."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, _Duplicated):
            return field_path((*loc, value.key))
        if isinstance(value, dict):
            children = [(v, (*loc, k)) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, (*loc, i)) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def _reject(rule: str, field: str = DOCUMENT) -> NoReturn:
    raise RejectedInputError(field, rule)


def parse_line(raw: bytes) -> InboundEvent:
    """Decode, parse and validate one inbound message; raise `RejectedInputError` if bad."""
    if len(raw) > MAX_EVENT_BYTES:
        _reject(f"larger than {MAX_EVENT_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _reject(f"not valid UTF-8 at byte {exc.start}")
    if not raw.strip(_JSON_WHITESPACE):
        _reject("empty input")
    duplicates: list[_Duplicated] = []

    def make_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        marked = _duplicated(obj, pairs)
        duplicates.append(marked)
        return marked

    try:
        document = json.loads(
            text, parse_float=Decimal, parse_constant=_constant, object_pairs_hook=make_object
        )
    except json.JSONDecodeError as exc:
        _reject(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except _NotJsonError as exc:
        _reject(exc.rule)
    except RecursionError:
        _reject("malformed JSON: nested too deeply")
    except ValueError as exc:
        if "digits" in str(exc):  # an integer past Python's limit on digits for int()
            _reject("malformed JSON: a number has too many digits")
        _reject(f"malformed JSON: {exc}")  # pragma: no cover - json raises no other
    if duplicates and isinstance(document, dict):  # rare: only then find the first one
        _reject("duplicate key", _first_duplicate(document) or DOCUMENT)
    return validate_envelope(document)
