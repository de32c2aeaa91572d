"""Where a store is: its URL (`sqlite:///path` or `postgresql://...`) parsed into the
dialect and its connection parameters, and written back without its password."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.errors import StoreRefusedError
from projections.store.schema import Dialect

DEFAULT_SQLITE_PATH = "sla-ledger.db"
POSTGRES_FORM = (
    "postgresql://user:password@host:port/database (a unix-socket directory as ?host=/dir, "
    "an IPv6 host in brackets: [::1])"
)
# The URL's own parts; every other query parameter is a libpq connection parameter
# (sslmode, sslrootcert, application_name, ...), passed to the connection as given.
URL_PARAMETERS = ("host", "port", "user", "password", "dbname")


def sqlite_url(path: str) -> str:
    """The store URL of a SQLite path, relative or absolute (`sqlite:///` then the path).
    `parse_store_url` percent-decodes the path, so a literal % is written as %25."""
    return "sqlite:///" + path.replace("%", "%25")


def parse_store_url(url: str) -> tuple[Dialect, dict[str, Any]]:
    """`sqlite:///path/to/ledger.db` or `postgresql://user:pass@host:port/db?param=value`.

    A PostgreSQL URL's query parameters other than its own parts are libpq connection
    parameters (`libpq` in the result); a name libpq does not know is refused, never
    dropped (a dropped `sslmode=verify-full` would connect without checking anything).
    """
    if url.startswith("sqlite:///") or url == "sqlite://":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreRefusedError(
                f'store URL "{url}" names no file: use sqlite:///relative/path.db or '
                "sqlite:////absolute/path.db"
            )
        return "sqlite", {"path": unquote(path)}
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", _postgres_parameters(url)
    raise StoreRefusedError(
        f'unsupported store URL "{redact(url)}": use sqlite:///relative/path.db, '
        "sqlite:////absolute/path.db or postgresql://user:password@host:port/database"
    )


def _postgres_parameters(url: str) -> dict[str, Any]:
    def refuse(problem: str, hint: str = f"use {POSTGRES_FORM}") -> StoreRefusedError:
        return StoreRefusedError(f'store URL "{redact(url)}" {problem}: {hint}')

    try:
        parsed = urlsplit(url)
        hostname = parsed.hostname
    except ValueError:  # "Invalid IPv6 URL": an unclosed [
        raise refuse("has an unclosed [ in its host") from None
    query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    port_text = parsed.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    port = port_text or query.get("port") or "5432"
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise refuse(f'has port "{port}", not a number from 1 to 65535')
    libpq = {k: v for k, v in query.items() if k not in URL_PARAMETERS}
    from projections.store.postgres import is_libpq_parameter

    for name in libpq:
        if not is_libpq_parameter(name, libpq[name]):
            raise refuse(
                f'has the parameter "{name}", which is no libpq connection parameter',
                "besides host, port, user, password and dbname, a query parameter is "
                "passed to libpq as it is (sslmode, sslrootcert, application_name, ...)",
            )
    return {
        "dbname": unquote(parsed.path.lstrip("/")) or query.get("dbname", "postgres"),
        "host": query.get("host") or hostname or "localhost",
        "port": port,
        "user": unquote(parsed.username or query.get("user", "postgres")),
        "password": unquote(parsed.password or query.get("password", "")),
        "libpq": libpq,
    }


def redact(url: str) -> str:
    """A store URL fit for an error message: the password replaced, in the user part or
    as a query parameter. Never fails, even on a URL that does not parse."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    user, at, host = netloc.rpartition("@")
    if at and ":" in user and user.partition(":")[2]:
        netloc = f"{user.partition(':')[0]}:***@{host}"
    tail = re.sub(r"([?&]password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{netloc}{tail}"
