"""The ledger's own tables, beside the eventsourcing tables, in the same database.

`sla_events` indexes every accepted event (written in the same transaction as its
eventsourcing record, so the two can never disagree); `sla_subject_spans` bounds the
time each outage, maintenance window or incident can matter to, so a report reads only
the subjects near its period; `sla_rejections`, `sla_closes` and `sla_credit_entries`
are append-only. Nothing here is ever updated except the spans, which only widen.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["sqlite", "postgresql"]


def create_statements(dialect: Dialect) -> list[str]:
    serial = (
        "INTEGER PRIMARY KEY AUTOINCREMENT"
        if dialect == "sqlite"
        else ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
    )
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return [
        f"""CREATE TABLE IF NOT EXISTS sla_events (
            seq {serial},
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            recorded_us BIGINT NOT NULL,
            content_sha256 TEXT NOT NULL,
            envelope TEXT NOT NULL,
            origin TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS sla_events_subject ON sla_events (subject_kind, subject_id)",
        """CREATE TABLE IF NOT EXISTS sla_subject_spans (
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            lo_us BIGINT NOT NULL,
            hi_us BIGINT NOT NULL,
            has_end INTEGER NOT NULL,
            PRIMARY KEY (subject_kind, subject_id))""",
        "CREATE INDEX IF NOT EXISTS sla_subject_spans_lo "
        "ON sla_subject_spans (subject_kind, lo_us)",
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
            closed_us BIGINT NOT NULL)""",
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
            basis_sha256 TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS sla_credit_entries_period ON sla_credit_entries (period)",
    ]


def span_upsert(dialect: Dialect) -> str:
    """Widen a subject's span; commutative, so arrival order cannot matter."""
    lo, hi = ("MIN", "MAX") if dialect == "sqlite" else ("LEAST", "GREATEST")
    return (
        "INSERT INTO sla_subject_spans AS s (subject_kind, subject_id, lo_us, hi_us, has_end) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_kind, subject_id) DO UPDATE SET "
        f"lo_us = {lo}(s.lo_us, excluded.lo_us), hi_us = {hi}(s.hi_us, excluded.hi_us), "
        f"has_end = {hi}(s.has_end, excluded.has_end)"
    )
