"""SIGINT and SIGTERM: a command stops where it is safe, says what it did, exits 128 + n.

Python runs a signal handler in the main thread, between two bytecodes of whatever it is
doing. By default SIGINT raises KeyboardInterrupt there and SIGTERM ends the process on
the spot. Neither is right for work that has a thread inside the store: the main thread,
unwinding, closed the store while the writer thread was still in SQLite (signal 11).

So there are two modes, both restoring the previous handlers when they end (tests call
`main()` in the same process, many times):

- `raising()`, around every command: either signal raises `Interrupted` in the main
  thread, which `main()` reports in one line. Right for single-threaded work: a
  transaction in progress rolls back as the exception unwinds through it. It is a
  KeyboardInterrupt, so psycopg cancels a query in flight as it does for Ctrl-C.
- `deferred()`, around work with a thread writing to the store (file ingest, the Kafka
  worker): a signal is only recorded in a `StopRequest`. The work looks at it at safe
  points, lets the write in flight commit, joins its thread, and says what was
  committed. A later signal is noted on stderr and otherwise ignored: stopping waits
  for at most one transaction (SIGKILL abandons it; the database rolls it back).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_code(signum: int) -> int:
    """The shell's convention for "ended by signal n": 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class Interrupted(KeyboardInterrupt):
    """A command was stopped by SIGINT or SIGTERM; the text says what it had done."""

    def __init__(self, signum: int, done: str = "") -> None:
        self.signum = signum
        text = f"interrupted by {signal_name(signum)}"
        super().__init__(f"{text}: {done}" if done else text)

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum)


class StopReading(Exception):  # noqa: N818 - a signal, not an error
    """Raised in the main thread by a signal that came while it waited for input
    (`StopRequest.reading`): the wait ends at once. Only `reading` raises it, and only
    around a read or an open, where the main thread holds no store state."""


class StopRequest:
    """The first SIGINT or SIGTERM received while `deferred()` was in force, if any.

    A signal is only recorded, except inside `reading()`: a read of standard input or a
    FIFO can wait for ever (Python retries a read a signal interrupted), so there the
    signal ends the wait with `StopReading`."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._reading = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around one read (or open) of the input: a signal received before or during it
        raises `StopReading` instead of waiting for the input to come."""
        if self.signum is not None:
            raise StopReading
        self._reading = True
        try:
            yield
        finally:
            self._reading = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            if self._reading:
                self._reading = False
                raise StopReading
            return
        # Only os.write here: a handler interrupts the main thread anywhere, possibly
        # inside a print to stderr, and a second print there raises "reentrant call".
        # No read waits after the first signal (`reading` raises at once): what stopping
        # still waits for is the writer's transaction, if one is in flight.
        _note(
            f"sla-ledger: {signal_name(signum)} received again: still stopping; waiting "
            "only for the transaction in flight, if any, to commit (SIGKILL abandons it, "
            "and it rolls back)\n"
        )


# Whether stderr ends in a line not yet finished (a progress bar redrawn with "\r"):
# whatever is written next starts a line of its own first.
_line_open = False


def line_open(is_open: bool) -> None:
    """A progress bar says it left its line open (True) or ended it (False)."""
    global _line_open  # one stderr per process, so one flag for it
    _line_open = is_open


def end_open_line() -> str:
    """The newline that ends an open line, once (then the line counts as ended)."""
    global _line_open
    if not _line_open:
        return ""
    _line_open = False
    return "\n"


def _note(text: str) -> None:
    text = end_open_line() + text
    stream = sys.__stderr__
    if stream is None:
        return
    with suppress(OSError, ValueError):  # stderr closed or replaced: nothing to say it on
        os.write(stream.fileno(), text.encode("utf-8", "replace"))


def _install(handler: Callable[[int, FrameType | None], Any]) -> dict[int, Any] | None:
    """Install `handler` for both signals; the handlers it replaced, or None when this is
    not the main thread (only the main thread may, and receives signals anyway)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return {signum: signal.signal(signum, handler) for signum in SIGNALS}


def _restore(previous: dict[int, Any] | None) -> None:
    for signum, handler in (previous or {}).items():
        signal.signal(signum, handler)


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def raising(*, then_ignore: bool = False) -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` in the main thread until the block ends.

    Then the previous handlers come back, or, with `then_ignore` (the process is about
    to exit with the block's outcome), both signals are ignored: a signal in the last
    moments must not turn a finished command into a death by signal.
    """
    previous = _install(_raise_interrupted)
    try:
        yield
    finally:
        if then_ignore and previous is not None:
            previous = dict.fromkeys(previous, signal.SIG_IGN)
        _restore(previous)


@contextmanager
def deferred() -> Iterator[StopRequest]:
    """SIGINT and SIGTERM only set the yielded `StopRequest` until the block ends."""
    stop = StopRequest()
    previous = _install(stop)
    try:
        yield stop
    finally:
        _restore(previous)


def off_the_main_thread(
    work: Callable[[], T],
    name: str,
    stop: StopRequest | None = None,
    stopped: str = "",
    abandoned: threading.Event | None = None,
) -> T:
    """Run `work` in a daemon thread while the main thread waits for it; its result, or
    its exception.

    For work inside kafka-python, whose event loop logs and drops any exception raised in
    its tasks: the `Interrupted` a signal raises in the main thread (`raising()`) would
    vanish there, and a producer bootstrapping from a broker the same Ctrl-C stopped
    (the demo's embedded one) would retry for its 30 s. Here the signal raises in the
    main thread's wait, which ends at once; the work is abandoned with the process.
    Under `deferred()`, whose handler raises nothing, give its `stop`: a stop requested
    meanwhile ends the wait with `Interrupted`, saying `stopped`. `abandoned` is set when
    the wait ends before the work: the work may look at it, and stop.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the waiting main thread, raised there
            failure.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(None if stop is None else 0.1)  # a signal's handler runs in this wait
            if stop is not None and stop.signum is not None and thread.is_alive():
                raise Interrupted(stop.signum, stopped)
    except BaseException:
        if abandoned is not None:
            abandoned.set()
        raise
    if failure:
        raise failure[0]
    return outcome[0]
