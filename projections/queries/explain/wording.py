"""How the derivation `explain` shows writes its quantities: exact seconds with
thousands separators, durations as people say them, local wall time beside UTC, exact
ratios with their leading digits, the contract's business hours in words.

Only shaping of text: no rule of the ledger is decided here (a tier decision is told as
the computation took it). The explain document
(`projections.queries.explain.document`) holds some of these strings as fields, and its text form
(`consumers.cli.explain_text`) writes the rest, so both share these helpers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from ledger.attainment import below, exact
from ledger.business_time import WEEKDAYS
from ledger.derivation import TierDecision
from ledger.money import round_half_even, to_minor_unit
from ledger.periods import from_us
from ledger.timeformat import decimal_text, exact_seconds, format_utc

# How many decimal places of a non-terminating ratio are shown (truncated, with "…").
DIGITS = 10


def instant(microseconds: int) -> str:
    return format_utc(from_us(microseconds))


def interval_shown(start: int, end: int) -> dict[str, str]:
    """An interval of microseconds as explain shows it: its ends and its exact length."""
    return {"start": instant(start), "end": instant(end), "seconds": exact_seconds(end - start)}


def grouped(text: str) -> str:
    """`2678400` -> `2,678,400`: thousands separated for people; the digits stay exact."""
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("-").partition(".")
    return sign + f"{int(whole):,}" + dot + fraction


def seconds_text(microseconds: int | Fraction) -> str:
    return grouped(exact_seconds(microseconds)) + " s"


def duration_text(microseconds: int) -> str:
    """A duration as people say it, e.g. `72 h`, `17 min`, `1 h 30 min 15 s`."""
    hours, rest = divmod(microseconds, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    parts = [f"{hours:,} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{exact_seconds(rest)} s"] if rest or not parts else []
    return " ".join(parts)


def duration_exact(microseconds: int | Fraction) -> str:
    """A duration for people and its exact seconds, e.g. `30 min (1,800 s)`, `45 s`."""
    exact = seconds_text(microseconds)
    if isinstance(microseconds, Fraction) and microseconds.denominator != 1:
        return exact
    spoken = duration_text(int(microseconds))
    return exact if spoken == exact.replace(",", "") else f"{spoken} ({exact})"


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def target_verdict(
    status: str | None, elapsed: str, taken_us: int, target_us: int, limit: str, decided_by: str
) -> str:
    """How an incident stands against a target (a response's, §4, or a resolution's, §11):
    `elapsed` says the business time taken, `limit` names the target, `decided_by` what
    decides a pending one besides the target running out."""
    if status == "met":
        spare = target_us - taken_us
        margin = f"{duration_exact(spare)} within" if spare else "exactly"
        return f"met: {elapsed}, {margin} {limit}"
    if status == "missed":
        return f"missed: {elapsed}, {duration_exact(taken_us - target_us)} over {limit}"
    return (
        f"pending: {elapsed}, still within {limit}; it is decided by {decided_by} or when "
        "the target runs out"
    )


def local_text(microseconds: int, timezone: str) -> str:
    """An instant as the contract's local wall time, then UTC.

    E.g. `Fri 2026-10-16 17:50 CEST (2026-10-16T15:50:00Z)`; seconds are shown only
    when they are not zero. Weekday names are fixed English, not the process locale.
    """
    local = from_us(microseconds).astimezone(ZoneInfo(timezone))
    clock = f"{local:%H:%M}"
    if local.second or local.microsecond:
        clock += f":{local:%S}" + (f".{local:%f}".rstrip("0") if local.microsecond else "")
    zone = local.tzname() or timezone
    return (
        f"{_WEEKDAY_NAMES[local.weekday()]} {local.date().isoformat()} {clock} {zone} "
        f"({instant(microseconds)})"
    )


def local_range_text(start_us: int, end_us: int, timezone: str) -> str:
    """`Fri 2026-10-16 17:50–18:00 CEST`: a range of local wall time, compact on one day."""
    zone = ZoneInfo(timezone)
    first, last = from_us(start_us).astimezone(zone), from_us(end_us).astimezone(zone)
    whole = all(not (t.second or t.microsecond) for t in (first, last))
    if whole and first.date() == last.date() and first.tzname() == last.tzname():
        return (
            f"{_WEEKDAY_NAMES[first.weekday()]} {first.date().isoformat()} "
            f"{first:%H:%M}–{last:%H:%M} {first.tzname()}"
        )
    return f"{local_text(start_us, timezone)} to {local_text(end_us, timezone)}"


def business_hours_text(hours: Any, timezone: str) -> str:
    """The contract's business hours as people write them.

    `24x7 (every hour counts)`, or e.g. `Mon–Fri 08:00–18:00 Europe/Berlin, minus
    holidays 2026-10-03`: consecutive days with the same hours are grouped.
    """
    if hours == "24x7":
        return "24x7 (every hour of every day counts)"
    weekly = hours.get("weekly", {}) if isinstance(hours, Mapping) else {}
    slots = [
        ", ".join(f"{start}–{end}" for start, end in weekly.get(day) or ()) for day in WEEKDAYS
    ]
    groups: list[tuple[int, int, str]] = []
    for index, text in enumerate(slots):
        if not text:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))
    days = [
        (
            _WEEKDAY_NAMES[first]
            if first == last
            else f"{_WEEKDAY_NAMES[first]}{'–' if last > first + 1 else ', '}{_WEEKDAY_NAMES[last]}"
        )
        + f" {text}"
        for first, last, text in groups
    ]
    holidays = sorted(hours.get("holidays") or ()) if isinstance(hours, Mapping) else []
    minus = f", minus holidays {', '.join(holidays)}" if holidays else ", no holidays listed"
    return f"{'; '.join(days) or 'no business hours'} {timezone}{minus}"


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value}"


def digits(value: Fraction, places: int = DIGITS) -> str:
    """The exact decimal if it terminates within `places`, else truncated with `…`."""
    units = math.trunc(value * 10**places)
    if Fraction(units, 10**places) == value:
        return decimal_text(value)
    return format(Decimal(units).scaleb(-places), "f") + "…"


def percent_value(value: Fraction) -> dict[str, str]:
    """A ratio in percent: exact fraction, leading digits, and the 4-place display."""
    return {
        "fraction": fraction_text(value),
        "digits": digits(value),
        "rounded_4dp": str(round_half_even(value, 4)),
    }


def money_value(value: Fraction, currency: str) -> dict[str, str]:
    return {
        "fraction": fraction_text(value),
        "digits": digits(value),
        "rounded": str(to_minor_unit(value, currency)),
    }


def weight_percent(weight: Fraction) -> str:
    return decimal_text(weight * 100)


def ids(*groups: Sequence[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted({event_id for group in groups for event_id in group})


def tier_facts(decision: TierDecision, what: str) -> dict[str, Any]:
    """Which tier applied and why its neighbours did not (§3: strict `<`, exact value)."""
    value, tiers, chosen = decision.value_percent, decision.tiers, decision.chosen
    table = [
        {
            "below_percent": str(t.below_percent),
            "credit_percent": str(t.credit_percent),
            "value_is_below": None if value is None else below(value, exact(t.below_percent)),
        }
        for t in tiers
    ]
    lower = higher = None
    shown = None if value is None else f"{what} {digits(value)}%"
    if value is None:
        reason = f"no tier applies: there is no {what} figure, so the {what} credit is 0%"
    elif chosen is None:
        top = f"{tiers[-1].below_percent}%" if tiers else "none"
        reason = (
            f"no tier applies: {shown} is not below any tier threshold (the highest is "
            f"{top}), so the {what} credit is 0%"
        )
    else:
        tier = tiers[chosen]
        reason = (
            f'the tier "below {tier.below_percent}% → {tier.credit_percent}% credit" applies: '
            f"{shown} is below {tier.below_percent}%, and no tier with a lower threshold "
            "matches"
        )
        if chosen > 0:
            under = tiers[chosen - 1]
            lower = (
                f'the tier "below {under.below_percent}% → {under.credit_percent}% credit" '
                f"does not apply: {shown} is not below {under.below_percent}%"
            )
        if chosen + 1 < len(tiers):
            above = tiers[chosen + 1]
            higher = (
                f'the tier "below {above.below_percent}% → {above.credit_percent}% credit" '
                f"does not apply: {shown} is below {above.below_percent}% too, but when "
                "several tiers match only the one with the lowest threshold applies"
            )
    return {
        "tiers": table,
        "chosen": None if chosen is None else table[chosen],
        "credit_percent": str(decision.credit_percent),
        "reason": reason,
        "next_lower_tier": lower,
        "next_higher_tier": higher,
    }
