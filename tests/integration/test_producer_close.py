"""A producer that cannot deliver what it buffers is still closed once, at once, and
leaves nothing for the interpreter's exit: no traceback after the command's last line
(kafka-python's own close raises before it marks itself closed, and its garbage-collected
close then printed one). Run in a child process, against a real broker, with the records
held in the producer's buffer (a long linger) so the flush cannot finish in time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest

from tests.cli_process import environment

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent(
    """
    import sys, time
    from kafka import KafkaProducer
    from consumers.intake.producers import close_producer

    producer = KafkaProducer(
        bootstrap_servers=sys.argv[1], linger_ms=600_000, delivery_timeout_ms=700_000
    )
    for n in range(20):
        producer.send(sys.argv[2], value=b"held %d" % n)
    started = time.monotonic()
    close_producer(producer, 0)
    assert producer._closed, "not closed"
    print("closed in %.1f s" % (time.monotonic() - started))
    del producer
    """
)


def test_a_close_that_cannot_flush_closes_at_once_and_leaves_nothing_at_exit(
    kafka_bootstrap: str,
) -> None:
    topic = f"close-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kafka_bootstrap, topic],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    seconds = float(done.stdout.split()[2])
    assert seconds < 5, done.stdout
