"""Periods: calendar months and calendar years in a contract's timezone (spec: sla-math
§1, §9)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from ledger.errors import InvalidInputError
from ledger.timeformat import MICROSECONDS_PER_SECOND

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The calendar the ledger covers. Inbound instants and dates outside these bounds are
# refused (ledger.inbound): before the epoch nothing in an SLA ledger happened, and a
# margin below year 9999 keeps "start of the day in the contract's time zone" and
# instant + duration from overflowing `datetime`. A contract is in force only on local
# dates within them, so no row exists in a period outside them: asking about one is a
# usage error (`Period.parse`), not an empty answer.
EARLIEST_DATE: Final = date(1970, 1, 1)
LATEST_DATE: Final = date(9998, 12, 31)


# The `month` of a calendar year's period: it sorts before the year's months.
WHOLE_YEAR: Final = 0


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (`YYYY-MM`) or, with `month` `WHOLE_YEAR`, a calendar year
    (`YYYY`: the window of an annual row, sla-math §9)."""

    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Period:
        """A period named by a user: `YYYY-MM` or `YYYY`, within the ledger's calendar."""
        period = cls.from_label(label)
        first = FIRST_PERIOD.year_period() if period.is_year else FIRST_PERIOD
        last = LAST_PERIOD.year_period() if period.is_year else LAST_PERIOD
        if not first <= period <= last:
            raise InvalidInputError(
                f"period {label} is outside the calendar the ledger covers: no contract can "
                f"be in force in it; give a period from {first.label} to {last.label}"
            )
        return period

    @classmethod
    def from_label(cls, label: str) -> Period:
        """The period of a `YYYY-MM` or `YYYY` label the store already holds (not
        range-checked: what was recorded stays readable)."""
        match = re.fullmatch(r"([0-9]{4})(?:-([0-9]{2}))?", label)  # ASCII, not `\d`
        if match is None or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 12):
            raise InvalidInputError(
                f'period must be YYYY-MM (a month, e.g. "2026-03") or YYYY (a year, e.g. '
                f'"2026"), got "{label}"'
            )
        month = match.group(2)
        return cls(int(match.group(1)), WHOLE_YEAR if month is None else int(month))

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(year, WHOLE_YEAR)

    @property
    def is_year(self) -> bool:
        return self.month == WHOLE_YEAR

    @property
    def label(self) -> str:
        return f"{self.year:04d}" if self.is_year else f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.is_year else self.month, 1)

    def next(self) -> Period:
        """The period after this one, of the same kind (a month's next month, a year's
        next year)."""
        if self.is_year:
            return Period.of_year(self.year + 1)
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def year_period(self) -> Period:
        """The calendar year this period lies in, as a period."""
        return Period.of_year(self.year)

    def months(self) -> tuple[Period, ...]:
        """The months of this period: a year's twelve, or the month itself."""
        if self.is_year:
            return tuple(Period(self.year, month) for month in range(1, 13))
        return (self,)

    def window(self, timezone: str) -> tuple[int, int]:
        """`W` in UTC microseconds: local 00:00 on the 1st to local 00:00 on the 1st of
        the next period (a month's next month, a year's next year)."""
        return (
            local_midnight_us(self.first_day, timezone),
            local_midnight_us(self.next().first_day, timezone),
        )

    @classmethod
    def containing(cls, day: date) -> Period:
        """The month of `day`."""
        return cls(day.year, day.month)


FIRST_PERIOD: Final = Period.containing(EARLIEST_DATE)
LAST_PERIOD: Final = Period.containing(LATEST_DATE)


def to_us(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS_PER_SECOND + delta.microseconds


def from_us(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


@lru_cache(maxsize=65_536)
def local_midnight_us(day: date, timezone: str) -> int:
    """The start of a local date, in UTC microseconds (zoneinfo, `fold=0`)."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return to_us(local.astimezone(UTC))


def local_date_of(microseconds: int, timezone: str) -> date:
    return from_us(microseconds).astimezone(ZoneInfo(timezone)).date()
