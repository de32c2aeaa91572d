"""Business time: how much of an interval falls within a contract's business hours.

Spec: sla-math.md section 4. Business hours are a weekly schedule of local `[start, end)`
slots in the contract's timezone, minus holiday dates, or `"24x7"` (plain elapsed time).

How a local slot becomes real time: each boundary is a local wall time on a local date,
converted to UTC with `zoneinfo` and `fold=0` (`"24:00"` is 00:00 of the next local day).
A slot that spans a DST change therefore has its real elapsed length (01:00-04:00 on a
spring-forward night lasts 2 h, on a fall-back night 4 h). A boundary inside a skipped
hour resolves, as `fold=0` does, with the offset in force before the change; a slot
whose converted end is not after its converted start contributes nothing. The business
set is the union of all converted slots, so a piece of real time is never counted twice
even where DST makes two local slots land on the same instants.

Pure: no I/O, no clock. Cost is O(local days in the interval), not O(minutes).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger import intervals
from ledger.errors import InvalidInputError
from ledger.intervals import Interval
from ledger.periods import to_us
from ledger.timeformat import parse_date, to_microseconds
from ledger.value_keys import value_key

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS: Final = "24x7"
MINUTES_PER_DAY: Final = 24 * 60

# ASCII digits, the whole text: `\d` takes any script's digits and `$` a final newline.
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})")
_ONE_DAY = timedelta(days=1)
# Local days looked at beyond the local dates of the interval's ends. One is enough for
# ordinary zones; two also covers a zone that skipped a whole calendar day (Pacific/Apia).
_MARGIN = timedelta(days=2)

# A slot as minutes after local midnight: [start, end), end may be 1440 ("24:00").
Slot = tuple[int, int]


def clock_minutes(text: str, *, is_end: bool) -> int | None:
    """A local time of business hours as minutes after local midnight, or None when the
    text is not one: `"HH:MM"` in ASCII digits from 00:00 to 23:59, and `"24:00"` (1440,
    the end of the local day) as the end of a slot only. The one reading of a clock
    time: the contract's validation (`ledger.inbound`) and the calendar both use it."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if is_end and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


SlotProblem = Literal["not_pair", "not_text", "not_clock", "not_after_start", "overlap"]


class ScheduleError(InvalidInputError):
    """A slot or a day of business hours that the schedule refuses. `problem` names the
    rule broken; `at` is where: the clock time within the slot (0 start, 1 end), or the
    slot within the day. The calendar raises it with the field named; validation
    (`ledger.inbound`) words it for a rejection."""

    def __init__(self, problem: SlotProblem, message: str, at: int | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.at = at


class SlotOverlapError(ScheduleError):
    """Slot `at` of a day overlaps the earlier-written slot `other`."""

    def __init__(self, at: int, other: int) -> None:
        super().__init__("overlap", f"overlaps slot [{other}]", at)
        self.later = at
        self.earlier = other


def parse_slot(value: object) -> Slot:
    """A slot `["HH:MM", "HH:MM"]` as minutes after local midnight: a local `[start,
    end)` that starts before it ends, `"24:00"` only as an end. The one reading of a
    slot, for validation and the calendar."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ScheduleError("not_pair", 'must be a pair ["HH:MM", "HH:MM"]')
    minutes: list[int] = []
    for index, text in enumerate(value):
        if not isinstance(text, str):
            raise ScheduleError("not_text", f'must be a local time "HH:MM", got {text!r}', index)
        found = clock_minutes(text, is_end=index == 1)
        if found is None:
            allowed = "00:01 to 24:00" if index == 1 else "00:00 to 23:59"
            raise ScheduleError(
                "not_clock", f'must be a local time "HH:MM" from {allowed}, got "{text}"', index
            )
        minutes.append(found)
    start, end = minutes
    if not start < end:
        raise ScheduleError(
            "not_after_start", f'must end after it starts, got ["{value[0]}", "{value[1]}"]', 1
        )
    return (start, end)


def day_slots(slots: Sequence[Slot]) -> tuple[Slot, ...]:
    """A day's slots in order of their starts, refused if two overlap (touching is
    fine): the one rule of a day's slots, for validation and the calendar. An overlap
    is reported at the later-written slot of the first overlapping pair in start order."""
    order = sorted(range(len(slots)), key=lambda index: slots[index][0])
    for before, after in itertools.pairwise(order):
        if slots[after][0] < slots[before][1]:
            other, later = min(before, after), max(before, after)
            raise SlotOverlapError(later, other)
    return tuple(slots[index] for index in order)


def _parse_weekly(weekly: object) -> tuple[tuple[Slot, ...], ...]:
    if not isinstance(weekly, Mapping):
        raise InvalidInputError(
            "business_hours.weekly: must be an object with keys mon..sun, "
            f"got {type(weekly).__name__}"
        )
    unknown = sorted(str(k) for k in weekly if k not in WEEKDAYS)
    if unknown:
        raise InvalidInputError(
            f"business_hours.weekly: keys must be among {', '.join(WEEKDAYS)}, "
            f"got {', '.join(unknown)}"
        )
    days: list[tuple[Slot, ...]] = []
    for name in WEEKDAYS:
        raw = weekly.get(name, [])
        where = f"business_hours.weekly.{name}"
        if not isinstance(raw, list | tuple):
            raise InvalidInputError(f"{where}: must be a list of [start, end] pairs")
        slots: list[Slot] = []
        for index, pair in enumerate(raw):
            try:
                slots.append(parse_slot(pair))
            except ScheduleError as exc:
                raise InvalidInputError(f"{where}[{index}]{_place(exc)}: {exc}") from None
        try:
            days.append(day_slots(slots))
        except ScheduleError as exc:
            raise InvalidInputError(f"{where}{_place(exc)}: {exc}") from None
    return tuple(days)


def _place(error: ScheduleError) -> str:
    return "" if error.at is None else f"[{error.at}]"


def _parse_holidays(holidays: object) -> frozenset[date]:
    if holidays is None:
        return frozenset()
    if not isinstance(holidays, list | tuple | set | frozenset):
        raise InvalidInputError("business_hours.holidays: must be a list of YYYY-MM-DD dates")
    parsed: set[date] = set()
    for index, text in enumerate(holidays):
        if isinstance(text, date) and not isinstance(text, datetime):
            parsed.add(text)
            continue
        if not isinstance(text, str):
            raise InvalidInputError(
                f"business_hours.holidays[{index}]: must be a date YYYY-MM-DD, got {text!r}"
            )
        try:
            parsed.add(parse_date(text))
        except InvalidInputError as exc:
            raise InvalidInputError(f"business_hours.holidays[{index}]: {exc}") from None
    return frozenset(parsed)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


class BusinessCalendar:
    """The business hours of one set of response terms, in one timezone.

    `business_hours` is `"24x7"` or `{"weekly": {"mon": [["08:00", "18:00"]], ...},
    "holidays": ["2026-12-25", ...]}`. A weekday missing from `weekly` has no business
    time; `"24:00"` as an end means the end of that local day; a day's slots are read by
    `parse_slot` and `day_slots`, the rules validation applies (no empty slot, no
    overlap); a holiday is a local date on which no business time accrues.
    Invalid input raises `InvalidInputError` naming the field.
    """

    __slots__ = ("_always", "_holidays", "_timezone", "_weekly", "_zone")

    def __init__(self, timezone: str, business_hours: str | Mapping[str, Any]) -> None:
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(
                f'timezone: must be an IANA timezone name, got "{timezone}"'
            ) from None
        self._timezone = timezone
        if isinstance(business_hours, str):
            if business_hours != ALWAYS:
                raise InvalidInputError(
                    f'business_hours: must be "{ALWAYS}" or a weekly schedule, '
                    f'got "{business_hours}"'
                )
            self._always = True
            self._weekly: tuple[tuple[Slot, ...], ...] = ((),) * 7
            self._holidays: frozenset[date] = frozenset()
            return
        if not isinstance(business_hours, Mapping):
            raise InvalidInputError(
                f'business_hours: must be "{ALWAYS}" or a weekly schedule, '
                f"got {type(business_hours).__name__}"
            )
        extra = sorted(str(k) for k in business_hours if k not in ("weekly", "holidays"))
        if extra:
            raise InvalidInputError(
                f"business_hours: unknown field(s) {', '.join(extra)} (allowed: weekly, holidays)"
            )
        if "weekly" not in business_hours:
            raise InvalidInputError("business_hours.weekly: is required")
        self._always = False
        self._weekly = _parse_weekly(business_hours["weekly"])
        self._holidays = _parse_holidays(business_hours.get("holidays"))

    # -- read-only view -------------------------------------------------------------

    @property
    def timezone(self) -> str:
        return self._timezone

    @property
    def is_24x7(self) -> bool:
        return self._always

    @property
    def holidays(self) -> frozenset[date]:
        return self._holidays

    def _key(self) -> tuple[str, bool, tuple[tuple[Slot, ...], ...], frozenset[date]]:
        return (self._timezone, self._always, self._weekly, self._holidays)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self._always:
            return f"BusinessCalendar({self._timezone!r}, {ALWAYS!r})"
        return (
            f"BusinessCalendar({self._timezone!r}, weekly={self._weekly!r}, "
            f"holidays={sorted(self._holidays)!r})"
        )

    # -- arithmetic -----------------------------------------------------------------

    def _instant(self, day: date, minute: int) -> datetime:
        """Local wall time `minute` after midnight of local `day`, as UTC (fold=0)."""
        if minute == MINUTES_PER_DAY:
            day, minute = day + _ONE_DAY, 0
        hours, minutes = divmod(minute, 60)
        local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=self._zone)
        return local.astimezone(UTC)

    def _day_pieces(self, day: date) -> list[tuple[datetime, datetime]]:
        """The slots of local `day` converted to UTC, sorted (none on a holiday): the one
        place a local slot becomes real time."""
        if day in self._holidays:
            return []
        return sorted(
            (self._instant(day, start), self._instant(day, end))
            for start, end in self._weekly[day.weekday()]
        )

    def business_pieces(self, a: datetime, b: datetime) -> list[Interval]:
        """The pieces of `[a, b)` within business hours, as sorted, disjoint UTC
        microsecond intervals: what `business_microseconds` adds up, and what `explain`
        shows as the hours that counted.

        `a` and `b` must be timezone-aware. `b <= a` gives none. The union of the
        converted slots, so DST never makes a piece of real time count twice.
        """
        a = _require_aware(a, "a")
        b = _require_aware(b, "b")
        if b <= a:
            return []
        if self._always:
            return [(to_us(a), to_us(b))]
        day = a.astimezone(self._zone).date() - _MARGIN
        last = b.astimezone(self._zone).date() + _MARGIN
        pieces: list[Interval] = []
        while day <= last:
            for start, end in self._day_pieces(day):
                start, end = max(start, a), min(end, b)
                if start < end:
                    pieces.append((to_us(start), to_us(end)))
            day += _ONE_DAY
        return intervals.normalise(pieces)

    def business_microseconds(self, a: datetime, b: datetime) -> int:
        """Length of `[a, b)` within business hours, exact, in microseconds: the total
        of `business_pieces` (`"24x7"` is `b - a`, without building any piece).

        `a` and `b` must be timezone-aware. `b <= a` gives 0.
        """
        if self._always:
            a = _require_aware(a, "a")
            b = _require_aware(b, "b")
            return to_microseconds(b - a) if b > a else 0
        return intervals.total(self.business_pieces(a, b))

    def first_instant_over(self, a: datetime, target_us: int) -> datetime | None:
        """The earliest horizon `h` with `business_microseconds(a, h) > target_us`: the
        moment an incident opened at `a` and still unanswered becomes missed against a
        target of `target_us` (spec: sla-math.md section 4). None: never (a schedule
        without any business hours).

        Walks the same converted slots as `business_pieces`, day by day from `a`: once
        business time reaches the target inside a slot, `h` is one microsecond past
        that point.
        """
        a = _require_aware(a, "a")
        if self._always:
            return a + timedelta(microseconds=target_us + 1)
        if not any(self._weekly):
            return None
        remaining = target_us
        covered_to = a
        day = a.astimezone(self._zone).date() - _MARGIN
        while True:
            for piece_start, end in self._day_pieces(day):
                start = max(piece_start, covered_to)
                if start >= end:
                    continue
                length = to_microseconds(end - start)
                if remaining < length:
                    return start + timedelta(microseconds=remaining + 1)
                remaining -= length
                covered_to = end
            day += _ONE_DAY


_CALENDARS: dict[tuple[str, bool, bytes | str], BusinessCalendar] = {}
_CALENDARS_KEPT: Final = 1024
# The calendar of a weekly schedule by the schedule object itself (kept here with it, so
# its id stays its own): a report's contracts share their terms (`contracts._kept`), so
# most rows name one of a few schedule objects, found without computing any key.
_BY_SCHEDULE: dict[tuple[str, int], tuple[object, BusinessCalendar]] = {}


def calendar_for(timezone: str, business_hours: str | Mapping[str, Any]) -> BusinessCalendar:
    """`BusinessCalendar(timezone, business_hours)`, built once per distinct pair.

    Every row of a report needs its contract's calendar, and most contracts share a
    handful of schedules: parsing one per row cost more than the arithmetic. A calendar
    is immutable, so sharing one is safe. A weekly schedule is keyed by `value_key`: the
    terms hold it as parsed JSON (dicts, lists, strings), which that key tells apart;
    like the terms that hold it, a schedule is never changed once parsed. Invalid input
    raises as the constructor does, and is not kept.
    """
    # A text schedule is its own key ("24x7"); a weekly one is keyed by its value.
    if isinstance(business_hours, str):
        key: tuple[str, bool, bytes | str] = (timezone, True, business_hours)
    else:
        seen = _BY_SCHEDULE.get((timezone, id(business_hours)))
        if seen is not None and seen[0] is business_hours:
            return seen[1]
        key = (timezone, False, value_key(business_hours))
    calendar = _CALENDARS.get(key)
    if calendar is None:
        calendar = BusinessCalendar(timezone, business_hours)
        if len(_CALENDARS) >= _CALENDARS_KEPT:
            _CALENDARS.clear()
        _CALENDARS[key] = calendar
    if not isinstance(business_hours, str):
        if len(_BY_SCHEDULE) >= _CALENDARS_KEPT:
            _BY_SCHEDULE.clear()
        _BY_SCHEDULE[(timezone, id(business_hours))] = (business_hours, calendar)
    return calendar
