"""Exposure and early warning (sla-math §8) checked end to end against a reading of the
spec written here from scratch, on generated months, at many horizons, on both stores,
from files and through the broker.

A record's time is the wall clock's and `--as-of T` asks what was known at `T` with
horizon `T`, so a provisional row whose horizon lies inside its window exists only for
the month running now in the contract's calendar. Each history is therefore built around
the clock: contracts in far-east, far-west and nearer timezones (each chosen so that its
local month has room on both sides of now, whatever day this runs), coverage from last
month or from a day of this one, outages and maintenance before and after now, some
without an end (they end at the horizon, so the figures move with it), excluded causes,
a floor, targets with more decimals, caps, claim terms (which §8 ignores), incidents
pending in business hours and 24x7, resolution targets and their credits. The
history goes in as a few intakes a moment apart, later intakes ending, classifying,
retracting and reprioritising what came before; `exposure --as-of T` is then asked at
many moments `T` between and after the intakes, and every §8 field of every row, the
pending incidents' deadlines, the status and the order of the rows are compared with the
figures computed here from the events recorded by `T`, with `H = T`, as are the row's
own figures at `T`; at the last moment the report's rows are read too. Last month
(ended, not closed) is asked as well: its projection is its actual figures.

Alerts: after each intake, the alerts raised so far must include every condition its
state met both when the intake began and when it ended, and nothing its state met at
neither (over the fraction of a second an intake takes, the figures move one way: an
open outage grows, or an open excluded one takes measured time and downtime away; a
deadline passes once), each id once, each id the spec's UUIDv5 recomputed here, and
each record's figures those of its row at a moment of its intake.

The expected figures use nothing of the ledger's: plain `datetime`/`zoneinfo`, integer
microseconds and `Fraction`s, folding the envelopes the test itself wrote.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time as clock
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.cli_process import run_in_process
from tests.integration.test_kafka_intake import Spawn, new_group, new_topics, produce, routed, spawn

pytestmark = pytest.mark.integration
# The Kafka tests' fixture that starts ingest processes (and kills any left running).
spawn_ingest = pytest.fixture(spawn.__wrapped__, name="spawn_ingest")  # type: ignore[attr-defined]

# Seeds: fresh ones each run (the seed is in every failure's message); set
# SLA_LEDGER_EXPOSURE_SEED to replay one.
SEED_ENV = "SLA_LEDGER_EXPOSURE_SEED"

# The namespace of alert ids: sla-math §8 says "the namespace the ledger uses for entry
# ids"; the specs do not print it, so it is the value fixed in the product's entry-id
# code (`ledger/credits.py`, ENTRY_NAMESPACE), written out here rather than imported.
ENTRY_NAMESPACE = uuid.UUID("6f2b8e4c-3a1d-5e7f-9b0c-1d2e3f4a5b6c")

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
MINOR = {"EUR": 2, "JPY": 0, "KWD": 3}
THRESHOLDS = {"EUR": "50.00", "JPY": "6000", "KWD": "20.000"}
FEES = {"EUR": "1000.00", "JPY": "130000", "KWD": "310.125"}
FAR_EAST = ("Pacific/Kiritimati", "Asia/Tokyo")  # UTC+14, UTC+9
FAR_WEST = ("Pacific/Pago_Pago", "America/Los_Angeles")  # UTC-11, UTC-8/-7
NEAR = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney")
# The zone where a month begins first: alerts look at every month begun here (README,
# "Decisions": which periods are provisional for alerts).
EARLIEST_ZONE = "Etc/GMT-14"
TIER_SETS = (
    [
        {"below_percent": "99.9", "credit_percent": "10"},
        {"below_percent": "99.0", "credit_percent": "25"},
        {"below_percent": "95.0", "credit_percent": "100"},
    ],
    [
        {"below_percent": "99.95", "credit_percent": "5"},
        {"below_percent": "99.90", "credit_percent": "12.5"},  # one threshold with 99.9
        {"below_percent": "98", "credit_percent": "30"},
    ],
    [
        {"below_percent": "100", "credit_percent": "3"},
        {"below_percent": "99.5", "credit_percent": "20"},
    ],
)
RESPONSE_TIER_SETS = (
    [{"below_percent": "100", "credit_percent": "5"}],
    [
        {"below_percent": "90", "credit_percent": "4"},
        {"below_percent": "50", "credit_percent": "15"},
    ],
)
# outputs.md "Additions": the fields a provisional row gains (null on closed rows).
EXPOSURE_FIELDS = (
    "projected_availability_percent",
    "budget_consumed_percent",
    "downtime_left_seconds",
    "next_tier_credit_percent",
    "projected_credit_amount",
    "credit_at_risk",
    "next_response_deadline",
)
BUDGET = (50, 75, 90, 100)  # §8's budget thresholds, percent of the budget consumed
RESOLUTION_TARGETS = {"P1": "PT4H", "P2": "PT8H", "P3": "PT12H"}  # P4: not measured
RESOLUTION_TIER_SETS = (
    [{"below_percent": "100", "credit_percent": "2"}],
    [
        {"below_percent": "75", "credit_percent": "6"},
        {"below_percent": "40", "credit_percent": "9"},
    ],
)
TARGETS = {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H", "P4": "PT8H"}
TARGET_US = {"P1": 15 * 60 * US, "P2": HOUR, "P3": 4 * HOUR, "P4": 8 * HOUR}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE = {d: [["08:00", "18:00"]] for d in WEEKDAYS[:5]} | {"sat": [["10:00", "12:00"]]}
# Two days a week: a deadline runs across several nights and days off ("24:00" ends one).
SPARSE = {"mon": [["09:00", "12:00"]], "thu": [["13:00", "24:00"]], "fri": [["00:00", "02:00"]]}


# ------------------------------------------------------------------------------ time


def to_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def from_us(moment: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=moment)


def now_us() -> int:
    return to_us(datetime.now(UTC))


def stamp(moment: int) -> str:
    """RFC 3339 in UTC; microseconds only when there are some."""
    text = from_us(moment).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{moment % US:06d}" if moment % US else "") + "Z"


def local_midnight(day: date, tz: str) -> int:
    return to_us(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)))


def local_date(moment: int, tz: str) -> date:
    return from_us(moment).astimezone(ZoneInfo(tz)).date()


def month_of(moment: int, tz: str) -> tuple[int, int]:
    day = local_date(moment, tz)
    return day.year, day.month


def shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    n = month[0] * 12 + month[1] - 1 + by
    return n // 12, n % 12 + 1


def label(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def window(month: tuple[int, int], tz: str) -> tuple[int, int]:
    nxt = shift(month, 1)
    return local_midnight(date(*month, 1), tz), local_midnight(date(*nxt, 1), tz)


# ------------------------------------------------------------------------- intervals

Span = tuple[int, int]


def merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def minus(base: Iterable[Span], removed: Iterable[Span]) -> list[Span]:
    cuts = merged(removed)
    out: list[Span] = []
    for a, b in merged(base):
        cursor = a
        for s, e in cuts:
            if e <= cursor or s >= b:
                continue
            if s > cursor:
                out.append((cursor, s))
            cursor = max(cursor, e)
        if cursor < b:
            out.append((cursor, b))
    return out


def length(spans: Iterable[Span]) -> int:
    return sum(b - a for a, b in spans)


# ----------------------------------------------------------------------- the events


def envelope(kind: str, occurred: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "schema_version": 1,
        "occurred_at": stamp(occurred),
        "source": "tests",
        "payload": payload,
    }


@dataclass(frozen=True)
class Terms:
    tz: str
    customer: str
    currency: str
    effective_from: date
    effective_to: date | None
    services: dict[str, dict[str, Any]]


@dataclass
class OutageFold:
    service: str = ""
    start: int | None = None
    end: int | None = None
    impact: Fraction = Fraction(1)
    customers: list[str] | None = None
    retracted: bool = False
    cause: str | None = None


@dataclass
class MaintenanceFold:
    service: str = ""
    start: int = 0
    end: int = 0
    announced: int = 0
    customers: list[str] | None = None
    cancelled: bool = False


@dataclass
class IncidentFold:
    contract: str = ""
    service: str = ""
    opened: int | None = None
    priorities: list[tuple[int, int, str, str]] = field(default_factory=list)  # at, occ, id, p
    responses: list[int] = field(default_factory=list)
    resolutions: list[tuple[int, str, int]] = field(default_factory=list)  # occurred, id, at


@dataclass
class Known:
    """The envelopes recorded by some moment, folded as the spec says (§1, §2, §4)."""

    contracts: dict[str, Terms]
    outages: list[OutageFold]
    maintenance: list[MaintenanceFold]
    incidents: dict[str, IncidentFold]


def parse(text: str) -> int:
    return to_us(datetime.fromisoformat(text.replace("Z", "+00:00")))


def fold(docs: list[dict[str, Any]]) -> Known:
    ordered = sorted(docs, key=lambda d: (parse(d["occurred_at"]), d["event_id"]))
    contracts: dict[str, Terms] = {}
    outages: dict[str, OutageFold] = defaultdict(OutageFold)
    maintenance: dict[str, MaintenanceFold] = defaultdict(MaintenanceFold)
    incidents: dict[str, IncidentFold] = defaultdict(IncidentFold)
    for d in ordered:
        p, kind = d["payload"], d["type"]
        if kind == "contract.signed":
            contracts[p["contract_id"]] = Terms(
                p["timezone"],
                p["customer_id"],
                p["currency"],
                date.fromisoformat(p["effective_from"]),
                None if p["effective_to"] is None else date.fromisoformat(p["effective_to"]),
                {s["service_id"]: s for s in p["services"]},
            )
        elif kind == "outage.started":
            o = outages[p["outage_id"]]
            o.service, o.start = p["service_id"], parse(p["started_at"])
            o.impact, o.customers = Fraction(p["impact_percent"]) / 100, p["customer_ids"]
        elif kind == "outage.resolved":
            outages[p["outage_id"]].end = parse(p["ended_at"])
        elif kind == "outage.retracted":
            outages[p["outage_id"]].retracted = True
        elif kind == "outage.classified":
            outages[p["outage_id"]].cause = p["cause"]
        elif kind == "maintenance.scheduled":
            m = maintenance[p["maintenance_id"]]
            m.service, m.customers = p["service_id"], p["customer_ids"]
            m.start, m.end = parse(p["starts_at"]), parse(p["ends_at"])
            m.announced, m.cancelled = parse(d["occurred_at"]), False
        elif kind == "maintenance.cancelled":
            maintenance[p["maintenance_id"]].cancelled = True
        elif kind == "incident.opened":
            i = incidents[p["incident_id"]]
            i.contract, i.service, i.opened = (
                p["contract_id"],
                p["service_id"],
                parse(p["opened_at"]),
            )
            i.priorities.append((i.opened, parse(d["occurred_at"]), d["event_id"], p["priority"]))
        elif kind == "incident.reprioritized":
            i = incidents[p["incident_id"]]
            i.priorities.append(
                (parse(p["at"]), parse(d["occurred_at"]), d["event_id"], p["priority"])
            )
        elif kind == "incident.responded":
            incidents[p["incident_id"]].responses.append(parse(p["responded_at"]))
        elif kind == "incident.resolved":
            incidents[p["incident_id"]].resolutions.append(
                (parse(d["occurred_at"]), d["event_id"], parse(p["resolved_at"]))
            )
        else:
            raise AssertionError(kind)
    return Known(contracts, list(outages.values()), list(maintenance.values()), dict(incidents))


# ------------------------------------------------------------------- the spec, read here


def duration_us(text: str) -> int:
    assert text.startswith("PT"), text
    number, unit = int(text[2:-1]), text[-1]
    return number * {"H": HOUR, "M": 60 * US, "S": US}[unit]


def business_slots(hours: Any, tz: str, a: int, b: int) -> list[Span]:
    """The business time of [a, b) as intervals, in order."""
    if b <= a:
        return []
    if hours == "24x7":
        return [(a, b)]
    zone = ZoneInfo(tz)
    out: list[Span] = []
    day = local_date(a, tz) - timedelta(days=1)
    while day <= local_date(b, tz) + timedelta(days=1):
        if day.isoformat() not in hours.get("holidays", []):
            for lo, hi in hours["weekly"].get(WEEKDAYS[day.weekday()], []):
                s = to_us(datetime.combine(day, time.fromisoformat(lo), tzinfo=zone))
                if hi == "24:00":
                    e = local_midnight(day + timedelta(days=1), tz)
                else:
                    e = to_us(datetime.combine(day, time.fromisoformat(hi), tzinfo=zone))
                if min(e, b) > max(s, a):
                    out.append((max(s, a), min(e, b)))
        day += timedelta(days=1)
    return merged(out)


def respond_by(hours: Any, tz: str, opened: int, target: int) -> int:
    """The latest t at which the business time of [opened, t) is at most the target."""
    remaining, reached = target, False
    horizon = opened + 30 * DAY
    for s, e in business_slots(hours, tz, opened, horizon):
        if reached:
            return s  # business time starts growing again here
        if e - s > remaining:
            return s + remaining
        remaining -= e - s
        reached = remaining == 0
    raise AssertionError("no business time within 30 days")


def latest(priorities: list[tuple[int, int, str, str]], until: int | None = None) -> str:
    chosen = [p for p in priorities if until is None or p[0] <= until] or priorities[:1]
    return max(chosen)[3]


@dataclass(frozen=True)
class Expected:
    contract_id: str
    service_id: str
    period: str
    fields: dict[str, Any]
    pending: list[dict[str, str]]
    budget: Fraction | None
    risk: Decimal | None
    projected: Fraction | None
    tiers: list[dict[str, str]]
    missed: list[str]
    budget_us: Fraction | None = None  # B
    # The row's own figures at the horizon (§3, §5): the projection's starting point.
    now_figures: dict[str, Any] = field(default_factory=dict)

    def order(self) -> tuple[Any, ...]:
        return (
            self.budget is None,
            -(self.budget or 0),
            self.risk is None,
            -(self.risk or 0),
            self.contract_id,
            self.service_id,
            self.period,
        )


def half_up(value: Fraction, places: int) -> Decimal:
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole).scaleb(-places)


def percent4(value: Fraction | None) -> str | None:
    if value is None:
        return None
    scaled = value * 10**4
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2):
        whole += 1
    return f"{'-' if whole < 0 else ''}{abs(whole) // 10**4}.{abs(whole) % 10**4:04d}"


def seconds_text(microseconds: int | Fraction) -> str:
    """Exact seconds, trailing zeros trimmed (a downtime may be finer than a microsecond)."""
    assert microseconds >= 0
    if Fraction(microseconds).denominator != 1:
        exact = Decimal(Fraction(microseconds).numerator) / Decimal(
            Fraction(microseconds).denominator
        )
        return format((exact / US).normalize(), "f")
    whole, part = divmod(int(microseconds), US)
    return f"{whole}.{part:06d}".rstrip("0").rstrip(".")


def normal(threshold: str) -> str:
    text = threshold
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def downtime(
    parts: list[Span], counted: list[tuple[int, int, Fraction]], floor: int
) -> tuple[int, Fraction]:
    """|parts| and §3's downtime over them: the weight is the greatest impact active,
    the down set's maximal intervals shorter than the floor are dropped."""
    points = sorted({p for s in parts for p in s} | {p for o in counted for p in o[:2]})
    runs: list[list[Any]] = []  # start, end, weighted length
    for a, b in itertools.pairwise(points):
        if not any(lo <= a and b <= hi for lo, hi in parts):
            continue
        weight = max((wt for s, e, wt in counted if s <= a and b <= e), default=Fraction(0))
        if weight == 0:
            continue
        if runs and runs[-1][1] == a:
            runs[-1][1] = b
            runs[-1][2] += weight * (b - a)
        else:
            runs.append([a, b, weight * (b - a)])
    return length(parts), sum((r[2] for r in runs if r[1] - r[0] >= floor), Fraction(0))


def tier_credit(value: Fraction | None, tiers: list[dict[str, str]]) -> Decimal:
    below = [t for t in tiers if value is not None and value < Fraction(t["below_percent"])]
    if not below:
        return Decimal(0)
    return Decimal(min(below, key=lambda t: Fraction(t["below_percent"]))["credit_percent"])


def row_figures(
    k: Known, cid: str, sid: str, month: tuple[int, int], horizon: int
) -> Expected | None:
    """The row (cid, sid, month) as known in `k` at horizon `horizon`, None if no row."""
    c = k.contracts[cid]
    terms = c.services[sid]
    w = window(month, c.tz)
    lo = max(w[0], local_midnight(c.effective_from, c.tz))
    hi = w[1] if c.effective_to is None else min(w[1], local_midnight(c.effective_to, c.tz))
    if hi <= lo:
        return None
    covered = (lo, hi)
    fee_basis = Fraction(terms["monthly_fee"]) * (hi - lo) / (w[1] - w[0])
    places = MINOR[c.currency]

    cap = Decimal(terms.get("credit_cap_percent", "100"))

    def owed(percent: Decimal) -> Decimal:
        return half_up(fee_basis * Fraction(min(percent, cap)) / 100, places)

    # §4: the row's incidents (opened in the window, not only the covered part).
    response = terms.get("incident_response")
    met = missed_count = 0
    missed: list[str] = []
    pending: list[dict[str, str]] = []
    if response is not None:
        hours = response["business_hours"]
        for iid, i in sorted(k.incidents.items()):
            if i.contract != cid or i.service != sid or i.opened is None:
                continue
            if not w[0] <= i.opened < w[1]:
                continue
            first = min(i.responses, default=None)
            priority = latest(i.priorities, first)
            target = duration_us(response["targets"][priority])
            if first is not None:
                took = length(business_slots(hours, c.tz, i.opened, first))
                if took <= target:
                    met += 1
                else:
                    missed_count += 1
                    missed.append(iid)
            elif length(business_slots(hours, c.tz, i.opened, horizon)) > target:
                missed_count += 1
                missed.append(iid)
            else:
                deadline = respond_by(hours, c.tz, i.opened, target)
                pending.append(
                    {
                        "incident_id": iid,
                        "priority": priority,
                        "opened_at": stamp(i.opened),
                        "target_seconds": seconds_text(target),
                        "respond_by": stamp(deadline),
                    }
                )
    attainment = Fraction(100 * met, met + missed_count) if met + missed_count else None
    response_credit = tier_credit(attainment, response["credit_tiers"]) if response else Decimal(0)
    # §11 (no pauses here): the last resolution in event order; the priority set at or
    # before it (unresolved: the latest); business time to it, or to the horizon.
    resolved = unresolved_over = resolved_met = 0
    if response is not None and "resolution_targets" in response:
        hours = response["business_hours"]
        for i in k.incidents.values():
            if i.contract != cid or i.service != sid or i.opened is None:
                continue
            if not w[0] <= i.opened < w[1]:
                continue
            last = max(i.resolutions, default=None)
            end = horizon if last is None else last[2]
            priority = latest(i.priorities, None if last is None else last[2])
            goal = response["resolution_targets"].get(priority)
            if goal is None:
                continue
            over = length(business_slots(hours, c.tz, i.opened, end)) > duration_us(goal)
            if last is not None:
                resolved += 1
                resolved_met += not over
            elif over:
                unresolved_over += 1
        judged = resolved + unresolved_over
        share = Fraction(100 * resolved_met, judged) if judged else None
        response_credit += tier_credit(share, response["resolution_credit_tiers"])
    pending.sort(key=lambda p: (parse(p["respond_by"]), p["incident_id"]))
    deadline_text = pending[0]["respond_by"] if pending else None
    fields: dict[str, Any] = dict.fromkeys(EXPOSURE_FIELDS)
    fields["next_response_deadline"] = deadline_text
    availability = terms.get("availability")
    if availability is None:
        now_figures = {
            "availability_percent": None,
            "downtime_seconds": None,
            "credit_percent": min(response_credit, cap),
            "credit_amount": str(owed(response_credit)),
        }
        return Expected(
            cid, sid, label(month), fields, pending, None, None, None, [], missed, None, now_figures
        )
    # §8: outages without an end end at the horizon; everything else counts in full.
    applying = [
        o
        for o in k.outages
        if o.service == sid
        and not o.retracted
        and o.start is not None
        and (o.customers is None or c.customer in o.customers)
    ]

    def span(o: OutageFold) -> Span:
        assert o.start is not None
        return o.start, horizon if o.end is None else o.end

    excluded: list[Span] = [span(o) for o in applying if o.cause in availability["excluded_causes"]]
    notice = availability["maintenance_notice"]
    if notice is not None:
        excluded += [
            (m.start, m.end)
            for m in k.maintenance
            if m.service == sid
            and not m.cancelled
            and (m.customers is None or c.customer in m.customers)
            and m.start - m.announced >= duration_us(notice)
        ]
    counted = [
        (*span(o), o.impact)
        for o in applying
        if o.cause not in availability["excluded_causes"] and span(o)[1] > span(o)[0]
    ]
    floor = availability["min_downtime_seconds"] * US
    # §8 measures the whole covered window; the row's own figures stop at the horizon
    # (README, "Decisions": horizon and measurement).
    measured, down = downtime(minus([covered], excluded), counted, floor)
    measured_now, down_now = downtime(minus([(lo, min(hi, horizon))], excluded), counted, floor)
    tiers = availability["credit_tiers"]
    actual = None if measured_now == 0 else 100 * (measured_now - down_now) / Fraction(measured_now)
    credit = tier_credit(actual, tiers) + response_credit
    now_figures = {
        "availability_percent": percent4(actual),
        "downtime_seconds": seconds_text(down_now),
        "credit_percent": min(credit, cap),
        "credit_amount": str(owed(credit)),
    }
    projected = None if measured == 0 else 100 * (measured - down) / Fraction(measured)
    amount = owed(tier_credit(projected, tiers) + response_credit)
    budget = Fraction(measured) * (100 - Fraction(availability["target_percent"])) / 100
    consumed = None if budget == 0 else 100 * down / budget
    fields |= {
        "projected_availability_percent": percent4(projected),
        "budget_consumed_percent": percent4(consumed),
        "projected_credit_amount": str(amount),
    }
    risk = None
    if projected is not None:
        bounds = [t for t in tiers if projected >= Fraction(t["below_percent"])]
        if bounds:
            nxt = max(bounds, key=lambda t: Fraction(t["below_percent"]))
            bound = Fraction(nxt["below_percent"])
            left = Fraction(measured) * (100 - bound) / 100 - down
            assert left >= 0
            risk = owed(Decimal(nxt["credit_percent"]) + response_credit) - amount
            fields |= {
                "downtime_left_seconds": seconds_text(int(left)),
                "next_tier_credit_percent": nxt["credit_percent"],
                "credit_at_risk": str(risk),
            }
    return Expected(
        cid,
        sid,
        label(month),
        fields,
        pending,
        consumed,
        risk,
        projected,
        tiers,
        missed,
        budget,
        now_figures,
    )


def alert_id(cid: str, sid: str, period: str, kind: str, threshold: str) -> str:
    name = "|".join(("alert", cid, sid, period, kind, normal(threshold)))
    return str(uuid.uuid5(ENTRY_NAMESPACE, name))


@dataclass(frozen=True)
class Seen:
    """An alert condition a row meets, with what its record would say."""

    key: tuple[str, str, str, str, str]  # contract, service, period, kind, threshold
    observed: str | None
    downtime_left: str | None
    credit_at_risk: str | None
    customer: str
    currency: str


def conditions(k: Known, horizon: int) -> dict[str, Seen]:
    """Every alert a provisional row meets at `horizon` (no period is closed here), by
    id: the rows of every month from three before the latest begun to it."""
    newest = month_of(horizon, EARLIEST_ZONE)
    found: dict[str, Seen] = {}
    for cid, c in k.contracts.items():
        for sid in c.services:
            for by in range(-3, 1):
                month = shift(newest, by)
                row = row_figures(k, cid, sid, month, horizon)
                if row is None:
                    continue
                met: list[tuple[str, str, str | None]] = []
                if row.budget is not None:
                    shown = percent4(row.budget)
                    met += [
                        ("availability.budget", str(t), shown) for t in BUDGET if row.budget >= t
                    ]
                if row.projected is not None:
                    shown = percent4(row.projected)
                    met += [
                        ("availability.tier", t["below_percent"], shown)
                        for t in row.tiers
                        if row.projected < Fraction(t["below_percent"])
                    ]
                met += [("response.missed", iid, "missed") for iid in row.missed]
                for kind, threshold, observed in met:
                    key = (cid, sid, row.period, kind, normal(threshold))
                    found[alert_id(*key)] = Seen(
                        key,
                        observed,
                        row.fields["downtime_left_seconds"],
                        row.fields["credit_at_risk"],
                        c.customer,
                        c.currency,
                    )
    return found


# ------------------------------------------------------------------ generated histories


def room(tz: str, at: int) -> int:
    """How far `at` is from the nearer end of its local month."""
    w = window(month_of(at, tz), tz)
    return min(at - w[0], w[1] - at)


@dataclass
class Plan:
    """A history's contracts, and the envelopes of its intakes, made as the clock goes."""

    rnd: random.Random
    seed: int
    contracts: dict[str, Terms] = field(default_factory=dict)
    docs: list[dict[str, Any]] = field(default_factory=list)
    open_outages: list[str] = field(default_factory=list)
    outages: list[str] = field(default_factory=list)
    maintenance: list[str] = field(default_factory=list)
    pending: list[tuple[str, int]] = field(default_factory=list)  # incident, opened
    count: int = 0
    # Subjects later intakes leave alone: their row crosses a condition with time alone.
    kept: set[str] = field(default_factory=set)

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.seed}-{self.count}"

    @property
    def shared(self) -> str:
        return f"web-{self.seed}"

    def services(self) -> list[str]:
        return sorted(
            {sid for c in self.contracts.values() for sid in c.services if "R-" not in sid}
        )


def availability_terms(rnd: random.Random) -> dict[str, Any]:
    return {
        "target_percent": rnd.choice(["99.9", "99.95", "99.123", "99.5", "99.9", "100"]),
        "credit_tiers": rnd.choice(TIER_SETS),
        "excluded_causes": rnd.choice(
            [["customer_caused"], [], ["customer_caused", "third_party"]]
        ),
        "maintenance_notice": rnd.choice(["PT48H", "PT48H", None, "PT1H"]),
        "min_downtime_seconds": rnd.choice([0, 60, 600, 600]),
    }


def response_terms(rnd: random.Random, holiday: date) -> dict[str, Any]:
    hours: Any = "24x7"
    if rnd.random() < 0.7:
        hours = {
            "weekly": rnd.choice([OFFICE, OFFICE, SPARSE]),
            "holidays": [holiday.isoformat()] if rnd.random() < 0.5 else [],
        }
    terms = {
        "targets": TARGETS,
        "business_hours": hours,
        "credit_tiers": rnd.choice(RESPONSE_TIER_SETS),
    }
    if rnd.random() < 0.6:  # §11: the row's resolution credit is part of §8's amounts
        terms["resolution_targets"] = RESOLUTION_TARGETS
        terms["resolution_credit_tiers"] = rnd.choice(RESOLUTION_TIER_SETS)
    return terms


def first_intake(plan: Plan, now: int) -> list[dict[str, Any]]:
    rnd = plan.rnd
    zones = [
        next(z for z in FAR_EAST if room(z, now) >= HOUR),
        next(z for z in FAR_WEST if room(z, now) >= HOUR),
    ]
    zones += rnd.sample([z for z in NEAR if room(z, now) >= HOUR], 2)
    docs: list[dict[str, Any]] = []
    for n, tz in enumerate(zones):
        cid = f"E{plan.seed}-{n}-{uuid.uuid4().hex[:6]}"
        month = month_of(now, tz)
        today = local_date(now, tz)
        last_month = date(*shift(month, -1), 1)
        starts = [last_month, last_month + timedelta(days=rnd.randrange(1, 20))]
        if today.day > 1:
            starts.append(date(*month, rnd.randrange(1, today.day) + 1) if today.day > 2 else today)
        # The far-west contract covers all of last month: it is the month closed at the end.
        effective_from = last_month if n == 1 else rnd.choice(starts)
        end_month = date(*shift(month, 1), 1)
        effective_to = None
        if rnd.random() < 0.3 and (end_month - today).days >= 3:
            effective_to = today + timedelta(days=rnd.randrange(2, (end_month - today).days))
        currency = rnd.choice(sorted(MINOR))
        services = [
            {
                "service_id": plan.shared,
                "monthly_fee": FEES[currency],
                "credit_cap_percent": rnd.choice(["100", "12"]),
                "availability": availability_terms(rnd),
                "incident_response": response_terms(rnd, today + timedelta(days=1)),
            }
            # §10 decides what is payable, never what §8 says is owed or at risk.
            | ({"claim_deadline_days": 30} if rnd.random() < 0.4 else {})
            | ({"credit_threshold_amount": THRESHOLDS[currency]} if rnd.random() < 0.4 else {}),
            {
                "service_id": f"A-{cid}",
                "monthly_fee": FEES[currency],
                "availability": availability_terms(rnd),
            },
        ]
        if rnd.random() < 0.5:
            services.append(
                {
                    "service_id": f"R-{cid}",
                    "monthly_fee": FEES[currency],
                    "incident_response": response_terms(rnd, today + timedelta(days=2)),
                }
            )
        payload = {
            "contract_id": cid,
            "customer_id": f"K{n}",
            "customer_name": "Example Ltd",
            "currency": currency,
            "timezone": tz,
            "remedy": "credit",
            "effective_from": effective_from.isoformat(),
            "effective_to": None if effective_to is None else effective_to.isoformat(),
            "services": services,
        }
        docs.append(envelope("contract.signed", now - 90 * DAY, payload))
        plan.contracts[cid] = fold([docs[-1]]).contracts[cid]
    # The first contract's own service loses 67 minutes this month, below the tier
    # written "99.90" (the alert's threshold is "99.9", and so is its id).
    cid, first = next(iter(plan.contracts.items()))
    first.services[f"A-{cid}"]["availability"]["credit_tiers"] = TIER_SETS[1]
    w = window(month_of(now, first.tz), first.tz)
    start = now - 2 * HOUR if now - w[0] > 2 * HOUR else now + 10 * 60 * US
    docs += outage(
        plan, f"A-{cid}", start // US * US, start // US * US + 4020 * US, now, plain=True
    )
    earliest = min(window(month_of(now, z), z)[0] for z in zones)
    last = window(shift(month_of(now, zones[0]), -1), zones[0])[0]
    # Past outages, ended or not, from last month on; some only for one customer.
    for _ in range(rnd.randrange(4, 9)):
        sid = rnd.choice(plan.services())
        start = rnd.randrange(last if rnd.random() < 0.3 else earliest, now - 120 * US) // US * US
        ends = rnd.random() < 0.8
        docs += outage(
            plan,
            sid,
            start,
            start + rnd.choice([5, 45, 90, 300, 700, 1300, 2400, 3 * 3600]) * US if ends else None,
            now,
        )
    # Later ones, announced now: they count in full.
    for _ in range(rnd.randrange(1, 4)):
        sid = rnd.choice(plan.services())
        month_end = window(month_of(now, zones[0]), zones[0])[1]  # the first to end
        start = now + rnd.randrange(10 * 60 * US, max(month_end - now - 2 * HOUR, 11 * 60 * US))
        start = start // US * US
        docs += outage(plan, sid, start, start + rnd.choice([60, 1800, 5000]) * US, now)
    # Maintenance before and after now, announced early or late.
    for _ in range(rnd.randrange(3, 6)):
        sid = plan.shared if rnd.random() < 0.6 else rnd.choice(plan.services())
        later = now + rnd.randrange(HOUR, 2 * DAY)
        start = rnd.choice([rnd.randrange(earliest, now), later, later]) // US * US
        announced = min(now, start - rnd.choice([2 * HOUR, 50 * HOUR, 50 * HOUR, 10 * 60 * US]))
        mid = plan.next_id("M")
        plan.maintenance.append(mid)
        docs.append(
            envelope(
                "maintenance.scheduled",
                announced,
                {
                    "maintenance_id": mid,
                    "service_id": sid,
                    "starts_at": stamp(start),
                    "ends_at": stamp(start + rnd.choice([30 * 60, 2 * 3600]) * US),
                    "customer_ids": rnd.choice([None, None, ["K1"]]),
                },
            )
        )
    # Incidents, some answered, some pending over nights and weekends; one 24x7-style
    # P1 whose deadline passes while the test asks.
    with_response = [
        (cid, sid)
        for cid, c in plan.contracts.items()
        for sid, s in c.services.items()
        if "incident_response" in s
    ]
    for _ in range(rnd.randrange(4, 9)):
        cid, sid = rnd.choice(with_response)
        back = rnd.choice([4 * DAY, 2 * DAY, 10 * HOUR, 2 * HOUR])
        opened = rnd.randrange(max(earliest, now - back), now - 60 * US) // US * US
        docs += incident(plan, cid, sid, opened, rnd.choice(sorted(TARGETS)), now)
    # Where it is night for a business-hours calendar: an incident opened its target
    # before the last slot's end, so its deadline is the next slot's start.
    for cid, sid in with_response:
        hours = plan.contracts[cid].services[sid]["incident_response"]["business_hours"]
        tz = plan.contracts[cid].tz
        slots = [] if hours == "24x7" else business_slots(hours, tz, now - 4 * DAY, now)
        if slots and slots[-1][1] < now and slots[-1][1] - slots[-1][0] >= HOUR:
            docs += incident(plan, cid, sid, slots[-1][1] - HOUR, "P2", now, answer=False)
    # A P1 on a calendar open all through its 15 minutes: missed a few seconds from now.
    opened = (now - 15 * 60 * US + rnd.randrange(2, 6) * US) // US * US
    running = [
        (cid, sid)
        for cid, sid in with_response
        if length(
            business_slots(
                plan.contracts[cid].services[sid]["incident_response"]["business_hours"],
                plan.contracts[cid].tz,
                opened,
                now + 10 * US,
            )
        )
        == now + 10 * US - opened
    ]
    if running:
        cid, sid = rnd.choice(running)
        docs += incident(plan, cid, sid, opened, "P1", now, answer=False)
        plan.kept.add(docs[-1]["payload"]["incident_id"])
    # One open outage on most contracts' own service, placed to cross a budget
    # threshold a few seconds from now (the figures move between the horizons asked,
    # and a later intake must raise the alert with no event for that row).
    known = fold(docs)
    for cid, c in plan.contracts.items():
        sid = f"A-{cid}"
        row = row_figures(known, cid, sid, month_of(now, c.tz), now)
        if row is None or row.budget is None or row.budget_us is None:
            continue
        share = min([t for t in BUDGET if t > row.budget], default=None)
        if share is None:
            continue
        needed = int(row.budget_us * (share - row.budget) / 100)
        floor = c.services[sid]["availability"]["min_downtime_seconds"] * US
        start = (now - needed + rnd.randrange(3, 5) * US) // US * US
        covered = max(window(month_of(now, c.tz), c.tz)[0], local_midnight(c.effective_from, c.tz))
        if needed > floor + 60 * US and start >= covered:
            docs += outage(plan, sid, start, None, now, plain=True)
            plan.kept.add(docs[-1]["payload"]["outage_id"])
    return docs


def outage(
    plan: Plan, sid: str, start: int, end: int | None, now: int, plain: bool = False
) -> list[dict[str, Any]]:
    """An outage's envelopes (`plain`: full impact, every customer, never classified)."""
    rnd = plan.rnd
    oid = plan.next_id("O")
    plan.outages.append(oid)
    docs = [
        envelope(
            "outage.started",
            min(start, now),
            {
                "outage_id": oid,
                "service_id": sid,
                "started_at": stamp(start),
                "impact_percent": "100" if plain else rnd.choice(["100", "100", "50", "12.5"]),
                "customer_ids": None if plain else rnd.choice([None, None, None, ["K0", "K2"]]),
            },
        )
    ]
    if end is None:
        plan.open_outages.append(oid)
    else:
        docs.append(
            envelope("outage.resolved", min(end, now), {"outage_id": oid, "ended_at": stamp(end)})
        )
    if not plain and rnd.random() < 0.2:
        docs.append(
            envelope(
                "outage.classified",
                now - US,
                {
                    "outage_id": oid,
                    "cause": rnd.choice(["customer_caused", "third_party"]),
                    "reason": "review",
                },
            )
        )
    return docs


def incident(
    plan: Plan, cid: str, sid: str, opened: int, priority: str, now: int, answer: bool = True
) -> list[dict[str, Any]]:
    iid = plan.next_id("I")
    docs = [
        envelope(
            "incident.opened",
            opened,
            {
                "incident_id": iid,
                "contract_id": cid,
                "service_id": sid,
                "priority": priority,
                "opened_at": stamp(opened),
            },
        )
    ]
    if plan.rnd.random() < 0.3:
        fixed = plan.rnd.randrange(opened + US, now) // US * US
        docs.append(
            envelope("incident.resolved", fixed, {"incident_id": iid, "resolved_at": stamp(fixed)})
        )
    if answer and plan.rnd.random() < 0.3:
        answered = plan.rnd.randrange(opened + US, now) // US * US
        docs.append(
            envelope(
                "incident.responded",
                answered,
                {"incident_id": iid, "responded_at": stamp(answered)},
            )
        )
    else:
        plan.pending.append((iid, opened))
    return docs


def narrow_intake(plan: Plan, now: int) -> list[dict[str, Any]]:
    """One short outage of one contract's own service: the other contracts' rows get no
    event, so what they meet by now with time alone must be raised all the same."""
    last = sorted(plan.contracts)[-1]
    start = (now - 90 * US) // US * US
    return outage(plan, f"A-{last}", start, start + 30 * US, now, plain=True)


def later_intake(plan: Plan, now: int) -> list[dict[str, Any]]:
    """Corrections and news: open outages end (before or after now), new ones begin,
    outages are classified or retracted, maintenance is cancelled, pending incidents are
    answered or reprioritised."""
    rnd = plan.rnd
    docs: list[dict[str, Any]] = []
    for oid in [o for o in plan.open_outages if o not in plan.kept]:
        if rnd.random() < 0.4:
            plan.open_outages.remove(oid)
            ended = (
                now - rnd.randrange(0, 30) * US
                if rnd.random() < 0.6
                else now + rnd.randrange(60, 7200) * US
            )
            docs.append(
                envelope("outage.resolved", now - US, {"outage_id": oid, "ended_at": stamp(ended)})
            )
    touchable = [o for o in plan.outages if o not in plan.kept]
    for oid in rnd.sample(touchable, min(2, len(touchable))):
        if rnd.random() < 0.5:
            docs.append(
                envelope(
                    "outage.classified",
                    now - US,
                    {
                        "outage_id": oid,
                        "cause": rnd.choice(["customer_caused", "provider"]),
                        "reason": "review",
                    },
                )
            )
        elif rnd.random() < 0.3:
            docs.append(
                envelope("outage.retracted", now - US, {"outage_id": oid, "reason": "false alarm"})
            )
    if rnd.random() < 0.7:
        start = now - rnd.randrange(2, 40) * US
        docs += outage(plan, rnd.choice(plan.services()), start // US * US, None, now)
    if plan.maintenance and rnd.random() < 0.4:
        docs.append(
            envelope(
                "maintenance.cancelled", now - US, {"maintenance_id": rnd.choice(plan.maintenance)}
            )
        )
    for iid, opened in [p for p in plan.pending if p[0] not in plan.kept]:
        roll = rnd.random()
        if roll < 0.25:
            plan.pending.remove((iid, opened))
            answered = max(opened + US, now - rnd.randrange(1, 5) * US)
            docs.append(
                envelope(
                    "incident.responded",
                    answered,
                    {"incident_id": iid, "responded_at": stamp(answered)},
                )
            )
        elif roll < 0.6:
            fixed = max(opened + US, now - rnd.randrange(1, 5) * US)
            docs.append(
                envelope(
                    "incident.resolved", fixed, {"incident_id": iid, "resolved_at": stamp(fixed)}
                )
            )
        elif roll < 0.8:
            at = max(opened + US, now - rnd.randrange(1, 5) * US)
            docs.append(
                envelope(
                    "incident.reprioritized",
                    at,
                    {"incident_id": iid, "priority": rnd.choice(sorted(TARGETS)), "at": stamp(at)},
                )
            )
    return docs


# ---------------------------------------------------------------------------- asking


def asked(command: str, store: str, period: str, moment: int) -> dict[str, Any]:
    """`command` (exposure, report) of `period` as of `moment`, as JSON."""
    out = run_in_process(
        command, "--period", period, "--as-of", stamp(moment), "--format", "json", "--store", store
    )
    document: dict[str, Any] = json.loads(out)
    return document


def compare(store: str, known: Known, moment: int, context: Any, report: bool = False) -> None:
    """`exposure` (and with `report`, `report` too) of every period of interest as of
    `moment` against the spec's reading."""
    months = set()
    for c in known.contracts.values():
        running = month_of(moment, c.tz)
        months |= {running, shift(running, -1)}
    for month in sorted(months):
        got = asked("exposure", store, label(month), moment)
        rows = [r for r in got["rows"] if r["contract_id"] in known.contracts]
        expected = [
            row
            for cid in known.contracts
            for sid in known.contracts[cid].services
            if (row := row_figures(known, cid, sid, month, moment)) is not None
        ]
        expected.sort(key=Expected.order)
        where = (context, label(month), stamp(moment))
        assert [(r["contract_id"], r["service_id"], r["period"]) for r in rows] == [
            (e.contract_id, e.service_id, e.period) for e in expected
        ], (where, [(e.contract_id, e.service_id, e.budget, e.risk) for e in expected], rows)
        for r, e in zip(rows, expected, strict=True):
            assert r["status"] == "provisional", (where, r)
            assert {name: r[name] for name in e.fields} == e.fields, (where, r, e)
            got = {name: r[name] for name in e.now_figures}
            got["credit_percent"] = Decimal(got["credit_percent"])
            assert got == e.now_figures, (where, r, e)
            # The order of the pending incidents is the product's (the spec names none).
            pending = sorted(r["pending_incidents"], key=lambda p: p["incident_id"])
            assert pending == sorted(e.pending, key=lambda p: p["incident_id"]), (where, r, e)
        if report:
            # The report's rows carry the same fields (outputs.md "Additions"), sorted by
            # contract, then service.
            document = asked("report", store, label(month), moment)
            reported = [r for r in document["rows"] if r["contract_id"] in known.contracts]
            expected.sort(key=lambda e: (e.contract_id, e.service_id))
            assert [(r["contract_id"], r["service_id"]) for r in reported] == [
                (e.contract_id, e.service_id) for e in expected
            ], (where, reported)
            for r, e in zip(reported, expected, strict=True):
                assert {name: r[name] for name in e.fields} == e.fields, (where, r, e)


@dataclass(frozen=True)
class Intake:
    started: int  # a moment before its first record
    ended: int  # a moment after its follow-up
    known: Known  # what was recorded once it ended


def check_alerts(store: str, intakes: list[Intake], context: Any) -> None:
    """The alerts raised so far against the conditions the intakes met (spec §8)."""
    contracts = set(intakes[-1].known.contracts)
    listed = json.loads(run_in_process("alerts", "--format", "json", "--store", store))["alerts"]
    mine = [a for a in listed if a["contract_id"] in contracts]
    ids = [a["alert_id"] for a in mine]
    assert len(ids) == len(set(ids)), (context, ids)
    # Whatever moment of its window an intake's check ran at, it raised what its state
    # met at both ends of the window, and nothing it met at neither. (Between the two
    # ends the figures move one way: an open outage grows, an open excluded one takes
    # measured time and downtime away, a deadline passes.)
    lower: set[str] = set()
    upper: dict[str, Seen] = {}
    for intake in intakes:
        first, last = (
            conditions(intake.known, intake.started),
            conditions(intake.known, intake.ended),
        )
        lower |= set(first) & set(last)
        upper |= first | last
    raised = set(ids)
    assert lower <= raised, (context, [upper[i].key for i in lower - raised])
    assert raised <= set(upper), (context, [a for a in mine if a["alert_id"] not in upper])
    for a in mine:
        key = (a["contract_id"], a["service_id"], a["period"], a["kind"], a["threshold"])
        assert alert_id(*key) == a["alert_id"], (context, a)
        # What the record says: the row as the intake that raised it saw it.
        at = parse(a["recorded_at"])
        during = [i for i in intakes if i.started <= at <= i.ended]
        assert len(during) == 1, (context, a)  # raised by an intake, never by a question
        intake = during[0]
        ends = [
            seen
            for moment in (intake.started, intake.ended)
            if (seen := conditions(intake.known, moment).get(a["alert_id"])) is not None
        ]
        assert ends, (context, a)
        assert (a["customer_id"], a["currency"]) == (ends[0].customer, ends[0].currency), a
        said = (a["observed"], a["downtime_left_seconds"], a["credit_at_risk"])
        if len(ends) == 2 and ends[0] == ends[1]:
            assert said == (ends[0].observed, ends[0].downtime_left, ends[0].credit_at_risk), (
                context,
                a,
            )
        elif a["kind"] == "response.missed":
            assert a["observed"] == "missed", (context, a)
        elif len(ends) == 2:
            values = [Decimal(str(seen.observed)) for seen in ends]
            assert min(values) <= Decimal(a["observed"]) <= max(values), (context, a, ends)


def crossing(known: Known, after: int) -> int:
    """Shortly after the first moment within 6 s of `after` at which `known` meets a
    condition it does not meet at `after` (a moment in 0.5 to 2 s if none)."""
    base = set(conditions(known, after))
    for step in range(1, 25):
        moment = after + step * US // 4
        if set(conditions(known, moment)) - base:
            return moment + US // 5
    return after + random.randrange(US // 2, 2 * US)


Feed = Callable[[list[dict[str, Any]]], None]


def run_history(store: str, seed: int, feed: Feed, intakes_count: int) -> None:
    plan = Plan(random.Random(seed), seed)
    recorded: list[dict[str, Any]] = []
    moments: list[tuple[int, Known]] = []  # (a moment no intake ran at, what was known then)
    intakes: list[Intake] = []
    for n in range(intakes_count):
        begun = now_us()
        if n == 0:
            docs = first_intake(plan, begun)
        elif n == 1 and intakes_count > 2:
            docs = narrow_intake(plan, begun)
        else:
            docs = later_intake(plan, begun)
        clock.sleep(0.002)
        started = now_us()
        feed(docs)
        ended = now_us()
        clock.sleep(0.002)
        recorded += docs
        known = fold(recorded)
        if n:
            moments.append((begun, fold(recorded[: len(recorded) - len(docs)])))
        moments.append((now_us(), known))
        intakes.append(Intake(started, ended, known))
        check_alerts(store, intakes, (seed, n))
        # The next intake comes once a condition has been met with time alone, if one
        # is within a few seconds: it must raise that alert with no event for its row.
        clock.sleep(max(0.0, (crossing(known, now_us()) - now_us()) / US))
    # A fresh store: nothing of the history was rejected.
    rejected = json.loads(run_in_process("rejections", "--format", "json", "--store", store))
    assert rejected["rejections"] == [], (seed, rejected)
    clock.sleep(plan.rnd.uniform(0.5, 3))
    final = fold(recorded)
    moments.append((now_us(), final))
    for moment, known in moments:
        compare(store, known, moment, seed, report=moment == moments[-1][0])
    # The far-west contract's last month has ended everywhere: once closed, it has no
    # provisional row and its rows no projection (outputs.md: null on closed rows), and
    # a question about a moment before the close is answered as before.
    west = next(c for cid, c in final.contracts.items() if cid.split("-")[1] == "1")
    closing = label(shift(month_of(moments[-1][0], west.tz), -1))
    run_in_process("close", "--period", closing, "--store", store)
    after = now_us()
    assert [
        r
        for r in asked("exposure", store, closing, after)["rows"]
        if r["contract_id"] in final.contracts
    ] == []
    document = asked("report", store, closing, after)
    closed = [r for r in document["rows"] if r["contract_id"] in final.contracts]
    assert closed, (seed, document)
    for r in closed:
        assert r["status"] == "closed", (seed, r)
        assert all(r[name] is None for name in EXPOSURE_FIELDS), (seed, r)
    compare(store, final, moments[-1][0], seed)


def seed() -> int:
    fixed = os.environ.get(SEED_ENV)
    return int(fixed) if fixed else random.SystemRandom().randrange(10**6)


@pytest.mark.parametrize("example", range(2))
def test_generated_months_from_files_agree_with_an_independent_reading(
    store_url: str, tmp_path: Path, example: int
) -> None:
    def feed(docs: list[dict[str, Any]]) -> None:
        path = tmp_path / f"intake-{uuid.uuid4().hex[:6]}.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
        run_in_process("ingest", "--from-file", str(path), "--store", store_url)

    run_history(store_url, seed(), feed, intakes_count=3)


def test_generated_months_through_the_broker_agree_with_an_independent_reading(
    kafka_bootstrap: str, spawn_ingest: Spawn, store_url: str
) -> None:
    def feed(docs: list[dict[str, Any]]) -> None:
        topics = new_topics(kafka_bootstrap, "exposure")
        produce(kafka_bootstrap, [routed(topics, d) for d in docs])
        counts = spawn_ingest(store_url, topics, new_group(), idle=2.0).result()
        assert (counts["consumed"], counts["accepted"]) == (len(docs), len(docs)), counts

    run_history(store_url, seed(), feed, intakes_count=2)
