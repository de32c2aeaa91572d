"""`audit verify`: recompute the hash chain from the stored rows and name the first
position that does not match (spec: `ledger/chain.py`; the checks of each position:
`projections.audit.chain_walk`). After the last position, the head the writers keep must agree
with where the chain ends, and the event store must hold no record the chain lacks.
Checkpoints kept elsewhere (`--checkpoint POS:SHA`) are compared too: only they can
reveal a history rewritten consistently from its start by someone who can write every
table.

The chain is read in pages of positions (memory does not grow with the store), and an
event costs two digests and a few comparisons: its envelope is not parsed again, since
whether it is a valid event is the intake's question, and the link already proves it is
the one accepted. The projections derived from the events (the span table, the event
index's derived columns, the entries) are `audit rebuild`'s to compare.

In worker processes. Each position's check needs only the link and the record time
stored at the one before it (`chain_walk`), so a SQLite store of `PARALLEL_FROM`
positions or more is walked by one worker process per CPU, each with a read-only
connection of its own, while this one runs SQLite's own check of the file. The chain is
handed out a page at a time, each worker taking the next page as it finishes one (one
slowed by whatever else runs on the machine does not hold the others up), and the
pages' results are joined in order: each must start from the link at which the one
before it ended, and the last end at the link this process's snapshot holds at the
chain's end; the first page with a finding names the position, and this process names
its problem again, in its own snapshot, from the head the worker reached there.
Whatever else happens (a worker that fails or cannot start, pages that do not join up)
the chain is walked here instead, as for a smaller store and on PostgreSQL: workers only
ever save time, never decide.

One moment. The verdict is about the store as this process's snapshot holds it: its
chain end bounds the walk, and the head and the event store's count are read in it. A
worker's snapshot begins later (SQLite cannot share one between connections), but the
ledger only ever appends after the head and its triggers refuse any change to a chained
row, so every position up to that end reads the same in it: what a writer commits
meanwhile lies beyond the end and is not looked at. Only an edit behind the ledger's
back in the moment between (tampering itself) could make them differ. An edit the
workers see and this snapshot does not is not found again here, and the chain is then
walked here; one this snapshot holds and theirs no longer do (undone within that
moment) leaves the links as they were, so the pages still join up and the verdict is
that of the moment the workers read, as if the verify had begun a moment later.
(PostgreSQL could share one snapshot between connections, `pg_export_snapshot`; it is
walked in this process for now.)

Fresh processes. A worker is a new interpreter (`python -I -S`) importing only the
standard library and `chain_walk`: some 50 ms to start, in parallel with the others.
Forking this process would be quicker to start but is unsafe here: it holds SQLite
connections, which SQLite forbids using across a fork (a child opening the same file
inherits the parent's record of its locks and shared-memory index, and may read without
the locks it thinks it holds), and threads (SQLite's own check runs in one), any of
which may hold a lock of SQLite or of Python's allocator at the fork that no thread of
the child would ever release. multiprocessing's spawn and forkserver start a fresh
interpreter too, but import the parent's main module and the function's module again,
which here means the store and its drivers (half a second); `chain_walk` imports none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ledger
import projections
from ledger.chain import EMPTY, ChainHead
from ledger.entry_bases import basis_matches
from ledger.errors import StoreError
from ledger.wording import counted
from projections.audit.chain_walk import (
    Finding,
    RangeReport,
    Walked,
    walk,
    worker_header,
    worker_range,
)
from projections.queries.encoding import to_json
from projections.store import StoreSnapshot

CHUNK = 5_000  # positions read per round trip
# From how many positions a SQLite store's chain is walked in worker processes (below,
# starting them costs more than they save), and at most how many.
PARALLEL_FROM = 20_000
MAX_WORKERS = 8


@dataclass(frozen=True)
class VerifyResult:
    records: int  # positions verified before the first finding (all, if none)
    head: ChainHead  # the recomputed chain at its last good position
    closes: int  # checkpoints of closes that matched
    finding: Finding | None
    # The database's own integrity (SQLite's quick_check): None when it passed or, on
    # PostgreSQL, when there is no such check (`database_checked` False).
    damage: str | None = None
    database_checked: bool = False
    # The checkpoints given (`--checkpoint`) the chain was found to pass through.
    checkpoints_matched: tuple[tuple[int, str], ...] = ()
    checkpoints_given: int = 0
    # How many worker processes walked the chain (0: this process did).
    workers: int = 0
    # Whether `finding` is about a stored entry basis (`_basis_finding`), the chain
    # itself having verified: `records` and `head` are then the whole chain's.
    finding_in_basis: bool = False

    @property
    def ok(self) -> bool:
        return self.finding is None and self.damage is None


def verify(
    store: StoreSnapshot,
    checkpoints: Mapping[int, str] | None = None,
    *,
    page_size: int | None = None,
    parallel_from: int | None = None,
    workers: int | None = None,
) -> VerifyResult:
    """Verify the chain as the store stands in the snapshot `store` (writers may go on
    meanwhile).

    `page_size` positions are read at a time (`CHUNK`); a SQLite store of `parallel_from`
    positions or more (`PARALLEL_FROM`) is walked by `workers` processes (as many as
    there are CPUs, up to `MAX_WORKERS`; fewer than 2: in this process)."""
    # The database's own check too: a damaged file's chain may read as intact while
    # reports, rebuilds and exports stop with "database disk image is malformed". A chain
    # finding is the more precise (a row forged past a CHECK constraint fails both); a
    # file too damaged to read the chain from is reported as damaged. It runs beside the
    # chain's walk, on a connection of its own (SQLite's check does not hold the GIL).
    with ThreadPoolExecutor(max_workers=1) as beside:
        integrity = beside.submit(store.store.integrity)
        try:
            result = _verify(
                store,
                checkpoints,
                page_size=page_size,
                parallel_from=parallel_from,
                workers=workers,
            )
        except StoreError:
            checked, damage = integrity.result()
            if damage is None:
                raise
            return VerifyResult(
                0, EMPTY, 0, None, damage, checked, checkpoints_given=len(checkpoints or {})
            )
        checked, damage = integrity.result()
        return replace(result, damage=damage, database_checked=checked)


def damaged(problem: str) -> str:
    """What a damaged SQLite file means to its user, `problem` being its quick_check's."""
    return (
        f"the SQLite database is damaged (quick_check: {problem}): reports, rebuilds and "
        "exports of it fail; restore it from a backup or a fresh copy and verify that"
    )


def verify_document(result: VerifyResult) -> dict[str, Any]:
    """The verification as a program reads it (`audit verify --format json`)."""
    return {
        "ok": result.ok,
        "records_verified": result.records,
        "closes_verified": result.closes,
        "head": {"position": result.head.position, "chain_sha256": result.head.sha256},
        "first_mismatch": None
        if result.finding is None
        else {"position": result.finding.position, "problem": result.finding.problem},
        "database_integrity": {"checked": result.database_checked, "problem": result.damage},
        "checkpoints_given": result.checkpoints_given,
        "checkpoints_matched": [
            {"position": position, "chain_sha256": digest}
            for position, digest in result.checkpoints_matched
        ],
    }


def verify_json(result: VerifyResult) -> str:
    return to_json(verify_document(result))


def _verify(
    store: StoreSnapshot,
    checkpoints: Mapping[int, str] | None,
    *,
    page_size: int | None = None,
    parallel_from: int | None = None,
    workers: int | None = None,
) -> VerifyResult:
    anchors = dict(checkpoints or {})
    size = page_size or CHUNK
    end = store.chain_end()

    def result(walked: Walked, finding: Finding | None, used: int = 0) -> VerifyResult:
        head = walked.head
        matched = tuple(sorted((p, d) for p, d in anchors.items() if 1 <= p <= head.position))
        return VerifyResult(
            head.position,
            head,
            walked.closes,
            finding,
            checkpoints_matched=matched,
            checkpoints_given=len(anchors),
            workers=used,
        )

    nothing = Walked(EMPTY, 0, None)
    before = sorted(p for p in anchors if p < 1)
    if before:  # the parser refuses these; a caller passing one gets a finding, not a pass
        problem = "a checkpoint before position 1: no record has it"
        return result(nothing, Finding(before[0], problem))
    start = store.min_chain_position()
    if start is not None and start < 1:
        return result(
            nothing,
            Finding(start, "a row claims a position before the chain's first: it was inserted"),
        )

    threshold = PARALLEL_FROM if parallel_from is None else parallel_from
    # No more workers than pages: each walks a page at a time.
    count = min(_worker_count(workers), -(-end // size)) if end >= threshold else 0
    walked = _walk_in_workers(store, end, anchors, size, count) if count >= 2 else None
    used = count if walked is not None else 0
    if walked is None:
        walked = walk(store.chain_page, 0, end, EMPTY, anchors, size)
    if walked.finding is not None:
        return result(walked, walked.finding, used)
    head = walked.head

    stored_head = store.chain_head()
    if (stored_head.position, stored_head.sha256) != (head.position, head.sha256):
        if stored_head.position > head.position:
            problem = (
                f"the writers' head is at position {stored_head.position} but the chain "
                f"ends at {head.position}: the records after it were deleted"
            )
            return result(walked, Finding(head.position + 1, problem), used)
        problem = f"the writers' head ({stored_head.checkpoint}) does not match the chain"
        return result(walked, Finding(head.position, problem), used)
    beyond = sorted(p for p in anchors if p > head.position)
    if beyond:
        return result(
            walked,
            Finding(beyond[0], f"the chain ends at {head.position}, before this checkpoint"),
            used,
        )
    extra = store.library_count() - head.position
    if extra > 0:
        return result(
            walked,
            Finding(
                head.position + 1,
                f"the event store holds {counted(extra, 'record')} in no chained table: "
                "inserted, or their rows deleted",
            ),
            used,
        )
    basis = _basis_finding(store, head.position, size)
    if basis is not None:
        return replace(result(walked, basis, used), finding_in_basis=True)
    return result(walked, None, used)


def _basis_finding(store: StoreSnapshot, end: int, size: int) -> Finding | None:
    """The first (by position) entry whose stored basis document (`sla_entry_bases`) does
    not hash to the basis_sha256 it chains, or a stored basis of no entry. Either was
    edited or inserted: the memo of such an entry falls back to the entry's own wording
    (`ledger.entry_bases.verified_figures`), and this says so. Read in pages."""
    found: list[Finding] = []
    after = ""
    while True:
        page = store.entry_bases_page(after, size)
        for entry_id, position, digest, text in page:
            if position is None or digest is None:
                found.append(
                    Finding(
                        end + 1,
                        f"a stored basis names entry {entry_id}, which the ledger does not "
                        "hold: inserted, or its entry deleted",
                    )
                )
            elif not basis_matches(text, digest):
                found.append(
                    Finding(
                        position,
                        f"the stored basis of entry {entry_id} does not hash to the "
                        "basis_sha256 it chains: edited (its memo shows the entry's own "
                        "wording instead)",
                    )
                )
        if len(page) < size:
            break
        after = page[-1][0]
    return min(found, key=lambda finding: finding.position, default=None)


def _worker_count(asked: int | None) -> int:
    if asked is not None:
        return asked
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_WORKERS)


# A worker: a fresh interpreter, isolated (`-I`: no environment, no user site) and
# without `site` (`-S`: nothing but the standard library and the roots given), which
# runs `chain_walk.serve` on the lines given on its standard input.
_BOOT = (
    "import sys; sys.path[:0] = sys.argv[1:]; "
    "from projections.audit.chain_walk import serve; serve()"
)


def _worker_command(boot: str | None = None) -> list[str] | None:
    """How to start a worker: this interpreter, and the directories this process
    imports `projections` and `ledger` from (None if that cannot be told). `boot`: the
    worker's code (default: a walk of the chain's pages, `_BOOT`)."""
    roots: list[str] = []
    for package in (projections, ledger):
        if package.__file__ is None:
            return None
        root = str(Path(package.__file__).resolve().parent.parent)
        if root not in roots:
            roots.append(root)
    if not sys.executable:
        return None
    return [sys.executable, "-I", "-S", "-c", boot or _BOOT, *roots]


def _walk_in_workers(
    store: StoreSnapshot, end: int, anchors: Mapping[int, str], page_size: int, count: int
) -> Walked | None:
    """The chain walked a page at a time by `count` worker processes, each taking the
    next page as it finishes one (a worker slowed by anything else running keeps up);
    None when that could not be done or the results do not join up (the caller then
    walks the chain itself)."""
    database, command = store.reader_uri(), _worker_command()
    if database is None or command is None:
        return None
    pages = -(-end // page_size)
    header = worker_header(database, store.chain_queries, page_size)
    joined = _Joined()
    handing = threading.Lock()
    state = {"next": 0, "last": pages - 1}  # the next page to hand out, the last needed

    def take() -> int | None:
        with handing:
            index = state["next"]
            if index > state["last"]:
                return None
            state["next"] = index + 1
            return index

    def drive(process: subprocess.Popen[bytes]) -> None:
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(header)
            while (index := take()) is not None:
                after = index * page_size
                stdin.write(worker_range(after, min(after + page_size, end), anchors))
                stdin.flush()
                report = RangeReport.loads(stdout.readline())
                with handing:
                    if not joined.add(index, report):  # no page after this one matters
                        state["last"] = min(state["last"], index)
            stdin.close()
            process.wait()
        except (OSError, ValueError, KeyError, TypeError):
            # The worker failed (its problem, a damaged file say, is the walk here to
            # report) or was stopped: the results will not join, so hand out no more.
            with handing:
                joined.broken = True
                state["last"] = -1
            process.kill()

    processes: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            processes.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            )
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            try:
                for done in [pool.submit(drive, process) for process in processes]:
                    done.result()
            finally:  # interrupted: stop the workers, so that their threads return
                for process in processes:
                    if process.poll() is None:
                        process.kill()
    except OSError:  # a worker could not be started
        return None
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
    return _finish(store, joined, end, anchors, page_size)


@dataclass
class _Joined:
    """The pages' walks joined in order as their reports come in, in any order: only
    those that came before an earlier one are held, so memory does not grow with the
    chain. Each page must start from the link and the record time at which the one
    before it ended (`broken` otherwise, or when a report is missing)."""

    head: ChainHead = EMPTY
    closes: int = 0
    pages: int = 0  # joined so far
    early: dict[int, RangeReport | None] = field(default_factory=dict)
    finding: Walked | None = None  # the walk of the page with the first finding
    broken: bool = False

    def add(self, index: int, report: RangeReport | None) -> bool:
        """Join a page's report (and those held after it); False once no later page
        matters (a finding, or pages that do not join up)."""
        self.early[index] = report
        while self.pages in self.early and self.finding is None and not self.broken:
            report = self.early.pop(self.pages)
            self.pages += 1
            if (
                report is None
                or report.walked is None
                or report.seed != (self.head.sha256, self.head.recorded_us)
            ):
                self.broken = True  # this page's worker read another link before it
            elif report.walked.finding is not None:
                self.closes += report.walked.closes
                self.finding = report.walked
            else:
                self.closes += report.walked.closes
                self.head = report.walked.head
        return self.finding is None and not self.broken


def _finish(
    store: StoreSnapshot, joined: _Joined, end: int, anchors: Mapping[int, str], page_size: int
) -> Walked | None:
    """The joined pages as one walk of the chain, or None if they do not join up with
    each other or with this process's snapshot."""
    if joined.broken:
        return None
    if joined.finding is not None:
        # Named again in this process's snapshot, from where the worker got to.
        head, finding = joined.finding.head, joined.finding.finding
        assert finding is not None
        if head.position != finding.position - 1 or finding.position > end:
            return None
        named = walk(store.chain_page, head.position, finding.position, head, anchors, page_size)
        if named.finding is None or named.finding.position != finding.position:
            return None
        return Walked(head, joined.closes, named.finding)
    head = joined.head
    if head.position != end or store.chain_link(end) != (head.sha256, head.recorded_us):
        return None
    return Walked(head, joined.closes, None)


def _joined(
    store: StoreSnapshot,
    reports: Sequence[RangeReport | None],
    end: int,
    anchors: Mapping[int, str],
    page_size: int,
) -> Walked | None:
    """Reports of consecutive ranges from the genesis, joined (`_Joined`, `_finish`)."""
    joined = _Joined()
    for index, report in enumerate(reports):
        if not joined.add(index, report):
            break
    return _finish(store, joined, end, anchors, page_size)
