"""Half-open intervals `[start, end)` of integer microseconds since the epoch (UTC).

Pure, exact arithmetic on sorted lists of disjoint intervals: the building blocks of
coverage, exclusion and downtime (spec: sla-math §2, §3).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

Interval = tuple[int, int]


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-empty; touching or overlapping intervals are merged."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def total(intervals: Iterable[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    """Each interval cut to `[lo, hi)`; empty results dropped."""
    out = []
    for start, end in intervals:
        start, end = max(start, lo), min(end, hi)
        if end > start:
            out.append((start, end))
    return out


def subtract(base: list[Interval], removed: list[Interval]) -> list[Interval]:
    """`base − removed`; both sorted and disjoint (as from `normalise`)."""
    out: list[Interval] = []
    j = 0
    for start, end in base:
        cursor = start
        while j < len(removed) and removed[j][1] <= cursor:
            j += 1
        k = j
        while k < len(removed) and removed[k][0] < end:
            r_start, r_end = removed[k]
            if r_start > cursor:
                out.append((cursor, r_start))
            cursor = max(cursor, r_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


WeightedInterval = tuple[int, int, Fraction]
# A weight is exact: a `Fraction`, or a `Decimal` (an outage's `impact_percent` as given:
# comparing and hashing those is cheaper, and the order is the same).
Weight = TypeVar("Weight", Fraction, Decimal)


def max_weight_segments(
    pieces: Iterable[tuple[int, int, Weight]],
) -> list[tuple[int, int, Weight]]:
    """The pointwise maximum of weighted intervals, as sorted disjoint segments.

    Overlapping outages are never counted twice: at each instant only the largest
    weight counts (spec: sla-math §3, `w(t) = max(...)`).
    """
    boundaries: dict[int, list[tuple[bool, Weight]]] = {}
    for start, end, weight in pieces:
        if end > start and weight > 0:
            boundaries.setdefault(start, []).append((True, weight))
            boundaries.setdefault(end, []).append((False, weight))
    active: dict[Weight, int] = {}
    segments: list[tuple[int, int, Weight]] = []
    previous: int | None = None
    for point in sorted(boundaries):
        if previous is not None and active:
            weight = max(active)
            if segments and segments[-1][1] == previous and segments[-1][2] == weight:
                segments[-1] = (segments[-1][0], point, weight)
            else:
                segments.append((previous, point, weight))
        for opening, weight in boundaries[point]:
            if opening:
                active[weight] = active.get(weight, 0) + 1
            else:
                active[weight] -= 1
                if not active[weight]:
                    del active[weight]
        previous = point
    return segments


def intersect_weighted(
    segments: list[tuple[int, int, Weight]], region: list[Interval]
) -> list[tuple[int, int, Weight]]:
    """Weighted segments restricted to a sorted disjoint region."""
    out: list[tuple[int, int, Weight]] = []
    j = 0
    for start, end, weight in segments:
        while j < len(region) and region[j][1] <= start:
            j += 1
        k = j
        while k < len(region) and region[k][0] < end:
            lo, hi = max(start, region[k][0]), min(end, region[k][1])
            if hi > lo:
                out.append((lo, hi, weight))
            k += 1
    return out


def maximal_runs(
    segments: list[tuple[int, int, Weight]],
) -> list[list[tuple[int, int, Weight]]]:
    """Group touching segments into the maximal intervals they form."""
    runs: list[list[tuple[int, int, Weight]]] = []
    for segment in segments:
        if runs and runs[-1][-1][1] == segment[0]:
            runs[-1].append(segment)
        else:
            runs.append([segment])
    return runs
