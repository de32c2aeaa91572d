"""`ledger.period_rows`: a period's rows from its events, with no store.

The store (`projections.attainment`) and the offline check of an audit bundle both hand
their events here, so both get the same rows from the same events. Each row sees the
outages and windows of its service that are service-wide or name its customer, and the
incidents of its contract; nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.attainment import Row
from ledger.events import InboundEvent, RecordedEvent
from ledger.inbound import validate_envelope
from ledger.period_rows import SubjectIndex, fold_contracts, fold_period
from ledger.periods import Period, to_us
from ledger.timeformat import parse_rfc3339
from tests.builders import contract, ev, outage, period_rows, service

MARCH = Period(2026, 3)
HORIZON = to_us(parse_rfc3339("2026-04-02T00:00:00Z"))
RECORDED = datetime(2026, 4, 1, tzinfo=UTC)


def recorded(documents: list[dict[str, object]]) -> list[RecordedEvent]:
    return [RecordedEvent(validate_envelope(d), RECORDED) for d in documents]


def rows_of(documents: list[dict[str, object]], closed_at: datetime | None = None) -> list[Row]:
    events = recorded(documents)
    contracts = fold_contracts(e for e in events if e.event.subject_kind == "contract")
    subjects = [e for e in events if e.event.subject_kind != "contract"]
    return fold_period(MARCH, HORIZON, contracts, subjects, closed_at).rows()


def test_a_customer_sees_service_wide_subjects_and_its_own_only() -> None:
    index = SubjectIndex[str]()
    index.add("crm", None, "everyone's")
    index.add("crm", frozenset({"K-1"}), "K-1's")
    index.add("crm", frozenset({"K-2"}), "K-2's")
    index.add("api", None, "api's")
    assert index.relevant({"crm"}, "K-1") == ["everyone's", "K-1's"]
    assert index.relevant({"crm", "api"}, "K-2") == ["api's", "everyone's", "K-2's"]
    assert index.relevant({"portal"}, "K-1") == []


def test_a_subject_naming_several_customers_is_found_once_for_each() -> None:
    index = SubjectIndex[str]()
    index.add("crm", frozenset({"K-1", "K-2", "K-3"}), "shared")
    index.add("crm", None, "everyone's")
    for customer in ("K-1", "K-2", "K-3"):
        assert index.relevant({"crm"}, customer) == ["everyone's", "shared"]
    assert index.relevant({"crm"}, "K-4") == ["everyone's"]


def test_contracts_are_folded_in_id_order_and_only_once_signed() -> None:
    amended_only = ev(
        "contract.amended",
        "2026-02-01T00:00:00Z",
        {"contract_id": "C-0", "effective_from": "2026-03-01", "services": [service()]},
    )
    documents = [contract("C-2"), contract("C-1", customer_id="K-9"), amended_only]
    folded = fold_contracts(recorded(documents))
    assert [c.contract_id for c in folded] == ["C-1", "C-2"]


def test_rows_are_closed_or_provisional_with_the_period() -> None:
    documents = [contract("C-1", services=[service("crm"), service("api")])]
    assert {r.status for r in rows_of(documents)} == {"provisional"}
    assert {r.status for r in rows_of(documents, RECORDED)} == {"closed"}


def test_rows_come_sorted_by_contract_then_service() -> None:
    documents = [
        contract("C-2", services=[service("crm"), service("api")]),
        contract("C-1", customer_id="K-2", services=[service("portal"), service("api")]),
    ]
    keys = [(r.contract.contract_id, r.service.service_id) for r in rows_of(documents)]
    assert keys == [("C-1", "api"), ("C-1", "portal"), ("C-2", "api"), ("C-2", "crm")]


def test_an_incident_counts_for_its_contract_once_its_opening_is_known() -> None:
    opened = ev(
        "incident.opened",
        "2026-03-10T10:00:00Z",
        {
            "incident_id": "I-1",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": "2026-03-10T10:00:00Z",
        },
    )
    responded_only = ev(
        "incident.responded",
        "2026-03-11T10:00:00Z",
        {"incident_id": "I-2", "responded_at": "2026-03-11T10:00:00Z"},
    )
    contracts = fold_contracts(recorded([contract("C-1", services=[service()])]))
    inputs = fold_period(MARCH, HORIZON, contracts, recorded([opened, responded_only]), None)
    assert {
        c: [i.incident_id for i in found] for c, found in inputs.incidents_by_contract.items()
    } == {"C-1": ["I-1"]}


minutes = st.integers(min_value=1, max_value=600)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=28),
            minutes,
            st.sampled_from([None, ["K-1"], ["K-2"], ["K-1", "K-2"]]),
            st.sampled_from(["crm", "api"]),
        ),
        max_size=5,
    )
)
def test_the_fold_gives_the_rows_of_an_independent_fold_of_the_same_events(
    outages: list[tuple[int, int, list[str] | None, str]],
) -> None:
    """`tests.builders.period_rows` folds each subject and hands every one of them to
    every contract; `fold_period` hands each contract only what can apply to it. The
    rows must be the same."""
    documents = [
        contract("C-1", customer_id="K-1", services=[service("crm"), service("api")]),
        contract("C-2", customer_id="K-2", services=[service("crm")]),
    ]
    for number, (day, length, customers, service_id) in enumerate(outages):
        start = datetime(2026, 3, day, 9, tzinfo=UTC)
        end = start + timedelta(minutes=length)
        documents += outage(
            f"O-{number}",
            start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            service_id=service_id,
            customers=customers,
        )
    independent: list[InboundEvent] = [validate_envelope(d) for d in documents]
    expected = [r.as_dict() for r in period_rows(independent, MARCH, HORIZON)]
    for row in expected:
        row["status"] = "provisional"
    assert [r.as_dict() for r in rows_of(documents)] == expected
