"""Counts in words, for every line a person reads: `1 record`, `2 records`, `0 records`."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None, *, grouped: bool = False) -> str:
    """`count` and the noun in the number it needs (`plural` when not just noun + "s");
    `grouped`: the count with thousands separators (12,000)."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun if count == 1 else plural or noun + 's'}"
