"""Kafka settings shared by the consumer, the publishers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INBOUND_TOPICS = ("sla.contracts", "sla.outages", "sla.incidents", "sla.claims")
DEAD_LETTER_TOPIC = "sla.rejected"
CREDITS_TOPIC = "sla.credits"
ALERTS_TOPIC = "sla.alerts"
DEFAULT_GROUP = "sla-ledger"

# Which inbound topic carries an event type (spec: events.md).
TOPIC_OF_FAMILY = {
    "contract": "sla.contracts",
    "outage": "sla.outages",
    "maintenance": "sla.outages",
    "incident": "sla.incidents",
    "claim": "sla.claims",
}


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    topics: tuple[str, ...] = INBOUND_TOPICS
    group_id: str = DEFAULT_GROUP
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    credits_topic: str = CREDITS_TOPIC
    alerts_topic: str = ALERTS_TOPIC
    # Passed through to kafka-python as given: security_protocol, sasl_mechanism,
    # sasl_plain_username, sasl_plain_password, ssl_cafile, ssl_certfile, ssl_keyfile...
    security: dict[str, Any] = field(default_factory=dict)

    def client_config(self) -> dict[str, Any]:
        return {"bootstrap_servers": self.bootstrap_servers.split(","), **self.security}


SECURITY_OPTIONS = (
    "security_protocol",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
    "ssl_cafile",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_password",
    "ssl_check_hostname",
)
