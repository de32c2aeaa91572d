"""`ledger.chain`: the hash chain's encoding, links and checkpoints.

A record's digest covers its kind, its position and every stored field, so editing
any of them changes its link and every link after it; a checkpoint is parsed one way
for `audit verify` and `audit check` alike.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.chain import (
    FIELDS,
    GENESIS,
    JSON_TEXT_FIELDS,
    KINDS,
    RECORD_TIME,
    encoding,
    event_record_sha256,
    link,
    parse_checkpoint,
    record_sha256,
    with_later_fields,
)

SHA = "ab" * 32


def event(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "type": "outage.started",
        "subject_kind": "outage",
        "subject_id": "O-1",
        "occurred_at": "2026-03-10T10:00:00Z",
        "recorded_us": 1_773_136_800_000_000,
        "content_sha256": SHA,
        "envelope": '{"event_id":"e-1","payload":{"x":"\\u00e9"}}',
        "origin": '{"file":"/in/x.jsonl","line":3}',
    }
    return {**fields, **changes}


def entry(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "entry_id": "n-1",
        "kind": "issue",
        "revision": 1,
        "supersedes": None,
        "contract_id": "C-1",
        "customer_id": "K-1",
        "service_id": "crm",
        "period": "2026-03",
        "amount": "100.00",
        "currency": "USD",
        "remedy": "credit",
        "credit_percent": "10",
        "terms_version": 1,
        "recorded_us": 1_775_088_000_000_000,
        "basis_sha256": SHA,
    }
    return {**fields, **changes}


def close(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "period": "2026-03",
        "closed_us": 1_775_088_000_000_000,
        "checkpoint_pos": 4,
        "checkpoint_sha256": SHA,
    }
    return {**fields, **changes}


def alert(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "alert_id": "a-1",
        "kind": "availability.budget",
        "threshold": "50",
        "contract_id": "C-1",
        "customer_id": "K-1",
        "service_id": "crm",
        "period": "2026-03",
        "observed": "67.2043",
        "downtime_left_seconds": None,
        "credit_at_risk": "100.00",
        "currency": "USD",
        "recorded_us": 1_773_144_000_000_000,
    }
    return {**fields, **changes}


RECORDS = {"event": event, "entry": entry, "close": close, "alert": alert}


def test_every_kind_of_record_is_exercised_here() -> None:
    assert set(RECORDS) == set(KINDS) == set(FIELDS) == set(RECORD_TIME)


def test_an_alerts_missing_exposure_is_encoded_as_null() -> None:
    assert encoding("alert", 4, alert()) == (
        b'["alert",4,"a-1","availability.budget","50","C-1","K-1","crm","2026-03",'
        b'"67.2043",null,"100.00","USD",1773144000000000]'
    )
    assert record_sha256("alert", 4, alert()) != record_sha256(
        "alert", 4, alert(downtime_left_seconds="0")
    )


def test_a_record_is_its_kind_position_and_fields_as_compact_json() -> None:
    assert (
        encoding("close", 5, close())
        == f'["close",5,"2026-03",1775088000000000,4,"{SHA}"]'.encode()
    )


def test_an_events_json_text_fields_are_embedded_as_json_not_as_strings() -> None:
    encoded = encoding("event", 3, event())
    assert encoded.endswith(
        b'{"event_id":"e-1","payload":{"x":"\\u00e9"}},{"file":"/in/x.jsonl","line":3}]'
    )
    assert JSON_TEXT_FIELDS["event"] == ("envelope", "origin")


def test_the_fast_path_of_an_events_encoding_is_the_general_one() -> None:
    """Strings and integers take a written-out path; the general one must agree."""
    fields = event(subject_id='O-"1"\\\n\u2028')
    plain = [fields[name] for name in FIELDS["event"][:-2]]
    general = '["event",3,' + ",".join(json.dumps(v, ensure_ascii=False) for v in plain)
    assert encoding("event", 3, fields).decode().startswith(general + ",")


def test_an_events_digest_from_its_record_is_its_record_sha256() -> None:
    fields = event()
    record = f"[{fields['envelope']},{fields['origin']}]".encode()
    assert event_record_sha256(
        3,
        fields["event_id"],
        fields["type"],
        fields["subject_kind"],
        fields["subject_id"],
        fields["occurred_at"],
        fields["recorded_us"],
        fields["content_sha256"],
        record,
    ) == record_sha256("event", 3, fields)


changed_values = st.one_of(st.text(max_size=8), st.integers(-5, 10**15), st.none())


@given(
    kind=st.sampled_from(sorted(RECORDS)),
    data=st.data(),
)
def test_changing_any_chained_field_changes_the_records_digest(
    kind: str, data: st.DataObject
) -> None:
    fields = with_later_fields(kind, RECORDS[kind]())  # type: ignore[arg-type]
    name = data.draw(st.sampled_from(FIELDS[kind]))  # type: ignore[index]
    value = data.draw(changed_values.filter(lambda v: v != fields[name]))
    if name in JSON_TEXT_FIELDS.get(kind, ()):  # type: ignore[call-overload]
        value = data.draw(st.sampled_from(['{"file":"other","line":3}', '{"a":1}', "[]", "null"]))
    before = record_sha256(kind, 7, fields)  # type: ignore[arg-type]
    assert record_sha256(kind, 7, {**fields, name: value}) != before  # type: ignore[arg-type]


@given(st.sampled_from(sorted(RECORDS)), st.integers(1, 10**9), st.integers(1, 10**9))
def test_a_records_digest_depends_on_its_position(kind: str, a: int, b: int) -> None:
    fields = RECORDS[kind]()
    same = record_sha256(kind, a, fields) == record_sha256(kind, b, fields)  # type: ignore[arg-type]
    assert same == (a == b)


def test_a_link_is_the_sha256_of_the_previous_link_and_the_records_digest() -> None:
    digest = record_sha256("close", 1, close())
    expected = hashlib.sha256(f"{GENESIS}\n{digest}".encode()).hexdigest()
    assert link(GENESIS, digest) == expected


@given(st.lists(st.sampled_from(sorted(RECORDS)), min_size=2, max_size=6), st.data())
def test_editing_a_record_changes_every_link_from_its_position_on(
    kinds: list[str], data: st.DataObject
) -> None:
    records = [RECORDS[kind]() for kind in kinds]
    edited_at = data.draw(st.integers(0, len(records) - 1))

    def links(chain: list[dict[str, Any]]) -> list[str]:
        out, previous = [], GENESIS
        for position, (kind, fields) in enumerate(zip(kinds, chain, strict=True), start=1):
            previous = link(previous, record_sha256(kind, position, fields))  # type: ignore[arg-type]
            out.append(previous)
        return out

    edited = list(records)
    edited[edited_at] = {**records[edited_at], FIELDS[kinds[edited_at]][0]: "edited"}  # type: ignore[index]
    before, after = links(records), links(edited)
    assert before[:edited_at] == after[:edited_at]
    assert all(b != a for b, a in zip(before[edited_at:], after[edited_at:], strict=True))


def test_a_checkpoint_is_a_position_and_a_sha256() -> None:
    assert parse_checkpoint(f"42:{SHA}") == (42, SHA)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"0:{SHA}", "position is 1 or more"),
        (f"\u00b2:{SHA}", "digits 0-9"),
        (f"4:{SHA.upper()}", "lower-case hex"),
        (f"4:{SHA[:-1]}", "64 lower-case hex"),
        (f"4 :{SHA}", "POSITION:SHA256"),
        (f"4:{SHA}\n", "POSITION:SHA256"),
    ],
)
def test_anything_else_is_refused_in_one_line(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as refused:
        parse_checkpoint(text)
    assert "\n" not in str(refused.value).replace(text, "")
