"""The body of `POST /v1/events`: JSON Lines (`application/x-ndjson`), or a JSON array
of envelopes (`application/json`; a single envelope is taken as an array of one).

The body is only split here, never judged: each input's own bytes go on to the intake's
validation, so an envelope sent in an array is accepted or rejected exactly as the same
line in a file would be. The array's items are cut out of the body as they were sent
(their byte spans), not parsed and written again. A body that cannot be split (not
UTF-8, not an array, cut short) is one input that could not be read: the caller keeps
it as a rejection, so nothing sent is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
ARRAY_TYPE = "application/json"
_WHITESPACE = " \t\n\r"


class UnreadableBodyError(ValueError):
    """The body cannot be split into inputs; the message says why, in one line."""


@dataclass(frozen=True)
class Inputs:
    items: list[bytes]  # each input's bytes, in order
    blank_lines: int = 0


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def split(body: bytes, kind: str) -> Inputs:
    """The inputs of a body of media type `kind` (one of `LINES_TYPES` or `ARRAY_TYPE`)."""
    if kind in LINES_TYPES:
        return _lines(body)
    return _array(body)


def _lines(body: bytes) -> Inputs:
    items: list[bytes] = []
    blank = 0
    for line in body.split(b"\n"):
        line = line.removesuffix(b"\r")
        if line.strip(b" \t\r") == b"":
            blank += 1
        else:
            items.append(line)
    # The newline ending the last line leaves an empty piece that is no blank line.
    if body.endswith(b"\n"):
        blank -= 1
    return Inputs(items, max(blank, 0))


def _array(body: bytes) -> Inputs:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBodyError(f"not UTF-8 (byte {exc.start})") from None
    at = _skip(text, 0)
    if at == len(text):
        raise UnreadableBodyError("empty: send a JSON array of envelopes")
    if text[at] == "{":
        end = _item_end(text, at)
        if _skip(text, end) != len(text):
            raise UnreadableBodyError("more than one JSON value: send them in a JSON array")
        return Inputs([text[at:end].encode("utf-8")])
    if text[at] != "[":
        raise UnreadableBodyError("not a JSON array of envelopes")
    items: list[bytes] = []
    at = _skip(text, at + 1)
    if at < len(text) and text[at] == "]":
        return _end(text, at, items)
    while True:
        end = _item_end(text, at)
        items.append(text[at:end].encode("utf-8"))
        at = _skip(text, end)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)
            continue
        if at < len(text) and text[at] == "]":
            return _end(text, at, items)
        raise UnreadableBodyError(f"expected , or ] after item {len(items)} (character {at})")


def _end(text: str, at: int, items: list[bytes]) -> Inputs:
    if _skip(text, at + 1) != len(text):
        raise UnreadableBodyError("text after the array's closing ]")
    return Inputs(items)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


_DECODER = json.JSONDecoder()


def _item_end(text: str, at: int) -> int:
    """Where the JSON value starting at `at` ends (only its extent: the intake judges it)."""
    try:
        return _DECODER.raw_decode(text, at)[1]
    except json.JSONDecodeError as exc:
        raise UnreadableBodyError(f"item at character {at} is not JSON ({exc.msg})") from None
    except RecursionError:
        raise UnreadableBodyError(f"item at character {at} is nested too deeply") from None
