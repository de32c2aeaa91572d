"""Periods: calendar months in a contract's timezone (spec: sla-math §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from ledger.errors import InvalidInputError
from ledger.timeformat import MICROSECONDS_PER_SECOND

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Period:
        match = re.fullmatch(r"(\d{4})-(\d{2})", label)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise InvalidInputError(f'period must be YYYY-MM (e.g. "2026-03"), got "{label}"')
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def window(self, timezone: str) -> tuple[int, int]:
        """`W` in UTC microseconds: local 00:00 on the 1st to local 00:00 on the next 1st."""
        return (
            local_midnight_us(self.first_day, timezone),
            local_midnight_us(self.next().first_day, timezone),
        )

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, day.month)


def to_us(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS_PER_SECOND + delta.microseconds


def from_us(microseconds: int) -> datetime:
    from datetime import timedelta

    return _EPOCH + timedelta(microseconds=microseconds)


@lru_cache(maxsize=65_536)
def local_midnight_us(day: date, timezone: str) -> int:
    """The start of a local date, in UTC microseconds (zoneinfo, `fold=0`)."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return to_us(local.astimezone(UTC))


def local_date_of(microseconds: int, timezone: str) -> date:
    return from_us(microseconds).astimezone(ZoneInfo(timezone)).date()
