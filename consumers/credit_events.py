"""Credit entries as CloudEvents 1.0: the one mapping of an entry to its event
attributes, for the `sla.credits` topic (binary mode: `ce_*` headers, the entry as the
value) and for webhooks (structured mode: one JSON document).

- `id`: the entry id (an entry is one event; a re-sent entry is the same event).
- `source`: `urn:sla-ledger:` and the link at chain position 1, the first record's
  chain digest. It names this ledger, not the machine it runs on: every copy, backup or
  rebuild of the store has the same first link, any other ledger a different one, and a
  store URL (a path, a host, a password) says nothing a consumer should depend on.
- `type`: `sla.credit.issued` or `sla.credit.reversed`.
- `time`: when the entry was recorded; `subject`: `CONTRACT/SERVICE/PERIOD`, the row.
- `datacontenttype`: `application/json`; the data is the entry's document (`as_dict`).
"""

from __future__ import annotations

from typing import Any

from ledger.credits import CreditEntry, format_utc_micro
from projections.store import LedgerStore

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
EVENT_TYPES = {"issue": "sla.credit.issued", "reversal": "sla.credit.reversed"}


def ledger_source(store: LedgerStore) -> str:
    """The `source` of this store's events (module docstring); its chain must hold a
    record, as any store with an entry does."""
    first = store.chain_link(1)
    if first is None:
        raise ValueError("the store's chain has no record at position 1: no events to source")
    return f"urn:sla-ledger:{first[0]}"


def attributes(entry: CreditEntry, source: str) -> dict[str, str]:
    """The entry's CloudEvents context attributes, `datacontenttype` included."""
    return {
        "specversion": SPEC_VERSION,
        "id": entry.entry_id,
        "source": source,
        "type": EVENT_TYPES[entry.kind],
        "time": format_utc_micro(entry.recorded_at),
        "subject": f"{entry.contract_id}/{entry.service_id}/{entry.period}",
        "datacontenttype": CONTENT_TYPE,
    }


def kafka_headers(entry: CreditEntry, source: str) -> list[tuple[str, bytes]]:
    """Binary mode on Kafka: each attribute as a `ce_` header, except the content type,
    which is the `content-type` header (CloudEvents Kafka protocol binding §3.2)."""
    headers = [
        ("content-type" if name == "datacontenttype" else f"ce_{name}", value.encode())
        for name, value in attributes(entry, source).items()
    ]
    return sorted(headers)


def structured(entry: CreditEntry, source: str) -> dict[str, Any]:
    """Structured mode: the attributes and the entry's document as `data`."""
    return {**attributes(entry, source), "data": entry.as_dict()}
