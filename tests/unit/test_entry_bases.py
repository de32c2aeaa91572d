"""A stored basis counts only while it hashes to the digest its entry chains."""

from __future__ import annotations

from ledger.canonical import canonical_json
from ledger.entry_bases import basis_matches, document_sha256, verified_figures


def test_a_matching_basis_gives_its_row_figures() -> None:
    text = canonical_json({"row": {"credit_percent": "10"}, "event_ids": ["a"]})
    assert basis_matches(text, document_sha256(text))
    assert verified_figures(text, document_sha256(text)) == {"credit_percent": "10"}


def test_an_edited_basis_is_not_believed() -> None:
    text = canonical_json({"row": {"credit_percent": "10"}, "event_ids": ["a"]})
    edited = text.replace('"10"', '"50"')
    assert verified_figures(edited, document_sha256(text)) is None


def test_no_figures_without_a_basis_or_a_row() -> None:
    vanished = canonical_json({"row": None, "key": ["C-1", "crm", "2026-03"]})
    assert verified_figures(vanished, document_sha256(vanished)) is None
    assert verified_figures(None, "0" * 64) is None
    assert verified_figures("{}", None) is None
