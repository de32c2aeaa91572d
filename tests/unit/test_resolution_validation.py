"""Validation of events.md "Additions" for resolution targets and pauses (sla-math §11)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.contracts import fold_contract
from ledger.inbound import validate_envelope
from tests.unit.test_inbound_validation import DELETE, changed, envelope, rejection

RESPONSE = ("payload", "services", 0, "incident_response")
FIELD = "payload.services[0].incident_response"


def signed_with(**fields: Any) -> dict[str, Any]:
    document = envelope("contract.signed")
    document["payload"]["services"][0]["incident_response"].update(copy.deepcopy(fields))
    return document


def test_resolution_terms_are_accepted_and_read() -> None:
    document = signed_with(
        resolution_targets={"P1": "PT4H", "P2": "PT8H", "P3": "P1D", "P4": "P2DT1H30M0.5S"},
        resolution_credit_tiers=[
            {"below_percent": "90", "credit_percent": "5"},
            {"below_percent": "50", "credit_percent": "10"},
        ],
    )
    event = validate_envelope(document)
    terms = event.payload["services"][0]["incident_response"]
    assert terms["resolution_targets"]["P3"] == "P1D"
    contract = fold_contract([event])
    assert contract is not None
    response = contract.versions[0].services[0].incident_response
    assert response is not None
    assert response.resolution_targets is not None
    assert response.resolution_targets["P3"].total_seconds() == 24 * 3600  # D is 24 h
    assert response.resolution_targets["P4"].total_seconds() == 2 * 86400 + 5400.5
    assert [t.below_percent for t in response.resolution_credit_tiers] == [50, 90]


def test_absent_or_null_resolution_terms_leave_the_payload_as_it_always_was() -> None:
    plain = validate_envelope(envelope("contract.signed"))
    nulls = validate_envelope(signed_with(resolution_targets=None, resolution_credit_tiers=None))
    assert plain.canonical() == nulls.canonical()
    assert "resolution_targets" not in plain.payload["services"][0]["incident_response"]
    contract = fold_contract([plain])
    assert contract is not None
    response = contract.versions[0].services[0].incident_response
    assert response is not None
    assert response.resolution_targets is None
    assert response.resolution_credit_tiers == ()


def test_resolution_tiers_without_targets_are_kept() -> None:
    event = validate_envelope(
        signed_with(resolution_credit_tiers=[{"below_percent": "100", "credit_percent": "5"}])
    )
    assert event.payload["services"][0]["incident_response"]["resolution_credit_tiers"] == [
        {"below_percent": "100", "credit_percent": "5"}
    ]


REJECTED = [
    (
        "week",
        {"P1": "P1W"},
        ".P1",
        'must use only the units D, H, M and S (years, months and weeks are refused), got "P1W"',
    ),
    (
        "year",
        {"P2": "P1Y"},
        ".P2",
        'must use only the units D, H, M and S (years, months and weeks are refused), got "P1Y"',
    ),
    (
        "month",
        {"P3": "P1M"},
        ".P3",
        'must use only the units D, H, M and S (years, months and weeks are refused), got "P1M"',
    ),
    ("month and time", {"P1": "P1MT1H"}, ".P1", "years, months and weeks are refused"),
    ("zero", {"P1": "PT0S"}, ".P1", 'must be longer than zero, got "PT0S"'),
    ("zero days", {"P1": "P0D"}, ".P1", 'must be longer than zero, got "P0D"'),
    ("not a duration", {"P1": "4 hours"}, ".P1", 'must be an ISO 8601 duration such as "PT15M"'),
    (
        "a number",
        {"P1": 14400},
        ".P1",
        'must be an ISO 8601 duration string such as "PT4H", got number 14400',
    ),
    ("null target", {"P1": None}, ".P1", "must be an ISO 8601 duration string"),
    ("unknown priority", {"P5": "PT1H"}, ".P5", "unexpected field (allowed: P1, P2, P3, P4)"),
    ("not an object", ["PT1H"], "", "must be an object, got array"),
    ("bare P", {"P1": "P"}, ".P1", "must be an ISO 8601 duration"),
    ("negative", {"P1": "-PT1H"}, ".P1", "must be an ISO 8601 duration"),
]


@pytest.mark.parametrize(
    ("targets", "suffix", "rule"),
    [pytest.param(targets, suffix, rule, id=case) for case, targets, suffix, rule in REJECTED],
)
def test_resolution_targets_rejections_name_the_field_and_rule(
    targets: object, suffix: str, rule: str
) -> None:
    error = rejection(signed_with(resolution_targets=targets))
    assert error.field == f"{FIELD}.resolution_targets{suffix}"
    assert rule in error.rule


TIER_REJECTED = [
    (
        "repeated threshold",
        [
            {"below_percent": "90", "credit_percent": "5"},
            {"below_percent": "90.0", "credit_percent": "9"},
        ],
        "[1].below_percent",
        'must be distinct: "90.0" repeats resolution_credit_tiers[0].below_percent "90"',
    ),
    (
        "threshold 0",
        [{"below_percent": "0", "credit_percent": "5"}],
        "[0].below_percent",
        "must be > 0 and <= 100",
    ),
    (
        "credit over 100",
        [{"below_percent": "90", "credit_percent": "101"}],
        "[0].credit_percent",
        "must be >= 0 and <= 100",
    ),
    (
        "a number",
        [{"below_percent": 90, "credit_percent": "5"}],
        "[0].below_percent",
        "must be a decimal string, got number 90",
    ),
    ("missing credit", [{"below_percent": "90"}], "[0].credit_percent", "required field missing"),
    (
        "extra field",
        [{"below_percent": "90", "credit_percent": "5", "x": 1}],
        "[0].x",
        "unexpected field",
    ),
    ("not a list", {"below_percent": "90"}, "", "must be an array, got object"),
]


@pytest.mark.parametrize(
    ("tiers", "suffix", "rule"),
    [pytest.param(tiers, suffix, rule, id=case) for case, tiers, suffix, rule in TIER_REJECTED],
)
def test_resolution_credit_tiers_follow_the_credit_tier_rules(
    tiers: object, suffix: str, rule: str
) -> None:
    error = rejection(signed_with(resolution_credit_tiers=tiers))
    assert error.field == f"{FIELD}.resolution_credit_tiers{suffix}"
    assert rule in error.rule


def test_the_amendment_is_validated_alike() -> None:
    document = envelope("contract.amended")
    document["payload"]["services"][0]["incident_response"] = {
        "targets": {"P1": "PT1H"},
        "business_hours": "24x7",
        "credit_tiers": [],
        "resolution_targets": {"P1": "P2W"},
    }
    error = rejection(document)
    assert error.field == f"{FIELD}.resolution_targets.P1"
    assert "weeks are refused" in error.rule


def test_pause_and_resume_are_accepted_and_normalised() -> None:
    paused = validate_envelope(
        envelope(
            "incident.paused",
            {"incident_id": "I-1", "at": "2026-03-04T20:50:00+10:00", "reason": "waiting"},
        )
    )
    assert paused.payload == {
        "incident_id": "I-1",
        "at": "2026-03-04T10:50:00Z",
        "reason": "waiting",
    }
    assert paused.subject_kind == "incident"
    assert paused.subject_id == "I-1"
    resumed = validate_envelope(envelope("incident.resumed"))
    assert resumed.payload == {"incident_id": "I-1", "at": "2026-03-04T11:30:00Z"}


PAUSE_REJECTED = [
    (
        "paused",
        ("payload", "reason"),
        DELETE,
        "payload.reason",
        "required field missing",
    ),
    (
        "paused",
        ("payload", "reason"),
        "",
        "payload.reason",
        "must not be empty or only white space",
    ),
    (
        "paused",
        ("payload", "reason"),
        "  ",
        "payload.reason",
        "must not be empty or only white space",
    ),
    ("paused", ("payload", "reason"), 7, "payload.reason", "must be a string, got number 7"),
    ("paused", ("payload", "at"), DELETE, "payload.at", "required field missing"),
    (
        "paused",
        ("payload", "at"),
        "2026-03-04T10:50:00",
        "payload.at",
        "must have an explicit offset",
    ),
    ("paused", ("payload", "incident_id"), "", "payload.incident_id", "must not be empty"),
    ("paused", ("payload", "extra"), 1, "payload.extra", "unexpected field"),
    ("resumed", ("payload", "at"), DELETE, "payload.at", "required field missing"),
    ("resumed", ("payload", "at"), "yesterday", "payload.at", "must be an RFC 3339 timestamp"),
    ("resumed", ("payload", "reason"), "back", "payload.reason", "unexpected field"),
    (
        "resumed",
        ("payload", "incident_id"),
        DELETE,
        "payload.incident_id",
        "required field missing",
    ),
]


@pytest.mark.parametrize(
    ("kind", "path", "value", "field", "rule"),
    [pytest.param(*case, id=f"{case[0]}-{case[3]}-{n}") for n, case in enumerate(PAUSE_REJECTED)],
)
def test_pause_and_resume_rejections_name_the_field_and_rule(
    kind: str, path: tuple[str, ...], value: object, field: str, rule: str
) -> None:
    document = envelope(f"incident.{kind}")
    document = changed(document, *path) if value is DELETE else changed(document, *path, to=value)
    error = rejection(document)
    assert error.field == field
    assert rule in error.rule
