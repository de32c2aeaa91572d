"""Benchmark: the dispute desk's row page for a row of 200 events, served.

    .venv/bin/python -m benchmarks.web_row_page [--postgres URL] [--runs 20]

Builds a store holding one contract-service-month of 200 events (the contract, 70
outages started and resolved, 20 maintenance windows, 39 amendments of those outages:
20 before the month's close, 19 after it, so the row has an issue, a reversal and a
re-issue with causes to trace), starts a real `sla-ledger serve` on a loopback port,
signs in as a dispute handler and asks for the row page, now and as of the close.

Prints the median and the worst of `--runs` requests after two warm-up requests, two
ways: as seen by a client on the same machine over the loopback socket (the whole
request: the derivation, the lineage of each entry, the template and the transfer),
and in-process through the app itself (FastAPI's TestClient: the route's computation
and render, no socket), both wall-clock and CPU time (the CPU time is what the page
costs, whatever else the machine is doing). The issue's target is under 300 ms
server-side. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import statistics
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.common import benchmark_main, timed
from consumers.http.app import Settings, create_app
from consumers.http.keys import config_entry, new_key, parse_entries
from consumers.http.roles import Role
from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, maintenance, outage
from tests.http_server import serving
from tests.ledgers import ingest_docs

CONTRACT, SERVICE, PERIOD = "C-BENCH", "crm", Period(2026, 3)
ROW = f"/web/periods/{PERIOD.label}/rows/{CONTRACT}/{SERVICE}"


def _at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-03-{day:02}T{hour:02}:{minute:02}:00Z"


def _outage_start(n: int) -> datetime:
    return datetime(2026, 3, 1 + n % 28, n % 24, tzinfo=UTC)


def _after(n: int, minutes: int) -> str:
    return format_utc(_outage_start(n) + timedelta(minutes=minutes))


def build(url: str, directory: Path) -> tuple[datetime, int]:
    """The row's 200 events in a new store at `url`, March closed between the two
    batches of amendments: the close's moment and the number of events."""
    outages = [
        doc for n in range(70) for doc in outage(f"O-{n}", _after(n, 0), _after(n, 20), impact="50")
    ]
    windows = [
        maintenance(f"M-{n}", _at(1, 0), _at(2 + n, 22), _at(2 + n, 23, 30)) for n in range(20)
    ]
    amendments = [
        ev(
            "outage.amended",
            f"2026-04-{1 + n % 28:02}T09:00:00Z",
            {
                "outage_id": f"O-{n}",
                # Before the close 20 min longer; after it, 3 h 40 min longer: the
                # late ones move the row to another tier (a reversal and a re-issue).
                "ended_at": _after(n, 40 if n < 20 else 240),
                "reason": f"review {n}: the outage lasted longer",
            },
        )
        for n in range(39)
    ]
    first = [contract(CONTRACT, tz="Europe/Berlin"), *outages, *windows, *amendments[:20]]
    with LedgerStore(url, access="create") as store:
        ingest_docs(store, directory / "month.jsonl", first)
        closed = datetime.now(UTC)
        close_period(store, PERIOD, closed)
        ingest_docs(store, directory / "late.jsonl", amendments[20:])
    return closed, len(first) + len(amendments[20:])


def in_process(url: str, path: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of `runs` requests for `path` through the app itself."""
    with warnings.catch_warnings():  # Starlette's notice about its httpx client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    key = new_key()
    keyring = parse_entries("benchmark", [config_entry("disputes", [Role.DISPUTES], key)])
    with TestClient(create_app(Settings(url, None, keyring))) as client:
        signed = client.post(
            "/web/sign-in", data={"api_key": key, "then": ROW}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.status_code
        for _ in range(2):
            assert client.get(path).status_code == 200
        wall, cpu = [], []
        for _ in range(runs):
            started, used = time.perf_counter(), time.process_time()
            answer = client.get(path)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            assert answer.status_code == 200, answer.status_code
    return wall, cpu


def _ms(seconds: list[float]) -> str:
    median, worst = statistics.median(seconds) * 1000, max(seconds) * 1000
    return f"median {median:7.1f} ms, worst {worst:7.1f} ms"


def measure(url: str, directory: Path, runs: int, store: str) -> None:
    closed, events = build(url, directory)
    paths = (("now", ROW), ("as of the close", f"{ROW}?as_of={format_utc(closed)}"))
    with serving(url, directory) as served, httpx.Client(timeout=60) as client:
        signed = client.post(
            served.base + "/web/sign-in",
            data={"api_key": served.keys["disputes"], "then": ROW},
        )
        assert signed.status_code == 303, signed.status_code
        page = client.get(served.base + ROW).text
        entries = page.count('class="entry entry-')
        print(f"{store}: a row of {events} events, {entries} entries, page {len(page):,} bytes")
        for label, path in paths:
            seconds = timed(client, served.base + path, runs)
            print(f"  served, over the socket, {label:>15}: {_ms(seconds)} ({runs} requests)")
    for label, path in paths:
        wall, cpu = in_process(url, path, runs)
        print(f"  in-process, wall clock,  {label:>15}: {_ms(wall)} ({runs} requests)")
        print(f"  in-process, CPU time,    {label:>15}: {_ms(cpu)} ({runs} requests)")
    print("  (target: under 300 ms server-side)")


def main() -> None:
    benchmark_main(__doc__.splitlines()[0], measure, runs=20, prefix="sla-bench-row-")


if __name__ == "__main__":
    main()
