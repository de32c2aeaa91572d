"""A Kafka worker over a long history never stalls its group.

A reconciliation pass visits every closed period; over years of history it takes longer
than the consumer's `max_poll_interval_ms`. Run on the polling thread, it kept the worker
from polling, kafka-python left the group (an eviction) and the group rebalanced. These
tests run the worker in this process, against the real broker, over a SQLite store of
400 contracts with thirty closed months, with a poll interval of 1.5 s. An outage of the
service for every customer, spanning all the months, makes every row of every closed
period owe new entries, so the pass that follows lasts several intervals. They judge:

- the group: no partition revoked (kafka-python revokes them all when it leaves the group
  on an expired poll interval), one assignment, no "poll timeout has expired" warning;
- the loop: its longest gap between two polls, which the worker measures, stays well
  under the interval while the pass lasts several;
- the ledger: every input recorded once with its offset, every entry the pass owes
  appended (a second pass appends nothing), every entry published;
- a rebalance while the pass is in flight (another member joins and leaves), and a stop
  while it is in flight (it ends at once; a restart completes everything).

How long the pass lasts is not left to the machine's speed alone: the store the worker
is given answers the pass's first question (which periods are closed) only after a hold,
as a slow store would, and the real work follows. The first test holds, once the worker
has its partitions, for twice the poll interval; the rebalance test holds until the
other member has joined, been given partitions and left, so the rejoin happens during
the real work.

The history is built once per module (file ingest and `close_period`, a few seconds) and
copied for each test.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from consumers.intake.file_ingest import Intake, ingest_file
from consumers.intake.kafka_config import KafkaSettings
from consumers.intake.kafka_counts import IngestCounts
from consumers.intake.kafka_ingest import KafkaIngest
from consumers.intake.outbox import CREDITS_POSITION
from consumers.interrupts import StopRequest
from ledger.events import Origin
from ledger.periods import Period
from projections.credit_entries import close_period, reconcile_closed_periods
from projections.store import LedgerStore
from tests.builders import contract, outage
from tests.infrastructure import wait_until
from tests.integration.test_kafka_intake import (
    Message,
    Topics,
    new_group,
    new_topics,
    produce,
    tracking_name,
)

pytestmark = pytest.mark.integration

INTERVAL_MS = 1_500  # max_poll_interval_ms and session_timeout_ms of the worker under test
CONTRACTS = 400
MONTHS = 30
HISTORY_OUTAGES = 2_400
NEW_OUTAGES = 150  # inbound: 300 events
DUPLICATES = 20
POISON = 5
STAMP = "%Y-%m-%dT%H:%M:%SZ"
# A worker that stopped consuming short of its count would run for ever (it has no idle
# timeout): past this, the test stops it as SIGTERM would and fails, saying where it stood.
RUN_BOUND_SECONDS = 240.0


def _months() -> list[str]:
    """The MONTHS months before the current one, oldest first: all ended, all closable."""
    now = datetime.now(UTC)
    year, month = now.year, now.month
    labels = []
    for _ in range(MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        labels.append(f"{year:04d}-{month:02d}")
    return labels[::-1]


def _start_of(label: str) -> datetime:
    return datetime.strptime(label, "%Y-%m").replace(tzinfo=UTC)


@dataclass(frozen=True)
class History:
    path: Path  # a SQLite store, closed: copy it, never open it
    labels: list[str]
    entries: dict[str, int]  # entries per period before the worker runs
    events: int


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    folder = tmp_path_factory.mktemp("history")
    labels = _months()
    first, last = _start_of(labels[0]), _start_of(labels[-1]) + timedelta(days=28)
    rnd = random.Random(30)
    documents = [
        contract(
            contract_id=f"C-{n}",
            customer_id=f"K-{n}",
            effective_from=f"{labels[0]}-01",
            occurred_at=(first - timedelta(days=30)).strftime(STAMP),
        )
        for n in range(CONTRACTS)
    ]
    for n in range(HISTORY_OUTAGES):
        start = first + timedelta(seconds=rnd.randrange(int((last - first).total_seconds())))
        end = start + timedelta(seconds=rnd.randrange(60, 6 * 3600))
        documents += outage(
            f"O-{n}",
            start.strftime(STAMP),
            end.strftime(STAMP),
            customers=[f"K-{rnd.randrange(CONTRACTS)}"],
        )
    feed = folder / "history.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in documents))
    path = folder / "ledger.db"
    with LedgerStore(f"sqlite:///{path}", access="create") as store:
        ingest_file(store, feed)
        now = datetime.now(UTC)
        for label in labels:
            close_period(store, Period.from_label(label), now)
        entries = {label: len(store.entries(period=label)) for label in labels}
        events = store.event_count()
    return History(path, labels, entries, events)


@pytest.fixture
def store_url(history: History, tmp_path: Path) -> str:
    for file in history.path.parent.glob("ledger.db*"):
        shutil.copy(file, tmp_path / file.name)
    return f"sqlite:///{tmp_path / 'ledger.db'}"


class HeldPasses(LedgerStore):
    """A store whose first reconciliation pass begins with `hold()`: the pass, on the
    worker's writer thread, is the only caller of `closes` off the main thread."""

    def __init__(self, url: str, hold: Callable[[], object]) -> None:
        super().__init__(url, access="create")
        self._hold: Callable[[], object] | None = hold

    def closes(self, recorded_by_us: int | None = None) -> dict[str, datetime]:
        hold, self._hold = self._hold, None
        if hold is not None and threading.current_thread() is not threading.main_thread():
            hold()
        elif hold is not None:
            self._hold = hold
        return super().closes(recorded_by_us)


def spanning_outage(history: History) -> list[dict[str, Any]]:
    """1% of the service down for every customer from the first closed month to the
    last: every row of every closed period owes new entries."""
    first = _start_of(history.labels[0]) + timedelta(hours=1)
    last = _start_of(history.labels[-1]) + timedelta(days=27)
    return outage("O-spanning", first.strftime(STAMP), last.strftime(STAMP), "1")


def owe_every_period(url: str, history: History) -> int:
    """Record the spanning outage without the reconciliation an ingest runs after it:
    the worker's first pass has every entry to append. Returns the events recorded."""
    with LedgerStore(url, access="create") as store, Intake(store) as intake:
        for line, document in enumerate(spanning_outage(history), 1):
            intake.submit(json.dumps(document).encode(), Origin(file="spanning", line=line))
        intake.flush()
    return 2


@dataclass
class Inbound:
    topics: Topics
    messages: list[Message]
    ends: dict[str, int]  # tracking name -> last offset
    valid: int  # distinct valid events
    duplicates: int
    poison: int


def publish_inbound(
    bootstrap: str, label: str, history: History, *, spanning: bool = False
) -> Inbound:
    """New outages inside the closed months (they change closed rows too), some sent
    twice, and poison; first the spanning outage if asked."""
    topics = new_topics(bootstrap, label)
    rnd = random.Random(label)
    first = _start_of(history.labels[0])
    span = int((_start_of(history.labels[-1]) - first).total_seconds())
    messages = [
        Message(topics.outages, b"O-spanning", json.dumps(document).encode())
        for document in (spanning_outage(history) if spanning else [])
    ]
    for n in range(NEW_OUTAGES):
        start = first + timedelta(seconds=rnd.randrange(span))
        end = start + timedelta(seconds=rnd.randrange(60, 3600))
        oid = f"N-{n}"
        for document in outage(
            oid, start.strftime(STAMP), end.strftime(STAMP), customers=[f"K-{n % CONTRACTS}"]
        ):
            messages.append(Message(topics.outages, oid.encode(), json.dumps(document).encode()))
    valid = len(messages)
    messages += rnd.sample(messages, DUPLICATES)
    messages += [Message(topics.outages, b"poison", b"{not json %d" % n) for n in range(POISON)]
    ends: dict[str, int] = {}
    for topic, partition, offset in produce(bootstrap, messages):
        name = tracking_name(topic, partition)
        ends[name] = max(ends.get(name, -1), offset)
    return Inbound(topics, messages, ends, valid, DUPLICATES, POISON)


def worker(
    store: LedgerStore,
    bootstrap: str,
    inbound: Inbound,
    group: str,
    lines: list[str],
    **options: Any,
) -> KafkaIngest:
    settings = KafkaSettings(
        bootstrap,
        topics=inbound.topics.inbound,
        group_id=group,
        dead_letter_topic=inbound.topics.rejected,
        credits_topic=inbound.topics.credits,
        alerts_topic=inbound.topics.alerts,
    )
    options.setdefault("max_messages", len(inbound.messages))
    options.setdefault("stop", StopRequest())
    return KafkaIngest(
        store,
        settings,
        session_timeout_ms=INTERVAL_MS,
        heartbeat_interval_ms=INTERVAL_MS // 5,
        max_poll_interval_ms=INTERVAL_MS,
        log=lines.append,
        **options,
    )


@contextmanager
def bounded(ingest: KafkaIngest, lines: list[str]) -> Iterator[None]:
    """Run the block (the worker's `run`) for at most RUN_BOUND_SECONDS; past that, stop
    the worker and fail with its state when the bound was reached."""
    stop = ingest.stop
    assert stop is not None, "the worker needs a stop request the test can make"
    state: list[str] = []

    def overran() -> None:
        state.append(
            f"consumed {ingest.counts.consumed} of {ingest.max_messages}, in flight "
            f"{ingest.in_flight}, passes {ingest.passes}, reconciling {ingest.reconciling}, "
            f"assignments {ingest.assignments}, revocations {ingest.revocations}, "
            f"positions {sorted((str(tp), p) for tp, p in ingest.positions.items())}, "
            f"waiting for a seek {sorted(map(str, ingest.unpositioned))}; "
            f"partitions {_partition_states(ingest)}"
        )
        stop(signal.SIGTERM, None)

    timer = threading.Timer(RUN_BOUND_SECONDS, overran)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    if state:
        pytest.fail(
            f"the worker was still running after {RUN_BOUND_SECONDS:.0f}s: {state[0]}\n"
            + "\n".join(lines)
        )


def _partition_states(ingest: KafkaIngest) -> str:
    """The consumer's view of each assigned partition (kafka-python's internals, read
    from another thread: for a failure message only)."""
    try:
        assigned = ingest.consumer._subscription.assignment  # type: ignore[union-attr]
        return "; ".join(
            f"{tp.topic.rsplit('.', 1)[-1]}-{tp.partition}: position {state.position}, "
            f"paused {state.paused}, awaiting reset {state.awaiting_reset}, "
            f"awaiting validation {state._awaiting_validation}, "
            f"pending revocation {state._pending_revocation}, fetchable {state.is_fetchable()}"
            for tp, state in sorted(assigned.items())
        ) + _fetcher_state(ingest)
    except Exception as exc:  # a diagnostic must not hide the failure
        return f"(not readable: {exc!r})"


def _fetcher_state(ingest: KafkaIngest) -> str:
    fetcher = ingest.consumer._fetcher  # type: ignore[union-attr]

    def names(tps: object) -> list[str]:
        return sorted(f"{tp.topic.rsplit('.', 1)[-1]}-{tp.partition}" for tp in tps)  # type: ignore[attr-defined]

    current = fetcher._next_partition_records
    completed = [f.topic_partition for f in list(fetcher._completed_fetches)]
    return (
        f"; fetcher: completed {names(completed)}, "
        f"next {None if current is None else names([current.topic_partition])}, "
        f"paused completed {names(fetcher._paused_completed_fetches)}, "
        f"paused records {names(fetcher._paused_partition_records)}, "
        f"nodes with a pending fetch {sorted(fetcher._nodes_with_pending_fetch_requests)}, "
        f"in flight {fetcher.in_flight_fetches()}"
    )


def evictions(records: list[logging.LogRecord]) -> list[str]:
    return [
        r.getMessage()
        for r in records
        if r.name.startswith("kafka") and "poll timeout has expired" in r.getMessage()
    ]


def assert_everything_recorded(
    url: str, history: History, inbound: Inbound, counts: list[IngestCounts], recorded: int = 0
) -> None:
    """Every input once with its offset, every entry owed appended and published."""
    consumed = sum(c.consumed for c in counts)
    assert consumed == len(inbound.messages), counts
    assert sum(c.accepted for c in counts) == inbound.valid, counts
    assert sum(c.duplicates for c in counts) == inbound.duplicates, counts
    assert sum(c.rejected for c in counts) == inbound.poison, counts
    with LedgerStore(url, access="create") as store:
        assert store.event_count() == history.events + recorded + inbound.valid
        assert len(store.rejections()) == inbound.poison
        for name, last in inbound.ends.items():
            assert store.tracked_position(name) == last, name
        assert reconcile_closed_periods(store, datetime.now(UTC)) == [], (
            "the worker left entries owed to closed periods unappended"
        )
        for label in history.labels:
            # The spanning outage changed every row: each period got new entries.
            assert len(store.entries(period=label)) > history.entries[label], label
        entries = store.entries_after(-1, 10**9)
        assert store.tracked_position(CREDITS_POSITION) == entries[-1][0], "not all published"


def assert_group_undisturbed(ingest: KafkaIngest, records: list[logging.LogRecord]) -> None:
    interval = INTERVAL_MS / 1000
    assert ingest.longest_pass > 2 * interval, (
        f"the test proves nothing: the pass took {ingest.longest_pass:.1f}s, not more than "
        f"twice the poll interval ({interval}s); make the history longer"
    )
    assert not evictions(records), evictions(records)
    assert ingest.revocations == 0, f"{ingest.revocations} revocations: the group rebalanced"
    assert ingest.assignments == 1, ingest.assignments
    assert ingest.longest_poll_gap < interval / 2, (
        f"{ingest.longest_poll_gap:.2f}s between two polls (interval {interval}s)"
    )


def test_a_pass_longer_than_the_poll_interval_neither_evicts_the_worker_nor_loses_anything(
    kafka_bootstrap: str, store_url: str, history: History, caplog: pytest.LogCaptureFixture
) -> None:
    """The spanning outage comes through Kafka: the pass it causes runs while the worker
    holds its partitions, as the passes of a worker in production do."""
    caplog.set_level(logging.WARNING, logger="kafka")
    inbound = publish_inbound(kafka_bootstrap, "long-pass", history, spanning=True)
    lines: list[str] = []
    workers: list[KafkaIngest] = []

    def hold() -> None:
        """Once the worker is in its group (it polls during the pass), twice the interval."""
        wait_until(
            lambda: bool(workers) and workers[0].assignments >= 1,
            what="the worker to be assigned its partitions during its pass",
            timeout_seconds=60,
        )
        time.sleep(2 * INTERVAL_MS / 1000)

    with HeldPasses(store_url, hold) as store:
        ingest = worker(
            store,
            kafka_bootstrap,
            inbound,
            new_group(),
            lines,
            max_messages=None,
            # Long enough for the pass after the spanning outage to start after the
            # first publishing round, which sends the alerts the history raised while
            # its months were open (thousands: a few seconds on a busy machine).
            idle_timeout_seconds=6.0,
            reconcile_every_seconds=0.5,
        )
        workers.append(ingest)
        with bounded(ingest, lines):
            counts = ingest.run()
    diagnostics = "\n".join(lines)
    assert ingest.passes >= 2, diagnostics  # at start-up, and after the spanning outage
    assert_group_undisturbed(ingest, caplog.records)
    assert_everything_recorded(store_url, history, inbound, [counts])
    assert counts.dead_letters_published == inbound.poison, counts
    print(
        f"pass {ingest.longest_pass:.1f}s, longest poll gap {ingest.longest_poll_gap:.3f}s, "
        f"poll interval {INTERVAL_MS / 1000}s"
    )


def test_a_rebalance_while_a_pass_is_in_flight_keeps_positions_and_counts_exact(
    kafka_bootstrap: str, store_url: str, history: History, caplog: pytest.LogCaptureFixture
) -> None:
    """Another member joins the group while the pass runs, takes partitions, and
    leaves again: the worker gives them up and takes them back, and reads each from its
    stored position, so every input is still recorded once."""
    caplog.set_level(logging.WARNING, logger="kafka")
    recorded = owe_every_period(store_url, history)
    inbound = publish_inbound(kafka_bootstrap, "rebalance", history)
    group = new_group()
    lines: list[str] = []
    seen: dict[str, Any] = {}
    intruded = threading.Event()

    def intrude(ingest: KafkaIngest) -> None:
        try:
            wait_until(
                lambda: ingest.reconciling and ingest.assignments >= 1,
                what="the worker to be assigned its partitions during its pass",
                timeout_seconds=60,
            )
            other = KafkaConsumer(
                bootstrap_servers=kafka_bootstrap.split(","),
                group_id=group,
                enable_auto_commit=False,
                session_timeout_ms=INTERVAL_MS,
                heartbeat_interval_ms=INTERVAL_MS // 5,
                max_poll_interval_ms=INTERVAL_MS,
            )
            try:
                other.subscribe(list(inbound.topics.inbound))
                deadline = time.monotonic() + 60
                while not other.assignment() and time.monotonic() < deadline:
                    other.poll(timeout_ms=200)  # fetched records are dropped
                seen["assigned"] = other.assignment()
                seen["during_pass"] = ingest.reconciling
            finally:
                other.close(autocommit=False)  # leaves the group: the worker takes all back
        finally:
            intruded.set()  # the held pass goes on, whatever happened here

    with HeldPasses(store_url, lambda: intruded.wait(90)) as store:
        ingest = worker(store, kafka_bootstrap, inbound, group, lines)
        thread = threading.Thread(target=intrude, args=(ingest,))
        thread.start()
        try:
            with bounded(ingest, lines):
                counts = ingest.run()
        finally:
            thread.join()
    diagnostics = "\n".join(lines)
    assert seen.get("assigned"), f"the other member got no partition\n{diagnostics}"
    assert seen["during_pass"], "the rebalance came after the pass: make the history longer"
    assert ingest.revocations >= 2, (ingest.revocations, diagnostics)
    assert not evictions(caplog.records), evictions(caplog.records)
    assert ingest.longest_poll_gap < INTERVAL_MS / 2000, ingest.longest_poll_gap
    assert_everything_recorded(store_url, history, inbound, [counts], recorded)


def test_a_stop_during_a_pass_ends_the_worker_at_once_and_a_restart_completes_everything(
    kafka_bootstrap: str, store_url: str, history: History
) -> None:
    recorded = owe_every_period(store_url, history)
    inbound = publish_inbound(kafka_bootstrap, "stop", history)
    group = new_group()
    lines: list[str] = []
    stop = StopRequest()
    asked: list[float] = []

    def stop_during_pass(ingest: KafkaIngest) -> None:
        wait_until(
            lambda: ingest.reconciling and ingest.assignments >= 1,
            what="the worker to be assigned its partitions during its pass",
            timeout_seconds=60,
        )
        time.sleep(0.5)
        asked.append(time.monotonic())
        stop(signal.SIGTERM, None)  # as the handler `interrupts.deferred` installs does

    with LedgerStore(store_url, access="create") as store:
        ingest = worker(store, kafka_bootstrap, inbound, group, lines, stop=stop)
        thread = threading.Thread(target=stop_during_pass, args=(ingest,))
        thread.start()
        try:
            with bounded(ingest, lines):
                first = ingest.run()
        finally:
            thread.join()
        stopped_in = time.monotonic() - asked[0]
    diagnostics = "\n".join(lines)
    assert stopped_in < 3.0, f"the stop took {stopped_in:.1f}s\n{diagnostics}"
    assert ingest.passes == 0, "the pass was not cut short: make the history longer"
    assert first.consumed == 0, "nothing is read while the partitions are paused"
    # A restart in the same group: its first pass appends what the stopped one did not.
    lines.clear()
    with LedgerStore(store_url, access="create") as store:
        restarted = worker(store, kafka_bootstrap, inbound, group, lines)
        with bounded(restarted, lines):
            second = restarted.run()
    assert_everything_recorded(store_url, history, inbound, [first, second], recorded)
