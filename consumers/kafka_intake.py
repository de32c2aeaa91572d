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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.structs import OffsetAndMetadata

from consumers import interrupts
from consumers.intake import BatchWriter, classify
from consumers.interrupts import Interrupted, StopRequest
from consumers.kafka_config import KafkaSettings
from consumers.outbox import publish_credits, publish_dead_letters, release_leases
from consumers.validation import MAX_EVENT_BYTES
from ledger.errors import LedgerError, StoreError, StoreRefusedError
from ledger.events import InboundEvent, Origin
from projections.credit_entries import reconcile_closed_periods
from projections.store import AppendOutcome, LedgerStore, Rejection

RECONCILE_EVERY_SECONDS = 5.0
# Closed rows can change with no event at all (a pending incident passes its target):
# reconcile at least this often even when nothing was accepted.
RECONCILE_IDLE_SECONDS = 60.0
JOIN_ALLOWANCE_SECONDS = 30.0
UNASSIGNED_ALLOWANCE_SECONDS = 120.0


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


@dataclass
class IngestCounts:
    consumed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    redelivered_skipped: int = 0
    credits_published: int = 0
    dead_letters_published: int = 0
    started: float = field(default_factory=time.monotonic)
    first_message_at: float | None = None  # the rate excludes the group join before it
    last_message_at: float | None = None

    def rate(self) -> float:
        if self.first_message_at is None or self.last_message_at is None:
            return 0.0
        return self.consumed / max(self.last_message_at - self.first_message_at, 1e-3)

    def line(self) -> str:
        return (
            f"consumed {self.consumed}: accepted {self.accepted}, duplicates "
            f"{self.duplicates}, rejected {self.rejected} ({self.rate():,.0f}/s)"
        )

    def as_dict(self) -> dict[str, int | float]:
        return {
            "consumed": self.consumed,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "redelivered_skipped": self.redelivered_skipped,
            "credits_published": self.credits_published,
            "dead_letters_published": self.dead_letters_published,
            "events_per_second": round(self.rate(), 1),
            "seconds": round(time.monotonic() - self.started, 3),
        }


def with_backoff(
    action: Callable[[], Any],
    what: str,
    budget_seconds: float,
    retry_on: tuple[type[BaseException], ...],
    say: Callable[[str], None],
    stop: StopRequest | None = None,
) -> Any:
    """Run `action`, retrying with exponential backoff while `retry_on` is raised.

    A store that answered but refuses (`StoreRefusedError`: no store, a foreign or
    read-only file, a role that may not write) is not retried: only time could help,
    and time does not make it a store.

    A stop requested meanwhile (SIGTERM/SIGINT) ends the waiting at once with
    `Interrupted`: what could not be written is not recorded, and is read again on restart.
    """
    deadline = time.monotonic() + budget_seconds
    delay = 0.25
    while True:
        try:
            return action()
        except retry_on as exc:
            if isinstance(exc, StoreRefusedError) or time.monotonic() + delay > deadline:
                raise
            # The whole first line: cut at a fixed width, the reason lost its advice.
            reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            say(f"{what} unavailable ({reason}); retrying in {delay:.1f}s")
            waited_until = time.monotonic() + delay
            while time.monotonic() < waited_until:
                if stop is not None and stop.signum is not None:
                    raise Interrupted(
                        stop.signum,
                        f"stopped while the {what} was unavailable ({reason}); nothing after "
                        "the last recorded position was recorded: a restart reads it again",
                    ) from None
                time.sleep(min(0.1, max(waited_until - time.monotonic(), 0.0)))
            delay = min(delay * 2, 10.0)


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
        self.positions: dict[TopicPartition, int | None] = {}
        # SIGTERM/SIGINT, recorded by `interrupts.deferred` (the caller's, or run()'s own).
        self.stop = stop
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        self.writer = BatchWriter()
        self._unassigned_since: float | None = None
        self._ever_assigned = False  # whether a partition was ever assigned in this run
        self.in_flight = 0  # messages handed to the writer and not yet recorded
        self._last_reconcile = 0.0
        self.idle_since = time.monotonic()
        self._dirty = False
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
                session_timeout_ms=10_000,
                heartbeat_interval_ms=3_000,
                max_poll_interval_ms=60_000,
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
            return KafkaProducer(**config, acks="all", linger_ms=5, retries=5)

        try:
            self.consumer = with_backoff(
                consumer,
                "Kafka broker",
                self.retry_budget_seconds,
                (KafkaTimeoutError,),
                self.log,
                self.stop,
            )
            self.producer = with_backoff(
                producer,
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
        positions read next include it."""
        changes: list[tuple[str, list[TopicPartition]]] = []
        while not self.rebalances.empty():
            changes.append(self.rebalances.get())
        if not changes:
            return
        self.writer.drain()
        for kind, partitions in changes:
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
        try:
            self.connect()
            assert self.consumer is not None
            # Before any assignment, allow a group join's worth of time on top.
            self.idle_since = time.monotonic() + JOIN_ALLOWANCE_SECONDS
            while stop.signum is None:
                polled = self.consumer.poll(timeout_ms=500, max_records=self._room())
                self._apply_rebalances()
                if self.unpositioned:
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
            self.writer.drain()
            self._after_batches(force=True)
            return self.counts
        finally:
            # The writer thread is joined before anything else, and before the caller
            # closes the store: never close a store while another thread is inside it.
            self.writer.close()
            with suppress(StoreError):
                release_leases(self.store, self.holder)
            if self.consumer is not None:
                self.consumer.close(autocommit=False)  # leaves the group
            if self.producer is not None:
                self.producer.close(timeout=10)

    def _idle_long_enough(self) -> bool:
        """Idle means: partitions assigned, nothing in flight, nothing left behind them.

        Time without an assignment (a group join or a rejoin after an eviction, which
        on some brokers takes tens of seconds) or with messages still behind the high
        watermark never counts as idle, so a batch run cannot stop half-way.
        """
        assert self.consumer is not None
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

    def _after_batches(self, *, force: bool = False) -> None:
        """Reconcile closed periods now and then, and publish the outboxes."""
        now = time.monotonic()
        since = now - self._last_reconcile
        if (self._dirty and (force or since >= RECONCILE_EVERY_SECONDS)) or (
            since >= RECONCILE_IDLE_SECONDS
        ):
            with_backoff(
                lambda: reconcile_closed_periods(self.store, datetime.now(UTC)),
                "store",
                self.retry_budget_seconds,
                (StoreError,),
                self.log,
                self.stop,
            )
            self._last_reconcile = now
            self._dirty = False
        if self.stop is not None and self.stop.signum is not None:
            # Stopping: what is recorded is complete without publishing, and the outboxes
            # keep the rest for the next run. Waiting for a broker here (one that the same
            # Ctrl-C may have stopped) would hold the stop for a minute or more.
            return
        assert self.producer is not None
        try:
            self.counts.credits_published += publish_credits(
                self.store, self.producer, self.settings.credits_topic, self.holder
            )
            self.counts.dead_letters_published += publish_dead_letters(
                self.store, self.producer, self.settings.dead_letter_topic, self.holder
            )
        except (KafkaError, StoreError) as exc:  # the outbox keeps them: the next round resends
            self.log(f"publishing deferred: {exc}")

    def _lag(self) -> int | None:
        """Messages behind the high watermarks the fetches reported (not end_offsets)."""
        assert self.consumer is not None
        lag = 0
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            position = self.positions.get(tp)
            if high is None:
                return None
            lag += max(0, high - (0 if position is None else position + 1))
        return lag
