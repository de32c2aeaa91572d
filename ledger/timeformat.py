"""Canonical text forms of instants, durations and exact quantities.

Everything the ledger stores or prints goes through these functions, so one instant has
one spelling (UTC, `Z`, microseconds only when non-zero) and one quantity one string.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ledger.errors import InvalidInputError

_DURATION = re.compile(
    r"P(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?"
    r"(?:(?P<seconds>[0-9]+(?:\.[0-9]{1,6})?)S)?)?"
)
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MICROSECONDS_PER_SECOND = 1_000_000


@lru_cache(maxsize=4096)
def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration with fixed-length units only (weeks, days, hours, minutes, seconds).

    Cached: every contract's terms name the same few durations ("PT15M", "PT48H"), and
    folding thousands of contracts parsed each of them anew.

    Years and months are refused: their length depends on the calendar, and a notice
    period or a response target must be one exact number of seconds.

    Cached: every contract spells its targets and notice with the same few texts, and a
    `timedelta` is immutable (a refused text raises each time, it is never cached).
    """
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise InvalidInputError(
            f'must be an ISO 8601 duration such as "PT15M", "PT48H" or "P1D", got "{text}"'
        )
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    seconds = Decimal(parts.get("seconds", "0"))
    try:
        return timedelta(
            weeks=int(parts.get("weeks", 0)),
            days=int(parts.get("days", 0)),
            hours=int(parts.get("hours", 0)),
            minutes=int(parts.get("minutes", 0)),
            microseconds=int(seconds * MICROSECONDS_PER_SECOND),
        )
    except OverflowError:
        raise InvalidInputError(f'is out of range: "{text}"') from None


def parse_rfc3339(text: str) -> datetime:
    """RFC 3339 timestamp with a required offset, normalised to UTC (microsecond precision)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidInputError(
            "must be an RFC 3339 timestamp with an offset "
            f'(e.g. "2026-03-04T10:15:00Z"), got "{text}"'
        )
    fraction = match.group(7) or ""
    if len(fraction) > 7:
        raise InvalidInputError(
            f'must have at most 6 fractional second digits (microseconds), got "{text}"'
        )
    offset = match.group(8)
    if offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        # RFC 3339's time-numoffset: time-hour (00-23) ":" time-minute (00-59).
        raise InvalidInputError(f'offset must be between -23:59 and +23:59, got "{text}"')
    iso = (
        text[:10] + "T" + text[11:19] + fraction.ljust(7, "0")[:7]
        if fraction
        else (text[:10] + "T" + text[11:19])
    )
    iso += "+00:00" if offset in ("Z", "z") else offset
    try:
        parsed = datetime.fromisoformat(iso).astimezone(UTC)
    except OverflowError:
        raise InvalidInputError(f'is out of range: "{text}"') from None
    except ValueError as exc:
        raise InvalidInputError(f'is not a real date and time: "{text}" ({exc})') from None
    return parsed


def parse_utc(text: str) -> datetime:
    """Parse a canonical UTC instant written by `format_utc` (trusted, fast path)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_utc(instant: datetime) -> str:
    """The one spelling of an instant: UTC, `Z`, microseconds only when non-zero."""
    instant = instant.astimezone(UTC)
    text = f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T" + (
        f"{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}"
    )
    if instant.microsecond:
        text += f".{instant.microsecond:06d}"
    return text + "Z"


def parse_date(text: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InvalidInputError(f'must be a date YYYY-MM-DD, got "{text}"')
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f'is not a real date: "{text}"') from None


def exact_seconds(microseconds: int | Fraction | Decimal) -> str:
    """Seconds as an exact decimal string, trailing zeros trimmed (spec: outputs.md)."""
    whole = microseconds if type(microseconds) is int else None
    if isinstance(microseconds, Fraction) and microseconds.denominator == 1:
        whole = microseconds.numerator
    if whole is not None and -_WHOLE_LIMIT < whole < _WHOLE_LIMIT:
        return _whole_microseconds_text(whole)
    value = Fraction(microseconds) / MICROSECONDS_PER_SECOND
    return decimal_text(value)


# Below this many microseconds (27 digits, some 3 × 10**13 years) `decimal_text` is
# exact; beyond, Decimal's 28-digit context would round it, and the general path keeps
# doing exactly that.
_WHOLE_LIMIT = 10**27


def _whole_microseconds_text(microseconds: int) -> str:
    """`decimal_text(Fraction(microseconds, 10**6))` for a whole number of microseconds,
    with integer arithmetic only: at most six decimals, trailing zeros trimmed."""
    seconds, rest = divmod(abs(microseconds), MICROSECONDS_PER_SECOND)
    sign = "-" if microseconds < 0 else ""
    if not rest:
        return f"{sign}{seconds}"
    return f"{sign}{seconds}.{rest:06d}".rstrip("0")


def decimal_text(value: Fraction | Decimal | int) -> str:
    """An exact, terminating decimal without exponent or trailing zeros.

    Raises if the value does not terminate in base ten: that would need rounding, and
    rounding is only done where the spec says so.
    """
    fraction = Fraction(value)
    denominator = fraction.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        raise ValueError(f"{value} has no exact decimal form")
    places = max(twos, fives)
    scaled = fraction * 10**places
    assert scaled.denominator == 1
    text = str(Decimal(scaled.numerator).scaleb(-places))
    if "E" in text or "e" in text:
        text = format(Decimal(scaled.numerator).scaleb(-places), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def to_microseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS_PER_SECOND + delta.microseconds
