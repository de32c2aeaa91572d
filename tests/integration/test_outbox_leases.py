"""One publisher per outbox at a time: the lease, on both stores and against a real broker.

Every ingest worker runs the outbox publishers after its batches. Without a lease, two
workers that read the same published position both send the rows after it; with it, only
the lease holder sends, and another takes over once the holder stops or its lease expires.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from consumers.intake import outbox
from consumers.intake.outbox import DEAD_LETTER_POSITION, publish_dead_letters, release_leases
from ledger.events import Origin
from ledger.rejections import Rejection
from projections.store import LedgerStore
from tests.infrastructure import wait_until

pytestmark = pytest.mark.integration


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store_url: str) -> None:
    with LedgerStore(store_url, access="create") as store:
        assert store.hold_lease("outbox:x", "a", 30)
        assert not store.hold_lease("outbox:x", "b", 30)
        assert store.hold_lease("outbox:x", "a", 30), "the holder renews its own lease"
        assert store.hold_lease("outbox:y", "b", 30), "leases of other outboxes are separate"
        store.release_lease("outbox:x", "b")  # not b's to release: changes nothing
        assert not store.hold_lease("outbox:x", "b", 30)
        store.release_lease("outbox:x", "a")
        assert store.hold_lease("outbox:x", "b", 0.2), "released: another may take it"
        assert not store.hold_lease("outbox:x", "a", 30)
        time.sleep(0.3)
        assert store.hold_lease("outbox:x", "a", 30), "expired: another may take it"


def _rejections(topic: str, count: int) -> list[Rejection]:
    return [
        Rejection(
            raw=f"poison {n}".encode(),
            origin=Origin(topic=topic, partition=0, offset=n, key=None),
            field="(document)",
            reason="(document): malformed JSON: Expecting value at line 1 column 1",
        )
        for n in range(count)
    ]


def _read_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","))
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    records: list[Any] = []

    def read() -> bool:
        for batch in consumer.poll(timeout_ms=100).values():
            records.extend(batch)
        return len(records) >= expected

    try:
        wait_until(read, what=f"{expected} dead letters", timeout_seconds=30)
        # Anything sent twice would be right behind: read for a moment more.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            read()
    finally:
        consumer.close()
    return records


def test_concurrent_workers_send_each_dead_letter_once(
    store_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages: many rounds of read-send-record, each a chance for a second worker to
    # send the same rows if nothing stopped it.
    monkeypatch.setattr(outbox, "PAGE", 25)
    topic = f"leases-{uuid.uuid4().hex[:8]}.sla.rejected"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","))
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    count = 400
    with LedgerStore(store_url, access="create") as store:
        store.append([], _rejections("leases.sla.outages", count))

    sent: dict[str, int] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(2, timeout=60)

    def worker(name: str) -> None:
        try:
            with LedgerStore(store_url, access="create") as store:
                producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","), acks="all")
                try:
                    start.wait()
                    total = 0
                    for _round in range(20):  # as an ingest worker does after every poll
                        total += publish_dead_letters(store, producer, topic, holder=name)
                    sent[name] = total
                    release_leases(store, name)
                finally:
                    producer.close()
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sorted(sent) == ["worker-1", "worker-2"], sent
    assert sum(sent.values()) == count, sent

    records = _read_all(kafka_bootstrap, topic, count)
    assert len(records) == count
    assert sorted(r.value for r in records) == sorted(f"poison {n}".encode() for n in range(count))
    with LedgerStore(store_url, access="create") as store:
        assert store.tracked_position(DEAD_LETTER_POSITION) is not None
        # Both released their lease: a third worker may publish at once.
        assert store.hold_lease(DEAD_LETTER_POSITION, "worker-3", 30)
