-- The database roles of an sla-ledger deployment on PostgreSQL.
--
-- Run as a superuser, connected to the ledger's database:
--
--     psql -v ON_ERROR_STOP=1 -d sla -f docker/roles.sql
--
-- Re-runnable, before or after the ledger's schema exists. Roles belong to the whole
-- server; schema privileges and table grants belong to one database, so run it in each
-- ledger database. It sets no passwords: give each login role one
-- (ALTER ROLE sla_ingest PASSWORD '...') or use certificate / peer authentication.
--
--   sla_owner   owns the schema and its tables, functions and triggers. Only schema
--               creation and upgrades connect as it (`sla-ledger ingest` creates a
--               missing schema, e.g. from an empty file; `ingest` or `close` upgrade an
--               older one); no service runs as it.
--   sla_ingest  the ingest workers, `close`, the outboxes: SELECT and INSERT on the
--               history (events, rejections, closes, credit entries, subject buckets and
--               scopes), positions that only move forward (tracking, chain head), spans
--               that only widen, SELECT/INSERT/UPDATE/DELETE on the operational tables
--               (outbox leases, the due-time index). No UPDATE, DELETE or
--               TRUNCATE on history, and not being the owner it cannot ALTER, DROP or
--               disable the triggers that refuse them.
--   sla_reader  report, credits, rejections, incidents, explain, diff, audit: SELECT
--               only (these commands open the store read-only and create nothing).
--
-- The table grants themselves are made by `sla_ledger_grant_roles()`, a function the
-- schema creation installs (projections/store/immutability.py) and runs for whichever of
-- these roles exist; the call at the end of this file covers a schema created before
-- the roles. A superuser can still bypass every trigger: the hash chain and
-- `sla-ledger audit verify` are what detect that.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sla_owner') THEN
        CREATE ROLE sla_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sla_ingest') THEN
        CREATE ROLE sla_ingest LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sla_reader') THEN
        CREATE ROLE sla_reader LOGIN;
    END IF;
END
$$;

-- Only the owner creates objects in the schema (PostgreSQL 15 and later already refuse
-- CREATE to PUBLIC; older servers did not).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO sla_owner;
GRANT USAGE ON SCHEMA public TO sla_ingest, sla_reader;

DO $$
BEGIN
    IF to_regprocedure('public.sla_ledger_grant_roles(text, text)') IS NOT NULL THEN
        PERFORM public.sla_ledger_grant_roles('sla_ingest', 'sla_reader');
    END IF;
END
$$;
