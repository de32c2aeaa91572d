"""Which subjects a period or a contract's rows can need (projections/store/subject_index)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.contracts import fold_contract
from ledger.inbound import validate_envelope
from projections.store.schema import BUCKET_US, BUCKETS_MAX
from projections.store.subject_index import (
    bucket_range,
    contract_scopes,
    contract_terms_wanted,
    contracts_reached,
    is_wide,
    scopes_of,
)
from tests.builders import contract, ev, outage, service


def test_an_outage_of_some_customers_reaches_those_customers_rows_of_its_service() -> None:
    started, _ = outage(
        "O-1", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z", customers=["K-1", "K-2"]
    )
    assert scopes_of(validate_envelope(started)) == {"s\x1fcrm\x1fK-1", "s\x1fcrm\x1fK-2"}
    everyone, resolved = outage("O-2", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z")
    assert scopes_of(validate_envelope(everyone)) == {"s\x1fcrm\x1f"}
    assert scopes_of(validate_envelope(resolved)) == set()  # the subject keeps its scopes


def test_an_incident_reaches_its_contract_and_a_contract_names_its_services_and_customer() -> None:
    opened = ev(
        "incident.opened",
        "2026-03-01T00:00:00Z",
        {
            "incident_id": "I-1",
            "contract_id": "C-9",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": "2026-03-01T00:00:00Z",
        },
    )
    assert scopes_of(validate_envelope(opened)) == {"c\x1fC-9"}
    signed = contract("C-9", "K-9", services=[service("crm"), service("erp")])
    assert scopes_of(validate_envelope(signed)) == {
        "service\x1fcrm",
        "service\x1ferp",
        "customer\x1fK-9",
    }


def test_the_contracts_reached_are_those_whose_terms_match_every_part_of_a_scope() -> None:
    terms = {
        "service\x1fcrm": {"C-1", "C-2", "C-3"},
        "customer\x1fK-1": {"C-1", "C-4"},
    }
    scopes = {"s\x1fcrm\x1fK-1", "c\x1fC-7"}
    assert contract_terms_wanted(scopes) == {"service\x1fcrm", "customer\x1fK-1"}
    assert contracts_reached(scopes, terms) == {"C-1", "C-7"}
    assert contracts_reached({"s\x1fcrm\x1f"}, terms) == {"C-1", "C-2", "C-3"}
    assert contracts_reached({"s\x1ferp\x1f"}, terms) == set()


def test_a_contracts_own_scopes_are_those_of_the_subjects_that_reach_it() -> None:
    state = fold_contract([validate_envelope(contract("C-1", "K-1", services=[service("crm")]))])
    assert state is not None
    assert contract_scopes(state) == {"c\x1fC-1", "s\x1fcrm\x1f", "s\x1fcrm\x1fK-1"}


@given(lo=st.integers(-(2**50), 2**50), length=st.integers(0, BUCKET_US * (BUCKETS_MAX + 3)))
def test_every_instant_of_a_span_falls_in_one_of_its_buckets(lo: int, length: int) -> None:
    hi = lo + length
    buckets = bucket_range(lo, hi)
    for instant in (lo, hi, lo + length // 2):
        assert instant // BUCKET_US in buckets
    assert len(buckets) <= length // BUCKET_US + 2
    assert is_wide(lo, hi, has_end=1) == (length > BUCKET_US * BUCKETS_MAX)
    assert is_wide(lo, hi, has_end=0)
