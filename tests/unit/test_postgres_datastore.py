"""A PostgreSQL datastore left to the garbage collector is collected quietly, whichever
thread collects it (a failed opening's traceback can keep one in a reference cycle)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from projections.store.postgres import LedgerPostgresDatastore


class PoolClosingInItsOwnThread:
    """What closing a pool does when the collector runs in one of its own threads."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True
        raise RuntimeError("cannot join current thread")


def datastore() -> LedgerPostgresDatastore:
    # The pool is not opened: nothing connects.
    return LedgerPostgresDatastore(
        dbname="postgres", host="127.0.0.1", port="1", user="u", password="p"
    )


def test_collection_in_a_pool_thread_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    found = datastore()
    real_pool = found.pool
    stand_in = PoolClosingInItsOwnThread()
    monkeypatch.setattr(found, "pool", stand_in)
    raised: list[BaseException] = []

    def collect() -> None:
        try:
            found.__del__()
        except BaseException as exc:  # what Python would print as "Exception ignored"
            raised.append(exc)

    worker = threading.Thread(target=collect)
    worker.start()
    worker.join()
    assert stand_in.closed
    assert raised == []
    monkeypatch.setattr(found, "pool", real_pool)
    found.close()


def test_an_explicit_close_still_says_what_went_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    found = datastore()
    real_pool: Any = found.pool
    monkeypatch.setattr(found, "pool", PoolClosingInItsOwnThread())
    with pytest.raises(RuntimeError, match="cannot join current thread"):
        found.close()
    monkeypatch.setattr(found, "pool", real_pool)
    found.close()
