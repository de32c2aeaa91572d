"""Strict JSON from untrusted bytes: the one parser for every input the ledger did not
write itself (inbound messages, audit bundles handed to `audit check`).

UTF-8 only, no byte order mark, one JSON text, no NaN or Infinity, no key twice in one
object, decimals as `Decimal` (never a binary float), and nesting bounded before `json`
recurses. Every refusal is a `RejectedInputError` naming the field (`(document)` for the
whole text) and the rule; nothing else escapes, whatever the bytes are.
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any, Final, NoReturn

from ledger.inbound import DOCUMENT, RejectedInputError, field_path

__all__ = ["MAX_NESTING", "is_blank", "parse_strict_json"]

# The deepest valid envelope nests 9 levels (contract.signed: payload, services, a
# service, incident_response, business_hours, weekly, a day, an interval); anything much
# deeper is refused before `json` recurses into it. That keeps the outcome independent
# of how deep the caller's stack already is (a RecursionError depends on both).
MAX_NESTING: Final = 32
_JSON_WHITESPACE: Final = b" \t\r\n"
# A JSON string (escapes included; an unterminated one runs to the end, so the scan stays
# linear): brackets inside strings do not nest.
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_BYTE_ORDER_MARK: Final = "\ufeff"


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


def _nesting(raw: bytes) -> int:
    """How deep arrays and objects nest in `raw` (an upper bound when it is not JSON)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_NESTING:  # the common case, at C speed
        return 0
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(_STEP[b] for b in brackets), default=0)


def _no_fraction(text: str) -> NoReturn:
    raise _NotJsonError(f"malformed JSON: {_shown(text)} is not an integer (none is expected here)")


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def is_blank(raw: bytes) -> bool:
    """A line holding nothing but JSON whitespace (space, tab, CR, LF), or nothing: what
    a file may hold between inputs. A form feed or a vertical tab is not blank: it is an
    input, and rejected."""
    return not raw.strip(_JSON_WHITESPACE)


def parse_strict_json(raw: bytes, *, fractions: bool = True) -> object:
    """One strict JSON text from `raw`; `RejectedInputError` (and nothing else) if not.

    `fractions=False` refuses every number with a fraction or an exponent, for formats
    that hold integers only: a `1e999999999` read as a number would be a billion digits.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _reject(f"not valid UTF-8 at byte {exc.start}")
    if is_blank(raw):
        _reject("empty input")
    if text.startswith(_BYTE_ORDER_MARK):
        _reject("starts with a byte order mark (U+FEFF): send UTF-8 without one")
    if _nesting(raw) > MAX_NESTING:
        _reject(f"malformed JSON: arrays and objects nested more than {MAX_NESTING} deep")
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
            text,
            parse_float=Decimal if fractions else _no_fraction,
            parse_constant=_constant,
            object_pairs_hook=make_object,
        )
    except json.JSONDecodeError as exc:
        # Some of json's messages already end in "at" ("Invalid control character at").
        what = exc.msg.removesuffix(" at")
        _reject(f"malformed JSON: {what} at line {exc.lineno} column {exc.colno}")
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
    return document
