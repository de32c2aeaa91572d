"""History is append-only in the database itself: triggers on both stores, roles on PostgreSQL.

Every statement here goes to the database directly, behind the ledger's back, as a
careless script or a compromised worker would: the database must refuse it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from consumers.intake.file_ingest import ingest_file
from ledger.errors import StoreError
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from projections.store.immutability import sqlite_triggers
from tests.builders import contract, outage
from tests.cli_process import run_cli as cli

pytestmark = pytest.mark.integration

MARCH = Period(2026, 3)
ROLES_SQL = Path(__file__).resolve().parents[2] / "docker" / "roles.sql"
PASSWORD = "sla-ledger-test"
# table -> an assignment a tamperer would make. The library's events table is named by
# the dialect (SQLite keeps the library's default name).
TAMPER = {
    "sla_events": "subject_id = 'other'",
    "sla_rejections": "reason = 'nothing to see'",
    "sla_closes": "closed_us = 0",
    "sla_credit_entries": "amount = '0.00'",
}
EVENTS_TABLE = {"sqlite": "stored_events", "postgresql": "sla_ledger_events"}
TRACKING_TABLE = {"sqlite": "tracking", "postgresql": "sla_ledger_tracking"}


def history(dialect: str) -> dict[str, str]:
    return {EVENTS_TABLE[dialect]: "topic = 'forged'", **TAMPER}


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


class RefusedError(Exception):
    """The database refused a statement."""


@contextmanager
def raw(url: str) -> Iterator[Any]:
    """A plain DB-API connection to the store, autocommitting, each error as `RefusedError`."""
    if dialect_of(url) == "sqlite":
        conn: Any = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    else:
        conn = psycopg.connect(url, autocommit=True)
        errors = (psycopg.Error,)

    class Connection:
        def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
            try:
                cursor = conn.execute(statement, params)
                return list(cursor.fetchall()) if cursor.description else []
            except errors as exc:
                raise RefusedError(str(exc).splitlines()[0]) from exc

        def count(self, table: str) -> int:
            return int(self.execute(f"SELECT COUNT(*) FROM {table}")[0][0])

    try:
        yield Connection()
    finally:
        conn.close()


def refusal(conn: Any, statement: str) -> str:
    with pytest.raises(RefusedError) as refused:
        conn.execute(statement)
    return str(refused.value)


def write_events(path: Path, documents: list[dict[str, Any]], extra: list[bytes]) -> Path:
    path.write_bytes(b"\n".join([json.dumps(d).encode() for d in documents] + extra) + b"\n")
    return path


def populate(url: str, tmp_path: Path) -> None:
    """Events, a rejection, a close with its entry, a tracked position and a lease."""
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    with LedgerStore(url, access="create") as store:
        summary = ingest_file(store, write_events(tmp_path / "in.jsonl", docs, [b"{broken"]))
        assert (summary.accepted, summary.rejected) == (3, 1)
        assert close_period(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).entries
        store.record_position("kafka:sla.outages:0", 5)
        assert store.hold_lease("outbox:credits", "worker-a", 30)


# ---------------------------------------------------------------- triggers, both stores


def test_history_refuses_update_and_delete(store_url: str, tmp_path: Path) -> None:
    populate(store_url, tmp_path)
    dialect = dialect_of(store_url)
    with raw(store_url) as conn:
        for table, assignment in history(dialect).items():
            rows = conn.count(table)
            assert rows > 0, f"{table} must hold rows, or a row trigger is never tested"
            message = refusal(conn, f"UPDATE {table} SET {assignment}")
            assert f"sla-ledger: {table} is append-only: UPDATE refused" in message
            message = refusal(conn, f"DELETE FROM {table}")
            assert f"sla-ledger: {table} is append-only: DELETE refused" in message
            assert conn.count(table) == rows
        if dialect == "postgresql":
            for table in history(dialect):
                message = refusal(conn, f"TRUNCATE {table}")
                assert f"sla-ledger: {table} is append-only: TRUNCATE refused" in message
            message = refusal(conn, f"TRUNCATE {', '.join(history(dialect))} CASCADE")
            assert "is append-only: TRUNCATE refused" in message


def test_positions_only_move_forward(store_url: str, tmp_path: Path) -> None:
    populate(store_url, tmp_path)
    dialect = dialect_of(store_url)
    tracking = TRACKING_TABLE[dialect]
    name = "kafka:sla.outages:0"
    with raw(store_url) as conn:
        for statement in (
            f"UPDATE {tracking} SET notification_id = 2 WHERE application_name = '{name}'",
            f"UPDATE {tracking} SET application_name = 'other' WHERE application_name = '{name}'",
            f"DELETE FROM {tracking}",
            "UPDATE sla_chain_head SET position = position - 1",
            "UPDATE sla_chain_head SET chain_sha256 = 'forged'",
            "DELETE FROM sla_chain_head",
        ):
            table = statement.split()[2] if statement.startswith("DELETE") else statement.split()[1]
            assert f"sla-ledger: {table} only moves forward" in refusal(conn, statement)
        if dialect == "postgresql":
            for table in (tracking, "sla_chain_head"):
                assert "TRUNCATE refused" in refusal(conn, f"TRUNCATE {table}")
    with LedgerStore(store_url, access="create") as store:
        store.record_position(name, 9)  # the library's upsert moves it forward
        assert store.tracked_position(name) == 9
        store.record_position(name, 3)  # behind: a no-op, not an error
        assert store.tracked_position(name) == 9


def test_operational_tables_still_change(store_url: str, tmp_path: Path) -> None:
    populate(store_url, tmp_path)
    with LedgerStore(store_url, access="create") as store:
        assert store.hold_lease("outbox:credits", "worker-a", 60), "renewed (an UPDATE)"
        store.release_lease("outbox:credits", "worker-a")  # a DELETE
        assert store.hold_lease("outbox:credits", "worker-b", 60)
        # A later event of the same outage widens its span (an upsert's UPDATE).
        later = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T12:00:00Z")[1]
        summary = ingest_file(store, write_events(tmp_path / "more.jsonl", [later], []))
        assert (summary.accepted, summary.rejected) == (1, 0)
    with raw(store_url) as conn:
        [(lo, hi)] = conn.execute(
            "SELECT lo_us, hi_us FROM sla_subject_spans WHERE subject_id = 'O-1'"
        )
        assert hi - lo == 2 * 3600 * 1_000_000


def test_spans_only_widen(store_url: str, tmp_path: Path) -> None:
    populate(store_url, tmp_path)
    with raw(store_url) as conn:
        for statement in (
            "UPDATE sla_subject_spans SET hi_us = lo_us",
            "UPDATE sla_subject_spans SET lo_us = hi_us",
            "UPDATE sla_subject_spans SET subject_id = 'other'",
            "DELETE FROM sla_subject_spans",
        ):
            assert "sla_subject_spans only widens" in refusal(conn, statement), statement


def test_sqlite_triggers_are_all_installed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    LedgerStore(url, access="create").close()
    LedgerStore(url, access="create").close()  # reopening is harmless
    with raw(url) as conn:
        found = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert set(sqlite_triggers()) <= found


def test_a_superuser_in_replica_mode_bypasses_the_triggers(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """What the triggers cannot stop (and the hash chain must detect): a superuser
    session with `session_replication_role = replica`, in which ordinary triggers do
    not fire."""
    populate(fresh_postgres_url, tmp_path)
    with raw(fresh_postgres_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE sla_credit_entries SET amount = '0.00'")
        conn.execute("SET session_replication_role = origin")
        assert conn.execute("SELECT DISTINCT amount FROM sla_credit_entries") == [("0.00",)]
        assert "append-only" in refusal(conn, "UPDATE sla_credit_entries SET amount = '1'")


# ------------------------------------------------------------------- roles, PostgreSQL


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.split("@", 1)[1] if "@" in parts.netloc else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{role}:{PASSWORD}@{host}"))


def apply_roles(url: str) -> None:
    """docker/roles.sql as a superuser, then test passwords (for servers that ask)."""
    for attempt in range(3):
        try:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(ROLES_SQL.read_text())
                for role in ("sla_owner", "sla_ingest", "sla_reader"):
                    admin.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal(PASSWORD)
                        )
                    )
            return
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
            if attempt == 2:  # another run created the same roles at the same moment
                raise


def server_version(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.info.server_version)


def test_ingest_role_writes_history_but_cannot_change_it(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    apply_roles(fresh_postgres_url)
    owner, ingest = (
        as_role(fresh_postgres_url, "sla_owner"),
        as_role(fresh_postgres_url, "sla_ingest"),
    )
    LedgerStore(owner, access="create").close()  # the migration step: the owner creates the schema
    with raw(fresh_postgres_url) as admin:
        owners = admin.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        )
        assert owners == [("sla_owner",)]

    # Everything an ingest worker and a close do, as sla_ingest.
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    path = write_events(tmp_path / "in.jsonl", docs, [b"{broken"])
    ingested = cli("ingest", "--from-file", str(path), store=ingest)
    assert ingested.returncode == 0, ingested.stderr
    assert "accepted 3, duplicates 0, rejected 1" in ingested.stdout
    closed = cli("close", "--period", "2026-03", store=ingest)
    assert closed.returncode == 0, closed.stderr
    with LedgerStore(ingest, access="create") as store:
        assert len(store.entries()) == 1
        store.record_position("kafka:sla.outages:0", 1)
        store.record_position("kafka:sla.outages:0", 2)
        assert store.tracked_position("kafka:sla.outages:0") == 2
        assert store.hold_lease("outbox:credits", "worker-a", 30)
        store.release_lease("outbox:credits", "worker-a")

    version = server_version(ingest)
    with raw(ingest) as conn:
        for table, assignment in history("postgresql").items():
            if table == "sla_ledger_events" and version < 170000:
                # Before MAINTAIN existed, LOCK TABLE ... EXCLUSIVE needed UPDATE; the
                # trigger, which this role cannot touch, refuses the update itself.
                expected = "is append-only: UPDATE refused"
            else:
                expected = f"permission denied for table {table}"
            assert expected in refusal(conn, f"UPDATE {table} SET {assignment}")
            assert f"permission denied for table {table}" in refusal(conn, f"DELETE FROM {table}")
            assert f"permission denied for table {table}" in refusal(conn, f"TRUNCATE {table}")
            for statement in (
                f"ALTER TABLE {table} DISABLE TRIGGER sla_ledger_append_only",
                f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                f"DROP TRIGGER sla_ledger_append_only ON {table}",
                f"DROP TABLE {table}",
            ):
                message = refusal(conn, statement)
                assert re.search(rf"must be owner of (table|relation) {table}$", message), message
        assert "only moves forward" in refusal(
            conn, "UPDATE sla_ledger_tracking SET notification_id = 0"
        )
        assert "permission denied" in refusal(conn, "DELETE FROM sla_ledger_tracking")
        assert "permission denied" in refusal(conn, "DELETE FROM sla_chain_head")
        # Spans decide what a report reads: the ingest role widens them, never narrows.
        assert "permission denied" in refusal(conn, "DELETE FROM sla_subject_spans")
        assert "only widens: UPDATE refused" in refusal(
            conn, "UPDATE sla_subject_spans SET hi_us = lo_us"
        )
        assert "permission denied" in refusal(conn, "SET session_replication_role = replica")
        replaced = refusal(
            conn,
            "CREATE OR REPLACE FUNCTION sla_ledger_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        )
        assert "permission denied for schema public" in replaced or "must be owner" in replaced
        assert "permission denied for schema public" in refusal(
            conn, "CREATE TABLE sla_events_copy (x int)"
        )
    with raw(fresh_postgres_url) as admin:
        assert admin.count("sla_events") == 3
        assert admin.count("sla_rejections") == 1


def test_reader_role_reports_but_cannot_write(fresh_postgres_url: str, tmp_path: Path) -> None:
    apply_roles(fresh_postgres_url)
    populate(as_role(fresh_postgres_url, "sla_owner"), tmp_path)
    reader = as_role(fresh_postgres_url, "sla_reader")
    report = cli("report", "--period", "2026-03", "--format", "json", store=reader)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["rows"][0]["credit_amount"] == "100.00"
    credits = cli("credits", "--period", "2026-03", "--format", "json", store=reader)
    assert credits.returncode == 0, credits.stderr
    with raw(reader) as conn:
        assert "permission denied for table sla_events" in refusal(
            conn, "INSERT INTO sla_events (event_id) VALUES ('x')"
        )
        assert "permission denied" in refusal(
            conn, "INSERT INTO sla_outbox_leases VALUES ('x', 'y', 0)"
        )
    path = write_events(tmp_path / "more.jsonl", outage("O-2", "2026-03-11T10:00:00Z", None), [])
    ingested = cli("ingest", "--from-file", str(path), store=reader)
    assert ingested.returncode == 1
    assert "permission denied" in ingested.stderr
    assert len(ingested.stderr.strip().splitlines()) == 1


def test_a_role_that_may_not_create_the_schema_is_told_to_use_the_owner(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    apply_roles(fresh_postgres_url)
    ingest = as_role(fresh_postgres_url, "sla_ingest")
    with pytest.raises(StoreError) as refused:
        LedgerStore(ingest, access="create")
    message = str(refused.value)
    assert "\n" not in message
    assert 'role "sla_ingest" may not create it' in message
    assert "sla_owner" in message
    assert "docker/roles.sql" in message
    result = cli("close", "--period", "2026-03", store=ingest)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "no store in database" in result.stderr  # only ingest creates one
    result = cli(
        "ingest", "--from-file", str(write_events(tmp_path / "in.jsonl", [], [])), store=ingest
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "sla_owner" in result.stderr
    # Once the owner has created it, the same role opens it.
    LedgerStore(as_role(fresh_postgres_url, "sla_owner"), access="create").close()
    LedgerStore(ingest, access="create").close()


def test_roles_applied_after_the_schema_exists_get_their_privileges(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    apply_roles(fresh_postgres_url)
    LedgerStore(
        fresh_postgres_url, access="create"
    ).close()  # created by another role (a superuser)
    with raw(fresh_postgres_url) as admin:
        for role in ("sla_ingest", "sla_reader"):
            admin.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            admin.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    ingest = as_role(fresh_postgres_url, "sla_ingest")
    path = write_events(tmp_path / "in.jsonl", [contract()], [])
    # Without its privileges the role is refused at once, when it opens the store.
    with (
        pytest.raises(StoreError, match="permission denied"),
        LedgerStore(ingest, access="create") as store,
    ):
        ingest_file(store, path)
    apply_roles(fresh_postgres_url)
    with LedgerStore(ingest, access="create") as store:
        assert ingest_file(store, path).accepted == 1
    with raw(ingest) as conn:
        assert "permission denied" in refusal(conn, "DELETE FROM sla_events")


def test_schema_creation_is_skipped_when_current(fresh_postgres_url: str) -> None:
    """A current schema is opened without DDL: the triggers are not even re-created."""
    LedgerStore(fresh_postgres_url, access="create").close()
    query = (
        "SELECT tgname, oid FROM pg_trigger "
        "WHERE tgrelid = 'sla_credit_entries'::regclass AND NOT tgisinternal ORDER BY 1"
    )
    with raw(fresh_postgres_url) as conn:
        before = conn.execute(query)
    assert [name for name, _ in before] == ["sla_ledger_append_only", "sla_ledger_no_truncate"]
    LedgerStore(fresh_postgres_url, access="create").close()
    with raw(fresh_postgres_url) as conn:
        assert conn.execute(query) == before
        conn.execute("COMMENT ON TABLE sla_ledger_events IS 'sla-ledger schema older'")
    LedgerStore(
        fresh_postgres_url, access="create"
    ).close()  # an older mark: created again, by the owner
    with raw(fresh_postgres_url) as conn:
        assert conn.execute(query) != before
        assert "append-only" in refusal(conn, "TRUNCATE sla_credit_entries")
