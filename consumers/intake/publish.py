"""`sla-ledger publish --from-file`: back-fills and producers onto the inbound topics.

Each line goes to the topic of its event family (spec: events.md) with the subject id as
key, so one subject's events stay in one partition, in file order. A line that is not
an envelope with a known `type` and subject id cannot be routed; it is reported with
its line number and not sent (fix it, or let the ledger reject it by ingesting the
file directly).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from consumers.intake.input_lines import Progress, file_lines, input_size
from consumers.intake.kafka_config import TOPIC_OF_FAMILY, KafkaSettings
from consumers.intake.producers import close_producer, new_producer
from consumers.intake.validation import oversize_reason, parse_document
from consumers.interrupts import off_the_main_thread
from ledger.errors import LedgerError
from ledger.events import EVENT_TYPES
from ledger.inbound import DOCUMENT, RejectedInputError, require_object
from ledger.strict_json import is_blank
from ledger.wording import counted


class PublishError(LedgerError):
    """The broker refused or could not be reached."""


@dataclass
class PublishSummary:
    sent: int = 0
    unroutable: list[tuple[int, str]] = field(default_factory=list)
    by_topic: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        topics = ", ".join(f"{t} {n}" for t, n in sorted(self.by_topic.items()))
        text = f"published {counted(self.sent, 'event')} ({topics or 'none'})"
        if self.unroutable:
            text += (
                f"; {counted(len(self.unroutable), 'line')} not sent "
                "(no routable type/subject, listed below)"
            )
        return text


def route(raw: bytes) -> tuple[str, bytes] | str:
    """(topic, key) for a line, or the reason it cannot be routed.

    The line is parsed as the ledger parses it (`parse_document`): the bytes are not
    trusted here either, and a line the ledger would refuse as JSON is not sent.
    """
    try:
        document = require_object(parse_document(raw))
    except RejectedInputError as exc:
        return str(exc)
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        return "type: must be a known event type"
    family, subject_field = EVENT_TYPES[kind]
    payload = document.get("payload")
    subject = payload.get(subject_field) if isinstance(payload, dict) else None
    if not isinstance(subject, str) or not subject:
        return f"payload.{subject_field}: missing, cannot key the message"
    try:
        key = subject.encode("utf-8")
    except UnicodeEncodeError:
        return f"payload.{subject_field}: holds an unpaired surrogate, cannot key the message"
    return TOPIC_OF_FAMILY[family], key


@contextmanager
def _producer(settings: KafkaSettings, **options: Any) -> Iterator[KafkaProducer]:
    """A producer for one publishing run, closed after it: with up to 10 s to deliver
    what is still buffered, unless the run ended with the broker's error or an interrupt
    (then at once: a close must not hide, nor wait behind, what ended the run)."""
    try:
        producer = new_producer(**settings.client_config(), **options)
    except KafkaTimeoutError:
        raise PublishError(
            f"no Kafka broker reachable at {settings.bootstrap_servers}; check --bootstrap-servers"
        ) from None
    wait = 0
    try:
        yield producer
        wait = 10
    except KafkaError as exc:
        raise PublishError(f"publishing failed: {exc}") from None
    except Exception:
        wait = 10  # not the broker's doing: what is buffered may still be delivered
        raise
    finally:
        # Closed once, here (`close_producer`); a producer still working in a thread
        # abandoned at an interrupt ends with the process.
        close_producer(producer, wait)


def publish_file(
    path: Path,
    settings: KafkaSettings,
    progress: Progress | None = None,
    topic_override: dict[str, str] | None = None,
) -> PublishSummary:
    """Send each routable line of `path` to its topic; in a thread of its own, so that a
    signal ends the wait at once (see `interrupts.off_the_main_thread`), after which
    the thread sends no more."""
    abandoned = threading.Event()
    return off_the_main_thread(
        lambda: _publish_file(path, settings, progress, topic_override or {}, abandoned),
        "publish",
        abandoned=abandoned,
    )


def send_raw(settings: KafkaSettings, topic: str, key: bytes, messages: Sequence[bytes]) -> None:
    """Send `messages` to `topic` as they are, unchecked, as a misbehaving producer does."""
    abandoned = threading.Event()

    def send() -> None:
        with _producer(settings, acks="all") as producer:
            for raw in messages:
                if abandoned.is_set():
                    return
                producer.send(topic, key=key, value=raw)
            producer.flush()

    off_the_main_thread(send, "publish", abandoned=abandoned)


def _publish_file(
    path: Path,
    settings: KafkaSettings,
    progress: Progress | None,
    topic_override: dict[str, str],
    abandoned: threading.Event,
) -> PublishSummary:
    summary = PublishSummary()
    total = input_size(path)
    done = 0
    options = {"linger_ms": 10, "batch_size": 256 * 1024, "retries": 5}
    with _producer(settings, acks="all", enable_idempotence=True, **options) as producer:
        for line in file_lines(path):
            if abandoned.is_set():  # interrupted: nothing more is sent, nor shown
                return summary
            number, raw = line.number, line.raw
            done += line.size + 1
            if not line.oversize and is_blank(raw):
                continue
            routed = (
                route(raw)
                if line.sha256 is None
                else str(RejectedInputError(DOCUMENT, oversize_reason(line.size, line.sha256)))
            )
            if isinstance(routed, str):
                summary.unroutable.append((number, routed))
                continue
            topic, key = routed
            topic = topic_override.get(topic, topic)
            producer.send(topic, key=key, value=raw)
            summary.sent += 1
            summary.by_topic[topic] = summary.by_topic.get(topic, 0) + 1
            if progress is not None and summary.sent % 1000 == 0:
                progress(done, total, summary.sent)
        producer.flush()
    if progress is not None:
        progress(done, done, summary.sent)
    return summary
