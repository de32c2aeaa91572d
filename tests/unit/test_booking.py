"""Booking fields: derived from the entry alone, exact and deterministic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger.booking import amount_minor, booking_fields
from ledger.credits import CreditEntry


def _entry(**changes: object) -> CreditEntry:
    fields: dict[str, object] = {
        "entry_id": "e-1",
        "kind": "issue",
        "revision": 1,
        "supersedes": None,
        "contract_id": "C-1",
        "customer_id": "K-1",
        "service_id": "crm",
        "period": "2026-03",
        "amount_major": Decimal("1200.00"),
        "currency": "AUD",
        "remedy": "credit",
        "credit_percent": Decimal("10"),
        "terms_version": 1,
        "recorded_at": datetime(2026, 4, 1, tzinfo=UTC),
        "basis_sha256": "0" * 64,
        "basis_version": 1,
    }
    fields.update(changes)
    return CreditEntry(**fields)  # type: ignore[arg-type]


def test_issue_fields() -> None:
    assert booking_fields(_entry()) == {
        "amount_minor": 120000,
        "service_period_start": "2026-03-01",
        "service_period_end": "2026-04-01",
        "remedy_type": "credit_note",
        "reason_code": "sla_credit",
        "memo": "SLA credit of 10% for crm, March 2026: 1,200.00 AUD as a credit note",
        "idempotency_key": "e-1",
    }


def test_reversal_names_what_it_reverses() -> None:
    reversal = _entry(
        entry_id="e-2",
        kind="reversal",
        supersedes="e-1",
        amount_major=Decimal("-1200.00"),
        remedy="cash",
        period="2026-12",
    )
    fields = booking_fields(reversal)
    assert fields["amount_minor"] == -120000
    assert fields["service_period_end"] == "2027-01-01"
    assert fields["remedy_type"] == "cash"
    assert fields["memo"] == (
        "Reversal of e-1: SLA credit of 10% for crm, December 2026: 1,200.00 AUD as cash"
    )


def test_minor_units_follow_the_currency() -> None:
    assert amount_minor(Decimal("30000"), "JPY") == 30000
    assert amount_minor(Decimal("75.125"), "KWD") == 75125
    with pytest.raises(ValueError, match="minor units"):
        amount_minor(Decimal("1.005"), "EUR")


def test_as_dict_keeps_the_stored_fields_first() -> None:
    document = _entry().as_dict()
    assert list(document)[:16][-1] == "basis_version"
    assert document["idempotency_key"] == document["entry_id"]


# The basis row figures of version 1 a memo reads (others omitted: the memo ignores them).
FIGURES: dict[str, object] = {
    "availability_percent": "99.4100",
    "availability_target_percent": "99.9",
    "availability_credit_percent": "10",
    "incidents_missed": None,
    "response_attainment_percent": None,
    "response_credit_percent": "0",
    "credit_percent": "10",
    "fee_basis": "12000.00",
    "currency": "AUD",
}


def _figures(**changes: object) -> dict[str, object]:
    return {**FIGURES, **changes}


def test_memo_states_the_measured_availability() -> None:
    entry = _entry(memo_figures=_figures())
    assert booking_fields(entry)["memo"] == (
        "Availability 99.41% below 99.9% target, crm, March 2026: 10% of 12,000.00 AUD"
    )


def test_memo_states_the_incident_response() -> None:
    figures = _figures(
        availability_credit_percent="0",
        incidents_missed=1,
        response_attainment_percent="75.0000",
        response_credit_percent="5",
        credit_percent="5",
    )
    assert booking_fields(_entry(memo_figures=figures))["memo"] == (
        "Incident response 75% of incidents answered in time (1 missed), crm, March 2026: "
        "5% of 12,000.00 AUD"
    )


def test_memo_states_both_reasons() -> None:
    figures = _figures(
        incidents_missed=2, response_attainment_percent="50.0000", response_credit_percent="5"
    )
    figures["credit_percent"] = "15"
    assert booking_fields(_entry(memo_figures=figures))["memo"] == (
        "Availability 99.41% below 99.9% target and 2 incident responses missed, crm, "
        "March 2026: 15% of 12,000.00 AUD"
    )


def test_reversal_and_reissue_memos() -> None:
    reversal = _entry(kind="reversal", supersedes="e-1", memo_figures=_figures())
    assert booking_fields(reversal)["memo"] == (
        "Reversal of e-1: Availability 99.41% below 99.9% target, crm, March 2026: "
        "10% of 12,000.00 AUD"
    )
    reissue = _entry(revision=2, memo_figures=_figures(availability_percent="99.5000"))
    assert booking_fields(reissue)["memo"] == (
        "Re-issue (revision 2): Availability 99.5% below 99.9% target, crm, March 2026: "
        "10% of 12,000.00 AUD"
    )


def test_memo_without_usable_figures_keeps_the_entry_wording() -> None:
    wording = "SLA credit of 10% for crm, March 2026: 1,200.00 AUD as a credit note"
    no_credit = _figures(availability_credit_percent="0")
    missing = {"credit_percent": "10"}
    for figures in (None, no_credit, missing):
        entry = _entry(revision=2, memo_figures=figures)
        assert booking_fields(entry)["memo"] == wording


def test_figures_are_no_part_of_the_entry() -> None:
    plain, described = _entry(), _entry(memo_figures=_figures(), basis_document="{}")
    assert plain == described
    assert hash(plain) == hash(described)
    assert plain.as_dict()["memo"] != described.as_dict()["memo"]


def test_memo_states_the_incident_resolution() -> None:
    figures = _figures(
        availability_credit_percent="0",
        resolution_missed=1,
        resolution_attainment_percent="50.0000",
        resolution_credit_percent="10",
        credit_percent="10",
    )
    assert booking_fields(_entry(memo_figures=figures))["memo"] == (
        "Incident resolution 50% of incidents resolved in time (1 missed), crm, March 2026: "
        "10% of 12,000.00 AUD"
    )


def test_memo_adds_missed_resolutions_to_the_other_reasons() -> None:
    figures = _figures(
        incidents_missed=2,
        response_attainment_percent="50.0000",
        response_credit_percent="5",
        resolution_missed=3,
        resolution_credit_percent="10",
    )
    figures["credit_percent"] = "25"
    assert booking_fields(_entry(memo_figures=figures))["memo"] == (
        "Availability 99.41% below 99.9% target and 2 incident responses missed and 3 "
        "incident resolutions missed, crm, March 2026: 25% of 12,000.00 AUD"
    )
    # A basis without resolution fields (version 1) says what it always said.
    del figures["resolution_missed"], figures["resolution_credit_percent"]
    figures["credit_percent"] = "15"
    assert booking_fields(_entry(memo_figures=figures))["memo"] == (
        "Availability 99.41% below 99.9% target and 2 incident responses missed, crm, "
        "March 2026: 15% of 12,000.00 AUD"
    )
