"""Where the marks' names go: beside a subject's first mark in its lane, after or before
it, in the lane's upper or lower half, wherever no other shape or name is in the way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from consumers.http.web.timeline.model import WIDTH, Mark

NAMED = ("outage", "maintenance", "incident-opened")


def named(marks: Sequence[Mark]) -> list[Mark]:
    """The marks with the names that fit: in each lane, a subject's first mark gets its
    id beside it (after it, else before it; in the lane's upper half, else its lower)
    when no other shape of the lane, and no name already placed in that half, is where
    the name would be drawn."""
    by_lane: dict[int, list[Mark]] = {}
    for mark in marks:
        by_lane.setdefault(mark.lane, []).append(mark)
    placed: dict[tuple[str, str], Mark] = {}
    for lane in by_lane.values():
        lane.sort(key=lambda m: (m.x, m.x_end))
        shapes = [(m.x - 6, m.x_end + 6) for m in lane]
        names: tuple[list[tuple[Decimal, Decimal]], ...] = ([], [])
        for index, mark in enumerate(lane):
            if mark.kind not in NAMED:
                continue
            sides = (True,) if mark.kind == "incident-opened" else (False, True)
            for row, left in ((row, left) for row in (0, 1) for left in sides):
                candidate = replace(mark, name=mark.name_text, name_left=left, name_row=row)
                low, high = candidate.name_span
                others = [span for at, span in enumerate(shapes) if at != index] + names[row]
                if low >= 0 and high <= WIDTH and all(b < low or a > high for a, b in others):
                    placed[(mark.kind, mark.id)] = candidate
                    names[row].append((low, high))
                    break
    return [placed.get((m.kind, m.id), m) for m in marks]
