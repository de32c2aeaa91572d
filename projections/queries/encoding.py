"""The two encodings of the documents the queries answer with (outputs.md): JSON as
`json.dumps(document, indent=2, ensure_ascii=False)` spells it, and CSV.

One writer of each, so that every place that writes a document (the command line, the
audit bundle, an HTTP response) writes the same bytes for it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def to_json(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, to the byte.

    With an indent, `json` encodes in pure Python, piece by piece; a report of thousands
    of rows spent more time there than computing them. The documents printed here are
    dicts with text keys, lists, text, whole numbers, booleans and nulls: those are
    written directly below (strings by `json`'s own encoder). Anything else (a float, a
    dict with a key that is not text, an int or str subclass) is left to `json.dumps`
    itself, value by value. A `JsonText` is JSON written already (see there).
    """
    parts: list[str] = []
    _write_json(document, "\n", parts)
    return "".join(parts)


class JsonText:
    """A value as `to_json` writes it on its own, to place inside a document given to
    `to_json`: the same text as if the value itself were there. JSON breaks lines only
    between items, never inside a string (a newline there is written `\\n`), so a value
    written deeper is its own text with each line break followed by the indentation of
    where it stands. (Not for `json.dumps`, which does not know it.)"""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_LIST_OPENS = "[\n  "  # how `to_json` opens a list with items, at the top level
_LIST_CLOSES = "\n]"


def joined_json_lists(texts: Iterable[str]) -> JsonText:
    """The list of the items of the lists `texts`, in order, each list as `to_json`
    writes it: `to_json(a + b)` from `to_json(a)` and `to_json(b)`, without writing
    their items again."""
    bodies = [text[len(_LIST_OPENS) : -len(_LIST_CLOSES)] for text in texts if text != "[]"]
    if not bodies:
        return JsonText("[]")
    return JsonText(_LIST_OPENS + ",\n  ".join(bodies) + _LIST_CLOSES)


_JSON_TEXT = json.encoder.encode_basestring  # what `json.dumps(ensure_ascii=False)` uses
_JSON_CONSTANTS: dict[Any, str] = {True: "true", False: "false", None: "null"}


def _write_json(value: Any, newline: str, parts: list[str]) -> None:
    """Append `value` as `json.dumps(..., indent=2)` spells it; `newline` is a line
    break followed by the current indentation."""
    kind = type(value)
    if kind is str:
        parts.append(_JSON_TEXT(value))
    elif value is None or kind is bool:
        parts.append(_JSON_CONSTANTS[value])
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        start = len(parts)
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:  # json.dumps writes such a dict (keys turned to text)
                del parts[start:]
                parts.append(_dumped(value, newline))
                return
            # A text, null, boolean or whole number (most values) is written here, with
            # its key, in one piece.
            item_kind = type(item)
            if item_kind is str:
                parts.append(f"{separator}{_JSON_TEXT(key)}: {_JSON_TEXT(item)}")
            elif item is None or item_kind is bool:
                parts.append(f"{separator}{_JSON_TEXT(key)}: {_JSON_CONSTANTS[item]}")
            elif item_kind is int:
                parts.append(f"{separator}{_JSON_TEXT(key)}: {int.__repr__(item)}")
            else:
                parts.append(f"{separator}{_JSON_TEXT(key)}: ")
                _write_json(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _write_json(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "]")
    elif kind is JsonText:
        parts.append(value.text.replace("\n", newline))
    else:
        parts.append(_dumped(value, newline))


def _dumped(value: Any, newline: str) -> str:
    """`value` as `json.dumps(..., indent=2)` writes it where `newline` breaks lines."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline)


def to_csv(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """A header of `fields`, then each row's values of them (`csv_rows`)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue() + csv_rows(rows, fields)


def csv_rows(rows: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """The CSV lines of `rows`, each the row's values of `fields`: null as nothing,
    booleans as true/false, the rest as text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [
            ""
            if value is None
            else ("true" if value else "false")
            if type(value) is bool
            else str(value)
            for value in map(row.get, fields)
        ]
        for row in rows
    )
    return buffer.getvalue()
