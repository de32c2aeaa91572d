"""Answers kept for the questions asked again: a question about a past moment (`as_of`
given) has one answer until the store changes, so a server keeps the answer, ready to
send, and gives it again without computing it; many asking at once wait for one
computation.

The key is the question as asked (path and query; a moment given is in it) and the
chain head the answer was computed under: any record appended since (an event, an entry,
a close) makes a different key, so an answer is never served from before a change,
whatever the writer's clock said (a record stamped before the moment asked about would
otherwise be missed). Questions about now are not kept when their answer names its
moment (new each time); a list of chained records (the credit entries) names none, and
its answer as of now is that of the chain head, so it is kept too; a report as of now
keeps its rows, to be written as of a later moment while they stay the same. Bounded by
size; the least recently used answers go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from consumers.http.answers import Answer

DEFAULT_BYTES = 256 * 1024 * 1024


V = TypeVar("V")


@dataclass
class _Flight(Generic[V]):
    """An answer being computed; those asking the same meanwhile wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    answer: V | None = None


def answer_size(answer: Answer) -> int:
    return len(answer.body)


class AnswerCache(Generic[V]):
    """Answers (`V`: ready to send, or a report's rows to send as of a later moment),
    at most `max_bytes` of them by `size`."""

    def __init__(self, size: Callable[[V], int], max_bytes: int = DEFAULT_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, V] = OrderedDict()
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def answer(self, key: Hashable, compute: Callable[[], tuple[V, bool]]) -> V:
        """The answer kept under `key`, else `compute`'s, kept if it says it may be (it
        was computed under the head the key names). Computed once however many ask at
        the same moment: the first computes, the others wait for its answer."""
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
                return kept
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight[V]()
        if not leading:
            flight.done.wait()
            if flight.answer is not None:
                return flight.answer
            return compute()[0]  # the first one failed: its error was its own
        try:
            computed, keep = compute()
            if keep:
                self._put(key, computed)
                flight.answer = computed
            return computed
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _put(self, key: Hashable, kept: V) -> None:
        size = self.size(kept)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= self.size(dropped)
