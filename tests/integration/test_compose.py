"""docker/compose.yaml cannot run here (no Docker), so its parts are checked one by one:
the file parses and wires each process to the role it needs, and its database set-up
runs against the real test PostgreSQL as the image's entrypoint would run it (roles.sql,
then role-passwords.sh with psql), followed by each service's command line: the schema
as sla_owner, writes as sla_ingest, reads as sla_reader, which may not write."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from tests.cli_process import run_cli
from tests.integration.test_immutability import PASSWORD, ROLES_SQL, as_role
from tests.integration.test_store_access import one_line_error

pytestmark = pytest.mark.integration

DOCKER = ROLES_SQL.parent
COMPOSE = DOCKER / "compose.yaml"
MONTH = DOCKER.parent / "consumers" / "demo" / "month.jsonl"


def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def role_of(url: str) -> str:
    return url.split("//", 1)[1].split(":", 1)[0]


def test_compose_wires_each_process_to_its_role() -> None:
    found = services()
    assert {"kafka", "postgres", "schema", "ingest", "api"} <= set(found)
    for mount in found["postgres"]["volumes"][1:]:
        assert (DOCKER / mount.split(":")[0]).is_file(), mount
    assert role_of(found["schema"]["environment"]["SLA_LEDGER_STORE"]) == "sla_owner"
    worker = found["ingest"]
    assert role_of(worker["environment"]["SLA_LEDGER_STORE"]) == "sla_ingest"
    assert worker["command"][worker["command"].index("--metrics-listen") + 1] == "0.0.0.0:9108"
    command = found["api"]["command"]
    assert command[:2] == ["sla-ledger", "serve"]
    assert role_of(command[command.index("--store") + 1]) == "sla_ingest"
    assert role_of(command[command.index("--read-store") + 1]) == "sla_reader"
    assert command[command.index("--keys") + 1] == "/run/secrets/api_keys"
    for service in ("ingest", "api"):
        assert found[service]["depends_on"]["schema"] == {
            "condition": "service_completed_successfully"
        }


def run_init_scripts(url: str) -> None:
    """What the postgres image's entrypoint does on a first start: each init script of
    the compose file, in name order, as the superuser in the ledger's database. The
    passwords are the test suite's own: the roles belong to the whole shared server."""
    params = conninfo_to_dict(url)
    env = {
        **os.environ,
        "PGHOST": str(params.get("host", "")),
        "PGPORT": str(params.get("port", "5432")),
        "PGPASSWORD": str(params.get("password") or ""),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_DB": str(params["dbname"]),
        "SLA_OWNER_PASSWORD": PASSWORD,
        "SLA_INGEST_PASSWORD": PASSWORD,
        "SLA_READER_PASSWORD": PASSWORD,
    }
    scripts = sorted(services()["postgres"]["volumes"][1:], key=lambda m: m.split(":")[1])
    for mount in scripts:
        script = DOCKER / mount.split(":")[0]
        if script.suffix == ".sql":
            command = ["psql", "-v", "ON_ERROR_STOP=1", "-U", env["POSTGRES_USER"]]
            command += ["-d", env["POSTGRES_DB"], "-f", str(script)]
        else:
            command = ["sh", str(script)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (mount, done.stderr)


def test_compose_database_setup_gives_writes_and_reads_their_roles(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    run_init_scripts(fresh_postgres_url)
    owner, writer, reader = (
        as_role(fresh_postgres_url, role) for role in ("sla_owner", "sla_ingest", "sla_reader")
    )
    schema = services()["schema"]["command"][1:]  # `ingest --from-file /dev/null`
    assert run_cli(*schema, store=owner).returncode == 0
    with psycopg.connect(fresh_postgres_url) as admin:
        owners = admin.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert owners == [("sla_owner",)]

    ingested = run_cli("ingest", "--from-file", str(MONTH), "--format", "json", store=writer)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["accepted"] > 0

    report = run_cli("report", "--period", "2026-03", "--format", "json", store=reader)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)

    message = one_line_error(run_cli("ingest", "--from-file", str(MONTH), store=reader))
    assert 'permission denied: role "sla_reader" may not write to store' in message
    assert PASSWORD not in message


def test_the_api_reads_as_the_reader_and_writes_as_the_writer(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """`serve` as compose runs it: reads on `sla_reader` (SELECT only), events and closes
    on `sla_ingest`."""
    from tests.http_server import start, stop

    run_init_scripts(fresh_postgres_url)
    owner, writer, reader = (
        as_role(fresh_postgres_url, role) for role in ("sla_owner", "sla_ingest", "sla_reader")
    )
    assert run_cli(*services()["schema"]["command"][1:], store=owner).returncode == 0
    served = start(writer, tmp_path, "--read-store", reader)
    try:
        with served.client("ingest") as ingest:
            posted = ingest.post(
                "/v1/events",
                content=MONTH.read_bytes(),
                headers={"Content-Type": "application/x-ndjson"},
            )
        assert posted.status_code == 200, posted.text
        assert posted.json()["accepted"] > 0
        report = served.get("/v1/periods/2026-03/report")
        assert report.status_code == 200, report.text
        assert report.json()["rows"]
        with served.client("operator") as operator:
            closed = operator.post("/v1/periods/2026-03/close")
        assert closed.status_code == 200, closed.text
        assert served.get("/v1/credits").json()["entries"] == closed.json()["entries"]
    finally:
        stop(served)
    assert PASSWORD not in served.log()
