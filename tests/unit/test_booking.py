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
