#!/bin/sh
# Gives the login roles that roles.sql creates their passwords, from the postgres
# service's environment (docker/compose.yaml), on the database's first start: the
# image's entrypoint runs the scripts of /docker-entrypoint-initdb.d in name order,
# roles.sql (10-) first. psql's :'name' quotes each password as a literal.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="$SLA_OWNER_PASSWORD" \
    -v ingest="$SLA_INGEST_PASSWORD" \
    -v reader="$SLA_READER_PASSWORD" <<'SQL'
ALTER ROLE sla_owner PASSWORD :'owner';
ALTER ROLE sla_ingest PASSWORD :'ingest';
ALTER ROLE sla_reader PASSWORD :'reader';
SQL
