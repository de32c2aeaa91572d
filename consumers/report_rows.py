"""A period's report rows as documents (`Row.as_dict`), computed on two cores.

Once a period's inputs are loaded and folded, each row is a pure function of its
contract, the folded subjects and the horizon (`ledger.period_rows`), and computing the
rows of a 30,000-row report took as long as loading them. So the contracts (sorted by
id) are split into two contiguous halves: a forked child computes the second half's
documents and sends them back through a pipe while this process computes the first.
Each half's rows come sorted by contract then service, and every contract of the first
half sorts before those of the second, so the halves joined are the rows in the order
of `PeriodInputs.rows`, the very same documents.

The fork happens only with the store closed (no connection or pool thread to share)
and only where it pays: two cores, and enough contracts to outweigh starting a child
and sending its documents back. The child does nothing but compute and write; if it
fails for any reason, this process computes its half itself.
"""

from __future__ import annotations

import os
import pickle
import signal
from contextlib import suppress
from dataclasses import replace
from typing import Any

from ledger.period_rows import PeriodInputs

# Below this many contracts (3 rows each) the child costs about what it saves.
FORK_FROM_CONTRACTS = 1_000
CHILD_FAILED = 1


def row_documents(inputs: PeriodInputs) -> list[dict[str, Any]]:
    """`[row.as_dict() for row in inputs.rows()]`, the second half on another core."""
    contracts = inputs.contracts
    if len(contracts) < FORK_FROM_CONTRACTS or (os.cpu_count() or 1) < 2 or not _can_fork():
        return _documents(inputs)
    half = len(contracts) // 2
    first = replace(inputs, contracts=contracts[:half])
    second = replace(inputs, contracts=contracts[half:])
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, and leave without running any cleanup
        _child(second, read_end, write_end)
    os.close(write_end)
    try:
        mine = _documents(first)
        with os.fdopen(read_end, "rb") as pipe:
            received = pipe.read()  # to the end: the child has written all and closed
    except BaseException:
        # Interrupted (a signal, a failure here): a child still computing must not
        # outlive this process, nor wait for a reader that is gone.
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.waitpid(pid, 0)
    theirs = _unpickled(received)
    return mine + (theirs if theirs is not None else _documents(second))


def _can_fork() -> bool:
    return hasattr(os, "fork")


def _documents(inputs: PeriodInputs) -> list[dict[str, Any]]:
    return [row.as_dict() for row in inputs.rows()]


def _child(inputs: PeriodInputs, read_end: int, write_end: int) -> None:
    status = CHILD_FAILED
    try:
        os.close(read_end)
        # The parent's handlers would raise its one-line interrupt here: the child just
        # ends, and the parent reports the signal.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        data = pickle.dumps(_documents(inputs), protocol=pickle.HIGHEST_PROTOCOL)
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
