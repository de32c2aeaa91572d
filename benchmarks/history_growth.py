"""Benchmark: how the CLI's times, storage and memory grow with the months of history.

    .venv/bin/python -m benchmarks.history_growth --contracts N --months M
        [--stores sqlite,postgresql] [--seed S] [--first-period YYYY-MM]
        [--every-month] [--markdown] [--dir D]

Generates N contracts (3 services each; timezones, currencies, fees, business hours,
availability and incident-response terms mixed) and M months of history, about 6,600
events per 1,000 contracts a month: outages (most scoped to one to three customers, two
service-wide a month, some partial, some amended, retracted or classified), maintenance
windows (most announced in time, some late, some cancelled or rescheduled), incidents
with responses (met and missed, some reprioritized) and their resolutions. The months end
with the last one that ended (in every timezone) at least three days ago, unless
`--first-period` says where they start. Generation is seeded and deterministic: the same
arguments give the same bytes.

It then runs the ledger as a provider would, month by month, each step one whole
`sla-ledger` process (its start-up included: the time a user waits): `ingest` the month's
file (written just before, removed after), `close --period` it, then `ingest` a late
correction of five outages of the month or two before (their end times amended: closed
rows change, so reconciliation posts reversals and re-issues). It times each month's
ingest, correction and close, and, on the period just closed, `report` (3 rows a
contract), `credits`, `explain` of one row, and `report --as-of` a moment between the
close and the correction. Each month also records the store's bytes per stored event
(SQLite: the file and its `-wal` after a checkpoint; PostgreSQL: pg_total_relation_size
of every table of the database) and the peak resident memory of the processes (their
ru_maxrss, read with wait4), split into the writers (ingest, close) and the readers.

It checks what it measures: every ingest must accept all its events (0 rejected,
0 duplicates), every close must issue credit entries, and the corrections must append
reversals and re-issues (`credits --format json` at the end); otherwise it stops.

Prints one table per store: a line per count of closed periods (1, 2, 3, 6, then every
12th and the last; `--every-month` for all), then the ratio of the last line to the
first. `--markdown` prints the tables as Markdown. PostgreSQL runs in a fresh database on
$SLA_LEDGER_BENCH_POSTGRES_URL's server if set, else on an embedded server; the database
is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from calendar import monthrange
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import fresh_database, postgres_url, revision
from benchmarks.ingest_and_report import CURRENCIES, TIMEZONES
from ledger.periods import Period

SERVICES = ("api", "crm", "portal")
CORRECTIONS_PER_MONTH = 5
SOURCE = "bench-history"

# --------------------------------------------------------------------------- contracts

FEES = {
    "USD": ("500.00", "1000.00", "2400.00"),
    "EUR": ("450.00", "900.00", "2000.00"),
    "AUD": ("800.00", "1500.00", "3600.00"),
    "JPY": ("80000", "150000", "300000"),
    "KWD": ("150.000", "300.000", "750.000"),
}
AVAILABILITY_TERMS: tuple[tuple[str, list[dict[str, str]]], ...] = (
    (
        "99.9",
        [
            {"below_percent": "99.9", "credit_percent": "10"},
            {"below_percent": "99.0", "credit_percent": "25"},
            {"below_percent": "95.0", "credit_percent": "100"},
        ],
    ),
    (
        "99.5",
        [
            {"below_percent": "99.5", "credit_percent": "10"},
            {"below_percent": "98.0", "credit_percent": "30"},
        ],
    ),
    (
        "99.95",
        [
            {"below_percent": "99.95", "credit_percent": "5"},
            {"below_percent": "99.9", "credit_percent": "10"},
            {"below_percent": "99.0", "credit_percent": "25"},
        ],
    ),
)
RESPONSE_TARGETS: tuple[dict[str, str], ...] = (
    {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H", "P4": "PT8H"},
    {"P1": "PT30M", "P2": "PT2H", "P3": "PT8H", "P4": "PT24H"},
)
TARGET_SECONDS: tuple[dict[str, int], ...] = (
    {"P1": 900, "P2": 3600, "P3": 4 * 3600, "P4": 8 * 3600},
    {"P1": 1800, "P2": 2 * 3600, "P3": 8 * 3600, "P4": 24 * 3600},
)
RESPONSE_TIERS: tuple[list[dict[str, str]], ...] = (
    [{"below_percent": "100", "credit_percent": "5"}],
    [
        {"below_percent": "95", "credit_percent": "5"},
        {"below_percent": "80", "credit_percent": "10"},
    ],
)
WORKING_DAYS = ("mon", "tue", "wed", "thu", "fri")
SCHEDULES: tuple[list[list[str]], ...] = (
    [["08:00", "18:00"]],
    [["09:00", "12:30"], ["13:30", "17:30"]],
)
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_WEIGHTS = (10, 25, 40, 25)
CAUSES = ("provider", "customer_caused", "force_majeure", "third_party")


@dataclass(frozen=True)
class Plan:
    """What to generate: N contracts from `first`, for `months` months, with `seed`."""

    contracts: int
    months: int
    first: Period
    seed: int = 7

    def period(self, index: int) -> Period:
        months = self.first.year * 12 + self.first.month - 1 + index
        return Period(months // 12, months % 12 + 1)

    def random(self, *part: object) -> random.Random:
        # A string seed is hashed (SHA-512): the same on every run and platform.
        return random.Random(":".join(str(p) for p in (self.seed, *part)))


@dataclass(frozen=True)
class Candidate:
    """A plain full-impact outage of one customer, which a later correction amends."""

    outage_id: str
    contract: int
    service: str
    started: datetime
    ended: datetime


@dataclass
class Month:
    """The month's file and what the correction and the benchmark need from it."""

    events: int = 0
    candidates: list[Candidate] = field(default_factory=list)


def contract_id(index: int) -> str:
    return f"C-{index:06d}"


def customer_id(index: int) -> str:
    return f"K-{index:06d}"


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(rnd: random.Random, kind: str, occurred: datetime, payload: dict[str, Any]) -> str:
    document = {
        "event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "type": kind,
        "schema_version": 1,
        "occurred_at": _stamp(occurred),
        "source": SOURCE,
        "payload": payload,
    }
    return json.dumps(document, separators=(",", ":"))


def _terms_variant(plan: Plan, index: int) -> int:
    """Which response targets contract `index` has (the incidents need them)."""
    return plan.random("targets", index).randrange(len(RESPONSE_TARGETS))


def _holidays(plan: Plan) -> list[str]:
    last = plan.period(plan.months - 1)
    days = set()
    for year in range(plan.first.year - 1, last.year + 1):
        days.update({f"{year}-12-25", f"{year}-12-26", f"{year + 1}-01-01"})
    return sorted(days)


def contract_lines(plan: Plan) -> Iterator[str]:
    """One `contract.signed` per contract, in force from the first month on."""
    rnd = plan.random("contracts")
    holidays = _holidays(plan)
    signed = datetime.combine(plan.first.first_day, datetime.min.time(), UTC) - timedelta(days=20)
    for c in range(plan.contracts):
        currency = CURRENCIES[c % len(CURRENCIES)]
        targets = _terms_variant(plan, c)
        services = []
        for service in SERVICES:
            target, tiers = rnd.choice(AVAILABILITY_TERMS)
            hours: str | dict[str, Any]
            if rnd.random() < 0.4:
                hours = "24x7"
            else:
                schedule = rnd.choice(SCHEDULES)
                hours = {"weekly": dict.fromkeys(WORKING_DAYS, schedule), "holidays": holidays}
            services.append(
                {
                    "service_id": service,
                    "monthly_fee": rnd.choice(FEES[currency]),
                    "availability": {
                        "target_percent": target,
                        "credit_tiers": tiers,
                        "excluded_causes": rnd.choice(
                            (["customer_caused", "force_majeure"], ["customer_caused"])
                        ),
                        "maintenance_notice": rnd.choice(("PT48H", "PT48H", "PT72H", None)),
                        "min_downtime_seconds": rnd.choice((0, 0, 60)),
                    },
                    "incident_response": {
                        "targets": RESPONSE_TARGETS[targets],
                        "business_hours": hours,
                        "credit_tiers": rnd.choice(RESPONSE_TIERS),
                    },
                    "credit_cap_percent": rnd.choice(("100", "100", "50")),
                }
            )
        yield _envelope(
            rnd,
            "contract.signed",
            signed + timedelta(minutes=c % 1440),
            {
                "contract_id": contract_id(c),
                "customer_id": customer_id(c),
                "customer_name": f"Customer {c}",
                "currency": currency,
                "timezone": TIMEZONES[(c // len(CURRENCIES)) % len(TIMEZONES)],
                "remedy": "cash" if c % 7 == 0 else "credit",
                "effective_from": plan.first.first_day.isoformat(),
                "effective_to": None,
                "services": services,
            },
        )


# --------------------------------------------------------------------------- a month


class _MonthWriter:
    """The events of one month, as (occurred_at, line) pairs sorted before writing."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan = plan
        self.index = index
        self.rnd = plan.random("month", index)
        period = plan.period(index)
        self.tag = f"{period.year:04d}{period.month:02d}"
        self.start = datetime(period.year, period.month, 1, tzinfo=UTC)
        days = monthrange(period.year, period.month)[1]
        # Days 2 to the 3rd last (UTC) lie inside the month in every timezone used.
        self.first_moment = self.start + timedelta(days=1)
        self.span_seconds = (days - 4) * 86_400
        self.lines: list[tuple[str, str]] = []
        self.month = Month()

    def moment(self, room_after: int = 0) -> datetime:
        return self.first_moment + timedelta(
            seconds=self.rnd.randrange(self.span_seconds - room_after)
        )

    def emit(self, kind: str, occurred: datetime, payload: dict[str, Any]) -> None:
        self.lines.append((_stamp(occurred), _envelope(self.rnd, kind, occurred, payload)))

    def customers(self) -> list[str]:
        count = 1 if self.rnd.random() < 0.7 else self.rnd.choice((2, 3))
        picked = {self.rnd.randrange(self.plan.contracts) for _ in range(count)}
        return [customer_id(c) for c in sorted(picked)]

    def outage(self, number: int) -> None:
        rnd = self.rnd
        oid = f"O-{self.tag}-{number:06d}"
        contracts = self.customers()
        service = rnd.choice(SERVICES)
        started = self.moment(room_after=86_400)
        roll = rnd.random()
        if roll < 0.70:
            seconds = rnd.randrange(60, 1_200)
        elif roll < 0.92:
            seconds = rnd.randrange(1_200, 3_600)
        else:
            seconds = rnd.randrange(3_600, 4 * 3_600)
        ended = started + timedelta(seconds=seconds)
        impact = "100" if rnd.random() < 0.8 else rnd.choice(("25", "50", "75"))
        self.emit(
            "outage.started",
            started,
            {
                "outage_id": oid,
                "service_id": service,
                "started_at": _stamp(started),
                "impact_percent": impact,
                "customer_ids": contracts,
            },
        )
        self.emit("outage.resolved", ended, {"outage_id": oid, "ended_at": _stamp(ended)})
        fate = rnd.random()
        if fate < 0.08:
            amended_end = started + timedelta(seconds=max(60, int(seconds * rnd.uniform(0.5, 2))))
            self.emit(
                "outage.amended",
                ended + timedelta(hours=rnd.randrange(1, 24)),
                {
                    "outage_id": oid,
                    "ended_at": _stamp(amended_end),
                    "reason": "post-incident review: end time from the load balancer logs",
                },
            )
        elif fate < 0.11:
            self.emit(
                "outage.retracted",
                started + timedelta(minutes=rnd.randrange(5, 60)),
                {"outage_id": oid, "reason": "false alarm: a monitoring probe failed"},
            )
        elif fate < 0.16:
            self.emit(
                "outage.classified",
                ended + timedelta(hours=rnd.randrange(1, 24)),
                {
                    "outage_id": oid,
                    "cause": rnd.choice(CAUSES),
                    "reason": "root cause analysis",
                },
            )
        elif impact == "100" and len(contracts) == 1 and len(self.month.candidates) < 40:
            self.month.candidates.append(
                Candidate(oid, int(contracts[0][2:]), service, started, ended)
            )

    def service_wide_outage(self, number: int) -> None:
        rnd = self.rnd
        oid = f"O-{self.tag}-all-{number}"
        started = self.moment(room_after=86_400)
        ended = started + timedelta(seconds=rnd.randrange(120, 720))
        self.emit(
            "outage.started",
            started,
            {
                "outage_id": oid,
                "service_id": SERVICES[number % len(SERVICES)],
                "started_at": _stamp(started),
                "impact_percent": rnd.choice(("100", "50", "25")),
                "customer_ids": None,
            },
        )
        self.emit("outage.resolved", ended, {"outage_id": oid, "ended_at": _stamp(ended)})

    def maintenance(self, mid: str, customer_ids: list[str] | None) -> None:
        rnd = self.rnd
        starts = self.moment(room_after=2 * 86_400)
        ends = starts + timedelta(hours=rnd.randrange(1, 5))
        in_time = customer_ids is None or rnd.random() < 0.75
        notice = rnd.randrange(72, 120) if in_time else rnd.randrange(2, 24)
        announced = starts - timedelta(hours=notice)
        payload = {
            "maintenance_id": mid,
            "service_id": rnd.choice(SERVICES),
            "starts_at": _stamp(starts),
            "ends_at": _stamp(ends),
            "customer_ids": customer_ids,
        }
        self.emit("maintenance.scheduled", announced, payload)
        fate = rnd.random()
        if fate < 0.08:
            self.emit(
                "maintenance.cancelled", announced + timedelta(hours=1), {"maintenance_id": mid}
            )
        elif fate < 0.13:
            later = timedelta(days=1)
            moved = {
                **payload,
                "starts_at": _stamp(starts + later),
                "ends_at": _stamp(ends + later),
            }
            self.emit("maintenance.scheduled", announced + timedelta(hours=2), moved)

    def incident(self, number: int) -> None:
        rnd = self.rnd
        iid = f"I-{self.tag}-{number:06d}"
        c = rnd.randrange(self.plan.contracts)
        targets = TARGET_SECONDS[_terms_variant(self.plan, c)]
        priority = rnd.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        opened = self.moment(room_after=4 * 86_400)
        target = targets[priority]
        if rnd.random() < 0.78:
            delay = max(30, int(target * rnd.uniform(0.05, 0.6)))
        else:
            delay = int(target * rnd.uniform(1.5, 6))
        responded = opened + timedelta(seconds=delay)
        self.emit(
            "incident.opened",
            opened,
            {
                "incident_id": iid,
                "contract_id": contract_id(c),
                "service_id": rnd.choice(SERVICES),
                "priority": priority,
                "opened_at": _stamp(opened),
            },
        )
        if rnd.random() < 0.12:
            at = opened + timedelta(seconds=delay // 2)
            other = rnd.choice([p for p in PRIORITIES if p != priority])
            self.emit(
                "incident.reprioritized",
                at,
                {"incident_id": iid, "priority": other, "at": _stamp(at)},
            )
        self.emit(
            "incident.responded",
            responded,
            {"incident_id": iid, "responded_at": _stamp(responded)},
        )
        resolved = responded + timedelta(minutes=rnd.randrange(30, 48 * 60))
        self.emit(
            "incident.resolved", resolved, {"incident_id": iid, "resolved_at": _stamp(resolved)}
        )

    def generate(self) -> None:
        n = self.plan.contracts
        for k in range(round(1.4 * n)):
            self.outage(k)
        for k in range(2):
            self.service_wide_outage(k)
        for k in range(round(0.4 * n)):
            self.maintenance(f"M-{self.tag}-{k:06d}", self.customers())
        self.maintenance(f"M-{self.tag}-all", None)
        for k in range(n):
            self.incident(k)


def month_lines(plan: Plan, index: int, month: Month | None = None) -> Iterator[str]:
    """The lines of month `index` (the contracts first in month 0), in `occurred_at`
    order as a producer would send them; `month` collects the candidates for corrections."""
    if index == 0:
        yield from contract_lines(plan)
    writer = _MonthWriter(plan, index)
    writer.generate()
    if month is not None:
        month.candidates = writer.month.candidates
    writer.lines.sort(key=lambda pair: pair[0])
    for _stamped, line in writer.lines:
        yield line


def write_month(path: Path, plan: Plan, index: int) -> Month:
    month = Month()
    with path.open("w", encoding="utf-8") as handle:
        for line in month_lines(plan, index, month):
            handle.write(line + "\n")
            month.events += 1
    return month


def correction_lines(plan: Plan, index: int, months: dict[int, Month]) -> list[str]:
    """The late correction after month `index` closed: the end times of five outages of
    the month or two before (of this month, when there is none), amended as a
    post-incident review would: three of the month before become 6 hours long, and two
    long ones of the month before last 2 minutes, so closed rows' credits change (issues,
    reversals and re-issues)."""
    rnd = plan.random("correction", index)
    period = plan.period(index).next()
    review = datetime(period.year, period.month, 1, tzinfo=UTC) + timedelta(days=1)
    # Lengthened: candidates 0-2 of the month before (5-7 of this one in the first
    # month). Shortened: the longest after the first 8 of the month before last (the
    # 3rd and 4th longest of this one in the first two months): never one picked before.
    lengthen_from, lengthen_at = (index - 1, (0, 1, 2)) if index >= 1 else (index, (5, 6, 7))
    shorten_from, shorten_at = (index - 2, (0, 1)) if index >= 2 else (index, (2, 3))
    targets: list[tuple[Candidate, timedelta]] = []
    pool = months[lengthen_from].candidates
    targets += [(pool[k % len(pool)], timedelta(hours=6)) for k in lengthen_at if pool]
    candidates = months[shorten_from].candidates
    pool = sorted(candidates[8:] or candidates, key=lambda o: o.started - o.ended)
    targets += [(pool[k % len(pool)], timedelta(minutes=2)) for k in shorten_at if pool]
    lines = []
    for number, (outage, duration) in enumerate(targets):
        ended = outage.started + duration
        lines.append(
            _envelope(
                rnd,
                "outage.amended",
                review + timedelta(minutes=number),
                {
                    "outage_id": outage.outage_id,
                    "ended_at": _stamp(ended),
                    "reason": "post-incident review: corrected end time",
                },
            )
        )
    return lines


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Ran:
    seconds: float
    peak_kb: int
    stdout: str


class Cli:
    """`sla-ledger` as a user runs it: one whole process per command, on one store."""

    def __init__(self, store: str) -> None:
        script = Path(sys.executable).parent / "sla-ledger"
        self.program = [str(script)] if script.exists() else [sys.executable, "-m", "consumers"]
        self.store = store
        self.env = {k: v for k, v in os.environ.items() if k != "SLA_LEDGER_STORE"}

    def __call__(self, *args: str) -> Ran:
        command = [*self.program, args[0], "--store", self.store, *args[1:]]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env
            )
            # wait4 gives this child's own rusage: its peak RSS, not the largest so far.
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", errors="replace")
            if process.returncode != 0:
                stderr = err.read().decode("utf-8", errors="replace")
                raise SystemExit(
                    f"history_growth: `sla-ledger {' '.join(args)}` exited "
                    f"{process.returncode}: {stderr.strip() or stdout.strip()}"
                )
        return Ran(seconds, usage.ru_maxrss, stdout)


COLUMNS = (
    ("ingest", "ingest s"),
    ("correction", "corr s"),
    ("close", "close s"),
    ("report", "report s"),
    ("credits", "credits s"),
    ("explain", "explain s"),
    ("as_of", "as-of s"),
    ("bytes_per_event", "B/event"),
    ("writer_mb", "write MB"),
    ("reader_mb", "read MB"),
)


@dataclass
class Line:
    closed: int
    events: int
    values: dict[str, float]


@dataclass
class StoreRun:
    name: str
    lines: list[Line] = field(default_factory=list)
    issued: int = 0
    correction_entries: int = 0
    reversals: int = 0
    seconds: float = 0.0


def stored_bytes(url: str) -> int:
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///"))
        database = sqlite3.connect(path)
        try:
            database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            database.close()
        wal = path.with_name(path.name + "-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()
    return int(row[0]) if row else 0


def _ingested(ran: Ran, expected: int, what: str) -> dict[str, Any]:
    counts: dict[str, Any] = json.loads(ran.stdout)
    if counts["rejected"] or counts["duplicates"] or counts["accepted"] != expected:
        raise SystemExit(
            f"history_growth: {what}: expected {expected:,} accepted, got {counts}: "
            "a benchmark of rejected inputs measures nothing"
        )
    return counts


def run_store(name: str, url: str, plan: Plan, directory: Path, every: bool) -> StoreRun:
    cli = Cli(url)
    result = StoreRun(name)
    months: dict[int, Month] = {}
    events = 0
    began = time.perf_counter()
    for index in range(plan.months):
        label = plan.period(index).label
        feed = directory / f"{name}-{label}.jsonl"
        month = months[index] = write_month(feed, plan, index)
        months.pop(index - 3, None)
        ingest = cli("ingest", "--from-file", str(feed), "--format", "json", "--no-progress")
        feed.unlink()
        events += _ingested(ingest, month.events, f"ingest of {label}")["accepted"]
        close = cli("close", "--period", label, "--format", "json")
        issued = _issued(close.stdout)
        if issued == 0:
            raise SystemExit(f"history_growth: close {label} issued no credit entry")
        result.issued += issued
        # A moment after the close and before the correction, for `report --as-of`.
        before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines = correction_lines(plan, index, months)
        fix = directory / f"{name}-{label}-correction.jsonl"
        fix.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        correction = cli("ingest", "--from-file", str(fix), "--format", "json", "--no-progress")
        counts = _ingested(correction, len(lines), f"correction after {label}")
        events += counts["accepted"]
        result.correction_entries += counts["entries_appended"]
        report = cli("report", "--period", label)
        credits = cli("credits", "--period", label)
        row = months[index].candidates[0] if months[index].candidates else None
        explain = cli(
            "explain",
            "--contract",
            contract_id(row.contract if row else 0),
            "--service",
            row.service if row else SERVICES[0],
            "--period",
            label,
        )
        as_of = cli("report", "--period", label, "--as-of", before)
        closed = index + 1
        if every or _sampled(closed, plan.months):
            values = {
                "ingest": ingest.seconds,
                "correction": correction.seconds,
                "close": close.seconds,
                "report": report.seconds,
                "credits": credits.seconds,
                "explain": explain.seconds,
                "as_of": as_of.seconds,
                "bytes_per_event": stored_bytes(url) / events,
                "writer_mb": max(r.peak_kb for r in (ingest, close, correction)) / 1024,
                "reader_mb": max(r.peak_kb for r in (report, credits, explain, as_of)) / 1024,
            }
            result.lines.append(Line(closed, events, values))
            print(f"  {name}: {_text_line(result.lines[-1])}", file=sys.stderr, flush=True)
    entries = json.loads(cli("credits", "--format", "json").stdout)["entries"]
    result.reversals = sum(1 for entry in entries if entry["kind"] == "reversal")
    if result.correction_entries == 0 or result.reversals == 0:
        raise SystemExit("history_growth: the corrections changed no credit (no reversal recorded)")
    result.seconds = time.perf_counter() - began
    return result


def _issued(close_json: str) -> int:
    """The issue entries a `close --format json` recorded."""
    entries = json.loads(close_json)["entries"]
    return sum(1 for entry in entries if entry["kind"] == "issue")


def _sampled(closed: int, last: int) -> bool:
    return closed in (1, 2, 3, 6) or closed % 12 == 0 or closed == last


# --------------------------------------------------------------------------- output


def _format(key: str, value: float) -> str:
    if key == "bytes_per_event":
        return f"{value:,.0f}"
    if key.endswith("_mb"):
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _text_line(line: Line) -> str:
    return f"closed {line.closed}, events {line.events:,}: " + ", ".join(
        f"{title} {_format(key, line.values[key])}" for key, title in COLUMNS
    )


def table(run: StoreRun, markdown: bool) -> list[str]:
    header = ["closed", "events", *(title for _key, title in COLUMNS)]
    rows = [
        [str(line.closed), f"{line.events:,}"]
        + [_format(key, line.values[key]) for key, _title in COLUMNS]
        for line in run.lines
    ]
    first, last = run.lines[0], run.lines[-1]
    rows.append(
        [
            "last/first",
            f"{last.events / first.events:.1f}x",
            *(
                f"{last.values[key] / first.values[key]:.2f}x" if first.values[key] else "n/a"
                for key, _title in COLUMNS
            ),
        ]
    )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return out
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]


def default_first(months: int, today: date) -> Period:
    """The first of `months` months that end with the last one ended (everywhere) at
    least three days before `today`."""
    ended = Period.containing(today - timedelta(days=3))
    total = ended.year * 12 + ended.month - 1 - months
    return Period(total // 12, total % 12 + 1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--first-period", default=None, help="YYYY-MM (default: see above)")
    parser.add_argument("--every-month", action="store_true", help="a table line per month")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--dir", default=None, help="work here (default: a temporary directory)")
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgresql"}
    if unknown or not stores or args.contracts < 1 or args.months < 1:
        parser.error("--stores takes sqlite and/or postgresql; --contracts, --months >= 1")
    first = (
        Period.parse(args.first_period)
        if args.first_period
        else default_first(args.months, datetime.now(UTC).date())
    )
    plan = Plan(args.contracts, args.months, first, args.seed)
    print(
        f"history_growth: {plan.contracts:,} contracts x {len(SERVICES)} services, "
        f"{plan.months} months {first.label}..{plan.period(plan.months - 1).label}, "
        f"seed {plan.seed}; code {revision()}",
        flush=True,
    )
    began = time.perf_counter()
    runs: list[StoreRun] = []
    with tempfile.TemporaryDirectory(prefix="sla-history-", dir=args.dir) as work:
        directory = Path(work)
        for store in stores:
            if store == "sqlite":
                runs.append(
                    run_store(
                        "SQLite",
                        f"sqlite:///{directory}/ledger.db",
                        plan,
                        directory,
                        args.every_month,
                    )
                )
            else:
                given = os.environ.get("SLA_LEDGER_BENCH_POSTGRES_URL")
                with postgres_url(given) as server, fresh_database(server) as url:
                    where = "given server" if given else "embedded server"
                    run = run_store("PostgreSQL", url, plan, directory, args.every_month)
                    run.name = f"PostgreSQL ({where})"
                    runs.append(run)
    for run in runs:
        print()
        title = f"{run.name}: {plan.contracts:,} contracts, {plan.months} months"
        print(f"**{title}**" if args.markdown else title)
        if args.markdown:
            print()
        print("\n".join(table(run, args.markdown)))
        print(
            f"{'' if not args.markdown else chr(10)}closes issued {run.issued:,} entries; "
            f"the corrections appended {run.correction_entries:,} (reversals and re-issues; "
            f"{run.reversals:,} reversals in all); {run.seconds / 60:.1f} min"
        )
    print(f"\nwall time {(time.perf_counter() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
