"""Answers kept for the questions asked again: a question about a past moment (`as_of`
given) has one answer until the store changes, so a server keeps the answer's text and
gives it again without computing it.

The key is the question as asked (path and query), the moment it resolved to, and the
chain head the answer was computed under: any record appended since (an event, an entry,
a close) makes a different key, so an answer is never served from before a change,
whatever the writer's clock said (a record stamped before the moment asked about would
otherwise be missed). Questions about now are not kept when their answer names its
moment (new each time); a list of chained records (the credit entries) names none, and
its answer as of now is that of the chain head, so it is kept too.
Bounded by size; the least recently used answers go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

DEFAULT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Kept:
    """An answer: its document, its chain position and, for a page, the next one's URL."""

    text: str
    chain_position: int
    next_url: str | None = None


class AnswerCache:
    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Kept | None:
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
            return kept

    def put(self, key: Hashable, kept: Kept) -> None:
        size = len(kept.text)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.text)
