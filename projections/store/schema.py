"""The ledger's own tables, beside the eventsourcing tables, in the same database.

`sla_events` indexes every accepted event (written in the same transaction as its
eventsourcing record, so the two can never disagree); `sla_subject_spans` bounds the
time each outage, maintenance window or incident can matter to, so a report reads only
the subjects near its period; `sla_rejections`, `sla_closes`, `sla_credit_entries` and
`sla_alerts` are append-only, and the events, entries, closes and alerts carry their
position and link in the hash chain (`ledger/chain.py`); `sla_entry_bases`
(append-only, not chained) keeps each entry's basis document, whose digest the entry
chains. Nothing here is ever updated except the spans, which only widen, the outbox
leases (`sla_outbox_leases`), which say which worker publishes, the due-time indexes
(`sla_due`, `sla_alert_due`), rewritten whenever their rows are computed again, and the
chain's head (`sla_chain_head`).
"""

from __future__ import annotations

from typing import Literal

from ledger.chain import FIELDS, GENESIS, JSON_TEXT_FIELDS, LATER_FIELDS
from projections.chain_records import CHAINED_TABLES as CHAINED_TABLES
from projections.subject_rules import CONTRACT_CUSTOMER as CONTRACT_CUSTOMER
from projections.subject_rules import CONTRACT_SERVICE as CONTRACT_SERVICE
from projections.subject_rules import NOT_ENDED_US as NOT_ENDED_US
from projections.subject_rules import SCOPE_CONTRACT as SCOPE_CONTRACT
from projections.subject_rules import SCOPE_SEP as SCOPE_SEP
from projections.subject_rules import SCOPE_SERVICE as SCOPE_SERVICE

Dialect = Literal["sqlite", "postgresql"]

# Subjects are indexed by fixed-width buckets of time (7 days, in microseconds) that
# their span reaches; a span wider than BUCKETS_MAX buckets is "wide" and found through
# the spans table instead (a hostile 9,999-year outage adds one row, not half a million).
BUCKET_US = 7 * 86_400 * 1_000_000
BUCKETS_MAX = 64
WIDE_SPAN = f"(has_end = 0 OR hi_us - lo_us > {BUCKET_US * BUCKETS_MAX})"
# A span's `ended_us` while no end is known (`NOT_ENDED_US`), and the spelling of the
# subjects' and contracts' scopes (`SCOPE_*`, `CONTRACT_*`): `projections.subject_rules`.
CONTRACT_SCOPE_COLUMNS = (("scope", "text"), ("contract_id", "text"))


def create_statements(dialect: Dialect) -> list[str]:
    serial = (
        "INTEGER PRIMARY KEY AUTOINCREMENT"
        if dialect == "sqlite"
        else ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
    )
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    # A SQLite table keyed by its primary key alone stores each row once, in the key's
    # b-tree, instead of a rowid table plus an index repeating the key.
    keyed = " WITHOUT ROWID" if dialect == "sqlite" else ""
    position_key = "INTEGER" if dialect == "sqlite" else "BIGINT"
    return [
        # An event's chain position is its key: positions follow commit order, which is
        # the order every read wants (one index less to maintain per event; on SQLite it
        # is the rowid). Its content (envelope and origin) is not here but in its
        # eventsourcing record, whose notification id is the same position: stored once
        # (and its content_sha256 is the digest of that envelope, computed when read).
        # An event id is unique through the event store's own key (originator id and
        # version, the originator id being the event id's name-based UUID): no index here.
        f"""CREATE TABLE IF NOT EXISTS sla_events (
            event_id TEXT NOT NULL,
            type TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            recorded_us BIGINT NOT NULL,
            chain_pos {position_key} NOT NULL PRIMARY KEY CHECK (chain_pos > 0),
            chain_sha256 TEXT NOT NULL)""",
        # With the record time, a report's join reads the index alone, then the content.
        "CREATE INDEX IF NOT EXISTS sla_events_subject "
        "ON sla_events (subject_kind, subject_id, recorded_us)",
        """CREATE TABLE IF NOT EXISTS sla_subject_spans (
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            lo_us BIGINT NOT NULL,
            hi_us BIGINT NOT NULL,
            has_end INTEGER NOT NULL,
            ended_us BIGINT NOT NULL,
            PRIMARY KEY (subject_kind, subject_id))"""
        + keyed,
        # The subjects whose end became known after a moment: as of that moment they
        # were still open, reaching every later period.
        "CREATE INDEX IF NOT EXISTS sla_subject_spans_ended "
        "ON sla_subject_spans (subject_kind, ended_us)",
        # The subjects a period cannot find by its buckets: those still open (no end
        # known: they reach any later period) and those wider than BUCKETS_MAX buckets.
        "CREATE INDEX IF NOT EXISTS sla_subject_spans_wide "
        f"ON sla_subject_spans (subject_kind, lo_us) WHERE {WIDE_SPAN}",
        # Which fixed-width buckets of time each subject's span reaches: a period reads
        # the subjects of its few buckets, however long the history before and after.
        """CREATE TABLE IF NOT EXISTS sla_subject_buckets (
            subject_kind TEXT NOT NULL,
            bucket BIGINT NOT NULL,
            subject_id TEXT NOT NULL,
            PRIMARY KEY (subject_kind, bucket, subject_id))"""
        + keyed,
        # Whose rows a subject can reach (SCOPE_*): the contracts an event can change,
        # and the subjects a few contracts' rows need.
        """CREATE TABLE IF NOT EXISTS sla_subject_scopes (
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            PRIMARY KEY (subject_kind, subject_id, scope))"""
        + keyed,
        # What each contract's terms name (CONTRACT_SERVICE + service, CONTRACT_CUSTOMER
        # + customer, over every version): the contracts a subject's scopes reach are
        # found here, without folding every contract.
        """CREATE TABLE IF NOT EXISTS sla_contract_scopes (
            scope TEXT NOT NULL,
            contract_id TEXT NOT NULL,
            PRIMARY KEY (scope, contract_id))"""
        + keyed,
        # The due-time index of closed rows: the earliest moment a contract's rows of a
        # closed period change with time alone (a pending incident passing its target),
        # as computed at chain position `computed_pos`. Not ledger data: an index for
        # reconciliation, rewritten whenever those rows are computed again.
        *_due_table("sla_due"),
        # The same index for provisional rows (`DUE_TABLES`): the earliest moment a
        # contract's rows of a running period may meet an alert's condition with time
        # alone (an incident passing its response deadline), for the periodic check.
        *_due_table("sla_alert_due"),
        f"""CREATE TABLE IF NOT EXISTS sla_rejections (
            seq {serial},
            rejection_id TEXT NOT NULL UNIQUE,
            rejected_us BIGINT NOT NULL,
            origin TEXT NOT NULL,
            raw {blob} NOT NULL,
            field TEXT NOT NULL,
            reason TEXT NOT NULL,
            event_id TEXT)""",
        """CREATE TABLE IF NOT EXISTS sla_closes (
            period TEXT PRIMARY KEY,
            closed_us BIGINT NOT NULL,
            checkpoint_pos BIGINT NOT NULL,
            checkpoint_sha256 TEXT NOT NULL,
            chain_pos BIGINT NOT NULL UNIQUE CHECK (chain_pos > 0),
            chain_sha256 TEXT NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS sla_credit_entries (
            seq {serial},
            entry_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            revision INTEGER NOT NULL,
            supersedes TEXT,
            contract_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            service_id TEXT NOT NULL,
            period TEXT NOT NULL,
            amount TEXT NOT NULL,
            currency TEXT NOT NULL,
            remedy TEXT NOT NULL,
            credit_percent TEXT NOT NULL,
            terms_version INTEGER NOT NULL,
            recorded_us BIGINT NOT NULL,
            basis_sha256 TEXT NOT NULL,
            basis_version INTEGER NOT NULL DEFAULT 1,
            chain_pos BIGINT NOT NULL UNIQUE CHECK (chain_pos > 0),
            chain_sha256 TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS sla_credit_entries_row "
        "ON sla_credit_entries (period, contract_id)",
        # The alerts raised (sla-math §8), chained like the entries; raised once each
        # (`alert_id` is deterministic), never updated. Listed by period and contract.
        f"""CREATE TABLE IF NOT EXISTS sla_alerts (
            alert_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            threshold TEXT NOT NULL,
            contract_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            service_id TEXT NOT NULL,
            period TEXT NOT NULL,
            observed TEXT NOT NULL,
            downtime_left_seconds TEXT,
            credit_at_risk TEXT,
            currency TEXT NOT NULL,
            recorded_us BIGINT NOT NULL,
            chain_pos {position_key} NOT NULL UNIQUE CHECK (chain_pos > 0),
            chain_sha256 TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS sla_alerts_row ON sla_alerts (period, contract_id)",
        # Each entry's basis document, the canonical text its `basis_sha256` hashes,
        # written in the entry's transaction: not chained, and needing no chain, since
        # it counts only while it hashes to that chained digest (`ledger.entry_bases`).
        # Entries recorded before this table existed have none.
        """CREATE TABLE IF NOT EXISTS sla_entry_bases (
            entry_id TEXT PRIMARY KEY,
            basis TEXT NOT NULL)"""
        + keyed,
        # The chain's head: where the next record links on. One row, updated under the
        # write lock by every transaction that adds records (it is also that lock on
        # SQLite: the first statement of such a transaction updates it). `audit verify`
        # never trusts it: it recomputes the chain and compares.
        """CREATE TABLE IF NOT EXISTS sla_chain_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            position BIGINT NOT NULL,
            chain_sha256 TEXT NOT NULL,
            recorded_us BIGINT NOT NULL)""",
        "INSERT INTO sla_chain_head (id, position, chain_sha256, recorded_us) "
        f"VALUES (1, 0, '{GENESIS}', 0) ON CONFLICT (id) DO NOTHING",
        # Who may publish an outbox now: one holder at a time, until `expires_us`. Not
        # ledger data (an operational lock), so its rows are updated and deleted.
        """CREATE TABLE IF NOT EXISTS sla_outbox_leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_us BIGINT NOT NULL)""",
    ]


def _due_table(table: str) -> list[str]:
    """A due-time index (`DUE_TABLES`): per period and contract, the earliest moment its
    rows change with time alone, as computed at chain position `computed_pos`."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            period TEXT NOT NULL,
            contract_id TEXT NOT NULL,
            due_us BIGINT NOT NULL,
            computed_pos BIGINT NOT NULL,
            PRIMARY KEY (period, contract_id))""",
        f"CREATE INDEX IF NOT EXISTS {table}_at ON {table} (due_us)",
    ]


# The due-time indexes: of closed rows (reconciliation) and of provisional rows (alerts).
DueTable = Literal["sla_due", "sla_alert_due"]
DUE_TABLES: tuple[DueTable, ...] = ("sla_due", "sla_alert_due")


# Each table's columns with their PostgreSQL types, in insert order.
EVENT_COLUMNS = (
    ("event_id", "text"),
    ("type", "text"),
    ("subject_kind", "text"),
    ("subject_id", "text"),
    ("occurred_at", "text"),
    ("recorded_us", "bigint"),
    ("chain_pos", "bigint"),
    ("chain_sha256", "text"),
)
BUCKET_COLUMNS = (("subject_kind", "text"), ("bucket", "bigint"), ("subject_id", "text"))
SCOPE_COLUMNS = (("subject_kind", "text"), ("subject_id", "text"), ("scope", "text"))
DUE_COLUMNS = (
    ("period", "text"),
    ("contract_id", "text"),
    ("due_us", "bigint"),
    ("computed_pos", "bigint"),
)
SPAN_COLUMNS = (
    ("subject_kind", "text"),
    ("subject_id", "text"),
    ("lo_us", "bigint"),
    ("hi_us", "bigint"),
    ("has_end", "integer"),
    ("ended_us", "bigint"),
)
REJECTION_COLUMNS = (
    ("rejection_id", "text"),
    ("rejected_us", "bigint"),
    ("origin", "text"),
    ("raw", "bytea"),
    ("field", "text"),
    ("reason", "text"),
    ("event_id", "text"),
)
CLOSE_COLUMNS = (
    ("period", "text"),
    ("closed_us", "bigint"),
    ("checkpoint_pos", "bigint"),
    ("checkpoint_sha256", "text"),
    ("chain_pos", "bigint"),
    ("chain_sha256", "text"),
)
ENTRY_COLUMNS = (
    ("entry_id", "text"),
    ("kind", "text"),
    ("revision", "integer"),
    ("supersedes", "text"),
    ("contract_id", "text"),
    ("customer_id", "text"),
    ("service_id", "text"),
    ("period", "text"),
    ("amount", "text"),
    ("currency", "text"),
    ("remedy", "text"),
    ("credit_percent", "text"),
    ("terms_version", "integer"),
    ("recorded_us", "bigint"),
    ("basis_sha256", "text"),
    ("basis_version", "integer"),
    ("chain_pos", "bigint"),
    ("chain_sha256", "text"),
)
ENTRY_BASIS_COLUMNS = (("entry_id", "text"), ("basis", "text"))
ALERT_COLUMNS = (
    ("alert_id", "text"),
    ("kind", "text"),
    ("threshold", "text"),
    ("contract_id", "text"),
    ("customer_id", "text"),
    ("service_id", "text"),
    ("period", "text"),
    ("observed", "text"),
    ("downtime_left_seconds", "text"),
    ("credit_at_risk", "text"),
    ("currency", "text"),
    ("recorded_us", "bigint"),
    ("chain_pos", "bigint"),
    ("chain_sha256", "text"),
)

# The chained tables hold each record's fields (in the chain's encoding order) and then
# its position and link; an event's content (envelope, origin) is its eventsourcing
# record instead (`chain_append.library_state`), and its content_sha256 the envelope's.
EVENT_CONTENT_FIELDS = ("content_sha256", *JSON_TEXT_FIELDS["event"])
assert tuple(name for name, _ in EVENT_COLUMNS[:-2]) + EVENT_CONTENT_FIELDS == FIELDS["event"]
assert tuple(name for name, _ in ENTRY_COLUMNS[:-2]) == FIELDS["entry"]
assert tuple(name for name, _ in CLOSE_COLUMNS[:-2]) == FIELDS["close"]
assert tuple(name for name, _ in ALERT_COLUMNS[:-2]) == FIELDS["alert"]
# The columns a chained table gained after stores were made without them, by table, each
# with the value its rows held before (`ledger.chain.LATER_FIELDS`). A writer's schema
# creation adds a missing one to an existing store (`add_later_column`, its rows taking
# that value); a reader of a store without it reads that value in its place
# (`later_selected`).
LATER_COLUMNS: dict[str, dict[str, int]] = {
    CHAINED_TABLES[kind]: dict(later) for kind, later in LATER_FIELDS.items()
}


# The tables added after stores were made without them. A writer's schema creation
# creates a missing one (`CREATE TABLE IF NOT EXISTS`); a reader of a store without it
# reads it as empty (`opening.missing_later_tables`).
LATER_TABLES = ("sla_entry_bases", "sla_alerts", "sla_alert_due")


def add_later_column(dialect: Dialect, table: str, name: str) -> str:
    """The DDL that adds a later column, its existing rows taking their earlier value
    (PostgreSQL's only when missing; SQLite has no such clause: its caller checks)."""
    missing_only = "IF NOT EXISTS " if dialect == "postgresql" else ""
    before = LATER_COLUMNS[table][name]
    return f"ALTER TABLE {table} ADD COLUMN {missing_only}{name} INTEGER NOT NULL DEFAULT {before}"


def later_selected(table: str, name: str, missing: frozenset[str], prefix: str = "") -> str:
    """A column of `table` in a SELECT list: itself (after `prefix`, a table alias), or,
    where the store lacks it (`missing`), the value its rows held before it existed."""
    if name in missing:
        return f"{LATER_COLUMNS[table][name]} AS {name}"
    return f"{prefix}{name}"


# CHAINED_TABLES (kind -> its table) is defined in `projections.chain_records`, which
# verify's worker processes import without the store.

# A span only widens: commutative, so arrival order cannot matter. A batch must hold
# each subject once (PostgreSQL refuses to update one row twice in one statement).
SPAN_WIDENING: dict[Dialect, str] = {
    "sqlite": "ON CONFLICT (subject_kind, subject_id) DO UPDATE SET "
    "lo_us = MIN(lo_us, excluded.lo_us), hi_us = MAX(hi_us, excluded.hi_us), "
    "has_end = MAX(has_end, excluded.has_end), ended_us = MIN(ended_us, excluded.ended_us)",
    "postgresql": "ON CONFLICT (subject_kind, subject_id) DO UPDATE SET "
    "lo_us = LEAST(t.lo_us, excluded.lo_us), hi_us = GREATEST(t.hi_us, excluded.hi_us), "
    "has_end = GREATEST(t.has_end, excluded.has_end), "
    "ended_us = LEAST(t.ended_us, excluded.ended_us)",
}
# A due time computed at a later chain position replaces one computed earlier, never
# the reverse (two processes may compute the same rows concurrently).
_DUE_UPSERT = (
    "ON CONFLICT (period, contract_id) DO UPDATE SET due_us = excluded.due_us, "
    "computed_pos = excluded.computed_pos WHERE excluded.computed_pos >= {table}.computed_pos"
)


def due_newer(table: DueTable) -> dict[Dialect, str]:
    """The conflict clause of a due-time index's insert (`DUE_TABLES`)."""
    return {"sqlite": _DUE_UPSERT.format(table=table), "postgresql": _DUE_UPSERT.format(table="t")}


# The same rejected input from the same origin is kept once, however often it is re-read.
KEEP_FIRST: dict[Dialect, str] = {
    "sqlite": "ON CONFLICT DO NOTHING",
    "postgresql": "ON CONFLICT DO NOTHING",
}
