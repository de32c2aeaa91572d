"""Lane packing: the sub-lane of each of a lane's spans, so overlapping spans never share one."""

from __future__ import annotations

from collections.abc import Sequence


def pack(spans: Sequence[tuple[int, int]]) -> list[int]:
    """A sub-lane for each span (in order) so that overlapping spans never share one:
    each takes the first sub-lane free at its start (`spans` must be sorted by start)."""
    ends: list[int] = []
    lanes: list[int] = []
    for start, end in spans:
        for index, last in enumerate(ends):
            if last <= start:
                ends[index] = max(end, start + 1)
                lanes.append(index)
                break
        else:
            ends.append(max(end, start + 1))
            lanes.append(len(ends) - 1)
    return lanes
