"""Accepted inbound events, as the domain sees them.

An `InboundEvent` is an envelope of `../shared/spec/events.md` that passed validation
(`ledger.inbound`). Its `payload` is *normalised*: every optional field present with its
default, every instant in the canonical UTC spelling of `ledger.timeformat.format_utc`,
money and percentages kept as the decimal strings the producer gave (they are echoed as
given), durations kept as the ISO 8601 strings given. Two envelopes with the same
normalised content are the same event; that is what idempotency compares.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from ledger.canonical import canonical_json
from ledger.timeformat import format_utc, parse_utc

SubjectKind = Literal["contract", "outage", "maintenance", "incident", "claim"]

EVENT_TYPES: dict[str, tuple[SubjectKind, str]] = {
    # type -> (subject kind, payload field that names the subject)
    "contract.signed": ("contract", "contract_id"),
    "contract.amended": ("contract", "contract_id"),
    "contract.terminated": ("contract", "contract_id"),
    "outage.started": ("outage", "outage_id"),
    "outage.resolved": ("outage", "outage_id"),
    "outage.amended": ("outage", "outage_id"),
    "outage.retracted": ("outage", "outage_id"),
    "outage.classified": ("outage", "outage_id"),
    "maintenance.scheduled": ("maintenance", "maintenance_id"),
    "maintenance.cancelled": ("maintenance", "maintenance_id"),
    "incident.opened": ("incident", "incident_id"),
    "incident.responded": ("incident", "incident_id"),
    "incident.reprioritized": ("incident", "incident_id"),
    "incident.resolved": ("incident", "incident_id"),
    "incident.paused": ("incident", "incident_id"),
    "incident.resumed": ("incident", "incident_id"),
    "claim.submitted": ("claim", "claim_id"),
    "claim.withdrawn": ("claim", "claim_id"),
    "claim.decided": ("claim", "claim_id"),
}

# Payload fields that hold instants; they bound the time a subject can matter to.
INSTANT_FIELDS = (
    "started_at",
    "ended_at",
    "starts_at",
    "ends_at",
    "opened_at",
    "responded_at",
    "at",
    "resolved_at",
)
END_FIELDS = ("ended_at", "ends_at")


@lru_cache(maxsize=64)
def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    event_id: str  # canonical lower-case UUID text
    type: str
    schema_version: int
    occurred_at: datetime  # UTC
    source: str
    payload: Mapping[str, Any]  # normalised, see module docstring

    @property
    def subject_kind(self) -> SubjectKind:
        return EVENT_TYPES[self.type][0]

    @property
    def subject_id(self) -> str:
        return str(self.payload[EVENT_TYPES[self.type][1]])

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> InboundEvent:
        """An accepted event back from its canonical envelope (as stored)."""
        # The fields in their order, not by name: a report reads tens of thousands.
        return cls(
            envelope["event_id"],
            envelope["type"],
            envelope["schema_version"],
            parse_utc(envelope["occurred_at"]),
            envelope["source"],
            envelope["payload"],
        )

    def envelope(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": format_utc(self.occurred_at),
            "source": self.source,
            "payload": dict(self.payload),
        }

    def canonical(self) -> str:
        return canonical_json(self.envelope())

    def content_sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an input came from; the one description of an origin, which the store,
    the audit bundle and the outputs refer to.

    Two shapes: a line of a file (`file`, the absolute path or `<stdin>`, and `line`,
    counted from 1), or a Kafka record (`topic`, `partition`, `offset`, and the message's
    `key` when it has one). Unset fields are absent, never null: `as_dict()` is the
    origin as every output and document shows it (an accepted event's stored record
    embeds its `canonical()` JSON, which the hash chain covers; a kept rejection stores
    it too, and `rejections` prints it), and `Origin.from_dict(as_dict())` reads one back.
    The same input from the same origin is one rejection, however often it is re-read.
    """

    file: str | None = None
    line: int | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None  # the Kafka message key, kept so a dead letter can carry it

    @classmethod
    def from_dict(cls, origin: Mapping[str, Any]) -> Origin:
        """An origin as `as_dict()` wrote it (a stored record, a rejection, a bundle)."""
        return cls(**origin)

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("file", self.file),
                ("line", self.line),
                ("topic", self.topic),
                ("partition", self.partition),
                ("offset", self.offset),
                ("key", self.key),
            )
            if v is not None
        }

    def rejection_json(self) -> str:
        """`as_dict()` as a rejection keeps it: sorted keys, Python's default separators
        and ASCII escapes. Rejection ids are digests of these bytes, so they never change."""
        return json.dumps(self.as_dict(), sort_keys=True)

    def canonical(self) -> str:
        """`as_dict()` as canonical JSON, built directly for the two usual shapes (a file
        line, a Kafka record): this runs once per accepted event."""
        if self.topic is None and self.partition is None and self.offset is None:
            if self.file is not None and self.line is not None and self.key is None:
                return f'{{"file":{_json_text(self.file)},"line":{int(self.line)}}}'
        elif (
            self.file is None
            and self.line is None
            and None
            not in (
                self.topic,
                self.partition,
                self.offset,
            )
        ):
            key = "" if self.key is None else f'"key":{_json_text(self.key)},'
            return (
                f'{{{key}"offset":{int(self.offset or 0)},'
                f'"partition":{int(self.partition or 0)},"topic":{_json_text(self.topic or "")}}}'
            )
        return canonical_json(self.as_dict())

    def describe(self) -> str:
        """The origin as outputs list it: `file:line` or `topic[partition]@offset`."""
        if self.topic is not None:
            return f"{self.topic}[{self.partition}]@{self.offset}"
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An accepted event with its record time (when the ledger stored it)."""

    event: InboundEvent
    recorded_at: datetime
    origin: Origin = field(default_factory=Origin)
