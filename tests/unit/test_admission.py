"""Whether an offered event joins the log (ledger/admission.py)."""

from __future__ import annotations

from ledger.admission import admit, conflict_reason


def test_an_id_not_seen_before_is_accepted() -> None:
    assert admit([("e-1", "aa"), ("e-2", "bb")], {}) == ["accept", "accept"]


def test_an_id_accepted_before_with_the_same_content_is_a_duplicate() -> None:
    assert admit([("e-1", "aa")], {"e-1": "aa"}) == ["duplicate"]


def test_an_id_accepted_before_with_other_content_is_a_conflict() -> None:
    assert admit([("e-1", "bb")], {"e-1": "aa"}) == ["conflict"]


def test_within_a_batch_the_first_copy_of_an_id_is_what_later_copies_are_compared_with() -> None:
    assert admit([("e-1", "aa"), ("e-1", "aa"), ("e-1", "bb")], {}) == [
        "accept",
        "duplicate",
        "conflict",
    ]


def test_a_conflict_does_not_replace_the_accepted_content() -> None:
    assert admit([("e-1", "bb"), ("e-1", "aa")], {"e-1": "aa"}) == ["conflict", "duplicate"]


def test_the_accepted_digests_given_are_not_changed() -> None:
    accepted = {"e-1": "aa"}
    admit([("e-2", "bb")], accepted)
    assert accepted == {"e-1": "aa"}


def test_a_conflict_names_the_id_and_says_why() -> None:
    assert conflict_reason("e-7") == (
        "event_id: e-7 was already accepted with different content (a conflicting re-use of the id)"
    )
