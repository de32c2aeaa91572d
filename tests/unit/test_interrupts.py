"""Signals and the writer thread, as pure logic: real signals sent to this process, and a
fake store that only records whether it is closed while a write is inside it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from consumers import interrupts
from consumers.intake.file_ingest import ingest_file
from consumers.intake.retry import with_backoff
from ledger.errors import StoreError
from projections.store import AppendOutcome
from tests.builders import contract


class SlowStore:
    """Appends take a while (as a big SQLite batch does); closing one in flight is the
    bug that crashed sqlite3 with signal 11, so it is recorded here."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.closed_during_a_write = False
        self.batches = 0

    def append(self, events: list[Any], rejections: list[Any], *_: Any) -> AppendOutcome:
        self.inside.set()
        time.sleep(0.3)
        self.batches += 1
        self.inside.clear()
        return AppendOutcome(accepted=len(events), rejected=list(rejections))

    def close(self) -> None:
        self.closed_during_a_write = self.closed_during_a_write or self.inside.is_set()

    def hold_lease(self, name: str, holder: str, seconds: float) -> bool:
        """A file intake's lease (it keeps other processes' alerts out): always granted."""
        return True

    def release_lease(self, name: str, holder: str) -> None:
        pass


def feed(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        "".join(json.dumps(contract(contract_id=f"C-{n}")) + "\n" for n in range(count))
    )
    return path


def test_an_exception_out_of_a_file_ingest_waits_for_the_write_in_flight_first(
    tmp_path: Path,
) -> None:
    """Whatever ends an ingest early (here an exception out of the progress callback,
    standing for a KeyboardInterrupt at an arbitrary point), the caller's `close` comes
    only after the writer thread has left the store."""
    store = SlowStore()

    def progress(_done: int, _total: int, inputs: int) -> None:
        if inputs >= 3_000:  # the first batch (2,000 inputs) is being written now
            raise KeyboardInterrupt

    def ingest_then_close() -> None:
        try:
            ingest_file(store, feed(tmp_path, 5_000), progress=progress)  # type: ignore[arg-type]
        finally:
            store.close()

    with pytest.raises(KeyboardInterrupt):
        ingest_then_close()
    assert not store.closed_during_a_write
    assert store.batches == 1


def test_a_stop_request_ends_a_file_ingest_after_the_batch_in_flight_and_says_which_lines(
    tmp_path: Path,
) -> None:
    store = SlowStore()
    stop = interrupts.StopRequest()

    def progress(_done: int, _total: int, inputs: int) -> None:
        if inputs >= 3_000:
            stop(signal.SIGTERM, None)  # as the handler does

    path = feed(tmp_path, 5_000)
    with pytest.raises(interrupts.Interrupted) as raised:
        ingest_file(store, path, progress=progress, stop=stop, batch_size=2_000)  # type: ignore[arg-type]
    assert raised.value.exit_code == 143
    assert str(raised.value) == (
        f"interrupted by SIGTERM: 2,000 inputs committed (accepted 2,000, duplicates 0, "
        f"rejected 0) of lines 1-2000 of {path}; nothing after line 2000 was recorded; run "
        "the same command again to continue (already accepted events count as duplicates)"
    )
    assert store.batches == 1
    assert not store.inside.is_set()


def test_a_stop_requested_while_the_store_is_unreachable_ends_the_wait_at_once() -> None:
    stop = interrupts.StopRequest()
    said: list[str] = []

    def unreachable() -> None:
        stop(signal.SIGTERM, None)
        raise StoreError("connection refused")

    started = time.monotonic()
    with pytest.raises(interrupts.Interrupted) as raised:
        with_backoff(unreachable, "store", 120.0, (StoreError,), said.append, stop)
    assert time.monotonic() - started < 1.0
    assert raised.value.signum == signal.SIGTERM
    assert "stopped while the store was unavailable (connection refused)" in str(raised.value)


def test_deferred_records_the_first_signal_ignores_the_next_and_restores_the_handlers() -> None:
    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    with interrupts.deferred() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # a second signal while stopping: no exception
        deadline = time.monotonic() + 5
        while stop.signum is None and time.monotonic() < deadline:
            time.sleep(0.01)
    assert stop.signum == signal.SIGTERM
    assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == before


def test_raising_turns_sigterm_into_interrupted_and_restores_the_handlers() -> None:
    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}

    def signalled() -> None:
        with interrupts.raising():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises in this thread long before

    with pytest.raises(interrupts.Interrupted) as raised:
        signalled()
    assert raised.value.exit_code == 143
    assert str(raised.value) == "interrupted by SIGTERM"
    assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == before


def swallowing_work(seconds: float) -> str:
    """Like kafka-python's event loop: whatever is raised inside it is dropped. One wait,
    which a signal 0.2 s in interrupts (its handler runs inside the wait)."""
    with suppress(BaseException):
        threading.Event().wait(seconds)
    return "finished"


def test_a_signal_is_lost_in_work_that_swallows_exceptions_unless_it_runs_off_the_main_thread() -> (
    None
):
    abandoned = threading.Event()
    with interrupts.raising():
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        assert swallowing_work(0.6) == "finished"  # the Ctrl-C vanished in it
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        with pytest.raises(interrupts.Interrupted) as raised:
            interrupts.off_the_main_thread(lambda: swallowing_work(30), "test", abandoned=abandoned)
    assert time.monotonic() - started < 5
    assert raised.value.exit_code == 130
    assert abandoned.is_set(), "the work was not told it is abandoned"


def test_off_the_main_thread_returns_the_result_or_raises_the_exception_of_the_work() -> None:
    assert interrupts.off_the_main_thread(lambda: 42, "test") == 42
    with pytest.raises(StoreError, match="gone"):
        interrupts.off_the_main_thread(lambda: (_ for _ in ()).throw(StoreError("gone")), "test")


def test_the_line_for_one_input_committed_speaks_of_one_input(tmp_path: Path) -> None:
    """The whole file committed, the signal before the reconciliation: `all 1 input`,
    not `all 1 inputs`."""
    stop = interrupts.StopRequest()

    class SignalledWhileWriting(SlowStore):
        def append(self, events: list[Any], rejections: list[Any], *_: Any) -> AppendOutcome:
            stop(signal.SIGINT, None)  # as the handler does, while the last batch is written
            return super().append(events, rejections)

    path = feed(tmp_path, 1)
    with pytest.raises(interrupts.Interrupted) as raised:
        ingest_file(SignalledWhileWriting(), path, stop=stop)  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"interrupted by SIGINT: all 1 input of {path} committed (accepted 1, duplicates 0, "
        "rejected 0), but closed periods were not reconciled with them; run the same "
        "command again to continue (already accepted events count as duplicates)"
    )


def test_a_signal_ends_a_read_window_at_once_and_a_second_one_is_only_noted(
    capfd: pytest.CaptureFixture[str],
) -> None:
    stop = interrupts.StopRequest()
    stop(signal.SIGINT, None)  # outside a read: only recorded
    assert stop.signum == signal.SIGINT
    with pytest.raises(interrupts.StopReading), stop.reading():
        pytest.fail("a read after the signal must not start")  # pragma: no cover

    waiting = interrupts.StopRequest()
    with pytest.raises(interrupts.StopReading), waiting.reading():
        waiting(signal.SIGTERM, None)  # as the handler does, the read blocked
    assert waiting.signum == signal.SIGTERM
    waiting(signal.SIGINT, None)  # the second: noted, nothing raised
    assert capfd.readouterr().err == (
        "sla-ledger: SIGINT received again: still stopping; waiting only for the "
        "transaction in flight, if any, to commit (SIGKILL abandons it, and it rolls back)\n"
    )
