"""Canonical JSON: the one text of a JSON value that the ledger hashes and stores.

Its own tiny module (only `json`), so the store's record codec and the audit workers can
use it without importing the domain's event types.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant white space, UTF-8 kept: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
