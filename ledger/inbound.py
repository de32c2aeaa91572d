"""Strict validation of inbound envelopes (spec: ../shared/spec/events.md).

`validate_envelope` takes a parsed JSON document (the result of `json.loads`) and returns
an `InboundEvent` whose payload is *normalised* (see `ledger.events`), or raises
`RejectedInputError` naming the first offending field as a dotted, indexed path
(`payload.services[0].monthly_fee`) and the rule it broke.

The envelope is validated first, with the payload kept as a plain object; then the payload
model that `type` selects. Each field is checked by a plain validator of ours, so every
message is ours and nothing is coerced: a JSON number is never a decimal string, `"1"` is
never the integer 1, `true` is never a number. The pydantic models are built once, at
import.

Normalised payloads hold plain JSON values only (str, int, None, list, dict):
- every optional field is present, with its default (see each model);
- instants are re-spelt by `format_utc` (UTC, `Z`, microseconds only when non-zero);
- dates are `YYYY-MM-DD`; decimals, durations and business hours are kept as given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any, Final, NoReturn, TypeVar, cast
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ledger.business_time import (
    WEEKDAYS,
    ScheduleError,
    SlotOverlapError,
    day_slots,
    parse_slot,
)
from ledger.currencies import MINOR_UNITS
from ledger.errors import InvalidInputError
from ledger.events import EVENT_TYPES, InboundEvent
from ledger.periods import EARLIEST_DATE, LATEST_DATE
from ledger.timeformat import format_utc, parse_date, parse_duration, parse_rfc3339

__all__ = [
    "CAUSES",
    "MAX_IDENTIFIER_CHARS",
    "MAX_TEXT_CHARS",
    "PRIORITIES",
    "SUPPORTED_SCHEMA_VERSIONS",
    "TIMEZONES",
    "RejectedInputError",
    "field_path",
    "require_object",
    "validate_envelope",
    "validate_event_id",
]

SUPPORTED_SCHEMA_VERSIONS: Final = (1,)
CAUSES: Final = ("provider", "customer_caused", "force_majeure", "third_party")
PRIORITIES: Final = ("P1", "P2", "P3", "P4")
REMEDIES: Final = ("credit", "cash")
WINDOWS: Final = ("month", "year")  # availability.window (sla-math §9)
DECISIONS: Final = ("approved", "denied")
# Optional service terms added after the first contracts were recorded (sla-math §10):
# absent from a normalised payload while null, so that an event recorded before them
# normalises to the very same content (its digest, its idempotency) as it did then.
ADDED_SERVICE_TERMS: Final = ("claim_deadline_days", "credit_threshold_amount")
DOCUMENT: Final = "(document)"

# Decimal strings: at most this many digits on either side of the point.
MAX_DECIMAL_DIGITS: Final = 20
# Identifiers (contract, customer, service, outage, maintenance and incident ids) and
# free text (`source`, `customer_name`, `reason`), in characters (code points). An id is
# a key that every report row, entry and log line repeats; text is kept for audit.
MAX_IDENTIFIER_CHARS: Final = 200
MAX_TEXT_CHARS: Final = 2000
MAX_INT32: Final = 2**31 - 1


def _load_timezones() -> frozenset[str]:
    """IANA names of the `tzdata` package (not the machine's zoneinfo), less `Factory`."""
    try:
        names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is a dependency
        import zoneinfo

        names = sorted(zoneinfo.available_timezones())
    return frozenset(names) - {"Factory", "localtime", "posixrules"}


TIMEZONES: Final = _load_timezones()


class RejectedInputError(InvalidInputError):
    """An inbound document broke a rule of the contract: `field` says where, `rule` what."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule

    def __reduce__(self) -> tuple[type[RejectedInputError], tuple[str, str]]:
        return (type(self), (self.field, self.rule))


# ---------------------------------------------------------------------------------------
# Describing what was found, for messages.

_SHOWN_CHARS: Final = 60
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _quote(text: str) -> str:
    """A string as JSON text, cut short when long, never with an unpaired surrogate."""
    suffix = ""
    if len(text) > _SHOWN_CHARS:
        suffix = f"... ({len(text)} characters)"
        text = text[:_SHOWN_CHARS]
    shown = json.dumps(text, ensure_ascii=False)
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        shown = json.dumps(text)
    return shown + suffix


def _number_text(value: object) -> str:
    try:
        text = json.dumps(value) if isinstance(value, float) else str(value)
    except ValueError:  # an int past Python's digit limit for str()
        return "with too many digits to show"
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _describe(value: object) -> str:
    """What a JSON value is, for `got ...`: `number 120`, `string "1"`, `array`, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean true" if value else "boolean false"
    if isinstance(value, int | float | Decimal):
        return f"number {_number_text(value)}"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def field_path(loc: Iterable[str | int], prefix: str = "") -> str:
    """`("services", 0, "monthly_fee")` -> `services[0].monthly_fee`; empty -> `(document)`."""
    text = prefix
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif _IDENTIFIER.fullmatch(item):
            text = f"{text}.{item}" if text else item
        else:
            text += f"[{_quote(item)}]"
    return text or DOCUMENT


# ---------------------------------------------------------------------------------------
# Field validators. Each takes the raw JSON value and returns the validated one.

_RULE: Final = "ledger_rule"


def _fail(
    rule: str, at: tuple[str | int, ...] = (), *, of_key: bool = False
) -> PydanticCustomError:
    """An error with our message; `at` extends its location (for checks across fields).

    `of_key`: the error is about an object's key (pydantic adds a "[key]" marker after it).
    """
    return PydanticCustomError(_RULE, "{rule}", {"rule": rule, "at": at, "of_key": of_key})


def _expect_str(value: object, what: str = "a string") -> str:
    if isinstance(value, str):
        return value
    raise _fail(f"must be {what}, got {_describe(value)}")


# C0 and C1 control characters, DEL, and unpaired surrogates (which are not UTF-8).
_BAD_ID_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_TEXT_CHARS = re.compile("[\x00\ud800-\udfff]")


def _identifier(value: object) -> str:
    text = _expect_str(value, "a non-empty string")
    if not text:
        raise _fail("must not be empty")
    if len(text) > MAX_IDENTIFIER_CHARS:
        raise _fail(f"must be at most {MAX_IDENTIFIER_CHARS} characters, got {len(text)}")
    if _BAD_ID_CHARS.search(text) is not None:
        raise _fail(
            f"must not contain control characters or unpaired surrogates, got {_quote(text)}"
        )
    if text[0].isspace() or text[-1].isspace():
        raise _fail(f"must not start or end with white space, got {_quote(text)}")
    return text


def _text(value: object) -> str:
    text = _expect_str(value)
    if not text or text.isspace():
        raise _fail("must not be empty or only white space")
    if len(text) > MAX_TEXT_CHARS:
        raise _fail(f"must be at most {MAX_TEXT_CHARS} characters, got {len(text)}")
    if _BAD_TEXT_CHARS.search(text) is not None:
        raise _fail(f"must not contain NUL characters or unpaired surrogates, got {_quote(text)}")
    return text


_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def _decimal(value: object) -> tuple[str, Decimal]:
    if not isinstance(value, str):
        raise _fail(f"must be a decimal string, got {_describe(value)}")
    match = _DECIMAL.fullmatch(value)
    if match is None and value.startswith("-") and _DECIMAL.fullmatch(value[1:]) is not None:
        raise _fail(f"must not be negative, got {_quote(value)}")
    if match is None:
        raise _fail(f'must be a decimal string such as "99.95", got {_quote(value)}')
    whole, fraction = match.groups()
    if len(whole) > MAX_DECIMAL_DIGITS or (fraction and len(fraction) > MAX_DECIMAL_DIGITS):
        raise _fail(
            f"must have at most {MAX_DECIMAL_DIGITS} digits before and after the decimal "
            f"point, got {_quote(value)}"
        )
    return value, Decimal(value)


def _money(value: object) -> str:
    return _decimal(value)[0]  # `_decimal` refuses a sign: >= 0 holds


_HUNDRED: Final = Decimal(100)


def _percent_open(value: object) -> str:
    """A percentage in (0, 100]."""
    text, number = _decimal(value)
    if not 0 < number <= _HUNDRED:
        raise _fail(f"must be > 0 and <= 100, got {_quote(text)}")
    return text


def _percent_closed(value: object) -> str:
    """A percentage in [0, 100]."""
    text, number = _decimal(value)
    if number > _HUNDRED:
        raise _fail(f"must be >= 0 and <= 100, got {_quote(text)}")
    return text


_P = TypeVar("_P")


def _plain_ascii(text: str) -> bool:
    # Non-ASCII text and a trailing newline are valid in none of the contract's formats
    # (the parsers match [0-9] in the whole text too): such a text is parsed as "", so
    # that it fails, and the message quotes the text as received.
    return text.isascii() and not text.endswith("\n")


_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?")
_EARLIEST_INSTANT: Final = "1970-01-01T00:00:00Z"
_LATEST_INSTANT: Final = "9999-01-01T00:00:00Z"


def _parsed(parse: Callable[[str], _P], text: str) -> _P:
    """Run a `ledger.timeformat` parser; its message, with the text quoted, on failure."""
    candidate = text if _plain_ascii(text) else ""
    try:
        return parse(candidate)
    except InvalidInputError as exc:
        raise _fail(str(exc).replace(f'"{candidate}"', _quote(text), 1)) from None
    except (OverflowError, ValueError):
        raise _fail(f"is out of range, got {_quote(text)}") from None


def _instant(value: object) -> datetime:
    text = _expect_str(value, "an RFC 3339 timestamp string")
    try:
        instant = _parsed(parse_rfc3339, text)
    except PydanticCustomError:
        if _NAIVE.fullmatch(text):
            raise _fail(
                f"must have an explicit offset (Z or +HH:MM), got naive timestamp {_quote(text)}"
            ) from None
        raise
    if not EARLIEST_DATE.year <= instant.year <= LATEST_DATE.year:
        raise _fail(
            f"must be between {_EARLIEST_INSTANT} and {_LATEST_INSTANT}, got {_quote(text)}"
        )
    return instant


def _day(value: object) -> date:
    text = _expect_str(value, "a date string YYYY-MM-DD")
    day = _parsed(parse_date, text)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise _fail(f"must be between {EARLIEST_DATE} and {LATEST_DATE}, got {_quote(text)}")
    return day


def _first_of_month(value: object) -> date:
    day = _day(value)
    if day.day != 1:
        raise _fail(f'must be the first day of a month, got "{day.isoformat()}"')
    return day


def _duration(value: object) -> str:
    text = _expect_str(value, 'an ISO 8601 duration string such as "PT15M"')
    _parsed(parse_duration, text)
    return text


def _positive_duration(value: object) -> str:
    text = _duration(value)
    if not parse_duration(text):
        raise _fail(f"must be longer than zero, got {_quote(text)}")
    return text


# An ISO 8601 duration with any designators, calendar ones included: what a resolution
# target is checked against first, so that a year, a month or a week is refused by name.
_CALENDAR_DURATION = re.compile(
    r"P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?"
    r"(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
)
_DATE_PART = re.compile(r"P([^T]*)")


def _exact_duration(value: object) -> str:
    """A duration > 0 of days, hours, minutes and seconds only (a day is 24 hours): a
    resolution target (events.md "Additions"). Years, months and weeks are refused."""
    text = _expect_str(value, 'an ISO 8601 duration string such as "PT4H"')
    if _plain_ascii(text) and _CALENDAR_DURATION.fullmatch(text) and text not in ("P", "PT"):
        date_part = _DATE_PART.match(text)
        if date_part is not None and any(unit in date_part.group(1) for unit in "YMW"):
            raise _fail(
                f"must use only the units D, H, M and S (years, months and weeks are "
                f"refused), got {_quote(text)}"
            )
    return _positive_duration(text)


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    allowed = ", ".join(f'"{choice}"' for choice in choices)

    def check(value: object) -> str:
        text = _expect_str(value)
        if text not in choices:
            raise _fail(f"must be one of {allowed}, got {_quote(text)}")
        return text

    return check


def _key_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    allowed = ", ".join(choices)

    def check(value: object) -> str:
        if value not in choices:
            raise _fail(f"unexpected field (allowed: {allowed})", of_key=True)
        return str(value)

    return check


def _currency(value: object) -> str:
    text = _expect_str(value, "an ISO 4217 currency code")
    if text not in MINOR_UNITS:
        raise _fail(f"unknown currency {_quote(text)} (must be an active ISO 4217 code)")
    return text


def _timezone(value: object) -> str:
    text = _expect_str(value, "an IANA time zone name")
    if text not in TIMEZONES:
        raise _fail(f'unknown time zone {_quote(text)} (must be an IANA name such as "UTC")')
    ZoneInfo(text)  # loads (and caches) it: a listed name that fails to load is a bug
    return text


def _non_negative_int(value: object) -> int:
    if type(value) is not int:  # a JSON integer: not a boolean, not a number with a point
        raise _fail(f"must be a non-negative integer, got {_describe(value)}")
    if not 0 <= value <= MAX_INT32:
        raise _fail(f"must be >= 0 and <= {MAX_INT32}, got {_number_text(value)}")
    return value


def _claim_deadline_days(value: object) -> int:
    if type(value) is not int:  # a JSON integer: not a boolean, a string or 60.0
        raise _fail(f"must be an integer >= 1 or null, got {_describe(value)}")
    if not 1 <= value <= MAX_INT32:
        raise _fail(f"must be >= 1 and <= {MAX_INT32}, got {_number_text(value)}")
    return value


_PERIOD_LABEL = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?")


def _period_label(value: object) -> str:
    """A claim's period: `YYYY-MM` (month 01-12) or `YYYY` (an annual row)."""
    text = _expect_str(value, 'a period label "YYYY-MM" or "YYYY"')
    match = _PERIOD_LABEL.fullmatch(text) if _plain_ascii(text) else None
    if match is None or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 12):
        raise _fail(f'must be "YYYY-MM" (month 01 to 12) or "YYYY", got {_quote(text)}')
    if not EARLIEST_DATE.year <= int(match.group(1)) <= LATEST_DATE.year:
        raise _fail(
            f"must be a period from {EARLIEST_DATE.year} to {LATEST_DATE.year}, got {_quote(text)}"
        )
    return text


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _event_id(value: object) -> str:
    text = _expect_str(value, "a UUID string")
    if _UUID.fullmatch(text) is None:
        raise _fail(
            f'must be a UUID such as "0b7e6f0e-9a53-4e2a-9c0d-2f3f1c1e8a10", got {_quote(text)}'
        )
    return text.lower()


def validate_event_id(value: object) -> str:
    """An `event_id` as the ledger keeps it (lower case), or `RejectedInputError`."""
    try:
        return _event_id(value)
    except PydanticCustomError as exc:
        raise RejectedInputError("event_id", str(exc)) from None


def _event_type(value: object) -> str:
    text = _expect_str(value, "an event type string")
    if text not in EVENT_TYPES:
        raise _fail(f"unknown event type {_quote(text)}")
    return text


def _schema_version(value: object) -> int:
    if type(value) is not int:
        raise _fail(f"must be the integer 1, got {_describe(value)}")
    if value not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
        raise _fail(f"unsupported schema version {_number_text(value)} (supported: {supported})")
    return value


def _object(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _fail(f"must be an object, got {_describe(value)}")


_END_OF_DAY: Final = "24:00"


def _slot(value: object) -> list[str]:
    """A business-hours slot, `["08:00", "18:00"]`, as `parse_slot` reads it; its
    refusals worded for a rejection."""
    try:
        parse_slot(value)
    except ScheduleError as exc:
        raise _fail(_slot_rule(exc, value), () if exc.at is None else (exc.at,)) from None
    return list(cast(list[str], value))


def _slot_rule(error: ScheduleError, value: object) -> str:
    if error.problem == "not_pair" or not isinstance(value, list | tuple):
        shape = f"array of {len(value)}" if isinstance(value, list) else _describe(value)
        return f'must be a pair ["HH:MM", "HH:MM"] (start, end), got {shape}'
    start, end = value
    if error.problem == "not_after_start":
        return f'must be after the start "{start}", got "{end}"'
    time = value[error.at or 0]
    if error.problem == "not_text":
        return f'must be a time "HH:MM", got {_describe(time)}'
    if time == _END_OF_DAY:
        return f'"24:00" is allowed only as the end of an interval, got {_quote(time)}'
    if error.at == 1:
        return f'must be a time "HH:MM" from "00:01" to "24:00", got {_quote(time)}'
    return f'must be a time "HH:MM" from "00:00" to "23:59", got {_quote(time)}'


def _no_overlap(slots: list[list[str]]) -> list[list[str]]:
    """A day's slots, as `day_slots` takes them; an overlap worded for a rejection."""
    try:
        day_slots([parse_slot(slot) for slot in slots])
    except SlotOverlapError as exc:
        shown = json.dumps(slots[exc.earlier])
        raise _fail(f"overlaps interval [{exc.earlier}] {shown}", (exc.later,)) from None
    return slots


_T = TypeVar("_T", str, date)


def _unique(what: str) -> Callable[[list[_T]], list[_T]]:
    def check(items: list[_T]) -> list[_T]:
        seen: dict[_T, int] = {}
        for index, item in enumerate(items):
            if item in seen:
                shown = item.isoformat() if isinstance(item, date) else str(item)
                raise _fail(
                    f"duplicate {what} {_quote(shown)} (already at [{seen[item]}])", (index,)
                )
            seen[item] = index
        return items

    return check


# ---------------------------------------------------------------------------------------
# Field types.

Identifier = Annotated[str, PlainValidator(_identifier)]
Text = Annotated[str, PlainValidator(_text)]
Money = Annotated[str, PlainValidator(_money)]
PercentOpen = Annotated[str, PlainValidator(_percent_open)]
PercentClosed = Annotated[str, PlainValidator(_percent_closed)]
Instant = Annotated[
    datetime, PlainValidator(_instant), PlainSerializer(format_utc, return_type=str)
]
Day = Annotated[date, PlainValidator(_day), PlainSerializer(date.isoformat, return_type=str)]
FirstOfMonth = Annotated[
    date, PlainValidator(_first_of_month), PlainSerializer(date.isoformat, return_type=str)
]
Duration = Annotated[str, PlainValidator(_duration)]
PositiveDuration = Annotated[str, PlainValidator(_positive_duration)]
ExactDuration = Annotated[str, PlainValidator(_exact_duration)]
Currency = Annotated[str, PlainValidator(_currency)]
Timezone = Annotated[str, PlainValidator(_timezone)]
Remedy = Annotated[str, PlainValidator(_one_of(REMEDIES))]
Cause = Annotated[str, PlainValidator(_one_of(CAUSES))]
Priority = Annotated[str, PlainValidator(_one_of(PRIORITIES))]
Window = Annotated[str, PlainValidator(_one_of(WINDOWS))]
PriorityKey = Annotated[str, PlainValidator(_key_of(PRIORITIES))]
WeekdayKey = Annotated[str, PlainValidator(_key_of(WEEKDAYS))]
NonNegativeInt = Annotated[int, PlainValidator(_non_negative_int)]
ClaimDeadlineDays = Annotated[int, PlainValidator(_claim_deadline_days)]
PeriodLabel = Annotated[str, PlainValidator(_period_label)]
Decision = Annotated[str, PlainValidator(_one_of(DECISIONS))]
HoursSlot = Annotated[list[str], PlainValidator(_slot)]
DayHours = Annotated[list[HoursSlot], AfterValidator(_no_overlap)]
CustomerIds = Annotated[
    list[Identifier], Field(min_length=1), AfterValidator(_unique("customer id"))
]
Causes = Annotated[list[Cause], AfterValidator(_unique("cause"))]
Holidays = Annotated[list[Day], AfterValidator(_unique("holiday"))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CreditTierDocument(_Strict):
    below_percent: PercentOpen
    credit_percent: PercentClosed


def _distinct_tiers(
    name: str,
) -> Callable[[list[CreditTierDocument]], list[CreditTierDocument]]:
    """Tiers' `below_percent` values must differ; an error names the earlier one in
    `name` (the list's field)."""

    def check(tiers: list[CreditTierDocument]) -> list[CreditTierDocument]:
        seen: dict[Decimal, int] = {}
        for index, tier in enumerate(tiers):
            value = Decimal(tier.below_percent)
            if value in seen:
                earlier = seen[value]
                raise _fail(
                    f"must be distinct: {_quote(tier.below_percent)} repeats "
                    f"{name}[{earlier}].below_percent {_quote(tiers[earlier].below_percent)}",
                    (index, "below_percent"),
                )
            seen[value] = index
        return tiers

    return check


CreditTiers = Annotated[list[CreditTierDocument], AfterValidator(_distinct_tiers("credit_tiers"))]
ResolutionCreditTiers = Annotated[
    list[CreditTierDocument], AfterValidator(_distinct_tiers("resolution_credit_tiers"))
]


class Availability(_Strict):
    target_percent: PercentOpen
    credit_tiers: CreditTiers
    excluded_causes: Causes = Field(default_factory=list)
    maintenance_notice: Duration | None = None
    min_downtime_seconds: NonNegativeInt = 0
    window: Window = "month"

    @model_serializer(mode="wrap")
    def _default_window_unsaid(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The normal form names `window` only when it is "year": terms that never say
        it keep the very bytes they had before the field existed (events.md "Additions":
        a producer that never sends it is unaffected)."""
        dumped = cast(dict[str, Any], handler(self))
        if dumped.get("window") == "month":
            del dumped["window"]
        return dumped


class WeeklySchedule(_Strict):
    weekly: dict[WeekdayKey, DayHours]
    holidays: Holidays = Field(default_factory=list)


def _always(value: object) -> str:
    if value != "24x7":
        shown = _quote(value) if isinstance(value, str) else _describe(value)
        raise _fail(f'must be "24x7" or an object with "weekly" (and "holidays"), got {shown}')
    return "24x7"


# Tags of the business-hours union; pydantic puts them in error locations, after
# "business_hours", and `_rejection` takes them out again.
_ALWAYS_TAG: Final = "<24x7>"
_SCHEDULE_TAG: Final = "<schedule>"
_UNION_TAGS: Final = {"business_hours": (_ALWAYS_TAG, _SCHEDULE_TAG)}


def _business_hours_kind(value: object) -> str:
    return _SCHEDULE_TAG if isinstance(value, dict | WeeklySchedule) else _ALWAYS_TAG


BusinessHours = Annotated[
    Annotated[str, PlainValidator(_always), Tag(_ALWAYS_TAG)]
    | Annotated[WeeklySchedule, Tag(_SCHEDULE_TAG)],
    Discriminator(_business_hours_kind),
]


# Optional fields of events.md "Additions" that a producer who never sends them never
# sees: absent (or null), they stay out of the normalised payload, so a document sent
# before they existed normalises, and so is identified, as it always did.
_ABSENT_WHEN_NULL: Final = ("resolution_targets", "resolution_credit_tiers")


class IncidentResponse(_Strict):
    targets: dict[PriorityKey, PositiveDuration]
    business_hours: BusinessHours
    credit_tiers: CreditTiers
    resolution_targets: dict[PriorityKey, ExactDuration] | None = None
    resolution_credit_tiers: ResolutionCreditTiers | None = None

    @model_serializer(mode="wrap")
    def _without_absent(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = dump(self)
        for name in _ABSENT_WHEN_NULL:
            if dumped.get(name, 0) is None:
                del dumped[name]
        return dumped


class Service(_Strict):
    service_id: Identifier
    monthly_fee: Money
    availability: Availability | None = None
    incident_response: IncidentResponse | None = None
    credit_cap_percent: PercentClosed = "100"
    claim_deadline_days: ClaimDeadlineDays | None = None
    credit_threshold_amount: Money | None = None


def _minor_unit_thresholds(services: Sequence[Service], currency: str) -> None:
    """`credit_threshold_amount` has at most the currency's minor-unit decimals."""
    digits = MINOR_UNITS[currency]
    for index, service in enumerate(services):
        threshold = service.credit_threshold_amount
        if threshold is None:
            continue
        _, _, fraction = threshold.partition(".")
        if len(fraction) > digits:
            raise _fail(
                f"must have at most {digits} decimals (the minor unit of {currency}), "
                f"got {_quote(threshold)}",
                ("services", index, "credit_threshold_amount"),
            )


def _unique_services(services: list[Service]) -> list[Service]:
    seen: dict[str, int] = {}
    for index, service in enumerate(services):
        if service.service_id in seen:
            raise _fail(
                f"duplicate service_id {_quote(service.service_id)} "
                f"(already at services[{seen[service.service_id]}])",
                (index, "service_id"),
            )
        seen[service.service_id] = index
    return services


Services = Annotated[list[Service], Field(min_length=1), AfterValidator(_unique_services)]


# ---------------------------------------------------------------------------------------
# Payloads, one model per event type.


class ContractSigned(_Strict):
    contract_id: Identifier
    customer_id: Identifier
    customer_name: Text
    currency: Currency
    timezone: Timezone = "UTC"
    remedy: Remedy
    effective_from: Day
    effective_to: Day | None = None
    services: Services

    @model_validator(mode="after")
    def _effective_to_after_from(self) -> ContractSigned:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise _fail(
                f'must be after effective_from "{self.effective_from.isoformat()}", '
                f'got "{self.effective_to.isoformat()}"',
                ("effective_to",),
            )
        _minor_unit_thresholds(self.services, self.currency)
        return self


class ContractAmended(_Strict):
    contract_id: Identifier
    effective_from: FirstOfMonth
    services: Services


class ContractTerminated(_Strict):
    contract_id: Identifier
    effective_to: Day


class OutageStarted(_Strict):
    outage_id: Identifier
    service_id: Identifier
    started_at: Instant
    impact_percent: PercentOpen = "100"
    customer_ids: CustomerIds | None = None


class OutageResolved(_Strict):
    outage_id: Identifier
    ended_at: Instant


def _not_before(start: datetime, end: datetime, start_name: str, end_name: str) -> None:
    if end < start:
        raise _fail(
            f'must not be before {start_name} "{format_utc(start)}", got "{format_utc(end)}"',
            (end_name,),
        )


class OutageAmended(_Strict):
    outage_id: Identifier
    started_at: Instant | None = None
    ended_at: Instant | None = None
    impact_percent: PercentOpen | None = None
    reason: Text

    @model_validator(mode="after")
    def _ends_after_start(self) -> OutageAmended:
        if self.started_at is not None and self.ended_at is not None:
            _not_before(self.started_at, self.ended_at, "started_at", "ended_at")
        return self


class OutageRetracted(_Strict):
    outage_id: Identifier
    reason: Text


class OutageClassified(_Strict):
    outage_id: Identifier
    cause: Cause
    reason: Text


class MaintenanceScheduled(_Strict):
    maintenance_id: Identifier
    service_id: Identifier
    starts_at: Instant
    ends_at: Instant
    customer_ids: CustomerIds | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> MaintenanceScheduled:
        _not_before(self.starts_at, self.ends_at, "starts_at", "ends_at")
        return self


class MaintenanceCancelled(_Strict):
    maintenance_id: Identifier


class IncidentOpened(_Strict):
    incident_id: Identifier
    contract_id: Identifier
    service_id: Identifier
    priority: Priority
    opened_at: Instant


class IncidentResponded(_Strict):
    incident_id: Identifier
    responded_at: Instant


class IncidentReprioritized(_Strict):
    incident_id: Identifier
    priority: Priority
    at: Instant


class IncidentResolved(_Strict):
    incident_id: Identifier
    resolved_at: Instant


class IncidentPaused(_Strict):
    incident_id: Identifier
    at: Instant
    reason: Text


class IncidentResumed(_Strict):
    incident_id: Identifier
    at: Instant


class ClaimSubmitted(_Strict):
    claim_id: Identifier
    contract_id: Identifier
    service_id: Identifier
    period: PeriodLabel
    submitted_at: Instant


class ClaimWithdrawn(_Strict):
    claim_id: Identifier


class ClaimDecided(_Strict):
    claim_id: Identifier
    decision: Decision
    reason: Text


PAYLOAD_MODELS: Final[dict[str, type[_Strict]]] = {
    "contract.signed": ContractSigned,
    "contract.amended": ContractAmended,
    "contract.terminated": ContractTerminated,
    "outage.started": OutageStarted,
    "outage.resolved": OutageResolved,
    "outage.amended": OutageAmended,
    "outage.retracted": OutageRetracted,
    "outage.classified": OutageClassified,
    "maintenance.scheduled": MaintenanceScheduled,
    "maintenance.cancelled": MaintenanceCancelled,
    "incident.opened": IncidentOpened,
    "incident.responded": IncidentResponded,
    "incident.reprioritized": IncidentReprioritized,
    "incident.resolved": IncidentResolved,
    "incident.paused": IncidentPaused,
    "incident.resumed": IncidentResumed,
    "claim.submitted": ClaimSubmitted,
    "claim.withdrawn": ClaimWithdrawn,
    "claim.decided": ClaimDecided,
}
assert PAYLOAD_MODELS.keys() == EVENT_TYPES.keys()


class Envelope(_Strict):
    # The schema version comes first: under another version every other rule may differ.
    schema_version: Annotated[int, PlainValidator(_schema_version)]
    event_id: Annotated[str, PlainValidator(_event_id)]
    type: Annotated[str, PlainValidator(_event_type)]
    occurred_at: Instant
    source: Text
    payload: Annotated[dict[str, Any], PlainValidator(_object)]


# ---------------------------------------------------------------------------------------
# Errors: pydantic's first error, as our field path and rule.


def _rule_of(error: Any) -> tuple[tuple[str | int, ...], str]:
    kind = error["type"]
    loc: tuple[str | int, ...] = error["loc"]
    if kind == _RULE:
        context = error["ctx"]
        if context["of_key"] and loc[-1:] == ("[key]",):
            loc = loc[:-1]
        return loc + tuple(context["at"]), str(context["rule"])
    if kind == "missing":
        return loc, "required field missing"
    if kind == "extra_forbidden":
        return loc, "unexpected field"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be an object, got {_describe(error['input'])}"
    if kind == "list_type":
        return loc, f"must be an array, got {_describe(error['input'])}"
    if kind == "too_short":
        return loc, "must not be empty"
    if kind == "string_unicode" and isinstance(error["input"], str):
        # A key with an unpaired surrogate: no field has such a name, and pydantic stops
        # at it (so it is reported before the object's other errors).
        return (*loc, error["input"]), "unexpected field"
    return loc, str(error["msg"])  # pragma: no cover - every error our models raise is above


def _without_union_tags(loc: tuple[str | int, ...]) -> list[str | int]:
    kept: list[str | int] = []
    for index, item in enumerate(loc):
        if index and isinstance(loc[index - 1], str):
            tags = _UNION_TAGS.get(str(loc[index - 1]))
            if tags is not None and item in tags:
                continue
        kept.append(item)
    return kept


def _rejection(error: ValidationError, prefix: str) -> RejectedInputError:
    loc, rule = _rule_of(error.errors(include_url=False)[0])
    return RejectedInputError(field_path(_without_union_tags(loc), prefix), rule)


def _reject(field: str, rule: str) -> NoReturn:
    raise RejectedInputError(field, rule)


_validate_envelope = Envelope.__pydantic_validator__.validate_python


def require_object(document: object) -> dict[str, Any]:
    """The document, if it is a JSON object (every envelope is); else `RejectedInputError`."""
    if not isinstance(document, dict):
        _reject(DOCUMENT, f"must be a JSON object, got {_describe(document)}")
    return document


def validate_envelope(document: object) -> InboundEvent:
    """Check a parsed JSON document against the contract; return it as an `InboundEvent`.

    Raises `RejectedInputError` (field path and rule) for the first broken rule: the
    envelope's fields (`schema_version` first, then in the spec's order), then the
    payload's, in the order of the spec; field errors come before checks that span fields,
    unexpected fields after the declared ones.
    """
    try:
        envelope: Envelope = _validate_envelope(require_object(document))
    except ValidationError as exc:
        raise _rejection(exc, "") from None
    model = PAYLOAD_MODELS[envelope.type]
    try:
        payload = model.__pydantic_validator__.validate_python(envelope.payload)
    except ValidationError as exc:
        raise _rejection(exc, "payload") from None
    return InboundEvent(
        event_id=envelope.event_id,
        type=envelope.type,
        schema_version=envelope.schema_version,
        occurred_at=envelope.occurred_at,
        source=envelope.source,
        payload=_without_added_nulls(payload.model_dump()),
    )


def _without_added_nulls(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with each null `ADDED_SERVICE_TERMS` field left out (see there)."""
    services = payload.get("services")
    if isinstance(services, list):
        payload["services"] = [
            {k: v for k, v in service.items() if v is not None or k not in ADDED_SERVICE_TERMS}
            for service in services
        ]
    return payload
