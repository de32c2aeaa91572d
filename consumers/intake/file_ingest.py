"""File intake (`sla-ledger ingest --from-file`): raw inputs in, accepted events or kept
rejections out.

A file's lines (`input_lines.file_lines`) go to `Intake.submit` with their origin, which
validates (`validation.classify`), batches and appends (one transaction per batch). The
Kafka worker (`kafka_ingest`) classifies its messages with the same `classify` and writes
its batches, each with its offsets, through the same `BatchWriter`. Nothing is dropped:
every input ends as accepted, duplicate or rejected-and-kept, and the counts always add up.
"""

from __future__ import annotations

import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from consumers.intake.batch_writer import BatchWriter
from consumers.intake.follow_up import follow_up
from consumers.intake.input_lines import (
    STDIN,
    STDIN_ORIGIN,
    Progress,
    file_lines,
    input_name,
    input_size,
)
from consumers.intake.validation import classify, oversize_reason
from consumers.interrupts import Interrupted, StopReading, StopRequest
from consumers.metrics import Metrics
from ledger.errors import StoreError
from ledger.events import InboundEvent, Origin
from ledger.inbound import DOCUMENT, RejectedInputError
from ledger.rejections import Rejection
from ledger.strict_json import is_blank
from ledger.wording import counted
from projections.alerting import FILE_INTAKE_LEASE
from projections.store import AppendOutcome, LedgerStore

DEFAULT_BATCH_SIZE = 2_000


@dataclass
class IntakeSummary:
    inputs: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    blank_lines: int = 0
    entries_appended: int = 0
    alerts_raised: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """`accepted 3, duplicates 0, rejected 1 (of 4 inputs); 2 blank lines skipped; ...`:
        the counts up to the inputs stay in this form, which scripts read."""
        text = (
            f"accepted {self.accepted}, duplicates {self.duplicates}, "
            f"rejected {self.rejected} (of {counted(self.inputs, 'input')})"
        )
        if self.blank_lines:
            text += f"; {counted(self.blank_lines, 'blank line')} skipped"
        if self.rejected:
            text += "; see `sla-ledger rejections`"
        if self.entries_appended:
            text += (
                f"; {counted(self.entries_appended, 'credit entry', 'credit entries')} "
                "appended to closed periods"
            )
        if self.alerts_raised:
            text += f"; {counted(self.alerts_raised, 'alert')} raised (see `sla-ledger alerts`)"
        return text

    def as_dict(self) -> dict[str, int | float]:
        return {
            "inputs": self.inputs,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "blank_lines": self.blank_lines,
            "entries_appended": self.entries_appended,
            "alerts_raised": self.alerts_raised,
            "seconds": round(self.seconds, 3),
        }


# How long a file intake's lease lasts past its latest batch: far longer than a batch
# takes, short enough that an intake killed mid-file holds alerts back only briefly.
INTAKE_LEASE_SECONDS = 300.0


class Intake:
    """Validates raw inputs and appends them to the store in batches.

    Use it as a context manager: leaving the block, however, waits for the batch in
    flight and joins the writer thread, so the store can be closed after it.
    """

    def __init__(
        self,
        store: LedgerStore,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        metrics: Metrics | None = None,
        source: str = "file",
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.metrics = metrics
        self.counter = None if metrics is None else metrics.intake(source)
        self.summary = IntakeSummary()
        self.committed_through_line = 0  # every input up to this line is committed
        self._events: list[tuple[InboundEvent, Origin, bytes]] = []
        self._rejections: list[Rejection] = []
        self._writer = BatchWriter()
        # Held from before the first batch commits until the last has (renewed with each):
        # no other process raises alerts between this intake's events (sla-math §8).
        self._lease = FILE_INTAKE_LEASE + uuid.uuid4().hex
        self._leased = False

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, raw: bytes, origin: Origin) -> None:
        self.take(classify(raw, origin), origin, raw)

    def take(self, outcome: InboundEvent | Rejection, origin: Origin, raw: bytes) -> None:
        """One input already classified (by `classify`, or refused before it, as a line
        too large to hold is), in input order."""
        self.summary.inputs += 1
        if isinstance(outcome, Rejection):
            self._rejections.append(outcome)
        else:
            self._events.append((outcome, origin, raw))
        if len(self._events) + len(self._rejections) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._events and not self._rejections:
            return
        events, rejections = self._events, self._rejections
        self._events, self._rejections = [], []
        # Inputs are submitted in line order, so a batch covers a contiguous run of lines
        # and the batches commit in order: what is committed is always lines 1 to N.
        last_line = max(
            [origin.line or 0 for _, origin, _ in events[-1:]]
            + [r.origin.line or 0 for r in rejections[-1:]]
        )

        def committed(outcome: AppendOutcome) -> None:
            self._count(outcome)
            self.committed_through_line = last_line

        def write() -> AppendOutcome:
            self._leased = self.store.hold_lease(self._lease, self._lease, INTAKE_LEASE_SECONDS)
            return self.store.append(events, rejections)

        self._writer.submit(write, committed)

    def _count(self, outcome: AppendOutcome) -> None:
        self.summary.accepted += outcome.accepted
        self.summary.duplicates += outcome.duplicates
        self.summary.rejected += len(outcome.rejected)
        if self.counter is not None:
            self.counter.add(outcome.accepted, outcome.duplicates, len(outcome.rejected))

    def committed_inputs(self) -> int:
        return self.summary.accepted + self.summary.duplicates + self.summary.rejected

    def close(self) -> None:
        """Wait for the batch in flight (it commits or not: one transaction) and count
        it, then join the writer thread. Inputs not yet handed to the writer (none after
        `flush`) are dropped whole, never half-written."""
        self._events, self._rejections = [], []
        self._writer.close()
        if self._leased:
            self._leased = False
            # A store failing now must not hide what was committed (the caller says it):
            # an unreleased lease only holds other processes' alerts back until it expires.
            with suppress(StoreError):
                self.store.release_lease(self._lease, self._lease)

    def reconcile(self) -> IntakeSummary:
        """Bring closed periods' entries in line with what was committed, and raise the
        alerts provisional rows now meet."""
        started = time.monotonic()
        done = follow_up(self.store, datetime.now(UTC))
        self.summary.entries_appended += len(done.entries)
        self.summary.alerts_raised += len(done.check.alerts)
        if self.metrics is not None:
            self.metrics.reconcile_seconds.observe(time.monotonic() - started)
        return self.summary

    def finish(self) -> IntakeSummary:
        """Flush, wait for the writes, then reconcile closed periods with them."""
        self.flush()
        self.close()
        return self.reconcile()


def ingest_file(
    store: LedgerStore,
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    stop: StopRequest | None = None,
    metrics: Metrics | None = None,
) -> IntakeSummary:
    """Ingest a JSON Lines file. When `stop` is requested (SIGINT or SIGTERM), reading
    ends, the batch in flight commits, and `Interrupted` says exactly which lines are
    recorded; the closed periods are then left for the next intake to reconcile. With
    `metrics`, each committed batch is counted there (source `file`), and the pass timed."""
    started = time.monotonic()
    total_bytes = input_size(path)
    done_bytes = 0
    name = input_name(path)
    shown = STDIN_ORIGIN if path == STDIN else str(path)
    with Intake(store, batch_size, metrics=metrics) as intake:
        try:
            for line in file_lines(path, stop):
                if stop is not None and stop.signum is not None:
                    raise StopReading
                done_bytes += line.size + 1
                if not line.oversize and is_blank(line.raw):
                    intake.summary.blank_lines += 1
                    continue
                origin = Origin(file=name, line=line.number)
                if line.sha256 is None:
                    intake.submit(line.raw, origin)
                else:
                    reason = str(
                        RejectedInputError(DOCUMENT, oversize_reason(line.size, line.sha256))
                    )
                    intake.take(Rejection(line.raw, origin, DOCUMENT, reason), origin, line.raw)
                if progress is not None and line.number % 1000 == 0:
                    progress(done_bytes, total_bytes, intake.summary.inputs)
            intake.flush()
            intake.close()
        except StoreError as exc:
            # A failed batch is not committed (one transaction); what was, is said, as
            # for an interrupt, so the operator knows where a re-run stands.
            intake.close()
            failed = type(exc)(f"{exc}; {interrupted_file_ingest(intake, shown, False)}")
            raise failed from None
        except StopReading:
            intake.close()
            signum = stop.signum if stop is not None else None
            assert signum is not None  # only a signal raises StopReading
            raise Interrupted(signum, interrupted_file_ingest(intake, shown, False)) from None
        if stop is not None and stop.signum is not None:
            raise Interrupted(stop.signum, interrupted_file_ingest(intake, shown, True))
        # A signal from here on waits for the reconciliation: it is single-threaded,
        # one transaction per period, and the file is already recorded.
        summary = intake.reconcile()
    if progress is not None:
        progress(done_bytes, done_bytes, summary.inputs)
    summary.seconds = time.monotonic() - started
    return summary


def interrupted_file_ingest(intake: Intake, path: str, read_to_end: bool) -> str:
    """What an interrupted file ingest recorded, so the operator knows where a re-run
    stands. The counts are those of the committed batches: what the store holds."""
    s = intake.summary
    counts = f"(accepted {s.accepted:,}, duplicates {s.duplicates:,}, rejected {s.rejected:,})"
    again = "run the same command again to continue (already accepted events count as duplicates)"
    through = intake.committed_through_line
    inputs = counted(intake.committed_inputs(), "input", grouped=True)
    if intake.committed_inputs() == 0:
        return f"no input of {path} was committed; nothing was recorded; {again}"
    if read_to_end and intake.committed_inputs() == s.inputs:
        return (
            f"all {inputs} of {path} committed {counts}, but closed periods "
            f"were not reconciled with them; {again}"
        )
    return (
        f"{inputs} committed {counts} of lines 1-{through} of "
        f"{path}; nothing after line {through} was recorded; {again}"
    )
