"""History is append-only: the statements that make the database refuse to change it.

Three kinds of table hold the ledger's data:

- history, append-only: the event log (the library's events table), `sla_events`,
  `sla_rejections`, `sla_closes`, `sla_credit_entries`, `sla_entry_bases`,
  `sla_alerts`, and the
  subject indexes that
  only ever gain rows (`sla_subject_buckets`, `sla_subject_scopes`,
  `sla_contract_scopes`). UPDATE, DELETE and
  TRUNCATE are refused.
- positions, forward-only: the library's tracking table (one row per upstream stream,
  which the library upserts) and the chain head `sla_chain_head` (one row). A row may move
  forward (its position grows; a no-op rewrite of the same row is allowed), never back,
  and is never deleted.
- spans, widen-only: `sla_subject_spans` decides which subjects a report reads, so a
  span may only grow (an earlier start, a later end, an end becoming known), never
  shrink or disappear.
- operational state, mutable: `sla_outbox_leases` (taken, renewed, released) and the
  due-time indexes `sla_due` and `sla_alert_due` (rewritten whenever their rows are
  computed again).

PostgreSQL: ordinary (not ALWAYS) triggers raise an exception, and `sla_ledger_grant_roles`
gives the deployment's roles (`docker/roles.sql`) exactly the privileges they need: the
ingest role may insert history but holds no UPDATE, DELETE or TRUNCATE on it, and, not
owning the tables, cannot disable or drop the triggers. A superuser still can (or can set
`session_replication_role = replica`, under which ordinary triggers do not fire): that is
what the hash chain and `audit verify` are for.

SQLite: the same triggers guard against accidents only. SQLite has no roles, so whoever
can write the file can drop them; there the evidence of tampering is the hash chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

OWNER_ROLE = "sla_owner"
INGEST_ROLE = "sla_ingest"
READER_ROLE = "sla_reader"

# The ledger's own tables, by kind. The library's events and tracking tables are added
# by each recorder, which knows their names.
HISTORY_TABLES = (
    "sla_events",
    "sla_rejections",
    "sla_closes",
    "sla_credit_entries",
    "sla_entry_bases",
    "sla_alerts",
    "sla_subject_buckets",
    "sla_subject_scopes",
    "sla_contract_scopes",
)
# table -> (key column, position column, the other columns): the key never changes and
# the position only grows (or the row is rewritten unchanged, which takes a write lock).
FORWARD_ONLY_TABLES = {"sla_chain_head": ("id", "position", ("chain_sha256", "recorded_us"))}
# table -> (key columns, columns that may only decrease, columns that may only increase)
WIDEN_ONLY_TABLES = {
    "sla_subject_spans": (
        ("subject_kind", "subject_id"),
        ("lo_us", "ended_us"),
        ("hi_us", "has_end"),
    )
}
MUTABLE_TABLES = ("sla_outbox_leases", "sla_due", "sla_alert_due")
# (table, column) of every generated key: the ingest role needs USAGE on its sequence.
SEQUENCES = (("sla_rejections", "seq"), ("sla_credit_entries", "seq"))

APPEND_ONLY_TRIGGER = "sla_ledger_append_only"
FORWARD_ONLY_TRIGGER = "sla_ledger_forward_only"
WIDEN_ONLY_TRIGGER = "sla_ledger_widen_only"
NO_TRUNCATE_TRIGGER = "sla_ledger_no_truncate"
GRANT_FUNCTION = "sla_ledger_grant_roles"

SQLITE_EVENTS_TABLE = "stored_events"
SQLITE_TRACKING_TABLE = "tracking"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(names: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(_literal(name) for name in names) + "]::text[]"


def postgres_statements(schema: str, events_table: str, tracking_table: str) -> list[str]:
    """Functions, triggers and grants, to run after the tables exist, in one transaction.

    Re-runnable: functions are replaced, and each trigger is dropped and created again
    (so a changed definition takes effect; in one transaction there is no moment without
    it). Only the owner of the tables (or a superuser) can run them.
    """
    events = f'"{schema}"."{events_table}"'
    tracking = f'"{schema}"."{tracking_table}"'
    history = [events, *HISTORY_TABLES]
    forward = {tracking: ("application_name", "notification_id")} | {
        table: (key, pos) for table, (key, pos, _) in FORWARD_ONLY_TABLES.items()
    }
    statements = [
        f"""CREATE OR REPLACE FUNCTION "{schema}".{APPEND_ONLY_TRIGGER}() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            RAISE EXCEPTION 'sla-ledger: % is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING HINT = 'the ledger never changes its history: append a correction';
        END
        $fn$""",
        # TG_ARGV: the key column, the position column.
        f"""CREATE OR REPLACE FUNCTION "{schema}".{FORWARD_ONLY_TRIGGER}() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'UPDATE'
                AND (to_jsonb(NEW) -> TG_ARGV[0]) = (to_jsonb(OLD) -> TG_ARGV[0])
                AND ((to_jsonb(NEW) ->> TG_ARGV[1])::numeric
                        > (to_jsonb(OLD) ->> TG_ARGV[1])::numeric
                    OR NEW IS NOT DISTINCT FROM OLD)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'sla-ledger: % only moves forward: % refused', TG_TABLE_NAME, TG_OP
                USING HINT = 'a position is never moved back or removed';
        END
        $fn$""",
        f"""CREATE OR REPLACE FUNCTION "{schema}".{WIDEN_ONLY_TRIGGER}() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'UPDATE' AND {_widening_condition("NEW", "OLD")} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'sla-ledger: % only widens: % refused', TG_TABLE_NAME, TG_OP
                USING HINT = 'a span decides what a report reads: it never shrinks';
        END
        $fn$""",
    ]
    for table in [*history, *forward, *WIDEN_ONLY_TABLES]:
        statements += [
            f"DROP TRIGGER IF EXISTS {APPEND_ONLY_TRIGGER} ON {table}",
            f"DROP TRIGGER IF EXISTS {FORWARD_ONLY_TRIGGER} ON {table}",
            f"DROP TRIGGER IF EXISTS {NO_TRUNCATE_TRIGGER} ON {table}",
            f"CREATE TRIGGER {NO_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table} "
            f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".{APPEND_ONLY_TRIGGER}()',
        ]
    statements += [
        f"CREATE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".{APPEND_ONLY_TRIGGER}()'
        for table in history
    ]
    statements += [
        f"CREATE TRIGGER {FORWARD_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION \"{schema}\".{FORWARD_ONLY_TRIGGER}('{key}', '{pos}')"
        for table, (key, pos) in forward.items()
    ]
    statements += [
        f"DROP TRIGGER IF EXISTS {WIDEN_ONLY_TRIGGER} ON {table}" for table in WIDEN_ONLY_TABLES
    ]
    statements += [
        f"CREATE TRIGGER {WIDEN_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".{WIDEN_ONLY_TRIGGER}()'
        for table in WIDEN_ONLY_TABLES
    ]
    statements += [
        _grant_function(schema, events, tracking, history),
        # Only the owner (and superusers) may hand out privileges with it.
        f'REVOKE ALL ON FUNCTION "{schema}".{GRANT_FUNCTION}(text, text) FROM PUBLIC',
        # Roles that already exist get their privileges on the tables just created; roles
        # created later get them from docker/roles.sql, which calls the same function.
        f'SELECT "{schema}".{GRANT_FUNCTION}()',
    ]
    return statements


def _widening_condition(new: str, old: str) -> str:
    """SQL: the row `new` keeps the key of `old` and covers at least as much."""
    (table,) = WIDEN_ONLY_TABLES
    keys, shrinking, growing = WIDEN_ONLY_TABLES[table]
    return " AND ".join(
        [f"{new}.{c} = {old}.{c}" for c in keys]
        + [f"{new}.{c} <= {old}.{c}" for c in shrinking]
        + [f"{new}.{c} >= {old}.{c}" for c in growing]
    )


def _grant_function(schema: str, events: str, tracking: str, history: Sequence[str]) -> str:
    forward = list(FORWARD_ONLY_TABLES)
    sequences = [(events, "notification_id"), *SEQUENCES]
    widen = list(WIDEN_ONLY_TABLES)
    everything = [*history, tracking, *forward, *widen, *MUTABLE_TABLES]
    return f"""CREATE OR REPLACE FUNCTION "{schema}".{GRANT_FUNCTION}(
            ingest text DEFAULT '{INGEST_ROLE}', reader text DEFAULT '{READER_ROLE}')
        RETURNS void LANGUAGE plpgsql AS $fn$
        DECLARE
            t text;
            i integer;
            sequence_tables text[] := {_array([table for table, _ in sequences])};
            sequence_columns text[] := {_array([column for _, column in sequences])};
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = ingest) THEN
                FOREACH t IN ARRAY {_array(history)} LOOP
                    EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', t, ingest);
                END LOOP;
                -- The library upserts a stream's position; the trigger keeps it moving forward.
                EXECUTE format('GRANT SELECT, INSERT, UPDATE (notification_id) ON %s TO %I',
                    {_literal(tracking)}, ingest);
                FOREACH t IN ARRAY {_array(forward)} LOOP
                    EXECUTE format('GRANT SELECT, UPDATE ON %s TO %I', t, ingest);
                END LOOP;
                FOREACH t IN ARRAY {_array(widen)} LOOP
                    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', t, ingest);
                END LOOP;
                FOREACH t IN ARRAY {_array(MUTABLE_TABLES)} LOOP
                    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', t, ingest);
                END LOOP;
                FOR i IN 1 .. array_length(sequence_tables, 1) LOOP
                    EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I',
                        pg_get_serial_sequence(sequence_tables[i], sequence_columns[i]), ingest);
                END LOOP;
                -- Writers take LOCK TABLE ... IN EXCLUSIVE MODE on the events table, which
                -- needs MAINTAIN (PostgreSQL 17+) or else UPDATE, DELETE or TRUNCATE.
                -- UPDATE is the least of those; the trigger refuses every update anyway.
                IF current_setting('server_version_num')::integer >= 170000 THEN
                    EXECUTE format('GRANT MAINTAIN ON %s TO %I', {_literal(events)}, ingest);
                ELSE
                    EXECUTE format('GRANT UPDATE ON %s TO %I', {_literal(events)}, ingest);
                END IF;
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
                FOREACH t IN ARRAY {_array(everything)} LOOP
                    EXECUTE format('GRANT SELECT ON %s TO %I', t, reader);
                END LOOP;
            END IF;
        END
        $fn$"""


def sqlite_triggers(
    events_table: str = SQLITE_EVENTS_TABLE, tracking_table: str = SQLITE_TRACKING_TABLE
) -> dict[str, str]:
    """Trigger name -> `CREATE TRIGGER IF NOT EXISTS` for every history and position table.

    SQLite cannot compare whole rows, so "rewritten unchanged" names the columns.
    """
    triggers = {}
    for table in (events_table, *HISTORY_TABLES):
        for op in ("UPDATE", "DELETE"):
            name = f"{table}_{APPEND_ONLY_TRIGGER}_{op.lower()}"
            triggers[name] = (
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'sla-ledger: {table} is append-only: {op} refused'); END"
            )
    forward: dict[str, tuple[str, str, tuple[str, ...]]] = {
        tracking_table: ("application_name", "notification_id", ()),
        **FORWARD_ONLY_TABLES,
    }
    for table, (key, pos, others) in forward.items():
        message = f"sla-ledger: {table} only moves forward"
        unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (pos, *others))
        name = f"{table}_{FORWARD_ONLY_TRIGGER}_update"
        triggers[name] = (
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE UPDATE ON {table} "
            f"WHEN NEW.{key} IS NOT OLD.{key} OR (NEW.{pos} <= OLD.{pos} AND NOT ({unchanged})) "
            f"BEGIN SELECT RAISE(ABORT, '{message}: UPDATE refused'); END"
        )
        name = f"{table}_{FORWARD_ONLY_TRIGGER}_delete"
        triggers[name] = (
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}: DELETE refused'); END"
        )
    for table in WIDEN_ONLY_TABLES:
        message = f"sla-ledger: {table} only widens"
        name = f"{table}_{WIDEN_ONLY_TRIGGER}_update"
        triggers[name] = (
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE UPDATE ON {table} "
            f"WHEN NOT ({_widening_condition('NEW', 'OLD')}) "
            f"BEGIN SELECT RAISE(ABORT, '{message}: UPDATE refused'); END"
        )
        name = f"{table}_{WIDEN_ONLY_TRIGGER}_delete"
        triggers[name] = (
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}: DELETE refused'); END"
        )
    return triggers


def sqlite_statements(
    events_table: str = SQLITE_EVENTS_TABLE, tracking_table: str = SQLITE_TRACKING_TABLE
) -> list[str]:
    """The triggers' statements, to run after the tables exist (each is re-runnable).

    A test that simulates tampering drops them: `DROP TRIGGER` each of `sqlite_triggers()`.
    """
    return list(sqlite_triggers(events_table, tracking_table).values())


def schema_marker(statements: Sequence[str]) -> str:
    """Names a version of the schema: the statements that create it and the library's
    version. Stored as the comment of the events table once the schema is complete."""
    from importlib.metadata import version  # some 30 ms to import: only when asked

    digest = hashlib.sha256(version("eventsourcing").encode())
    for statement in statements:
        digest.update(b"\x00")
        digest.update(statement.encode())
    return f"sla-ledger schema {digest.hexdigest()[:32]}"
