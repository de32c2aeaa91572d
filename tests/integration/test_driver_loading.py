"""A SQLite store never loads the PostgreSQL driver: psycopg and the library's PostgreSQL
recorder take about a quarter of a second to import, which every command on the
embedded default would otherwise pay (`projections/store/postgres.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.infrastructure import sqlite_url

PROBE = """
import sys
from consumers.cli.main import main
code = main(sys.argv[1:])
loaded = sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("psycopg", "psycopg_pool")
    or name in ("eventsourcing.postgres", "projections.store.postgres")
)
print("LOADED", loaded)
"""


def loaded_after(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED")]
    assert lines, done.stderr
    return lines[-1]


def test_commands_on_a_sqlite_store_do_not_load_the_postgresql_driver(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    feed = tmp_path / "none.jsonl"
    feed.write_text("")
    assert loaded_after("ingest", "--from-file", str(feed), "--store", url) == "LOADED []"
    assert loaded_after("report", "--store", url, "--period", "2026-10") == "LOADED []"
    assert loaded_after("audit", "verify", "--store", url) == "LOADED []"


def test_a_postgresql_url_loads_it(fresh_postgres_url: str) -> None:
    # An empty database: the command refuses it, after loading the driver to ask.
    loaded = loaded_after("report", "--store", fresh_postgres_url, "--period", "2026-10")
    assert "projections.store.postgres" in loaded
