"""A period's report rows as documents (`Row.as_dict`), read and computed on two cores.

A row only ever reads its own contract's subjects, so the rows of some contracts are
the same whether they are computed with the whole period's subjects or with only the
subjects that can reach those contracts (`load_subjects(..., scoped=True)`, what
`explain` and the reconciliation of a few contracts rely on). Reading, decoding and
folding the contracts and subjects and computing the rows is nearly all of a
30,000-row report, so the ids of the contracts are split into two contiguous halves
(sorted): a forked child reads the second half's contracts and the subjects that can
reach them on a connection of its own, computes their rows and sends the documents back
through a pipe, while this process does the same for the first half. Each half's rows
come sorted by contract then service, and every contract of the first half sorts before
those of the second, so the halves joined are the rows in the order of
`PeriodInputs.rows`: the very same documents.

The fork happens with no store open (no connection or pool thread to share), and only
where it pays: two cores, and enough contracts to outweigh starting a child and sending
its documents back. The child does nothing but read, compute and write; if it fails for
any reason, this process computes its half itself.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from ledger.periods import Period, to_us
from projections.attainment import load_some_contracts, load_subjects
from projections.store import LedgerStore

# Below this many contracts (3 rows each) the child costs about what it saves.
FORK_FROM_CONTRACTS = 1_000
CHILD_FAILED = 1


def row_documents(
    open_store: Callable[[], LedgerStore],
    period: Period,
    as_of: datetime,
    contract_ids: list[str],
    closed_at: datetime | None,
    *,
    every_contract: bool,
) -> list[dict[str, Any]]:
    """The documents of every row of the contracts `contract_ids` (sorted) in `period`,
    as of `as_of` (what was recorded by then, with horizon `as_of`), in report order.
    `every_contract`: these are all the contracts recorded by then, so in one process
    they and the subjects are read without asking whom they reach."""
    if len(contract_ids) < FORK_FROM_CONTRACTS or (os.cpu_count() or 1) < 2 or not _can_fork():
        every = None if every_contract else contract_ids
        return _documents(open_store, period, as_of, every, closed_at)
    half = len(contract_ids) // 2
    first, second = contract_ids[:half], contract_ids[half:]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, compute, write, and leave without running any cleanup
        _child(read_end, write_end, open_store, period, as_of, second, closed_at)
    os.close(write_end)
    try:
        mine = _documents(open_store, period, as_of, first, closed_at)
        with os.fdopen(read_end, "rb") as pipe:
            received = pipe.read()  # to the end: the child has written all and closed
    except BaseException:
        # Interrupted (a signal, a failure here): a child still working must not
        # outlive this process, nor wait for a reader that is gone.
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.waitpid(pid, 0)
    theirs = _unpickled(received)
    if theirs is None:
        theirs = _documents(open_store, period, as_of, second, closed_at)
    return mine + theirs


def _can_fork() -> bool:
    return hasattr(os, "fork")


def _documents(
    open_store: Callable[[], LedgerStore],
    period: Period,
    as_of: datetime,
    contract_ids: list[str] | None,
    closed_at: datetime | None,
) -> list[dict[str, Any]]:
    """The documents of these contracts' rows (None: every contract), read on a
    connection of their own."""
    store = open_store()
    try:
        contracts = load_some_contracts(store, to_us(as_of), contract_ids)
        inputs = load_subjects(
            store,
            period,
            as_of,
            contracts,
            closed_at,
            recorded_filter=True,
            scoped=contract_ids is not None,
        )
    finally:
        store.close()
    return [row.as_dict() for row in inputs.rows()]


def _child(
    read_end: int,
    write_end: int,
    open_store: Callable[[], LedgerStore],
    period: Period,
    as_of: datetime,
    contract_ids: list[str],
    closed_at: datetime | None,
) -> None:
    status = CHILD_FAILED
    try:
        os.close(read_end)
        # The parent's handlers would raise its one-line interrupt here: the child just
        # ends, and the parent reports the signal.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        documents = _documents(open_store, period, as_of, contract_ids, closed_at)
        data = pickle.dumps(documents, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        # Never return into the parent's code, nor run its exit handlers (flushing its
        # output twice, closing what is still the parent's).
        os._exit(status)


def _unpickled(data: bytes) -> list[dict[str, Any]] | None:
    """The child's documents, or None if it failed: a pickle ends with its own stop
    mark, so what a child cut short wrote does not load."""
    try:
        documents = pickle.loads(data)  # our own child's, just now: nothing foreign
    except Exception:
        return None
    return documents if isinstance(documents, list) else None
