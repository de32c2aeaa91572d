"""A report row's identity: contract, service and period label. Entries, diffs and audit
bundles name rows by it without loading the row computation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowKey:
    contract_id: str
    service_id: str
    period: str
