"""Benchmark: ingest rate into SQLite and PostgreSQL, and `report` time for one period.

    .venv/bin/python -m benchmarks.ingest_and_report [--events 100000] [--contracts 1000]

Generates N events (1,000 contracts with 3 services each, the rest outages, maintenance
windows and incidents spread over 2026, a share of them per customer, a few duplicates
and malformed lines), ingests them with the same pipeline as `ingest --from-file`, and
prints events/s per store, then times `report` for March 2026 (3,000 rows), and the
audit commands on the same store: `audit verify`, `close`, `audit export` and `check`
of March, and `audit rebuild` into a scratch SQLite file. PostgreSQL is
$SLA_LEDGER_BENCH_POSTGRES_URL if set, else an embedded server started for the run.
Prints numbers; asserts nothing (speed is measured here, not in timed tests).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import postgres_url
from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.attainment import period_report
from projections.audit.bundle import check, export
from projections.audit.rebuild import rebuild
from projections.audit.verify import verify
from projections.credit_entries import close_period
from projections.store import LedgerStore

START = datetime(2026, 1, 1, tzinfo=UTC)
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo"]
CURRENCIES = ["USD", "EUR", "AUD", "JPY", "KWD"]
TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(kind: str, occurred: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "schema_version": 1,
        "occurred_at": _stamp(occurred),
        "source": "bench",
        "payload": payload,
    }


def generate(n_events: int, n_contracts: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    services = ["api", "crm", "portal"]
    for c in range(n_contracts):
        yield _envelope(
            "contract.signed",
            START - timedelta(days=30),
            {
                "contract_id": f"C-{c:05d}",
                "customer_id": f"K-{c:05d}",
                "customer_name": f"Customer {c}",
                "currency": CURRENCIES[c % len(CURRENCIES)],
                "timezone": TIMEZONES[c % len(TIMEZONES)],
                "remedy": "credit",
                "effective_from": "2026-01-01",
                "effective_to": None,
                "services": [
                    {
                        "service_id": s,
                        "monthly_fee": "1000.00",
                        "availability": {
                            "target_percent": "99.9",
                            "credit_tiers": TIERS,
                            "excluded_causes": ["customer_caused"],
                            "maintenance_notice": "PT48H",
                            "min_downtime_seconds": 0,
                        },
                    }
                    for s in services
                ],
            },
        )
    produced = n_contracts
    n = 0
    while produced < n_events:
        n += 1
        start = START + timedelta(seconds=rnd.randrange(0, 365 * 86400))
        customer = rnd.randrange(n_contracts)
        service = rnd.choice(services)
        roll = rnd.random()
        if roll < 0.9:
            oid = f"O-{n}"
            shared = rnd.random() < 0.002
            yield _envelope(
                "outage.started",
                start,
                {
                    "outage_id": oid,
                    "service_id": service,
                    "started_at": _stamp(start),
                    "impact_percent": rnd.choice(["100", "50", "25"]),
                    "customer_ids": None if shared else [f"K-{customer:05d}"],
                },
            )
            end = start + timedelta(seconds=rnd.randrange(30, 4 * 3600))
            yield _envelope("outage.resolved", end, {"outage_id": oid, "ended_at": _stamp(end)})
            produced += 2
        elif roll < 0.95:
            yield _envelope(
                "maintenance.scheduled",
                start - timedelta(hours=rnd.choice([12, 72])),
                {
                    "maintenance_id": f"M-{n}",
                    "service_id": service,
                    "starts_at": _stamp(start),
                    "ends_at": _stamp(start + timedelta(hours=2)),
                    "customer_ids": [f"K-{customer:05d}"],
                },
            )
            produced += 1
        else:
            yield _envelope(
                "incident.opened",
                start,
                {
                    "incident_id": f"I-{n}",
                    "contract_id": f"C-{customer:05d}",
                    "service_id": service,
                    "priority": "P2",
                    "opened_at": _stamp(start),
                },
            )
            produced += 1


def write_feed(path: Path, n_events: int, n_contracts: int) -> int:
    count = 0
    with path.open("w") as handle:
        for document in generate(n_events, n_contracts):
            handle.write(json.dumps(document) + "\n")
            count += 1
    return count


MARCH = Period(2026, 3)


def measure(url: str, feed: Path, n: int) -> None:
    store = LedgerStore(url, access="create")
    try:
        started = time.perf_counter()
        summary = ingest_file(store, feed)
        seconds = time.perf_counter() - started
        print(
            f"  ingest: {n:,} events in {seconds:.2f} s = {n / seconds:,.0f} events/s "
            f"(accepted {summary.accepted:,}, rejected {summary.rejected:,})"
        )
        for attempt in range(3):
            started = time.perf_counter()
            # As `report --period 2026-03` asks it: what was recorded by now, horizon now.
            report = period_report(store, MARCH, datetime.now(UTC), recorded_filter=True)
            seconds = time.perf_counter() - started
            print(
                f"  report 2026-03 ({len(report.rows):,} rows), run {attempt + 1}: {seconds:.3f} s"
            )
        audit(store, feed.parent)
    finally:
        store.close()


def audit(store: LedgerStore, directory: Path) -> None:
    """The audit commands on the same store: verify, close, export, rebuild."""
    started = time.perf_counter()
    with store.reader() as view:
        verified = verify(view)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    quick_checked, _damage = store.integrity()
    integrity = time.perf_counter() - started
    print(
        f"  audit verify: {verified.records:,} chain records in {seconds:.2f} s = "
        f"{verified.records / seconds:,.0f} records/s"
        + (f" in {verified.workers} worker processes" if verified.workers else "")
        + f" ({'ok' if verified.ok else 'BROKEN'})"
        + (f"; of which SQLite quick_check {integrity:.2f} s" if quick_checked else "")
    )
    started = time.perf_counter()
    closed = close_period(store, MARCH, datetime.now(UTC))
    print(
        f"  close 2026-03: {len(closed.entries):,} entries in {time.perf_counter() - started:.2f} s"
    )
    bundle = directory / f"bundle-{store.dialect}"
    started = time.perf_counter()
    with store.reader() as view:
        manifest = export(view, MARCH, bundle, verify(view).head)
    exported = time.perf_counter() - started
    started = time.perf_counter()
    checked = check(bundle)
    print(
        f"  audit export 2026-03: {manifest['counts']['events']:,} events, "
        f"{manifest['counts']['chain']:,} chain digests in {exported:.2f} s; "
        f"audit check {'ok' if checked.ok else 'FAILED'} in {time.perf_counter() - started:.2f} s"
    )
    started = time.perf_counter()
    scratch_url = f"sqlite:///{directory / f'rebuild-{store.dialect}.db'}"
    # A scratch file thrown away after, as the command's own (`audit rebuild`).
    with LedgerStore(scratch_url, access="create", throwaway=True) as scratch:
        rebuilt = rebuild(store, scratch)
    print(
        f"  audit rebuild: {rebuilt.records:,} records replayed, {rebuilt.events_compared:,} "
        f"index rows, {rebuilt.spans_compared:,} spans and {rebuilt.entries_compared:,} "
        "entries compared in "
        f"{time.perf_counter() - started:.2f} s ({len(rebuilt.differences)} differences)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--contracts", type=int, default=1_000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory(prefix="sla-bench-") as directory:
        feed = Path(directory) / "events.jsonl"
        n = write_feed(feed, args.events, args.contracts)
        print(
            f"generated {n:,} events ({feed.stat().st_size / 1e6:.1f} MB), "
            f"{args.contracts:,} contracts x 3 services"
        )
        print("SQLite:")
        measure(f"sqlite:///{directory}/bench.db", feed, n)
        if not args.skip_postgres:
            print("PostgreSQL:")
            with postgres_url(
                args.postgres_url or os.environ.get("SLA_LEDGER_BENCH_POSTGRES_URL")
            ) as url:
                measure(url, feed, n)


if __name__ == "__main__":
    main()
