"""Benchmark: the HTTP API under 50 concurrent clients, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.http_api [--contracts 1000] [--events 60000] [--clients 50]

Builds a store of N contracts (3 services each: a 3,000-row period) from the generated
feed of `benchmarks.ingest_and_report`, closes March 2026 (its entries), starts a real
`sla-ledger serve` on a loopback port, and has `--clients` concurrent clients ask, one
kind of question at a time:

- a 100-entry credits page (`GET /v1/credits?period=2026-03&limit=100`, the first page,
  as of now), and the next pages by their cursors;
- a statement (`GET /v1/statements/{contract}/2026-03`, a contract drawn at random);
- the 3,000-row report of March (`GET /v1/periods/2026-03/report`), as of now: computed
  for every request;
- the same report as of a past moment (`?as_of=`): computed once, then served from the
  answers kept under the same chain head.

For each it prints requests/s, the p50 and p99 latency seen by the clients (the whole
request, on the same 2-core machine as the server: the clients' own Python time is in
it), and the server's own timing of the same requests from its /metrics histogram (from
the app receiving a request to its answer). Prints numbers;
asserts nothing (speed is measured here, not in timed tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import postgres_url, revision
from benchmarks.ingest_and_report import MARCH, write_feed
from consumers.http.keys import config_entry, new_key
from consumers.http.roles import Role
from consumers.intake.file_ingest import ingest_file
from ledger.timeformat import format_utc
from projections.credit_entries import close_period
from projections.store import LedgerStore

SERVING = re.compile(r"serving .* on (http://\S+) ")
STATEMENT = "/v1/statements/{contract_id}/{period}"
REPORT = "/v1/periods/{period}/report"


def build(url: str, feed: Path) -> list[str]:
    """Ingest the feed, close March; the contract ids."""
    with LedgerStore(url, access="create") as store:
        ingest_file(store, feed)
        closed = close_period(store, MARCH, datetime.now(UTC))
        print(f"  store built: {len(closed.entries):,} entries issued by closing March")
        return store.subject_ids("contract")


@contextmanager
def server(url: str, directory: Path) -> Iterator[tuple[str, str]]:
    """`sla-ledger serve` on `url`: its base URL and a key holding every role."""
    key = new_key()
    keys = directory / "keys.json"
    keys.write_text(json.dumps({"keys": [config_entry("bench", list(Role), key)]}))
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "consumers", "serve", "--store", url),
            *("--listen", "127.0.0.1:0", "--keys", str(keys)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        base = None
        while base is None:
            line = process.stderr.readline()
            if not line:
                raise SystemExit("serve did not start")
            found = SERVING.search(line)
            base = found.group(1) if found else None
        # Keep reading its log so a full pipe never stalls it.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield base, key
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


async def load(
    base: str, key: str, paths: list[str], clients: int
) -> tuple[float, list[float], int]:
    """`paths` asked by `clients` concurrent clients: (seconds, latencies, failures)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    latencies: list[float] = []
    failures = 0
    headers = {"Authorization": f"Bearer {key}"}

    async def client() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as http:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                answer = await http.get(path)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


BUCKET = re.compile(r'sla_ledger_http_request_seconds_bucket\{le="([^"]+)",[^}]*route="([^"]+)"')


def server_buckets(base: str) -> dict[tuple[str, str], float]:
    """(route, bucket bound) -> requests the server answered within it (its /metrics)."""
    text = httpx.get(base + "/metrics").text
    found: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        match = BUCKET.match(line)
        if match:
            bound, route = match.groups()
            found[(route, bound)] = found.get((route, bound), 0.0) + float(line.split()[-1])
    return found


def server_quantiles(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float], route: str
) -> str:
    """The server's own timing of `route`'s requests between two scrapes: the bucket
    bounds its p50 and p99 fall under (the time from the app receiving a request to its
    answer, without the client's or the network's)."""
    counts = sorted(
        (float(bound), after[(r, bound)] - before.get((r, bound), 0.0))
        for (r, bound) in after
        if r == route and bound != "+Inf"
    )
    total = after.get((route, "+Inf"), 0.0) - before.get((route, "+Inf"), 0.0)
    if not total:
        return "no requests"

    def under(share: float) -> str:
        for bound, count in counts:
            if count >= share * total:
                return f"<= {bound * 1000:,.0f} ms"
        return "> 10 s"

    return f"server p50 {under(0.5)}, p99 {under(0.99)}"


def measure(name: str, base: str, key: str, paths: list[str], clients: int, route: str) -> None:
    before = server_buckets(base)
    seconds, latencies, failures = asyncio.run(load(base, key, paths, clients))
    server = server_quantiles(before, server_buckets(base), route)
    print(
        f"  {name}: {len(paths):,} requests in {seconds:.1f} s = {len(paths) / seconds:,.1f} "
        f"req/s; client p50 {percentile(latencies, 0.50) * 1000:,.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:,.0f} ms; {server}"
        + (f"; {failures} not 200" if failures else "")
    )


def credit_pages(base: str, key: str, count: int) -> list[str]:
    """The first page and the cursors' pages after it, `count` paths in all."""
    pages = ["/v1/credits?period=2026-03&limit=100"]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        link = http.get(pages[0]).headers.get("link")
        while link is not None and len(pages) < 10:
            pages.append(link[1 : link.index(">")])
            link = http.get(pages[-1]).headers.get("link")
    return [pages[i % len(pages)] for i in range(count)]


def run(url: str, feed: Path, directory: Path, clients: int, requests: int) -> None:
    contracts = build(url, feed)
    with server(url, directory) as (base, key):
        moment = format_utc(datetime.now(UTC))
        chosen = random.Random(7)
        pages = credit_pages(base, key, requests)
        measure("credits page (100 entries)", base, key, pages, clients, "/v1/credits")
        statements = [f"/v1/statements/{chosen.choice(contracts)}/2026-03" for _ in range(requests)]
        measure("statement", base, key, statements, clients, STATEMENT)
        now = ["/v1/periods/2026-03/report"] * requests
        measure("report, 3,000 rows, as of now", base, key, now, clients, REPORT)
        past = f"/v1/periods/2026-03/report?as_of={moment}"
        measure(
            "report, 3,000 rows, as of a past moment", base, key, [past] * requests, clients, REPORT
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--contracts", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1_000, help="per kind of question")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(f"sla-ledger {revision()}: HTTP API, {args.clients} concurrent clients")
    with tempfile.TemporaryDirectory(prefix="sla-bench-http-") as scratch:
        directory = Path(scratch)
        feed = directory / "events.jsonl"
        n = write_feed(feed, args.events, args.contracts)
        print(f"generated {n:,} events, {args.contracts:,} contracts x 3 services")
        print("SQLite:")
        run(f"sqlite:///{directory}/bench.db", feed, directory, args.clients, args.requests)
        if not args.skip_postgres:
            print("PostgreSQL:")
            with postgres_url(
                args.postgres_url or os.environ.get("SLA_LEDGER_BENCH_POSTGRES_URL")
            ) as url:
                run(url, feed, directory, args.clients, args.requests)


if __name__ == "__main__":
    main()
