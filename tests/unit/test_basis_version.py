"""The versioned basis of a credit entry (`ledger.credits.BASIS_FIELDS`).

An entry's `basis_sha256` must recompute from its events for as long as the books are
kept. So each basis version hashes an explicit, frozen list of the row's figures: a field
added to the report later changes no digest of an existing version. Version 1 is the
report row as it stood when versions were introduced, less `status`, so every entry
recorded before then (which carries no version) keeps verifying, and the hash chain
covers `basis_version` only when it is not 1, so none of their links moves either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.attainment import Row
from ledger.chain import LATER_FIELDS, encoding, record_sha256
from ledger.credits import (
    BASIS_FIELDS,
    BASIS_VERSION,
    basis,
    basis_sha256,
    entry_basis_sha256,
    reconcile,
    vanished_basis_sha256,
)
from ledger.inbound import validate_envelope
from projections.audit.bundle_shape import ENTRY, MalformedBundleError, check_shape
from projections.chain_records import library_state
from tests.builders import contract, outage, period_rows, service
from tests.unit.test_credits_reconcile import HORIZON, KEY, MARCH

# The report row's fields when basis versions were introduced, less `status`: listed
# here, not computed, so that no change to the report can move version 1 unnoticed.
VERSION_1 = (
    "contract_id",
    "customer_id",
    "service_id",
    "period",
    "terms_version",
    "currency",
    "remedy",
    "window_seconds",
    "covered_seconds",
    "excluded_seconds",
    "measured_seconds",
    "downtime_seconds",
    "availability_percent",
    "availability_target_percent",
    "availability_met",
    "availability_credit_percent",
    "incidents_met",
    "incidents_missed",
    "incidents_pending",
    "response_attainment_percent",
    "response_credit_percent",
    "credit_percent",
    "fee_basis",
    "credit_amount",
)
# The basis of `row()`, as the ledger computed it before versions existed: SHA-256 of
# the canonical JSON of the row's `as_dict()` less status, and its event ids.
PINNED_V1 = "2bb200bebba34b08eae24529eabccc345a9eb4941e71fe6a8f63d361e7b5d7ec"


def row() -> Row:
    """March's C-1/crm row after a 50-minute outage, from events of fixed ids."""
    documents = [contract(services=[service()])]
    documents += outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    for number, document in enumerate(documents, start=1):
        document["event_id"] = f"00000000-0000-4000-8000-{number:012d}"
    events = [validate_envelope(d) for d in documents]
    (only,) = period_rows(events, MARCH, HORIZON)
    return only


def test_version_1_lists_the_report_fields_it_was_frozen_with() -> None:
    assert BASIS_FIELDS[1] == VERSION_1


def test_version_2_adds_the_resolution_and_payable_figures_to_version_1() -> None:
    assert BASIS_FIELDS[2] == (
        *VERSION_1,
        "resolution_met",
        "resolution_missed",
        "resolution_pending",
        "resolution_attainment_percent",
        "resolution_credit_percent",
        "claim_status",
        "payable_amount",
    )
    figures = basis(row(), 2)["row"]
    assert figures["payable_amount"] == figures["credit_amount"] == "100.00"
    assert basis_sha256(row(), 2) != basis_sha256(row(), 1)


def test_a_version_1_digest_is_the_one_recorded_before_versions_existed() -> None:
    assert basis_sha256(row(), 1) == PINNED_V1


def test_a_report_field_added_later_changes_no_version_1_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = row()
    as_dict = Row.as_dict

    def with_a_new_field(self: Row) -> dict[str, Any]:
        return {**as_dict(self), "claim_status": "open"}

    monkeypatch.setattr(Row, "as_dict", with_a_new_field)
    assert "claim_status" in before.as_dict()
    assert basis_sha256(before, 1) == PINNED_V1
    assert "claim_status" not in basis(before, 1)["row"]


def test_a_report_field_renamed_is_refused_not_hashed_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = row()
    as_dict = Row.as_dict

    def renamed(self: Row) -> dict[str, Any]:
        figures = as_dict(self)
        figures["fee_basis_amount"] = figures.pop("fee_basis")
        return figures

    monkeypatch.setattr(Row, "as_dict", renamed)
    with pytest.raises(KeyError):
        basis_sha256(before, 1)


def test_an_unknown_version_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"no basis version 99 \(known: \[1, 2\]\)"):
        basis(row(), 99)


def test_new_entries_carry_the_current_version_and_its_digest() -> None:
    (issued,) = reconcile({KEY: row()}, [], datetime(2026, 4, 2, tzinfo=UTC))
    assert issued.basis_version == BASIS_VERSION == 2
    assert issued.basis_sha256 == entry_basis_sha256(KEY, row(), issued.basis_version)
    assert issued.as_dict()["basis_version"] == 2
    keys = list(issued.as_dict())
    assert keys[keys.index("basis_sha256") + 1] == "basis_version"


def test_a_vanished_row_has_the_vanished_basis_whatever_the_version() -> None:
    assert entry_basis_sha256(KEY, None, 1) == vanished_basis_sha256(KEY)


def entry_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "entry_id": "e-1",
        "kind": "issue",
        "revision": 1,
        "supersedes": None,
        "contract_id": "C-1",
        "customer_id": "K-1",
        "service_id": "crm",
        "period": "2026-03",
        "amount": "100.00",
        "currency": "USD",
        "remedy": "credit",
        "credit_percent": "10",
        "terms_version": 1,
        "recorded_us": 1_775_088_000_000_000,
        "basis_sha256": PINNED_V1,
    }
    return {**fields, **changes}


def test_the_chain_covers_version_1_as_it_covered_entries_without_a_version() -> None:
    before = entry_fields()
    assert LATER_FIELDS["entry"] == {"basis_version": 1}
    assert encoding("entry", 7, entry_fields(basis_version=1)) == encoding("entry", 7, before)
    assert encoding("entry", 7, before).endswith(f'"{PINNED_V1}"]'.encode())


def test_the_chain_covers_any_other_version() -> None:
    version_2 = record_sha256("entry", 7, entry_fields(basis_version=2))
    assert version_2 != record_sha256("entry", 7, entry_fields())
    assert encoding("entry", 7, entry_fields(basis_version=2)).endswith(b",2]")


def test_an_entrys_event_store_record_holds_version_1_as_before() -> None:
    chained = {**entry_fields(), "chain_pos": 7, "chain_sha256": "0" * 64}
    assert library_state("entry", {**chained, "basis_version": 1}) == library_state(
        "entry", chained
    )
    assert b'"basis_version":2' in library_state("entry", {**chained, "basis_version": 2})


def bundled(**changes: Any) -> dict[str, Any]:
    return {**entry_fields(**changes), "chain_pos": 7, "chain_sha256": "0" * 64}


def test_a_bundle_entry_may_carry_its_version_or_not() -> None:
    check_shape(bundled(), ENTRY, "entries.jsonl line 1")
    check_shape(bundled(basis_version=1), ENTRY, "entries.jsonl line 1")


@pytest.mark.parametrize("version", [0, 99, "1", True, None])
def test_a_bundle_entry_of_no_known_version_is_malformed(version: object) -> None:
    with pytest.raises(MalformedBundleError, match="basis_version must be a basis version"):
        check_shape(bundled(basis_version=version), ENTRY, "entries.jsonl line 1")
