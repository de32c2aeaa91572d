"""Where instants fall on the chart: the month's window mapped to x exactly and rounded
once, the document's UTC text to microseconds and back, and the month's local days (cut
at the true local midnights, so a DST day is 23 or 25 hours wide) and zone names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from consumers.http.web.timeline.model import WIDTH, Day, MonthBand
from ledger.money import round_half_even
from ledger.periods import Period, from_us, local_date_of, local_midnight_us, to_us
from ledger.timeformat import format_utc, parse_utc


class Scale:
    """Window instants to x: exact, rounded once."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    def clamp(self, at: int) -> int:
        return min(max(at, self.start), self.end)

    def x(self, at: int) -> Decimal:
        exact = Fraction(WIDTH * (self.clamp(at) - self.start), self.end - self.start)
        return two_places(exact)


def two_places(value: Fraction) -> Decimal:
    """An exact value rounded once to the drawing's two decimals, half-even: the ledger's
    one rounding rule (`ledger.money.round_half_even`)."""
    return round_half_even(value, 2)


def us(text: str) -> int:
    """The instant of an RFC 3339 UTC text of the document, in microseconds."""
    return to_us(parse_utc(text))


def text(at: int) -> str:
    """An instant as RFC 3339 UTC text, as the document writes them."""
    return format_utc(from_us(at))


def us_of_day(day: str, timezone: str) -> int:
    """The local midnight starting the ISO date `day` in `timezone`."""
    return local_midnight_us(date.fromisoformat(day), timezone)


def local_days(scale: Scale, window: tuple[int, int], timezone: str) -> list[Day]:
    """The window's local days, each from its local midnight (or the window's edge)."""
    first, last = local_date_of(window[0], timezone), local_date_of(window[1] - 1, timezone)
    found: list[Day] = []
    day = first
    while day <= last:
        start = max(local_midnight_us(day, timezone), window[0])
        end = min(local_midnight_us(day + timedelta(days=1), timezone), window[1])
        hours = Fraction(end - start, 3_600_000_000)
        found.append(Day(day, scale.x(start), scale.x(end), hours, day.weekday() >= 5))
        day += timedelta(days=1)
    return found


def month_bands(scale: Scale, year: Period, timezone: str) -> list[MonthBand]:
    """A year's months as bands, each from its true local midnight on the 1st (the
    rule the months' own windows are cut by), alternate ones shaded."""
    return [
        MonthBand(month.first_day, scale.x(start), scale.x(end), index % 2 == 1)
        for index, month in enumerate(year.months())
        for start, end in [month.window(timezone)]
    ]


def zone_names(window: tuple[int, int], days: Sequence[Day], timezone: str) -> str:
    """The zone abbreviations met in the window, in order, e.g. "AEST/AEDT"."""
    zone = ZoneInfo(timezone)
    names: list[str] = []
    for at in [window[0], *(local_midnight_us(d.day, timezone) for d in days), window[1] - 1]:
        name = from_us(at).astimezone(zone).tzname() or timezone
        if name not in names:
            names.append(name)
    return "/".join(names)
