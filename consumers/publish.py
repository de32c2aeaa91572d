"""`sla-ledger publish --from-file`: back-fills and producers onto the inbound topics.

Each line goes to the topic of its event family (spec: events.md) with the subject id as
key, so one subject's events stay in one partition, in file order. A line that is not
an envelope with a known `type` and subject id cannot be routed; it is reported with
its line number and not sent (fix it, or let the ledger reject it by ingesting the
file directly).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from consumers.intake import file_lines
from consumers.kafka_config import TOPIC_OF_FAMILY, KafkaSettings
from ledger.errors import LedgerError
from ledger.events import EVENT_TYPES


class PublishError(LedgerError):
    """The broker refused or could not be reached."""


@dataclass
class PublishSummary:
    sent: int = 0
    unroutable: list[tuple[int, str]] = field(default_factory=list)
    by_topic: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        topics = ", ".join(f"{t} {n}" for t, n in sorted(self.by_topic.items()))
        text = f"published {self.sent} events ({topics or 'none'})"
        if self.unroutable:
            text += f"; {len(self.unroutable)} lines not sent (no routable type/subject)"
        return text


def route(raw: bytes) -> tuple[str, bytes] | str:
    """(topic, key) for a line, or the reason it cannot be routed."""
    try:
        document: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not JSON: {exc}"
    if not isinstance(document, dict):
        return "not a JSON object"
    kind = document.get("type")
    if kind not in EVENT_TYPES:
        return f"type: unknown event type {kind!r}"
    family, subject_field = EVENT_TYPES[kind]
    payload = document.get("payload")
    subject = payload.get(subject_field) if isinstance(payload, dict) else None
    if not isinstance(subject, str) or not subject:
        return f"payload.{subject_field}: missing, cannot key the message"
    return TOPIC_OF_FAMILY[family], subject.encode()


def publish_file(
    path: Path,
    settings: KafkaSettings,
    progress: Callable[[int, int, int], None] | None = None,
    topic_override: dict[str, str] | None = None,
) -> PublishSummary:
    summary = PublishSummary()
    try:
        producer = KafkaProducer(
            **settings.client_config(),
            acks="all",
            linger_ms=10,
            batch_size=256 * 1024,
            retries=5,
            enable_idempotence=True,
        )
    except KafkaTimeoutError:
        raise PublishError(
            f"no Kafka broker reachable at {settings.bootstrap_servers}; check --bootstrap-servers"
        ) from None
    total = path.stat().st_size
    done = 0
    try:
        for number, raw in file_lines(path):
            done += len(raw) + 1
            if not raw.strip():
                continue
            routed = route(raw)
            if isinstance(routed, str):
                summary.unroutable.append((number, routed))
                continue
            topic, key = routed
            topic = (topic_override or {}).get(topic, topic)
            producer.send(topic, key=key, value=raw)
            summary.sent += 1
            summary.by_topic[topic] = summary.by_topic.get(topic, 0) + 1
            if progress is not None and summary.sent % 1000 == 0:
                progress(done, total, summary.sent)
        producer.flush()
    except KafkaError as exc:
        raise PublishError(f"publishing failed: {exc}") from None
    finally:
        producer.close(timeout=10)
    if progress is not None:
        progress(total, total, summary.sent)
    return summary
