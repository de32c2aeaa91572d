"""Which stores a command may open, and how: only `ingest` creates one, only `ingest` and
`close` write, and every other command reads a store without writing anything to it,
down to a read-only copy an auditor received (made unwritable for real: root ignores
file modes, not the immutable attribute)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.integration.test_immutability import apply_roles, as_role, populate

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, (result.args, result.stdout, result.stderr)
    assert result.stderr.startswith("sla-ledger: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def events_file(directory: Path) -> Path:
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    path = directory / "in.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + '\n{"broken"\n')
    path.chmod(0o644)
    return path


def read_commands(out: Path) -> list[list[str]]:
    """Every command that only reads the store."""
    return [
        ["report", "--period", "2026-03"],
        ["credits", "--period", "2026-03"],
        ["rejections"],
        ["incidents"],
        ["explain", "--contract", "C-1", "--service", "crm", "--period", "2026-03"],
        ["diff", "--period", "2026-03", "--from", "2026-04-01T00:00:00Z"],
        ["audit", "verify"],
        ["audit", "rebuild"],
        ["audit", "export", "--period", "2026-03", "--out", str(out)],
    ]


def write_commands(events: Path) -> list[list[str]]:
    return [["ingest", "--from-file", str(events)], ["close", "--period", "2026-03"]]


def state(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file in `directory`: its digest and modification time."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
    }


# ----------------------------------------------------------- read-only copies, SQLite


@contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Make files and directories unwritable for this very process, for real: by their
    mode, or, for root (which ignores modes), by the immutable attribute, which binds
    root too. Checked before use, so that the test cannot pass for the wrong reason."""
    root = os.geteuid() == 0
    chattr = shutil.which("chattr")
    done: list[Path] = []
    try:
        for path in paths:
            if not root:
                path.chmod(0o555 if path.is_dir() else 0o444)
            elif (
                chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode
            ):
                pytest.skip("root on a file system without immutable files")
            done.append(path)
            if path.is_dir():
                with pytest.raises(PermissionError):
                    (path / "probe").touch()
            else:
                with pytest.raises(PermissionError):
                    path.open("ab").close()
        yield
    finally:
        for path in done:
            if root:
                subprocess.run([str(chattr), "-i", str(path)], check=True)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)


def ledger_copy(tmp_path: Path) -> Path:
    """A closed ledger with a rejection, written by its owner, as a copy to hand out."""
    events = events_file(tmp_path)
    original = tmp_path / "original" / "ledger.db"
    original.parent.mkdir()
    url = f"sqlite:///{original}"
    assert run("ingest", "--from-file", str(events), store=url).returncode == 0
    assert run("close", "--period", "2026-03", store=url).returncode == 0
    assert sorted(p.name for p in original.parent.iterdir()) == ["ledger.db"]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy2(original, copy / "ledger.db")
    return copy / "ledger.db"


@pytest.mark.parametrize("read_only", ["file and directory", "file"])
def test_a_read_only_copy_is_read_by_every_read_command_without_a_write(
    tmp_path: Path, read_only: str
) -> None:
    ledger = ledger_copy(tmp_path)
    url = f"sqlite:///{ledger}"
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    before = state(ledger.parent)
    # The file alone (its directory writable: SQLite could put a -wal/-shm there), or
    # the file and its directory.
    locked = (ledger, ledger.parent) if read_only == "file and directory" else (ledger,)
    with unwritable(*locked):
        for args in read_commands(bundles / "b"):
            result = run(*args, store=url)
            assert result.returncode == 0, (args, result.stderr)
            # No write to the file, no -wal/-shm beside it, not even while reading.
            assert state(ledger.parent) == before, args
        for args in write_commands(tmp_path / "in.jsonl"):
            message = one_line_error(run(*args, store=url))
            assert message == (
                f"sla-ledger: error: store {url} is read-only ({ledger} or its directory may "
                "not be written): ingest and close write to the store and need a writable "
                "copy; the other commands read it as it is\n"
            )
            assert "server" not in message
            assert state(ledger.parent) == before, args
    assert (bundles / "b" / "manifest.json").is_file()
    assert run("audit", "check", str(bundles / "b"), store=url).returncode == 0


def test_a_copy_with_an_unmerged_log_is_read_where_possible_and_explained_where_not(
    tmp_path: Path,
) -> None:
    """A copy taken while a writer had the store open carries records only in its -wal:
    read beside it when SQLite may add its index there, else one line says why not."""
    ledger = ledger_copy(tmp_path)
    writer = sqlite3.connect(ledger, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute(
            "INSERT INTO sla_rejections (rejection_id, rejected_us, origin, raw, field, reason) "
            "VALUES ('late', 1, '{}', x'7b', '(document)', 'only in the log')"
        )
        handed = tmp_path / "handed"
        handed.mkdir()
        for name in ("ledger.db", "ledger.db-wal"):
            shutil.copy2(ledger.parent / name, handed / name)
    finally:
        writer.close()
    copy = handed / "ledger.db"
    url = f"sqlite:///{copy}"
    before = state(handed)
    with unwritable(copy, handed / "ledger.db-wal", handed):
        message = one_line_error(run("rejections", store=url))
        assert message.startswith(
            f"sla-ledger: error: cannot read the read-only store {copy}: ledger.db-wal beside "
            "it holds records not yet merged into it"
        ), message
        assert state(handed) == before
    readable = run("rejections", "--format", "json", store=url)
    assert readable.returncode == 0, readable.stderr
    reasons = [r["reason"] for r in json.loads(readable.stdout)["rejections"]]
    assert "only in the log" in reasons


def test_ingest_cannot_create_a_store_in_a_read_only_directory(tmp_path: Path) -> None:
    events = events_file(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    url = f"sqlite:///{locked / 'ledger.db'}"
    with unwritable(locked):
        message = one_line_error(run("ingest", "--from-file", str(events), store=url))
    assert message == (
        f"sla-ledger: error: cannot create store {url}: directory {locked} may not be "
        "written; give a path in a writable directory\n"
    )
    assert list(locked.iterdir()) == []


# --------------------------------------------------------- the reader role, PostgreSQL


def test_the_reader_role_runs_every_read_command_and_no_write(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    apply_roles(fresh_postgres_url)
    populate(as_role(fresh_postgres_url, "sla_owner"), tmp_path)
    reader = as_role(fresh_postgres_url, "sla_reader")
    with psycopg.connect(fresh_postgres_url) as admin:
        counted = admin.execute("SELECT COUNT(*) FROM sla_events").fetchone()
    for args in read_commands(tmp_path / "bundle"):
        result = run(*args, store=reader)
        assert result.returncode == 0, (args, result.stderr)
    for args in write_commands(events_file(tmp_path)):
        message = one_line_error(run(*args, store=reader))
        assert 'permission denied: role "sla_reader" may not write to store' in message
        assert "sla_ingest" in message
        assert "sla-ledger-test" not in message  # the password
    with psycopg.connect(fresh_postgres_url) as admin:
        assert admin.execute("SELECT COUNT(*) FROM sla_events").fetchone() == counted


# ------------------------------------------------------- no store here: empty, foreign


def foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount TEXT)")
        conn.execute("INSERT INTO invoices (amount) VALUES ('10.00')")
    conn.close()


def tableless_sqlite(path: Path) -> None:
    """A database without a table: what a creation stopped before its schema leaves."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    assert path.stat().st_size > 0


EMPTY = {
    "empty file": lambda path: path.write_bytes(b""),
    "database without tables": tableless_sqlite,
}
FOREIGN = {
    "text file": lambda path: path.write_text("not a ledger\n"),
    "another program's database": foreign_sqlite,
}


@pytest.mark.parametrize("kind", list(EMPTY))
def test_an_empty_sqlite_file_is_no_store_until_ingest_creates_one(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "ledger.db"
    EMPTY[kind](path)
    url = f"sqlite:///{path}"
    before = state(tmp_path)
    for args in [*read_commands(tmp_path / "bundle"), ["close", "--period", "2026-03"]]:
        message = one_line_error(run(*args, store=url))
        assert message.startswith(f"sla-ledger: error: no store at {path} ("), message
        assert "`sla-ledger ingest` creates a new one" in message
        assert state(tmp_path) == before, args
    ingested = run("ingest", "--from-file", str(events_file(tmp_path)), store=url)
    assert ingested.returncode == 0, ingested.stderr
    assert "accepted 3" in ingested.stdout
    assert run("report", "--period", "2026-03", store=url).returncode == 0


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_a_file_that_is_not_a_ledger_is_never_read_nor_written(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "ledger.db"
    FOREIGN[kind](path)
    url = f"sqlite:///{path}"
    events = events_file(tmp_path)
    before = state(tmp_path)
    for args in [*read_commands(tmp_path / "bundle"), *write_commands(events)]:
        message = one_line_error(run(*args, store=url))
        assert message.startswith(f"sla-ledger: error: {path} is not a sla-ledger store"), message
        assert state(tmp_path) == before, args


def test_a_postgres_database_without_the_ledger_is_no_store_until_ingest(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
        admin.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    for args in [*read_commands(tmp_path / "bundle"), ["close", "--period", "2026-03"]]:
        message = one_line_error(run(*args, store=fresh_postgres_url))
        assert "no store in database" in message, message
        assert "holds no sla-ledger tables" in message
    with psycopg.connect(fresh_postgres_url) as admin:
        tables = admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert tables == [("invoices",)]  # nothing created by a reader
    assert not (tmp_path / "bundle").exists()
    ingested = run("ingest", "--from-file", str(events_file(tmp_path)), store=fresh_postgres_url)
    assert ingested.returncode == 0, ingested.stderr
    assert run("report", "--period", "2026-03", store=fresh_postgres_url).returncode == 0


# ------------------------------------------------------------------- relative paths


def test_a_missing_directory_says_how_the_path_was_read(tmp_path: Path) -> None:
    relative = one_line_error(
        run("report", "--period", "2026-03", store="sqlite:///data/x.db", cwd=tmp_path)
    )
    assert relative == (
        "sla-ledger: error: cannot open store: no directory data for sqlite:///data/x.db "
        "(a relative path, data/x.db from the current directory; an absolute path needs "
        "four slashes: sqlite:////data/x.db)\n"
    )
    absolute = tmp_path / "nowhere" / "x.db"
    message = one_line_error(
        run("ingest", "--from-file", str(events_file(tmp_path)), store=f"sqlite:///{absolute}")
    )
    assert message == (
        f"sla-ledger: error: cannot open store: no directory {absolute.parent} for "
        f"sqlite:///{absolute} (an absolute path)\n"
    )
    assert stat.S_ISDIR(tmp_path.stat().st_mode)
    assert not (tmp_path / "data").exists()
    assert not absolute.parent.exists()


def test_a_kafka_worker_gives_up_at_once_on_a_store_that_refuses(tmp_path: Path) -> None:
    """A worker retries a store it cannot reach (a server restarting), but not one that
    answered and refused: a foreign file stays foreign however long it waits."""
    path = tmp_path / "ledger.db"
    FOREIGN["text file"](path)
    before = state(tmp_path)
    result = run(
        "ingest",
        "--bootstrap-servers",
        "127.0.0.1:9",
        "--retry-seconds",
        "600",
        "--no-progress",
        store=f"sqlite:///{path}",
    )
    message = one_line_error(result)
    assert "is not a sla-ledger store" in message
    assert "retrying" not in result.stderr
    assert state(tmp_path) == before


def _drop_contract_scopes(store_url: str) -> None:
    """Make the store look like one of the layout before the subject index."""
    if store_url.startswith("sqlite"):
        with closing(sqlite3.connect(store_url.removeprefix("sqlite:///"))) as conn:
            conn.execute("DROP TABLE sla_contract_scopes")
            conn.commit()
        return
    with psycopg.connect(store_url.replace("postgresql://", "postgres://", 1)) as conn:
        conn.execute("DROP TABLE sla_contract_scopes")


def test_a_store_of_an_earlier_layout_is_refused_in_one_line_by_readers_and_writers(
    store_url: str, tmp_path: Path
) -> None:
    events = events_file(tmp_path)
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    _drop_contract_scopes(store_url)
    expected = "was made by an earlier sla-ledger, without the subject index: start a new store"
    for command in (
        ["report", "--period", "2026-03"],
        ["ingest", "--from-file", str(events)],
        ["close", "--period", "2026-03"],
    ):
        result = run(*command, store=store_url)
        assert expected in one_line_error(result), command
