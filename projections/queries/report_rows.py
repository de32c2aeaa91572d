"""A period's report rows as documents (`Row.as_dict`), read, computed and rendered on
two cores.

Query logic, not process plumbing, and so here under the query layer: which contracts
each part reads, that a part read with only the subjects reaching its contracts has the
very rows of the whole report, and that the parts in order are the rows in report order
are rules of the report's derivation, and every asker of a report relies on them. The
fork itself is only how the parts are computed, and an asker chooses it (`fork`): a
command line, one process with no other thread; never a server with threads and
connections of other requests, which a forked child would copy.

A row only ever reads its own contract's subjects, so the rows of some contracts are
the same whether they are computed with the whole period's subjects or with only the
subjects that can reach those contracts (`load_subjects(..., scoped=True)`, what
`explain` and the reconciliation of a few contracts rely on). Reading, decoding and
folding the contracts and subjects, computing the rows and rendering them is nearly all
of a 30,000-row report, so the ids of the contracts are split into two contiguous parts
(sorted): a forked child reads the second part's contracts and the subjects that can
reach them on a connection of its own, computes their rows, renders them (`render_part`:
the output's text of those rows, or whatever the output is made from) and sends that
back through a pipe, while this process does the same for the first part. Each part's
rows come sorted by contract then service, and every contract of the first part sorts
before those of the second, so the parts in order are the rows in the order of
`PeriodInputs.rows`: the very same documents, rendered.

Each process renders its own part, and the child then pickles its part into the pipe,
which this process reads once it has rendered its own; joining the parts and writing
the output come after both, whatever the split. Measured on the benchmark's 30,000 rows,
each process's part is done about together when each has half of the contracts
(`CHILD_SHARE`; with more, this process waits for the child).

The fork happens with no store open (no connection or pool thread to share), and only
where it pays: two cores, and enough contracts to outweigh starting a child and sending
its part back. The child does nothing but read, compute, render and write; if it fails
for any reason, this process computes and renders its part itself.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from ledger.attainment import Row
from ledger.periods import Period, to_us
from projections.attainment import load_some_contracts, load_subjects
from projections.store import LedgerStore, StoreReads

# Below this many contracts (3 rows each) the child costs about what it saves.
FORK_FROM_CONTRACTS = 1_000
# The child's part of the contracts (see above).
CHILD_SHARE = 0.5
CHILD_FAILED = 1

Document = dict[str, Any]
Part = TypeVar("Part")
# What a part is rendered from, one per row: the row's document (`Row.as_dict`) for a
# report; a question about some rows only presents those (None: the row is left out).
Item = TypeVar("Item")
# Where a report reads: a function opening a store of its own each time (each part, and
# a forked child, reads on its own connection), or one read snapshot that every part
# shares (a request's): a snapshot's transaction cannot be carried into a child, so a
# report read from one is never forked.
Source = Callable[[], LedgerStore] | StoreReads


@contextmanager
def reading(source: Source) -> Iterator[StoreReads]:
    """The reads of `source`: the snapshot itself (left open, its owner's to close), or
    a store opened for the block and closed after it."""
    if isinstance(source, StoreReads):
        yield source
        return
    store = source()
    try:
        yield store
    finally:
        store.close()


@dataclass(frozen=True)
class RowParts(Generic[Part]):
    parts: list[Part]
    # The earliest moment one of the rows changes with time alone (`Row.changes_at_us`;
    # None: only a new record can change them): until then, as of any later moment, the
    # same records give these same rows.
    changes_at_us: int | None


def _earliest(first: int | None, second: int | None) -> int | None:
    return first if second is None else second if first is None else min(first, second)


def row_parts(
    source: Source,
    period: Period,
    as_of: datetime,
    contract_ids: list[str],
    closed_at: datetime | None,
    *,
    every_contract: bool,
    render_part: Callable[[list[Item]], Part],
    fork: bool,
    present: Callable[[Row], Item | None],
) -> RowParts[Part]:
    """`render_part` of what `present` makes of every row of the contracts `contract_ids`
    (sorted) in `period`, as of `as_of` (what was recorded by then, with horizon
    `as_of`), part by part: the parts' items joined are the rows in report order (those
    `present` keeps). A part may have no row. What `render_part` returns comes back
    from the child pickled.
    `every_contract`: these are all the contracts recorded by then, so in one process
    they and the subjects are read without asking whom they reach. `fork`: the asker
    allows a forked child (see above); a snapshot `source` is never forked."""
    if (
        not fork
        or isinstance(source, StoreReads)
        or len(contract_ids) < FORK_FROM_CONTRACTS
        or (os.cpu_count() or 1) < 2
        or not _can_fork()
    ):
        every = None if every_contract else contract_ids
        documents, changes_at = _documents(source, period, as_of, every, closed_at, present)
        return RowParts([render_part(documents)], changes_at)
    split = len(contract_ids) - round(len(contract_ids) * CHILD_SHARE)
    first, second = contract_ids[:split], contract_ids[split:]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, compute, write, and leave without running any cleanup
        _child(read_end, write_end, source, period, as_of, second, closed_at, render_part, present)
    os.close(write_end)
    try:
        documents, changes_at = _documents(source, period, as_of, first, closed_at, present)
        mine = render_part(documents)
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
        documents, later = _documents(source, period, as_of, second, closed_at, present)
        return RowParts([mine, render_part(documents)], _earliest(changes_at, later))
    return RowParts([mine, theirs[0]], _earliest(changes_at, theirs[1]))


def _can_fork() -> bool:
    return hasattr(os, "fork")


def _documents(
    source: Source,
    period: Period,
    as_of: datetime,
    contract_ids: list[str] | None,
    closed_at: datetime | None,
    present: Callable[[Row], Item | None],
) -> tuple[list[Item], int | None]:
    """What `present` makes of these contracts' rows (None: every contract), read from
    `source` (`reading`), and when the earliest of them changes with time alone."""
    with reading(source) as store:
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
    rows = inputs.rows()
    changes_at: int | None = None
    for row in rows:
        changes_at = _earliest(changes_at, row.changes_at_us)
    presented = [present(row) for row in rows]
    return [item for item in presented if item is not None], changes_at


def _child(
    read_end: int,
    write_end: int,
    source: Source,
    period: Period,
    as_of: datetime,
    contract_ids: list[str],
    closed_at: datetime | None,
    render_part: Callable[[list[Any]], Any],
    present: Callable[[Row], Any],
) -> None:
    status = CHILD_FAILED
    try:
        os.close(read_end)
        # The parent's handlers would raise its one-line interrupt here: the child just
        # ends, and the parent reports the signal.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        documents, changes_at = _documents(source, period, as_of, contract_ids, closed_at, present)
        data = pickle.dumps([render_part(documents), changes_at], protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        # Never return into the parent's code, nor run its exit handlers (flushing its
        # output twice, closing what is still the parent's).
        os._exit(status)


def _unpickled(data: bytes) -> list[Any] | None:
    """`[part, changes_at_us]` from the child, or None if it failed: a pickle ends with
    its own stop mark, so what a child cut short wrote does not load."""
    try:
        sent = pickle.loads(data)  # our own child's, just now: nothing foreign
    except Exception:
        return None
    return sent if isinstance(sent, list) and len(sent) == 2 else None
