"""A rejected input: what was refused (invalid, or a conflicting re-use of an id) and its
identity, the rule that one input from one place is one rejection however often it is
read. Kept as received, so it can be fixed and sent again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ledger.events import Origin


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input refused (invalid, or a conflicting re-use of an id), to be kept as it
    was received, with where it came from and why."""

    raw: bytes
    origin: Origin
    field: str
    reason: str
    event_id: str | None = None

    @property
    def rejection_id(self) -> str:
        """Same input from the same place is one rejection, however often it is re-read."""
        digest = hashlib.sha256()
        digest.update(self.origin.rejection_json().encode())
        digest.update(b"\x00")
        digest.update(self.raw)
        return digest.hexdigest()
