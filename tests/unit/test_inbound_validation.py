"""Strict validation of inbound envelopes (spec: events.md, "Bad input")."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.intake.validation import MAX_EVENT_BYTES, parse_line
from ledger.currencies import MINOR_UNITS, minor_units
from ledger.errors import InvalidInputError
from ledger.events import EVENT_TYPES, InboundEvent
from ledger.inbound import RejectedInputError, field_path, validate_envelope
from ledger.strict_json import MAX_NESTING, parse_strict_json

EVENT_ID = "0b7e6f0e-9a53-4e2a-9c0d-2f3f1c1e8a10"
DELETE = object()  # marks a key to remove, in `changed`

# The payload examples of events.md, one per event type.
SIGNED: dict[str, Any] = {
    "contract_id": "C-1001",
    "customer_id": "CUST-7",
    "customer_name": "Acme Pty Ltd",
    "currency": "AUD",
    "timezone": "Australia/Sydney",
    "remedy": "credit",
    "effective_from": "2026-01-01",
    "effective_to": None,
    "services": [
        {
            "service_id": "crm",
            "monthly_fee": "1200.00",
            "availability": {
                "target_percent": "99.9",
                "credit_tiers": [
                    {"below_percent": "99.9", "credit_percent": "10"},
                    {"below_percent": "99.0", "credit_percent": "25"},
                    {"below_percent": "95.0", "credit_percent": "100"},
                ],
                "excluded_causes": ["customer_caused", "force_majeure"],
                "maintenance_notice": "PT48H",
                "min_downtime_seconds": 0,
            },
            "incident_response": {
                "targets": {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H", "P4": "PT8H"},
                "business_hours": {
                    "weekly": {
                        "mon": [["08:00", "18:00"]],
                        "tue": [["08:00", "18:00"]],
                        "wed": [["08:00", "18:00"]],
                        "thu": [["08:00", "18:00"]],
                        "fri": [["08:00", "18:00"]],
                    },
                    "holidays": ["2026-12-25", "2026-12-28"],
                },
                "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
            },
            "credit_cap_percent": "100",
        }
    ],
}

PAYLOADS: dict[str, dict[str, Any]] = {
    "contract.signed": SIGNED,
    "contract.amended": {
        "contract_id": "C-1001",
        "effective_from": "2026-04-01",
        "services": [
            {
                "service_id": "crm",
                "monthly_fee": "1300.00",
                "availability": None,
                "incident_response": None,
                "credit_cap_percent": "100",
            }
        ],
    },
    "contract.terminated": {"contract_id": "C-1001", "effective_to": "2027-01-01"},
    "outage.started": {
        "outage_id": "O-1",
        "service_id": "crm",
        "started_at": "2026-03-04T10:15:00Z",
        "impact_percent": "100",
        "customer_ids": None,
    },
    "outage.resolved": {"outage_id": "O-1", "ended_at": "2026-03-04T11:05:00Z"},
    "outage.amended": {
        "outage_id": "O-1",
        "started_at": "2026-03-04T10:10:00Z",
        "ended_at": "2026-03-04T11:00:00Z",
        "impact_percent": "50",
        "reason": "post-incident review",
    },
    "outage.retracted": {"outage_id": "O-1", "reason": "false alarm"},
    "outage.classified": {"outage_id": "O-1", "cause": "third_party", "reason": "DNS provider"},
    "maintenance.scheduled": {
        "maintenance_id": "M-1",
        "service_id": "crm",
        "starts_at": "2026-03-10T22:00:00Z",
        "ends_at": "2026-03-11T00:00:00Z",
        "customer_ids": None,
    },
    "maintenance.cancelled": {"maintenance_id": "M-1"},
    "incident.opened": {
        "incident_id": "I-1",
        "contract_id": "C-1001",
        "service_id": "crm",
        "priority": "P2",
        "opened_at": "2026-03-04T10:15:00Z",
    },
    "incident.responded": {"incident_id": "I-1", "responded_at": "2026-03-04T10:40:00Z"},
    "incident.reprioritized": {
        "incident_id": "I-1",
        "priority": "P1",
        "at": "2026-03-04T10:20:00Z",
    },
    "incident.resolved": {"incident_id": "I-1", "resolved_at": "2026-03-04T12:00:00Z"},
    "incident.paused": {
        "incident_id": "I-1",
        "at": "2026-03-04T10:50:00Z",
        "reason": "waiting on the customer's logs",
    },
    "incident.resumed": {"incident_id": "I-1", "at": "2026-03-04T11:30:00Z"},
    "claim.submitted": {
        "claim_id": "CL-1",
        "contract_id": "C-1001",
        "service_id": "api",
        "period": "2026-03",
        "submitted_at": "2026-04-02T09:00:00Z",
    },
    "claim.withdrawn": {"claim_id": "CL-1"},
    "claim.decided": {"claim_id": "CL-1", "decision": "denied", "reason": "outside scope"},
}


def envelope(kind: str, payload: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event_id": EVENT_ID,
        "type": kind,
        "schema_version": 1,
        "occurred_at": "2026-03-04T10:15:00Z",
        "source": "status-page",
        "payload": copy.deepcopy(PAYLOADS[kind] if payload is None else payload),
    }
    document.update(fields)
    return document


def changed(document: dict[str, Any], *path: str | int, to: Any = DELETE) -> dict[str, Any]:
    """A copy of `document` with the value at `path` replaced by `to` (or removed)."""
    result = copy.deepcopy(document)
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    if to is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = to
    return result


def rejection(document: object) -> RejectedInputError:
    with pytest.raises(RejectedInputError) as caught:
        validate_envelope(document)
    return caught.value


# ---------------------------------------------------------------------------------------
# Accepted: every example of events.md, normalised.


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_example_of_the_spec_is_accepted_as_given(kind: str) -> None:
    event = validate_envelope(envelope(kind))
    assert isinstance(event, InboundEvent)
    assert event.type == kind
    assert event.event_id == EVENT_ID
    assert event.schema_version == 1
    assert event.source == "status-page"
    assert event.occurred_at == datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
    assert event.payload == PAYLOADS[kind]  # the examples are already in normal form
    assert event.subject_kind == EVENT_TYPES[kind][0]


def test_every_event_type_has_an_example() -> None:
    assert set(PAYLOADS) == set(EVENT_TYPES)


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_normalising_twice_changes_nothing(kind: str) -> None:
    event = validate_envelope(envelope(kind))
    again = validate_envelope(json.loads(event.canonical()))
    assert again == event
    assert again.content_sha256() == event.content_sha256()


def test_defaults_are_filled_in() -> None:
    event = validate_envelope(
        envelope(
            "outage.started",
            {"outage_id": "O-1", "service_id": "crm", "started_at": "2026-03-04T10:15:00Z"},
        )
    )
    assert event.payload == PAYLOADS["outage.started"]

    amended = validate_envelope(envelope("outage.amended", {"outage_id": "O-1", "reason": "typo"}))
    assert amended.payload == {
        "outage_id": "O-1",
        "started_at": None,
        "ended_at": None,
        "impact_percent": None,
        "reason": "typo",
    }

    scheduled = changed(envelope("maintenance.scheduled"), "payload", "customer_ids")
    assert validate_envelope(scheduled).payload == PAYLOADS["maintenance.scheduled"]


def test_contract_defaults_are_filled_in() -> None:
    service = {
        "service_id": "crm",
        "monthly_fee": "1200.00",
        "availability": {
            "target_percent": "99.9",
            "credit_tiers": [{"below_percent": "99.9", "credit_percent": "10"}],
        },
        "incident_response": {
            "targets": {"P1": "PT15M"},
            "business_hours": {"weekly": {"sat": [["00:00", "24:00"]]}},
            "credit_tiers": [],
        },
    }
    payload = {
        "contract_id": "C-1",
        "customer_id": "K-1",
        "customer_name": "Acme",
        "currency": "JPY",
        "remedy": "cash",
        "effective_from": "2026-01-15",
        "services": [service, {"service_id": "erp", "monthly_fee": "0"}],
    }
    normalised = validate_envelope(envelope("contract.signed", payload)).payload
    assert normalised == {
        "contract_id": "C-1",
        "customer_id": "K-1",
        "customer_name": "Acme",
        "currency": "JPY",
        "timezone": "UTC",
        "remedy": "cash",
        "effective_from": "2026-01-15",
        "effective_to": None,
        "services": [
            {
                "service_id": "crm",
                "monthly_fee": "1200.00",
                "availability": {
                    "target_percent": "99.9",
                    "credit_tiers": [{"below_percent": "99.9", "credit_percent": "10"}],
                    "excluded_causes": [],
                    "maintenance_notice": None,
                    "min_downtime_seconds": 0,
                },
                "incident_response": {
                    "targets": {"P1": "PT15M"},
                    "business_hours": {"weekly": {"sat": [["00:00", "24:00"]]}, "holidays": []},
                    "credit_tiers": [],
                },
                "credit_cap_percent": "100",
            },
            {
                "service_id": "erp",
                "monthly_fee": "0",
                "availability": None,
                "incident_response": None,
                "credit_cap_percent": "100",
            },
        ],
    }


def test_24x7_business_hours_are_kept() -> None:
    document = changed(
        envelope("contract.signed"),
        *("payload", "services", 0, "incident_response", "business_hours"),
        to="24x7",
    )
    payload = validate_envelope(document).payload
    assert payload["services"][0]["incident_response"]["business_hours"] == "24x7"


def test_instants_are_respelt_in_utc_and_decimals_kept_as_given() -> None:
    payload = {
        "outage_id": "O-1",
        "service_id": "crm",
        "started_at": "2026-03-04t20:15:00.250+10:00",
        "impact_percent": "050.50",
        "customer_ids": ["K-1", "K-2"],
    }
    event = validate_envelope(
        envelope("outage.started", payload, occurred_at="2026-03-04T05:15:00-05:00")
    )
    assert event.occurred_at == datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
    assert event.payload["started_at"] == "2026-03-04T10:15:00.250000Z"
    assert event.payload["impact_percent"] == "050.50"
    assert event.payload["customer_ids"] == ["K-1", "K-2"]


def test_identifiers_of_200_and_text_of_2000_characters_are_accepted() -> None:
    document = changed(envelope("outage.retracted"), "payload", "outage_id", to="o" * 200)
    document = changed(document, "payload", "reason", to="r" * 2000)
    event = validate_envelope(changed(document, "source", to="s" * 2000))
    assert (len(event.subject_id), len(event.payload["reason"]), len(event.source)) == (
        200,
        2000,
        2000,
    )


def test_event_id_is_normalised_to_lower_case() -> None:
    event = validate_envelope(envelope("outage.resolved", event_id=EVENT_ID.upper()))
    assert event.event_id == EVENT_ID


def test_equal_ends_are_allowed() -> None:
    amended = changed(envelope("outage.amended"), "payload", "ended_at", to="2026-03-04T10:10:00Z")
    assert validate_envelope(amended).payload["ended_at"] == "2026-03-04T10:10:00Z"
    zero = changed(
        envelope("maintenance.scheduled"), "payload", "ends_at", to="2026-03-10T22:00:00Z"
    )
    validate_envelope(zero)


def test_payload_holds_plain_json_types_only() -> None:
    def check(value: object) -> None:
        if isinstance(value, dict):
            assert all(isinstance(key, str) for key in value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert value is None or type(value) in (str, int)

    for kind in PAYLOADS:
        check(dict(validate_envelope(envelope(kind)).payload))


# ---------------------------------------------------------------------------------------
# Rejected: the field path and the rule.

SIGNED_DOC = envelope("contract.signed")
SERVICE = ("payload", "services", 0)
AVAILABILITY = (*SERVICE, "availability")
RESPONSE = (*SERVICE, "incident_response")
HOURS = (*RESPONSE, "business_hours")
STARTED = envelope("outage.started")

REJECTED: list[tuple[str, object, str, str]] = [
    # (case, document, field, what the rule says)
    (
        "money as a JSON number",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to=1200),
        "payload.services[0].monthly_fee",
        "must be a decimal string, got number 1200",
    ),
    (
        "money as a decimal JSON number",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to=Decimal("1200.50")),
        "payload.services[0].monthly_fee",
        "must be a decimal string, got number 1200.50",
    ),
    (
        "money as a float",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to=1200.5),
        "payload.services[0].monthly_fee",
        "must be a decimal string, got number 1200.5",
    ),
    *[
        (
            f"negative {'.'.join(map(str, path[-2:]))}",
            changed(document, *path, to="-100.00"),
            field,
            'must not be negative, got "-100.00"',
        )
        for document, path, field in [
            (SIGNED_DOC, (*SERVICE, "monthly_fee"), "payload.services[0].monthly_fee"),
            (
                SIGNED_DOC,
                (*SERVICE, "credit_cap_percent"),
                "payload.services[0].credit_cap_percent",
            ),
            (
                SIGNED_DOC,
                (*AVAILABILITY, "target_percent"),
                "payload.services[0].availability.target_percent",
            ),
            (
                SIGNED_DOC,
                (*AVAILABILITY, "credit_tiers", 1, "below_percent"),
                "payload.services[0].availability.credit_tiers[1].below_percent",
            ),
            (
                SIGNED_DOC,
                (*RESPONSE, "credit_tiers", 0, "credit_percent"),
                "payload.services[0].incident_response.credit_tiers[0].credit_percent",
            ),
            (STARTED, ("payload", "impact_percent"), "payload.impact_percent"),
        ]
    ],
    *[
        (
            f"{field} over {limit} characters",
            changed(document, *path, to="x" * (limit + 1)),
            field,
            f"must be at most {limit} characters, got {limit + 1}",
        )
        for document, path, field, limit in [
            (SIGNED_DOC, ("payload", "contract_id"), "payload.contract_id", 200),
            (SIGNED_DOC, ("payload", "customer_id"), "payload.customer_id", 200),
            (SIGNED_DOC, (*SERVICE, "service_id"), "payload.services[0].service_id", 200),
            (STARTED, ("payload", "outage_id"), "payload.outage_id", 200),
            (
                envelope("maintenance.cancelled"),
                ("payload", "maintenance_id"),
                "payload.maintenance_id",
                200,
            ),
            (envelope("incident.opened"), ("payload", "incident_id"), "payload.incident_id", 200),
            (SIGNED_DOC, ("payload", "customer_name"), "payload.customer_name", 2000),
            (STARTED, ("source",), "source", 2000),
            (envelope("outage.retracted"), ("payload", "reason"), "payload.reason", 2000),
        ]
    ],
    (
        "a customer id over 200 characters",
        changed(STARTED, "payload", "customer_ids", to=["K-1", "k" * 201]),
        "payload.customer_ids[1]",
        "must be at most 200 characters, got 201",
    ),
    (
        "a minus sign alone is no negative number",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to="-x"),
        "payload.services[0].monthly_fee",
        'must be a decimal string such as "99.95", got "-x"',
    ),
    (
        "money with an exponent",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to="1e3"),
        "payload.services[0].monthly_fee",
        'got "1e3"',
    ),
    (
        "money with a trailing point",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to="12."),
        "payload.services[0].monthly_fee",
        "must be a decimal string",
    ),
    (
        "money with non-ASCII digits",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to="١٢٠٠"),
        "payload.services[0].monthly_fee",
        "must be a decimal string",
    ),
    (
        "money with too many digits",
        changed(SIGNED_DOC, *SERVICE, "monthly_fee", to="1" * 21),
        "payload.services[0].monthly_fee",
        "at most 20 digits",
    ),
    (
        "percentage as a number",
        changed(STARTED, "payload", "impact_percent", to=50),
        "payload.impact_percent",
        "must be a decimal string, got number 50",
    ),
    (
        "naive timestamp",
        changed(STARTED, "occurred_at", to="2026-03-04T10:15:00"),
        "occurred_at",
        "must have an explicit offset",
    ),
    (
        "naive timestamp in the payload",
        changed(STARTED, "payload", "started_at", to="2026-03-04 10:15:00.5"),
        "payload.started_at",
        "must have an explicit offset",
    ),
    (
        "timestamp with a trailing newline",
        changed(STARTED, "payload", "started_at", to="2026-03-04T10:15:00Z\n"),
        "payload.started_at",
        "must be an RFC 3339 timestamp",
    ),
    (
        "timestamp that is no real time",
        changed(STARTED, "payload", "started_at", to="2026-02-30T10:15:00Z"),
        "payload.started_at",
        "is not a real date and time",
    ),
    (
        "timestamp as a number",
        changed(STARTED, "occurred_at", to=1772619300),
        "occurred_at",
        "must be an RFC 3339 timestamp string, got number 1772619300",
    ),
    (
        "timestamp before 1970",
        changed(STARTED, "occurred_at", to="1969-12-31T23:59:59Z"),
        "occurred_at",
        "must be between 1970-01-01T00:00:00Z",
    ),
    (
        "timestamp past datetime's range",
        changed(STARTED, "occurred_at", to="9999-12-31T23:00:00-10:00"),
        "occurred_at",
        "is out of range",
    ),
    (
        "unknown currency",
        changed(SIGNED_DOC, "payload", "currency", to="XYZ"),
        "payload.currency",
        'unknown currency "XYZ"',
    ),
    (
        "currency in lower case",
        changed(SIGNED_DOC, "payload", "currency", to="aud"),
        "payload.currency",
        'unknown currency "aud"',
    ),
    (
        "withdrawn currency",
        changed(SIGNED_DOC, "payload", "currency", to="HRK"),
        "payload.currency",
        'unknown currency "HRK"',
    ),
    (
        "currency without minor unit",
        changed(SIGNED_DOC, "payload", "currency", to="XAU"),
        "payload.currency",
        "unknown currency",
    ),
    (
        "unknown timezone",
        changed(SIGNED_DOC, "payload", "timezone", to="Mars/Olympus"),
        "payload.timezone",
        'unknown time zone "Mars/Olympus"',
    ),
    (
        "timezone as a path",
        changed(SIGNED_DOC, "payload", "timezone", to="../../etc/passwd"),
        "payload.timezone",
        "unknown time zone",
    ),
    (
        "timezone null",
        changed(SIGNED_DOC, "payload", "timezone", to=None),
        "payload.timezone",
        "must be an IANA time zone name, got null",
    ),
    (
        "amendment not on the first of a month",
        changed(envelope("contract.amended"), "payload", "effective_from", to="2026-03-15"),
        "payload.effective_from",
        'must be the first day of a month, got "2026-03-15"',
    ),
    (
        "outage amended to end before it starts",
        changed(envelope("outage.amended"), "payload", "ended_at", to="2026-03-04T10:09:59Z"),
        "payload.ended_at",
        'must not be before started_at "2026-03-04T10:10:00Z"',
    ),
    (
        "maintenance ending before it starts",
        changed(envelope("maintenance.scheduled"), "payload", "ends_at", to="2026-03-10T21:00:00Z"),
        "payload.ends_at",
        "must not be before starts_at",
    ),
    (
        "contract ending before it starts",
        changed(SIGNED_DOC, "payload", "effective_to", to="2025-12-31"),
        "payload.effective_to",
        'must be after effective_from "2026-01-01", got "2025-12-31"',
    ),
    (
        "contract ending as it starts",
        changed(SIGNED_DOC, "payload", "effective_to", to="2026-01-01"),
        "payload.effective_to",
        "must be after effective_from",
    ),
    (
        "extra envelope field",
        changed(STARTED, "priority", to="high"),
        "priority",
        "unexpected field",
    ),
    (
        "extra payload field",
        changed(STARTED, "payload", "foo", to=1),
        "payload.foo",
        "unexpected field",
    ),
    (
        "extra nested field",
        changed(SIGNED_DOC, *AVAILABILITY, "grace", to="PT5M"),
        "payload.services[0].availability.grace",
        "unexpected field",
    ),
    (
        "extra field in a tier",
        changed(SIGNED_DOC, *AVAILABILITY, "credit_tiers", 1, "x", to=1),
        "payload.services[0].availability.credit_tiers[1].x",
        "unexpected field",
    ),
    (
        "extra field with an odd name",
        changed(STARTED, "payload", "a b", to=1),
        'payload["a b"]',
        "unexpected field",
    ),
    ("missing envelope field", changed(STARTED, "source"), "source", "required field missing"),
    (
        "missing payload field",
        changed(STARTED, "payload", "outage_id"),
        "payload.outage_id",
        "required field missing",
    ),
    (
        "missing nested field",
        changed(SIGNED_DOC, *AVAILABILITY, "credit_tiers", 2, "credit_percent"),
        "payload.services[0].availability.credit_tiers[2].credit_percent",
        "required field missing",
    ),
    (
        "missing reason",
        changed(envelope("outage.amended"), "payload", "reason"),
        "payload.reason",
        "required field missing",
    ),
    (
        "unknown type",
        changed(STARTED, "type", to="outage.exploded"),
        "type",
        'unknown event type "outage.exploded"',
    ),
    (
        "type as a number",
        changed(STARTED, "type", to=7),
        "type",
        "must be an event type string, got number 7",
    ),
    (
        "schema version 2",
        changed(STARTED, "schema_version", to=2),
        "schema_version",
        "unsupported schema version 2 (supported: 1)",
    ),
    (
        'schema version "1"',
        changed(STARTED, "schema_version", to="1"),
        "schema_version",
        'must be the integer 1, got string "1"',
    ),
    (
        "schema version true",
        changed(STARTED, "schema_version", to=True),
        "schema_version",
        "must be the integer 1, got boolean true",
    ),
    (
        "schema version 1.0",
        changed(STARTED, "schema_version", to=1.0),
        "schema_version",
        "must be the integer 1, got number 1.0",
    ),
    (
        "event_id not a UUID",
        changed(STARTED, "event_id", to="evt-42"),
        "event_id",
        'must be a UUID such as "0b7e6f0e-9a53-4e2a-9c0d-2f3f1c1e8a10", got "evt-42"',
    ),
    (
        "event_id as a URN",
        changed(STARTED, "event_id", to=f"urn:uuid:{EVENT_ID}"),
        "event_id",
        "must be a UUID",
    ),
    (
        "event_id without hyphens",
        changed(STARTED, "event_id", to=EVENT_ID.replace("-", "")),
        "event_id",
        "must be a UUID",
    ),
    (
        "impact 0",
        changed(STARTED, "payload", "impact_percent", to="0"),
        "payload.impact_percent",
        'must be > 0 and <= 100, got "0"',
    ),
    (
        "impact 120",
        changed(STARTED, "payload", "impact_percent", to="120"),
        "payload.impact_percent",
        'must be > 0 and <= 100, got "120"',
    ),
    (
        "impact just over 100",
        changed(STARTED, "payload", "impact_percent", to="100.0001"),
        "payload.impact_percent",
        "must be > 0 and <= 100",
    ),
    (
        "impact null",
        changed(STARTED, "payload", "impact_percent", to=None),
        "payload.impact_percent",
        "must be a decimal string, got null",
    ),
    (
        "duplicate tier below_percent",
        changed(SIGNED_DOC, *AVAILABILITY, "credit_tiers", 2, "below_percent", to="99"),
        "payload.services[0].availability.credit_tiers[2].below_percent",
        'must be distinct: "99" repeats credit_tiers[1].below_percent "99.0"',
    ),
    (
        "tier below_percent 0",
        changed(SIGNED_DOC, *AVAILABILITY, "credit_tiers", 0, "below_percent", to="0"),
        "payload.services[0].availability.credit_tiers[0].below_percent",
        "must be > 0 and <= 100",
    ),
    (
        "tier credit_percent over 100",
        changed(SIGNED_DOC, *RESPONSE, "credit_tiers", 0, "credit_percent", to="101"),
        "payload.services[0].incident_response.credit_tiers[0].credit_percent",
        'must be >= 0 and <= 100, got "101"',
    ),
    (
        "target 0",
        changed(SIGNED_DOC, *AVAILABILITY, "target_percent", to="0.0"),
        "payload.services[0].availability.target_percent",
        "must be > 0 and <= 100",
    ),
    (
        "credit cap over 100",
        changed(SIGNED_DOC, *SERVICE, "credit_cap_percent", to="150"),
        "payload.services[0].credit_cap_percent",
        "must be >= 0 and <= 100",
    ),
    (
        "24:00 as a start",
        changed(SIGNED_DOC, *HOURS, "weekly", "mon", 0, to=["24:00", "24:00"]),
        "payload.services[0].incident_response.business_hours.weekly.mon[0][0]",
        '"24:00" is allowed only as the end of an interval',
    ),
    (
        "interval ending before it starts",
        changed(SIGNED_DOC, *HOURS, "weekly", "tue", 0, to=["18:00", "08:00"]),
        "payload.services[0].incident_response.business_hours.weekly.tue[0][1]",
        'must be after the start "18:00", got "08:00"',
    ),
    (
        "empty interval",
        changed(SIGNED_DOC, *HOURS, "weekly", "tue", 0, to=["08:00", "08:00"]),
        "payload.services[0].incident_response.business_hours.weekly.tue[0][1]",
        "must be after the start",
    ),
    (
        "time without a leading zero",
        changed(SIGNED_DOC, *HOURS, "weekly", "wed", 0, to=["8:00", "18:00"]),
        "payload.services[0].incident_response.business_hours.weekly.wed[0][0]",
        'must be a time "HH:MM"',
    ),
    (
        "interval of three",
        changed(SIGNED_DOC, *HOURS, "weekly", "thu", 0, to=["08:00", "12:00", "18:00"]),
        "payload.services[0].incident_response.business_hours.weekly.thu[0]",
        'must be a pair ["HH:MM", "HH:MM"] (start, end), got array of 3',
    ),
    (
        "overlapping intervals",
        changed(SIGNED_DOC, *HOURS, "weekly", "fri", to=[["12:00", "18:00"], ["08:00", "12:30"]]),
        "payload.services[0].incident_response.business_hours.weekly.fri[1]",
        'overlaps interval [0] ["12:00", "18:00"]',
    ),
    (
        "weekday spelt out",
        changed(SIGNED_DOC, *HOURS, "weekly", "monday", to=[]),
        "payload.services[0].incident_response.business_hours.weekly.monday",
        "unexpected field (allowed: mon, tue, wed, thu, fri, sat, sun)",
    ),
    (
        "business hours neither 24x7 nor a schedule",
        changed(SIGNED_DOC, *HOURS, to="9to5"),
        "payload.services[0].incident_response.business_hours",
        'must be "24x7" or an object with "weekly"',
    ),
    (
        "business hours as an array",
        changed(SIGNED_DOC, *HOURS, to=[]),
        "payload.services[0].incident_response.business_hours",
        "got array",
    ),
    (
        "business hours without weekly",
        changed(SIGNED_DOC, *HOURS, "weekly"),
        "payload.services[0].incident_response.business_hours.weekly",
        "required field missing",
    ),
    (
        "holiday that is no real date",
        changed(SIGNED_DOC, *HOURS, "holidays", 1, to="2026-02-30"),
        "payload.services[0].incident_response.business_hours.holidays[1]",
        "is not a real date",
    ),
    (
        "holiday twice",
        changed(SIGNED_DOC, *HOURS, "holidays", 1, to="2026-12-25"),
        "payload.services[0].incident_response.business_hours.holidays[1]",
        'duplicate holiday "2026-12-25" (already at [0])',
    ),
    (
        "priority target P5",
        changed(SIGNED_DOC, *RESPONSE, "targets", "P5", to="PT1H"),
        "payload.services[0].incident_response.targets.P5",
        "unexpected field (allowed: P1, P2, P3, P4)",
    ),
    (
        "target not a duration",
        changed(SIGNED_DOC, *RESPONSE, "targets", "P1", to="15 minutes"),
        "payload.services[0].incident_response.targets.P1",
        "must be an ISO 8601 duration",
    ),
    (
        "target of zero",
        changed(SIGNED_DOC, *RESPONSE, "targets", "P1", to="PT0S"),
        "payload.services[0].incident_response.targets.P1",
        "must be longer than zero",
    ),
    (
        "notice in months",
        changed(SIGNED_DOC, *AVAILABILITY, "maintenance_notice", to="P1M"),
        "payload.services[0].availability.maintenance_notice",
        'got "P1M"',
    ),
    (
        "notice with a trailing newline",
        changed(SIGNED_DOC, *AVAILABILITY, "maintenance_notice", to="PT48H\n"),
        "payload.services[0].availability.maintenance_notice",
        "must be an ISO 8601 duration",
    ),
    (
        "duration too long for datetime",
        changed(SIGNED_DOC, *AVAILABILITY, "maintenance_notice", to="P99999999999D"),
        "payload.services[0].availability.maintenance_notice",
        "is out of range",
    ),
    (
        "min downtime as a boolean",
        changed(SIGNED_DOC, *AVAILABILITY, "min_downtime_seconds", to=True),
        "payload.services[0].availability.min_downtime_seconds",
        "must be a non-negative integer, got boolean true",
    ),
    (
        "min downtime negative",
        changed(SIGNED_DOC, *AVAILABILITY, "min_downtime_seconds", to=-1),
        "payload.services[0].availability.min_downtime_seconds",
        "must be >= 0",
    ),
    (
        "availability window neither month nor year",
        changed(SIGNED_DOC, *AVAILABILITY, "window", to="quarter"),
        "payload.services[0].availability.window",
        'must be one of "month", "year", got "quarter"',
    ),
    (
        "availability window in capitals",
        changed(SIGNED_DOC, *AVAILABILITY, "window", to="Year"),
        "payload.services[0].availability.window",
        'got "Year"',
    ),
    (
        "availability window as null",
        changed(SIGNED_DOC, *AVAILABILITY, "window", to=None),
        "payload.services[0].availability.window",
        "must be",
    ),
    (
        "min downtime as a string",
        changed(SIGNED_DOC, *AVAILABILITY, "min_downtime_seconds", to="60"),
        "payload.services[0].availability.min_downtime_seconds",
        'got string "60"',
    ),
    (
        "unknown excluded cause",
        changed(SIGNED_DOC, *AVAILABILITY, "excluded_causes", 1, to="acts_of_god"),
        "payload.services[0].availability.excluded_causes[1]",
        'must be one of "provider", "customer_caused", "force_majeure", "third_party"',
    ),
    (
        "excluded cause twice",
        changed(SIGNED_DOC, *AVAILABILITY, "excluded_causes", 1, to="customer_caused"),
        "payload.services[0].availability.excluded_causes[1]",
        'duplicate cause "customer_caused"',
    ),
    (
        "no services",
        changed(SIGNED_DOC, "payload", "services", to=[]),
        "payload.services",
        "must not be empty",
    ),
    (
        "services not an array",
        changed(SIGNED_DOC, "payload", "services", to={}),
        "payload.services",
        "must be an array, got object",
    ),
    (
        "service not an object",
        changed(SIGNED_DOC, *SERVICE, to="crm"),
        "payload.services[0]",
        'must be an object, got string "crm"',
    ),
    (
        "service twice",
        changed(SIGNED_DOC, "payload", "services", to=[SIGNED["services"][0]] * 2),
        "payload.services[1].service_id",
        'duplicate service_id "crm" (already at services[0])',
    ),
    (
        "empty customer_ids",
        changed(STARTED, "payload", "customer_ids", to=[]),
        "payload.customer_ids",
        "must not be empty",
    ),
    (
        "empty customer id",
        changed(STARTED, "payload", "customer_ids", to=["K-1", ""]),
        "payload.customer_ids[1]",
        "must not be empty",
    ),
    (
        "customer id twice",
        changed(STARTED, "payload", "customer_ids", to=["K-1", "K-1"]),
        "payload.customer_ids[1]",
        'duplicate customer id "K-1"',
    ),
    (
        "customer id as a number",
        changed(STARTED, "payload", "customer_ids", to=[7]),
        "payload.customer_ids[0]",
        "must be a non-empty string, got number 7",
    ),
    (
        "empty outage_id",
        changed(STARTED, "payload", "outage_id", to=""),
        "payload.outage_id",
        "must not be empty",
    ),
    (
        "outage_id with a space around",
        changed(STARTED, "payload", "outage_id", to=" O-1"),
        "payload.outage_id",
        "must not start or end with white space",
    ),
    (
        "outage_id with a control character",
        changed(STARTED, "payload", "outage_id", to="O\n1"),
        "payload.outage_id",
        "must not contain control characters",
    ),
    (
        "id with an unpaired surrogate",
        changed(STARTED, "payload", "service_id", to="\ud800"),
        "payload.service_id",
        "unpaired surrogates",
    ),
    (
        "blank source",
        changed(STARTED, "source", to="  "),
        "source",
        "must not be empty or only white space",
    ),
    (
        "blank reason",
        changed(envelope("outage.retracted"), "payload", "reason", to=""),
        "payload.reason",
        "must not be empty",
    ),
    (
        "payload not an object",
        changed(STARTED, "payload", to=[]),
        "payload",
        "must be an object, got array",
    ),
    (
        "payload null",
        changed(STARTED, "payload", to=None),
        "payload",
        "must be an object, got null",
    ),
    (
        "unknown cause",
        changed(envelope("outage.classified"), "payload", "cause", to="aliens"),
        "payload.cause",
        'must be one of "provider", "customer_caused", "force_majeure", '
        '"third_party", got "aliens"',
    ),
    (
        "priority P5",
        changed(envelope("incident.opened"), "payload", "priority", to="P5"),
        "payload.priority",
        'must be one of "P1", "P2", "P3", "P4", got "P5"',
    ),
    (
        "priority in lower case",
        changed(envelope("incident.reprioritized"), "payload", "priority", to="p1"),
        "payload.priority",
        "must be one of",
    ),
    (
        "unknown remedy",
        changed(SIGNED_DOC, "payload", "remedy", to="voucher"),
        "payload.remedy",
        'must be one of "credit", "cash", got "voucher"',
    ),
    (
        "date with a time",
        changed(SIGNED_DOC, "payload", "effective_from", to="2026-01-01T00:00Z"),
        "payload.effective_from",
        "must be a date YYYY-MM-DD",
    ),
    (
        "date with non-ASCII digits",
        changed(envelope("contract.terminated"), "payload", "effective_to", to="２０２７-01-01"),
        "payload.effective_to",
        "must be a date YYYY-MM-DD",
    ),
    ("not an object", [1, 2], "(document)", "must be a JSON object, got array"),
    ("a bare string", "hello", "(document)", 'must be a JSON object, got string "hello"'),
    ("an empty object", {}, "schema_version", "required field missing"),
]


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [pytest.param(doc, field, rule, id=case) for case, doc, field, rule in REJECTED],
)
def test_rejections_name_the_field_and_the_rule(document: object, field: str, rule: str) -> None:
    error = rejection(document)
    assert error.field == field
    assert rule in error.rule
    assert str(error) == f"{field}: {error.rule}"


def test_there_are_many_rejection_cases() -> None:
    assert len(REJECTED) >= 40
    assert len({case for case, *_ in REJECTED}) == len(REJECTED)


def test_an_unsupported_schema_version_is_reported_first() -> None:
    document = changed(STARTED, "type", to="outage.paused")
    document["event_id"] = "not-a-uuid"
    document["schema_version"] = 2
    assert str(rejection(document)) == "schema_version: unsupported schema version 2 (supported: 1)"


def test_odd_documents_do_not_escape_as_other_errors() -> None:
    assert rejection({1: 2}).field == "schema_version"
    assert rejection(changed(STARTED, "payload", to=(1, 2))).field == "payload"
    odd = changed(STARTED, "payload", "customer_ids", to=[[]])
    assert str(rejection(odd)) == "payload.customer_ids[0]: must be a non-empty string, got array"


def test_the_envelope_is_checked_before_the_payload() -> None:
    document = changed(STARTED, "payload", "impact_percent", to="120")
    document["schema_version"] = 2
    assert rejection(document).field == "schema_version"


def test_the_first_error_is_reported_in_field_order() -> None:
    document = changed(STARTED, "payload", "impact_percent", to="120")
    document["payload"]["zzz"] = 1
    document["payload"]["outage_id"] = ""
    assert rejection(document).field == "payload.outage_id"  # declared order, extras last
    del document["payload"]["outage_id"]
    document["payload"]["impact_percent"] = "50"
    assert str(rejection(document)) == "payload.outage_id: required field missing"


def test_rejected_input_error_is_an_invalid_input_error_and_pickles() -> None:
    error = rejection(changed(STARTED, "payload", "impact_percent", to="120"))
    assert isinstance(error, InvalidInputError)
    assert str(error) == 'payload.impact_percent: must be > 0 and <= 100, got "120"'
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.field, copied.rule, str(copied)) == (error.field, error.rule, str(error))


def test_long_values_are_cut_short_in_reasons() -> None:
    error = rejection(changed(STARTED, "payload", "started_at", to="x" * 10_000))
    assert len(str(error)) < 300
    assert "(10000 characters)" in error.rule


def test_field_path() -> None:
    assert field_path(()) == "(document)"
    assert (
        field_path(("services", 0, "monthly_fee"), "payload") == "payload.services[0].monthly_fee"
    )
    assert field_path(("weekly", "mon", 0, 1)) == "weekly.mon[0][1]"
    assert field_path(("a.b",)) == '["a.b"]'


# ---------------------------------------------------------------------------------------
# Raw bytes: decoding and parsing.

GOOD_LINE = json.dumps(envelope("outage.resolved")).encode()

RAW_REJECTED: list[tuple[str, bytes, str, str]] = [
    ("invalid UTF-8", b'{"event_id": "\xff"}', "(document)", "not valid UTF-8 at byte 14"),
    ("truncated UTF-8", GOOD_LINE[:-1] + b"\xe2\x82", "(document)", "not valid UTF-8 at byte"),
    (
        "malformed JSON",
        b'{"a": }',
        "(document)",
        "malformed JSON: Expecting value at line 1 column 7",
    ),
    ("trailing garbage", GOOD_LINE + b" x", "(document)", "malformed JSON: Extra data"),
    # json's own messages for these end in "at": the reason says it once.
    (
        "control character in a string",
        b'{"a": "x\ny"}',
        "(document)",
        "malformed JSON: Invalid control character at line 1 column 9",
    ),
    (
        "unterminated string",
        b'{"a": "xy',
        "(document)",
        "malformed JSON: Unterminated string starting at line 1 column 7",
    ),
    ("NaN", b'{"a": NaN}', "(document)", "malformed JSON: NaN is not a JSON value"),
    (
        "Infinity",
        b'{"a": -Infinity}',
        "(document)",
        "malformed JSON: -Infinity is not a JSON value",
    ),
    ("huge integer", b'{"a": ' + b"9" * 5000 + b"}", "(document)", "a number has too many digits"),
    ("deep nesting", b"[" * 100_000, "(document)", "malformed JSON: arrays and objects nested"),
    ("duplicate key", b'{"event_id": "a", "event_id": "b"}', "event_id", "duplicate key"),
    (
        "nested duplicate key",
        GOOD_LINE.replace(b'"ended_at"', b'"outage_id": "O-2", "ended_at"'),
        "payload.outage_id",
        "duplicate key",
    ),
    ("array", b"[1, 2]", "(document)", "must be a JSON object, got array"),
    ("number", b"42", "(document)", "must be a JSON object, got number 42"),
    ("null", b"null", "(document)", "must be a JSON object, got null"),
    ("empty", b"", "(document)", "empty input"),
    ("white space", b" \t\r\n", "(document)", "empty input"),
    ("too large", b"{" + b" " * MAX_EVENT_BYTES + b"}", "(document)", "larger than 1048576 bytes"),
    ("byte order mark", b"\xef\xbb\xbf" + GOOD_LINE, "(document)", "starts with a byte order mark"),
    (
        "nesting deeper than any envelope",
        b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}",
        "(document)",
        "nested more than 32 deep",
    ),
    (
        "nesting in an unterminated string does not count",
        b'{"a": "' + b"[" * 100,
        "(document)",
        "malformed JSON: Unterminated string",
    ),
    (
        "float money stays exact",
        json.dumps(changed(SIGNED_DOC, *SERVICE, "monthly_fee", to=0))
        .encode()
        .replace(b'"monthly_fee": 0', b'"monthly_fee": 1200.10'),
        "payload.services[0].monthly_fee",
        "must be a decimal string, got number 1200.10",
    ),
    (
        "surrogate in a key",
        GOOD_LINE.replace(b'"source"', b'"s\\ud800"'),
        '["s\\ud800"]',
        "unexpected field",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [pytest.param(raw, field, rule, id=case) for case, raw, field, rule in RAW_REJECTED],
)
def test_raw_rejections(raw: bytes, field: str, rule: str) -> None:
    with pytest.raises(RejectedInputError) as caught:
        parse_line(raw)
    assert caught.value.field == field
    assert rule in caught.value.rule


def test_parse_line_accepts_a_good_line_with_its_line_break() -> None:
    assert parse_line(GOOD_LINE + b"\r\n") == validate_envelope(envelope("outage.resolved"))


def test_parse_line_accepts_exactly_the_maximum_size() -> None:
    raw = GOOD_LINE + b" " * (MAX_EVENT_BYTES - len(GOOD_LINE))
    assert len(raw) == MAX_EVENT_BYTES
    assert parse_line(raw).type == "outage.resolved"


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_NESTED_JSON = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ax', max_size=6),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(value=_NESTED_JSON, extra=st.integers(min_value=0, max_value=40))
def test_nesting_is_refused_exactly_beyond_the_limit(value: object, extra: int) -> None:
    """Brackets inside strings never count; only real nesting past 32 is refused."""
    document = value
    for _ in range(extra):
        document = [document]
    raw = json.dumps(document).encode()
    if _depth(document) <= MAX_NESTING:
        assert parse_strict_json(raw) == document
    else:
        with pytest.raises(RejectedInputError, match="nested more than 32 deep"):
            parse_strict_json(raw)


# ---------------------------------------------------------------------------------------
# Currencies.


def test_minor_units_are_iso_4217s() -> None:
    expected = {"USD": 2, "EUR": 2, "AUD": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3,
                "JOD": 3, "OMR": 3, "TND": 3, "LYD": 3, "IQD": 3, "CLF": 4, "UYW": 4,
                "ISK": 0, "VND": 0, "XAF": 0, "XOF": 0, "XPF": 0, "CLP": 0, "UGX": 0,
                "IRR": 2, "LAK": 2, "MGA": 2, "RSD": 2, "HUF": 2, "SLE": 2, "VED": 2,
                "ZWG": 2, "XCG": 2}  # fmt: skip
    assert {code: minor_units(code) for code in expected} == expected
    assert 160 <= len(MINOR_UNITS) <= 185
    assert all(len(code) == 3 and code.isupper() and code.isascii() for code in MINOR_UNITS)


@pytest.mark.parametrize("code", ["XAU", "XXX", "XTS", "HRK", "ANG", "usd", "", "USDT"])
def test_unknown_or_unusable_currencies_raise_key_error(code: str) -> None:
    with pytest.raises(KeyError):
        minor_units(code)


# ---------------------------------------------------------------------------------------
# Properties: nothing but RejectedInputError escapes, whatever the input.

_ODD_STRINGS = ["", " ", "24x7", "24:00", "P1", "PT0S", "UTC", "AUD", "100", "0", "-1",
                "\ud800", "\x00", "2026-03-04T10:15:00Z", "2026-02-30", EVENT_ID]  # fmt: skip
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-1, 1).map(lambda sign: sign * 10**5000)  # past str()'s digit limit
    | st.floats()
    | st.decimals(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(_ODD_STRINGS)
)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(_ODD_STRINGS), inner, max_size=4)
    ),
    max_leaves=16,
)


def _must_validate_or_reject(document: object) -> None:
    try:
        event = validate_envelope(document)
    except RejectedInputError as error:
        rejected = error
    else:
        assert validate_envelope(json.loads(event.canonical())) == event
        return
    assert rejected.field
    assert rejected.rule
    str(rejected).encode("utf-8")  # a reason can always be stored as text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_arbitrary_json_is_rejected_cleanly(document: object) -> None:
    _must_validate_or_reject(document)


@st.composite
def _mutated_examples(draw: st.DrawFn) -> object:
    """A spec example with one value somewhere replaced, removed or added."""
    document: Any = envelope(draw(st.sampled_from(sorted(PAYLOADS))))
    node = document
    while True:
        if isinstance(node, dict) and node:
            key: str | int = draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = draw(st.integers(0, len(node) - 1))
        else:
            return document
        if not isinstance(node[key], dict | list) or draw(st.integers(0, 3)) == 0:
            break
        node = node[key]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        node[key] = draw(_JSON)
    elif action == "remove":
        del node[key]
    elif isinstance(node, dict):
        node[draw(st.text(max_size=8) | st.sampled_from(_ODD_STRINGS))] = draw(_JSON)
    return document


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_examples())
def test_mutated_examples_are_accepted_or_rejected_cleanly(document: object) -> None:
    _must_validate_or_reject(document)


def _encoded(document: object) -> bytes:
    try:  # NaN and Infinity come out as such: parse_line must refuse them
        return json.dumps(document, default=str).encode("utf-8", "surrogatepass")
    except ValueError:  # an integer too long for str()
        return b"[]"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64) | _JSON.map(_encoded))
def test_parse_line_rejects_arbitrary_bytes_cleanly(raw: bytes) -> None:
    try:
        parse_line(raw)
    except RejectedInputError as error:
        rejected = error
    else:
        return
    assert rejected.field


def test_all_rules_report_through_rejected_input_error() -> None:
    # Helpers that could leak a different exception type on odd inputs.
    odd: list[Callable[[], object]] = [
        lambda: validate_envelope(None),
        lambda: validate_envelope({"event_id": 1.5}),
        lambda: validate_envelope(changed(STARTED, "payload", "customer_ids", to=[[]])),
    ]
    for call in odd:
        with pytest.raises(RejectedInputError):
            call()
