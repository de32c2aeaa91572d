"""An entry's basis document as stored beside it, and the check that makes it evidence.

An entry chains only `basis_sha256`, the SHA-256 of the canonical JSON of its basis
document (`ledger.credits.basis`). The ledger also keeps that very text, unchained, in a
table of its own, so that a reader can show the measured figures behind an entry (its
memo) without computing the row again. The text proves itself: it counts only if it
hashes to the chained digest; one that does not was edited, and is not used (`audit
verify` names it). Its own small module (only `hashlib` and `json`): `audit verify`
checks stored bases without importing the SLA arithmetic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def document_sha256(text: str) -> str:
    """The digest an entry chains for the basis document `text` (its canonical JSON)."""
    return hashlib.sha256(text.encode()).hexdigest()


def basis_matches(text: str, digest: str) -> bool:
    """Whether a stored basis text is the one whose digest the entry chains."""
    return document_sha256(text) == digest


def verified_figures(text: str | None, digest: str | None) -> Mapping[str, Any] | None:
    """The row figures of a stored basis `text` if it hashes to `digest`; None when there
    is no text, it does not match, or its basis names no row (a vanished row's)."""
    if text is None or digest is None or not basis_matches(text, digest):
        return None
    # The text the ledger wrote (its digest is chained): canonical JSON, no floats.
    document = json.loads(text)
    figures = document.get("row") if isinstance(document, dict) else None
    return figures if isinstance(figures, dict) else None
