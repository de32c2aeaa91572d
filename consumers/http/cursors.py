"""Pages that cannot lie: opaque cursors.

The first page of a list fixes the question: its filters, the moment it is answered as
of, and the chain position of that moment. A cursor carries all three and where the last
page ended, so every later page answers the same question: records appended while a
client pages (ingest, a close) lie beyond the position and are never seen in that walk,
and none is skipped or repeated. The order is the store's record order, which never
changes. A page is empty only when the list is.

A cursor is base64url JSON: opaque to clients (they pass it back as it is), read back
strictly here. It carries nothing secret, only the client's own question.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consumers.http.problems import invalid
from ledger.errors import InvalidInputError
from ledger.timeformat import format_utc, parse_rfc3339

VERSION = 1
RULE = "a cursor given by the previous page of the same list, passed back unchanged"


@dataclass(frozen=True)
class Cursor:
    operation: str  # the list it pages
    filters: dict[str, str | None]  # the question's filters, as the client gave them
    moment: datetime  # the moment the list is answered as of
    through: int  # the chain position (or sequence) of that moment: nothing after it
    after: int  # where the previous page ended

    def encode(self) -> str:
        document = {
            "v": VERSION,
            "o": self.operation,
            "f": self.filters,
            "m": format_utc(self.moment),
            "t": self.through,
            "a": self.after,
        }
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")

    def next(self, after: int) -> Cursor:
        return Cursor(self.operation, self.filters, self.moment, self.through, after)


def decode(text: str, operation: str, filters: dict[str, str | None]) -> Cursor:
    """The cursor `text` of the list `operation`. `filters` are those given with it:
    each must be absent or the same as the cursor's (a cursor answers its own question)."""
    try:
        padded = text + "=" * (-len(text) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(document, dict) or document.get("v") != VERSION:
            raise ValueError
        cursor = Cursor(
            document["o"],
            dict(document["f"]),
            parse_rfc3339(document["m"]),
            int(document["t"]),
            int(document["a"]),
        )
        if not all(isinstance(v, str | None) for v in cursor.filters.values()):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, InvalidInputError):
        raise invalid("cursor", RULE, "cursor: not a cursor this server gave") from None
    if cursor.operation != operation:
        raise invalid("cursor", RULE, "cursor: it pages another list")
    for name, value in filters.items():
        if value is not None and cursor.filters.get(name) != value:
            raise invalid(
                name,
                "the same as the cursor's, or left out",
                f"{name}: differs from the question the cursor pages; leave it out to go on "
                "with the cursor, or leave the cursor out to ask a new question",
            )
    return cursor


def filters_of(**given: Any) -> dict[str, str | None]:
    return {name: None if value is None else str(value) for name, value in given.items()}
