"""The worker process of `audit rebuild`: pages of the log handed to it, their events'
derivations handed back (see `audit_rebuild`).

Imported only when a rebuild uses a worker. The worker itself is a fresh interpreter
(`python -I -S`, as `audit verify`'s workers) running `replay_derivation.serve`, which
imports the standard library, `ledger` and the store-free modules of `projections` only.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from projections.audit_verify import _worker_command, _worker_count
from projections.chain_records import TOPIC_EVENT_ACCEPTED as EVENT
from projections.replay_derivation import Derivation, LogRecord, derive_page

# Seconds to wait for a page the worker has begun before deriving it here instead (about
# the time it takes to derive a page).
PAGE_PATIENCE = 0.1
BOOT = (
    "import sys; sys.path[:0] = sys.argv[1:]; "
    "from projections.replay_derivation import serve; serve()"
)


@contextmanager
def started(workers: int | None) -> Iterator[Worker | None]:
    """A worker, stopped at the end, with a directory of its own for the pages, when
    there are 2 CPUs or more (`workers`: how many processes there may be, default the
    CPUs; fewer than 2: none); None without one (or if it cannot be started): the events
    are then derived in this process."""
    command = _worker_command(BOOT)
    if command is None or _worker_count(workers) < 2:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="sla-ledger-rebuild-pages-") as directory:
        worker = None
        with suppress(OSError):
            worker = Worker(command, Path(directory))
        try:
            yield worker
        finally:
            if worker is not None:
                worker.stop()


class Worker:
    """A worker process deriving the events of pages of the log (`replay_derivation.
    serve`), at the lowest priority, beside this process. Each page goes to it in a file
    of `directory`, and its derivations come back in another, so that neither process
    ever waits for the other to read a pipe: the worker derives ahead while this one
    writes the scratch store.

    The pages are shared out as the two processes go, so that neither waits for the
    other. When this process needs a page the worker has not answered yet, it takes the
    page's file back if the worker has not begun it (a rename: the worker then passes the
    page over) and derives the page itself; if the worker is deriving it, this process
    meanwhile derives the last page handed over that the worker has not begun, taking
    that one back, and waits for the worker only when there is none left (and then not
    for long, `PAGE_PATIENCE`). So the worker only uses what the machine has to spare
    (all of a second CPU, or nothing when others keep it busy), and the rebuild takes
    no longer than without it.

    Workers only save time, never decide: it is handed the very records this process
    read in its snapshot, and derives them with the same functions; if it fails, or
    answers anything but one derivation per event of the page, it is stopped and this
    process derives the rest itself (`broken`)."""

    def __init__(self, command: list[str], directory: Path) -> None:
        self.broken = False
        self._directory = directory
        self._sent = self._next = 0  # pages handed over; the next page to receive
        self._handed: dict[int, list[LogRecord]] = {}  # pages handed over, not received
        self._derived: dict[int, list[Derivation | str | None]] = {}  # taken back, derived
        self._lines: deque[bytes] = deque()  # the worker's answers read so far
        self._partial = b""
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self._process.stdout is not None
        self._answers = self._process.stdout.fileno()
        try:
            self._tell(str(directory))
        except OSError:
            self.stop()
            raise

    def _tell(self, line: str) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(f"{line}\n".encode())
        stdin.flush()

    def send(self, page: list[LogRecord]) -> None:
        """Hand over a page of the log (its derivations come back in order)."""
        if self.broken:
            return
        try:
            with (self._directory / f"in-{self._sent}").open("wb") as file:
                pickler = pickle.Pickler(file, pickle.HIGHEST_PROTOCOL)
                pickler.fast = True  # plain tuples: nothing shared that a memo would find
                pickler.dump(page)
            self._tell(str(self._sent))
        except OSError:
            self.stop()
            return
        self._handed[self._sent] = page
        self._sent += 1

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
        self._lines.extend(lines)
        return True

    def _answered(self, page: int, timeout: float) -> bool:
        """Whether the worker answered that it derived `page` (within `timeout` seconds),
        passing over its answers about the pages before it."""
        while self._read(0):
            pass
        deadline = time.monotonic() + timeout
        while True:
            while self._lines:
                number, _, left = self._lines.popleft().partition(b" ")
                if int(number) == page:
                    return not left
                if not left:  # derived here meanwhile: its derivations are not needed
                    (self._directory / f"out-{int(number)}").unlink()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                return False

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

    def _derive_last(self) -> bool:
        """Take back the last page handed over that the worker has not begun, and derive
        it here; False if there is none (the worker takes the pages in order)."""
        for page in range(self._sent - 1, self._next - 1, -1):
            if page in self._derived:
                continue
            if not self._take_back(page):
                return False
            records = self._handed[page]
            self._derived[page] = derive_page(
                [
                    (position, state, index)
                    for position, topic, state, index in records
                    if topic == EVENT
                ]
            )
            return True
        return False

    def receive(self, count: int) -> list[Derivation | str | None] | None:
        """The derivations of the next page handed over, which had `count` events (None:
        this process derives it; from now on if the worker failed)."""
        page, self._next = self._next, self._next + 1
        self._handed.pop(page, None)
        if page in self._derived:
            return self._derived.pop(page)
        if self.broken:
            return None
        derived: Any = None
        with suppress(Exception):  # anything but its answer: derived here
            if not self._answered(page, 0):
                if self._take_back(page):
                    return None  # not begun: derived here
                while self._derive_last():  # the worker is deriving it: share the rest
                    if self._answered(page, 0):
                        break
                else:
                    if not self._answered(page, PAGE_PATIENCE):
                        return None  # the worker is slow (others keep its CPU): derived here
            result = self._directory / f"out-{page}"
            derived = pickle.loads(result.read_bytes())
            result.unlink()
        if type(derived) is not list or len(derived) != count:
            self.stop()
            return None
        return derived

    def stop(self) -> None:
        self.broken = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
