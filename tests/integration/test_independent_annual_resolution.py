"""Annual windows (sla-math §9) and resolution targets with pauses (§11) checked end to
end against a reading of the spec written here from scratch, on generated contracts and
histories: years in Berlin and New York (both clock changes), amendments switching a
service between monthly and yearly measurement with another fee, floor and target,
incidents with repeated resolutions, reprioritisations before and after them, and pauses
and resumes in any order over weekends, holidays and nights. Each history goes through
the command line (a JSONL file ingested, `report --period` asked as JSON) on both stores.

The expected figures use nothing of the ledger's: plain `datetime`/`zoneinfo`, integer
seconds and `Fraction`s.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_process import run_in_process
from tests.integration.test_kafka_intake import Spawn, new_group, new_topics, produce, routed, spawn

pytestmark = pytest.mark.integration
# The Kafka tests' fixture that starts ingest processes (and kills any left running).
spawn_ingest = pytest.fixture(spawn.__wrapped__, name="spawn_ingest")  # type: ignore[attr-defined]

YEAR = 2025  # ended wherever a contract is: its annual row does not move with the clock
TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
    {"below_percent": "95.0", "credit_percent": "50"},
]
RESOLUTION_TIERS = [
    {"below_percent": "90", "credit_percent": "5"},
    {"below_percent": "50", "credit_percent": "15"},
]
RESOLUTION_TARGETS = {"P1": timedelta(hours=4), "P2": timedelta(hours=8), "P3": timedelta(days=1)}
HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
HOURS["sat"] = [["10:00", "12:00"]]
HOURS["sun"] = [["01:00", "04:00"]]  # across the night both clock changes happen in
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAYS = ["2025-01-01", "2025-04-18", "2025-04-21", "2025-12-25", "2025-12-26"]
START = datetime(YEAR, 1, 1, tzinfo=UTC) - timedelta(days=2)
_ids = itertools.count()


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def secs(moment: datetime) -> int:
    return int(moment.timestamp())


def event(kind: str, occurred: datetime, payload: dict[str, Any], tag: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, tag)),
        "type": kind,
        "schema_version": 1,
        "occurred_at": utc(occurred),
        "source": "tests",
        "payload": payload,
    }


# ---------------------------------------------------------------------------------------
# Generated histories.


@dataclass(frozen=True)
class Version:
    effective_from: date
    yearly: bool
    fee: int
    target: str
    floor: int
    cap: str
    excludes: bool = False  # customer-caused outages are excluded time
    present: bool = True  # the terms name the service at all


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime | None
    impact: int
    customer_caused: bool = False


@dataclass(frozen=True)
class Mark:
    at: datetime
    paused: bool
    occurred: datetime
    event_id: str


@dataclass(frozen=True)
class Incident:
    opened: datetime
    priorities: tuple[tuple[datetime, str, datetime, str], ...]  # at, priority, occurred, id
    resolutions: tuple[tuple[datetime, datetime, str], ...]  # resolved_at, occurred, id
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class History:
    contract_id: str
    tz: str
    versions: tuple[Version, ...]
    outages: tuple[Outage, ...]
    incidents: tuple[Incident, ...]
    end: date | None = None


minute = st.integers(min_value=0, max_value=(370 * 24 * 60))
day_of_year = st.integers(min_value=0, max_value=364)


@st.composite
def histories(draw: st.DrawFn) -> History:
    tz = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    first = date(YEAR, 1, 1) + timedelta(days=draw(st.sampled_from([0, 0, 40, 150])))
    later = sorted(
        set(draw(st.lists(day_of_year.map(lambda d: date(YEAR, 1, 1) + timedelta(d)), max_size=3)))
    )
    # Amendments take effect on a 1st (validation: a switch between whole months).
    later = sorted({d.replace(day=1) for d in later} - {first})
    later = [d for d in later if d > first]

    def version(effective: date) -> Version:
        return Version(
            effective,
            draw(st.booleans()),
            draw(st.sampled_from([1000, 1500, 3100])),
            draw(st.sampled_from(["99.9", "99.5"])),
            draw(st.sampled_from([0, 0, 600, 3600])),
            draw(st.sampled_from(["100", "20"])),
            draw(st.booleans()),
            effective == first or draw(st.integers(0, 4)) > 0,
        )

    versions = tuple(version(d) for d in [first, *later])
    outages = []
    for _ in range(draw(st.integers(0, 5))):
        start = START + timedelta(minutes=draw(minute))
        length = draw(st.sampled_from([5, 30, 90, 600, 3000, 4 * 24 * 60]))
        ongoing = draw(st.integers(0, 30)) == 0
        ends = None if ongoing else start + timedelta(minutes=length)
        impact = draw(st.sampled_from([25, 50, 100]))
        outages.append(Outage(start, ends, impact, draw(st.integers(0, 3)) == 0))
    incidents = []
    for _ in range(draw(st.integers(0, 4))):
        # Often just before a weekend, a holiday or a clock change.
        anchor = draw(
            st.sampled_from(
                [
                    None,
                    "2025-04-17",
                    "2025-12-24",
                    "2025-03-28",
                    "2025-10-24",
                    "2025-11-01",
                    "2025-03-08",
                ]
            )
        )
        if anchor is None:
            day = START + timedelta(days=2 + draw(day_of_year))
        else:
            day = datetime.fromisoformat(anchor).replace(tzinfo=UTC)
        opened = day + timedelta(minutes=draw(st.integers(0, 1439)))

        def offset(lo: int = -120, hi: int = 8 * 24 * 60, at: datetime = opened) -> datetime:
            return at + timedelta(minutes=draw(st.integers(lo, hi)))

        priorities = [(opened, draw(st.sampled_from(["P1", "P2", "P3", "P4"])), opened, "")]
        for _ in range(draw(st.integers(0, 2))):
            at = offset(0)
            priorities.append((at, draw(st.sampled_from(["P1", "P2", "P3", "P4"])), at, ""))
        resolutions = []
        for _ in range(draw(st.integers(0, 3))):
            resolved = offset(1)
            # Event order may disagree with the resolved_at order: the last event counts.
            occurred = draw(st.sampled_from([resolved, opened + timedelta(days=9)]))
            resolutions.append((resolved, occurred, ""))
        marks = []
        # A few instants shared between marks: a pause and a resume at one instant.
        pool = [offset() for _ in range(3)]
        for _ in range(draw(st.integers(0, 5))):
            at = draw(st.sampled_from(pool)) if draw(st.booleans()) else offset()
            marks.append(Mark(at, draw(st.booleans()), draw(st.sampled_from([at, opened])), ""))
        incidents.append(Incident(opened, tuple(priorities), tuple(resolutions), tuple(marks)))
    end: date | None = draw(st.sampled_from([None, None, date(YEAR, 9, 17), date(YEAR, 11, 1)]))
    return History(
        f"X-{next(_ids)}-{uuid.uuid4().hex[:6]}",
        tz,
        versions,
        tuple(outages),
        tuple(incidents),
        None if end is None or end <= first else end,
    )


def other_service() -> dict[str, Any]:
    return {
        "service_id": "other",
        "monthly_fee": "10.00",
        "credit_cap_percent": "100",
        "availability": {
            "target_percent": "99",
            "credit_tiers": TIERS,
            "excluded_causes": [],
            "maintenance_notice": None,
            "min_downtime_seconds": 0,
        },
    }


def service_terms(version: Version) -> dict[str, Any]:
    availability: dict[str, Any] = {
        "target_percent": version.target,
        "credit_tiers": TIERS,
        "excluded_causes": ["customer_caused"] if version.excludes else [],
        "maintenance_notice": None,
        "min_downtime_seconds": version.floor,
    }
    if version.yearly:
        availability["window"] = "year"
    return {
        "service_id": "svc",
        "monthly_fee": f"{version.fee}.00",
        "credit_cap_percent": version.cap,
        "availability": availability,
        "incident_response": {
            "targets": {"P1": "PT1H"},
            "business_hours": {"weekly": HOURS, "holidays": HOLIDAYS},
            "credit_tiers": [],
            "resolution_targets": {"P1": "PT4H", "P2": "PT8H", "P3": "P1D"},
            "resolution_credit_tiers": RESOLUTION_TIERS,
        },
    }


def documents(h: History) -> tuple[list[dict[str, Any]], History]:
    """The history's events, and the history with the event ids they were given."""
    cid = h.contract_id
    docs = []
    for n, version in enumerate(h.versions):
        payload: dict[str, Any] = {
            "contract_id": cid,
            "effective_from": version.effective_from.isoformat(),
            # Another service, measured monthly, is always there: terms may drop ours.
            "services": [service_terms(version)] * version.present + [other_service()],
        }
        if n == 0:
            payload |= {
                "customer_id": "K",
                "customer_name": "Example Ltd",
                "currency": "EUR",
                "timezone": h.tz,
                "remedy": "credit",
                "effective_to": None if h.end is None else h.end.isoformat(),
            }
        kind = "contract.signed" if n == 0 else "contract.amended"
        docs.append(event(kind, datetime(YEAR - 1, 12, 1, n, tzinfo=UTC), payload, f"{cid}/v{n}"))
    for n, o in enumerate(h.outages):
        oid = f"{cid}-O{n}"
        docs.append(
            event(
                "outage.started",
                o.start,
                {
                    "outage_id": oid,
                    "service_id": f"svc-{cid}",
                    "started_at": utc(o.start),
                    "impact_percent": str(o.impact),
                    "customer_ids": None,
                },
                f"{oid}/s",
            )
        )
        if o.customer_caused:
            docs.append(
                event(
                    "outage.classified",
                    o.start + timedelta(minutes=1),
                    {"outage_id": oid, "cause": "customer_caused", "reason": "their change"},
                    f"{oid}/c",
                )
            )
        if o.end is not None:
            docs.append(
                event(
                    "outage.resolved", o.end, {"outage_id": oid, "ended_at": utc(o.end)}, f"{oid}/e"
                )
            )
    incidents = []
    for n, i in enumerate(h.incidents):
        iid = f"{cid}-I{n}"
        opened = event(
            "incident.opened",
            i.opened,
            {
                "incident_id": iid,
                "contract_id": cid,
                "service_id": f"svc-{cid}",
                "priority": i.priorities[0][1],
                "opened_at": utc(i.opened),
            },
            f"{iid}/o",
        )
        docs.append(opened)
        priorities = [(i.opened, i.priorities[0][1], i.opened, opened["event_id"])]
        for k, (at, priority, occurred, _) in enumerate(i.priorities[1:]):
            doc = event(
                "incident.reprioritized",
                occurred,
                {"incident_id": iid, "priority": priority, "at": utc(at)},
                f"{iid}/p{k}",
            )
            docs.append(doc)
            priorities.append((at, priority, occurred, doc["event_id"]))
        resolutions = []
        for k, (resolved, occurred, _) in enumerate(i.resolutions):
            doc = event(
                "incident.resolved",
                occurred,
                {"incident_id": iid, "resolved_at": utc(resolved)},
                f"{iid}/r{k}",
            )
            docs.append(doc)
            resolutions.append((resolved, occurred, doc["event_id"]))
        marks = []
        for k, m in enumerate(i.marks):
            payload = {"incident_id": iid, "at": utc(m.at)}
            if m.paused:
                payload["reason"] = "waiting on the customer"
            kind = "incident.paused" if m.paused else "incident.resumed"
            doc = event(kind, m.occurred, payload, f"{iid}/m{k}")
            docs.append(doc)
            marks.append(Mark(m.at, m.paused, m.occurred, doc["event_id"]))
        incidents.append(Incident(i.opened, tuple(priorities), tuple(resolutions), tuple(marks)))
    # The ledger states service ids per contract: keep them apart between examples.
    for doc in docs:
        for s in doc["payload"].get("services", []):
            s["service_id"] = f"{s['service_id']}-{cid}"
    return docs, History(cid, h.tz, h.versions, h.outages, tuple(incidents), h.end)


# ---------------------------------------------------------------------------------------
# The spec, read independently.


def local_midnight(day: date, tz: str) -> int:
    return secs(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)))


def month_window(year: int, month: int, tz: str) -> tuple[int, int]:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return local_midnight(date(year, month, 1), tz), local_midnight(nxt, tz)


def in_force(h: History, first_covered: date) -> Version | None:
    candidates = [v for v in h.versions if v.effective_from <= first_covered]
    return max(candidates, key=lambda v: v.effective_from) if candidates else None


def month_cover(h: History, month: int) -> tuple[tuple[int, int], tuple[int, int] | None]:
    window = month_window(YEAR, month, h.tz)
    lo = max(window[0], local_midnight(h.versions[0].effective_from, h.tz))
    hi = window[1] if h.end is None else min(window[1], local_midnight(h.end, h.tz))
    return window, ((lo, hi) if hi > lo else None)


def local_day(moment: int, tz: str) -> date:
    return datetime.fromtimestamp(moment, ZoneInfo(tz)).date()


def span_of(o: Outage, horizon: int) -> tuple[int, int]:
    return secs(o.start), horizon if o.end is None else secs(o.end)


def cut(parts: list[tuple[int, int]], removed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in parts:
        points = sorted({a, b} | {p for s, e in removed for p in (s, e) if a < p < b})
        for x, y in itertools.pairwise(points):
            if not any(s <= x and y <= e for s, e in removed):
                if out and out[-1][1] == x:
                    out[-1] = (out[-1][0], y)
                else:
                    out.append((x, y))
    return out


def excluded(h: History, excludes: bool, horizon: int) -> list[tuple[int, int]]:
    return [span_of(o, horizon) for o in h.outages if excludes and o.customer_caused]


def downtime(
    parts: list[tuple[int, int]],
    outages: tuple[Outage, ...],
    floor: int,
    horizon: int,
    excludes: bool = False,
) -> Fraction:
    parts = cut(parts, [span_of(o, horizon) for o in outages if excludes and o.customer_caused])
    spans = []
    for o in outages:
        if excludes and o.customer_caused:
            continue
        end = horizon if o.end is None else secs(o.end)
        if end > secs(o.start):
            spans.append((secs(o.start), end, Fraction(o.impact, 100)))
    points = sorted({p for part in parts for p in part} | {p for s in spans for p in s[:2]})
    runs: list[list[Any]] = []  # [start, end, integral]
    for a, b in itertools.pairwise(points):
        if not any(lo <= a and b <= hi for lo, hi in parts):
            continue
        weight = max((w for s, e, w in spans if s <= a and b <= e), default=Fraction(0))
        if weight == 0:
            continue
        if runs and runs[-1][1] == a:
            runs[-1][1] = b
            runs[-1][2] += weight * (b - a)
        else:
            runs.append([a, b, weight * (b - a)])
    return sum((r[2] for r in runs if r[1] - r[0] >= floor), Fraction(0))


def tier(value: Fraction | None, tiers: list[dict[str, str]]) -> Decimal:
    below = [t for t in tiers if value is not None and value < Fraction(t["below_percent"])]
    if not below:
        return Decimal(0)
    return Decimal(min(below, key=lambda t: Decimal(t["below_percent"]))["credit_percent"])


def percent4(value: Fraction | None) -> str | None:
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    # enough precision for 4 places of a percentage of these sizes
    return str(
        (Decimal(value.numerator * 10**30 // value.denominator) / Decimal(10**30)).quantize(
            Decimal("0.0001"), ROUND_HALF_EVEN
        )
        if value.denominator != 1
        else exact.quantize(Decimal("0.0001"))
    )


def cents(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    if value * 100 != int(value * 100):
        # A value off the grid: decide the half-up rounding exactly.
        scaled = value * 100
        down = scaled.numerator // scaled.denominator
        rounded = down + (1 if scaled - down >= Fraction(1, 2) else 0)
        return (Decimal(rounded) / 100).quantize(Decimal("0.01"))
    return exact.quantize(Decimal("0.01"), ROUND_HALF_UP)


def business(tz: str, a: int, b: int) -> list[tuple[int, int]]:
    if b <= a:
        return []
    zone = ZoneInfo(tz)
    out = []
    day = local_day(a, tz) - timedelta(days=1)
    while day <= local_day(b, tz) + timedelta(days=1):
        if day.isoformat() not in HOLIDAYS:
            for lo, hi in HOURS.get(WEEKDAYS[day.weekday()], []):
                s = secs(datetime.combine(day, time.fromisoformat(lo), tzinfo=zone))
                e = secs(datetime.combine(day, time.fromisoformat(hi), tzinfo=zone))
                if min(e, b) > max(s, a):
                    out.append((max(s, a), min(e, b)))
        day += timedelta(days=1)
    return out


def minus(base: list[tuple[int, int]], removed: list[tuple[int, int]]) -> int:
    total = 0
    for a, b in base:
        cuts = sorted((max(a, s), min(b, e)) for s, e in removed if min(b, e) > max(a, s))
        covered, cursor = 0, a
        for s, e in cuts:
            s = max(s, cursor)
            if e > s:
                covered += e - s
                cursor = e
        total += (b - a) - covered
    return total


def resolution_status(i: Incident, tz: str, horizon: int) -> str | None:
    last = max(i.resolutions, key=lambda r: (r[1], r[2]), default=None)
    end = horizon if last is None else secs(last[0])
    # priority: the latest set at or before the resolution (unresolved: the latest)
    ordered = sorted(i.priorities, key=lambda p: (p[0], p[2], p[3]))
    if last is not None:
        ordered = [p for p in ordered if p[0] <= last[0]] or ordered[:1]
    target = RESOLUTION_TARGETS.get(ordered[-1][1])
    if target is None:
        return None
    paused: list[tuple[int, int]] = []
    opened_at: int | None = None
    for m in sorted(i.marks, key=lambda m: (m.at, not m.paused, m.occurred, m.event_id)):
        if m.paused and opened_at is None:
            opened_at = secs(m.at)
        elif not m.paused and opened_at is not None:
            paused.append((opened_at, secs(m.at)))
            opened_at = None
    if opened_at is not None:
        paused.append((opened_at, end))
    taken = minus(business(tz, secs(i.opened), end), paused)
    over = taken > target.total_seconds()
    if last is not None:
        return "missed" if over else "met"
    return "missed" if over else "pending"


def expected_rows(h: History, horizon: int) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    yearly: list[tuple[int, tuple[int, int], tuple[int, int], Version]] = []
    for month in range(1, 13):
        window, cover = month_cover(h, month)
        if cover is None:
            continue
        terms = in_force(h, local_day(cover[0], h.tz))
        assert terms is not None
        if not terms.present:
            continue
        label = f"{YEAR}-{month:02d}"
        covered = cover[1] - cover[0]
        fee = Fraction(terms.fee) * covered / (window[1] - window[0])
        row: dict[str, Any] = {"fee": fee, "cap": Decimal(terms.cap)}
        if terms.yearly:
            yearly.append((month, window, cover, terms))
            row["yearly_month"] = True  # its availability is the annual row's
        else:
            clipped = [(cover[0], min(cover[1], horizon))]
            gone = cut(clipped, excluded(h, terms.excludes, horizon))
            measured = sum(b - a for a, b in gone)
            down = downtime(clipped, h.outages, terms.floor, horizon, terms.excludes)
            value = 100 * (measured - down) / Fraction(measured) if measured else None
            row |= {"measured": measured, "down": down, "availability": value}
            row["availability_credit"] = tier(value, TIERS)
        mine = [i for i in h.incidents if window[0] <= secs(i.opened) < window[1]]
        statuses = [resolution_status(i, h.tz, horizon) for i in mine]
        met, missed = statuses.count("met"), statuses.count("missed")
        row["resolution"] = (met, missed, statuses.count("pending"))
        row["resolution_attainment"] = Fraction(100 * met, met + missed) if met + missed else None
        row["resolution_credit"] = tier(row["resolution_attainment"], RESOLUTION_TIERS)
        credit = min(
            row.get("availability_credit", Decimal(0)) + row["resolution_credit"], row["cap"]
        )
        row["credit"] = credit
        row["amount"] = cents(fee * Fraction(credit) / 100)
        rows[label] = row
    if yearly:
        parts: list[tuple[int, int]] = []
        for _, _, cover, _ in yearly:
            if parts and parts[-1][1] == cover[0]:
                parts[-1] = (parts[-1][0], cover[1])
            else:
                parts.append(cover)
        terms = in_force(h, local_day(parts[0][0], h.tz))
        assert terms is not None
        assert terms.yearly
        fee = sum(
            (Fraction(t.fee) * (c[1] - c[0]) / (w[1] - w[0]) for _, w, c, t in yearly),
            Fraction(0),
        )
        covered = sum(b - a for a, b in parts)
        measured = sum(b - a for a, b in cut(parts, excluded(h, terms.excludes, horizon)))
        down = downtime(parts, h.outages, terms.floor, horizon, terms.excludes)
        value = 100 * (measured - down) / Fraction(measured) if measured else None
        credit = min(tier(value, TIERS), Decimal(terms.cap))
        rows[str(YEAR)] = {
            "fee": fee,
            "measured": measured,
            "down": down,
            "availability": value,
            "availability_credit": tier(value, TIERS),
            "credit": credit,
            "amount": cents(fee * Fraction(credit) / 100),
            "covered": covered,
            "window": local_midnight(date(YEAR + 1, 1, 1), h.tz)
            - local_midnight(date(YEAR, 1, 1), h.tz),
        }
    return rows


# ---------------------------------------------------------------------------------------


def report(store: str, period: str, contract_id: str) -> dict[str, Any]:
    out = run_in_process(
        "report",
        "--period",
        period,
        "--contract",
        contract_id,
        "--format",
        "json",
        "--store",
        store,
    )
    document: dict[str, Any] = json.loads(out)
    return document


def same(seconds: str | None, value: Fraction | int) -> bool:
    return seconds is not None and Fraction(Decimal(seconds)) == value


def from_file(store: str, path: Path) -> Callable[[list[dict[str, Any]]], None]:
    def feed(docs: list[dict[str, Any]]) -> None:
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
        run_in_process("ingest", "--from-file", str(path), "--store", store)

    return feed


def check(store: str, h: History, feed: Callable[[list[dict[str, Any]]], None]) -> None:
    docs, h = documents(h)
    feed(docs)
    rejected = run_in_process("rejections", "--format", "json", "--store", store)
    assert h.contract_id not in rejected, rejected
    annual = report(store, str(YEAR), h.contract_id)
    horizon = secs(datetime.fromisoformat(annual["as_of"].replace("Z", "+00:00")))
    expected = expected_rows(h, horizon)
    ours = f"svc-{h.contract_id}"
    got = {r["period"]: r for r in annual["rows"] if r["service_id"] == ours}
    for month in range(1, 13):
        label = f"{YEAR}-{month:02d}"
        rows = report(store, label, h.contract_id)["rows"]
        got |= {r["period"]: r for r in rows if r["service_id"] == ours}
    assert sorted(got) == sorted(expected), (got.keys(), expected.keys())
    for label, want in expected.items():
        row = got[label]
        context = (label, h, row)
        assert row["fee_basis"] == str(cents(want["fee"])), context
        assert row["credit_percent"] == str(want["credit"]), context
        assert Decimal(row["credit_amount"]) == want["amount"], context
        if want.get("yearly_month"):
            for field in (
                "availability_percent",
                "measured_seconds",
                "downtime_seconds",
                "excluded_seconds",
                "availability_met",
                "availability_target_percent",
            ):
                assert row[field] is None, (field, context)
            assert Decimal(row["availability_credit_percent"]) == 0, context
        else:
            assert same(row["measured_seconds"], want["measured"]), context
            assert same(row["downtime_seconds"], want["down"]), context
            assert row["availability_percent"] == percent4(want["availability"]), context
            assert Decimal(row["availability_credit_percent"]) == want["availability_credit"]
        if label == str(YEAR):
            assert same(row["window_seconds"], want["window"]), context
            assert same(row["covered_seconds"], want["covered"]), context
            for field in (
                "incidents_met",
                "resolution_met",
                "resolution_missed",
                "resolution_pending",
                "resolution_attainment_percent",
                "response_attainment_percent",
            ):
                assert row[field] is None, (field, context)
        else:
            met, missed, pending = want["resolution"]
            assert (row["resolution_met"], row["resolution_missed"], row["resolution_pending"]) == (
                met,
                missed,
                pending,
            ), context
            assert row["resolution_attainment_percent"] == percent4(
                want["resolution_attainment"]
            ), context
            assert Decimal(row["resolution_credit_percent"]) == want["resolution_credit"], context


@settings(
    max_examples=12,  # each example is a history of its own: ~1 s
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_generated_histories_agree_with_an_independent_reading(
    store_url: str, tmp_path: Path, history: History
) -> None:
    check(store_url, history, from_file(store_url, tmp_path / f"{history.contract_id}.jsonl"))


@settings(
    max_examples=2,  # each example is a broker round trip of its own: ~10 s
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_generated_histories_through_the_broker_agree_with_an_independent_reading(
    kafka_bootstrap: str, spawn_ingest: Spawn, store_url: str, history: History
) -> None:
    def feed(docs: list[dict[str, Any]]) -> None:
        topics = new_topics(kafka_bootstrap, "independent")
        produce(kafka_bootstrap, [routed(topics, d) for d in docs])
        counts = spawn_ingest(store_url, topics, new_group(), idle=2.0).result()
        assert (counts["consumed"], counts["accepted"]) == (len(docs), len(docs)), counts

    check(store_url, history, feed)
