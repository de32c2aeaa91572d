"""PostgreSQL store URLs: a malformed one is one line naming it, libpq parameters reach
the connection (never silently dropped), and a store that cannot be opened is named with
the server's own reason, a refusal (not retried) only when the server did answer."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

from ledger.errors import StoreError, StoreRefusedError
from projections.store import LedgerStore, parse_store_url, redact
from tests.cli_process import run_cli as run
from tests.integration.test_store_access import one_line_error

pytestmark = pytest.mark.integration


def _with(url: str, *, database: str | None = None, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}:wrong-secret@{netloc.rpartition('@')[2]}"
    path = parts.path if database is None else f"/{database}"
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def _add_query(url: str, extra: str) -> str:
    return url + ("&" if "?" in url else "?") + extra


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://[::1", "has an unclosed [ in its host"),
        ("postgresql://u:secret@[::1/db", "has an unclosed [ in its host"),
        ("postgresql://h:99999/db", 'has port "99999", not a number from 1 to 65535'),
        ("postgresql://h:abc/db", 'has port "abc", not a number from 1 to 65535'),
        ("postgresql://u:secret@h:0/db", 'has port "0", not a number from 1 to 65535'),
        ("postgresql://h/db?port=%C2%B2", 'has port "²", not a number from 1 to 65535'),
        ("postgresql://u:secret@h/db?foo=1", 'has the parameter "foo", which is no libpq'),
    ],
)
def test_a_malformed_postgres_url_is_one_line_naming_it_redacted(url: str, fragment: str) -> None:
    message = one_line_error(run("report", "--period", "2026-10", "--store", url))
    assert fragment in message
    assert f'store URL "{redact(url)}"' in message
    assert "secret" not in message
    assert "internal error" not in message
    with pytest.raises(StoreRefusedError):  # a Kafka worker does not retry it
        parse_store_url(url)


def test_redact_hides_a_password_anywhere_and_never_fails() -> None:
    assert redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact("postgresql://u:pw@[::1") == "postgresql://u:***@[::1"
    assert redact("postgresql://u@h/db?sslmode=require&password=pw") == (
        "postgresql://u@h/db?sslmode=require&password=***"
    )
    assert redact("postgresql://u:@/db?host=/tmp") == "postgresql://u:@/db?host=/tmp"


def test_libpq_parameters_in_the_url_reach_the_connection(fresh_postgres_url: str) -> None:
    url = _add_query(
        fresh_postgres_url, "application_name=sla-ledger-probe&options=-cwork_mem%3D7MB"
    )
    with LedgerStore(url, access="create") as store:
        [row] = store._query(
            "SELECT current_setting('application_name') AS name, "
            "current_setting('work_mem') AS work_mem"
        )
    assert (row["name"], row["work_mem"]) == ("sla-ledger-probe", "7MB")
    # A value libpq refuses is named, not dropped (sslmode=verify-full must never be).
    message = one_line_error(
        run(
            "report",
            "--period",
            "2026-10",
            "--store",
            _add_query(fresh_postgres_url, "sslmode=bogus"),
        )
    )
    assert 'invalid sslmode value: "bogus"' in message
    assert "server is running" not in message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"database": "no_such_db"}, 'database "no_such_db" does not exist'),
        ({"user": "no_such_role"}, 'role "no_such_role" does not exist'),
    ],
)
def test_a_missing_database_or_role_is_named_by_the_server_and_refused(
    postgres_url: str, change: dict[str, str], reason: str
) -> None:
    url = _with(postgres_url, **change)
    message = one_line_error(run("report", "--period", "2026-10", "--store", url))
    assert f"the server says: {reason}" in message
    assert "server is running" not in message
    assert "wrong-secret" not in message
    with pytest.raises(StoreRefusedError, match=reason):
        LedgerStore(url, access="read")


def test_an_unreachable_server_is_a_plain_store_error_asking_if_it_runs(
    postgres_url: str,
) -> None:
    url = "postgresql://postgres:secret@127.0.0.1:1/postgres"
    message = one_line_error(run("report", "--period", "2026-10", "--store", url))
    assert "Connection refused" in message
    assert "that the database server is running" in message
    assert "secret" not in message
    with pytest.raises(StoreError) as raised:
        LedgerStore(url, access="read")
    assert not isinstance(raised.value, StoreRefusedError)  # a Kafka worker retries it
