"""Benchmark: the Kafka worker's periodic check on a 1,000-contract store, in CPU per
minute (the issue's bar: under 1 s of CPU per minute).

    .venv/bin/python -m benchmarks.alert_timer [--postgres URL] [--runs 20]

Builds 1,000 contracts of 3 services each (the generated months of
`benchmarks.history_growth`): last month, closed, and the month the clock is in, not
closed (3,000 provisional rows, events all month long). Then measures the CPU time
(this process and any children; the database server's own is not counted) of one
`follow_up` call, as the worker's timer makes it (`check_every_seconds`, default 15 s:
4 calls a minute):

- with nothing new: no event since the last check; the rows due by time alone (open
  outages growing, pending incidents passing their deadlines) are looked at;
- with a few rows due: three outages of three contracts opened since the last check
  (each call after that looks at their rows again: an open outage grows);
- the exposure gauges' full refresh (every provisional row, `provisional_rows`), which
  a worker serving `--metrics-listen` runs in its first publishing round and every
  `EXPOSURE_REFRESH_SECONDS` (300 s) after (a worker without it does not).

CPU per minute = 4 x a check + a full refresh / 5. Prints each median and the total;
asserts nothing.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import benchmark_main
from benchmarks.history_growth import Plan, customer_id, month_lines
from consumers.intake.file_ingest import ingest_file
from consumers.intake.follow_up import follow_up
from consumers.intake.kafka_ingest import EXPOSURE_REFRESH_SECONDS, RECONCILE_IDLE_SECONDS
from ledger.periods import Period
from projections.alerting import provisional_rows
from projections.credit_entries import close_period
from projections.store import LedgerStore

CONTRACTS = 1000


def cpu_seconds() -> float:
    """CPU time of this process and its finished children so far (microseconds)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def cpu_of(run: Callable[[], object], runs: int) -> list[float]:
    run()  # untimed: caches, the store's first connection
    found = []
    for _ in range(runs):
        started = cpu_seconds()
        run()
        found.append(cpu_seconds() - started)
    return found


def build(url: str, directory: Path) -> Period:
    """Last month closed and the month running now, 1,000 contracts: the current period."""
    now = datetime.now(UTC)
    current = Period(now.year, now.month)
    last = Period.containing((now.replace(day=1) - timedelta(days=1)).date())
    plan = Plan(contracts=CONTRACTS, months=2, first=last, seed=5)
    with LedgerStore(url, access="create") as store:
        for index in range(2):
            path = directory / f"month-{index}.jsonl"
            path.write_text("".join(line + "\n" for line in month_lines(plan, index)))
            ingest_file(store, path)
            if index == 0:
                close_period(store, last, now)
    return current


def open_outages(store: LedgerStore, directory: Path, count: int) -> None:
    """`count` outages of as many contracts, started a minute ago and still open."""
    started = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "type": "outage.started",
                "schema_version": 1,
                "occurred_at": started,
                "source": "bench-alert-timer",
                "payload": {
                    "outage_id": f"BENCH-{uuid.uuid4().hex[:8]}",
                    "service_id": "api",
                    "started_at": started,
                    "impact_percent": "100",
                    "customer_ids": [customer_id(n)],
                },
            }
        )
        for n in range(count)
    ]
    path = directory / "open.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    ingest_file(store, path)


def _median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def measure(url: str, directory: Path, runs: int, store_kind: str) -> None:
    started = time.perf_counter()
    period = build(url, directory)
    print(f"{store_kind}: {CONTRACTS:,} contracts, {period.label} running now "
          f"(built in {time.perf_counter() - started:.0f} s)")  # fmt: skip
    per_minute = 60 / RECONCILE_IDLE_SECONDS
    with LedgerStore(url, access="write") as store:
        looked: list[int] = []

        def check() -> None:
            looked.append(len(follow_up(store, datetime.now(UTC)).check.rows))

        idle = cpu_of(check, runs)
        print(f"  nothing new:       median {_median_ms(idle):7.1f} ms CPU per check, "
              f"worst {max(idle) * 1000:.1f} ms, {looked[-1]} rows looked at")  # fmt: skip
        open_outages(store, directory, 3)
        looked.clear()
        due = cpu_of(check, runs)
        print(f"  a few rows due:    median {_median_ms(due):7.1f} ms CPU per check, "
              f"worst {max(due) * 1000:.1f} ms, {looked[-1]} rows looked at")  # fmt: skip
        rows: list[int] = []
        full = cpu_of(lambda: rows.append(len(provisional_rows(store, datetime.now(UTC)))), 3)
        print(f"  gauges' refresh:   median {_median_ms(full):7.1f} ms CPU, {rows[-1]:,} rows, "
              f"every {EXPOSURE_REFRESH_SECONDS:.0f} s")  # fmt: skip
    refreshes = 60 / EXPOSURE_REFRESH_SECONDS
    for label, checks in (("nothing new", idle), ("a few rows due", due)):
        total = per_minute * statistics.median(checks) + refreshes * statistics.median(full)
        print(f"  CPU per minute, {label}: {total:.3f} s "
              f"({per_minute:.0f} checks + {refreshes:.1f} refresh; bar: 1 s)")  # fmt: skip


def main() -> None:
    benchmark_main(__doc__.splitlines()[0], measure, runs=20, prefix="sla-bench-alert-timer-")


if __name__ == "__main__":
    main()
