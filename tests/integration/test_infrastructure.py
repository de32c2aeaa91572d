"""The test infrastructure itself: a real PostgreSQL and a real Kafka-protocol broker answer.

If these fail, every other integration test would fail for a reason that is not its own.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from tests.infrastructure import fresh_postgres_database, postgres_database_url, sqlite_url

pytestmark = pytest.mark.integration

MESSAGE_COUNT = 10
CONSUME_TIMEOUT_SECONDS = 60.0


def test_postgres_server_answers_a_query(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("select 1").fetchone() == (1,)


def test_fresh_postgres_database_is_new_empty_and_dropped_afterwards(postgres_url: str) -> None:
    with fresh_postgres_database(postgres_url) as url:
        name = url.split("?", 1)[0].rsplit("/", 1)[1]
        assert name.startswith("test_")
        with psycopg.connect(url) as connection:
            assert connection.execute("select current_database()").fetchone() == (name,)
            tables = connection.execute(
                "select count(*) from information_schema.tables where table_schema = 'public'"
            ).fetchone()
            assert tables == (0,)
    with psycopg.connect(postgres_url) as connection:
        remaining = connection.execute(
            "select count(*) from pg_database where datname = %s", (name,)
        ).fetchone()
    assert remaining == (0,)


def test_fresh_postgres_url_fixture_gives_a_writable_database(fresh_postgres_url: str) -> None:
    with psycopg.connect(fresh_postgres_url) as connection:
        connection.execute("create table probe (n int)")
        connection.execute("insert into probe values (42)")
        assert connection.execute("select n from probe").fetchone() == (42,)


def test_postgres_database_url_keeps_the_socket_host_query() -> None:
    socket_uri = "postgresql://postgres:@/postgres?host=/tmp/pgdata"
    assert postgres_database_url(socket_uri, "x") == "postgresql://postgres:@/x?host=/tmp/pgdata"
    tcp_uri = "postgresql://sla:sla@postgres:5432/sla"
    assert postgres_database_url(tcp_uri, "x") == "postgresql://sla:sla@postgres:5432/x"


def test_sqlite_url_names_a_ledger_file_in_the_directory(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path) == f"sqlite:///{tmp_path}/ledger.db"


def test_store_url_is_fresh_for_each_kind(store_url: str) -> None:
    if store_url.startswith("sqlite:///"):
        assert not Path(store_url.removeprefix("sqlite:///")).exists()
    else:
        with psycopg.connect(store_url) as connection:
            assert connection.execute("select current_database()").fetchone() != ("postgres",)


def test_broker_round_trips_messages_through_a_consumer_group(kafka_bootstrap: str) -> None:
    topic = f"infrastructure-{uuid.uuid4().hex}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()

    sent = [f"message-{n}".encode() for n in range(MESSAGE_COUNT)]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        for value in sent:
            producer.send(topic, value)
        producer.flush(timeout=30)
    finally:
        producer.close()

    # Short group timeouts: with kafka-python's defaults (45 s session, 300 s poll
    # interval) the embedded broker's first group join takes longer than a test should.
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"infrastructure-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=10_000,
        max_poll_interval_ms=30_000,
    )
    received: list[bytes] = []
    deadline = time.monotonic() + CONSUME_TIMEOUT_SECONDS
    try:
        while len(received) < MESSAGE_COUNT and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                received.extend(record.value for record in batch)
    finally:
        consumer.close()

    # One partition: the broker must hand them back in the order they were produced.
    assert received == sent
