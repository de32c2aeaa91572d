"""`credits.reconcile`: the entries that make a closed period's books match its rows
(spec: sla-math, credit entries; outputs.md, entries).

Entries are never changed: a row whose credit changes gets its active issue reversed and
a new issue at the next revision; a row that owes nothing any more gets the reversal
alone; a row that vanished (its coverage withdrawn) too, with a basis naming only its key.
Whatever the sequence of corrections, a row's entries sum to what it owes now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.attainment import Row
from ledger.credits import (
    CreditEntry,
    active_issue,
    basis_sha256,
    entry_id,
    reconcile,
    vanished_basis_sha256,
)
from ledger.inbound import validate_envelope
from ledger.periods import Period, to_us
from ledger.row_key import RowKey
from ledger.timeformat import parse_rfc3339
from tests.builders import contract, outage, period_rows, service

MARCH = Period(2026, 3)
HORIZON = to_us(parse_rfc3339("2026-04-02T00:00:00Z"))
CLOSED = datetime(2026, 4, 2, tzinfo=UTC)
KEY = RowKey("C-1", "crm", "2026-03")


def rows(outage_minutes: int, *, covered: bool = True) -> dict[RowKey, Row]:
    """March's rows of contract C-1 (one service, crm, fee 1000.00, tiers 10/25/100% below
    99.9/99.0/95.0) after one outage of `outage_minutes`; none when not `covered`."""
    if not covered:
        return {}
    documents = [contract(services=[service()])]
    if outage_minutes:
        end = datetime(2026, 3, 10, 10, tzinfo=UTC) + timedelta(minutes=outage_minutes)
        documents += outage("O-1", "2026-03-10T10:00:00Z", end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    events = [validate_envelope(d) for d in documents]
    return {row.key: row for row in period_rows(events, MARCH, HORIZON)}


def booked(entries: list[CreditEntry]) -> Decimal:
    return sum((e.amount_major for e in entries), Decimal(0))


def test_the_close_issues_revision_1_for_a_row_that_owes_a_credit() -> None:
    now = rows(50)  # 50 minutes: 99.888%, the 10% tier
    (issued,) = reconcile(now, [], CLOSED)
    assert (issued.kind, issued.revision, issued.supersedes) == ("issue", 1, None)
    assert issued.entry_id == entry_id(KEY, "issue", 1)
    assert (issued.amount_major, issued.credit_percent, issued.currency) == (
        Decimal("100.00"),
        Decimal("10"),
        "USD",
    )
    assert issued.as_dict()["credit_percent"] == "10"  # the text chained and printed
    assert issued.basis_sha256 == basis_sha256(now[KEY])
    assert issued.recorded_at == CLOSED


def test_a_row_that_owes_nothing_gets_no_entry() -> None:
    assert reconcile(rows(0), [], CLOSED) == []


def test_nothing_is_appended_while_the_books_match() -> None:
    entries = reconcile(rows(50), [], CLOSED)
    assert reconcile(rows(50), entries, CLOSED + timedelta(days=1)) == []


def test_a_changed_credit_reverses_the_active_issue_and_issues_the_next_revision() -> None:
    first = reconcile(rows(50), [], CLOSED)
    later = CLOSED + timedelta(days=3)
    now = rows(600)  # 10 hours: 98.66%, the 25% tier
    reversal, reissue = reconcile(now, first, later)
    assert (reversal.kind, reversal.revision, reversal.supersedes) == (
        "reversal",
        1,
        first[0].entry_id,
    )
    assert reversal.entry_id == entry_id(KEY, "reversal", 1)
    assert reversal.amount_major == -first[0].amount_major
    assert (reissue.kind, reissue.revision, reissue.amount_major) == ("issue", 2, Decimal("250.00"))
    # Both carry the basis of the row as it stands now, and the moment of the correction.
    assert reversal.basis_sha256 == reissue.basis_sha256 == basis_sha256(now[KEY])
    assert reversal.recorded_at == reissue.recorded_at == later
    assert booked([*first, reversal, reissue]) == Decimal("250.00")


def test_a_credit_that_falls_to_zero_is_reversed_alone() -> None:
    first = reconcile(rows(50), [], CLOSED)
    (reversal,) = reconcile(rows(0), first, CLOSED + timedelta(days=1))
    assert reversal.kind == "reversal"
    assert booked([*first, reversal]) == 0


def test_a_row_that_vanished_is_reversed_with_a_basis_naming_its_key() -> None:
    first = reconcile(rows(50), [], CLOSED)
    (reversal,) = reconcile(rows(50, covered=False), first, CLOSED + timedelta(days=1))
    assert reversal.supersedes == first[0].entry_id
    assert reversal.basis_sha256 == vanished_basis_sha256(KEY)
    assert booked([*first, reversal]) == 0


def test_an_issue_after_a_reversal_to_zero_takes_the_revision_after_every_earlier_one() -> None:
    entries = reconcile(rows(50), [], CLOSED)
    entries += reconcile(rows(0), entries, CLOSED + timedelta(days=1))
    (reissue,) = reconcile(rows(600), entries, CLOSED + timedelta(days=2))
    assert (reissue.kind, reissue.revision) == ("issue", 2)
    assert reissue.entry_id not in {e.entry_id for e in entries}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 5, 50, 200, 600, 2000, 4000]), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_after_any_corrections_the_entries_sum_to_what_the_row_owes(
    corrections: list[tuple[int, bool]],
) -> None:
    """Each step: the outage's length, and whether the contract still covers the period."""
    entries: list[CreditEntry] = []
    moment = CLOSED
    for minutes, covered in corrections:
        now = rows(minutes, covered=covered)
        moment += timedelta(hours=1)
        entries += reconcile(now, entries, moment)
        owed = now[KEY].credit_amount_major if KEY in now else Decimal(0)
        assert booked(entries) == owed
        active = active_issue(entries)
        assert (active.amount_major if active is not None else Decimal(0)) == owed
        # Entries are only ever appended, each under an id of its own.
        assert len({e.entry_id for e in entries}) == len(entries)
        issues = [e.revision for e in entries if e.kind == "issue"]
        assert issues == sorted(set(issues))
