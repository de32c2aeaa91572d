"""How a failure of the database reads in an error: one line, the URL without its
password."""

from __future__ import annotations

import sys

from ledger.errors import StoreError
from projections.store.urls import redact


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def failed(url: str, exc: BaseException) -> StoreError:
    """A statement or transaction of the store at `url` failed (the driver's or the
    library's error, said in one line)."""
    return StoreError(f"store {redact(url)} failed: {first_line(exc)}")


def postgres_errors() -> tuple[type[Exception], ...]:
    """The PostgreSQL driver's errors, once a PostgreSQL store has loaded it (before,
    none can be raised)."""
    postgres = sys.modules.get("projections.store.postgres")
    return () if postgres is None else (postgres.DRIVER_ERROR,)
