"""Validation of the claim terms and events (events.md "Additions"): each refusal names
the field and the rule, and a contract without the new terms normalises as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.inbound import RejectedInputError, validate_envelope
from tests.unit.test_inbound_validation import PAYLOADS, envelope


def signed(**terms: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOADS["contract.signed"])
    payload["services"][0].update(terms)
    return envelope("contract.signed", payload)


def refused(document: dict[str, Any]) -> str:
    with pytest.raises(RejectedInputError) as caught:
        validate_envelope(document)
    return str(caught.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("60", 'must be an integer >= 1 or null, got string "60"'),
        (60.0, "must be an integer >= 1 or null, got number 60.0"),
        (True, "must be an integer >= 1 or null, got boolean true"),
        (0, "must be >= 1 and <= 2147483647, got 0"),
        (-5, "must be >= 1 and <= 2147483647, got -5"),
    ],
)
def test_claim_deadline_days_must_be_a_json_integer_of_at_least_one(
    value: object, reason: str
) -> None:
    assert refused(signed(claim_deadline_days=value)) == (
        f"payload.services[0].claim_deadline_days: {reason}"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1, "must be a decimal string, got number 1"),
        ("-1.00", 'must not be negative, got "-1.00"'),
        ("1.005", 'must have at most 2 decimals (the minor unit of AUD), got "1.005"'),
        ("abc", 'must be a decimal string such as "99.95", got "abc"'),
    ],
)
def test_credit_threshold_amount_is_money_in_the_currency(value: object, reason: str) -> None:
    assert refused(signed(credit_threshold_amount=value)) == (
        f"payload.services[0].credit_threshold_amount: {reason}"
    )


def test_the_threshold_follows_the_currency_minor_unit() -> None:
    document = signed(credit_threshold_amount="100")
    document["payload"]["currency"] = "JPY"
    assert validate_envelope(document).payload["services"][0]["credit_threshold_amount"] == "100"
    document["payload"]["services"][0]["credit_threshold_amount"] = "100.5"
    assert refused(document) == (
        "payload.services[0].credit_threshold_amount: must have at most 0 decimals (the "
        'minor unit of JPY), got "100.5"'
    )


def test_new_terms_are_kept_and_their_nulls_normalise_as_before() -> None:
    plain = validate_envelope(signed())
    nulls = validate_envelope(signed(claim_deadline_days=None, credit_threshold_amount=None))
    assert nulls.payload == plain.payload
    assert nulls.content_sha256() == plain.content_sha256()
    assert "claim_deadline_days" not in plain.payload["services"][0]
    given = validate_envelope(signed(claim_deadline_days=60, credit_threshold_amount="1.00"))
    service = given.payload["services"][0]
    assert (service["claim_deadline_days"], service["credit_threshold_amount"]) == (60, "1.00")


PERIOD_RULE = 'must be "YYYY-MM" (month 01 to 12) or "YYYY"'
NAIVE = "2026-04-02T09:00:00"


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        ("claim.submitted", {"period": "2026-13"}, f'payload.period: {PERIOD_RULE}, got "2026-13"'),
        ("claim.submitted", {"period": "2026-00"}, f'payload.period: {PERIOD_RULE}, got "2026-00"'),
        ("claim.submitted", {"period": "26"}, f'payload.period: {PERIOD_RULE}, got "26"'),
        (
            "claim.submitted",
            {"period": 2026},
            'payload.period: must be a period label "YYYY-MM" or "YYYY", got number 2026',
        ),
        (
            "claim.submitted",
            {"submitted_at": NAIVE},
            "payload.submitted_at: must have an explicit offset (Z or +HH:MM), got naive "
            f'timestamp "{NAIVE}"',
        ),
        ("claim.submitted", {"contract_id": ""}, "payload.contract_id: must not be empty"),
        (
            "claim.decided",
            {"decision": "maybe"},
            'payload.decision: must be one of "approved", "denied", got "maybe"',
        ),
        (
            "claim.decided",
            {"reason": "  "},
            "payload.reason: must not be empty or only white space",
        ),
        ("claim.withdrawn", {"reason": "x"}, "payload.reason: unexpected field"),
    ],
)
def test_claim_events_are_refused_naming_field_and_rule(
    kind: str, change: dict[str, Any], reason: str
) -> None:
    payload = {**PAYLOADS[kind], **change}
    assert refused(envelope(kind, payload)) == reason


def test_missing_claim_fields_are_named() -> None:
    payload = dict(PAYLOADS["claim.submitted"])
    del payload["service_id"]
    assert refused(envelope("claim.submitted", payload)) == (
        "payload.service_id: required field missing"
    )
    assert refused(envelope("claim.decided", {"claim_id": "CL-1", "decision": "denied"})) == (
        "payload.reason: required field missing"
    )


def test_an_annual_period_is_accepted() -> None:
    payload = {**PAYLOADS["claim.submitted"], "period": "2026"}
    assert validate_envelope(envelope("claim.submitted", payload)).payload["period"] == "2026"
