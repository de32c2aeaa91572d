"""The packing of records in the event store: lossless, recognisable, pinned."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from projections.store.content_codec import PRESET_V1, PRESET_V1_SHA256, TAG_V1, pack, unpack

RECORD = (
    b'[{"event_id":"0b7e6f0e-9a53-4e2a-9c0d-2f3f1c1e8a10","occurred_at":"2026-03-04T10:15:00Z",'
    b'"payload":{"customer_ids":null,"impact_percent":"100","outage_id":"O-1",'
    b'"service_id":"crm","started_at":"2026-03-04T10:15:00Z"},"schema_version":1,'
    b'"source":"status-page","type":"outage.started"},{"file":"events.jsonl","line":1}]'
)


def test_a_packed_record_unpacks_to_its_own_bytes_and_is_much_smaller() -> None:
    packed = pack(RECORD)
    assert packed[:1] == TAG_V1
    assert unpack(packed) == RECORD
    assert len(packed) * 2 < len(RECORD)


@given(st.binary(max_size=2_000))
def test_any_bytes_survive_packing(record: bytes) -> None:
    assert unpack(pack(record)) == record


def test_plain_records_are_read_as_they_are() -> None:
    assert unpack(RECORD) == RECORD
    assert unpack(b'{"chain_pos":1}') == b'{"chain_pos":1}'


def test_a_damaged_packed_record_is_returned_as_stored_for_the_checks_to_name() -> None:
    packed = pack(RECORD)
    for damaged in (packed[:-3], TAG_V1 + b"\xff\xff\xff", packed + b"extra"):
        assert unpack(damaged) == damaged


def test_the_preset_dictionary_is_pinned() -> None:
    # Records packed with it must unpack the same forever: a change is a new tag.
    assert hashlib.sha256(PRESET_V1).hexdigest() == PRESET_V1_SHA256
