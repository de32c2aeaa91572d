"""Benchmark: the dispute desk's period overview of 3,000 rows, served.

    .venv/bin/python -m benchmarks.web_overview [--postgres URL] [--runs 10]

Builds a month of 1,000 contracts of 3 services each (3,000 rows, the generated
months of `benchmarks.history_growth`), closes it, starts a real `sla-ledger serve`,
signs in as a dispute handler and asks for the overview: the first page (the period's
report computed once, then kept per chain head), page 15, page 1 sorted by credit
descending, and page 1 as of the close. Prints the first request's time (the report
computed) and the median and worst of `--runs` requests after it, over the loopback
socket, with each page's size: the overview pages 3,000 rows by 100, so no page holds
them all. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import benchmark_main, timed
from benchmarks.history_growth import Plan, month_lines
from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.http_server import serving

PERIOD = Period(2026, 9)
OVERVIEW = f"/web/periods/{PERIOD.label}"


def build(url: str, directory: Path) -> datetime:
    """The month in a new store at `url`, closed: the close's moment."""
    plan = Plan(contracts=1000, months=1, first=PERIOD, seed=5)
    month = directory / "month.jsonl"
    month.write_text("".join(line + "\n" for line in month_lines(plan, 0)))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, month)
        closed = datetime.now(UTC)
        close_period(store, PERIOD, closed)
    return closed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def measure(url: str, directory: Path, runs: int, store: str) -> None:
    closed = build(url, directory)
    paths = (
        ("page 1", OVERVIEW),
        ("page 15", f"{OVERVIEW}?page=15"),
        ("by credit, descending", f"{OVERVIEW}?sort=credit_amount&order=desc"),
        ("as of the close", f"{OVERVIEW}?as_of={format_utc(closed)}"),
    )
    print(f"{store}: 3,000 rows of {PERIOD.label}, closed")
    with serving(url, directory) as served, httpx.Client(timeout=120) as client:
        signed = client.post(
            served.base + "/web/sign-in", data={"api_key": served.keys["disputes"]}
        )
        assert signed.status_code == 303, signed.status_code
        for label, path in paths:
            [cold] = timed(client, served.base + path, 1, warm=0)
            seconds = timed(client, served.base + path, runs, warm=0)
            size = len(client.get(served.base + path).content)
            print(
                f"  {label:>22}: first {_ms(cold)}, then median {_ms(statistics.median(seconds))}"
                f", worst {_ms(max(seconds))} ({runs} requests); {size:,} bytes"
            )


def main() -> None:
    benchmark_main(__doc__.splitlines()[0], measure, runs=10, prefix="sla-bench-overview-")


if __name__ == "__main__":
    main()
