"""A damaged SQLite ledger (truncated, or a page overwritten) is called damaged, not
someone else's file, and `audit verify` fails on it instead of saying "chain verified"."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.integration.test_store_access import one_line_error

pytestmark = pytest.mark.integration


def _ledger(tmp_path: Path) -> Path:
    """A ledger of one contract, one outage and one rejected line, its WAL merged in."""
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    source = tmp_path / "C.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in docs) + '{"broken"\n')
    path = tmp_path / "led.db"
    ingested = run("ingest", "--store", f"sqlite:///{path}", "--from-file", str(source))
    assert ingested.returncode == 0, ingested.stderr
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _overwrite_index(path: Path, index: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [root] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [index])
    with path.open("r+b") as handle:
        handle.seek((root[0] - 1) * page_size)
        handle.write(b"\xff" * page_size)


def test_a_truncated_ledger_is_damaged_not_foreign(tmp_path: Path) -> None:
    truncated = tmp_path / "t.db"
    truncated.write_bytes(_ledger(tmp_path).read_bytes()[:50_000])
    for args in (["report", "--period", "2026-03"], ["ingest", "--from-file", "-"]):
        message = one_line_error(run(*args, "--store", f"sqlite:///{truncated}", stdin=b""))
        assert message.startswith(
            f"sla-ledger: error: the SQLite database at {truncated} is damaged (SQLite: "
            "database disk image is malformed): restore it from a backup or a fresh copy; "
        ), message
        assert "not a sla-ledger store" not in message
    assert truncated.stat().st_size == 50_000
    # Another program's file is still another program's file.
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    message = one_line_error(
        run("report", "--period", "2026-03", "--store", f"sqlite:///{foreign}")
    )
    assert "is not a sla-ledger store" in message


def test_audit_verify_fails_on_a_damaged_index(tmp_path: Path) -> None:
    path = _ledger(tmp_path)
    store = f"sqlite:///{path}"
    assert run("audit", "verify", "--store", store).returncode == 0
    _overwrite_index(path, "sla_subject_spans_ended")
    verified = run("audit", "verify", "--store", store)
    assert verified.returncode == 1
    assert verified.stdout.startswith("the SQLite database is damaged (quick_check: Page "), (
        verified.stdout
    )
    assert verified.stdout.count("\n") == 1
    assert verified.stderr == "sla-ledger: audit verify failed: the SQLite database is damaged\n"
    document = json.loads(run("audit", "verify", "--store", store, "--format", "json").stdout)
    assert document["ok"] is False
    assert document["database_integrity"]["checked"] is True
    assert "Page" in document["database_integrity"]["problem"]
    exported = run(
        "audit", "export", "--store", store, "--period", "2026-03", "--out", str(tmp_path / "b")
    )
    assert "the SQLite database is damaged" in one_line_error(exported)


def test_audit_verify_says_the_database_check_it_ran(store_url: str, tmp_path: Path) -> None:
    source = tmp_path / "C.jsonl"
    source.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(source), store=store_url).returncode == 0
    document = json.loads(run("audit", "verify", "--format", "json", store=store_url).stdout)
    assert document["ok"] is True
    # PostgreSQL has no cheap equivalent of quick_check: not claimed as checked.
    assert document["database_integrity"] == {
        "checked": store_url.startswith("sqlite"),
        "problem": None,
    }
