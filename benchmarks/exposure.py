"""Benchmark: `exposure` of a 3,000-row month running now (the issue's bar: under 1 s).

    .venv/bin/python -m benchmarks.exposure [--postgres URL] [--runs 5]

Builds the month the clock is in, 1,000 contracts of 3 services each (the generated
months of `benchmarks.history_growth`, events all month long, so that some lie after
the horizon and every row's projection is computed, not copied from its figures), not
closed: 3,000 provisional rows. Then times, `--runs` times each after one untimed run,
the query in this process (`exposure` and its JSON, as the API computes it) and the
command line as a user runs it (`sla-ledger exposure --format json` and the table, a
new process each time, start-up included). Prints the median and worst; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import REPO, benchmark_main
from benchmarks.history_growth import Plan, month_lines
from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.queries.exposure import exposure, exposure_json
from projections.store import LedgerStore


def build(url: str, directory: Path) -> Period:
    """The month running now, 3,000 rows, in a new store at `url`: its period."""
    now = datetime.now(UTC)
    period = Period(now.year, now.month)
    plan = Plan(contracts=1000, months=1, first=period, seed=5)
    month = directory / "month.jsonl"
    month.write_text("".join(line + "\n" for line in month_lines(plan, 0)))
    with LedgerStore(url, access="create") as store:
        ingest_file(store, month)
    return period


def seconds_of(run: Callable[[], object], runs: int) -> list[float]:
    run()  # untimed: the operating system's caches, the store's first connection
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        found.append(time.perf_counter() - started)
    return found


def _shown(label: str, seconds: list[float]) -> str:
    return (
        f"  {label:>26}: median {statistics.median(seconds) * 1000:7.1f} ms, "
        f"worst {max(seconds) * 1000:7.1f} ms ({len(seconds)} runs)"
    )


def measure(url: str, directory: Path, runs: int, store: str) -> None:
    period = build(url, directory)
    rows: list[int] = []

    def in_process() -> None:
        answer = exposure(lambda: LedgerStore(url, access="read"), period, None, None, fork=True)
        exposure_json(answer)
        rows.append(len(answer.rows))

    def command(*form: str) -> Callable[[], None]:
        line = [sys.executable, "-m", "consumers", "exposure", "--store", url]
        line += ["--period", period.label, *form]

        def run() -> None:
            subprocess.run(line, cwd=REPO, check=True, capture_output=True)

        return run

    print(f"{store}: exposure of {period.label}, running now")
    print(_shown("in process (query + JSON)", seconds_of(in_process, runs)))
    print(f"  {'rows':>26}: {rows[-1]:,} provisional")
    print(_shown("CLI --format json", seconds_of(command("--format", "json"), runs)))
    print(_shown("CLI table", seconds_of(command(), runs)))


def main() -> None:
    benchmark_main(__doc__.splitlines()[0], measure, runs=5, prefix="sla-bench-exposure-")


if __name__ == "__main__":
    main()
