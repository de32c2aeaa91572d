"""`sla-ledger ingest --bootstrap-servers`: Kafka into the ledger, exactly once.

Why it cannot lose or double anything:

- Each poll batch of one partition is one database transaction holding its events, its
  rejections and the partition's position (an eventsourcing `Tracking` record named
  `kafka:<topic>:<partition>` whose value is the last offset). Either all of it commits
  or none of it does.
- On assignment the consumer seeks to the stored position + 1. Kafka's committed
  offsets are written only after the transaction, as a hint for tools; they are never
  trusted, so a crash between the two costs a redelivery, never a gap. With no stored
  position a partition is read from its beginning.
- A redelivered batch (after a crash or a rebalance) is filtered by the stored position;
  if another consumer stored it in the meantime the tracking record's uniqueness fails
  the whole transaction and the batch is dropped as already done.
- A message that cannot be accepted is a rejection in the same transaction: the
  partition moves on and the message is kept, listed and dead-lettered (outbox).

So for every consumed message: accepted + duplicates + rejected = consumed.

Why it never stalls its group: the poll loop (the only thread that touches the consumer,
which is not thread-safe) does nothing that takes long. Batch writes and reconciliation
passes run on the writer thread, outbox publishing on a publisher thread (the producer is
thread-safe). While a pass is in flight the assigned partitions are paused and the loop
keeps polling, so the group sees a live member and nothing is fetched that could not be
written yet; when the pass ends they are resumed. So however long a pass or a publishing
round takes, the gap between two polls stays far below `max_poll_interval_ms`.

What it does is measured on `metrics` (consumers.metrics): the intake counters as batches
commit, the lag per partition (the high watermarks the fetches report against the
recorded positions) and the outboxes' backlogs (after a publishing round), each
refreshed at most every
`GAUGES_REFRESH_SECONDS`, and each pass's duration. A poll that never returns ends the
process (`poll_watchdog`).

The worker also holds the exposure gauges (budget consumed and credit at risk per
provisional row) when asked to (`exposure_gauges`: the CLI asks when it serves
`--metrics-listen`, so nobody pays for figures nobody can scrape): it is the process
that checks the rows on a timer, so it has their figures without computing anything
more. After each pass it sets the rows that pass's
alert check looked at (what changed, what was due with time alone) and drops the series
of periods closed since; in its first publishing round and every
`EXPOSURE_REFRESH_SECONDS` after it sets every provisional row afresh, which catches the
rows another worker's checks looked at (they share one checked-through position) and
drops rows that no longer exist. That full refresh runs on the publisher thread, between
passes (never beside one), so it lengthens no pass: the partitions stay paused only for
what a pass must do.
"""

from __future__ import annotations

import os
import queue
import socket
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from eventsourcing.persistence import Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.structs import OffsetAndMetadata

from consumers import interrupts
from consumers.intake.batch_writer import BatchWriter
from consumers.intake.follow_up import follow_up
from consumers.intake.kafka_config import KafkaSettings
from consumers.intake.kafka_counts import IngestCounts
from consumers.intake.outbox import (
    backlog,
    publish_alerts,
    publish_credits,
    publish_dead_letters,
    release_leases,
)
from consumers.intake.parked_records import release_parked_records
from consumers.intake.poll_watchdog import PollWatchdog
from consumers.intake.producers import close_producer, new_producer
from consumers.intake.retry import with_backoff
from consumers.intake.stopping import ProducerUntilStopped, Stopping, StoreUntilStopped
from consumers.intake.validation import MAX_EVENT_BYTES, classify
from consumers.interrupts import Interrupted, StopRequest
from consumers.metrics import Metrics
from ledger.errors import LedgerError, StoreError
from ledger.events import InboundEvent, Origin
from ledger.rejections import Rejection
from projections.alerting import provisional_rows
from projections.store import AppendOutcome, LedgerStore

RECONCILE_EVERY_SECONDS = 5.0
# Rows can change with no event at all (a pending incident passes its deadline, an open
# outage grows): reconcile and check for alerts at least this often even when nothing
# was accepted, so an alert due by time alone is raised well within a minute (§8). A
# check with nothing due reads two small indexes.
RECONCILE_IDLE_SECONDS = 15.0
# How long one poll waits for records (less when the poll interval allowed is shorter).
POLL_TIMEOUT_MS = 500
JOIN_ALLOWANCE_SECONDS = 30.0
UNASSIGNED_ALLOWANCE_SECONDS = 120.0
# The lag costs the broker a request, the backlogs the store two counts: each is
# measured at most this often.
GAUGES_REFRESH_SECONDS = 5.0
# How often the exposure gauges are set from every provisional row, not only from those a
# check looked at (module docstring): a full computation of the open periods.
EXPOSURE_REFRESH_SECONDS = 300.0
# A poll that has not returned after this long is hung (poll_watchdog), not slow: a poll
# waits POLL_TIMEOUT_MS, and a group (re)join inside it seconds.
POLL_HANG_SECONDS = 60.0

T = TypeVar("T")


class BrokerUnavailableError(LedgerError):
    """The broker could not be reached within the retry budget."""


class NoPartitionsError(LedgerError):
    """A batch run (`--idle-timeout-seconds`) was never assigned a partition."""

    def __init__(self, settings: KafkaSettings, waited: float) -> None:
        group = settings.group_id
        super().__init__(
            f"no partition of {', '.join(settings.topics)} was assigned to group {group} in "
            f"{waited:,.0f}s, so nothing was consumed: check that the topics exist and that "
            f"no other member of group {group} holds their partitions (kafka-consumer-groups "
            f"--describe --group {group})"
        )


def tracking_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}:{partition}"


class _Positions(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands each rebalance to the poll loop, which seeks to the stored positions.

    kafka-python 3 calls listeners on its IO loop, which also sends the heartbeats: a
    listener that waited for the store (a write in flight, or a position read while the
    store is down) would get the member evicted. So they only queue what happened.
    """

    def __init__(self, ingest: KafkaIngest) -> None:
        self.ingest = ingest

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.ingest.rebalances.put(("revoked", list(revoked)))
        # A rejoin follows, which takes seconds (more after an eviction): an idle timeout
        # must not fire before the partitions are back (`on_partitions_assigned`).
        self.ingest.idle_since = time.monotonic() + JOIN_ALLOWANCE_SECONDS

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.ingest.rebalances.put(("assigned", list(assigned)))
        # Idle time counts from a (re)assignment: joining a group takes seconds, and a
        # stop condition that fired during the join would stop before reading anything.
        self.ingest.idle_since = time.monotonic()


class KafkaIngest:
    def __init__(
        self,
        store: LedgerStore,
        settings: KafkaSettings,
        *,
        batch_size: int = 2000,
        max_messages: int | None = None,
        idle_timeout_seconds: float | None = None,
        retry_budget_seconds: float = 120.0,
        progress: Callable[[IngestCounts, int | None], None] | None = None,
        log: Callable[[str], None] | None = None,
        stop: StopRequest | None = None,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_interval_ms: int = 60_000,
        reconcile_every_seconds: float = RECONCILE_EVERY_SECONDS,
        check_every_seconds: float = RECONCILE_IDLE_SECONDS,
        metrics: Metrics | None = None,
        poll_hang_seconds: float = POLL_HANG_SECONDS,
        exposure_gauges: bool = False,
    ) -> None:
        self.store = store
        self.settings = settings
        self.batch_size = batch_size
        self.max_messages = max_messages
        self.idle_timeout_seconds = idle_timeout_seconds
        self.retry_budget_seconds = retry_budget_seconds
        self.progress = progress
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.counts = IngestCounts()
        self.metrics = metrics if metrics is not None else Metrics()
        self.counter = self.metrics.intake("kafka")
        self._lag_refreshed: float | None = None
        self._backlog_measured: float | None = None  # on the publisher thread
        self.exposure_gauges = exposure_gauges
        self._exposure_measured: float | None = None  # on the publisher thread
        self.watchdog = PollWatchdog(poll_hang_seconds)
        self.positions: dict[TopicPartition, int | None] = {}
        # SIGTERM/SIGINT, recorded by `interrupts.deferred` (the caller's, or run()'s own).
        self.stop = stop
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        # Batch writes and reconciliation passes, one at a time, in submission order.
        self.writer = BatchWriter()
        # Outbox publishing rounds, one at a time, beside the writes (never beside a pass).
        self.publisher = BatchWriter()
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.max_poll_interval_ms = max_poll_interval_ms
        self.reconcile_every_seconds = reconcile_every_seconds
        self.check_every_seconds = check_every_seconds
        self.poll_timeout_ms = min(POLL_TIMEOUT_MS, max(max_poll_interval_ms // 4, 1))
        self._unassigned_since: float | None = None
        self._ever_assigned = False  # whether a partition was ever assigned in this run
        self.in_flight = 0  # messages handed to the writer and not yet recorded
        # When the last reconciliation pass ended (None: none yet, so one starts at once);
        # when the one in flight started (None: none in flight).
        self._last_pass_ended: float | None = None
        self._pass_started: float | None = None
        self.idle_since = time.monotonic()
        self._dirty = False
        # Measured, for operators and tests: the longest time between two polls (the
        # consumer is evicted when it exceeds max_poll_interval_ms), the longest pass
        # run beside the poll loop, how many such passes completed, and how many times
        # partitions were assigned and revoked (a rebalance; an eviction causes one).
        self.longest_poll_gap = 0.0
        self.longest_pass = 0.0
        self.passes = 0
        self.assignments = 0
        self.revocations = 0
        self._last_poll_returned: float | None = None
        # Names this worker in the outbox leases (one publisher at a time per outbox).
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Rebalances as the listener saw them, for the poll loop (thread-safe queue).
        self.rebalances: queue.SimpleQueue[tuple[str, list[TopicPartition]]]
        self.rebalances = queue.SimpleQueue()
        # Assigned partitions not read from until their stored position is known.
        self.unpositioned: set[TopicPartition] = set()

    # -- lifecycle ----------------------------------------------------------------

    def connect(self) -> None:
        config = self.settings.client_config()

        def consumer() -> KafkaConsumer:
            return KafkaConsumer(
                **config,
                group_id=self.settings.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.batch_size,
                # A poll batch is one short transaction, so a long poll allowance is not
                # needed, and short timeouts make a first group join take seconds.
                session_timeout_ms=self.session_timeout_ms,
                heartbeat_interval_ms=self.heartbeat_interval_ms,
                max_poll_interval_ms=self.max_poll_interval_ms,
                # kafka-python keeps one fetch in flight per broker; with the default
                # 500 ms wait, a fetch for caught-up partitions stalled the busy one
                # (measured: raw consume 11.7k/s at 500 ms, 26k/s at 10 ms).
                fetch_max_wait_ms=20,
                fetch_max_bytes=16 * 1024 * 1024,
                max_partition_fetch_bytes=max(MAX_EVENT_BYTES * 2, 1024 * 1024),
                key_deserializer=None,
                value_deserializer=None,
            )

        def producer() -> KafkaProducer:
            return new_producer(**config, acks="all", linger_ms=5, retries=5)

        def connecting(make: Callable[[], T]) -> Callable[[], T]:
            # Off the main thread: connecting to a broker that does not answer takes
            # kafka-python 30 s, which a stop requested meanwhile does not wait out.
            return lambda: interrupts.off_the_main_thread(
                make,
                "kafka-connect",
                self.stop,
                f"stopped while connecting to the Kafka broker at "
                f"{self.settings.bootstrap_servers}; nothing was consumed",
            )

        try:
            self.consumer = with_backoff(
                connecting(consumer),
                "Kafka broker",
                self.retry_budget_seconds,
                (KafkaTimeoutError,),
                self.log,
                self.stop,
            )
            self.producer = with_backoff(
                connecting(producer),
                "Kafka broker",
                self.retry_budget_seconds,
                (KafkaTimeoutError,),
                self.log,
                self.stop,
            )
        except KafkaTimeoutError:
            raise BrokerUnavailableError(
                f"no Kafka broker reachable at {self.settings.bootstrap_servers} "
                f"after {self.retry_budget_seconds:.0f}s; check --bootstrap-servers"
            ) from None
        self.consumer.subscribe(list(self.settings.topics), listener=_Positions(self))

    def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        assert self.consumer is not None
        for tp in partitions:
            stored = self.store.tracked_position(tracking_name(tp.topic, tp.partition))
            self.positions[tp] = stored
            self.unpositioned.discard(tp)
            if stored is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, stored + 1)

    def _apply_rebalances(self) -> None:
        """What the listener queued: forget revoked partitions; newly assigned ones wait
        for their stored position. The write in flight is finished first, so that the
        positions read next include it. (A pass in flight is not waited for: no write
        is in flight beside it, and the partitions are positioned when it has ended.)"""
        changes: list[tuple[str, list[TopicPartition]]] = []
        while not self.rebalances.empty():
            changes.append(self.rebalances.get())
        if not changes:
            return
        if self._pass_started is None:
            self.writer.drain()
        for kind, partitions in changes:
            if partitions:
                if kind == "revoked":
                    self.revocations += 1
                else:
                    self.assignments += 1
            for tp in partitions:
                if kind == "revoked":
                    self.positions.pop(tp, None)
                    self.unpositioned.discard(tp)
                else:
                    self.unpositioned.add(tp)

    def _position_the_unpositioned(self) -> None:
        """Seek the partitions that wait for their stored position, retrying while the
        store is unreachable (a StoreError after the budget)."""
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        self.unpositioned &= assigned
        if self.unpositioned:
            with_backoff(
                lambda: self.seek_to_stored(sorted(self.unpositioned)),
                "store",
                self.retry_budget_seconds,
                (StoreError,),
                self.log,
                self.stop,
            )

    def run(self) -> IngestCounts:
        """Consume until a stop condition or SIGTERM/SIGINT; then finish and record the
        batch in hand with its offsets, publish, leave the group, and join the writer
        thread before returning (the caller closes the store after that)."""
        if self.stop is not None:  # the caller's: it decides what a stop means next
            return self._run(self.stop)
        with interrupts.deferred() as stop:
            self.stop = stop
            counts = self._run(stop)
        if stop.signum is not None:
            # The signal was meant for the whole command (the demo): after a clean stop,
            # it goes on ending it, as it would have without this handler.
            raise Interrupted(
                stop.signum,
                f"{counts.consumed:,} messages consumed and recorded with their offsets",
            )
        return counts

    def _run(self, stop: StopRequest) -> IngestCounts:
        with self.watchdog:
            return self._run_watched(stop)

    def _run_watched(self, stop: StopRequest) -> IngestCounts:
        try:
            self.connect()
            assert self.consumer is not None
            # Before any assignment, allow a group join's worth of time on top.
            self.idle_since = time.monotonic() + JOIN_ALLOWANCE_SECONDS
            while stop.signum is None:
                polled = self._poll()
                self._apply_rebalances()
                self._collect_background()
                if self._pass_started is not None:
                    # Paused: nothing is read until the pass has ended.
                    self._hold(polled)
                    polled = {}
                elif self.unpositioned:
                    # Read from where Kafka had them, not from the ledger's position:
                    # drop them; the seek makes the next polls fetch them again.
                    polled = {tp: r for tp, r in polled.items() if tp not in self.unpositioned}
                    self._position_the_unpositioned()
                if polled:
                    self.idle_since = time.monotonic()
                    if self.counts.first_message_at is None:
                        self.counts.first_message_at = self.idle_since
                    for tp, records in polled.items():
                        # A batch that found its position already stored elsewhere makes
                        # its partition wait for a seek (`written`): skip it until then.
                        if tp not in self.unpositioned:
                            self._ingest_partition_batch(tp, records)
                    self._commit_hint(polled)
                self._after_batches()
                self._refresh_lag()
                if self.progress is not None:
                    self.progress(self.counts, self._lag())
                if (
                    self.max_messages is not None
                    and self.counts.consumed + self.in_flight >= self.max_messages
                ):
                    break
                if self.idle_timeout_seconds is not None and self._idle_long_enough():
                    break
            if stop.signum is not None:  # logged here, not in the handler (see interrupts)
                self.log(
                    f"received {interrupts.signal_name(stop.signum)}: recording the batch "
                    "in hand, then leaving the group"
                )
            self._finish(stop)
            return self.counts
        finally:
            # A pass in flight is not waited for in the group: leave it first.
            if self._pass_started is not None:
                self._leave_group()
            # The background threads are joined before anything else, and before the
            # caller closes the store: never close a store while another thread is in it.
            try:
                self.writer.close()
            finally:
                try:
                    self.publisher.close()
                finally:
                    with suppress(StoreError):
                        release_leases(self.store, self.holder)
                    self._leave_group()
                    if self.producer is not None:
                        # What it could not deliver stays in the outbox for the next
                        # run; at a stop it is not waited for (the broker may be
                        # stopped by the same Ctrl-C).
                        stopping = self.stop is not None and self.stop.signum is not None
                        close_producer(self.producer, 0 if stopping else 10)

    def _finish(self, stop: StopRequest) -> None:
        """Record the batch in hand, leave the group, let the background work end (at a
        stop, at its next store call), then, unless stopping, reconcile what the last
        batches changed and publish, with no consumer left to keep polling."""
        if self._pass_started is None:
            self.writer.drain()  # a batch write: short, and its partitions are still ours
        self._leave_group()
        self.writer.drain()
        self.publisher.drain()
        if stop.signum is not None:
            # Stopping: what is recorded is complete without a pass or a round; the
            # next pass (a restarted worker starts with one) and the outboxes do the rest.
            # Waiting for a broker here (one that the same Ctrl-C may have stopped)
            # would hold the stop for a minute or more.
            return
        if self._dirty:
            self._dirty = not self._reconcile()
        self._published(self._publish())

    @property
    def reconciling(self) -> bool:
        """Whether a reconciliation pass is in flight beside the poll loop."""
        return self._pass_started is not None

    def _leave_group(self) -> None:
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            consumer.close(autocommit=False)

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        assert self.consumer is not None
        if self._last_poll_returned is not None:
            gap = time.monotonic() - self._last_poll_returned
            self.longest_poll_gap = max(self.longest_poll_gap, gap)
        release_parked_records(self.consumer)  # a kafka-python fault: see parked_records
        with self.watchdog.polling():
            polled: dict[TopicPartition, list[Any]] = self.consumer.poll(
                timeout_ms=self.poll_timeout_ms, max_records=self._room()
            )
        self._last_poll_returned = time.monotonic()
        return polled

    def _hold(self, polled: dict[TopicPartition, list[Any]]) -> None:
        """While a pass is in flight: keep every assigned partition paused (a rebalance
        assigns them unpaused), and have anything fetched all the same read again from
        its stored position after the pass."""
        assert self.consumer is not None
        running = self.consumer.assignment() - self.consumer.paused()
        if running:
            self.consumer.pause(*running)
        for tp, records in polled.items():
            if records:
                self.unpositioned.add(tp)

    def _idle_long_enough(self) -> bool:
        """Idle means: partitions assigned, nothing in flight, nothing left behind them.

        Time without an assignment (a group join or a rejoin after an eviction, which
        on some brokers takes tens of seconds) or with messages still behind the high
        watermark never counts as idle, so a batch run cannot stop half-way.
        """
        assert self.consumer is not None
        now = time.monotonic()
        if self._pass_started is not None:
            # Busy, with the partitions paused: idle time counts from the pass's end.
            self.idle_since = max(self.idle_since, now)
            return False
        self.writer.drain()  # nothing came in: let the last write report (and count) first
        now = time.monotonic()
        assigned = bool(self.consumer.assignment())
        if not assigned:
            if self._unassigned_since is None:
                self._unassigned_since = now
            waited = now - self._unassigned_since
            if waited < UNASSIGNED_ALLOWANCE_SECONDS:
                self.idle_since = max(self.idle_since, now)
            elif not self._ever_assigned:
                # Never a partition: ending "idle" with nothing consumed would hide
                # messages waiting behind a stuck group or a topic that does not exist.
                raise NoPartitionsError(self.settings, waited)
            return now - self.idle_since >= (self.idle_timeout_seconds or 0)
        self._unassigned_since = None
        self._ever_assigned = True
        lag = self._lag()  # None: a watermark not fetched yet; then time alone decides
        if self.in_flight or (lag is not None and lag > 0):
            self.idle_since = max(self.idle_since, now)
            return False
        return now - self.idle_since >= (self.idle_timeout_seconds or 0)

    def _room(self) -> int:
        if self.max_messages is None:
            return self.batch_size
        left = self.max_messages - self.counts.consumed - self.in_flight
        return max(1, min(self.batch_size, left))

    # -- one partition's batch: one transaction --------------------------------------

    def _ingest_partition_batch(self, tp: TopicPartition, records: list[Any]) -> None:
        stored = self.positions.get(tp)
        fresh = [r for r in records if stored is None or r.offset > stored]
        self.counts.redelivered_skipped += len(records) - len(fresh)
        if not fresh:
            return
        events: list[tuple[InboundEvent, Origin, bytes]] = []
        rejections: list[Rejection] = []
        for record in fresh:
            key = None if record.key is None else record.key.decode("utf-8", "replace")
            origin = Origin(topic=tp.topic, partition=tp.partition, offset=record.offset, key=key)
            raw: bytes | None = record.value
            if not raw:
                rejections.append(
                    Rejection(
                        raw=b"" if raw is None else raw,
                        origin=origin,
                        field="(message)",
                        reason="(message): empty value or tombstone: an event envelope is required",
                    )
                )
                continue
            outcome = classify(raw, origin)
            if isinstance(outcome, Rejection):
                rejections.append(outcome)
            else:
                events.append((outcome, origin, raw))
        last = fresh[-1].offset
        tracking = Tracking(tracking_name(tp.topic, tp.partition), last)
        self.in_flight += len(fresh)

        def write() -> AppendOutcome:
            return with_backoff(  # type: ignore[no-any-return]
                lambda: self.store.append(events, rejections, tracking),
                "store",
                self.retry_budget_seconds,
                (StoreError,),
                self.log,
                self.stop,
            )

        def written(outcome: AppendOutcome) -> None:
            self.in_flight -= len(fresh)
            # Idle time counts from the last batch recorded, not the last poll: a write
            # that waited out a store outage must not count as idleness.
            self.idle_since = time.monotonic()
            if outcome.already_tracked:
                # Another consumer stored this partition's batch during a rebalance:
                # re-read where the partition stands and continue from there.
                self.counts.redelivered_skipped += len(fresh)
                self.unpositioned.add(tp)
                return
            self.positions[tp] = last
            self.counts.consumed += len(fresh)
            self.counts.last_message_at = time.monotonic()
            self.counts.accepted += outcome.accepted
            self.counts.duplicates += outcome.duplicates
            self.counts.rejected += len(outcome.rejected)
            self.counter.add(outcome.accepted, outcome.duplicates, len(outcome.rejected))
            self._dirty = self._dirty or outcome.accepted > 0

        # The write runs on the writer thread while the next batch is polled and
        # validated; `written` runs back on this thread (the consumer is not thread-safe).
        self.writer.submit(write, written)

    def _commit_hint(self, polled: dict[TopicPartition, list[Any]]) -> None:
        assert self.consumer is not None
        offsets = {
            tp: OffsetAndMetadata(self.positions[tp] + 1, "", -1)  # type: ignore[operator]
            for tp in polled
            if self.positions.get(tp) is not None
        }
        try:
            self.consumer.commit(offsets)
        except KafkaError as exc:  # only a hint: the ledger's own positions are the truth
            self.log(f"could not commit offsets to Kafka (harmless): {exc}")

    def _after_batches(self) -> None:
        """Start what is due beside the poll loop: a reconciliation pass (the partitions
        paused until it ends) or else a publishing round. Never both at once: a pass
        waits for the round in flight, and no round starts during a pass."""
        if self._pass_started is not None:
            return
        now = time.monotonic()
        if self._pass_due(now):
            if not self.publisher.busy:
                self._start_pass(now)
            return
        if self.stop is not None and self.stop.signum is not None:
            return
        if not self.publisher.busy:
            self.publisher.submit(self._publish, self._published)

    def _pass_due(self, now: float) -> bool:
        """At start-up; after anything was accepted, `reconcile_every_seconds` after the
        last pass ended; and `check_every_seconds` after it regardless."""
        if self._last_pass_ended is None:
            return True
        since = now - self._last_pass_ended
        return (self._dirty and since >= self.reconcile_every_seconds) or (
            since >= self.check_every_seconds
        )

    def _start_pass(self, now: float) -> None:
        """The pass runs on the writer thread, after the write in flight (submit waits
        for it), so it sees every batch accepted so far; the partitions stay paused,
        and the loop polling, until it has ended."""
        assert self.consumer is not None
        self._dirty = False
        self.writer.submit(self._reconcile, lambda done: self._passed(done, now))
        self._pass_started = now
        self.consumer.pause(*self.consumer.assignment())

    def _reconcile(self) -> bool:
        """One reconciliation pass (whichever thread runs it); False if a stop ended it."""
        store = cast(LedgerStore, StoreUntilStopped(self.store, self.stop))
        started = time.monotonic()
        try:
            done = with_backoff(
                lambda: follow_up(store, datetime.now(UTC)),
                "store",
                self.retry_budget_seconds,
                (StoreError,),
                self.log,
                self.stop,
            )
            if self.exposure_gauges:
                with suppress(StoreError):  # the gauges keep their last values
                    self.metrics.set_exposure(done.check.rows, closed=store.closes())
        except (Stopping, Interrupted):
            return False
        self.metrics.reconcile_seconds.observe(time.monotonic() - started)
        return True

    def _refresh_exposure(self, store: LedgerStore) -> None:
        """The exposure gauges of every provisional row, in the first round and every
        EXPOSURE_REFRESH_SECONDS after (module docstring); a store that does not answer
        leaves the last values, and the next round tries again."""
        now = time.monotonic()
        measured = self._exposure_measured
        if not self.exposure_gauges or (
            measured is not None and now - measured < EXPOSURE_REFRESH_SECONDS
        ):
            return
        with suppress(StoreError):
            self.metrics.set_exposure(provisional_rows(store, datetime.now(UTC)), every_row=True)
            self._exposure_measured = now

    def _passed(self, done: bool, started: float) -> None:
        ended = time.monotonic()
        self._pass_started = None
        self._last_pass_ended = ended
        self.longest_pass = max(self.longest_pass, ended - started)
        self.passes += done
        self._dirty = self._dirty or not done
        if self.consumer is not None:
            paused = self.consumer.paused()
            if paused:
                self.consumer.resume(*paused)

    def _publish(self) -> tuple[int, int, int]:
        """One publishing round of the outboxes (whichever thread runs it)."""
        assert self.producer is not None
        store = cast(LedgerStore, StoreUntilStopped(self.store, self.stop))
        producer = ProducerUntilStopped(self.producer, self.stop)
        credits = alerts = dead_letters = 0
        try:
            credits = publish_credits(store, producer, self.settings.credits_topic, self.holder)
            alerts = publish_alerts(store, producer, self.settings.alerts_topic, self.holder)
            dead_letters = publish_dead_letters(
                store, producer, self.settings.dead_letter_topic, self.holder
            )
        except (KafkaError, StoreError) as exc:  # the outbox keeps them: the next round resends
            self.log(f"publishing deferred: {exc}")
        except Stopping:
            pass
        self._measure_backlog(store)
        with suppress(Stopping):
            self._refresh_exposure(store)
        return credits, alerts, dead_letters

    def _measure_backlog(self, store: LedgerStore) -> None:
        """The outboxes' backlog gauges, after a round, at most every GAUGES_REFRESH_SECONDS
        (a store that does not answer leaves the last values)."""
        now = time.monotonic()
        measured = self._backlog_measured
        if measured is not None and now - measured < GAUGES_REFRESH_SECONDS:
            return
        self._backlog_measured = now
        with suppress(StoreError, Stopping):
            self.metrics.set_outbox_backlog(backlog(store))

    def _published(self, sent: tuple[int, int, int]) -> None:
        self.counts.credits_published += sent[0]
        self.counts.alerts_published += sent[1]
        self.counts.dead_letters_published += sent[2]

    def _collect_background(self) -> None:
        """Hand over what a finished pass or publishing round did, without waiting."""
        if self.writer.busy and self._pass_started is not None and self.writer.finished():
            self.writer.drain()
        if self.publisher.busy and self.publisher.finished():
            self.publisher.drain()

    def _refresh_lag(self) -> None:
        """The lag gauge per assigned partition: the high watermarks the fetches reported
        against the recorded positions, at most every GAUGES_REFRESH_SECONDS. No request
        of its own: an `end_offsets` call from inside the poll loop left the worker
        polling forever with nothing assigned after a rebalance during a held pass."""
        assert self.consumer is not None
        now = time.monotonic()
        if self._lag_refreshed is not None and now - self._lag_refreshed < GAUGES_REFRESH_SECONDS:
            return
        self._lag_refreshed = now
        lag: dict[tuple[str, int], int] = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is not None:
                lag[(tp.topic, tp.partition)] = self._behind(tp, high)
        self.metrics.set_lag(lag)

    def _behind(self, tp: TopicPartition, high: int) -> int:
        position = self.positions.get(tp)
        return max(0, high - (0 if position is None else position + 1))

    def _lag(self) -> int | None:
        """Messages behind the high watermarks the fetches reported (not end_offsets)."""
        assert self.consumer is not None
        lag = 0
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                return None
            lag += self._behind(tp, high)
        return lag
