"""The worker process of `audit rebuild`: pages of the log handed to it, replayed there
(`replay_derivation.replay_page`) and handed back (see `rebuild`).

Imported only when a rebuild uses a worker. The worker itself is a fresh interpreter
(`python -I -S`, as `audit verify`'s workers) running `replay_derivation.serve`, which
imports the standard library, `ledger` and the store-free modules of `projections` only.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from projections.audit.rebuild_compare import SubjectIndexComparison
from projections.audit.replay_derivation import Piece, replay_page
from projections.audit.verify import _worker_command, _worker_count
from projections.audit_pages import LogRecord

# Seconds to wait for a page the worker has begun before replaying it here instead (about
# the time it takes to replay a page).
PAGE_PATIENCE = 0.1
# Seconds to wait for the worker's next sign of progress in comparing the subject index
# (it answers one for each page of it read) before comparing it here instead.
COMPARE_PATIENCE = 1.0
BOOT = (
    "import sys; sys.path[:0] = sys.argv[1:]; "
    "from projections.audit.replay_derivation import serve; serve()"
)
# A page of the log handed over: its records, or the range of positions `(after,
# through)` for the worker to read itself.
Handed = list[LogRecord] | tuple[int, int]
# A page replayed: how many records it held, and its pieces (`replay_page`).
Replayed = tuple[int, list[Piece]]
# How this process reads a range of the log (after, through) itself.
LogReader = Callable[[int, int], list[LogRecord]]


@contextmanager
def started(
    workers: int | None,
    read: LogReader,
    with_records: bool,
    database: str | None = None,
    statement: str = "",
) -> Iterator[Worker | None]:
    """A worker, stopped at the end, with a directory of its own for the pages, when
    there are 2 CPUs or more (`workers`: how many processes there may be, default the
    CPUs; fewer than 2: none); None without one (or if it cannot be started): the pages
    are then replayed in this process. `read`: how this process reads a range of the
    log; `database` (a SQLite URI that never writes) and `statement` (`LedgerStore.
    log_statement`): how the worker reads it itself (without: it is handed the records
    this process reads). `with_records`: the rows it builds carry the records."""
    command = _worker_command(BOOT)
    if command is None or _worker_count(workers) < 2:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="sla-ledger-rebuild-pages-") as directory:
        worker = None
        header = {"directory": directory, "with_records": with_records}
        if database is not None:
            header |= {"database": database, "statement": statement}
        with suppress(OSError):
            worker = Worker(command, Path(directory), header, read)
        try:
            yield worker
        finally:
            if worker is not None:
                worker.stop()


class Worker:
    """A worker process replaying pages of the log (`replay_derivation.serve`), at the
    lowest priority, beside this process. Each page goes to it in a file of its
    directory (its records, or the range of positions it reads itself in the live
    store's file), and its replay comes back in another, so that neither process ever
    waits for the other to read a pipe: the worker replays ahead while this one writes
    the scratch store.

    The pages are shared out as the two processes go, so that neither waits for the
    other. When this process needs a page the worker has not answered yet, it takes the
    page's file back if the worker has not begun it (a rename: the worker then passes the
    page over) and replays the page itself; if the worker is replaying it, this process
    meanwhile replays the last page handed over that the worker has not begun, taking
    that one back, and waits for the worker only when there is none left (and then not
    for long, `PAGE_PATIENCE`). So the worker only uses what the machine has to spare
    (all of a second CPU, or nothing when others keep it busy), and the rebuild takes
    no longer than without it.

    Workers only save time, never decide: it replays the very records this process
    would (the ones it read in this process's snapshot, or the same positions in the
    live file, which the ledger only appends to: see `rebuild`) with the same
    functions; if it fails, or answers anything but a page replayed, it is stopped and
    this process replays the rest itself (`broken`)."""

    def __init__(
        self, command: list[str], directory: Path, header: dict[str, Any], read: LogReader
    ) -> None:
        self.broken = False
        self.reads_log = "database" in header  # handed ranges, not records
        self._directory = directory
        self._read_log, self._with_records = read, bool(header["with_records"])
        self._sent = self._next = 0  # pages handed over; the next page to receive
        self._handed: dict[int, Handed] = {}  # pages handed over, not received
        self._replayed: dict[int, Replayed] = {}  # taken back, replayed here
        self._lines: deque[bytes] = deque()  # the worker's answers about pages read so far
        self._compare_answers: deque[bytes] = deque()  # and about the comparison
        self._partial = b""
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self._process.stdout is not None
        self._answers = self._process.stdout.fileno()
        try:
            self._tell(json.dumps(header))
        except OSError:
            self.stop()
            raise

    def _tell(self, line: str) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(f"{line}\n".encode())
        stdin.flush()

    def send(self, handed: Handed) -> None:
        """Hand over a page of the log: its records, or (when the worker reads the log
        itself, `reads_log`) its range of positions. Pages come back in order."""
        page = self._sent
        self._handed[page] = handed
        self._sent += 1
        if self.broken:
            return
        try:
            with (self._directory / f"in-{page}").open("wb") as file:
                pickler = pickle.Pickler(file, pickle.HIGHEST_PROTOCOL)
                pickler.fast = True  # plain tuples: nothing shared that a memo would find
                pickler.dump(handed)
            self._tell(str(page))
        except OSError:
            self.stop()

    def replay_here(self, handed: Handed) -> Replayed:
        """A page replayed in this process (reading its records first if it was handed
        over as a range)."""
        records = handed if isinstance(handed, list) else self._read_log(*handed)
        return len(records), replay_page(records, self._with_records)

    def _read(self, timeout: float | None) -> bool:
        """Read what the worker answered within `timeout` seconds; False if it answered
        nothing."""
        ready, _, _ = select.select([self._answers], [], [], timeout)
        if not ready:
            return False
        data = os.read(self._answers, 1 << 16)
        if not data:
            raise EOFError("the worker stopped")
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.startswith(b"compare"):
                self._compare_answers.append(line[len(b"compare ") :])
            else:
                self._lines.append(line)
        return True

    def _answered(self, page: int, timeout: float) -> bytes | None:
        """The worker's answer about `page` within `timeout` seconds (b"": replayed, b"-":
        passed over, b"!": it failed; None: no answer yet), passing over its answers
        about the pages before it."""
        while self._read(0):
            pass
        deadline = time.monotonic() + timeout
        while True:
            while self._lines:
                number, _, left = self._lines.popleft().partition(b" ")
                if int(number) == page:
                    return left
                if not left:  # replayed here meanwhile: the worker's replay is not needed
                    (self._directory / f"out-{int(number)}").unlink()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                return None

    def _take_back(self, page: int) -> bool:
        """Take back a page handed over that the worker has not begun (it then passes it
        over); False if it has begun it."""
        given = self._directory / f"in-{page}"
        try:
            given.rename(given.with_name(f"taken-{page}"))
        except FileNotFoundError:
            return False
        given.with_name(f"taken-{page}").unlink()
        return True

    def _replay_last(self) -> bool:
        """Take back the last page handed over that the worker has not begun, and replay
        it here; False if there is none (the worker takes the pages in order)."""
        for page in range(self._sent - 1, self._next - 1, -1):
            if page in self._replayed:
                continue
            if not self._take_back(page):
                return False
            self._replayed[page] = self.replay_here(self._handed[page])
            return True
        return False

    def receive(self) -> Replayed:
        """The next page handed over, replayed: by the worker, or here (when it was
        taken back, or the worker is slow; and from now on if it failed or answered
        anything but a page replayed)."""
        page, self._next = self._next, self._next + 1
        handed = self._handed.pop(page)
        if page in self._replayed:
            return self._replayed.pop(page)
        if not self.broken:
            try:
                replayed = self._from_worker(page)
            except Exception:  # its answer unreadable, or it stopped
                self.stop()
            else:
                if replayed is not None:
                    return replayed
        return self.replay_here(handed)

    def _from_worker(self, page: int) -> Replayed | None:
        """The worker's replay of `page`; None if this process is to replay it (the
        worker had not begun it, or is slow, or the page raised there)."""
        answer = self._answered(page, 0)
        if answer is None:
            if self._take_back(page):
                return None  # not begun
            while self._replay_last():  # the worker is replaying it: share the rest
                answer = self._answered(page, 0)
                if answer is not None:
                    break
            else:
                answer = self._answered(page, PAGE_PATIENCE)
        if answer != b"":  # slow (others keep its CPU), or the page raised there
            return None
        result = self._directory / f"out-{page}"
        found = pickle.loads(result.read_bytes())
        result.unlink()
        if not _is_replayed(found):
            raise ValueError("the worker answered something else")
        return found  # type: ignore[no-any-return]

    def compare_subject_index(
        self, scratch: str, head: tuple[int, str], head_statement: str, page: int
    ) -> None:
        """Ask the worker to compare the live store's subject index, in the snapshot it
        reads the pages in, with the scratch store's (`scratch`: a SQLite URI that never
        writes), if that snapshot holds the chain head `head` (position, link) read with
        `head_statement` (see `replay_derivation.serve`)."""
        if self.broken:
            return
        request = {
            "scratch": scratch,
            "head": list(head),
            "head_statement": head_statement,
            "page": page,
        }
        try:
            self._tell(f"compare {json.dumps(request)}")
        except OSError:
            self.stop()

    def subject_index_compared(self) -> SubjectIndexComparison | None:
        """The worker's comparison of the subject index, once it is done; None if it
        did not make it (or stops making progress for `COMPARE_PATIENCE` seconds: it is
        stopped, and this process compares it itself)."""
        if self.broken:
            return None
        try:
            while True:
                while self._compare_answers:
                    answer = self._compare_answers.popleft()
                    if answer == b".":
                        continue
                    if answer != b"":
                        return None
                    result = self._directory / "out-compare"
                    found = pickle.loads(result.read_bytes())
                    result.unlink()
                    if not isinstance(found, SubjectIndexComparison):
                        raise ValueError("the worker answered something else")
                    return found
                if not self._read(COMPARE_PATIENCE):
                    raise TimeoutError("the worker is slow")
        except Exception:
            self.stop()
            return None

    def stop(self) -> None:
        self.broken = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()


def _is_replayed(found: Any) -> bool:
    """Whether the worker's answer has the shape of a page replayed."""
    return (
        type(found) is tuple
        and len(found) == 2
        and type(found[0]) is int
        and type(found[1]) is list
    )
