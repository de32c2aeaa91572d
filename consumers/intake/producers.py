"""Closing a kafka-python producer for good, whatever the broker does.

kafka-python's `close` flushes first and raises when that flush times out (the broker
is gone, e.g. stopped by the same Ctrl-C), before it marks the producer closed. The
producer then closes again when it is garbage collected or the interpreter exits, with
another flush that raises, printed as a traceback after the command's own last line.
Here a close that cannot flush drops what is still buffered (the outboxes keep every
record until the broker acknowledged it, so nothing is lost: the next run sends it)
and closes at once, so the producer is closed exactly once.
"""

from __future__ import annotations

import atexit
from contextlib import suppress
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError


def new_producer(**config: Any) -> KafkaProducer:
    """A producer whose only close is `close_producer`: kafka-python's own exit-time
    close is dropped at once, since a producer left working in a thread abandoned at an
    interrupt would otherwise be closed at exit, with a flush that raises."""
    producer = KafkaProducer(**config)
    with suppress(AttributeError):
        atexit.unregister(producer._cleanup)
    return producer


def close_producer(producer: KafkaProducer, timeout: float) -> None:
    """Close `producer`, waiting up to `timeout` seconds to deliver what it buffers."""
    try:
        producer.close(timeout=timeout)
        return
    except KafkaError:
        pass
    with suppress(AttributeError):
        producer._accumulator.abort_incomplete_batches()
    with suppress(KafkaError):
        producer.close(timeout=0)
