"""Fixtures shared by every test: real PostgreSQL, a real Kafka-protocol broker, stores.

The servers are session-scoped (started once, on first use) and resolved as
`tests/infrastructure.py` explains: environment address, else Docker, else an embedded
server. Tests get isolation from per-test databases and topics, not from new servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.infrastructure import (
    Service,
    fresh_postgres_database,
    kafka_broker,
    postgres_server,
    sqlite_url,
)

if TYPE_CHECKING:
    from projections.store import LedgerStore

# Start times of the servers this session used, shown once at the end of the run.
_started: dict[str, Service] = {}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a running PostgreSQL server (its default database), for the whole session.

    Environment `SLA_LEDGER_TEST_POSTGRES_URL` as is, else a Docker container, else the
    embedded server, whose URL is a unix-socket URI: `postgresql://postgres:@/postgres?host=/tmp/...`.
    Tests that write should use `fresh_postgres_url` instead.
    """
    with postgres_server() as service:
        _started["PostgreSQL"] = service
        yield service.address


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL (same form as `postgres_url`) of a new, empty database, dropped after the test."""
    with fresh_postgres_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """`host:port` of a running Kafka-protocol broker, for the whole session.

    Environment `SLA_LEDGER_TEST_KAFKA` as is, else Apache Kafka in Docker, else the
    embedded tansu broker (memory storage: give every test its own topic names).
    """
    with kafka_broker() as service:
        _started["Kafka broker"] = service
        yield service.address


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty event store URL of each kind: a SQLite file, then a PostgreSQL database.

    PostgreSQL is requested lazily, so a run that deselects the `postgresql` cases never
    starts a server.
    """
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[LedgerStore]:
    """The store at `store_url`, open for the test. (Imported here: a unit test session
    need not load the store.)"""
    from projections.store import LedgerStore

    opened = LedgerStore(store_url, access="create")
    yield opened
    opened.close()


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> str:
    """`store_url` holding two closed months with a correction between
    (`tests.ledgers.two_closed_months`)."""
    from tests.ledgers import two_closed_months

    return two_closed_months(store_url, tmp_path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which servers the run used and how long each took to start."""
    if not _started:
        return
    terminalreporter.section("test infrastructure")
    for name, service in _started.items():
        line = f"{name}: {service.source} at {service.address}"
        if service.source != "environment":
            line += f", ready in {service.start_seconds:.2f} s"
        terminalreporter.write_line(line)
