"""How a record's bytes are kept in the event store: as they are, or packed.

An event's record is its content, `[envelope, origin]` as canonical JSON (see
`chain_append.library_state`), about 0.4 KB of which most is field names and values
every event repeats. PostgreSQL stores a row of that size as it is (it compresses only
values of about 2 KB and more), so there the ledger packs each record with raw DEFLATE
primed with a preset dictionary of those names and shapes: about 0.4 KB becomes 0.15 KB.

The chain, the audit bundles and every reader see the record's own bytes: packing is
undone as the store reads a record (`unpack`), before anything hashes or parses it. A
packed record starts with its format's tag byte, a plain one with `[` or `{` (JSON), so
a store may hold both, and reading needs no setting. SQLite keeps records plain: its
file already holds an event in well under 1 KB, and `audit verify` there is bound by
the CPU that unpacking would cost.

The dictionary is part of the stored format. `PRESET_V1` is built from the templates
below, and `PRESET_V1_SHA256` pins its bytes: a record packed with it must unpack the
same forever. Another dictionary would be a new tag, never a change to this one.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from ledger.canonical import canonical_json

# The event types, payloads and terms of `events.md`, the fields of entries and closes,
# and both origins, as canonical JSON (sorted keys, no spaces: what records hold). DEFLATE
# finds its matches nearest the end of a dictionary first, so the commonest come last.
_TERMS: dict[str, Any] = {
    "availability": {
        "credit_tiers": [
            {"below_percent": "99.9", "credit_percent": "10"},
            {"below_percent": "99.0", "credit_percent": "25"},
        ],
        "excluded_causes": ["customer_caused", "force_majeure", "third_party"],
        "maintenance_notice": "PT48H",
        "min_downtime_seconds": 0,
        "target_percent": "99.9",
        "window": "month",
    },
    "claim_deadline_days": 60,
    "credit_cap_percent": "100",
    "credit_threshold_amount": "1.00",
    "incident_response": {
        "business_hours": {
            "holidays": ["2026-12-25"],
            "weekly": {
                day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
            },
        },
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
        "resolution_credit_tiers": [{"below_percent": "95", "credit_percent": "5"}],
        "resolution_targets": {"P1": "PT4H"},
        "targets": {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H", "P4": "PT8H"},
    },
    "monthly_fee": "1000.00",
    "service_id": "",
}
_PAYLOADS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "contract.signed",
        {
            "contract_id": "",
            "currency": "EUR",
            "customer_id": "",
            "customer_name": "",
            "effective_from": "2026-01-01",
            "effective_to": None,
            "remedy": "credit",
            "services": [
                _TERMS,
                {**_TERMS, "incident_response": {"business_hours": "24x7"}},
            ],
            "timezone": "Europe/",
        },
    ),
    ("contract.amended", {"contract_id": "", "effective_from": "", "services": []}),
    ("contract.terminated", {"contract_id": "", "effective_to": ""}),
    (
        "claim.submitted",
        {"claim_id": "", "contract_id": "", "period": "", "service_id": "", "submitted_at": ""},
    ),
    ("claim.decided", {"claim_id": "", "decision": "approved", "reason": "denied"}),
    ("claim.withdrawn", {"claim_id": ""}),
    ("incident.paused", {"at": "", "incident_id": "", "reason": ""}),
    ("incident.resumed", {"at": "", "incident_id": ""}),
    ("incident.resolved", {"incident_id": "", "resolved_at": ""}),
    ("incident.reprioritized", {"at": "", "incident_id": "", "priority": "P1"}),
    ("incident.responded", {"incident_id": "", "responded_at": ""}),
    (
        "incident.opened",
        {"contract_id": "", "incident_id": "", "opened_at": "", "priority": "P2", "service_id": ""},
    ),
    ("maintenance.cancelled", {"maintenance_id": ""}),
    (
        "maintenance.scheduled",
        {
            "customer_ids": None,
            "ends_at": "",
            "maintenance_id": "",
            "service_id": "",
            "starts_at": "",
        },
    ),
    ("outage.classified", {"cause": "provider", "outage_id": "", "reason": ""}),
    ("outage.retracted", {"outage_id": "", "reason": ""}),
    (
        "outage.amended",
        {"ended_at": "", "impact_percent": "50", "outage_id": "", "reason": "", "started_at": ""},
    ),
    ("outage.resolved", {"ended_at": "", "outage_id": ""}),
    (
        "outage.started",
        {
            "customer_ids": [""],
            "impact_percent": "100",
            "outage_id": "",
            "service_id": "",
            "started_at": "",
        },
    ),
)
_RECORDS: tuple[dict[str, Any], ...] = (
    {
        "amount": "0.00",
        "basis_sha256": "",
        "chain_pos": 1,
        "chain_sha256": "",
        "contract_id": "",
        "credit_percent": "0",
        "currency": "USD",
        "customer_id": "",
        "entry_id": "",
        "kind": "reversal",
        "period": "2026-01",
        "recorded_us": 1,
        "remedy": "cash",
        "revision": 1,
        "service_id": "",
        "supersedes": None,
        "terms_version": 1,
    },
    {
        "chain_pos": 1,
        "chain_sha256": "",
        "checkpoint_pos": 1,
        "checkpoint_sha256": "",
        "closed_us": 1,
        "period": "",
    },
)
_ORIGINS: tuple[dict[str, Any], ...] = (
    {"key": "", "offset": 0, "partition": 0, "topic": "sla.events"},
    {"file": "", "line": 1},
)


def _preset_v1() -> bytes:
    envelopes = (
        canonical_json(
            {
                "event_id": "00000000-0000-4000-8000-000000000000",
                "occurred_at": "2026-01-01T00:00:00Z",
                "payload": payload,
                "schema_version": 1,
                "source": "",
                "type": kind,
            }
        )
        for kind, payload in _PAYLOADS
    )
    parts = [*map(canonical_json, _RECORDS), *envelopes, *map(canonical_json, _ORIGINS)]
    return "".join(parts).encode()


PRESET_V1 = _preset_v1()
PRESET_V1_SHA256 = "584de0284cddd2c673aeef6133f38ff032aaf67cc5a4ac1553074c2c9dfb84b2"
if hashlib.sha256(PRESET_V1).hexdigest() != PRESET_V1_SHA256:  # pragma: no cover
    raise RuntimeError("content_codec: PRESET_V1 changed; records packed with it would not unpack")
TAG_V1 = b"\x01"  # raw DEFLATE with PRESET_V1
_WINDOW = -15  # raw DEFLATE (no zlib header or checksum: the chain is the checksum)


def pack(record: bytes) -> bytes:
    """The bytes to store for `record` where records are packed."""
    packer = zlib.compressobj(6, zlib.DEFLATED, _WINDOW, 9, zlib.Z_DEFAULT_STRATEGY, PRESET_V1)
    return TAG_V1 + packer.compress(record) + packer.flush()


def unpack(stored: bytes) -> bytes:
    """A record's own bytes from what the store holds. Bytes that are neither plain nor
    a packed record that unpacks are returned as they are: the readers' shape checks,
    and the chain, name such a record."""
    if stored[:1] != TAG_V1:
        return stored
    try:
        unpacker = zlib.decompressobj(_WINDOW, PRESET_V1)
        record = unpacker.decompress(stored[1:])
    except zlib.error:
        return stored
    return record if unpacker.eof and not unpacker.unused_data else stored
